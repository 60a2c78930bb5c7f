//! What runs the forward passes: our batching decoder where the architecture
//! has one, else candle-transformers' model, one sequence at a time.

use candle_core::Device;

use super::sequence::Sequence;
use crate::decoder::{Decoder, PrefixCache, Segment, SeqCache};
use crate::model::Weights;

pub enum Backend {
    /// Batches sequences; each has its own cache, and finished caches are
    /// kept for prefix reuse.
    Batched {
        decoder: Box<Decoder>,
        prefixes: PrefixCache,
    },
    /// One sequence at a time; its cache lives inside the weights.
    Candle {
        weights: Box<Weights>,
        device: Device,
    },
}

impl Backend {
    /// How many sequences may share a step.
    pub fn max_batch(&self, configured: usize) -> usize {
        match self {
            Self::Batched { .. } => configured.max(1),
            Self::Candle { .. } => 1,
        }
    }

    /// Prompt tokens one step may read; candle's models take a prompt whole.
    pub fn prefill_chunk(&self, configured: usize) -> usize {
        match self {
            Self::Batched { .. } => configured.max(1),
            Self::Candle { .. } => usize::MAX,
        }
    }

    /// The cache a new sequence starts from: the longest cached prefix of its
    /// prompt, or an empty one, with room for `positions`.
    pub fn start(&mut self, prompt: &[u32], positions: usize) -> Option<SeqCache> {
        match self {
            Self::Batched { decoder, prefixes } => {
                let mut cache = prefixes
                    .lookup(prompt)
                    .unwrap_or_else(|| decoder.new_cache());
                cache.reserve(positions);
                Some(cache)
            }
            Self::Candle { .. } => None,
        }
    }

    /// Memory the weights hold (counted once, at load). Candle's models
    /// report their file's size: quantized weights stay as stored.
    pub fn weight_bytes(&self, file_size: u64) -> u64 {
        match self {
            Self::Batched { decoder, .. } => decoder.weight_bytes(),
            Self::Candle { .. } => file_size,
        }
    }

    /// Memory the caches hold now: those of `active` sequences and the
    /// prefix cache (candle's models keep theirs out of sight: 0).
    pub fn cache_bytes(&self, active: &[Sequence]) -> u64 {
        match self {
            Self::Batched { prefixes, .. } => {
                let live: u64 = active
                    .iter()
                    .filter_map(|s| s.cache.as_ref())
                    .map(SeqCache::bytes)
                    .sum();
                prefixes.bytes() + live
            }
            Self::Candle { .. } => 0,
        }
    }

    /// Takes back a finished sequence's cache for later prefix hits.
    pub fn finish(&mut self, cache: Option<SeqCache>) {
        if let (Self::Batched { prefixes, .. }, Some(cache)) = (self, cache) {
            prefixes.insert(cache);
        }
    }

    /// Feeds `plan[i].1` pending tokens of sequence `plan[i].0` and returns the
    /// logits of every planned sequence whose prompt is then fully read.
    pub fn step(
        &mut self,
        active: &mut [Sequence],
        plan: &[(usize, usize)],
    ) -> candle_core::Result<Vec<(usize, Vec<f32>)>> {
        let wants = |s: &Sequence, n: usize| n == s.pending.len();
        match self {
            Self::Batched { decoder, .. } => {
                let mut order = Vec::with_capacity(plan.len());
                let mut segments = Vec::with_capacity(plan.len());
                // `plan` is in ascending sequence order, so walking `active`
                // once hands each planned sequence's fields out exactly once.
                let mut planned = plan.iter().peekable();
                for (i, s) in active.iter_mut().enumerate() {
                    let Some(&(_, n)) = planned.next_if(|p| p.0 == i) else {
                        continue;
                    };
                    let logits = wants(s, n);
                    let cache = s.cache.as_mut().expect("batched sequences own a cache");
                    segments.push(Segment {
                        tokens: &s.pending[..n],
                        cache,
                        logits,
                    });
                    if logits {
                        order.push(i);
                    }
                }
                let out = decoder.forward(&mut segments)?;
                Ok(order.into_iter().zip(out).collect())
            }
            Self::Candle { weights, device } => {
                let mut out = Vec::new();
                for &(i, n) in plan {
                    let s = &active[i];
                    let logits = weights.forward(&s.pending[..n], s.position, device)?;
                    if wants(s, n) {
                        out.push((i, logits.to_vec1::<f32>()?));
                    }
                }
                Ok(out)
            }
        }
    }
}
