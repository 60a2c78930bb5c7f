//! Cutting special tokens out of raw text before the subword model runs, as
//! llama.cpp's `tokenizer_st_partition` does: control, unknown and
//! user-defined tokens written in the text become single tokens. Control and
//! unknown tokens can be left as text (llama.cpp's `parse_special = false`),
//! everywhere or inside quoted ranges; user-defined ones are always cut out.

use std::collections::HashMap;
use std::ops::Range;

pub(super) enum Fragment<'a> {
    Text(&'a str),
    Token(u32),
}

/// Finds special tokens in raw text with llama.cpp's precedence: longer
/// tokens claim their text first, each scanning left to right.
pub(super) struct SpecialMatcher {
    /// Token id and whether it is a control (or unknown) token.
    by_text: HashMap<String, (u32, bool)>,
    /// For each first byte, the lengths of specials starting with it, longest first.
    lengths: Vec<Vec<usize>>,
}

impl SpecialMatcher {
    /// `specials` are `(id, text, is_control)` in id order.
    pub(super) fn new<'a>(specials: impl Iterator<Item = (u32, &'a str, bool)>) -> Self {
        let mut by_text = HashMap::new();
        let mut lengths = vec![Vec::new(); 256];
        for (id, text, control) in specials {
            if text.is_empty() {
                continue;
            }
            // The first token with a given text wins, as the earliest id does in llama.cpp's sort.
            by_text.entry(text.to_string()).or_insert((id, control));
            lengths[text.as_bytes()[0] as usize].push(text.len());
        }
        for l in &mut lengths {
            l.sort_unstable_by(|a, b| b.cmp(a));
            l.dedup();
        }
        Self { by_text, lengths }
    }

    /// Splits `text` into special tokens and the plain text between them;
    /// control tokens are left as text where `controls` says so.
    pub(super) fn partition<'a>(&self, text: &'a str, controls: Controls<'_>) -> Vec<Fragment<'a>> {
        // Every (length, id, start) occurrence, in the order llama.cpp tries them.
        let mut found = Vec::new();
        for (start, &b) in text.as_bytes().iter().enumerate() {
            for &len in &self.lengths[b as usize] {
                if let Some(&(id, control)) = text
                    .get(start..start + len)
                    .and_then(|s| self.by_text.get(s))
                {
                    if !(control && controls.is_text(start..start + len)) {
                        found.push((len, id, start));
                    }
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

/// Where control tokens written in the text are parsed.
#[derive(Clone, Copy)]
pub(super) enum Controls<'r> {
    Parsed,
    /// Nowhere: they are text like any other.
    Text,
    /// Everywhere but where they overlap one of these sorted, disjoint byte ranges.
    TextWithin(&'r [Range<usize>]),
}

impl Controls<'_> {
    fn is_text(&self, span: Range<usize>) -> bool {
        match self {
            Self::Parsed => false,
            Self::Text => true,
            Self::TextWithin(ranges) => {
                // The first range ending after the span starts is the only one that may overlap it.
                let i = ranges.partition_point(|r| r.end <= span.start);
                ranges.get(i).is_some_and(|r| r.start < span.end)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(matcher: &SpecialMatcher, text: &str) -> Vec<String> {
        parts_with(matcher, text, Controls::Parsed)
    }

    fn parts_with(matcher: &SpecialMatcher, text: &str, controls: Controls<'_>) -> Vec<String> {
        matcher
            .partition(text, controls)
            .into_iter()
            .map(|f| match f {
                Fragment::Text(t) => format!("text:{t}"),
                Fragment::Token(id) => format!("id:{id}"),
            })
            .collect()
    }

    #[test]
    fn longer_special_tokens_claim_overlapping_text_first() {
        let matcher = SpecialMatcher::new([(0, "ab", true), (1, "bcd", true)].into_iter());
        assert_eq!(parts(&matcher, "abcdab"), ["text:a", "id:1", "id:0"]);
    }

    #[test]
    fn text_without_specials_is_one_fragment_and_empty_text_none() {
        let matcher = SpecialMatcher::new([(0, "<s>", true)].into_iter());
        assert_eq!(parts(&matcher, "a <s"), ["text:a <s"]);
        assert!(parts(&matcher, "").is_empty());
    }

    #[test]
    fn control_tokens_left_as_text_stay_in_the_text_while_user_defined_ones_are_cut_out() {
        let matcher = SpecialMatcher::new([(0, "<s>", true), (1, "  ", false)].into_iter());
        assert_eq!(
            parts_with(&matcher, "a<s>  b", Controls::Text),
            ["text:a<s>", "id:1", "text:b"]
        );
    }

    #[test]
    fn only_control_tokens_overlapping_a_quoted_range_are_text() {
        let matcher = SpecialMatcher::new([(0, "<s>", true)].into_iter());
        // Quoted: the second `<s>` (bytes 4..7); the third only touches the range's end.
        let quoted = 4..7;
        let within = Controls::TextWithin(std::slice::from_ref(&quoted));
        assert_eq!(
            parts_with(&matcher, "<s>x<s><s>", within),
            ["id:0", "text:x<s>", "id:0"]
        );
    }
}
