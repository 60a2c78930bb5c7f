//! How deep the elements of an HTML page nest, read from its tags alone
//! without building a tree. The HTML parser looks through the open elements
//! for every tag it meets, so its time grows with depth × tags, quadratic
//! for a page of nothing but nested `<div>`s. Such a page is refused first.

/// Deepest nesting of elements read. Real pages nest a few dozen deep;
/// Chromium's parser stops nesting at the same 512.
pub(super) const MAX_DEPTH: usize = 512;

/// Elements with no end tag.
const VOID: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// Elements a following sibling closes (`<p>a<p>b`), so they never pile up.
const SELF_CLOSING: [&str; 16] = [
    "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "rb", "rt", "rtc", "rp",
    "thead", "tbody", "tfoot",
];

/// Elements whose content is not markup: their tags do not count.
const RAW_TEXT: [&str; 8] = [
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes",
];

/// The deepest nesting of elements in `source`. Elements that close
/// themselves or their siblings do not count.
pub(super) fn nesting_depth(source: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut rest = source;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt + 1..];
        if let Some(after) = rest.strip_prefix("!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let closing = rest.starts_with('/');
        let name_start = usize::from(closing);
        let name_len = rest[name_start..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len() - name_start);
        if name_len == 0 {
            continue;
        }
        let name = rest[name_start..name_start + name_len].to_ascii_lowercase();
        let end = tag_end(rest);
        let self_closed = rest[..end].ends_with('/');
        rest = &rest[(end + 1).min(rest.len())..];
        if VOID.contains(&name.as_str()) || SELF_CLOSING.contains(&name.as_str()) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else if !self_closed {
            depth += 1;
            deepest = deepest.max(depth);
            if RAW_TEXT.contains(&name.as_str()) {
                rest = skip_raw_text(rest, &name);
                depth -= 1;
            }
        }
    }
    deepest
}

/// Where the tag that `rest` starts in ends (its `>`), quotes respected.
fn tag_end(rest: &str) -> usize {
    let mut quote = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return i,
            _ => {}
        }
    }
    rest.len()
}

/// `rest` after the end tag of the raw-text element `name` (any case).
fn skip_raw_text<'a>(rest: &'a str, name: &str) -> &'a str {
    let mut from = 0;
    while let Some(at) = rest[from..].find("</") {
        let start = from + at;
        let candidate = rest.as_bytes().get(start + 2..start + 2 + name.len());
        if candidate.is_some_and(|c| c.eq_ignore_ascii_case(name.as_bytes())) {
            let after = &rest[start..];
            return &after[(tag_end(after) + 1).min(after.len())..];
        }
        from = start + 2;
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_counted_on_elements_that_stay_open() {
        let many_paragraphs = "<p>one".repeat(5_000);
        assert_eq!(nesting_depth(&many_paragraphs), 0);
        assert_eq!(
            nesting_depth("<div><br><img src='a>b'/><div></div></div>"),
            2
        );
        assert_eq!(nesting_depth("<!-- <div><div> --><b>x</b>"), 1);
        let script = format!("<script>{}</script><i></i>", "<div>".repeat(600));
        assert_eq!(nesting_depth(&script), 1);
    }
}
