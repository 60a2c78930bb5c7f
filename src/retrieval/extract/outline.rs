//! Turns a stream of headings and body text into [`Section`]s, each under the
//! path of headings that encloses it. Shared by DOCX, HTML and Markdown.
//! It keeps at most [`Limits::max_text_bytes`] of text and says so as soon
//! as a document passes it, so a reader can stop early.

use super::{ExtractError, Limits, Section};

/// Joins heading titles into a section's path ("Chapter 2 > Approvals").
const PATH_SEPARATOR: &str = " > ";

pub(super) struct Outline {
    /// Open headings, outermost first, with their levels.
    path: Vec<(u8, String)>,
    body: String,
    sections: Vec<Section>,
    /// Text taken so far, counted as it will read once whitespace collapses.
    taken: u64,
    limit: u64,
}

impl Default for Outline {
    /// An outline with no limit on its text.
    fn default() -> Self {
        Outline {
            path: Vec::new(),
            body: String::new(),
            sections: Vec::new(),
            taken: 0,
            limit: u64::MAX,
        }
    }
}

impl Outline {
    pub fn new(limits: &Limits) -> Self {
        Outline {
            limit: limits.max_text_bytes,
            ..Outline::default()
        }
    }

    /// True once the text passed the limit: what follows is dropped, and
    /// [`Self::finish`] refuses the document.
    pub fn is_full(&self) -> bool {
        self.taken > self.limit
    }

    /// Counts `s` against the limit; false when it does not fit.
    fn take(&mut self, s: &str) -> bool {
        self.taken = self.taken.saturating_add(visible_len(s));
        !self.is_full()
    }

    /// Closes the current section and opens one under `title`; headings at the
    /// same or a deeper level than `level` are no longer enclosing.
    pub fn heading(&mut self, level: u8, title: &str) {
        if !self.take(title) {
            return;
        }
        let title = collapse_whitespace(title);
        if title.is_empty() {
            return;
        }
        self.flush();
        while self.path.last().is_some_and(|(open, _)| *open >= level) {
            self.path.pop();
        }
        self.path.push((level, title));
    }

    pub fn text(&mut self, s: &str) {
        if self.take(s) {
            self.body.push_str(s);
        }
    }

    pub fn line_break(&mut self) {
        if !self.body.is_empty() && !self.body.ends_with('\n') {
            self.body.push('\n');
        }
    }

    pub fn paragraph_break(&mut self) {
        self.line_break();
        if !self.body.is_empty() && !self.body.ends_with("\n\n") {
            self.body.push('\n');
        }
    }

    /// Separates table cells on one line; nothing before a row's first cell.
    pub fn cell_break(&mut self) {
        let line = self.body.rsplit('\n').next().unwrap_or("");
        if !line.trim().is_empty() {
            self.body.push_str(" | ");
        }
    }

    /// The sections, or `TooLarge` if the text passed the limit.
    pub fn finish(mut self, limits: &Limits) -> Result<Vec<Section>, ExtractError> {
        if self.is_full() {
            return Err(limits.text_too_large());
        }
        self.flush();
        Ok(self.sections)
    }

    fn flush(&mut self) {
        let text = tidy(&std::mem::take(&mut self.body));
        if text.is_empty() {
            return;
        }
        let heading = (!self.path.is_empty()).then(|| {
            let titles: Vec<&str> = self.path.iter().map(|(_, t)| t.as_str()).collect();
            titles.join(PATH_SEPARATOR)
        });
        self.sections.push(Section {
            text,
            page: None,
            heading,
        });
    }
}

/// Collapses whitespace inside each line, drops empty lines at either end and
/// keeps at most one blank line between paragraphs.
pub(super) fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = false;
    for line in s.lines() {
        let line = collapse_whitespace(line);
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank { "\n\n" } else { "\n" });
        }
        out.push_str(&line);
        blank = false;
    }
    out
}

/// The length of `s` once its runs of whitespace are single spaces.
pub(super) fn visible_len(s: &str) -> u64 {
    let mut len = 0u64;
    let mut in_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            len += u64::from(!in_space);
            in_space = true;
        } else {
            len += c.len_utf8() as u64;
            in_space = false;
        }
    }
    len
}

pub(super) fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `(heading, text)` of each section, for tests to compare in one assertion.
#[cfg(test)]
pub(super) fn headings_and_texts(sections: &[Section]) -> Vec<(Option<&str>, &str)> {
    sections
        .iter()
        .map(|s| (s.heading.as_deref(), s.text.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heading_closes_siblings_and_deeper_headings_but_keeps_parents() {
        let mut o = Outline::default();
        o.heading(1, "Chapter 1");
        o.heading(2, "Scope");
        o.text("in scope");
        o.heading(2, "Approvals");
        o.text("approved by finance");
        o.heading(1, "Chapter 2");
        o.text("later");
        let headings: Vec<_> = o
            .finish(&Limits::default())
            .unwrap()
            .into_iter()
            .map(|s| s.heading)
            .collect();
        assert_eq!(
            headings,
            [
                Some("Chapter 1 > Scope".to_string()),
                Some("Chapter 1 > Approvals".to_string()),
                Some("Chapter 2".to_string()),
            ]
        );
    }

    #[test]
    fn text_before_any_heading_has_no_heading_and_empty_sections_are_dropped() {
        let mut o = Outline::default();
        o.text("preface");
        o.heading(1, "Empty");
        o.heading(1, "Full");
        o.text("body");
        let sections = o.finish(&Limits::default()).unwrap();
        assert_eq!(sections.len(), 2);
        assert_eq!(sections[0].heading, None);
        assert_eq!(sections[1].heading.as_deref(), Some("Full"));
    }

    #[test]
    fn text_past_the_limit_is_dropped_and_the_outline_refuses_to_finish() {
        let limits = Limits {
            max_text_bytes: 14,
            ..Limits::default()
        };
        let mut o = Outline::new(&limits);
        o.text("twelve      ");
        o.text("\n\n\t  words");
        assert!(!o.is_full(), "whitespace runs count as one byte");
        o.text("!!");
        assert!(o.is_full());
        o.text("dropped");
        assert!(!o.body.contains("dropped"));
        let err = o.finish(&limits);
        assert!(matches!(err, Err(ExtractError::TooLarge(_))), "{err:?}");
    }

    #[test]
    fn tidy_collapses_spaces_and_keeps_one_blank_line_between_paragraphs() {
        assert_eq!(tidy("\n\n  a   b \n\n\n\n c\td\n \n"), "a b\n\nc d");
    }
}
