//! The generation loop. Each chat model owns one engine thread that runs its
//! forward passes; HTTP handlers send it a [`GenerateRequest`] carrying a reply
//! channel and read [`Event`]s back. Nothing here runs on the async runtime.
//!
//! Requests are served one at a time, in arrival order. A request whose reply
//! channel is closed (the client went away) is dropped before its next token.

use std::sync::Arc;
use std::time::Instant;

use candle_core::Device;
use tokio::sync::{mpsc, OwnedSemaphorePermit};

use super::constraint::{Allowed, Constraint};
use super::model::Weights;
use super::sampler::{Sampler, SamplingParams};
use super::tokenizer::GgufTokenizer;
use crate::metrics::Metrics;

/// What a caller asks for; the prompt is already tokenized.
pub struct Generation {
    pub prompt: Vec<u32>,
    pub max_tokens: usize,
    pub stop: Vec<String>,
    /// Keep generating past end-of-sequence tokens (benchmarks).
    pub ignore_eos: bool,
    pub sampling: SamplingParams,
    /// Compiled with [`super::chat_model::ChatModel::compile_constraint`]; `None` generates freely.
    pub constraint: Option<Constraint>,
}

/// A [`Generation`] admitted to the queue, with its reply channel.
pub struct GenerateRequest {
    pub generation: Generation,
    pub events: mpsc::UnboundedSender<Event>,
    /// Admission slot, released when this request is finished.
    pub permit: OwnedSemaphorePermit,
    pub admitted_at: Instant,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Newly generated text (never a partial UTF-8 character, never part of a stop sequence).
    Delta(String),
    Done(Completion),
    Error(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FinishReason {
    Stop,
    Length,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub finish_reason: FinishReason,
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    pub prefill_seconds: f64,
    pub decode_seconds: f64,
}

pub struct EngineLoop {
    pub model_id: String,
    pub weights: Weights,
    pub device: Device,
    pub tokenizer: Arc<GgufTokenizer>,
    pub metrics: Arc<Metrics>,
}

impl EngineLoop {
    /// Serves requests until every sender of `queue` is dropped.
    pub fn run(mut self, mut queue: mpsc::UnboundedReceiver<GenerateRequest>) {
        while let Some(mut req) = queue.blocking_recv() {
            // A panic inside candle must cost one request, not the model: the
            // next request starts from position 0 and resets the KV cache.
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.generate(&mut req)))
                    .unwrap_or_else(|_| Err(candle_core::Error::Msg("the model panicked".into())));
            match outcome {
                Ok((done, cancelled)) => {
                    self.metrics
                        .add_tokens(done.prompt_tokens, done.completion_tokens);
                    if cancelled {
                        self.metrics.generation_cancelled();
                        tracing::info!(model = %self.model_id, tokens = done.completion_tokens, "client went away; generation stopped");
                    } else {
                        let _ = req.events.send(Event::Done(done));
                    }
                }
                Err(e) => {
                    tracing::error!(model = %self.model_id, error = %e, "generation failed");
                    let _ = req
                        .events
                        .send(Event::Error(format!("generation failed: {e}")));
                }
            }
            self.metrics.queue_changed(-1);
        }
    }

    /// Runs one request; the flag is true when the client went away before the end.
    fn generate(&mut self, req: &mut GenerateRequest) -> candle_core::Result<(Completion, bool)> {
        let GenerateRequest {
            generation: g,
            events,
            admitted_at,
            ..
        } = req;
        let start = Instant::now();
        if events.is_closed() {
            let done = Completion {
                finish_reason: FinishReason::Stop,
                prompt_tokens: 0,
                completion_tokens: 0,
                prefill_seconds: 0.0,
                decode_seconds: 0.0,
            };
            return Ok((done, true));
        }
        let mut sampler = Sampler::new(g.sampling.clone());
        let mut text = TextTracker::new(&g.stop);
        let mut generated: Vec<u32> = Vec::new();
        let mut logits = self.weights.forward(&g.prompt, 0, &self.device)?;
        let prefill_seconds = start.elapsed().as_secs_f64();
        let decode_start = Instant::now();
        let mut last_token_at = Instant::now();
        let mut finish = FinishReason::Length;
        let mut cancelled = false;

        while generated.len() < g.max_tokens {
            if events.is_closed() {
                cancelled = true;
                break;
            }
            let mut values = logits.to_vec1::<f32>()?;
            if let Some(constraint) = g.constraint.as_mut() {
                match constraint.allowed().map_err(constraint_error)? {
                    // The output is complete; only ending is left.
                    Allowed::Finished => {
                        finish = FinishReason::Stop;
                        break;
                    }
                    Allowed::Tokens { mask, eos } => {
                        Constraint::apply(&mut values, &mask, eos, self.tokenizer.stop_ids());
                    }
                }
            }
            let token = sampler.sample(&mut values, &generated);
            let now = Instant::now();
            if generated.is_empty() {
                self.metrics.observe_ttft(
                    &self.model_id,
                    now.duration_since(*admitted_at).as_secs_f64(),
                );
            } else {
                self.metrics.observe_token_latency(
                    &self.model_id,
                    now.duration_since(last_token_at).as_secs_f64(),
                );
            }
            last_token_at = now;
            // Under a constraint a stop token is only sampled where the grammar may end.
            let may_stop = !g.ignore_eos || g.constraint.is_some();
            if may_stop && self.tokenizer.stop_ids().contains(&token) {
                finish = FinishReason::Stop;
                break;
            }
            if let Some(constraint) = g.constraint.as_mut() {
                constraint.commit(token).map_err(constraint_error)?;
            }
            generated.push(token);
            let decoded = self
                .tokenizer
                .decode(&generated, true)
                .map_err(candle_core::Error::wrap)?;
            let (delta, stopped) = text.advance(&decoded);
            if !delta.is_empty() && events.send(Event::Delta(delta)).is_err() {
                cancelled = true;
                break;
            }
            if stopped {
                finish = FinishReason::Stop;
                break;
            }
            if generated.len() < g.max_tokens {
                let pos = g.prompt.len() + generated.len() - 1;
                logits = self.weights.forward(&[token], pos, &self.device)?;
            }
        }
        if !cancelled && !text.stopped {
            let rest = text.flush();
            if !rest.is_empty() {
                let _ = events.send(Event::Delta(rest));
            }
        }
        let done = Completion {
            finish_reason: finish,
            prompt_tokens: g.prompt.len(),
            completion_tokens: generated.len(),
            prefill_seconds,
            decode_seconds: decode_start.elapsed().as_secs_f64(),
        };
        Ok((done, cancelled))
    }
}

fn constraint_error(e: String) -> candle_core::Error {
    candle_core::Error::Msg(format!("structured output: {e}"))
}

/// Turns the decoded text of all generated tokens into deltas that are safe to
/// send: whole UTF-8 characters only, with any tail that could begin a stop
/// sequence held back until it is known not to.
pub struct TextTracker<'a> {
    stop: &'a [String],
    emitted: usize,
    latest: String,
    pub stopped: bool,
}

impl<'a> TextTracker<'a> {
    pub fn new(stop: &'a [String]) -> Self {
        Self {
            stop,
            emitted: 0,
            latest: String::new(),
            stopped: false,
        }
    }

    /// Takes the full decoded text so far; returns the new safe delta and whether
    /// a stop sequence was reached (the text before it is in the delta).
    pub fn advance(&mut self, decoded: &str) -> (String, bool) {
        // A trailing U+FFFD is an incomplete multi-byte character: wait for more bytes.
        if decoded.ends_with('\u{FFFD}') {
            return (String::new(), false);
        }
        self.latest = decoded.to_string();
        // A stop sequence may straddle what was held back, never what was emitted.
        let search_from = self.emitted;
        let found = self
            .stop
            .iter()
            .filter_map(|s| {
                decoded[search_from..]
                    .find(s.as_str())
                    .map(|i| search_from + i)
            })
            .min();
        if let Some(end) = found {
            let delta = decoded[self.emitted..end].to_string();
            self.emitted = end;
            self.stopped = true;
            return (delta, true);
        }
        let held = self
            .stop
            .iter()
            .map(|s| longest_suffix_prefix(&decoded[self.emitted..], s))
            .max()
            .unwrap_or(0);
        let safe = decoded.len() - held;
        let delta = decoded[self.emitted..safe].to_string();
        self.emitted = safe;
        (delta, false)
    }

    /// Whatever was held back, once generation has ended without a stop sequence.
    pub fn flush(&mut self) -> String {
        let mut rest = self
            .latest
            .get(self.emitted..)
            .unwrap_or_default()
            .to_string();
        if rest.ends_with('\u{FFFD}') {
            rest.pop();
        }
        self.emitted = self.latest.len();
        rest
    }
}

/// Length in bytes of the longest suffix of `text` that is a proper prefix of `stop`.
fn longest_suffix_prefix(text: &str, stop: &str) -> usize {
    (1..stop.len().min(text.len() + 1))
        .rev()
        .find(|&n| {
            stop.is_char_boundary(n)
                && text.is_char_boundary(text.len() - n)
                && text.ends_with(&stop[..n])
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stop: &[&str], steps: &[&str]) -> (String, bool) {
        let stop: Vec<String> = stop.iter().map(|s| s.to_string()).collect();
        let mut t = TextTracker::new(&stop);
        let mut out = String::new();
        for s in steps {
            let (d, stopped) = t.advance(s);
            out.push_str(&d);
            if stopped {
                return (out, true);
            }
        }
        out.push_str(&t.flush());
        (out, false)
    }

    #[test]
    fn a_stop_sequence_split_across_tokens_is_found_and_not_emitted() {
        assert_eq!(
            run(
                &["END"],
                &["Hello E", "Hello EN", "Hello END", "Hello END more"]
            ),
            ("Hello ".into(), true)
        );
    }

    #[test]
    fn a_held_back_prefix_is_released_when_it_turns_out_not_to_stop() {
        assert_eq!(run(&["END"], &["a E", "a EX"]), ("a EX".into(), false));
    }

    #[test]
    fn an_incomplete_character_is_not_emitted() {
        let mut t = TextTracker::new(&[]);
        assert_eq!(t.advance("caf\u{FFFD}").0, "");
        assert_eq!(t.advance("café").0, "café");
    }

    #[test]
    fn without_stop_sequences_text_streams_as_it_comes() {
        let mut t = TextTracker::new(&[]);
        assert_eq!(t.advance("ab").0, "ab");
        assert_eq!(t.advance("abc").0, "c");
    }
}
