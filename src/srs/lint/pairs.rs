//! The rules over pairs of statements: duplicates, near-duplicates and
//! contradictions.

use std::collections::BTreeSet;

use super::text::{lowercase, tokens};
use super::{Hit, Rule, Statement};

/// What the pairwise rules compare: the normalised text, its words, and
/// whether it forbids rather than requires.
pub(super) struct Key {
    pub(super) text: String,
    pub(super) words: BTreeSet<String>,
    pub(super) negated: bool,
}

pub(super) fn key(chars: &[char]) -> Key {
    let lower = lowercase(chars);
    let joined: String = lower
        .iter()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let text = joined
        .trim_end_matches(|c: char| !c.is_alphanumeric())
        .to_string();
    let toks = tokens(&lower);
    let negated = toks.iter().enumerate().any(|(k, t)| {
        t.text == "never"
            || t.text == "cannot"
            || (t.text == "not"
                && k > 0
                && ["shall", "must", "should", "will"].contains(&toks[k - 1].text.as_str()))
    });
    Key {
        text,
        words: toks.into_iter().map(|t| t.text).collect(),
        negated,
    }
}

/// Duplicates (same after normalising), else the first near-duplicate
/// (Jaccard similarity of word sets ≥ 0.8), each reported on the later
/// statement only, so a pair yields one finding.
pub(super) fn check_pairs(statements: &[Statement]) -> Vec<(usize, Hit)> {
    let keys: Vec<Option<Key>> = statements
        .iter()
        .map(|s| (!s.chars.iter().all(|c| c.is_whitespace())).then(|| key(s.chars)))
        .collect();
    let mut hits = Vec::new();
    for (j, kj) in keys.iter().enumerate() {
        let Some(kj) = kj else { continue };
        let earlier = || {
            keys[..j]
                .iter()
                .enumerate()
                .filter_map(|(i, k)| k.as_ref().map(|k| (i, k)))
        };
        let hit = |rule, message| (j, Hit::new(rule, statements[j].extent, message));
        if let Some((i, _)) = earlier().find(|(_, ki)| ki.text == kj.text) {
            hits.push(hit(
                Rule::Duplicate,
                format!("Duplicates {}.", statements[i].label),
            ));
        } else if let Some((i, ki)) = earlier().find(|(_, ki)| similar(&ki.words, &kj.words)) {
            let other = &statements[i].label;
            hits.push(if ki.negated != kj.negated {
                hit(
                    Rule::Conflict,
                    format!(
                        "May contradict {other}: they share most words but only one is negated."
                    ),
                )
            } else {
                hit(
                    Rule::NearDuplicate,
                    format!(
                        "Near-duplicate of {other}: merge them or make the difference explicit."
                    ),
                )
            });
        }
    }
    hits
}

pub(super) fn similar(a: &BTreeSet<String>, b: &BTreeSet<String>) -> bool {
    let inter = a.intersection(b).count();
    let union = a.len() + b.len() - inter;
    // Jaccard ≥ 0.8 in integers.
    union > 0 && inter * 5 >= union * 4
}
