//! The checkable facts of a text: its numbers (with number words read as
//! digits) and its names (capitalised words that do not start a sentence,
//! and acronyms). An answer or a requirement may only state the numbers and
//! names its sources state.

use std::collections::HashSet;

use crate::text;

const NUMBER_WORDS: &[(&str, &str)] = &[
    ("zero", "0"),
    ("one", "1"),
    ("two", "2"),
    ("three", "3"),
    ("four", "4"),
    ("five", "5"),
    ("six", "6"),
    ("seven", "7"),
    ("eight", "8"),
    ("nine", "9"),
    ("ten", "10"),
    ("eleven", "11"),
    ("twelve", "12"),
    ("fifteen", "15"),
    ("twenty", "20"),
    ("thirty", "30"),
    ("forty", "40"),
    ("fifty", "50"),
    ("hundred", "100"),
    ("thousand", "1000"),
    ("once", "1"),
    ("twice", "2"),
    ("single", "1"),
    ("double", "2"),
    ("half", "0.5"),
];

/// A number as written, normalised for comparison: thousands separators
/// dropped ("10,000" → "10000"), number words read as digits ("two" → "2"),
/// trailing ".0" and leading zeros of plain integers dropped ("09" → "9",
/// but "09:00" stays a time).
pub fn normalise_number(word: &str) -> Option<String> {
    let lower = word.to_lowercase();
    if let Some((_, d)) = NUMBER_WORDS.iter().find(|(w, _)| *w == lower) {
        return Some((*d).to_string());
    }
    if !lower.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    // Keep the numeric head of "3pm", "20%", "5kg": the number is the fact.
    let head: String = lower
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ':' | '/'))
        .collect();
    let mut n = head.replace(',', "");
    if n.contains(':') || n.contains('/') {
        return Some(n);
    }
    if let Some(stripped) = n.strip_suffix(".0") {
        n = stripped.to_string();
    }
    if !n.contains('.') {
        let trimmed = n.trim_start_matches('0');
        n = if trimmed.is_empty() {
            "0".into()
        } else {
            trimmed.into()
        };
    }
    Some(n)
}

/// The numbers `text` states, normalised, in order (repeats kept).
pub fn numbers(text: &str) -> Vec<String> {
    text::words(text)
        .iter()
        .filter_map(|w| normalise_number(w.text))
        .collect()
}

/// The numbers of `text` that none of `sources` states.
pub fn unsupported_numbers(text: &str, sources: &[&str]) -> Vec<String> {
    let known: HashSet<String> = sources.iter().flat_map(|s| numbers(s)).collect();
    let mut out: Vec<String> = numbers(text)
        .into_iter()
        .filter(|n| !known.contains(n) && !is_trivial_number(n))
        .collect();
    out.dedup();
    out
}

/// "1" is implied by "a", "an", "each" and "per": it is not an invented fact.
fn is_trivial_number(n: &str) -> bool {
    n == "1"
}

/// Acronyms: words of two or more letters, all capitals ("SRS", "IOLW",
/// "GDPR"), digits allowed after the first letter ("ISO27001" is not one).
pub fn acronyms(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text::words(text)
        .iter()
        .map(|w| w.text.trim_end_matches(['\'', '’', 's']).to_string())
        .filter(|w| {
            w.chars().count() >= 2
                && w.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && w.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Names: acronyms, and capitalised words that do not start their sentence
/// or line ("… at the Riverside Library" gives "Riverside", "Library").
pub fn names(text: &str) -> Vec<String> {
    let mut out = acronyms(text);
    for range in text::sentences(text) {
        let sentence = &text[range];
        for (i, w) in text::words(sentence).iter().enumerate() {
            let first = w.text.chars().next().unwrap_or(' ');
            if i == 0 || !first.is_uppercase() || text::is_stopword(w.text) {
                continue;
            }
            // After a colon or a bullet a capital starts a phrase, not a name.
            let before = sentence[..w.start].trim_end();
            if before.ends_with([':', '-', '*', '(', '"', '|']) {
                continue;
            }
            out.push(w.text.to_string());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The names of `text` that no source mentions (compared in lower case, so a
/// source's "library" supports the text's "Library"), leaving out the words
/// of `allowed` (the product's own vocabulary: "Given", "System", …).
pub fn unsupported_names(text: &str, sources: &[&str], allowed: &[&str]) -> Vec<String> {
    // A source's "DVDs" supports the acronym "DVD".
    let known: HashSet<String> = sources
        .iter()
        .flat_map(|s| text::word_keys(s).into_iter().chain(acronyms(s)))
        .chain(allowed.iter().map(|a| a.to_lowercase()))
        .map(|k| k.to_lowercase())
        .collect();
    names(text)
        .into_iter()
        .filter(|n| !known.contains(&n.to_lowercase()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_acronym_in_the_plural_supports_it_in_the_singular() {
        let sources = ["DVDs are lent for 7 days."];
        assert!(unsupported_names("A DVD loan lasts 7 days.", &sources, &[]).is_empty());
        assert_eq!(
            unsupported_names("The IOLW lends DVDs.", &sources, &[]),
            ["IOLW"]
        );
    }

    #[test]
    fn numbers_are_compared_as_values() {
        assert_eq!(
            numbers("Up to two items, 10,000 members, 09 days at 18:00, 20% off, 3pm"),
            ["2", "10000", "9", "18:00", "20", "3"]
        );
    }

    #[test]
    fn an_invented_number_is_found() {
        let sources = ["Each member may borrow at most 2 laptops, for three days."];
        assert_eq!(
            unsupported_numbers("A maximum of 10 laptops.", &sources),
            ["10"]
        );
        assert!(unsupported_numbers("At most two laptops for 3 days.", &sources).is_empty());
    }

    #[test]
    fn invented_names_and_acronyms_are_found() {
        let sources = ["The library lends laptops to members of Riverside College."];
        let text =
            "The International Library of the World (IOLW) lends laptops to Riverside members.";
        assert_eq!(
            unsupported_names(text, &sources, &[]),
            ["IOLW", "International", "World"]
        );
    }
}
