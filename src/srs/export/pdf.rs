//! The SRS as a PDF, laid out by our own small typesetter ([`layout`]) and
//! written with `lopdf`.
//!
//! Text is set in the standard Type1 fonts Helvetica and Helvetica-Bold with
//! WinAnsiEncoding, which every reader has built in, so nothing is embedded
//! and `pdftotext` reads the text back. Characters outside that encoding are
//! mapped or replaced ([`winansi`]).

mod layout;
mod winansi;

use lopdf::content::{Content, Operation};
use lopdf::{dictionary, text_string, Document, Object, Stream};

use self::layout::{Layout, Style, PAGE_H, PAGE_W};
use self::winansi::Font::{Bold, Regular};
use super::{
    answer_text, clean, priority_word, requirement_heading, section_heading, section_level,
    severity_word, shorten_quote, verification_word, ExportError,
};
use crate::srs::model::{Requirement, Srs};

const INK: (f32, f32, f32) = (0.0, 0.0, 0.0);
const BLUE: (f32, f32, f32) = (0.12, 0.22, 0.39);

const fn style(size: f32, leading: f32, indent: f32, before: f32) -> Style {
    Style {
        size,
        leading,
        indent,
        before,
        color: INK,
    }
}

const TITLE: Style = Style {
    color: BLUE,
    ..style(20.0, 25.0, 0.0, 0.0)
};
const H1: Style = Style {
    color: BLUE,
    ..style(15.0, 19.0, 0.0, 16.0)
};
const H2: Style = Style {
    color: BLUE,
    ..style(12.5, 16.0, 0.0, 12.0)
};
const H3: Style = style(11.0, 15.0, 0.0, 10.0);
const META: Style = style(10.0, 14.0, 0.0, 2.0);
const BODY: Style = style(10.0, 13.5, 0.0, 5.0);
const FIELD: Style = style(10.0, 13.5, 10.0, 2.0);
const ITEM: Style = style(10.0, 13.5, 24.0, 1.5);

pub(super) fn render(srs: &Srs, project_name: &str) -> Result<Vec<u8>, ExportError> {
    let mut l = Layout::new();
    l.paragraph(TITLE, &[(Bold, &srs.title)]);
    l.rule();
    l.paragraph(META, &[(Bold, "Project: "), (Regular, project_name)]);
    let version = srs.version.to_string();
    l.paragraph(META, &[(Bold, "Version: "), (Regular, &version)]);

    for section in &srs.sections {
        let style = if section_level(&section.key) == 1 {
            H1
        } else {
            H2
        };
        heading(
            &mut l,
            style,
            &section_heading(&section.key, &section.title),
        );
        for para in clean(&section.text).split("\n\n") {
            if !para.trim().is_empty() {
                l.paragraph(BODY, &[(Regular, para)]);
            }
        }
        for req in &section.requirements {
            requirement(&mut l, req);
        }
    }

    heading(&mut l, H1, "Clarifications");
    if srs.clarifications.is_empty() {
        l.paragraph(BODY, &[(Regular, "None.")]);
    }
    for (i, c) in srs.clarifications.iter().enumerate() {
        let q = format!("Q{}. ", i + 1);
        l.paragraph(BODY, &[(Bold, &q), (Bold, &c.question)]);
        let a = answer_text(c.answer.as_deref());
        l.paragraph(FIELD, &[(Bold, "Answer: "), (Regular, a)]);
    }

    heading(&mut l, H1, "Quality check");
    let score = format!("{}/100", srs.lint.score);
    l.paragraph(BODY, &[(Bold, "Lint score: "), (Regular, &score)]);
    if srs.lint.findings.is_empty() {
        l.paragraph(BODY, &[(Regular, "No findings.")]);
    }
    for f in &srs.lint.findings {
        let about = f.requirement_id.as_deref().unwrap_or("—");
        let label = format!("{} ({}, {}): ", f.rule, severity_word(f.severity), about);
        l.paragraph(FIELD, &[(Bold, &label), (Regular, &f.message)]);
    }

    let footer = format!("{} – {}", project_name, srs.title);
    assemble(l.finish(&footer), &srs.title, project_name)
}

/// A heading kept on the same page as the first lines under it.
fn heading(l: &mut Layout, style: Style, text: &str) {
    l.keep(style.before + style.leading + 3.0 * BODY.leading);
    l.paragraph(style, &[(Bold, text)]);
}

fn requirement(l: &mut Layout, req: &Requirement) {
    heading(l, H3, &requirement_heading(&req.id, &req.title));
    l.paragraph(FIELD, &[(Bold, "Statement: "), (Regular, &req.statement)]);
    l.paragraph(
        FIELD,
        &[
            (Bold, "Priority: "),
            (Regular, priority_word(req.priority)),
            (Bold, " · Verification: "),
            (Regular, verification_word(req.verification)),
            (Bold, " · Status: "),
            (Regular, &req.status),
        ],
    );
    if !req.rationale.trim().is_empty() {
        l.paragraph(FIELD, &[(Bold, "Rationale: "), (Regular, &req.rationale)]);
    }
    if !req.acceptance_criteria.is_empty() {
        l.paragraph(FIELD, &[(Bold, "Acceptance criteria:")]);
        for (i, c) in req.acceptance_criteria.iter().enumerate() {
            let n = format!("{}. ", i + 1);
            l.paragraph(
                ITEM,
                &[
                    (Regular, &n),
                    (Bold, "Given "),
                    (Regular, &c.given),
                    (Bold, " When "),
                    (Regular, &c.when),
                    (Bold, " Then "),
                    (Regular, &c.then),
                ],
            );
        }
    }
    if !req.sources.is_empty() {
        l.paragraph(FIELD, &[(Bold, "Sources:")]);
        for s in &req.sources {
            let line = format!("• {}: “{}”", s.document_id, shorten_quote(&s.quote));
            l.paragraph(ITEM, &[(Regular, &line)]);
        }
    }
}

/// The page tree, fonts, catalog and document info around the laid-out pages.
fn assemble(
    pages: Vec<Vec<Operation>>,
    title: &str,
    project_name: &str,
) -> Result<Vec<u8>, ExportError> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = |base: &str| {
        dictionary! {
            "Type" => "Font",
            "Subtype" => "Type1",
            "BaseFont" => Object::Name(base.into()),
            "Encoding" => "WinAnsiEncoding",
        }
    };
    let regular = doc.add_object(font("Helvetica"));
    let bold = doc.add_object(font("Helvetica-Bold"));
    let resources = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => regular, "F2" => bold },
    });
    let media_box: Vec<Object> = vec![0.into(), 0.into(), PAGE_W.into(), PAGE_H.into()];

    let mut kids = Vec::with_capacity(pages.len());
    for operations in pages {
        let content = Content { operations }.encode()?;
        let contents = doc.add_object(Stream::new(dictionary! {}, content));
        let page = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => media_box.clone(),
            "Resources" => resources,
            "Contents" => contents,
        });
        kids.push(Object::Reference(page));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count,
        }),
    );
    let catalog = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    // No CreationDate: the same document must give the same bytes.
    let info = doc.add_object(dictionary! {
        "Title" => text_string(&clean(title)),
        "Subject" => text_string(&clean(project_name)),
        "Creator" => Object::string_literal("BA Copilot"),
    });
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Info", info);
    doc.compress();

    let mut out = Vec::new();
    doc.save_to(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srs::export::fixture::{sample, HOSTILE_STATEMENT, IDS};

    /// Whitespace collapsed, so wrapped lines read as running text.
    fn flat(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn lopdf_text(pdf: &[u8]) -> (usize, String) {
        let doc = Document::load_mem(pdf).expect("a readable PDF");
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        (pages.len(), flat(&doc.extract_text(&pages).unwrap()))
    }

    #[test]
    fn lopdf_reads_it_back_with_every_requirement() {
        let srs = sample();
        let pdf = render(&srs, "Acme").unwrap();
        assert!(pdf.starts_with(b"%PDF-1.5"));
        let (pages, text) = lopdf_text(&pdf);
        assert!(pages >= 1);
        for id in IDS {
            assert!(text.contains(id), "{id} missing");
        }
        for (_, r) in srs.requirements() {
            // The one statement with an em dash is checked with its mapping below.
            if r.statement.is_ascii() {
                assert!(text.contains(&r.statement), "{} statement missing", r.id);
            }
        }
        assert!(text.contains(HOSTILE_STATEMENT));
        assert!(text.contains("Page 1 of"));
        assert!(
            text.contains("Given an accountant with 3 selected invoices When they press Export")
        );
    }

    #[test]
    fn characters_outside_winansi_do_not_corrupt_the_text() {
        let (_, text) = lopdf_text(&render(&sample(), "Acme").unwrap());
        assert!(text.contains("Café Müller – “smart” quotes… ?"), "{text}");
        assert!(text.contains("in under 2 s — even with 10 000 invoices"));
        assert!(text.contains("Invoice Portal SRS – “café” edition…"));
    }

    #[test]
    fn the_document_info_carries_the_title_without_a_date() {
        let doc = Document::load_mem(&render(&sample(), "Acme").unwrap()).unwrap();
        let info = doc.trailer.get(b"Info").unwrap().as_reference().unwrap();
        let info = doc.get_dictionary(info).unwrap();
        let title = lopdf::decode_text_string(info.get(b"Title").unwrap()).unwrap();
        assert_eq!(title, sample().title);
        assert!(info.get(b"CreationDate").is_err());
    }

    #[test]
    fn a_long_document_breaks_into_numbered_pages() {
        let mut srs = sample();
        let reqs = srs.sections[1].requirements.clone();
        for i in 0..40 {
            let mut more = reqs.clone();
            for r in &mut more {
                r.id = format!("{}-{i}", r.id);
            }
            srs.sections[1].requirements.extend(more);
        }
        let (pages, text) = lopdf_text(&render(&srs, "Acme").unwrap());
        assert!(pages > 5, "{pages} pages");
        assert!(text.contains(&format!("Page {pages} of {pages}")));
        assert!(text.contains("FR-002-39"));
    }

    /// poppler's `pdftotext` is what users' tools (and our own document
    /// ingestion tests) read PDFs with; it must see the same text.
    #[test]
    fn pdftotext_extracts_the_requirements() {
        let pdf = render(&sample(), "Acme").unwrap();
        let path = std::env::temp_dir().join(format!("bacopilot-srs-{}.pdf", std::process::id()));
        std::fs::write(&path, &pdf).unwrap();
        let run = std::process::Command::new("pdftotext")
            .args(["-enc", "UTF-8"])
            .arg(&path)
            .arg("-")
            .output();
        std::fs::remove_file(&path).ok();
        let output = match run {
            Ok(o) => o,
            Err(e) => panic!(
                "pdftotext could not run ({e}): install poppler-utils \
                 (apt-get install -y poppler-utils; scripts/system-deps.sh)"
            ),
        };
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = flat(&String::from_utf8(output.stdout).unwrap());
        for id in IDS {
            assert!(text.contains(id), "{id} missing: {text}");
        }
        assert!(text.contains(
            "The system shall export the selected invoices as a PDF file within 5 seconds."
        ));
        assert!(text.contains(HOSTILE_STATEMENT));
        assert!(text.contains("Café Müller – “smart” quotes…"));
    }
}
