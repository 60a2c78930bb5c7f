//! The SRS as a Word document (Office Open XML, ECMA-376), written by hand
//! into a zip: the smallest set of parts Word and LibreOffice both open.
//!
//! Headings use the built-in heading styles (named `heading 1` … with an
//! outline level) so they show in Word's navigation pane; each requirement is
//! a level-3 heading followed by a two-column table of its fields. Element
//! order inside `pPr`, `rPr`, `tblPr` and `tcPr` follows the schema, which
//! Word enforces.

use std::io::{Cursor, Write as _};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::{
    answer_text, clean, priority_word, requirement_heading, section_heading, section_level,
    severity_word, shorten_quote, verification_word, ExportError,
};
use crate::srs::model::{Requirement, Srs};

const W_NS: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>"#;

const PACKAGE_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>"#;

const DOCUMENT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;

/// Sizes are in half-points, spacing in twentieths of a point.
const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" w:eastAsia="Calibri" w:cs="Calibri"/><w:sz w:val="22"/><w:szCs w:val="22"/><w:lang w:val="en-US"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="120" w:line="264" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style><w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:uiPriority w:val="10"/><w:qFormat/><w:pPr><w:spacing w:after="240"/></w:pPr><w:rPr><w:b/><w:sz w:val="48"/><w:szCs w:val="48"/></w:rPr></w:style><w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:uiPriority w:val="9"/><w:qFormat/><w:pPr><w:keepNext/><w:keepLines/><w:spacing w:before="360" w:after="120"/><w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:b/><w:color w:val="1F3864"/><w:sz w:val="32"/><w:szCs w:val="32"/></w:rPr></w:style><w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:uiPriority w:val="9"/><w:qFormat/><w:pPr><w:keepNext/><w:keepLines/><w:spacing w:before="280" w:after="100"/><w:outlineLvl w:val="1"/></w:pPr><w:rPr><w:b/><w:color w:val="1F3864"/><w:sz w:val="26"/><w:szCs w:val="26"/></w:rPr></w:style><w:style w:type="paragraph" w:styleId="Heading3"><w:name w:val="heading 3"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:uiPriority w:val="9"/><w:qFormat/><w:pPr><w:keepNext/><w:keepLines/><w:spacing w:before="240" w:after="80"/><w:outlineLvl w:val="2"/></w:pPr><w:rPr><w:b/><w:sz w:val="24"/><w:szCs w:val="24"/></w:rPr></w:style><w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont"><w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/></w:style><w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/><w:semiHidden/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style><w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/><w:basedOn w:val="TableNormal"/><w:uiPriority w:val="59"/><w:tblPr><w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="A6A6A6"/><w:left w:val="single" w:sz="4" w:space="0" w:color="A6A6A6"/><w:bottom w:val="single" w:sz="4" w:space="0" w:color="A6A6A6"/><w:right w:val="single" w:sz="4" w:space="0" w:color="A6A6A6"/><w:insideH w:val="single" w:sz="4" w:space="0" w:color="A6A6A6"/><w:insideV w:val="single" w:sz="4" w:space="0" w:color="A6A6A6"/></w:tblBorders></w:tblPr></w:style></w:styles>"#;

/// The same borders as the `TableGrid` style, set on each table too:
/// LibreOffice has not always applied table-style borders.
const TABLE_BORDERS: &str = r#"<w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="A6A6A6"/><w:left w:val="single" w:sz="4" w:space="0" w:color="A6A6A6"/><w:bottom w:val="single" w:sz="4" w:space="0" w:color="A6A6A6"/><w:right w:val="single" w:sz="4" w:space="0" w:color="A6A6A6"/><w:insideH w:val="single" w:sz="4" w:space="0" w:color="A6A6A6"/><w:insideV w:val="single" w:sz="4" w:space="0" w:color="A6A6A6"/></w:tblBorders>"#;

/// A4 with 2 cm margins, in twips: 11906 - 2 × 1134 = 9638 twips of text.
const SECTION: &str = r#"<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1134" w:right="1134" w:bottom="1134" w:left="1134" w:header="709" w:footer="709" w:gutter="0"/></w:sectPr>"#;
const FIELD_COLUMNS: [u32; 2] = [2268, 7370];
const FINDING_COLUMNS: [u32; 4] = [1900, 1200, 1800, 4738];

/// Part names in the order they are written.
pub(super) const PARTS: [&str; 6] = [
    "[Content_Types].xml",
    "_rels/.rels",
    "word/document.xml",
    "word/styles.xml",
    "word/_rels/document.xml.rels",
    "docProps/core.xml",
];

pub(super) fn render(srs: &Srs, project_name: &str) -> Result<Vec<u8>, ExportError> {
    let document = document_xml(srs, project_name);
    let core = core_xml(srs, project_name);
    let contents = [
        CONTENT_TYPES,
        PACKAGE_RELS,
        &document,
        STYLES,
        DOCUMENT_RELS,
        &core,
    ];
    // A fixed timestamp (the zip epoch, 1980-01-01) keeps the bytes stable.
    let options = SimpleFileOptions::DEFAULT
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::DEFAULT)
        .unix_permissions(0o644);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, body) in PARTS.iter().zip(contents) {
        zip.start_file(*name, options)?;
        zip.write_all(body.as_bytes())?;
    }
    Ok(zip.finish()?.into_inner())
}

fn core_xml(srs: &Srs, project_name: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{}</dc:title><dc:subject>{}</dc:subject><dc:creator>BA Copilot</dc:creator><cp:version>{}</cp:version></cp:coreProperties>"#,
        x(&srs.title),
        x(project_name),
        srs.version
    )
}

fn document_xml(srs: &Srs, project_name: &str) -> String {
    let mut b = String::with_capacity(32 * 1024);
    b.push_str(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#);
    b.push_str(&format!("\n<w:document xmlns:w=\"{W_NS}\"><w:body>"));
    b.push_str(&para(Some("Title"), &run(&srs.title, false)));
    b.push_str(&para(
        None,
        &format!(
            "{}{}<w:r><w:br/></w:r>{}{}",
            run("Project: ", true),
            run(project_name, false),
            run("Version: ", true),
            run(&srs.version.to_string(), false)
        ),
    ));

    for section in &srs.sections {
        let style = format!("Heading{}", section_level(&section.key));
        let title = section_heading(&section.key, &section.title);
        b.push_str(&para(Some(&style), &run(&title, false)));
        for p in clean(&section.text).split("\n\n") {
            if !p.trim().is_empty() {
                b.push_str(&para(None, &run(p.trim(), false)));
            }
        }
        for req in &section.requirements {
            requirement(&mut b, req);
        }
    }

    b.push_str(&para(Some("Heading1"), &run("Clarifications", false)));
    if srs.clarifications.is_empty() {
        b.push_str(&para(None, &run("None.", false)));
    }
    for (i, c) in srs.clarifications.iter().enumerate() {
        let q = format!("Q{}. ", i + 1);
        b.push_str(&para(None, &(run(&q, true) + &run(&c.question, true))));
        let a = answer_text(c.answer.as_deref());
        b.push_str(&para(None, &(run("Answer: ", true) + &run(a, false))));
    }

    b.push_str(&para(Some("Heading1"), &run("Quality check", false)));
    let score = format!("{}/100", srs.lint.score);
    b.push_str(&para(
        None,
        &(run("Lint score: ", true) + &run(&score, false)),
    ));
    if srs.lint.findings.is_empty() {
        b.push_str(&para(None, &run("No findings.", false)));
    } else {
        let header =
            ["Rule", "Severity", "Requirement", "Message"].map(|h| para(None, &run(h, true)));
        let mut rows = vec![header.to_vec()];
        for f in &srs.lint.findings {
            let cells = [
                f.rule.as_str(),
                severity_word(f.severity),
                f.requirement_id.as_deref().unwrap_or("—"),
                f.message.as_str(),
            ];
            rows.push(cells.iter().map(|c| para(None, &run(c, false))).collect());
        }
        table(&mut b, &FINDING_COLUMNS, &rows, true);
    }
    // Word expects a paragraph, not a table, right before the section
    // properties.
    b.push_str("<w:p/>");
    b.push_str(SECTION);
    b.push_str("</w:body></w:document>");
    b
}

fn requirement(b: &mut String, req: &Requirement) {
    let heading = requirement_heading(&req.id, &req.title);
    b.push_str(&para(Some("Heading3"), &run(&heading, false)));

    let plain = |s: &str| para(None, &run(s, false));
    let mut rows = vec![
        field("Statement", plain(&req.statement)),
        field("Priority", plain(priority_word(req.priority))),
        field("Verification", plain(verification_word(req.verification))),
        field("Status", plain(&req.status)),
    ];
    if !req.rationale.trim().is_empty() {
        rows.push(field("Rationale", plain(&req.rationale)));
    }
    if !req.acceptance_criteria.is_empty() {
        let criteria = req
            .acceptance_criteria
            .iter()
            .map(|c| {
                let runs = [
                    run("Given ", true),
                    run(&c.given, false),
                    run(" When ", true),
                    run(&c.when, false),
                    run(" Then ", true),
                    run(&c.then, false),
                ];
                para(None, &runs.concat())
            })
            .collect();
        rows.push(field("Acceptance criteria", criteria));
    }
    if !req.sources.is_empty() {
        let sources = req
            .sources
            .iter()
            .map(|s| {
                let quote = format!(": “{}”", shorten_quote(&s.quote));
                para(None, &(run(&s.document_id, false) + &run(&quote, false)))
            })
            .collect();
        rows.push(field("Sources", sources));
    }
    table(b, &FIELD_COLUMNS, &rows, false);
}

/// A table row of a bold label and a cell holding one or more paragraphs.
fn field(label: &str, value: String) -> Vec<String> {
    vec![para(None, &run(label, true)), value]
}

/// A full-width bordered table; `cells` are each one or more `<w:p>`.
fn table(b: &mut String, widths: &[u32], rows: &[Vec<String>], header: bool) {
    b.push_str("<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/>");
    b.push_str("<w:tblW w:w=\"5000\" w:type=\"pct\"/>");
    b.push_str(TABLE_BORDERS);
    b.push_str("<w:tblLayout w:type=\"fixed\"/></w:tblPr><w:tblGrid>");
    for w in widths {
        b.push_str(&format!("<w:gridCol w:w=\"{w}\"/>"));
    }
    b.push_str("</w:tblGrid>");
    for (i, row) in rows.iter().enumerate() {
        // The header row repeats on every page the table spans.
        let repeat = if header && i == 0 {
            "<w:tblHeader/>"
        } else {
            ""
        };
        b.push_str(&format!("<w:tr><w:trPr><w:cantSplit/>{repeat}</w:trPr>"));
        for (j, (cell, w)) in row.iter().zip(widths).enumerate() {
            // Shade the header row, or the label column of a field table.
            let shade = if (header && i == 0) || (!header && j == 0) {
                "<w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"F2F2F2\"/>"
            } else {
                ""
            };
            b.push_str(&format!(
                "<w:tc><w:tcPr><w:tcW w:w=\"{w}\" w:type=\"dxa\"/>{shade}</w:tcPr>{cell}</w:tc>"
            ));
        }
        b.push_str("</w:tr>");
    }
    b.push_str("</w:tbl>");
}

fn para(style: Option<&str>, runs: &str) -> String {
    match style {
        Some(s) => format!("<w:p><w:pPr><w:pStyle w:val=\"{s}\"/></w:pPr>{runs}</w:p>"),
        None => format!("<w:p>{runs}</w:p>"),
    }
}

/// One run of text; line breaks and tabs become Word's own elements.
fn run(text: &str, bold: bool) -> String {
    let mut r = String::from("<w:r>");
    if bold {
        r.push_str("<w:rPr><w:b/></w:rPr>");
    }
    let text = x(text);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            r.push_str("<w:br/>");
        }
        for (j, piece) in line.split('\t').enumerate() {
            if j > 0 {
                r.push_str("<w:tab/>");
            }
            if !piece.is_empty() {
                r.push_str("<w:t xml:space=\"preserve\">");
                r.push_str(piece);
                r.push_str("</w:t>");
            }
        }
    }
    r.push_str("</w:r>");
    r
}

/// XML-escapes text and drops what XML 1.0 cannot carry at all: control
/// characters (by [`clean`]) and the non-characters U+FFFE and U+FFFF.
fn x(text: &str) -> String {
    let text = clean(text);
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\u{FFFE}' | '\u{FFFF}' => {}
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srs::export::fixture::{sample, HOSTILE_STATEMENT, IDS};
    use quick_xml::events::Event;
    use std::io::Read as _;

    fn part(docx: &[u8], name: &str) -> String {
        let mut zip = zip::ZipArchive::new(Cursor::new(docx)).unwrap();
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    }

    /// The text content of an XML part, read by a conforming parser (which
    /// fails on any malformed markup), and the paragraph styles used.
    fn parse(xml: &str) -> (String, Vec<String>) {
        let mut reader = quick_xml::Reader::from_str(xml);
        let (mut text, mut styles) = (String::new(), Vec::new());
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Eof => break,
                Event::Text(t) => text.push_str(&t.decode().unwrap()),
                Event::GeneralRef(r) => match r.resolve_char_ref().unwrap() {
                    Some(c) => text.push(c),
                    None => {
                        let name = r.decode().unwrap();
                        let entity = quick_xml::escape::resolve_predefined_entity(&name);
                        text.push_str(entity.expect("only predefined entities"));
                    }
                },
                Event::Empty(e) if e.name().as_ref() == b"w:pStyle" => {
                    let val = e.try_get_attribute("w:val").unwrap().unwrap();
                    styles.push(String::from_utf8(val.value.to_vec()).unwrap());
                }
                Event::End(e) if e.name().as_ref() == b"w:p" => text.push('\n'),
                _ => {}
            }
        }
        (text, styles)
    }

    #[test]
    fn the_package_has_every_required_part_and_each_is_well_formed() {
        let docx = render(&sample(), "Acme & Co").unwrap();
        let zip = zip::ZipArchive::new(Cursor::new(&docx)).unwrap();
        let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
        names.sort_unstable();
        let mut expected = PARTS.to_vec();
        expected.sort_unstable();
        assert_eq!(names, expected);
        for name in PARTS {
            parse(&part(&docx, name));
        }
        let (core, _) = parse(&part(&docx, "docProps/core.xml"));
        assert!(core.contains("Invoice Portal SRS – “café” edition…"));
        assert!(core.contains("Acme & Co"));
    }

    #[test]
    fn the_document_text_holds_every_requirement_literally() {
        let srs = sample();
        let (text, _) = parse(&part(&render(&srs, "Acme").unwrap(), "word/document.xml"));
        for id in IDS {
            assert!(text.contains(id), "{id} missing");
        }
        for (_, r) in srs.requirements() {
            assert!(text.contains(&r.statement), "{} statement missing", r.id);
        }
        assert!(text.contains(HOSTILE_STATEMENT));
        assert!(text.contains("FR-002 Show <b>names</b> & \"labels\"\n"));
        assert!(text.contains("Given an accountant with 3 selected invoices When they press"));
        assert!(text.contains("doc-mail: “=HYPERLINK("));
        assert!(text.contains("Answer: (not answered)"));
        assert!(text.contains("Lint score: 82/100"));
        assert!(text.contains("Café Müller – “smart” quotes… 🚀"));
    }

    #[test]
    fn headings_use_the_heading_styles() {
        let (_, styles) = parse(&part(
            &render(&sample(), "Acme").unwrap(),
            "word/document.xml",
        ));
        assert_eq!(styles[0], "Title");
        let count = |s: &str| styles.iter().filter(|x| *x == s).count();
        // Introduction, Clarifications, Quality check; 3.2 and 3.3; requirements.
        assert_eq!(count("Heading1"), 3);
        assert_eq!(count("Heading2"), 2);
        assert_eq!(count("Heading3"), IDS.len());
        for id in ["Title", "Heading1", "Heading2", "Heading3", "TableGrid"] {
            assert!(STYLES.contains(&format!("w:styleId=\"{id}\"")));
        }
    }

    #[test]
    fn characters_xml_cannot_carry_are_dropped() {
        assert_eq!(x("a\u{1}b\u{FFFF}<&>"), "ab&lt;&amp;&gt;");
        assert_eq!(run("a\tb\nc", false), "<w:r><w:t xml:space=\"preserve\">a</w:t><w:tab/><w:t xml:space=\"preserve\">b</w:t><w:br/><w:t xml:space=\"preserve\">c</w:t></w:r>");
    }
}
