//! Loops: a text that says the same words again. Small models fall into them
//! ("the S. The S. The S."), so the product detects them, cuts a text at its
//! last good sentence, and the linter counts what is left.

use std::collections::HashMap;

use crate::text::{self, Word};

/// The n-gram length the product calls a loop by default: six words said
/// twice in one text is not how people write.
pub const LOOP_NGRAM: usize = 6;

/// Where a text first repeats an n-gram of words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeat {
    /// The repeated words, lower case, joined by spaces.
    pub gram: String,
    /// Byte offset of the first occurrence.
    pub first: usize,
    /// Byte offset of the second occurrence.
    pub second: usize,
}

/// The first n-gram of `n` words that `text` says twice (compared in lower
/// case), by the position of its second occurrence. Occurrences may overlap
/// ("a a a a a a a" repeats "a a a a a a").
pub fn repeated_ngram(text: &str, n: usize) -> Option<Repeat> {
    let words = text::words(text);
    repeated_in(&words, n)
}

fn repeated_in(words: &[Word<'_>], n: usize) -> Option<Repeat> {
    if n == 0 || words.len() < n + 1 {
        return None;
    }
    let keys: Vec<String> = words.iter().map(Word::key).collect();
    let mut seen: HashMap<&[String], usize> = HashMap::new();
    for i in 0..=keys.len() - n {
        let gram = &keys[i..i + n];
        if let Some(&first) = seen.get(gram) {
            return Some(Repeat {
                gram: gram.join(" "),
                first: words[first].start,
                second: words[i].start,
            });
        }
        seen.insert(gram, i);
    }
    None
}

/// A run of numbering with no words ("1.1.1.1.1", "2.2.2.2"), or one short
/// word said four or more times in a row ("S. S. S. S.").
pub fn numbering_run(text: &str) -> bool {
    let words = text::words(text);
    if words
        .iter()
        .any(|w| w.is_number() && w.text.split('.').filter(|p| !p.is_empty()).count() >= 4)
    {
        return true;
    }
    words.windows(4).any(|w| {
        let k = w[0].key();
        w.iter().all(|x| x.key() == k)
    })
}

/// Whether a text is degenerate: it repeats a six-word n-gram, runs a
/// numbering or one word, or (at twenty words or more) fewer than a third of
/// its words are different.
pub fn is_degenerate(text: &str) -> bool {
    if repeated_ngram(text, LOOP_NGRAM).is_some() || numbering_run(text) {
        return true;
    }
    let keys = text::word_keys(text);
    if keys.len() >= 20 {
        let distinct: std::collections::HashSet<&String> = keys.iter().collect();
        return distinct.len() * 3 < keys.len();
    }
    false
}

/// `text` cut before its first loop: at the end of the last sentence that ends
/// before the repeated n-gram's second occurrence, or, when no sentence ends
/// before it, just before the second occurrence. A text with no repeated
/// n-gram of `n` words and no numbering run comes back whole.
pub fn cut_loop(text: &str, n: usize) -> &str {
    let words = text::words(text);
    let mut at = repeated_in(&words, n).map(|r| r.second);
    // A numbering or one-word run: cut where the run starts.
    if let Some(i) = words.windows(4).position(|w| {
        let k = w[0].key();
        w.iter().all(|x| x.key() == k)
    }) {
        at = Some(at.map_or(words[i + 1].start, |a| a.min(words[i + 1].start)));
    }
    if let Some(w) = words
        .iter()
        .find(|w| w.is_number() && w.text.split('.').filter(|p| !p.is_empty()).count() >= 4)
    {
        at = Some(at.map_or(w.start, |a| a.min(w.start)));
    }
    let Some(at) = at else { return text };
    let sentences = text::sentences(text);
    let good_end = sentences
        .iter()
        .filter(|s| s.end <= at)
        .map(|s| s.end)
        .next_back();
    match good_end {
        Some(end) => text[..end].trim_end(),
        None => text[..at].trim_end(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_repeated_six_gram() {
        let t = "The system shall be met by the SRS, the SRS, the SRS, the SRS, the SRS.";
        let r = repeated_ngram(t, 6).unwrap();
        assert_eq!(r.gram, "the srs the srs the srs");
        assert!(r.first < r.second);
        assert!(repeated_ngram("Members may borrow two items for a week.", 6).is_none());
    }

    #[test]
    fn numbering_and_word_runs_are_loops() {
        assert!(numbering_run("1.1.1.1.1.1"));
        assert!(numbering_run("The S. The S. S. S. S. S."));
        assert!(!numbering_run("See section 1.2 and 3.4.1 for details."));
        assert!(is_degenerate(
            "2023-2024 calendar year 2023-2024 calendar year 2023-2024 calendar year"
        ));
        assert!(!is_degenerate(
            "Members may borrow at most two items at a time."
        ));
    }

    #[test]
    fn a_loop_is_cut_at_the_last_good_sentence() {
        let t = "Loans last seven days. Members pay a fee. The fee is paid at the desk when \
                 the item is returned late, the fee is paid at the desk when the item";
        assert_eq!(cut_loop(t, 6), "Loans last seven days. Members pay a fee.");
        assert_eq!(
            cut_loop("No loop here. None at all.", 6),
            "No loop here. None at all."
        );
        assert_eq!(cut_loop("1.1.1.1.1.1.1", 6), "");
        assert_eq!(cut_loop("Section text. 1.1.1.1.1", 6), "Section text.");
    }
}
