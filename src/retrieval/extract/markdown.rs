//! Markdown: headings open sections; paragraphs, lists, code blocks and
//! tables keep their text; raw HTML keeps its text but loses its tags and
//! comments; front matter is metadata, not content.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::outline::Outline;
use super::{ExtractError, Limits, Section};

pub(super) fn extract(text: &str, limits: &Limits) -> Result<Vec<Section>, ExtractError> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    let mut outline = Outline::new(limits);
    let mut heading: Option<(u8, String)> = None;
    let mut in_metadata = false;
    let mut html = HtmlText::default();
    for event in Parser::new_ext(text, options) {
        if outline.is_full() {
            break;
        }
        let mut write = |s: &str| match &mut heading {
            Some((_, title)) => title.push_str(s),
            None => outline.text(s),
        };
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some((level as u8, String::new()))
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, title)) = heading.take() {
                    outline.heading(level, &title);
                }
            }
            Event::Start(Tag::MetadataBlock(_)) => in_metadata = true,
            Event::End(TagEnd::MetadataBlock(_)) => in_metadata = false,
            Event::Text(t) | Event::Code(t) if !in_metadata => write(&t),
            Event::InlineMath(t) | Event::DisplayMath(t) => write(&t),
            Event::SoftBreak => write(" "),
            Event::HardBreak => write("\n"),
            Event::Html(raw) => write(&html.strip(&raw)),
            // Inline tags carry no text of their own; the text between them
            // arrives as Text events.
            Event::InlineHtml(_) => {}
            Event::Start(Tag::TableCell) => outline.cell_break(),
            Event::Start(Tag::Item)
            | Event::End(TagEnd::Item | TagEnd::TableHead | TagEnd::TableRow) => {
                outline.line_break()
            }
            Event::End(
                TagEnd::Paragraph
                | TagEnd::CodeBlock
                | TagEnd::HtmlBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::List(_)
                | TagEnd::Table
                | TagEnd::FootnoteDefinition,
            )
            | Event::Rule => outline.paragraph_break(),
            _ => {}
        }
    }
    outline.finish(limits)
}

/// Strips tags and comments from raw HTML lines, which arrive one event per
/// line, so a comment or tag can span events.
#[derive(Default)]
struct HtmlText {
    in_comment: bool,
    in_tag: bool,
}

impl HtmlText {
    fn strip(&mut self, raw: &str) -> String {
        let mut out = String::new();
        let mut rest = raw;
        while !rest.is_empty() {
            if self.in_comment {
                match rest.find("-->") {
                    Some(end) => {
                        self.in_comment = false;
                        rest = &rest[end + 3..];
                    }
                    None => break,
                }
            } else if self.in_tag {
                match rest.find('>') {
                    Some(end) => {
                        self.in_tag = false;
                        rest = &rest[end + 1..];
                    }
                    None => break,
                }
            } else if let Some(start) = rest.find('<') {
                out.push_str(&rest[..start]);
                rest = &rest[start..];
                if rest.starts_with("<!--") {
                    self.in_comment = true;
                    rest = &rest[4..];
                } else {
                    self.in_tag = true;
                    rest = &rest[1..];
                }
            } else {
                out.push_str(rest);
                break;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::{extract as extract_any, Kind};
    use super::*;

    fn sections(text: &str) -> Vec<Section> {
        extract(text, &Limits::default()).unwrap()
    }

    #[test]
    fn headings_open_sections_under_their_heading_path() {
        let doc = extract_any(
            b"# Chapter 2\n\nIntro.\n\n## Approvals\n\nInvoices over **10k** need two approvals.\n\n# Chapter 3\n\nLater.\n",
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(doc.kind, Kind::Markdown);
        let got = super::super::outline::headings_and_texts(&doc.sections);
        assert_eq!(
            got,
            [
                (Some("Chapter 2"), "Intro."),
                (
                    Some("Chapter 2 > Approvals"),
                    "Invoices over 10k need two approvals."
                ),
                (Some("Chapter 3"), "Later."),
            ]
        );
    }

    #[test]
    fn lists_code_and_tables_keep_their_text() {
        let text = "Steps:\n\n- open the form\n- sign it\n\n```\nlet x = 1;\n```\n\n\
                    | Role | Limit |\n|------|-------|\n| Manager | 10k |\n";
        assert_eq!(
            sections(text)[0].text,
            "Steps:\n\nopen the form\nsign it\n\nlet x = 1;\n\nRole | Limit\nManager | 10k"
        );
    }

    #[test]
    fn html_comments_and_tags_are_dropped_but_their_text_stays() {
        let text = "Before <!-- inline note --> after.\n\n<!--\nhidden\nblock\n-->\n\n<div>\nShown <b>text</b>\n</div>\n";
        assert_eq!(sections(text)[0].text, "Before after.\n\nShown text");
    }

    #[test]
    fn link_urls_are_dropped_and_front_matter_is_skipped() {
        let text = "---\ntitle: Secret meta\n---\n\nSee [the spec](https://example.com/spec).\n";
        assert_eq!(sections(text)[0].text, "See the spec.");
    }
}
