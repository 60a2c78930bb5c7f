//! The parts of a rule sentence: its condition clause, its subject, and its
//! limit and time-window phrases.

use super::has_verb;
use super::words::*;
use crate::{facts, text};

/// A leading "If …," clause or a trailing ", when …"/" if …" clause.
pub(super) fn split_condition(body: &str) -> (Option<(&str, &str)>, &str) {
    let first = body.split_whitespace().next().unwrap_or("");
    if CONDITIONS.contains(&first.to_lowercase().as_str()) {
        if let Some(comma) = body.find(',') {
            let clause = body[first.len()..comma].trim();
            let rest = body[comma + 1..].trim();
            if !clause.is_empty() && text::words(rest).len() >= 3 {
                return (Some((first, clause)), rest);
            }
        }
    }
    for w in ["if", "when", "unless", "while", "whenever"] {
        let pat = format!(" {w} ");
        if let Some(at) = body.to_lowercase().find(&pat) {
            let head = body[..at].trim_end_matches(',').trim();
            let clause = body[at + pat.len()..].trim();
            if text::words(head).len() >= 3 && text::words(clause).len() >= 2 {
                return (Some((&body[at + 1..at + 1 + w.len()], clause)), head);
            }
        }
    }
    (None, body)
}

/// The subject of a sentence without a modal: the words before its first verb.
pub(super) fn split_subject(main: &str) -> (&str, &str) {
    let words = text::words(main);
    let keys: Vec<String> = words.iter().map(text::Word::key).collect();
    // A known verb first; a word that merely looks like one ("records") only
    // when the sentence has no known verb.
    let known = keys
        .iter()
        .skip(1)
        .position(|k| VERBS.contains(&k.as_str()));
    let guess = || {
        keys.iter()
            .enumerate()
            .skip(1)
            .find(|(i, k)| has_verb(std::slice::from_ref(k)) && !after_determiner(&keys, *i))
            .map(|(i, _)| i - 1)
    };
    match known.or_else(guess) {
        Some(i) => (
            main[..words[i + 1].start].trim(),
            main[words[i + 1].start..].trim(),
        ),
        None => ("", main),
    }
}

/// "the claims" is a noun phrase: a plural right after a determiner is not the verb.
pub(super) fn after_determiner(keys: &[String], i: usize) -> bool {
    matches!(
        keys[i - 1].as_str(),
        "the" | "a" | "an" | "all" | "each" | "every" | "any"
    )
}

/// Limit and time-window phrases: from a limit word to the next comma, clause
/// word or limit word, when the phrase holds a number or a time word.
pub fn limits(sentence: &str) -> Vec<String> {
    let words = text::words(sentence);
    let keys: Vec<String> = words.iter().map(text::Word::key).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < keys.len() {
        let hit = LIMITS.iter().find_map(|l| {
            let parts: Vec<&str> = l.split(' ').collect();
            (keys.len() >= i + parts.len()
                && keys[i..i + parts.len()]
                    .iter()
                    .zip(&parts)
                    .all(|(a, b)| a == b))
            .then_some(parts.len())
        });
        let Some(n) = hit else {
            i += 1;
            continue;
        };
        let mut j = i + n;
        while j < keys.len() && j < i + n + 5 {
            let gap = &sentence[words[j - 1].end()..words[j].start];
            if gap.contains([',', ';', '(', ')'])
                || CONDITIONS.contains(&keys[j].as_str())
                || (j > i + n && LIMITS.contains(&keys[j].as_str()))
                || CLAUSE.contains(&keys[j].as_str())
                || (j > i + n && VERBS.contains(&keys[j].as_str()))
            {
                break;
            }
            j += 1;
        }
        let phrase = &keys[i..j];
        // "at most", "within" bound whatever they hold; "for", "by", "per"
        // only bound a time or a counted unit ("for 3 years", "by 18:00"),
        // not "for a 200-person firm".
        let strong = !matches!(
            keys[i].as_str(),
            "for" | "by" | "per" | "before" | "after" | "every" | "on"
        );
        let unit = |k: &String| UNITS.contains(&k.as_str()) || TIME_WORDS.contains(&k.as_str());
        let counted = phrase
            .windows(2)
            .any(|w| facts::normalise_number(&w[0]).is_some() && unit(&w[1]))
            || phrase.iter().any(|k| k.contains(':'))
            || (matches!(keys[i].as_str(), "per" | "every" | "on") && phrase.iter().any(unit));
        let number = phrase.iter().any(|k| facts::normalise_number(k).is_some());
        let timed = counted || (strong && (number || phrase.iter().any(unit)));
        if j > i + n && timed {
            out.push(sentence[words[i].start..words[j - 1].end()].to_string());
            i = j;
        } else {
            i += n;
        }
    }
    out
}
