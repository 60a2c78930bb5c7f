//! The engine thread's loop: admit, plan a step, run it, hand out logits.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rayon::prelude::*;
use tokio::sync::mpsc;

use super::backend::Backend;
use super::sequence::{Next, Sequence};
use super::{Event, GenerateRequest};
use crate::observe::Observer;
use crate::sampler::{breaker_ids, Repetition};
use crate::tokenizer::GgufTokenizer;

/// Scheduling limits from `[engine]` in config.toml.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Sequences decoding together in one step.
    pub max_batch: usize,
    /// Prompt tokens read per step, across sequences.
    pub prefill_chunk: usize,
}

const MAX_BREAKER_LISTS: usize = 8;

pub struct EngineLoop {
    pub model_id: String,
    pub backend: Backend,
    pub limits: Limits,
    pub tokenizer: Arc<GgufTokenizer>,
    pub metrics: Arc<dyn Observer>,
    /// Token ids of each list of sequence breakers asked for so far: a scan
    /// of the vocabulary, done once per list and model.
    pub breakers: HashMap<Vec<String>, Arc<HashSet<u32>>>,
    /// Memory the model holds now, counted after each step.
    pub resident: Arc<AtomicU64>,
    /// The weights' part of it ([`Backend::weight_bytes`]), fixed at load.
    pub weight_bytes: u64,
}

impl EngineLoop {
    /// Serves requests until every sender of `queue` is dropped and the
    /// last sequence has finished.
    pub fn run(mut self, mut queue: mpsc::UnboundedReceiver<GenerateRequest>) {
        let max_batch = self.backend.max_batch(self.limits.max_batch);
        let chunk = self.backend.prefill_chunk(self.limits.prefill_chunk);
        let mut waiting: VecDeque<GenerateRequest> = VecDeque::new();
        let mut active: Vec<Sequence> = Vec::new();
        let mut open = true;
        loop {
            let resident = self.weight_bytes + self.backend.cache_bytes(&active);
            self.resident.store(resident, Ordering::Relaxed);
            if active.is_empty() && waiting.is_empty() {
                match queue.blocking_recv() {
                    Some(r) => waiting.push_back(r),
                    None => return,
                }
            }
            while open {
                match queue.try_recv() {
                    Ok(r) => waiting.push_back(r),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => open = false,
                }
            }
            while active.len() < max_batch {
                let Some(req) = waiting.pop_front() else {
                    break;
                };
                if req.events.is_closed() {
                    self.metrics.generation_cancelled();
                    self.metrics.queue_changed(-1);
                    continue;
                }
                // Room for the prompt and a typical answer; a longer one grows
                // the cache as it goes rather than reserving max_tokens upfront.
                let total = req.generation.prompt.len() + req.generation.max_tokens.min(256);
                let cache = self.backend.start(&req.generation.prompt, total);
                let breakers = self.breakers_for(&req.generation.sampling.repetition);
                active.push(Sequence::new(req, cache, breakers));
            }
            self.drop_cancelled(&mut active);
            if active.is_empty() {
                continue;
            }
            let plan = plan_step(
                active.iter().map(|s| (s.prefilling(), s.pending.len())),
                chunk,
            );
            self.run_step(&mut active, &plan);
        }
    }

    fn breakers_for(&mut self, r: &Repetition) -> Arc<HashSet<u32>> {
        if !r.needs_breakers() {
            return Arc::default();
        }
        // Clients choose the lists; a few distinct ones are kept.
        if self.breakers.len() >= MAX_BREAKER_LISTS
            && !self.breakers.contains_key(&r.dry_sequence_breakers)
        {
            self.breakers.clear();
        }
        let tokenizer = &self.tokenizer;
        self.breakers
            .entry(r.dry_sequence_breakers.clone())
            .or_insert_with(|| {
                Arc::new(breaker_ids(
                    tokenizer.vocab_size(),
                    |id| tokenizer.token_bytes(id),
                    &r.dry_sequence_breakers,
                ))
            })
            .clone()
    }

    fn run_step(&mut self, active: &mut Vec<Sequence>, plan: &[(usize, usize)]) {
        // A panic inside the model must cost this step's requests, not the engine.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.backend.step(active, plan)
        }))
        .unwrap_or_else(|_| Err(candle_core::Error::Msg("the model panicked".into())));
        let logits = match outcome {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(model = %self.model_id, error = %e, "generation failed");
                let failed: Vec<usize> = plan.iter().map(|p| p.0).collect();
                for i in failed.into_iter().rev() {
                    let s = active.remove(i);
                    let _ = s
                        .req
                        .events
                        .send(Event::Error(format!("generation failed: {e}")));
                    self.retire(s, false, false);
                }
                return;
            }
        };
        for &(i, n) in plan {
            active[i].fed(n);
        }
        // Sampling and grammar masks are per sequence: run them side by side.
        let mut work: Vec<(usize, &mut Sequence, Vec<f32>)> = Vec::with_capacity(logits.len());
        let mut logits = logits.into_iter().peekable();
        for (i, s) in active.iter_mut().enumerate() {
            if let Some((_, l)) = logits.next_if(|(j, _)| *j == i) {
                work.push((i, s, l));
            }
        }
        let (tokenizer, metrics, model_id) = (&*self.tokenizer, &*self.metrics, &self.model_id);
        let mut finished: Vec<(usize, bool)> = work
            .into_par_iter()
            .filter_map(
                |(i, s, l)| match s.on_logits(l, tokenizer, metrics, model_id) {
                    Ok(Next::Continue) => None,
                    Ok(Next::Finished) => Some((i, false)),
                    Ok(Next::Cancelled) => Some((i, true)),
                    Err(e) => {
                        tracing::error!(model = %model_id, error = %e, "generation failed");
                        let _ = s
                            .req
                            .events
                            .send(Event::Error(format!("generation failed: {e}")));
                        Some((i, false))
                    }
                },
            )
            .collect();
        finished.sort_unstable();
        for (i, cancelled) in finished.into_iter().rev() {
            let s = active.remove(i);
            self.retire(s, cancelled, true);
        }
    }

    fn drop_cancelled(&mut self, active: &mut Vec<Sequence>) {
        let mut i = 0;
        while i < active.len() {
            if active[i].client_gone() {
                let s = active.remove(i);
                self.retire(s, true, true);
            } else {
                i += 1;
            }
        }
    }

    /// Books a sequence that left the batch and keeps its cache for reuse
    /// (unless a failed step may have left it half-written).
    fn retire(&mut self, s: Sequence, cancelled: bool, keep_cache: bool) {
        let done = s.completion(super::FinishReason::Stop);
        self.metrics.add_tokens(
            &self.model_id,
            done.prompt_tokens,
            done.cached_tokens,
            done.completion_tokens,
        );
        if cancelled {
            self.metrics.generation_cancelled();
            tracing::info!(model = %self.model_id, tokens = done.completion_tokens, "client went away; generation stopped");
        }
        self.metrics.queue_changed(-1);
        if keep_cache {
            self.backend.finish(s.cache);
        }
    }
}

/// One token for every sequence past its prompt, then prompt chunks, oldest
/// first, up to `chunk` prompt tokens in all. Takes each sequence's
/// (still reading its prompt, pending tokens); returns (index, tokens to
/// feed), by ascending index.
fn plan_step(states: impl Iterator<Item = (bool, usize)>, chunk: usize) -> Vec<(usize, usize)> {
    let mut plan = Vec::new();
    let mut budget = chunk;
    for (i, (prefilling, pending)) in states.enumerate() {
        if prefilling {
            if budget > 0 {
                let n = pending.min(budget);
                budget -= n;
                plan.push((i, n));
            }
        } else if pending > 0 {
            plan.push((i, 1));
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::plan_step;

    #[test]
    fn decoding_sequences_get_one_token_and_prompts_share_the_chunk_oldest_first() {
        let states = [(false, 1), (true, 100), (false, 1), (true, 30)];
        assert_eq!(plan_step(states.into_iter(), 64), [(0, 1), (1, 64), (2, 1)]);
        let states = [(true, 10), (true, 30), (true, 50)];
        assert_eq!(
            plan_step(states.into_iter(), 64),
            [(0, 10), (1, 30), (2, 24)]
        );
    }

    #[test]
    fn an_unbounded_chunk_reads_a_whole_prompt_in_one_step() {
        assert_eq!(
            plan_step([(true, 5000)].into_iter(), usize::MAX),
            [(0, 5000)]
        );
    }
}
