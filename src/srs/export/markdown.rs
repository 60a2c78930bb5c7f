//! The SRS as CommonMark (plus one GFM pipe table for the lint findings).
//!
//! All user text is treated as literal: every character that could open
//! markup is backslash-escaped, so a statement can never become a heading, a
//! link, raw HTML or a table cell boundary.

use std::fmt::Write as _;

use super::{
    answer_text, clean, priority_word, requirement_heading, section_heading, section_level,
    severity_word, shorten_quote, verification_word,
};
use crate::srs::model::{Requirement, Srs};

pub(super) fn render(srs: &Srs, project_name: &str) -> String {
    let mut out = String::new();
    heading(&mut out, 1, &srs.title);
    // A trailing backslash is CommonMark's hard line break.
    let _ = writeln!(out, "**Project:** {}\\", inline(project_name));
    let _ = writeln!(out, "**Version:** {}\n", srs.version);

    for section in &srs.sections {
        heading(
            &mut out,
            section_level(&section.key) + 1,
            &section_heading(&section.key, &section.title),
        );
        block(&mut out, &section.text);
        for req in &section.requirements {
            requirement(&mut out, req);
        }
    }

    heading(&mut out, 2, "Clarifications");
    if srs.clarifications.is_empty() {
        out.push_str("None.\n\n");
    }
    for (i, c) in srs.clarifications.iter().enumerate() {
        let _ = writeln!(out, "{}. **Q:** {}\\", i + 1, inline(&c.question));
        let _ = writeln!(
            out,
            "   **A:** {}\n",
            inline(answer_text(c.answer.as_deref()))
        );
    }

    heading(&mut out, 2, "Quality check");
    let _ = writeln!(out, "Lint score: **{}/100**\n", srs.lint.score);
    if srs.lint.findings.is_empty() {
        out.push_str("No findings.\n");
    } else {
        out.push_str("| Rule | Severity | Requirement | Message |\n");
        out.push_str("| --- | --- | --- | --- |\n");
        for f in &srs.lint.findings {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                inline(&f.rule),
                severity_word(f.severity),
                inline(f.requirement_id.as_deref().unwrap_or("—")),
                inline(&f.message)
            );
        }
    }
    out
}

fn requirement(out: &mut String, req: &Requirement) {
    heading(out, 4, &requirement_heading(&req.id, &req.title));
    let _ = writeln!(out, "- **Statement:** {}", inline(&req.statement));
    let _ = writeln!(out, "- **Priority:** {}", priority_word(req.priority));
    let _ = writeln!(
        out,
        "- **Verification:** {}",
        verification_word(req.verification)
    );
    let _ = writeln!(out, "- **Status:** {}", inline(&req.status));
    if !req.rationale.trim().is_empty() {
        let _ = writeln!(out, "- **Rationale:** {}", inline(&req.rationale));
    }
    out.push('\n');

    if !req.acceptance_criteria.is_empty() {
        out.push_str("**Acceptance criteria**\n\n");
        for (i, c) in req.acceptance_criteria.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}. **Given** {} **When** {} **Then** {}",
                i + 1,
                inline(&c.given),
                inline(&c.when),
                inline(&c.then)
            );
        }
        out.push('\n');
    }
    if !req.sources.is_empty() {
        out.push_str("**Sources**\n\n");
        for s in &req.sources {
            let _ = writeln!(
                out,
                "- {}: “{}”",
                inline(&s.document_id),
                inline(&shorten_quote(&s.quote))
            );
        }
        out.push('\n');
    }
}

fn heading(out: &mut String, level: u8, text: &str) {
    let hashes = "#".repeat(usize::from(level.clamp(1, 6)));
    let _ = writeln!(out, "{hashes} {}\n", inline(text));
}

/// Prose: paragraphs split at blank lines, the author's line breaks kept as
/// hard breaks, and each line defused so it cannot start a block construct.
fn block(out: &mut String, text: &str) {
    let text = clean(text);
    for para in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        let lines: Vec<&str> = para
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        for (i, line) in lines.iter().enumerate() {
            out.push_str(&line_start_safe(&inline(line)));
            out.push_str(if i + 1 < lines.len() { "\\\n" } else { "\n" });
        }
        out.push('\n');
    }
}

/// Escapes text for an inline context on one line: newlines become spaces
/// and every ASCII character that can open inline markup (emphasis, code,
/// links, raw HTML, entities, strikethrough, table cells) or close an ATX
/// heading is escaped, mostly by a backslash, which CommonMark allows before
/// any punctuation.
fn inline(text: &str) -> String {
    let text = clean(text);
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' | '\t' => out.push(' '),
            // An entity, not `\<`, so not even a renderer that ignores
            // backslash escapes can see a tag.
            '<' => out.push_str("&lt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '>' | '#' | '|' | '~' | '&' | '!' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// At the start of a line `-`, `+` and `=` open a list or a setext underline,
/// and `1.`/`1)` an ordered list; escape those (the rest `inline` handled).
fn line_start_safe(line: &str) -> String {
    if line.starts_with(['-', '+', '=']) {
        return format!("\\{line}");
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && line[digits..].starts_with(['.', ')']) {
        return format!("{}\\{}", &line[..digits], &line[digits..]);
    }
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srs::export::fixture::{sample, IDS};

    #[test]
    fn sections_are_headings_with_their_outline_keys() {
        let md = render(&sample(), "Acme");
        assert!(md.starts_with("# Invoice Portal SRS – “café” edition…\n"));
        assert!(md.contains("\n## 1 Introduction\n"));
        assert!(md.contains("\n### 3.2 Functional requirements\n"));
        assert!(md.contains("\n#### FR-001 Export invoices\n"));
        for id in IDS {
            assert!(md.contains(&format!("#### {id} ")), "{id} missing");
        }
        assert!(md.contains("**Project:** Acme"));
        assert!(md.contains("**Version:** 3"));
    }

    #[test]
    fn hostile_text_is_escaped_and_never_raw_html() {
        let md = render(&sample(), "Acme");
        assert!(!md.contains("<script"));
        assert!(!md.contains("<img"));
        assert!(!md.contains("<b>"));
        assert!(md.contains("&lt;script\\>alert(1)&lt;/script\\>"));
        assert!(md.contains("\\& keep \"quotes\" \\| pipes."));
        assert!(md.contains("the \\*invoice\\* portal\\_v2."));
    }

    #[test]
    fn prose_lines_cannot_start_block_constructs() {
        let md = render(&sample(), "Acme");
        assert!(md.contains("\n\\# not a heading\\\n"));
        assert!(md.contains("\n\\- not a list\\\n"));
        assert!(md.contains("\n1\\. not an ordered list\n\n"));
        assert!(!md.lines().any(|l| l.starts_with("- not")));
    }

    #[test]
    fn requirement_fields_criteria_sources_and_lint_are_listed() {
        let md = render(&sample(), "Acme");
        assert!(md.contains("- **Priority:** Must\n"));
        assert!(md.contains("- **Priority:** Won't\n"));
        assert!(md.contains("- **Verification:** Test\n"));
        assert!(md.contains("- **Status:** approved\n"));
        assert!(md.contains("1. **Given** an accountant with 3 selected invoices **When**"));
        assert!(md.contains("- doc-mail: “=HYPERLINK(\"http://evil.example\",\"click\")”"));
        assert!(md.contains("…”\n"), "long quote is shortened");
        assert!(md.contains("**A:** (not answered)"));
        assert!(md.contains("Lint score: **82/100**"));
        assert!(md.contains("| vague-term | warning | FR-002 | \"as text\" is vague \\| say"));
    }

    /// Parses the export as a CommonMark renderer would and checks that the
    /// hostile text comes out as literal text, never as HTML or markup.
    #[test]
    fn a_commonmark_parser_reads_user_text_back_literally() {
        use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

        let md = render(&sample(), "Acme");
        let mut text = String::new();
        let mut headings = Vec::new();
        let mut current: Option<String> = None;
        let (mut tables, mut lists) = (0, 0);
        for event in Parser::new_ext(&md, Options::ENABLE_TABLES) {
            match event {
                Event::Html(h) | Event::InlineHtml(h) => panic!("raw HTML in export: {h}"),
                Event::Start(Tag::Heading { level, .. }) => {
                    assert!(level <= HeadingLevel::H4);
                    current = Some(String::new());
                }
                Event::End(TagEnd::Heading(_)) => headings.extend(current.take()),
                Event::Start(Tag::Table(_)) => tables += 1,
                Event::Start(Tag::List(_)) => lists += 1,
                Event::Text(t) | Event::Code(t) => {
                    if let Some(h) = current.as_mut() {
                        h.push_str(&t);
                    }
                    text.push_str(&t);
                }
                Event::SoftBreak | Event::HardBreak => text.push(' '),
                _ => {}
            }
        }
        assert!(headings.contains(&"3.2 Functional requirements".to_string()));
        assert!(headings.contains(&"FR-002 Show <b>names</b> & \"labels\"".to_string()));
        assert!(headings.contains(&"1 Introduction".to_string()));
        assert!(text.contains(crate::srs::export::fixture::HOSTILE_STATEMENT));
        assert!(text.contains("# not a heading - not a list 1. not an ordered list"));
        assert!(text.contains("a customer named <img src=x onerror=alert(1)>"));
        assert_eq!(tables, 1, "only the findings are a table");
        // Fields of 3 requirements, 2 criteria lists, 2 source lists, clarifications.
        assert_eq!(lists, 3 + 2 + 2 + 1);
    }
}
