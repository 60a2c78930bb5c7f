//! Text for the PDF's standard Type1 fonts: Unicode to WinAnsiEncoding
//! (Windows-1252) bytes, and the Helvetica glyph widths used to wrap lines.
//!
//! Widths are from Adobe's Core14 AFM files (Helvetica.afm,
//! Helvetica-Bold.afm), in thousandths of the font size.

/// Which of the two fonts a run of text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Font {
    Regular,
    Bold,
}

/// Helvetica, characters 32 (space) to 126 (`~`).
const REGULAR: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
    278, // ' ' to '/'
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584,
    556, // '0' to '?'
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722,
    778, // '@' to 'O'
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
    556, // 'P' to '_'
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556,
    556, // '`' to 'o'
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // 'p' to '~'
];

/// Helvetica-Bold, characters 32 (space) to 126 (`~`).
const BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278,
    278, // ' ' to '/'
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584,
    611, // '0' to '?'
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722,
    778, // '@' to 'O'
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584,
    556, // 'P' to '_'
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611,
    611, // '`' to 'o'
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, // 'p' to '~'
];

/// No glyph above 126 in either font is wider than an em (Æ, Œ, ‰, —, …
/// are exactly 1000), so counting them as 1000 never under-measures a line.
const WIDEST: u16 = 1000;

/// Width of WinAnsi-encoded `bytes` set in `font` at `size` points.
pub(super) fn width(font: Font, bytes: &[u8], size: f32) -> f32 {
    let table = match font {
        Font::Regular => &REGULAR,
        Font::Bold => &BOLD,
    };
    let units: u32 = bytes
        .iter()
        .map(|&b| match b {
            32..=126 => u32::from(table[usize::from(b - 32)]),
            _ => u32::from(WIDEST),
        })
        .sum();
    units as f32 * size / 1000.0
}

/// Encodes text as WinAnsi bytes. Newlines are kept (the layout breaks
/// lines there), tabs become spaces, invisible format characters vanish,
/// typographic characters without a WinAnsi code get an ASCII stand-in,
/// and anything else becomes `?` rather than corrupting the string.
pub(super) fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push(b'\n'),
            '\t' => out.push(b' '),
            ' '..='~' | '\u{A0}'..='\u{FF}' => out.push(c as u8),
            // Zero-width spaces and joiners, word joiner, BOM, variation selectors.
            '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{FE00}'..='\u{FE0F}' => {}
            c if c.is_control() => {}
            // Other spaces of Unicode's General Punctuation block.
            '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => out.push(b' '),
            '‐' | '‑' | '‒' | '−' => out.push(b'-'),
            '―' => out.push(0x97),
            '′' => out.push(b'\''),
            '″' => out.push(b'"'),
            '‛' => out.push(0x91),
            '‟' => out.push(0x93),
            '●' | '▪' | '◦' | '‣' | '∙' => out.push(0x95),
            '→' => out.extend_from_slice(b"->"),
            '←' => out.extend_from_slice(b"<-"),
            '≤' => out.extend_from_slice(b"<="),
            '≥' => out.extend_from_slice(b">="),
            '≠' => out.extend_from_slice(b"!="),
            _ => out.push(windows_1252(c).unwrap_or(b'?')),
        }
    }
    out
}

/// The characters Windows-1252 places in 0x80..=0x9F.
fn windows_1252(c: char) -> Option<u8> {
    Some(match c {
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8A,
        '‹' => 0x8B,
        'Œ' => 0x8C,
        'Ž' => 0x8E,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9A,
        '›' => 0x9B,
        'œ' => 0x9C,
        'ž' => 0x9E,
        'Ÿ' => 0x9F,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_1_and_typographic_characters_keep_their_own_codes() {
        assert_eq!(encode("café"), b"caf\xE9");
        assert_eq!(encode("“a” – b… •"), b"\x93a\x94 \x96 b\x85 \x95");
        assert_eq!(encode("x\u{2011}y"), b"x-y");
    }

    #[test]
    fn characters_outside_winansi_become_a_question_mark() {
        assert_eq!(encode("🚀 ✓ 中"), b"? ? ?");
        assert_eq!(encode("👍\u{FE0F}"), b"?");
        assert_eq!(encode("a\u{0}\u{7}b\tc"), b"ab c");
    }

    #[test]
    fn bold_is_never_narrower_than_regular() {
        for (r, b) in REGULAR.iter().zip(BOLD.iter()) {
            // '@' is the one glyph the bold face draws narrower.
            assert!(b >= r || (*r, *b) == (1015, 975));
        }
        assert_eq!(width(Font::Regular, b"Hello", 10.0), 22.78);
        assert_eq!(width(Font::Bold, b"\xE9", 10.0), 10.0);
    }
}
