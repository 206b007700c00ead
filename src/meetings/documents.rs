//! Uploaded documents: only known kinds, recognised by their extension *and* their first bytes
//! (a file that claims to be a PDF must start like one), with a clean file name and a size
//! limit. The type served back is the one decided here, never the one the uploader sent.

use sha2::{Digest, Sha256};

use crate::error::Error;

/// A document that passed the checks.
#[derive(Debug)]
pub struct CheckedFile {
    pub filename: String,
    pub content_type: &'static str,
    pub sha256: String,
    pub data: Vec<u8>,
}

/// The kinds accepted: extension, media type, and what the first bytes must be.
const KINDS: &[(&str, &str, Magic)] = &[
    ("pdf", "application/pdf", Magic::Prefix(b"%PDF-")),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", Magic::Prefix(b"PK\x03\x04")),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Magic::Prefix(b"PK\x03\x04")),
    ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", Magic::Prefix(b"PK\x03\x04")),
    ("odt", "application/vnd.oasis.opendocument.text", Magic::Prefix(b"PK\x03\x04")),
    ("ods", "application/vnd.oasis.opendocument.spreadsheet", Magic::Prefix(b"PK\x03\x04")),
    ("png", "image/png", Magic::Prefix(b"\x89PNG\r\n\x1a\n")),
    ("jpg", "image/jpeg", Magic::Prefix(b"\xff\xd8\xff")),
    ("jpeg", "image/jpeg", Magic::Prefix(b"\xff\xd8\xff")),
    ("txt", "text/plain; charset=utf-8", Magic::Text),
    ("md", "text/markdown; charset=utf-8", Magic::Text),
    ("csv", "text/csv; charset=utf-8", Magic::Text),
];

#[derive(Clone, Copy)]
enum Magic {
    Prefix(&'static [u8]),
    /// UTF-8 without NUL bytes.
    Text,
}

/// What the error message lists as accepted.
pub fn accepted() -> String {
    KINDS.iter().map(|(ext, _, _)| *ext).collect::<Vec<_>>().join(", ")
}

/// A file name without directories or control characters, at most 200 characters.
fn clean_name(raw: &str) -> Result<String, Error> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("").trim();
    let name: String = base.chars().filter(|c| !c.is_control() && *c != '"').take(200).collect();
    if name.is_empty() || name.starts_with('.') {
        return Err(Error::invalid("filename", "is required: the document's file name, with its extension"));
    }
    Ok(name)
}

/// Checks an upload of at most `max_bytes`: 413 when larger, 415 for a kind that is not
/// accepted or whose bytes do not match it, 422 for a missing name.
pub fn check(filename: &str, declared: Option<&str>, data: Vec<u8>, max_bytes: usize) -> Result<CheckedFile, Error> {
    let filename = clean_name(filename)?;
    if data.len() > max_bytes {
        return Err(Error::PayloadTooLarge(format!("a document may be at most {max_bytes} bytes")));
    }
    if data.is_empty() {
        return Err(Error::invalid("body", "the document is empty"));
    }
    let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let Some((_, content_type, magic)) = KINDS.iter().find(|(e, _, _)| *e == ext) else {
        return Err(Error::UnsupportedMediaType(format!(
            "{filename}: documents of this kind are not accepted (accepted: {})",
            accepted()
        )));
    };
    let matches = match magic {
        Magic::Prefix(p) => data.starts_with(p),
        Magic::Text => !data.contains(&0) && std::str::from_utf8(&data).is_ok(),
    };
    if !matches {
        return Err(Error::UnsupportedMediaType(format!("{filename}: the contents are not a .{ext} file")));
    }
    // A declared type that names another kind is refused: the uploader meant something else.
    if let Some(declared) = declared.map(|d| d.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        && !declared.is_empty()
        && declared != "application/octet-stream"
        && !content_type.starts_with(declared.as_str())
    {
        return Err(Error::UnsupportedMediaType(format!(
            "{filename}: sent as {declared}, but a .{ext} file is {}",
            content_type.split(';').next().unwrap_or(content_type)
        )));
    }
    let sha256 = hex::encode(Sha256::digest(&data));
    Ok(CheckedFile { filename, content_type, sha256, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_kinds_with_matching_bytes() {
        assert!(check("report.pdf", Some("application/pdf"), b"%PDF-1.7 ...".to_vec(), 100).is_ok());
        assert!(matches!(check("report.pdf", None, b"MZ\x90\x00".to_vec(), 100), Err(Error::UnsupportedMediaType(_))));
        assert!(matches!(check("tool.exe", None, b"MZ".to_vec(), 100), Err(Error::UnsupportedMediaType(_))));
        assert!(matches!(check("a.txt", None, vec![b'a'; 101], 100), Err(Error::PayloadTooLarge(_))));
        assert!(matches!(
            check("notes.txt", Some("application/pdf"), b"hello".to_vec(), 100),
            Err(Error::UnsupportedMediaType(_))
        ));
        let ok = check("../../etc/notes.md", Some("text/markdown"), b"# Notes".to_vec(), 100).map(|f| f.filename);
        assert_eq!(ok.ok().as_deref(), Some("notes.md"));
    }
}
