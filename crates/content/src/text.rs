//! Sentences and words, with their byte positions in the text they came from,
//! so that a caller can quote a sentence verbatim or cut a text at one.

use std::ops::Range;

/// Abbreviations after which a full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "no", "fig", "approx", "incl",
    "dept", "st", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec", "min", "max", "cf", "al",
];

/// The sentences of `text` as byte ranges, trimmed of surrounding white space.
/// A sentence ends at `.`, `!` or `?` followed by white space (or the end),
/// unless the full stop closes a known abbreviation or sits inside a number
/// (`3.5`), and at a line break that closes a heading, a list item or a table
/// row (a line with no sentence end of its own is a sentence when the next
/// line starts a new block).
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let end = match c {
            b'.' | b'!' | b'?' => {
                // Include closing quotes and brackets.
                let mut j = i + 1;
                while j < bytes.len() && matches!(bytes[j], b'"' | b'\'' | b')' | b']') {
                    j += 1;
                }
                let at_break = j >= bytes.len() || bytes[j].is_ascii_whitespace();
                if at_break && !(c == b'.' && is_abbreviation(&text[start..i])) {
                    Some(j)
                } else {
                    None
                }
            }
            b'\n' => {
                let line_start = text[..i].rfind('\n').map_or(0, |p| p + 1);
                let next = text[i + 1..].trim_start_matches([' ', '\t']);
                let blank_next = next.starts_with('\n') || next.is_empty();
                let block_next = starts_block(next);
                let this_line = text[line_start..i].trim_start();
                if blank_next || block_next || starts_block(this_line) {
                    Some(i)
                } else {
                    None
                }
            }
            _ => None,
        };
        if let Some(end) = end {
            push_trimmed(text, start..end, &mut out);
            start = end;
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    push_trimmed(text, start..text.len(), &mut out);
    out
}

/// The sentences of `text` as string slices.
pub fn sentence_texts(text: &str) -> Vec<&str> {
    sentences(text).into_iter().map(|r| &text[r]).collect()
}

fn push_trimmed(text: &str, range: Range<usize>, out: &mut Vec<Range<usize>>) {
    let s = &text[range.clone()];
    let lead = s.len() - s.trim_start().len();
    let trail = s.len() - s.trim_end().len();
    let r = range.start + lead..range.end - trail;
    // A sentence needs at least one letter or digit.
    if r.start < r.end && text[r.clone()].chars().any(|c| c.is_alphanumeric()) {
        out.push(r);
    }
}

/// Whether the text before a full stop ends with a known abbreviation or a
/// single capital letter (an initial) or a digit followed by `.` inside a
/// number is handled by the caller's look-ahead.
fn is_abbreviation(before: &str) -> bool {
    let last = before
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    let lower = last.to_ascii_lowercase();
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return true;
    }
    // "J. Smith": one capital letter.
    let mut chars = last.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if c.is_uppercase())
}

/// Whether a line starts a Markdown block of its own: a heading, a list item,
/// a numbered item, a table row or a quotation.
fn starts_block(line: &str) -> bool {
    let l = line.trim_start();
    if l.starts_with('#') || l.starts_with('|') || l.starts_with('>') {
        return true;
    }
    if let Some(rest) = l.strip_prefix(['-', '*', '+']) {
        return rest.starts_with(' ');
    }
    let digits = l.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && digits < 4 && matches!(l.as_bytes().get(digits), Some(b'.' | b')'))
}

/// A word of a text: letters and digits, keeping the inner `'`, `-`, `.`,
/// `,`, `:` and `/` that join parts of one word or number ("don't",
/// "check-in", "3.5", "10,000", "18:00", "24/7").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word<'a> {
    pub text: &'a str,
    pub start: usize,
}

impl Word<'_> {
    pub fn end(&self) -> usize {
        self.start + self.text.len()
    }

    /// Lower case, for comparison.
    pub fn key(&self) -> String {
        self.text.to_lowercase()
    }

    pub fn is_number(&self) -> bool {
        self.text.chars().next().is_some_and(|c| c.is_ascii_digit())
    }
}

/// The words of `text`, in order.
pub fn words(text: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut iter = text.char_indices().peekable();
    while let Some((start, c)) = iter.next() {
        if !c.is_alphanumeric() {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, c)) = iter.peek() {
            if c.is_alphanumeric() {
                end = i + c.len_utf8();
                iter.next();
                continue;
            }
            // A joiner stays inside the word only between two word characters.
            let joiner = matches!(c, '\'' | '’' | '-' | '.' | ',' | ':' | '/');
            let next = text[i + c.len_utf8()..].chars().next();
            let prev_digit = text[..i]
                .chars()
                .next_back()
                .is_some_and(|p| p.is_ascii_digit());
            let next_digit = next.is_some_and(|n| n.is_ascii_digit());
            let numeric_joiner = matches!(c, '.' | ',' | ':' | '/') && prev_digit && next_digit;
            let word_joiner =
                matches!(c, '\'' | '’' | '-') && next.is_some_and(char::is_alphanumeric);
            if joiner && (numeric_joiner || word_joiner) {
                iter.next();
                continue;
            }
            break;
        }
        out.push(Word {
            text: &text[start..end],
            start,
        });
    }
    out
}

/// Lower-case word keys of `text`.
pub fn word_keys(text: &str) -> Vec<String> {
    words(text).iter().map(Word::key).collect()
}

/// Common English words that carry no fact of their own.
pub fn is_stopword(word: &str) -> bool {
    const STOP: &[&str] = &[
        "a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for",
        "with", "from", "as", "is", "are", "was", "were", "be", "been", "being", "it", "its",
        "this", "that", "these", "those", "there", "their", "they", "them", "he", "she", "we",
        "you", "your", "our", "his", "her", "i", "me", "my", "do", "does", "did", "has", "have",
        "had", "not", "no", "so", "than", "then", "also", "any", "all", "each", "which", "who",
        "whom", "what", "when", "where", "why", "how", "into", "out", "up", "about", "over",
        "under", "per", "via", "can", "could", "will", "would", "shall", "should", "may", "might",
        "must", "only", "more", "most", "other", "some", "such", "same", "very", "just", "after",
        "before", "between", "during", "within", "without", "while", "until", "upon", "both",
        "either", "neither", "nor", "own", "too", "once", "again", "here", "s",
    ];
    STOP.contains(&word.to_lowercase().as_str())
}

/// The content words of `text` (no stop words), lower case.
pub fn content_words(text: &str) -> Vec<String> {
    words(text)
        .iter()
        .map(Word::key)
        .filter(|w| !is_stopword(w))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_at_stops_but_not_inside_numbers_or_abbreviations() {
        let t = "Members may borrow 2 items, e.g. a laptop. Loans last 3.5 days! Ask Dr. Lee? Yes";
        assert_eq!(
            sentence_texts(t),
            [
                "Members may borrow 2 items, e.g. a laptop.",
                "Loans last 3.5 days!",
                "Ask Dr. Lee?",
                "Yes"
            ]
        );
    }

    #[test]
    fn markdown_lines_are_sentences_of_their_own() {
        let t = "# Loans\n- Two items per member\n- Returned by 18:00\nA line that\nwraps here.";
        assert_eq!(
            sentence_texts(t),
            [
                "# Loans",
                "- Two items per member",
                "- Returned by 18:00",
                "A line that\nwraps here."
            ]
        );
    }

    #[test]
    fn words_keep_numbers_and_joined_words_whole() {
        let w: Vec<&str> = words("Check-in at 18:00, up to 10,000 items (24/7); don't.")
            .iter()
            .map(|w| w.text)
            .collect();
        assert_eq!(
            w,
            ["Check-in", "at", "18:00", "up", "to", "10,000", "items", "24/7", "don't"]
        );
    }

    #[test]
    fn sentence_ranges_quote_the_text_verbatim() {
        let t = "  First one.   Second one.  ";
        for r in sentences(t) {
            assert!(t[r.clone()].starts_with(char::is_alphabetic));
            assert!(t[r].ends_with('.'));
        }
    }
}
