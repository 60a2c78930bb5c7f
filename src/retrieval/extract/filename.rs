//! Display names for uploads. Files are stored by id, so the name is never a
//! path; it must still not look like one (no separators, NUL, "." or "..").

/// Longest name kept, in bytes: well under the 255-byte limit of common
/// filesystems, should a name ever end up in one.
const MAX_BYTES: usize = 200;

/// Longest extension, in bytes, that truncation tries to keep.
const MAX_EXTENSION_BYTES: usize = 16;

const FALLBACK: &str = "document";

/// The last path component with control and invisible formatting characters
/// removed, whitespace collapsed, leading and trailing dots and spaces
/// stripped, at most 200 bytes; "document" if nothing is left.
pub fn sanitize_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let visible: String = last.chars().filter(|c| !is_hidden(*c)).collect();
    let collapsed = visible.split_whitespace().collect::<Vec<_>>().join(" ");
    let trimmed = trim_dots_and_spaces(&collapsed);
    let capped = cap(trimmed);
    if capped.is_empty() {
        FALLBACK.to_string()
    } else {
        capped
    }
}

/// Control characters, plus zero-width and bidirectional formatting marks that
/// can make "invoice\u{202E}fdp.exe" display as "invoiceexe.pdf".
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

fn trim_dots_and_spaces(s: &str) -> &str {
    s.trim_matches(|c| c == '.' || c == ' ')
}

fn cap(name: &str) -> String {
    if name.len() <= MAX_BYTES {
        return name.to_string();
    }
    let extension = name
        .rfind('.')
        .map(|dot| &name[dot..])
        .filter(|ext| ext.len() <= MAX_EXTENSION_BYTES && !ext.contains(' '))
        .unwrap_or("");
    let stem = trim_dots_and_spaces(floor(name, MAX_BYTES - extension.len()));
    format!("{stem}{extension}")
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
fn floor(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_path_component_survives() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("C:\\Windows\\x.pdf"), "x.pdf");
        assert_eq!(sanitize_filename("/abs/path.md"), "path.md");
    }

    #[test]
    fn nul_and_control_characters_are_dropped() {
        assert_eq!(sanitize_filename("a\0b.txt"), "ab.txt");
        assert_eq!(sanitize_filename("re\u{7}port\r\n.pdf"), "report.pdf");
        assert_eq!(
            sanitize_filename("invoice\u{202E}fdp.exe"),
            "invoicefdp.exe"
        );
    }

    #[test]
    fn dot_names_and_blank_names_become_document() {
        assert_eq!(sanitize_filename(".."), "document");
        assert_eq!(sanitize_filename("."), "document");
        assert_eq!(sanitize_filename("   "), "document");
        assert_eq!(sanitize_filename("dir/"), "document");
        assert_eq!(sanitize_filename(""), "document");
    }

    #[test]
    fn leading_and_trailing_dots_and_spaces_go_and_inner_whitespace_collapses() {
        assert_eq!(
            sanitize_filename(" ..hidden  report\t v2.pdf.. "),
            "hidden report v2.pdf"
        );
    }

    #[test]
    fn a_500_byte_name_is_cut_to_200_bytes_keeping_its_extension() {
        let name = format!("{}.docx", "é".repeat(250));
        let clean = sanitize_filename(&name);
        assert!(clean.len() <= 200, "{}", clean.len());
        assert!(clean.ends_with("é.docx"), "{clean}");
        let plain = "x".repeat(500);
        assert_eq!(sanitize_filename(&plain).len(), 200);
    }

    #[test]
    fn a_sanitized_name_never_contains_a_separator_or_nul() {
        for name in ["a/b\\c\0d", "\\\\server\\share\\..", "x\0/\0.."] {
            let clean = sanitize_filename(name);
            assert!(!clean.contains(['/', '\\', '\0']), "{clean:?}");
            assert!(clean != "." && clean != "..", "{clean:?}");
        }
    }
}
