//! Uploaded file bytes → text sections with positions (PDF page or heading
//! path), ready for chunking and embedding.
//!
//! The type is decided by the bytes alone ([`sniff`]); the file name is only
//! ever a display name ([`sanitize_filename`]). Parsing is CPU-bound and can
//! take seconds on a large PDF: callers run it off the async runtime.

mod csv;
mod docx;
mod filename;
mod html;
mod markdown;
mod outline;
mod pdf;
mod sniff;
mod text;

pub use filename::sanitize_filename;
pub use sniff::sniff;

/// A format we can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Docx,
    Markdown,
    Text,
    Html,
    Csv,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Docx => "docx",
            Kind::Markdown => "markdown",
            Kind::Text => "text",
            Kind::Html => "html",
            Kind::Csv => "csv",
        }
    }
}

/// One block of text and where it came from: a PDF page (1-based) or the
/// heading path ("Chapter 2 > Approvals") it sits under; CSV sections carry
/// "rows 1–40" style labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub text: String,
    pub page: Option<u32>,
    pub heading: Option<String>,
}

/// A whole document's text; `pages` is set for PDFs only.
#[derive(Debug, Clone)]
pub struct Extracted {
    pub kind: Kind,
    pub sections: Vec<Section>,
    pub pages: Option<u32>,
}

/// Bounds on what an archive (DOCX) may unpack to.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_unpacked_bytes: u64,
    pub max_zip_entries: usize,
}

impl Default for Limits {
    /// A 500-page DOCX with images unpacks to tens of MiB; 200 MiB leaves
    /// room while refusing bombs. Real DOCX files have a few dozen entries.
    fn default() -> Self {
        Limits {
            max_unpacked_bytes: 200 << 20,
            max_zip_entries: 10_000,
        }
    }
}

/// Why a file gave no text. Messages are shown to the user as they are.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("the file is empty")]
    Empty,
    #[error(
        "this file type is not supported ({0}); upload a PDF, DOCX, Markdown, HTML, CSV or plain-text file"
    )]
    Unsupported(String),
    #[error("the document is password-protected; remove the password and upload it again")]
    Encrypted,
    #[error("the file is damaged and could not be read: {0}")]
    Corrupt(String),
    #[error("the file is too large once unpacked: {0}")]
    TooLarge(String),
    #[error("no text could be extracted: {0}")]
    NoText(String),
}

/// Sniffs the type from the bytes, then extracts its text.
pub fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let kind = sniff(bytes)?;
    let (sections, pages) = match kind {
        Kind::Pdf => {
            let (sections, pages) = pdf::extract(bytes)?;
            (sections, Some(pages))
        }
        Kind::Docx => (docx::extract(bytes, limits)?, None),
        Kind::Markdown => (markdown::extract(&sniff::decode_text(bytes)?), None),
        Kind::Text => (text::extract(&sniff::decode_text(bytes)?), None),
        Kind::Html => (html::extract(&sniff::decode_text(bytes)?), None),
        Kind::Csv => (csv::extract(&sniff::decode_text(bytes)?)?, None),
    };
    if sections.is_empty() {
        return Err(ExtractError::NoText(format!(
            "the {} file contains no readable text",
            kind.as_str()
        )));
    }
    Ok(Extracted {
        kind,
        sections,
        pages,
    })
}

#[cfg(test)]
#[path = "../../../tests/common/documents.rs"]
mod fixtures;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_with_only_markup_and_no_words_is_no_text() {
        let err = extract(
            b"<html><body><script>x()</script></body></html>",
            &Limits::default(),
        );
        assert!(matches!(err, Err(ExtractError::NoText(_))), "{err:?}");
    }

    #[test]
    fn error_messages_tell_the_user_what_to_do() {
        assert_eq!(
            ExtractError::Encrypted.to_string(),
            "the document is password-protected; remove the password and upload it again"
        );
        assert!(ExtractError::Unsupported("an image".into())
            .to_string()
            .contains("upload a PDF, DOCX"));
    }
}
