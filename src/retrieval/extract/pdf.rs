//! PDF: one section per page with text. lopdf parses the file; pdf-extract
//! lays out each page's text, and lopdf's own simpler extractor stands in for
//! a page pdf-extract fails on. Both can panic on odd files, so every call
//! into them is caught; what cannot be caught (pdf-extract follows a form
//! that draws itself until the stack overflows) is why the server reads
//! documents in a child process. Streams are inflated within limits first.

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};

use lopdf::content::{Content, Operation};
use lopdf::{Document, ObjectId};

use super::inflate::{check_page_contents, inflate_streams};
use super::outline::tidy;
use super::{sniff, ExtractError, Limits, Section};

/// The sections (one per page with text) and the page count.
pub(super) fn extract(bytes: &[u8], limits: &Limits) -> Result<(Vec<Section>, u32), ExtractError> {
    let mut doc = load(bytes)?;
    let pages: Vec<(u32, ObjectId)> = doc.get_pages().into_iter().collect();
    if pages.is_empty() {
        return Err(ExtractError::Corrupt("the PDF has no pages".into()));
    }
    if pages.len() > limits.max_pdf_pages as usize {
        return Err(ExtractError::TooLarge(format!(
            "it has {} pages; at most {} are read",
            pages.len(),
            limits.max_pdf_pages
        )));
    }
    inflate_streams(&mut doc, limits)?;
    check_page_contents(&doc, &pages, limits)?;
    for &(_, id) in &pages {
        let _ = catch_unwind(AssertUnwindSafe(|| spell_out_quote_operators(&mut doc, id)));
    }
    let mut sections = Vec::new();
    let mut taken = 0u64;
    for &(n, _) in &pages {
        let room = limits.max_text_bytes - taken;
        let text = tidy(&page_text(&doc, n, room).ok_or_else(|| limits.text_too_large())?);
        taken += text.len() as u64;
        if taken > limits.max_text_bytes {
            return Err(limits.text_too_large());
        }
        if !text.is_empty() {
            sections.push(Section {
                text,
                page: Some(n),
                heading: None,
            });
        }
    }
    if sections.is_empty() {
        return Err(ExtractError::NoText(
            "the PDF has no text layer (it may be a scan); run OCR on it and upload it again"
                .into(),
        ));
    }
    Ok((sections, pages.len() as u32))
}

fn load(bytes: &[u8]) -> Result<Document, ExtractError> {
    // Offsets in the file count from `%PDF-`, so any junk before it goes.
    let start = sniff::pdf_start(bytes).unwrap_or(0);
    let loaded = catch_unwind(|| Document::load_mem(&bytes[start..]));
    let mut doc = match loaded {
        Ok(Ok(doc)) => doc,
        Ok(Err(e)) => {
            return Err(ExtractError::Corrupt(format!(
                "the PDF could not be parsed ({e})"
            )))
        }
        Err(_) => return Err(ExtractError::Corrupt("the PDF could not be parsed".into())),
    };
    if doc.trailer.get(b"Encrypt").is_ok() {
        // lopdf tries the empty user password while loading (files that are
        // "encrypted" only to restrict printing open that way) and keeps the
        // state when it works; without it the objects were never decrypted.
        if doc.encryption_state.is_none() {
            return Err(ExtractError::Encrypted);
        }
        // Already decrypted: drop the marker so nothing decrypts twice.
        doc.trailer.remove(b"Encrypt");
    }
    Ok(doc)
}

/// pdf-extract 0.10 and lopdf read text from `Tj` and `TJ` only, so the
/// text of `'` and `"` ("move to the next line, then show", PDF 1.7 §9.4.3)
/// would be lost; they are rewritten as the operators they abbreviate.
fn spell_out_quote_operators(doc: &mut Document, page: ObjectId) {
    let Ok(raw) = doc.get_page_content(page) else {
        return;
    };
    if !raw.iter().any(|b| matches!(b, b'\'' | b'"')) {
        return;
    }
    let Ok(content) = Content::decode(&raw) else {
        return;
    };
    if !content
        .operations
        .iter()
        .any(|op| matches!(op.operator.as_str(), "'" | "\""))
    {
        return;
    }
    let mut operations = Vec::with_capacity(content.operations.len() * 2);
    for op in content.operations {
        match (op.operator.as_str(), op.operands.as_slice()) {
            ("'", [text]) => {
                operations.push(Operation::new("T*", vec![]));
                operations.push(Operation::new("Tj", vec![text.clone()]));
            }
            ("\"", [word_spacing, char_spacing, text]) => {
                operations.push(Operation::new("Tw", vec![word_spacing.clone()]));
                operations.push(Operation::new("Tc", vec![char_spacing.clone()]));
                operations.push(Operation::new("T*", vec![]));
                operations.push(Operation::new("Tj", vec![text.clone()]));
            }
            _ => operations.push(op),
        }
    }
    if let Ok(bytes) = (Content { operations }).encode() {
        let _ = doc.change_page_content(page, bytes);
    }
}

/// The text of page `page`, or `None` once it passes `room` bytes (counted
/// before whitespace collapses, so twice the room is allowed for layout).
fn page_text(doc: &Document, page: u32, room: u64) -> Option<String> {
    let room = room.saturating_mul(2);
    let mut out = Capped::new(room);
    let laid_out = catch_unwind(AssertUnwindSafe(|| {
        let mut output = pdf_extract::PlainTextOutput::new(&mut out as &mut dyn Write);
        pdf_extract::output_doc_page(doc, &mut output, page)
    }));
    if out.overflowed {
        return None;
    }
    if let Ok(Ok(())) = laid_out {
        let text = String::from_utf8_lossy(&out.text).into_owned();
        if !text.trim().is_empty() {
            return Some(text);
        }
    }
    let text = catch_unwind(AssertUnwindSafe(|| doc.extract_text(&[page])))
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    (text.len() as u64 <= room).then_some(text)
}

/// pdf-extract's output, which refuses to grow past `room` bytes: the failed
/// write stops pdf-extract in the middle of the page.
struct Capped {
    text: Vec<u8>,
    room: u64,
    overflowed: bool,
}

impl Capped {
    fn new(room: u64) -> Self {
        Capped {
            text: Vec::new(),
            room,
            overflowed: false,
        }
    }
}

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if (self.text.len() + buf.len()) as u64 > self.room {
            self.overflowed = true;
            return Err(std::io::Error::other("the text limit was reached"));
        }
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{extract as extract_any, fixtures, Kind, Limits};
    use super::*;

    fn words(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn each_page_becomes_a_section_numbered_from_one() {
        let bytes = fixtures::pdf(&[
            "Invoices over 10,000 EUR need two approvals.",
            "The audit log is kept for seven years.",
            "Refunds (partial or full) go through finance \\ treasury.",
        ]);
        let doc = extract_any(&bytes, &Limits::default()).unwrap();
        assert_eq!(doc.kind, Kind::Pdf);
        assert_eq!(doc.pages, Some(3));
        let pages: Vec<_> = doc.sections.iter().map(|s| s.page).collect();
        assert_eq!(pages, [Some(1), Some(2), Some(3)]);
        assert_eq!(
            words(&doc.sections[0].text),
            "Invoices over 10,000 EUR need two approvals."
        );
        assert_eq!(
            words(&doc.sections[2].text),
            "Refunds (partial or full) go through finance \\ treasury."
        );
    }

    #[test]
    fn empty_pages_are_skipped_but_counted() {
        let bytes = fixtures::pdf(&["", "Only the second page has text."]);
        let doc = extract_any(&bytes, &Limits::default()).unwrap();
        assert_eq!(doc.pages, Some(2));
        assert_eq!(doc.sections.len(), 1);
        assert_eq!(doc.sections[0].page, Some(2));
    }

    #[test]
    fn long_text_wraps_across_lines_and_comes_back_whole() {
        let sentence = "Every purchase order must reference an approved budget line. ";
        let bytes = fixtures::pdf(&[&sentence.repeat(12)]);
        let doc = extract_any(&bytes, &Limits::default()).unwrap();
        assert_eq!(words(&doc.sections[0].text), words(&sentence.repeat(12)));
    }

    #[test]
    fn text_shown_with_quote_operators_is_extracted() {
        let mut doc = load(&fixtures::pdf(&["x"])).unwrap();
        let page = doc.get_pages()[&1];
        let content =
            b"BT /F1 11 Tf 72 720 Td 14 TL (First line) ' 1 0.5 (Second line) \" ET".to_vec();
        doc.change_page_content(page, content).unwrap();
        spell_out_quote_operators(&mut doc, page);
        let text = page_text(&doc, 1, 1 << 20).unwrap();
        assert_eq!(words(&text), "First line Second line");
    }

    fn too_large(err: Result<impl std::fmt::Debug, ExtractError>, says: &str) {
        assert!(
            matches!(&err, Err(ExtractError::TooLarge(m)) if m.contains(says)),
            "{err:?}"
        );
    }

    #[test]
    fn a_deflate_bomb_is_refused_once_its_stream_passes_the_limit() {
        let bomb = fixtures::pdf_deflate_bomb(64);
        assert!(bomb.len() < 200 << 10, "{} bytes", bomb.len());
        too_large(
            extract_any(&bomb, &Limits::default()),
            "a stream in it inflates to more than 16 MiB",
        );
    }

    #[test]
    fn a_page_naming_one_stream_two_hundred_times_is_refused() {
        too_large(
            extract_any(&fixtures::pdf_repeating_contents(200), &Limits::default()),
            "page 1 has more than 16 MiB of drawing instructions",
        );
    }

    #[test]
    fn a_page_naming_one_stream_a_few_times_is_read() {
        let doc = extract_any(&fixtures::pdf_repeating_contents(3), &Limits::default()).unwrap();
        assert!(doc.sections[0].text.contains("Repeated"), "{doc:?}");
    }

    #[test]
    fn pages_past_the_limit_refuse_the_pdf() {
        let limits = Limits {
            max_pdf_pages: 2,
            ..Limits::default()
        };
        too_large(
            extract_any(&fixtures::pdf(&["a", "b", "c"]), &limits),
            "3 pages; at most 2",
        );
    }

    #[test]
    fn text_past_the_limit_refuses_the_pdf_while_it_is_read() {
        let limits = Limits {
            max_text_bytes: 100,
            ..Limits::default()
        };
        let page = "Every purchase order must reference an approved budget line. ";
        too_large(
            extract_any(&fixtures::pdf(&[page, page, page]), &limits),
            "text is longer",
        );
    }

    #[test]
    fn a_pdf_with_no_text_on_any_page_is_no_text() {
        let err = extract_any(&fixtures::pdf(&["", ""]), &Limits::default());
        assert!(
            matches!(&err, Err(ExtractError::NoText(m)) if m.contains("OCR")),
            "{err:?}"
        );
    }

    #[test]
    fn a_password_protected_pdf_is_encrypted() {
        let err = extract_any(&fixtures::encrypted_pdf(), &Limits::default());
        assert!(matches!(err, Err(ExtractError::Encrypted)), "{err:?}");
    }

    #[test]
    fn a_corrupt_pdf_is_corrupt_not_a_panic() {
        let err = extract_any(&fixtures::corrupt_pdf(), &Limits::default());
        assert!(matches!(err, Err(ExtractError::Corrupt(_))), "{err:?}");
    }

    #[test]
    fn truncated_pdfs_never_panic() {
        let bytes = fixtures::pdf(&["Some text on a page.", "More text."]);
        for cut in (8..bytes.len()).step_by(37) {
            // Any answer will do, as long as it is an answer.
            let _ = extract_any(&bytes[..cut], &Limits::default());
        }
    }
}
