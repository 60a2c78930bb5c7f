//! Uploaded file bytes → text sections with positions (PDF page or heading
//! path), ready for chunking and embedding.
//!
//! The type is decided by the bytes alone ([`sniff`]); the file name is only
//! ever a display name ([`sanitize_filename`]). Every reader stops as soon as
//! the text it has produced passes [`Limits::max_text_bytes`]. The server runs
//! all of this in a child process ([`sandbox`], [`worker`]): the parsers are
//! third-party code that a hostile file can crash or stall.

mod archive;
mod css;
mod csv;
mod docx;
mod filename;
mod html;
mod inflate;
mod markdown;
mod nesting;
mod outline;
mod pdf;
pub mod sandbox;
mod sniff;
mod text;
pub mod worker;

pub use filename::sanitize_filename;
pub use sniff::sniff;

use serde::{Deserialize, Serialize};

/// A format we can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub text: String,
    pub page: Option<u32>,
    pub heading: Option<String>,
}

/// A whole document's text; `pages` is set for PDFs only.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extracted {
    pub kind: Kind,
    pub sections: Vec<Section>,
    pub pages: Option<u32>,
}

/// Bounds on the work one document may cause.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Limits {
    /// What an archive (DOCX) may unpack to.
    pub max_unpacked_bytes: u64,
    pub max_zip_entries: usize,
    /// Text the document may yield, in bytes of UTF-8, over all sections.
    pub max_text_bytes: u64,
    pub max_pdf_pages: u32,
    /// One PDF stream once inflated, and one page's drawing instructions.
    pub max_pdf_stream_bytes: u64,
}

/// Real DOCX files have a few dozen entries; ten thousand refuses a zip
/// made of empty entries without limiting any real document.
const MAX_ZIP_ENTRIES: usize = 10_000;

impl From<&crate::config::DocumentsConfig> for Limits {
    fn from(c: &crate::config::DocumentsConfig) -> Self {
        Limits {
            max_unpacked_bytes: c.max_unpacked_bytes,
            max_zip_entries: MAX_ZIP_ENTRIES,
            max_text_bytes: c.max_extracted_bytes,
            max_pdf_pages: c.max_pdf_pages,
            max_pdf_stream_bytes: c.max_pdf_stream_bytes,
        }
    }
}

impl Default for Limits {
    /// The configuration's defaults (`[documents]` in config.toml).
    fn default() -> Self {
        Limits::from(&crate::config::DocumentsConfig::default())
    }
}

impl Limits {
    /// The refusal for a document whose text passed `max_text_bytes`.
    pub(super) fn text_too_large(&self) -> ExtractError {
        ExtractError::TooLarge(format!(
            "its text is longer than the limit of {} MiB",
            self.max_text_bytes >> 20
        ))
    }
}

/// Why a file gave no text. Messages are shown to the user as they are.
#[derive(Debug, thiserror::Error, Serialize, Deserialize)]
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
    /// The reader crashed or was stopped on this file (see [`sandbox`]).
    #[error("the file could not be read: {0}")]
    Failed(String),
}

/// Sniffs the type from the bytes, then extracts its text.
pub fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let kind = sniff(bytes)?;
    let (sections, pages) = match kind {
        Kind::Pdf => {
            let (sections, pages) = pdf::extract(bytes, limits)?;
            (sections, Some(pages))
        }
        Kind::Docx => (docx::extract(bytes, limits)?, None),
        Kind::Markdown => (
            markdown::extract(&sniff::decode_text(bytes)?, limits)?,
            None,
        ),
        Kind::Text => (text::extract(&sniff::decode_text(bytes)?, limits)?, None),
        Kind::Html => (html::extract(&sniff::decode_text(bytes)?, limits)?, None),
        Kind::Csv => (csv::extract(&sniff::decode_text(bytes)?, limits)?, None),
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
