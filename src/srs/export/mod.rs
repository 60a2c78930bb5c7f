//! Deterministic exports of an SRS document: Markdown, a self-contained HTML
//! page, PDF, DOCX and the traceability matrix as CSV.
//!
//! Every exporter walks the same [`Srs`] in document order and writes the same
//! content: title, project and version; each section under its outline key
//! with its prose and requirement records; the clarifications; the linter's
//! score and findings. Same input, same bytes: no clock, no random ids.

mod csv;
mod docx;
mod html;
mod markdown;
mod pdf;

#[cfg(test)]
mod fixture;
#[cfg(test)]
pub(crate) use fixture::sample;

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::model::{Priority, Severity, Srs, Verification};

/// An export format, named in URLs by its file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
    Pdf,
    Docx,
    TraceCsv,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Markdown,
        Format::Html,
        Format::Pdf,
        Format::Docx,
        Format::TraceCsv,
    ];

    /// The format whose [`extension`](Self::extension) is `s`.
    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.extension() == s)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
            Format::Pdf => "application/pdf",
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::TraceCsv => "text/csv; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::TraceCsv => "trace.csv",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("PDF export failed: {0}")]
    Pdf(#[from] lopdf::Error),
    #[error("DOCX export failed: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("CSV export failed: {0}")]
    Csv(#[from] ::csv::Error),
    #[error("export write failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Renders `srs` as `format`. `screens` maps a requirement id to the names of
/// the wireframe screens that cite it; only the traceability matrix uses it.
pub fn render(
    srs: &Srs,
    format: Format,
    project_name: &str,
    screens: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<u8>, ExportError> {
    match format {
        Format::Markdown => Ok(markdown::render(srs, project_name).into_bytes()),
        Format::Html => Ok(html::render(srs, project_name).into_bytes()),
        Format::Pdf => pdf::render(srs, project_name),
        Format::Docx => docx::render(srs, project_name),
        Format::TraceCsv => csv::render(srs, screens),
    }
}

/// Quotes longer than this many characters are cut: the export points at the
/// source, the project's document store holds the whole chunk.
const QUOTE_CHARS: usize = 200;

/// Heading depth of a section: 1 for a top-level key (`3`), 2 below (`3.2`,
/// `3.2.1`). Requirements always sit one level below, at 3.
fn section_level(key: &str) -> u8 {
    if key.contains('.') {
        2
    } else {
        1
    }
}

/// "3.2 Functional requirements", or the bare title when the key is empty.
fn section_heading(key: &str, title: &str) -> String {
    if key.trim().is_empty() {
        title.to_string()
    } else {
        format!("{} {}", key.trim(), title)
    }
}

/// "FR-001 Title", the heading of one requirement record.
fn requirement_heading(id: &str, title: &str) -> String {
    format!("{id} {title}")
}

/// The MoSCoW word as written in a document.
fn priority_word(p: Priority) -> &'static str {
    match p {
        Priority::Must => "Must",
        Priority::Should => "Should",
        Priority::Could => "Could",
        Priority::Wont => "Won't",
    }
}

fn verification_word(v: Verification) -> &'static str {
    match v {
        Verification::Test => "Test",
        Verification::Analysis => "Analysis",
        Verification::Inspection => "Inspection",
        Verification::Demonstration => "Demonstration",
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// Drops control characters other than tab and newline (and folds `\r\n`):
/// they mean nothing in a document and are illegal in XML 1.0.
fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() && c != '\t' && c != '\n') {
        return Cow::Borrowed(s);
    }
    let folded = s.replace("\r\n", "\n");
    Cow::Owned(
        folded
            .chars()
            .map(|c| if c == '\r' { '\n' } else { c })
            .filter(|&c| !c.is_control() || c == '\t' || c == '\n')
            .collect(),
    )
}

/// A source quote on one line, cut to [`QUOTE_CHARS`] with an ellipsis.
fn shorten_quote(quote: &str) -> String {
    let flat = clean(quote)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if flat.chars().count() <= QUOTE_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(QUOTE_CHARS - 1).collect();
    format!("{}…", cut.trim_end())
}

/// A clarification's answer, or a marker that it was left open.
fn answer_text(answer: Option<&str>) -> &str {
    match answer.map(str::trim) {
        Some(a) if !a.is_empty() => a,
        _ => "(not answered)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_parses_back_from_its_extension() {
        for f in Format::ALL {
            assert_eq!(Format::parse(f.extension()), Some(f));
        }
        assert_eq!(Format::parse("csv"), None);
        assert_eq!(Format::parse("PDF"), None);
    }

    #[test]
    fn every_format_renders_the_same_bytes_twice() {
        let srs = sample();
        let screens = fixture::screens();
        for f in Format::ALL {
            let a = render(&srs, f, "Acme & Co", &screens).unwrap();
            let b = render(&srs, f, "Acme & Co", &screens).unwrap();
            assert!(!a.is_empty(), "{f:?} is empty");
            assert!(a == b, "{f:?} differs between two renders");
        }
    }

    /// Routes render on a blocking thread and carry the error back.
    #[test]
    fn export_errors_can_cross_threads() {
        fn sendable<T: Send + Sync + 'static>() {}
        sendable::<ExportError>();
    }

    #[test]
    fn long_quotes_are_cut_on_a_character_boundary() {
        let long = "é".repeat(QUOTE_CHARS * 2);
        let short = shorten_quote(&long);
        assert_eq!(short.chars().count(), QUOTE_CHARS);
        assert!(short.ends_with('…'));
        assert_eq!(shorten_quote(" a \n b "), "a b");
    }

    #[test]
    fn control_characters_are_dropped_but_line_breaks_kept() {
        assert_eq!(clean("a\u{0}b\r\nc\u{7}\td"), "ab\nc\td");
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn sections_below_the_top_level_are_level_two() {
        assert_eq!(section_level("3"), 1);
        assert_eq!(section_level("3.2"), 2);
        assert_eq!(section_level("3.2.1"), 2);
        assert_eq!(
            section_heading("3.2", "Functional requirements"),
            "3.2 Functional requirements"
        );
    }
}
