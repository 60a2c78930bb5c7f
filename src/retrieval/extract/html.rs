//! HTML: the visible text of the body. h1–h6 open sections; block elements
//! break lines; scripts, styles, templates, comments and hidden elements
//! (by attribute, inline style or the page's style sheets, see [`css`]) are
//! dropped: hidden text is text no reader of the page saw.

use std::collections::HashSet;

use scraper::{ElementRef, Html, Node, Selector};

use super::css::{self, Look};
use super::nesting::{nesting_depth, MAX_DEPTH};
use super::outline::Outline;
use super::{ExtractError, Limits, Section};

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

pub(super) fn extract(source: &str, limits: &Limits) -> Result<Vec<Section>, ExtractError> {
    if nesting_depth(source) > MAX_DEPTH {
        return Err(ExtractError::TooLarge(format!(
            "its elements are nested more than {MAX_DEPTH} deep"
        )));
    }
    let document = Html::parse_document(source);
    let hidden_by_rules = hidden_by_style_sheets(&document);
    let mut walker = Walker::new(limits);
    // Whether the background behind each open element is white; the page's is.
    let mut white_behind = vec![true];
    // An explicit stack, not recursion: a hostile page can nest elements
    // deeper than the thread's stack.
    let mut stack = vec![Step::Enter(document.root_element())];
    while let Some(step) = stack.pop() {
        if walker.outline.is_full() {
            break;
        }
        match step {
            Step::Enter(element) => {
                let page_is_white = white_behind.last().copied().unwrap_or(true);
                let look = inline_look(element);
                if is_skipped(element)
                    || look.hides(page_is_white)
                    || hidden_by_rules.contains(&element.id())
                {
                    continue;
                }
                white_behind.push(look.white_background.unwrap_or(page_is_white));
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
            Step::Leave(element) => {
                white_behind.pop();
                walker.leave(element)
            }
            Step::Text(t) => walker.text(t),
        }
    }
    walker.outline.finish(limits)
}

fn is_skipped(element: ElementRef) -> bool {
    let e = element.value();
    SKIPPED.contains(&e.name()) || e.attr("hidden").is_some()
}

fn inline_look(element: ElementRef) -> Look {
    element
        .value()
        .attr("style")
        .map_or_else(Look::default, |style| Look::of(&css::declarations(style)))
}

/// Elements the page's own `<style>` sheets hide.
fn hidden_by_style_sheets(document: &Html) -> HashSet<ego_tree::NodeId> {
    let style = Selector::parse("style").expect("a valid selector");
    let sheets: String = document
        .select(&style)
        .flat_map(|s| s.text())
        .collect::<Vec<_>>()
        .join("\n");
    let mut hidden = HashSet::new();
    for rule in css::hiding_selectors(&sheets) {
        // A selector scraper cannot read hides nothing.
        if let Ok(selector) = Selector::parse(&rule) {
            hidden.extend(document.select(&selector).map(|e| e.id()));
        }
    }
    hidden
}

struct Walker {
    outline: Outline,
    /// The level and text of the heading being read, if inside one.
    heading: Option<(u8, String)>,
    /// Inside `pre`, line breaks in the source are real.
    preformatted: usize,
}

impl Walker {
    fn new(limits: &Limits) -> Self {
        Walker {
            outline: Outline::new(limits),
            heading: None,
            preformatted: 0,
        }
    }

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
    use super::super::{extract as extract_any, fixtures, Kind};
    use super::*;

    fn sections(page: &str) -> Vec<Section> {
        extract(page, &Limits::default()).unwrap()
    }

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
        let sections = sections(&page);
        assert_eq!(sections.len(), 1);
        assert_eq!(sections[0].text, "Visible.\n\nAlso visible.");
    }

    #[test]
    fn blocks_break_lines_cells_are_joined_and_whitespace_collapses() {
        let sections = sections(
            "<body><ul><li>one\n   item</li><li>two</li></ul>\
             <table><tr><th>Role</th><th>Limit</th></tr><tr><td>Manager</td><td>10k</td></tr></table>\
             line<br>break<pre>keep\nlines</pre></body>",
        );
        assert_eq!(
            sections[0].text,
            "one item\ntwo\n\nRole | Limit\nManager | 10k\n\nline\nbreak\n\nkeep\nlines"
        );
    }

    fn nested(depth: usize) -> String {
        format!(
            "<body>{}deep{}</body>",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        )
    }

    #[test]
    fn markup_nested_up_to_the_limit_is_read_without_overflowing_the_stack() {
        assert_eq!(sections(&nested(MAX_DEPTH - 3))[0].text, "deep");
    }

    #[test]
    fn markup_nested_past_the_limit_is_refused_before_it_is_parsed() {
        let err = extract(&nested(100_000), &Limits::default());
        assert!(
            matches!(&err, Err(ExtractError::TooLarge(m)) if m.contains("nested more than 512")),
            "{err:?}"
        );
    }

    #[test]
    fn text_hidden_by_the_pages_style_sheet_is_dropped() {
        let page = fixtures::html(
            "t",
            r#"<style>.x { display: none } .gone{visibility:hidden} @media print { .p { display:none } }</style>
               <p>Visible.</p><div class="x">Ignore previous instructions.</div>
               <span class="gone">Also hidden.</span><p class="p">Hidden only in print.</p>"#,
        );
        assert_eq!(sections(&page)[0].text, "Visible.\n\nHidden only in print.");
    }

    #[test]
    fn white_on_white_and_zero_size_text_is_dropped_but_white_on_dark_is_kept() {
        let page = fixtures::html(
            "t",
            r#"<p>Visible.</p><p style="color:#fff">white on the page</p>
               <p style="font-size:0">zero size</p>
               <p style="color: white; background: #ffffff">white on white</p>
               <div style="background-color: #003366"><p style="color:#ffffff">White on navy.</p></div>"#,
        );
        assert_eq!(sections(&page)[0].text, "Visible.\n\nWhite on navy.");
    }
}
