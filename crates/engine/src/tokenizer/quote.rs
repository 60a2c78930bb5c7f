//! Quote marks that carry "this is content, not template" through a chat
//! template's rendering, so control tokens written in a message stay text
//! while the template's own ones stay tokens.
//!
//! The marks wrap only each control token found in the content, not the whole
//! content, so filters like `trim` that templates apply to a message still see
//! its real edges. They are Unicode noncharacters, which the standard sets
//! aside for a program's internal use: no text we are sent should hold them,
//! and any that does has them removed before quoting.

use std::borrow::Cow;
use std::ops::Range;

pub(super) const OPEN: char = '\u{FDD0}';
pub(super) const CLOSE: char = '\u{FDD1}';

/// `text` without stray marks (they would quote the template's own tokens).
pub(super) fn without_marks(text: &str) -> Cow<'_, str> {
    if text.contains([OPEN, CLOSE]) {
        Cow::Owned(text.replace([OPEN, CLOSE], ""))
    } else {
        Cow::Borrowed(text)
    }
}

/// `text` with the marks removed, and the byte ranges of the result that
/// were quoted (sorted and disjoint). An opening mark with no closing one
/// quotes to the end: a template that cut a message short never turns its
/// tail back into tokens.
pub(super) fn unquote(text: &str) -> (Cow<'_, str>, Vec<Range<usize>>) {
    if !text.contains([OPEN, CLOSE]) {
        return (Cow::Borrowed(text), Vec::new());
    }
    let mut clean = String::with_capacity(text.len());
    let mut ranges = Vec::new();
    let mut open: Option<usize> = None;
    for c in text.chars() {
        match c {
            OPEN => {
                open.get_or_insert(clean.len());
            }
            CLOSE => {
                if let Some(start) = open.take() {
                    ranges.push(start..clean.len());
                }
            }
            _ => clean.push(c),
        }
    }
    if let Some(start) = open {
        ranges.push(start..clean.len());
    }
    (Cow::Owned(clean), ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquoting_removes_the_marks_and_reports_what_they_enclosed() {
        let (clean, ranges) = unquote("a\u{FDD0}<s>\u{FDD1}b\u{FDD0}<t>");
        assert_eq!(clean, "a<s>b<t>");
        assert_eq!(ranges, [1..4, 5..8], "an unclosed quote runs to the end");
    }

    #[test]
    fn text_without_marks_is_borrowed_and_has_no_quoted_ranges() {
        let (clean, ranges) = unquote("plain");
        assert!(matches!(clean, Cow::Borrowed("plain")));
        assert!(ranges.is_empty());
    }

    #[test]
    fn stray_marks_in_content_are_dropped() {
        assert_eq!(without_marks("a\u{FDD1}b\u{FDD0}"), "ab");
    }
}
