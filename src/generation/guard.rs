//! The last line against loops. The sampler's repetition control makes a
//! loop unlikely; a text that still says six words twice is stopped there
//! (the generation is cancelled, not run to its token limit) and cut at its
//! last good sentence.
//!
//! For a stream: feed each delta to [`LoopGuard::push`]; when it returns
//! true, drop the events receiver (that cancels the generation) and keep
//! [`LoopGuard::text`]. For a whole answer: [`Answer::collect_guarded`].
//! [`super::structured::complete_json`] cuts every string of its output.

use bacopilot_content::repetition::{cut_loop, repeated_ngram, LOOP_NGRAM};
use serde_json::Value;

use super::Answer;
use crate::inference::engine::{Completion, Event};

/// Watches the text of one generation.
#[derive(Debug, Clone)]
pub struct LoopGuard {
    text: String,
    n: usize,
    looped: bool,
}

impl Default for LoopGuard {
    fn default() -> Self {
        Self::new(LOOP_NGRAM)
    }
}

impl LoopGuard {
    /// A guard that stops at the first repeated n-gram of `n` words.
    pub fn new(n: usize) -> Self {
        Self {
            text: String::new(),
            n,
            looped: false,
        }
    }

    /// Adds `delta` to the text; true once the text repeats an n-gram, when
    /// the caller should stop the generation. Deltas after that are ignored.
    pub fn push(&mut self, delta: &str) -> bool {
        if !self.looped {
            self.text.push_str(delta);
            self.looped = repeated_ngram(&self.text, self.n).is_some();
        }
        self.looped
    }

    pub fn looped(&self) -> bool {
        self.looped
    }

    /// The text so far, cut before its loop at the end of the last sentence
    /// that came before it (whole when there is no loop).
    pub fn text(&self) -> &str {
        cut_loop(&self.text, self.n)
    }

    /// Everything the model wrote, loop included (for logs and counts).
    pub fn raw(&self) -> &str {
        &self.text
    }
}

/// A whole answer read under a [`LoopGuard`].
#[derive(Debug)]
pub struct Guarded {
    /// The text, cut at its last good sentence when it looped.
    pub text: String,
    pub looped: bool,
    /// How the generation finished; `None` when the guard stopped it.
    pub done: Option<Completion>,
}

impl Answer {
    /// Reads the whole text, or stops the generation at its first loop (the
    /// receiver is dropped on return, which cancels it in the engine).
    pub async fn collect_guarded(mut self) -> Result<Guarded, String> {
        let mut guard = LoopGuard::default();
        while let Some(event) = self.events.recv().await {
            match event {
                Event::Delta(d) => {
                    if guard.push(&d) {
                        return Ok(Guarded {
                            text: guard.text().to_string(),
                            looped: true,
                            done: None,
                        });
                    }
                }
                Event::Done(done) => {
                    return Ok(Guarded {
                        text: guard.text().to_string(),
                        looped: false,
                        done: Some(done),
                    })
                }
                Event::Error(e) => return Err(e),
            }
        }
        Err("the generation stopped without finishing".into())
    }
}

/// Cuts every string value in `value` (keys stay) at its loop, so a JSON
/// field that repeated itself keeps its good sentences.
pub fn cut_strings(value: &mut Value) {
    match value {
        Value::String(s) => {
            let cut = cut_loop(s, LOOP_NGRAM);
            if cut.len() != s.len() {
                *s = cut.to_string();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(cut_strings),
        Value::Object(fields) => fields.values_mut().for_each(cut_strings),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_stops_at_the_first_repeated_six_words_and_keeps_the_good_sentences() {
        let mut g = LoopGuard::default();
        let deltas = [
            "Members may borrow two books. ",
            "The system shall be met by the SRS, ",
            "the SRS, the SRS, the SRS, the SRS, ",
            "the SRS.",
        ];
        let stopped = deltas.iter().position(|d| g.push(d));
        assert_eq!(stopped, Some(2));
        assert!(g.looped());
        assert_eq!(g.text(), "Members may borrow two books.");
        assert!(g.raw().len() > g.text().len());
    }

    #[test]
    fn a_text_without_a_loop_passes_whole() {
        let mut g = LoopGuard::default();
        for d in [
            "Loans are due ",
            "after 14 days. ",
            "Renewals are allowed once.",
        ] {
            assert!(!g.push(d));
        }
        assert_eq!(
            g.text(),
            "Loans are due after 14 days. Renewals are allowed once."
        );
    }

    #[test]
    fn strings_in_json_are_cut_and_keys_kept() {
        let mut v = serde_json::json!({
            "title": "Loans",
            "items": ["One rule. 1.1.1.1.1.1", "Due in 14 days."],
            "text": "Books are lent. Loans are due in time, loans are due in time, loans are due in time."
        });
        cut_strings(&mut v);
        assert_eq!(v["title"], "Loans");
        assert_eq!(v["items"][0], "One rule.");
        assert_eq!(v["items"][1], "Due in 14 days.");
        assert_eq!(v["text"], "Books are lent.");
    }
}
