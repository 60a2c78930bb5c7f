//! SentencePiece (`tokenizer.ggml.model = llama`), ported from llama.cpp's
//! `llm_tokenizer_spm_session`: starting from single characters, merge the
//! adjacent pair whose concatenation is the best-scored token until none is;
//! characters that are no token become `<0xHH>` byte tokens.
//!
//! Done directly rather than as a `tokenizers` BPE because the equivalent
//! merge list (every split of a token into two tokens) has ~515k entries for
//! Gemma 3's 262k vocabulary, to be rebuilt at every model load.

use std::collections::{BinaryHeap, HashMap};

/// SentencePiece writes spaces as U+2581 inside its pieces.
pub(super) const SPACE: char = '\u{2581}';

pub(super) struct Spm {
    token_to_id: HashMap<String, u32>,
    scores: Vec<f32>,
    byte_ids: Vec<Option<u32>>,
    unk_id: Option<u32>,
}

#[derive(Clone, Copy)]
struct Symbol {
    start: usize,
    len: usize,
    prev: Option<usize>,
    next: Option<usize>,
}

#[derive(PartialEq)]
struct Bigram {
    score: f32,
    left: usize,
    right: usize,
    size: usize,
}

impl Eq for Bigram {}

impl Ord for Bigram {
    /// Best score first; on a tie the leftmost pair, as llama.cpp's queue.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.left.cmp(&self.left))
    }
}

impl PartialOrd for Bigram {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Spm {
    /// `scores` must be as long as `tokens`.
    pub(super) fn new(tokens: &[String], scores: Vec<f32>, unk_id: Option<u32>) -> Self {
        // Later duplicates win, as in llama.cpp's `token_to_id`.
        let token_to_id: HashMap<String, u32> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        let byte_ids = (0..=255u8)
            .map(|b| {
                token_to_id
                    .get(&format!("<0x{b:02X}>"))
                    .or_else(|| token_to_id.get(&(b as char).to_string()))
                    .copied()
            })
            .collect();
        Self {
            token_to_id,
            scores,
            byte_ids,
            unk_id,
        }
    }

    /// Tokens for text whose spaces are already written as U+2581.
    pub(super) fn encode(&self, text: &str, out: &mut Vec<u32>) {
        let mut symbols: Vec<Symbol> = text
            .char_indices()
            .map(|(start, c)| Symbol {
                start,
                len: c.len_utf8(),
                prev: None,
                next: None,
            })
            .collect();
        let count = symbols.len();
        for (i, s) in symbols.iter_mut().enumerate() {
            s.prev = i.checked_sub(1);
            s.next = (i + 1 < count).then_some(i + 1);
        }
        let mut queue = BinaryHeap::new();
        for i in 1..count {
            self.push_bigram(text, &symbols, i - 1, i, &mut queue);
        }
        while let Some(bigram) = queue.pop() {
            let (left, right) = (symbols[bigram.left], symbols[bigram.right]);
            // Skip pairs made stale by an earlier merge.
            if left.len == 0 || right.len == 0 || left.len + right.len != bigram.size {
                continue;
            }
            symbols[bigram.left].len += right.len;
            symbols[bigram.left].next = right.next;
            symbols[bigram.right].len = 0;
            if let Some(next) = right.next {
                symbols[next].prev = Some(bigram.left);
            }
            if let Some(prev) = left.prev {
                self.push_bigram(text, &symbols, prev, bigram.left, &mut queue);
            }
            if let Some(next) = right.next {
                self.push_bigram(text, &symbols, bigram.left, next, &mut queue);
            }
        }
        let mut at = (count > 0).then_some(0);
        while let Some(i) = at {
            let s = symbols[i];
            let piece = &text[s.start..s.start + s.len];
            match self.token_to_id.get(piece) {
                Some(&id) => out.push(id),
                // Only single characters can be unknown: merges always form tokens.
                None => out.extend(
                    piece
                        .bytes()
                        .filter_map(|b| self.byte_ids[b as usize].or(self.unk_id)),
                ),
            }
            at = s.next;
        }
    }

    fn push_bigram(
        &self,
        text: &str,
        symbols: &[Symbol],
        left: usize,
        right: usize,
        queue: &mut BinaryHeap<Bigram>,
    ) {
        let start = symbols[left].start;
        let size = symbols[left].len + symbols[right].len;
        if let Some(&id) = self.token_to_id.get(&text[start..start + size]) {
            queue.push(Bigram {
                score: self.scores[id as usize],
                left,
                right,
                size,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `▁ab` outscores `ab`, which outscores `▁a`, so merge order decides.
    fn tiny() -> Spm {
        let tokens: Vec<String> = [
            "<unk>",
            "<0xC3>",
            "<0xA9>",
            "\u{2581}",
            "a",
            "b",
            "ab",
            "\u{2581}a",
            "\u{2581}ab",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        Spm::new(
            &tokens,
            vec![0., 0., 0., -5., -6., -7., -2., -3., -1.],
            Some(0),
        )
    }

    fn encode(spm: &Spm, text: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        spm.encode(text, &mut ids);
        ids
    }

    #[test]
    fn the_best_scored_pair_is_merged_first() {
        let spm = tiny();
        // "▁a" (-3) loses to "ab" (-2), after which "▁ab" (-1) forms.
        assert_eq!(encode(&spm, "\u{2581}ab"), vec![8]);
        assert_eq!(encode(&spm, "ab\u{2581}a"), vec![6, 7]);
    }

    #[test]
    fn characters_outside_the_vocabulary_become_byte_tokens() {
        assert_eq!(encode(&tiny(), "a\u{e9}"), vec![4, 1, 2]);
        assert_eq!(encode(&tiny(), ""), Vec::<u32>::new());
    }
}
