//! HTML: the visible text of the body. h1–h6 open sections; block elements
//! break lines; scripts, styles, templates, comments and obviously hidden
//! elements are dropped (hidden text is text no reader of the page saw).

use scraper::{ElementRef, Html, Node};

use super::outline::Outline;
use super::Section;

/// Elements whose content is never visible text. `head` holds the title and
/// metadata; the body's own headings name the sections.
const SKIPPED: [&str; 7] = [
    "script", "style", "noscript", "template", "head", "svg", "math",
];

/// Elements that end a paragraph.
const PARAGRAPHS: [&str; 14] = [
    "p",
    "pre",
    "blockquote",
    "table",
    "ul",
    "ol",
    "dl",
    "section",
    "article",
    "header",
    "footer",
    "figure",
    "form",
    "hr",
];

/// Elements that end a line.
const LINES: [&str; 17] = [
    "br",
    "div",
    "li",
    "tr",
    "dt",
    "dd",
    "main",
    "nav",
    "aside",
    "address",
    "details",
    "summary",
    "caption",
    "figcaption",
    "fieldset",
    "legend",
    "option",
];

enum Step<'a> {
    Enter(ElementRef<'a>),
    Leave(ElementRef<'a>),
    Text(&'a str),
}

pub(super) fn extract(source: &str) -> Vec<Section> {
    let document = Html::parse_document(source);
    let mut walker = Walker::default();
    // An explicit stack, not recursion: a hostile page can nest elements
    // deeper than the thread's stack.
    let mut stack = vec![Step::Enter(document.root_element())];
    while let Some(step) = stack.pop() {
        match step {
            Step::Enter(element) => {
                if is_hidden(element) {
                    continue;
                }
                walker.enter(element);
                stack.push(Step::Leave(element));
                let children: Vec<_> = element.children().collect();
                for child in children.into_iter().rev() {
                    if let Some(e) = ElementRef::wrap(child) {
                        stack.push(Step::Enter(e));
                    } else if let Node::Text(t) = child.value() {
                        stack.push(Step::Text(t));
                    }
                }
            }
            Step::Leave(element) => walker.leave(element),
            Step::Text(t) => walker.text(t),
        }
    }
    walker.outline.finish()
}

fn is_hidden(element: ElementRef) -> bool {
    let e = element.value();
    if SKIPPED.contains(&e.name()) || e.attr("hidden").is_some() {
        return true;
    }
    e.attr("style").is_some_and(|style| {
        let style: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        style.contains("display:none") || style.contains("visibility:hidden")
    })
}

#[derive(Default)]
struct Walker {
    outline: Outline,
    /// The level and text of the heading being read, if inside one.
    heading: Option<(u8, String)>,
    /// Inside `pre`, line breaks in the source are real.
    preformatted: usize,
}

impl Walker {
    fn enter(&mut self, element: ElementRef) {
        let name = element.value().name();
        if let Some(level) = heading_level(name) {
            self.heading = Some((level, String::new()));
        } else if name == "td" || name == "th" {
            self.outline.cell_break();
        } else if name == "pre" {
            self.preformatted += 1;
        }
        self.block_break(name);
    }

    fn leave(&mut self, element: ElementRef) {
        let name = element.value().name();
        if heading_level(name).is_some() {
            if let Some((level, title)) = self.heading.take() {
                self.outline.heading(level, &title);
            }
        } else if name == "pre" {
            self.preformatted = self.preformatted.saturating_sub(1);
        }
        self.block_break(name);
    }

    fn text(&mut self, text: &str) {
        let text = if self.preformatted > 0 {
            text.to_string()
        } else {
            text.replace(['\n', '\r', '\t'], " ")
        };
        match &mut self.heading {
            Some((_, title)) => title.push_str(&text),
            None => self.outline.text(&text),
        }
    }

    fn block_break(&mut self, name: &str) {
        if PARAGRAPHS.contains(&name) {
            self.outline.paragraph_break();
        } else if LINES.contains(&name) {
            self.outline.line_break();
        }
    }
}

fn heading_level(name: &str) -> Option<u8> {
    match name.as_bytes() {
        [b'h', d @ b'1'..=b'6'] => Some(d - b'0'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{extract as extract_any, fixtures, Kind, Limits};
    use super::*;

    #[test]
    fn headings_open_sections_under_their_heading_path() {
        let page = fixtures::html(
            "Handbook",
            "<h1>Chapter 2</h1><p>Intro.</p><h2>Approvals</h2><p>Invoices over <b>10k</b> need two approvals.</p>",
        );
        let doc = extract_any(page.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(doc.kind, Kind::Html);
        let got = super::super::outline::headings_and_texts(&doc.sections);
        assert_eq!(
            got,
            [
                (Some("Chapter 2"), "Intro."),
                (
                    Some("Chapter 2 > Approvals"),
                    "Invoices over 10k need two approvals."
                ),
            ]
        );
    }

    #[test]
    fn scripts_styles_comments_and_hidden_elements_are_dropped() {
        let page = fixtures::html(
            "t",
            r#"<p>Visible.</p><script>var secret = 1;</script><style>p { color: red }</style>
               <!-- a comment --><noscript>enable js</noscript><template><p>tpl</p></template>
               <div hidden>hidden attr</div><span style="display: none">display none</span>
               <p style="Visibility:Hidden">invisible</p><p>Also visible.</p>"#,
        );
        let sections = extract(&page);
        assert_eq!(sections.len(), 1);
        assert_eq!(sections[0].text, "Visible.\n\nAlso visible.");
    }

    #[test]
    fn blocks_break_lines_cells_are_joined_and_whitespace_collapses() {
        let sections = extract(
            "<body><ul><li>one\n   item</li><li>two</li></ul>\
             <table><tr><th>Role</th><th>Limit</th></tr><tr><td>Manager</td><td>10k</td></tr></table>\
             line<br>break<pre>keep\nlines</pre></body>",
        );
        assert_eq!(
            sections[0].text,
            "one item\ntwo\n\nRole | Limit\nManager | 10k\n\nline\nbreak\n\nkeep\nlines"
        );
    }

    #[test]
    fn deeply_nested_markup_does_not_overflow_the_stack() {
        let page = format!(
            "<body>{}deep{}</body>",
            "<div>".repeat(10_000),
            "</div>".repeat(10_000)
        );
        let sections = extract(&page);
        assert_eq!(sections[0].text, "deep");
    }
}
