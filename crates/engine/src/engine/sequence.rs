//! One admitted request on the engine thread: the tokens it still has to
//! feed, its KV cache, and what happens to each set of logits it receives
//! (mask, sample, stop, stream).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use super::text::TextTracker;
use super::{Completion, Event, FinishReason, GenerateRequest};
use crate::constraint::{Allowed, Constraint};
use crate::decoder::SeqCache;
use crate::observe::Observer;
use crate::sampler::Sampler;
use crate::tokenizer::GgufTokenizer;

pub struct Sequence {
    pub req: GenerateRequest,
    /// Our decoder's cache; `None` on candle-transformers models, whose
    /// single cache lives inside the weights.
    pub cache: Option<SeqCache>,
    /// Tokens to feed next: the rest of the prompt, then each sampled token.
    pub pending: Vec<u32>,
    /// Positions already fed to the model.
    pub position: usize,
    pub cached_tokens: usize,
    sampler: Sampler,
    text: TextTracker,
    generated: Vec<u32>,
    started: Instant,
    prefill_seconds: Option<f64>,
    last_token_at: Instant,
}

/// What a sequence does after its logits were handled.
pub enum Next {
    Continue,
    /// Finished (stop, length or an error was sent); it leaves the batch.
    Finished,
    /// The client went away.
    Cancelled,
}

impl Sequence {
    /// `breakers` are the token ids of the request's DRY sequence breakers.
    pub fn new(req: GenerateRequest, cache: Option<SeqCache>, breakers: Arc<HashSet<u32>>) -> Self {
        let cached_tokens = cache.as_ref().map_or(0, SeqCache::len);
        let pending = req.generation.prompt[cached_tokens..].to_vec();
        let g = &req.generation;
        Self {
            sampler: Sampler::new(g.sampling.clone(), &g.prompt, breakers),
            text: TextTracker::new(req.generation.stop.clone()),
            req,
            cache,
            pending,
            position: cached_tokens,
            cached_tokens,
            generated: Vec::new(),
            started: Instant::now(),
            prefill_seconds: None,
            last_token_at: Instant::now(),
        }
    }

    pub fn prefilling(&self) -> bool {
        self.prefill_seconds.is_none()
    }

    pub fn client_gone(&self) -> bool {
        self.req.events.is_closed()
    }

    /// Marks `n` pending tokens as fed.
    pub fn fed(&mut self, n: usize) {
        self.pending.drain(..n);
        self.position += n;
    }

    /// Takes the logits after the last fed token: applies the constraint,
    /// samples, streams the new text and decides whether to go on.
    pub fn on_logits(
        &mut self,
        mut logits: Vec<f32>,
        tokenizer: &GgufTokenizer,
        metrics: &dyn Observer,
        model_id: &str,
    ) -> Result<Next, String> {
        if self.prefill_seconds.is_none() {
            self.prefill_seconds = Some(self.started.elapsed().as_secs_f64());
        }
        if self.client_gone() {
            return Ok(Next::Cancelled);
        }
        let g = &mut self.req.generation;
        if self.generated.len() >= g.max_tokens {
            return Ok(self.finish(FinishReason::Length));
        }
        if let Some(constraint) = g.constraint.as_mut() {
            match constraint.allowed().map_err(constraint_error)? {
                // The output is complete; only ending is left.
                Allowed::Finished => return Ok(self.finish(FinishReason::Stop)),
                Allowed::Tokens { mask, eos } => {
                    Constraint::apply(&mut logits, &mask, eos, tokenizer.stop_ids())
                }
            }
        }
        let token = self.sampler.sample(&mut logits, &self.generated);
        let now = Instant::now();
        if self.generated.is_empty() {
            metrics.observe_ttft(
                model_id,
                now.duration_since(self.req.admitted_at).as_secs_f64(),
            );
        } else {
            metrics.observe_token_latency(
                model_id,
                now.duration_since(self.last_token_at).as_secs_f64(),
            );
        }
        self.last_token_at = now;
        let g = &mut self.req.generation;
        // Under a constraint a stop token is only sampled where the grammar may end.
        let may_stop = !g.ignore_eos || g.constraint.is_some();
        if may_stop && tokenizer.stop_ids().contains(&token) {
            return Ok(self.finish(FinishReason::Stop));
        }
        if let Some(constraint) = g.constraint.as_mut() {
            constraint.commit(token).map_err(constraint_error)?;
        }
        self.generated.push(token);
        let decoded = tokenizer
            .decode(&self.generated, true)
            .map_err(|e| e.to_string())?;
        let (delta, stopped) = self.text.advance(&decoded);
        if !delta.is_empty() && self.req.events.send(Event::Delta(delta)).is_err() {
            return Ok(Next::Cancelled);
        }
        if stopped {
            return Ok(self.finish(FinishReason::Stop));
        }
        if self.generated.len() >= self.req.generation.max_tokens {
            return Ok(self.finish(FinishReason::Length));
        }
        self.pending.push(token);
        Ok(Next::Continue)
    }

    fn finish(&mut self, reason: FinishReason) -> Next {
        if !self.text.stopped {
            let rest = self.text.flush();
            if !rest.is_empty() {
                let _ = self.req.events.send(Event::Delta(rest));
            }
        }
        let _ = self.req.events.send(Event::Done(self.completion(reason)));
        Next::Finished
    }

    pub fn completion(&self, reason: FinishReason) -> Completion {
        let prefill = self.prefill_seconds.unwrap_or_default();
        Completion {
            finish_reason: reason,
            prompt_tokens: self.req.generation.prompt.len(),
            completion_tokens: self.generated.len(),
            cached_tokens: self.cached_tokens,
            prefill_seconds: prefill,
            decode_seconds: (self.started.elapsed().as_secs_f64() - prefill).max(0.0),
        }
    }
}

fn constraint_error(e: String) -> String {
    format!("structured output: {e}")
}
