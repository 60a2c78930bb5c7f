//! The SRS as one self-contained, print-friendly HTML page.
//!
//! The page must be safe to open from an e-mail or a file share: inline CSS
//! only, no script, no reference to anything outside the file (a
//! Content-Security-Policy meta tag enforces it too), and every piece of user
//! text escaped. Requirement ids are anchors (`#FR-001`).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::{
    answer_text, clean, priority_word, section_heading, section_level, severity_word,
    shorten_quote, verification_word,
};
use crate::srs::model::{Requirement, Srs};

/// System fonts only, light on ink, and records kept whole across pages.
const STYLE: &str = "\
body{font:11pt/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,Helvetica,Arial,sans-serif;\
color:#111;background:#fff;max-width:52rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.8rem;margin:0 0 .2rem}
h2{font-size:1.35rem;border-bottom:1px solid #bbb;padding-bottom:.2rem;margin-top:2rem}
h3{font-size:1.15rem;margin-top:1.6rem}
h4{font-size:1rem;margin:.2rem 0 .4rem}
h5{font-size:.9rem;margin:.7rem 0 .2rem}
.meta{color:#555;margin:0 0 1.5rem}
.req{border:1px solid #ccc;border-radius:4px;padding:.4rem .9rem .6rem;margin:1rem 0;\
break-inside:avoid;page-break-inside:avoid}
.rid{font-family:ui-monospace,Menlo,Consolas,monospace}
.statement{font-weight:600}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
table.fields th{width:8.5rem;background:#f4f4f4;font-weight:600}
.quote{color:#444}
.unanswered{color:#777;font-style:italic}
.sev-error{color:#a00;font-weight:600}
.sev-warning{color:#8a5a00}
footer{margin-top:2rem;color:#777;font-size:.85rem}
@page{size:A4;margin:18mm}
@media print{body{max-width:none;margin:0;padding:0;font-size:10pt}\
h2,h3,h4,h5{break-after:avoid;page-break-after:avoid}a{color:inherit;text-decoration:none}}
";

pub(super) fn render(srs: &Srs, project_name: &str) -> String {
    let ids: BTreeSet<&str> = srs.requirements().map(|(_, r)| r.id.as_str()).collect();
    let mut out = String::with_capacity(16 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    // Belt and braces: even an escaping bug could not load or run anything.
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" \
         content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", esc(&srs.title));
    let _ = writeln!(out, "<style>\n{STYLE}</style>\n</head>\n<body>");

    let _ = writeln!(out, "<header>\n<h1>{}</h1>", esc(&srs.title));
    let _ = writeln!(
        out,
        "<p class=\"meta\">Project: {} &middot; Version {}</p>\n</header>\n<main>",
        esc(project_name),
        srs.version
    );

    for section in &srs.sections {
        let h = section_level(&section.key) + 1;
        let _ = writeln!(
            out,
            "<h{h}>{}</h{h}>",
            esc(&section_heading(&section.key, &section.title))
        );
        prose(&mut out, &section.text);
        for req in &section.requirements {
            requirement(&mut out, req);
        }
    }

    out.push_str("<h2>Clarifications</h2>\n");
    if srs.clarifications.is_empty() {
        out.push_str("<p>None.</p>\n");
    } else {
        out.push_str("<ol class=\"clarifications\">\n");
        for c in &srs.clarifications {
            let answer = answer_text(c.answer.as_deref());
            let class = if c.answer.as_deref().is_some_and(|a| !a.trim().is_empty()) {
                "answer"
            } else {
                "answer unanswered"
            };
            let _ = writeln!(
                out,
                "<li><b>Q:</b> {}<br><b>A:</b> <span class=\"{class}\">{}</span></li>",
                esc(&c.question),
                esc(answer)
            );
        }
        out.push_str("</ol>\n");
    }

    out.push_str("<h2>Quality check</h2>\n");
    let _ = writeln!(out, "<p>Lint score: <b>{}/100</b></p>", srs.lint.score);
    if srs.lint.findings.is_empty() {
        out.push_str("<p>No findings.</p>\n");
    } else {
        out.push_str(
            "<table class=\"findings\">\n<thead><tr><th>Rule</th><th>Severity</th>\
             <th>Requirement</th><th>Message</th></tr></thead>\n<tbody>\n",
        );
        for f in &srs.lint.findings {
            let severity = severity_word(f.severity);
            let target = match f.requirement_id.as_deref() {
                // Link only to anchors that exist in this page.
                Some(id) if ids.contains(id) => format!("<a href=\"#{0}\">{0}</a>", esc(id)),
                Some(id) => esc(id),
                None => "&mdash;".to_string(),
            };
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"sev-{severity}\">{severity}</td><td>{target}</td>\
                 <td>{}</td></tr>",
                esc(&f.rule),
                esc(&f.message)
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</main>\n<footer>Exported by BA Copilot.</footer>\n</body>\n</html>\n");
    out
}

fn requirement(out: &mut String, req: &Requirement) {
    let id = esc(&req.id);
    let _ = writeln!(
        out,
        "<section class=\"req\" id=\"{id}\">\n<h4><span class=\"rid\">{id}</span> {}</h4>",
        esc(&req.title)
    );
    let _ = writeln!(out, "<p class=\"statement\">{}</p>", esc(&req.statement));
    out.push_str("<table class=\"fields\">\n");
    let mut field = |name: &str, value: &str| {
        let _ = writeln!(out, "<tr><th>{name}</th><td>{value}</td></tr>");
    };
    field("Priority", priority_word(req.priority));
    field("Verification", verification_word(req.verification));
    field("Status", &esc(&req.status));
    if !req.rationale.trim().is_empty() {
        field("Rationale", &esc(&req.rationale));
    }
    out.push_str("</table>\n");

    if !req.acceptance_criteria.is_empty() {
        out.push_str("<h5>Acceptance criteria</h5>\n<ol class=\"criteria\">\n");
        for c in &req.acceptance_criteria {
            let _ = writeln!(
                out,
                "<li><b>Given</b> {} <b>When</b> {} <b>Then</b> {}</li>",
                esc(&c.given),
                esc(&c.when),
                esc(&c.then)
            );
        }
        out.push_str("</ol>\n");
    }
    if !req.sources.is_empty() {
        out.push_str("<h5>Sources</h5>\n<ul class=\"sources\">\n");
        for s in &req.sources {
            let _ = writeln!(
                out,
                "<li>{}: <span class=\"quote\">&ldquo;{}&rdquo;</span></li>",
                esc(&s.document_id),
                esc(&shorten_quote(&s.quote))
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

/// Paragraphs at blank lines, the author's other line breaks kept.
fn prose(out: &mut String, text: &str) {
    let text = clean(text);
    for para in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        let lines: Vec<String> = para
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(esc)
            .collect();
        let _ = writeln!(out, "<p>{}</p>", lines.join("<br>\n"));
    }
}

/// Escapes text for element content and quoted attribute values alike.
fn esc(text: &str) -> String {
    let text = clean(text);
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srs::export::fixture::{sample, HOSTILE_STATEMENT, IDS};

    /// Tags the exporter writes; anything else would be user text leaking.
    const TAGS: [&str; 30] = [
        "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header", "main", "footer",
        "h1", "h2", "h3", "h4", "h5", "p", "br", "b", "span", "a", "section", "table", "thead",
        "tbody", "tr", "th", "td", "ol", "ul", "li",
    ];

    fn tags(html: &str) -> Vec<&str> {
        html.split('<')
            .skip(1)
            .map(|rest| &rest[..rest.find('>').expect("unclosed tag")])
            .collect()
    }

    #[test]
    fn every_requirement_is_an_anchor_with_its_escaped_statement() {
        let srs = sample();
        let html = render(&srs, "Acme");
        for id in IDS {
            assert!(html.contains(&format!("<section class=\"req\" id=\"{id}\">")));
        }
        for (_, r) in srs.requirements() {
            assert!(
                html.contains(&esc(&r.statement)),
                "{} statement missing",
                r.id
            );
        }
        assert!(html.contains(
            "show &lt;script&gt;alert(1)&lt;/script&gt; as text &amp; keep &quot;quotes&quot;"
        ));
        assert!(html.contains("<a href=\"#FR-002\">FR-002</a>"));
        assert!(html.contains("<title>Invoice Portal SRS – “café” edition…</title>"));
        assert!(html.contains("Project: Acme &middot; Version 3"));
        assert!(html.contains("<h3>3.2 Functional requirements</h3>"));
        assert!(html.contains("<b>Given</b> an accountant with 3 selected invoices"));
        assert!(html.contains("&#39;quoted&#39;"));
    }

    #[test]
    fn user_text_never_becomes_markup() {
        let html = render(&sample(), "<i>Acme</i>");
        assert!(!html.contains("<script"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("<i>"));
        for tag in tags(&html) {
            let name = tag
                .trim_start_matches('/')
                .split([' ', '\n'])
                .next()
                .unwrap();
            assert!(TAGS.contains(&name), "unexpected tag <{tag}>");
            assert!(!tag.contains("src="), "<{tag}> loads something");
            assert!(!tag.contains("//"), "<{tag}> points outside");
            if let Some(href) = tag.split("href=\"").nth(1) {
                assert!(href.starts_with('#'), "<{tag}> links outside the page");
            }
        }
    }

    #[test]
    fn the_page_references_nothing_outside_itself() {
        // The fixture quotes a URL and an <img src=…> as text; without them
        // no forbidden string may appear anywhere in the file.
        let mut srs = sample();
        srs.sections[1].requirements[0].sources[1].quote = "=SUM(A1:A3)".into();
        srs.sections[1].requirements[1].acceptance_criteria[0].given = "a customer".into();
        let html = render(&srs, "Acme");
        for needle in [
            "<script", "http://", "https://", "src=", "@import", "url(", "<link",
        ] {
            assert!(!html.contains(needle), "found {needle}");
        }
        assert!(!html.contains("//"), "no protocol-relative reference");
        assert!(html.contains(&esc(HOSTILE_STATEMENT)));
    }

    #[test]
    fn the_style_is_inline_and_print_friendly() {
        let html = render(&sample(), "Acme");
        assert_eq!(html.matches("<style>").count(), 1);
        assert!(STYLE.contains("@page{size:A4"));
        assert!(STYLE.contains("@media print"));
        assert!(!STYLE.contains('<'));
    }
}
