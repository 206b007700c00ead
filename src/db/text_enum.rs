//! The one way to store an enum as text, on both backends.
//!
//! [`text_enum!`](crate::text_enum) gives an enum its stored form (`as_str`), a parser that
//! fails on unknown text (`FromStr`, `TryFrom<String>`), and serde in the same words. Row structs
//! keep the typed field and read it with `#[diesel(deserialize_as = String)]`: a value in the
//! database that the code does not know is an error when the row is read, never a default.

/// An unknown stored or submitted value of a text enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a known {what} (expected one of: {expected})")]
pub struct UnknownValue {
    /// The enum's name.
    pub what: &'static str,
    /// The text that was found.
    pub value: String,
    /// The accepted texts, comma-separated.
    pub expected: &'static str,
}

/// Declares a text-backed enum: `text_enum!(pub DraftState { Drafting => "drafting", … })`,
/// with doc comments allowed on the enum and on each variant.
#[macro_export]
macro_rules! text_enum {
    ($(#[doc = $doc:literal])* $vis:vis $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        // Written out rather than derived: the derive does not see renames made inside a macro.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some(concat!($($doc, "\n"),*).trim()))
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored and serialised form.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::db::text_enum::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err($crate::db::text_enum::UnknownValue {
                        what: stringify!($name),
                        value: s.chars().take(60).collect(),
                        expected: concat!($($text, " "),+),
                    }),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::db::text_enum::UnknownValue;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::text_enum!(
        /// A test enum.
        Colour { Red => "red", DarkBlue => "dark_blue" }
    );

    #[test]
    fn round_trips_and_refuses_unknown_values() {
        for c in Colour::ALL {
            assert_eq!(c.as_str().parse::<Colour>(), Ok(*c));
        }
        assert_eq!(serde_json::to_string(&Colour::DarkBlue).ok().as_deref(), Some("\"dark_blue\""));
        let schema = serde_json::to_value(<Colour as utoipa::PartialSchema>::schema()).unwrap_or_default();
        assert_eq!(schema["enum"], serde_json::json!(["red", "dark_blue"]), "{schema}");
        assert_eq!(schema["description"], "A test enum.");
        let err = Colour::try_from("green".to_string()).expect_err("unknown");
        assert_eq!(err.what, "Colour");
        assert!(err.to_string().contains("\"green\" is not a known Colour"), "{err}");
    }
}
