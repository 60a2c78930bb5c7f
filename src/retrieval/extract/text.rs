//! Plain text: one section, paragraphs separated by a blank line.

use super::outline::tidy;
use super::{ExtractError, Limits, Section};

/// Plain text never grows as it is read, so the limit is checked once.
pub(super) fn extract(text: &str, limits: &Limits) -> Result<Vec<Section>, ExtractError> {
    let text = tidy(text);
    if text.len() as u64 > limits.max_text_bytes {
        return Err(limits.text_too_large());
    }
    if text.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![Section {
        text,
        page: None,
        heading: None,
    }])
}

#[cfg(test)]
mod tests {
    use super::super::{extract as extract_any, Kind, Limits};

    #[test]
    fn plain_text_is_one_section_with_paragraphs_kept_apart() {
        let doc = extract_any(
            b"First   paragraph\r\nstill first.\n\n\n\nSecond paragraph.\n",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(doc.kind, Kind::Text);
        assert_eq!(doc.sections.len(), 1);
        assert_eq!(
            doc.sections[0].text,
            "First paragraph\nstill first.\n\nSecond paragraph."
        );
        assert_eq!(doc.sections[0].heading, None);
        assert_eq!(doc.pages, None);
    }
}
