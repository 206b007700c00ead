//! Checks shared by every handler that takes free text.

use crate::error::FieldError;

/// A line of free text (a name, a title): trimmed, at most `max_chars` characters, no control
/// characters; empty only when not `required`.
pub fn text(field: &str, raw: &str, max_chars: usize, required: bool) -> Result<String, FieldError> {
    let value = raw.trim();
    if required && value.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if value.chars().count() > max_chars || value.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            format!("must be at most {max_chars} characters, without control characters"),
        ));
    }
    Ok(value.to_string())
}

/// A passage of free text (a mandate, a note): trimmed, at most `max_chars` characters, line
/// breaks and tabs allowed but no other control characters; may be empty.
pub fn long_text(field: &str, raw: &str, max_chars: usize) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.chars().count() > max_chars || value.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(FieldError::new(
            field,
            format!("must be at most {max_chars} characters, without control characters other than line breaks"),
        ));
    }
    Ok(value.to_string())
}

/// An IANA time zone name (`Europe/Brussels`), as chrono-tz spells it.
pub fn time_zone(field: &str, raw: &str) -> Result<String, FieldError> {
    raw.trim()
        .parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_string())
        .map_err(|_| FieldError::new(field, "is not a known IANA time zone (e.g. Europe/Brussels)"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(super::text("name", "  Botswana ", 200, true).ok().as_deref(), Some("Botswana"));
        assert!(super::text("name", " ", 200, true).is_err());
        assert_eq!(super::text("reference", "", 300, false).ok().as_deref(), Some(""));
        assert!(super::text("title", "a\u{7}b", 300, true).is_err());
        assert!(super::text("title", &"x".repeat(301), 300, true).is_err());
    }
}
