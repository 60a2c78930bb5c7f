//! A small tag scanner for the tests, asserting a rendered file is inert:
//! nothing in it can run, load, or lead out of the file.

/// A tag as the scanner saw it: lowercased name and attributes.
pub(crate) struct Tag {
    pub name: String,
    pub attrs: Vec<(String, String)>,
}

/// Every start tag of `markup`, in order. Panics on a `<` that starts no tag
/// or declaration: escaped text never leaves one raw, so one would mean text
/// got through as markup. Skips `<style>` bodies and `<!…>`, `<?…>` declarations.
pub(crate) fn tags(markup: &str) -> Vec<Tag> {
    let b = markup.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = markup[i..].find('<') {
        i += off + 1;
        match b.get(i) {
            Some(b'/' | b'!' | b'?') => {
                i += markup[i..].find('>').expect("unclosed tag");
                continue;
            }
            Some(c) if c.is_ascii_alphabetic() => {}
            other => panic!("raw `<` followed by {other:?} at byte {i}"),
        }
        let name = read_while(markup, &mut i, |c| {
            !c.is_ascii_whitespace() && c != b'>' && c != b'/'
        });
        let mut attrs = Vec::new();
        loop {
            read_while(markup, &mut i, |c| c.is_ascii_whitespace() || c == b'/');
            if b.get(i) == Some(&b'>') || i >= b.len() {
                break;
            }
            let attr = read_while(markup, &mut i, |c| {
                !c.is_ascii_whitespace() && c != b'=' && c != b'>' && c != b'/'
            });
            read_while(markup, &mut i, |c| c.is_ascii_whitespace());
            let mut value = String::new();
            if b.get(i) == Some(&b'=') {
                i += 1;
                read_while(markup, &mut i, |c| c.is_ascii_whitespace());
                value = match b.get(i) {
                    Some(&q @ (b'"' | b'\'')) => {
                        i += 1;
                        let v = read_while(markup, &mut i, |c| c != q);
                        i += 1;
                        v
                    }
                    _ => read_while(markup, &mut i, |c| !c.is_ascii_whitespace() && c != b'>'),
                };
            }
            attrs.push((attr.to_ascii_lowercase(), value));
        }
        let name = name.to_ascii_lowercase();
        if name == "style" {
            i += markup[i..].find("</style").expect("unclosed style");
        }
        out.push(Tag { name, attrs });
    }
    out
}

fn read_while(s: &str, i: &mut usize, keep: impl Fn(u8) -> bool) -> String {
    let start = *i;
    while *i < s.len() && keep(s.as_bytes()[*i]) {
        *i += 1;
    }
    s[start..*i].to_string()
}

/// Asserts a rendered file can run, load and reach nothing: only `allowed`
/// tags, no event handlers, sources, styles or non-anchor links, no URL
/// scheme anywhere in the bytes, a stylesheet that fetches nothing, no
/// control characters. `namespace` is the
/// one URL permitted (the SVG namespace), removed before the checks.
pub(crate) fn assert_inert(markup: &str, allowed: &[&str], namespace: Option<&str>) {
    let bytes = match namespace {
        Some(ns) => markup.replacen(ns, "", 1),
        None => markup.to_string(),
    };
    let lower = bytes.to_ascii_lowercase();
    for needle in [
        "<script",
        "<img",
        "<iframe",
        "<object",
        "<embed",
        "<link",
        "<base",
        "<foreignobject",
        "javascript:",
        "vbscript:",
        "data:",
        "http:",
        "https:",
        "src=",
        "onerror",
        "onload",
        "onmouseover",
    ] {
        assert!(!lower.contains(needle), "found {needle:?}");
    }
    // In text `url(` is just words; in a stylesheet it would fetch.
    let mut rest = lower.as_str();
    while let Some(start) = rest.find("<style>") {
        let css = &rest[start + 7..];
        let end = css.find("</style>").expect("style closed");
        for needle in ["url(", "@import", "expression(", "<", "\\"] {
            assert!(!css[..end].contains(needle), "stylesheet has {needle:?}");
        }
        rest = &css[end..];
    }
    assert!(
        !bytes.chars().any(|c| c.is_control() && c != '\n'),
        "control character left in the output"
    );
    for tag in tags(markup) {
        assert!(
            allowed.contains(&tag.name.as_str()),
            "unexpected <{}>",
            tag.name
        );
        for (name, value) in &tag.attrs {
            assert!(
                !name.starts_with("on"),
                "event handler {name} on <{}>",
                tag.name
            );
            assert!(
                !matches!(
                    name.as_str(),
                    "src" | "srcset" | "style" | "action" | "formaction" | "xlink:href"
                ),
                "{name} on <{}>",
                tag.name
            );
            // Ids and anchors are slugs; the escaper may have written an `o`
            // as a reference, which is still a slug once read.
            let slug = value.replace("&#111;", "o");
            let is_slug = |s: &str| {
                s.bytes()
                    .all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'-'))
            };
            if name == "href" {
                let anchor = slug
                    .strip_prefix("#screen-")
                    .expect("href is an in-page anchor");
                assert!(is_slug(anchor), "{value}");
            }
            if name == "id" {
                assert!(is_slug(&slug), "{value}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scanner_sees_event_handlers_behind_quotes_and_odd_spacing() {
        let t = tags("<p class='a>b'\n onClick = \"x\"/><br/>");
        assert_eq!(t[0].name, "p");
        assert_eq!(t[0].attrs[1], ("onclick".to_string(), "x".to_string()));
        assert_eq!(t[1].name, "br");
    }

    #[test]
    #[should_panic(expected = "raw `<`")]
    fn the_scanner_rejects_a_raw_angle_bracket_in_text() {
        tags("<p>1 < 2</p>");
    }
}
