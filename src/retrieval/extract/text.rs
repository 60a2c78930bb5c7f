//! Plain text: one section, paragraphs separated by a blank line.

use super::outline::tidy;
use super::Section;

pub(super) fn extract(text: &str) -> Vec<Section> {
    let text = tidy(text);
    if text.is_empty() {
        return Vec::new();
    }
    vec![Section {
        text,
        page: None,
        heading: None,
    }]
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
