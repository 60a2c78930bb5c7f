//! Cutting special tokens out of raw text before the subword model runs, as
//! llama.cpp's `tokenizer_st_partition` does: control, unknown and
//! user-defined tokens written in the text become single tokens.

use std::collections::HashMap;

pub(super) enum Fragment<'a> {
    Text(&'a str),
    Token(u32),
}

/// Finds special tokens in raw text with llama.cpp's precedence: longer
/// tokens claim their text first, each scanning left to right.
pub(super) struct SpecialMatcher {
    by_text: HashMap<String, u32>,
    /// For each first byte, the lengths of specials starting with it, longest first.
    lengths: Vec<Vec<usize>>,
}

impl SpecialMatcher {
    /// `specials` are `(id, text)` in id order.
    pub(super) fn new<'a>(specials: impl Iterator<Item = (u32, &'a str)>) -> Self {
        let mut by_text = HashMap::new();
        let mut lengths = vec![Vec::new(); 256];
        for (id, text) in specials {
            if text.is_empty() {
                continue;
            }
            // The first token with a given text wins, as the earliest id does in llama.cpp's sort.
            by_text.entry(text.to_string()).or_insert(id);
            lengths[text.as_bytes()[0] as usize].push(text.len());
        }
        for l in &mut lengths {
            l.sort_unstable_by(|a, b| b.cmp(a));
            l.dedup();
        }
        Self { by_text, lengths }
    }

    /// Splits `text` into special tokens and the plain text between them.
    pub(super) fn partition<'a>(&self, text: &'a str) -> Vec<Fragment<'a>> {
        // Every (length, id, start) occurrence, in the order llama.cpp tries them.
        let mut found = Vec::new();
        for (start, &b) in text.as_bytes().iter().enumerate() {
            for &len in &self.lengths[b as usize] {
                if let Some(&id) = text
                    .get(start..start + len)
                    .and_then(|s| self.by_text.get(s))
                {
                    found.push((len, id, start));
                }
            }
        }
        if found.is_empty() {
            return if text.is_empty() {
                Vec::new()
            } else {
                vec![Fragment::Text(text)]
            };
        }
        found.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut taken = vec![false; text.len()];
        let mut chosen = Vec::new();
        for (len, id, start) in found {
            if taken[start..start + len].iter().all(|t| !t) {
                taken[start..start + len].fill(true);
                chosen.push((start, len, id));
            }
        }
        chosen.sort_unstable();
        let mut fragments = Vec::with_capacity(chosen.len() * 2 + 1);
        let mut pos = 0;
        for (start, len, id) in chosen {
            if start > pos {
                fragments.push(Fragment::Text(&text[pos..start]));
            }
            fragments.push(Fragment::Token(id));
            pos = start + len;
        }
        if pos < text.len() {
            fragments.push(Fragment::Text(&text[pos..]));
        }
        fragments
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(matcher: &SpecialMatcher, text: &str) -> Vec<String> {
        matcher
            .partition(text)
            .into_iter()
            .map(|f| match f {
                Fragment::Text(t) => format!("text:{t}"),
                Fragment::Token(id) => format!("id:{id}"),
            })
            .collect()
    }

    #[test]
    fn longer_special_tokens_claim_overlapping_text_first() {
        let matcher = SpecialMatcher::new([(0, "ab"), (1, "bcd")].into_iter());
        assert_eq!(parts(&matcher, "abcdab"), ["text:a", "id:1", "id:0"]);
    }

    #[test]
    fn text_without_specials_is_one_fragment_and_empty_text_none() {
        let matcher = SpecialMatcher::new([(0, "<s>")].into_iter());
        assert_eq!(parts(&matcher, "a <s"), ["text:a <s"]);
        assert!(parts(&matcher, "").is_empty());
    }
}
