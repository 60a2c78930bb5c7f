//! Quoting sources: the sentences of retrieved passages that can stand alone
//! as a quotation (with their byte ranges, so a quote is verbatim), how much
//! of a question's vocabulary a sentence covers, and whether a sentence
//! states the kind of fact a question asks for.

use std::collections::HashMap;
use std::ops::Range;

use crate::{facts, text};

/// A sentence of one of the sources given to [`quotable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    /// Index of the source it comes from.
    pub source: usize,
    /// Byte range in that source: the quote is `&sources[source][range]`.
    pub range: Range<usize>,
}

/// Fewest words a quote needs: shorter lines are labels ("Attendees:"), not
/// statements.
const MIN_WORDS: usize = 3;

/// The sentences of `sources` fit to quote: not headings, at least
/// [`MIN_WORDS`] words, with list markers, quotation marks and table pipes
/// left out of the range.
pub fn quotable(sources: &[&str]) -> Vec<Sentence> {
    let mut out = Vec::new();
    for (source, s) in sources.iter().enumerate() {
        for r in text::sentences(s) {
            let t = &s[r.clone()];
            if t.starts_with('#') {
                continue;
            }
            let lead = t.len() - strip_marker(t).len();
            let body = strip_marker(t).trim_end_matches(['|', ' ']);
            if text::words(body).len() < MIN_WORDS {
                continue;
            }
            let start = r.start + lead;
            out.push(Sentence {
                source,
                range: start..start + body.len(),
            });
        }
    }
    out
}

/// `line` without a leading list marker, numbering, quotation mark or table pipe.
fn strip_marker(line: &str) -> &str {
    let mut l = line.trim_start();
    loop {
        let before = l;
        for m in ["- ", "* ", "+ ", "> ", "| "] {
            if let Some(rest) = l.strip_prefix(m) {
                l = rest.trim_start();
            }
        }
        let digits = l.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && digits < 4 {
            if let Some(rest) = l[digits..].strip_prefix(". ") {
                l = rest.trim_start();
            }
        }
        if l == before {
            return l;
        }
    }
}

/// Words of a question that say what kind of answer it wants, not what it
/// is about ("how *many*", "how *long*", "what *happens*").
const FRAME_WORDS: &[&str] = &[
    "many", "much", "long", "often", "kind", "type", "happen", "happens", "time", "times",
];

/// A crude English stem, enough to match "lasts" with "last", "approved"
/// with "approves" and "invoices" with "invoice": one inflection off, then
/// a final "e".
pub fn stem(word: &str) -> String {
    let mut w = word.to_lowercase();
    if w.starts_with(|c: char| c.is_ascii_digit()) || w.chars().count() < 4 {
        return w;
    }
    for suffix in ["ing", "ed", "s", "ly"] {
        if let Some(head) = w.strip_suffix(suffix) {
            if head.chars().count() >= 3 {
                w.truncate(head.len());
                break;
            }
        }
    }
    if w.chars().count() > 3 && w.ends_with('e') {
        w.pop();
    }
    w
}

/// The stems a question or sentence is about: content words, no frame words.
fn topic_stems(text: &str) -> Vec<String> {
    text::content_words(text)
        .into_iter()
        .filter(|w| !FRAME_WORDS.contains(&w.as_str()))
        .map(|w| stem(&w))
        .collect()
}

/// How rare each stem is among a set of sentences: a word every sentence
/// uses (the document's topic) tells less about which one answers.
pub struct Rarity {
    frequency: HashMap<String, usize>,
    sentences: usize,
}

impl Rarity {
    pub fn new<'a>(sentences: impl IntoIterator<Item = &'a str>) -> Self {
        let mut frequency: HashMap<String, usize> = HashMap::new();
        let mut count = 0;
        for s in sentences {
            count += 1;
            let mut stems = topic_stems(s);
            stems.sort();
            stems.dedup();
            for t in stems {
                *frequency.entry(t).or_default() += 1;
            }
        }
        Self {
            frequency,
            sentences: count,
        }
    }

    /// Inverse sentence frequency: ln(1 + n / (1 + df)). A question word no
    /// sentence has weighs most, so a question about something the sources
    /// never mention covers little of any sentence.
    fn weight(&self, stem: &str) -> f32 {
        let df = self.frequency.get(stem).copied().unwrap_or(0);
        (1.0 + self.sentences as f32 / (1.0 + df as f32)).ln()
    }

    /// The share (0–1) of `question`'s topic words, weighted by rarity, that
    /// `sentence` contains.
    pub fn coverage(&self, question: &str, sentence: &str) -> f32 {
        let mut asked = topic_stems(question);
        asked.sort();
        asked.dedup();
        if asked.is_empty() {
            return 0.0;
        }
        let has: Vec<String> = topic_stems(sentence);
        let (mut found, mut total) = (0.0, 0.0);
        for t in &asked {
            let w = self.weight(t);
            total += w;
            if has.contains(t) {
                found += w;
            }
        }
        found / total
    }
}

/// Whether `question` asks for a quantity, a time or a day ("how many",
/// "how long", "when", "at what time", "on which day"), which only a
/// sentence stating one can answer.
pub fn asks_for_quantity(question: &str) -> bool {
    let keys = text::word_keys(question);
    let pair = |a: &str, b: &str| keys.windows(2).any(|w| w[0] == a && w[1] == b);
    keys.first().is_some_and(|w| w == "when")
        || ["many", "much", "long", "often", "quickly", "soon"]
            .iter()
            .any(|w| pair("how", w))
        || pair("what", "time")
        || pair("which", "day")
        || pair("what", "day")
        || pair("what", "date")
}

const CALENDAR_WORDS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "daily",
    "weekly",
    "monthly",
    "yearly",
    "annually",
    "hourly",
    "fortnightly",
    "quarterly",
    "quarter",
    "week",
    "month",
    "year",
    "weekday",
    "weekdays",
    "weekend",
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Whether `sentence` states a number (digits or number words), a weekday,
/// a month or a period ("every quarter", "weekly").
pub fn states_quantity(sentence: &str) -> bool {
    !facts::numbers(sentence).is_empty()
        || text::word_keys(sentence)
            .iter()
            .any(|w| CALENDAR_WORDS.contains(&w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_verbatim_ranges_without_headings_markers_or_labels() {
        let chunk = "## Loans\n\n- Each member may borrow at most 2 tools.\n- A loan lasts 7 days.\nAttendees: Priya.\n1. Reservations open on Monday.";
        let sentences = quotable(&[chunk]);
        let texts: Vec<&str> = sentences.iter().map(|s| &chunk[s.range.clone()]).collect();
        assert_eq!(
            texts,
            [
                "Each member may borrow at most 2 tools.",
                "A loan lasts 7 days.",
                "Reservations open on Monday."
            ]
        );
    }

    #[test]
    fn a_period_in_words_is_a_quantity() {
        assert!(states_quantity(
            "Line managers review their team's access every quarter."
        ));
        assert!(states_quantity("The report is sent fortnightly."));
        assert!(!states_quantity(
            "Line managers review their team's access."
        ));
    }

    #[test]
    fn table_rows_lose_their_pipes() {
        let chunk = "| The export runs every 15 minutes |\n";
        let s = &quotable(&[chunk])[0];
        assert_eq!(&chunk[s.range.clone()], "The export runs every 15 minutes");
    }

    #[test]
    fn coverage_prefers_the_sentence_with_the_rare_question_words() {
        let sentences = [
            "A loan lasts 7 days and can be extended once.",
            "Each member may borrow at most 2 tools at the same time.",
            "Members log in with their membership number.",
        ];
        let rarity = Rarity::new(sentences);
        let q = "How long does a loan last?";
        assert!(rarity.coverage(q, sentences[0]) > 0.99);
        assert_eq!(rarity.coverage(q, sentences[1]), 0.0);
        // A question about something no sentence mentions covers little.
        let fee = rarity.coverage("Which payment methods do members use?", sentences[2]);
        assert!(fee < 0.3, "{fee}");
    }

    #[test]
    fn stems_match_inflections_but_not_numbers() {
        assert_eq!(stem("lasts"), stem("last"));
        assert_eq!(stem("Invoices"), stem("invoice"));
        assert_eq!(stem("approved"), stem("approves"));
        assert_eq!(stem("release"), stem("released"));
        assert_eq!(stem("100s"), "100s");
    }

    #[test]
    fn a_quantity_question_needs_a_sentence_with_a_quantity() {
        assert!(asks_for_quantity("How many tools can a member borrow?"));
        assert!(asks_for_quantity("When do reservations open?"));
        assert!(asks_for_quantity("On which day is the payment run?"));
        assert!(!asks_for_quantity("Who may borrow power tools?"));
        assert!(states_quantity("A loan can be extended once."));
        assert!(states_quantity("Teams meet on Tuesday."));
        assert!(!states_quantity(
            "The finance team handles supplier invoices."
        ));
    }
}
