//! Test documents built in memory: PDFs written by hand, hostile PDFs built
//! with lopdf, DOCX archives, a zip bomb. Shared by the extractor's unit
//! tests, the integration tests and the benchmark through `#[path]`, so it
//! depends only on crates the server itself uses (`zip`, `lopdf`, `flate2`).

#![allow(dead_code)]

use std::io::{Cursor, Write};

use lopdf::dictionary;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// A PDF with one page per string, Helvetica (WinAnsiEncoding), text wrapped
/// at about 90 characters. Newlines in a page's text start new lines.
pub fn pdf(pages: &[&str]) -> Vec<u8> {
    PdfWriter::new(None).finish(pages)
}

/// A PDF protected by the standard security handler (RC4 40-bit, revision 2)
/// with user password "secret" and owner password "owner": readers must ask
/// for the password before they can show its one page.
pub fn encrypted_pdf() -> Vec<u8> {
    let security = Security::new(b"secret", b"owner");
    PdfWriter::new(Some(security))
        .finish(&["This page is confidential and protected by a password."])
}

/// `%PDF-1.7` followed by a truncated object and garbage: no xref, no trailer.
pub fn corrupt_pdf() -> Vec<u8> {
    let mut out =
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R\n".to_vec();
    out.extend_from_slice(b"2 0 obj << /Kids [3 0 R /Count 1 >> stream\n\x00\xff\xfe garbage");
    out.extend((0u8..=255).cycle().take(512));
    out
}

/// A minimal DOCX; each block is (paragraph style, text), style "" for a
/// normal paragraph, "Title" or "Heading1".."Heading9" for headings.
pub fn docx(blocks: &[(&str, &str)]) -> Vec<u8> {
    let mut body = String::new();
    for (style, text) in blocks {
        body.push_str(&docx_paragraph(style, text));
    }
    docx_with_body(&body)
}

/// One `w:p` element; newlines become `w:br`, tabs `w:tab`.
pub fn docx_paragraph(style: &str, text: &str) -> String {
    let mut p = String::from("<w:p>");
    if !style.is_empty() {
        p.push_str(&format!(
            r#"<w:pPr><w:pStyle w:val="{}"/></w:pPr>"#,
            xml_escape(style)
        ));
    }
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            p.push_str("<w:r><w:br/></w:r>");
        }
        for (j, piece) in line.split('\t').enumerate() {
            if j > 0 {
                p.push_str("<w:r><w:tab/></w:r>");
            }
            p.push_str(&format!(
                r#"<w:r><w:t xml:space="preserve">{}</w:t></w:r>"#,
                xml_escape(piece)
            ));
        }
    }
    p.push_str("</w:p>");
    p
}

/// A DOCX whose `w:body` holds `body_xml` as given (tables, malformed XML...).
pub fn docx_with_body(body_xml: &str) -> Vec<u8> {
    let document = format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
            r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">"#,
            "<w:body>{}<w:sectPr/></w:body></w:document>"
        ),
        body_xml
    );
    zip(&[
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("_rels/.rels", ROOT_RELS.as_bytes()),
        ("word/document.xml", document.as_bytes()),
    ])
}

/// A deflated zip archive with the given entries.
pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, deflated()).expect("zip entry");
        w.write_all(data).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

/// A DOCX-looking archive whose `word/document.xml` inflates to 310 MiB of
/// spaces (legal XML whitespace) while the archive stays around 300 KiB.
pub fn zip_bomb() -> Vec<u8> {
    bomb(310)
}

/// A zip bomb that lies: `word/document.xml` inflates to 8 MiB but both its
/// local and central headers declare 1,000 bytes.
pub fn lying_zip_bomb() -> Vec<u8> {
    let mut bytes = bomb(8);
    let declared = 1_000u32.to_le_bytes();
    let eocd = rfind(&bytes, b"PK\x05\x06").expect("end of central directory");
    let entries = u16::from_le_bytes([bytes[eocd + 10], bytes[eocd + 11]]);
    let mut at = le32(&bytes, eocd + 16) as usize;
    for _ in 0..entries {
        let name_len = u16::from_le_bytes([bytes[at + 28], bytes[at + 29]]) as usize;
        let extra_len = u16::from_le_bytes([bytes[at + 30], bytes[at + 31]]) as usize;
        let comment_len = u16::from_le_bytes([bytes[at + 32], bytes[at + 33]]) as usize;
        let local = le32(&bytes, at + 42) as usize;
        if &bytes[at + 46..at + 46 + name_len] == b"word/document.xml" {
            bytes[at + 24..at + 28].copy_from_slice(&declared);
            bytes[local + 22..local + 26].copy_from_slice(&declared);
        }
        at += 46 + name_len + extra_len + comment_len;
    }
    bytes
}

/// A small HTML page.
pub fn html(title: &str, body_html: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{}\n</body></html>\n",
        xml_escape(title),
        body_html
    )
}

/// Comma-separated rows, quoting fields that need it.
pub fn csv(rows: &[&[&str]]) -> String {
    let mut out = String::new();
    for row in rows {
        let fields: Vec<String> = row
            .iter()
            .map(|f| {
                if f.contains([',', '"', '\n']) {
                    format!("\"{}\"", f.replace('"', "\"\""))
                } else {
                    f.to_string()
                }
            })
            .collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

const CONTENT_TYPES: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#,
    r#"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>"#,
    r#"<Default Extension="xml" ContentType="application/xml"/>"#,
    r#"<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>"#,
    "</Types>"
);

const ROOT_RELS: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>"#,
    "</Relationships>"
);

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
}

fn bomb(mib: usize) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", ROOT_RELS),
    ] {
        w.start_file(name, deflated()).expect("zip entry");
        w.write_all(data.as_bytes()).expect("zip write");
    }
    w.start_file("word/document.xml", deflated())
        .expect("zip entry");
    w.write_all(b"<?xml version=\"1.0\"?>").expect("zip write");
    // Streamed in 1 MiB pieces so building the bomb never holds it unpacked.
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..mib {
        w.write_all(&chunk).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

/// A one-page PDF whose page draws the form `/X0`, and the form draws
/// itself: a reader that follows forms without a depth limit never returns.
pub fn pdf_with_self_drawing_form() -> Vec<u8> {
    hostile_pdf(|doc, resources| {
        let form = lopdf::Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Form",
                "BBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
                "Resources" => resources,
            },
            b"BT /F1 12 Tf 72 700 Td (Again) Tj ET /X0 Do".to_vec(),
        );
        let form = doc.add_object(form);
        let content = b"BT /F1 12 Tf 72 720 Td (A page that draws a loop) Tj ET /X0 Do".to_vec();
        let contents = doc.add_object(lopdf::Stream::new(dictionary! {}, content));
        (contents.into(), dictionary! { "X0" => form })
    })
}

/// A one-page PDF of a few hundred KiB whose content stream inflates to
/// `mib` MiB: a line of text, then spaces.
pub fn pdf_deflate_bomb(mib: usize) -> Vec<u8> {
    hostile_pdf(|doc, _| {
        let packed = deflate_text_then_spaces("Deflate bomb", mib << 20);
        let stream = lopdf::Stream::new(dictionary! { "Filter" => "FlateDecode" }, packed);
        (doc.add_object(stream).into(), dictionary! {})
    })
}

/// A one-page PDF whose `/Contents` names one 1 MiB stream `times` times.
pub fn pdf_repeating_contents(times: usize) -> Vec<u8> {
    hostile_pdf(|doc, _| {
        let packed = deflate_text_then_spaces("Repeated", 1 << 20);
        let stream = lopdf::Stream::new(dictionary! { "Filter" => "FlateDecode" }, packed);
        let id = doc.add_object(stream);
        let contents: Vec<lopdf::Object> = (0..times).map(|_| id.into()).collect();
        (contents.into(), dictionary! {})
    })
}

/// A one-page PDF in Helvetica (`/F1`); `page` adds what the page draws and
/// returns its `/Contents` and `/XObject` resources, given the id of the
/// page's resource dictionary.
fn hostile_pdf(
    page: impl FnOnce(&mut lopdf::Document, lopdf::ObjectId) -> (lopdf::Object, lopdf::Dictionary),
) -> Vec<u8> {
    use lopdf::{Document, Object};
    let mut doc = Document::with_version("1.5");
    let pages = doc.new_object_id();
    let resources = doc.new_object_id();
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let (contents, xobjects) = page(&mut doc, resources);
    doc.objects.insert(
        resources,
        Object::Dictionary(dictionary! {
            "Font" => dictionary! { "F1" => font },
            "XObject" => xobjects,
        }),
    );
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages, "Contents" => contents, "Resources" => resources,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
    });
    doc.objects.insert(
        pages,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("pdf");
    out
}

/// `BT (text) Tj ET` and `spaces` spaces, zlib-compressed in 1 MiB pieces
/// so building a bomb never holds it inflated.
fn deflate_text_then_spaces(text: &str, spaces: usize) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    writeln!(e, "BT /F1 12 Tf 72 720 Td ({text}) Tj ET").expect("deflate");
    let chunk = vec![b' '; 1 << 20];
    let mut left = spaces;
    while left > 0 {
        let n = left.min(chunk.len());
        e.write_all(&chunk[..n]).expect("deflate");
        left -= n;
    }
    e.finish().expect("deflate")
}

fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Writes objects, remembering each one's byte offset for the xref table.
struct PdfWriter {
    out: Vec<u8>,
    offsets: Vec<usize>,
    security: Option<Security>,
}

impl PdfWriter {
    fn new(security: Option<Security>) -> Self {
        // The binary comment line tells transfer tools the file is not text.
        let out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
        PdfWriter {
            out,
            offsets: Vec::new(),
            security,
        }
    }

    fn object(&mut self, body: &[u8]) {
        self.offsets.push(self.out.len());
        let id = self.offsets.len();
        self.out
            .extend_from_slice(format!("{id} 0 obj\n").as_bytes());
        self.out.extend_from_slice(body);
        self.out.extend_from_slice(b"\nendobj\n");
    }

    fn finish(mut self, pages: &[&str]) -> Vec<u8> {
        let page_ids: Vec<usize> = (0..pages.len()).map(|i| 4 + 2 * i).collect();
        let kids: Vec<String> = page_ids.iter().map(|id| format!("{id} 0 R")).collect();
        self.object(b"<< /Type /Catalog /Pages 2 0 R >>");
        self.object(
            format!(
                "<< /Type /Pages /Kids [{}] /Count {} >>",
                kids.join(" "),
                pages.len()
            )
            .as_bytes(),
        );
        self.object(
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        );
        for (i, text) in pages.iter().enumerate() {
            let content_id = 5 + 2 * i;
            self.object(
                format!(
                    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
                     /Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>"
                )
                .as_bytes(),
            );
            let mut stream = content_stream(text);
            if let Some(security) = &self.security {
                stream = security.encrypt(content_id as u32, &stream);
            }
            let mut body = format!("<< /Length {} >>\nstream\n", stream.len()).into_bytes();
            body.extend_from_slice(&stream);
            body.extend_from_slice(b"\nendstream");
            self.object(&body);
        }
        let encrypt = self.security.as_ref().map(|s| s.dictionary());
        if let Some(dict) = &encrypt {
            self.object(dict.as_bytes());
        }
        let xref_at = self.out.len();
        let size = self.offsets.len() + 1;
        let mut xref = format!("xref\n0 {size}\n0000000000 65535 f \n");
        for offset in &self.offsets {
            xref.push_str(&format!("{offset:010} 00000 n \n"));
        }
        let id = hex(&FILE_ID);
        let mut trailer = format!("trailer\n<< /Size {size} /Root 1 0 R /ID [<{id}> <{id}>]");
        if encrypt.is_some() {
            trailer.push_str(&format!(" /Encrypt {} 0 R", size - 1));
        }
        trailer.push_str(&format!(" >>\nstartxref\n{xref_at}\n%%EOF\n"));
        self.out.extend_from_slice(xref.as_bytes());
        self.out.extend_from_slice(trailer.as_bytes());
        self.out
    }
}

/// The first element of the trailer's /ID; fixed so fixtures are reproducible.
const FILE_ID: [u8; 16] = *b"BA-Copilot-tests";

/// `BT ... ET` drawing the text top-down; lines shrink to fit a long page.
fn content_stream(text: &str) -> Vec<u8> {
    let lines = wrap(text, 90);
    // 680 points of usable height at 14 pt leading fits 48 lines.
    let leading = (680.0 / lines.len().max(1) as f64).min(14.0);
    let size = leading * 11.0 / 14.0;
    let mut out = format!("BT /F1 {size:.2} Tf 72 720 Td {leading:.2} TL\n").into_bytes();
    for line in &lines {
        out.push(b'(');
        out.extend(win_ansi_literal(line));
        out.extend_from_slice(b") '\n");
    }
    out.extend_from_slice(b"ET");
    out
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// The inside of a PDF string literal in WinAnsiEncoding: `\ ( )` escaped,
/// bytes above 127 as octal so the content stream stays ASCII.
fn win_ansi_literal(line: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for c in line.chars() {
        let byte = match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            _ => b'?',
        };
        match byte {
            b'\\' | b'(' | b')' => out.extend_from_slice(&[b'\\', byte]),
            0x80.. => out.extend_from_slice(format!("\\{byte:03o}").as_bytes()),
            _ => out.push(byte),
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The standard security handler, revision 2 (PDF 1.7 §7.6.3).
struct Security {
    key: [u8; 5],
    owner_entry: Vec<u8>,
    user_entry: Vec<u8>,
}

/// Permissions: everything but the reserved bits (Table 22); -44 is what
/// Acrobat writes for "no restrictions" at revision 2.
const PERMISSIONS: i32 = -44;

/// Pads or truncates a password to 32 bytes (Algorithm 2, step a).
const PASSWORD_PAD: [u8; 32] = [
    0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41, 0x64, 0x00, 0x4E, 0x56, 0xFF, 0xFA, 0x01, 0x08,
    0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68, 0x3E, 0x80, 0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A,
];

fn padded(password: &[u8]) -> Vec<u8> {
    password
        .iter()
        .chain(PASSWORD_PAD.iter())
        .take(32)
        .copied()
        .collect()
}

impl Security {
    fn new(user: &[u8], owner: &[u8]) -> Self {
        // Algorithm 3: /O is the padded user password under a key made from
        // the owner password.
        let owner_key = md5(&padded(owner));
        let owner_entry = rc4(&owner_key[..5], &padded(user));
        // Algorithm 2: the file key.
        let mut input = padded(user);
        input.extend_from_slice(&owner_entry);
        input.extend_from_slice(&PERMISSIONS.to_le_bytes());
        input.extend_from_slice(&FILE_ID);
        let digest = md5(&input);
        let mut key = [0u8; 5];
        key.copy_from_slice(&digest[..5]);
        // Algorithm 4: /U is the padding string under the file key.
        let user_entry = rc4(&key, &PASSWORD_PAD);
        Security {
            key,
            owner_entry,
            user_entry,
        }
    }

    fn dictionary(&self) -> String {
        format!(
            "<< /Filter /Standard /V 1 /R 2 /Length 40 /O <{}> /U <{}> /P {} >>",
            hex(&self.owner_entry),
            hex(&self.user_entry),
            PERMISSIONS
        )
    }

    /// Algorithm 1: each object has its own key from the file key and its id.
    fn encrypt(&self, object: u32, data: &[u8]) -> Vec<u8> {
        let mut input = self.key.to_vec();
        input.extend_from_slice(&object.to_le_bytes()[..3]);
        input.extend_from_slice(&[0, 0]);
        let digest = md5(&input);
        rc4(&digest[..10], data)
    }
}

fn rc4(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut s: Vec<u8> = (0..=255).collect();
    let mut j = 0u8;
    for i in 0..256 {
        j = j.wrapping_add(s[i]).wrapping_add(key[i % key.len()]);
        s.swap(i, j as usize);
    }
    let (mut i, mut j) = (0u8, 0u8);
    data.iter()
        .map(|byte| {
            i = i.wrapping_add(1);
            j = j.wrapping_add(s[i as usize]);
            s.swap(i as usize, j as usize);
            byte ^ s[s[i as usize].wrapping_add(s[j as usize]) as usize]
        })
        .collect()
}

/// RFC 1321.
fn md5(data: &[u8]) -> [u8; 16] {
    const SHIFTS: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
    // K[i] = floor(|sin(i + 1)| * 2^32), exact in f64 for these 64 values.
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut state: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_le_bytes());
    for block in message.chunks(64) {
        let words: Vec<u32> = block
            .chunks(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = state;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(words[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(SHIFTS[(i / 16) * 4 + i % 4]));
        }
        for (s, v) in state.iter_mut().zip([a, b, c, d]) {
            *s = s.wrapping_add(v);
        }
    }
    let mut out = [0u8; 16];
    for (chunk, word) in out.chunks_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    out
}
