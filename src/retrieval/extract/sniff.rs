//! Decides a file's [`Kind`] from its bytes; the name and the declared MIME
//! type are never consulted, since both are chosen by the uploader.

use std::borrow::Cow;
use std::io::Cursor;

use super::{csv, ExtractError, Kind};

/// Acrobat accepts the `%PDF-` header anywhere in the first 1024 bytes
/// (PDF 1.7 Annex H.3, note 1); we allow only whitespace, NULs and a BOM
/// before it, so a text file that merely mentions "%PDF-" stays text.
const PDF_HEADER_WINDOW: usize = 1024;

/// How far into a text file HTML tags count as "early".
const HTML_TAG_WINDOW: usize = 1024;

const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

pub fn sniff(bytes: &[u8]) -> Result<Kind, ExtractError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ExtractError::Empty);
    }
    if pdf_start(bytes).is_some() {
        return Ok(Kind::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return sniff_zip(bytes);
    }
    if bytes.starts_with(OLE_MAGIC) {
        return Err(ole_error(bytes));
    }
    if let Some(what) = known_binary(bytes) {
        return Err(ExtractError::Unsupported(what.into()));
    }
    Ok(classify_text(&decode_text(bytes)?))
}

/// Where `%PDF-` starts, if the file is a PDF.
pub(super) fn pdf_start(bytes: &[u8]) -> Option<usize> {
    let window = &bytes[..bytes.len().min(PDF_HEADER_WINDOW)];
    let at = window.windows(5).position(|w| w == b"%PDF-")?;
    let prefix = &window[..at];
    let prefix = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
    prefix
        .iter()
        .all(|b| b.is_ascii_whitespace() || *b == 0)
        .then_some(at)
}

/// The text of a file that is not PDF or zip: UTF-8 (BOM stripped) or UTF-16
/// with a BOM; anything else is treated as binary.
pub(super) fn decode_text(bytes: &[u8]) -> Result<Cow<'_, str>, ExtractError> {
    let binary = || ExtractError::Unsupported("binary data, or text that is not UTF-8".into());
    let text = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Cow::Borrowed(std::str::from_utf8(rest).map_err(|_| binary())?)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        Cow::Owned(decode_utf16(rest, u16::from_le_bytes).ok_or_else(binary)?)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        Cow::Owned(decode_utf16(rest, u16::from_be_bytes).ok_or_else(binary)?)
    } else {
        Cow::Borrowed(std::str::from_utf8(bytes).map_err(|_| binary())?)
    };
    if text.contains('\0') {
        return Err(binary());
    }
    if text.trim().is_empty() {
        return Err(ExtractError::Empty);
    }
    Ok(text)
}

fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Option<String> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

fn classify_text(text: &str) -> Kind {
    if looks_like_html(text) {
        Kind::Html
    } else if csv::delimiter(text).is_some() {
        Kind::Csv
    } else if looks_like_markdown(text) {
        Kind::Markdown
    } else {
        Kind::Text
    }
}

fn looks_like_html(text: &str) -> bool {
    let start = text.trim_start();
    let mut end = start.len().min(HTML_TAG_WINDOW);
    while !start.is_char_boundary(end) {
        end -= 1;
    }
    let head = start[..end].to_ascii_lowercase();
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        return true;
    }
    // Markup first, then a document-level tag: XHTML after `<?xml ...?>`, a
    // page opening with a comment. A Markdown file that mentions `<body>` in
    // its prose does not start with `<`.
    head.starts_with('<')
        && ["<html", "<head>", "<head ", "<body>", "<body "]
            .iter()
            .any(|tag| head.contains(tag))
}

/// Any Markdown block or link syntax. Plain text that happens to match reads
/// the same through the Markdown parser, so false positives cost little.
fn looks_like_markdown(text: &str) -> bool {
    let mut previous_nonblank = false;
    for line in text.lines().take(500) {
        let t = line.trim_start();
        let hashes = t.len() - t.trim_start_matches('#').len();
        let after_hashes = &t[hashes..];
        let atx =
            (1..=6).contains(&hashes) && (after_hashes.is_empty() || after_hashes.starts_with(' '));
        let fence = t.starts_with("```") || t.starts_with("~~~");
        let bullet = ["- ", "* ", "+ ", "> "].iter().any(|p| t.starts_with(p));
        let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let ordered =
            digits > 0 && (t[digits..].starts_with(". ") || t[digits..].starts_with(") "));
        let underline = t.trim_end();
        let setext = previous_nonblank
            && underline.len() >= 2
            && (underline.bytes().all(|b| b == b'=') || underline.bytes().all(|b| b == b'-'));
        let link = t.contains("](") && t.contains('[');
        if atx || fence || bullet || ordered || setext || link {
            return true;
        }
        previous_nonblank = !t.is_empty();
    }
    false
}

fn sniff_zip(bytes: &[u8]) -> Result<Kind, ExtractError> {
    let not_docx =
        || ExtractError::Unsupported("a ZIP archive that is not a Word document (.docx)".into());
    match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(archive) if archive.index_for_name("word/document.xml").is_some() => Ok(Kind::Docx),
        Ok(_) => Err(not_docx()),
        // A damaged archive: if it names the Word part, it meant to be a DOCX
        // and extraction reports it as damaged.
        Err(_) if bytes.windows(17).any(|w| w == b"word/document.xml") => Ok(Kind::Docx),
        Err(_) => Err(not_docx()),
    }
}

/// OLE compound files are legacy Office documents, or modern ones that were
/// encrypted: Office wraps those in OLE with an `EncryptedPackage` stream.
fn ole_error(bytes: &[u8]) -> ExtractError {
    let marker: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    if bytes.windows(marker.len()).any(|w| w == marker.as_slice()) {
        ExtractError::Encrypted
    } else {
        ExtractError::Unsupported(
            "a legacy Office file (.doc, .xls or .ppt); save it as .docx or PDF first".into(),
        )
    }
}

/// Formats people upload by mistake, named so the message can say what it was.
fn known_binary(bytes: &[u8]) -> Option<&'static str> {
    const IMAGE: &str = "an image has no text to read; upload a searchable PDF or the text itself";
    let magics: [(&[u8], &str); 7] = [
        (b"\x89PNG\r\n\x1a\n", IMAGE),
        (b"\xFF\xD8\xFF", IMAGE),
        (b"GIF8", IMAGE),
        (b"II*\x00", IMAGE),
        (b"MM\x00*", IMAGE),
        (b"\x1F\x8B", "a gzip archive"),
        (b"Rar!", "a RAR archive"),
    ];
    if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return Some(IMAGE);
    }
    magics
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, what)| *what)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    fn kind(bytes: &[u8]) -> Kind {
        sniff(bytes).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn pdf_is_recognised_by_its_header_even_after_whitespace_and_a_bom() {
        assert_eq!(kind(&fixtures::pdf(&["hello"])), Kind::Pdf);
        let mut padded = b"\xEF\xBB\xBF \r\n".to_vec();
        padded.extend(fixtures::pdf(&["hello"]));
        assert_eq!(kind(&padded), Kind::Pdf);
    }

    #[test]
    fn text_that_mentions_the_pdf_header_is_not_a_pdf() {
        assert_eq!(
            kind(b"Files start with %PDF-1.7 and a comment."),
            Kind::Text
        );
    }

    #[test]
    fn a_zip_with_word_document_xml_is_docx_whatever_it_is_called() {
        // No name is passed at all: a `.docx` name could not change the answer.
        assert_eq!(kind(&fixtures::docx(&[("", "hi")])), Kind::Docx);
    }

    #[test]
    fn a_zip_without_word_document_xml_is_unsupported() {
        let zip = fixtures::zip(&[("xl/workbook.xml", b"<workbook/>")]);
        assert!(matches!(sniff(&zip), Err(ExtractError::Unsupported(m)) if m.contains("ZIP")));
    }

    #[test]
    fn legacy_office_files_are_unsupported_and_encrypted_office_files_are_encrypted() {
        let mut doc = OLE_MAGIC.to_vec();
        doc.extend([0u8; 600]);
        assert!(matches!(sniff(&doc), Err(ExtractError::Unsupported(m)) if m.contains(".doc")));
        let marker: Vec<u8> = "EncryptedPackage"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        doc.extend(marker);
        assert!(matches!(sniff(&doc), Err(ExtractError::Encrypted)));
    }

    #[test]
    fn png_and_random_binary_are_unsupported() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert!(matches!(sniff(png), Err(ExtractError::Unsupported(m)) if m.contains("image")));
        // A fixed xorshift stream: deterministic, and not valid UTF-8.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let random: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 56) as u8
            })
            .collect();
        assert!(matches!(sniff(&random), Err(ExtractError::Unsupported(_))));
    }

    #[test]
    fn text_with_a_nul_byte_is_unsupported() {
        assert!(matches!(
            sniff(b"abc\0def"),
            Err(ExtractError::Unsupported(_))
        ));
    }

    #[test]
    fn empty_and_whitespace_only_files_are_empty() {
        assert!(matches!(sniff(b""), Err(ExtractError::Empty)));
        assert!(matches!(sniff(b" \n\t\r\n"), Err(ExtractError::Empty)));
        assert!(matches!(
            sniff(b"\xEF\xBB\xBF  \n"),
            Err(ExtractError::Empty)
        ));
    }

    #[test]
    fn html_is_recognised_by_doctype_root_tag_or_early_body() {
        assert_eq!(kind(b"  <!DOCTYPE html><p>x</p>"), Kind::Html);
        assert_eq!(kind(b"<HTML><p>x</p></HTML>"), Kind::Html);
        assert_eq!(
            kind(b"<!-- saved page -->\n<body><p>x</p></body>"),
            Kind::Html
        );
        assert_eq!(
            kind(b"# Notes\n\nPut scripts before </body> in a <body> tag.\n"),
            Kind::Markdown
        );
    }

    #[test]
    fn a_sentence_with_commas_is_text_not_csv() {
        assert_eq!(
            kind(b"Approvals, once recorded, are final, and cannot be undone."),
            Kind::Text
        );
        let prose = b"The approvals, which are recorded daily, must be reviewed.\n\
                      Finance staff, not managers, sign them off at month end.\n";
        assert_eq!(kind(prose), Kind::Text);
    }

    #[test]
    fn consistent_delimited_rows_are_csv() {
        assert_eq!(kind(b"id,name\n1,Alice\n2,Bob\n"), Kind::Csv);
        assert_eq!(kind(b"id;name;amount\n1;Alice;1,5\n2;Bob;2,5\n"), Kind::Csv);
        assert_eq!(kind(b"id\tname\n1\tAlice\n"), Kind::Csv);
    }

    #[test]
    fn inconsistent_field_counts_are_not_csv() {
        assert_eq!(kind(b"a,b\nc,d,e\nf\n"), Kind::Text);
    }

    #[test]
    fn markdown_structure_makes_markdown_and_plain_prose_stays_text() {
        assert_eq!(kind(b"# Title\n\nBody."), Kind::Markdown);
        assert_eq!(kind(b"Title\n=====\n\nBody."), Kind::Markdown);
        assert_eq!(kind(b"Intro\n\n- one\n- two\n"), Kind::Markdown);
        assert_eq!(
            kind(b"See [the spec](https://example.com)."),
            Kind::Markdown
        );
        assert_eq!(kind(b"Just a note.\n\nAnother paragraph.\n"), Kind::Text);
    }

    #[test]
    fn utf16_with_a_bom_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(
            "Plain notes in UTF-16."
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        assert_eq!(kind(&bytes), Kind::Text);
        assert_eq!(decode_text(&bytes).unwrap(), "Plain notes in UTF-16.");
    }
}
