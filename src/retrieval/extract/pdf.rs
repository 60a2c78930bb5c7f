//! PDF: one section per page with text. lopdf parses the file; pdf-extract
//! lays out each page's text, and lopdf's own simpler extractor stands in for
//! a page pdf-extract fails on. Both can panic on odd files, so every call
//! into them is caught.

use std::panic::{catch_unwind, AssertUnwindSafe};

use lopdf::content::{Content, Operation};
use lopdf::{Document, ObjectId};

use super::outline::tidy;
use super::{sniff, ExtractError, Section};

/// The sections (one per page with text) and the page count.
pub(super) fn extract(bytes: &[u8]) -> Result<(Vec<Section>, u32), ExtractError> {
    let mut doc = load(bytes)?;
    let pages: Vec<(u32, ObjectId)> = doc.get_pages().into_iter().collect();
    if pages.is_empty() {
        return Err(ExtractError::Corrupt("the PDF has no pages".into()));
    }
    for &(_, id) in &pages {
        let _ = catch_unwind(AssertUnwindSafe(|| spell_out_quote_operators(&mut doc, id)));
    }
    let sections: Vec<Section> = pages
        .iter()
        .filter_map(|&(n, _)| {
            let text = tidy(&page_text(&doc, n));
            (!text.is_empty()).then_some(Section {
                text,
                page: Some(n),
                heading: None,
            })
        })
        .collect();
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

fn page_text(doc: &Document, page: u32) -> String {
    let laid_out = catch_unwind(AssertUnwindSafe(|| {
        let mut text = String::new();
        let mut output = pdf_extract::PlainTextOutput::new(&mut text);
        pdf_extract::output_doc_page(doc, &mut output, page).map(|()| text)
    }));
    if let Ok(Ok(text)) = laid_out {
        if !text.trim().is_empty() {
            return text;
        }
    }
    catch_unwind(AssertUnwindSafe(|| doc.extract_text(&[page])))
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default()
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
        assert_eq!(words(&page_text(&doc, 1)), "First line Second line");
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
