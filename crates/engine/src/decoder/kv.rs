//! Per-sequence KV caches and the prefix cache that lets a new request reuse
//! the keys and values of an earlier one that began with the same tokens
//! (the same system prompt, the earlier turns of a conversation).
//!
//! Keys and values are kept as f16, as llama.cpp keeps them by default: a
//! decode step reads every cached position of every layer, and at f32 that
//! read, not arithmetic, bounded attention in a batch (eight SmolLM2
//! sequences of about a hundred positions read 37 MB per step).

use half::f16;

/// Keys and values of one sequence, every layer, position-major
/// (`positions × kv_heads × head_dim` per layer), with the tokens they encode.
#[derive(Clone)]
pub struct SeqCache {
    keys: Vec<Vec<f16>>,
    values: Vec<Vec<f16>>,
    kv_dim: usize,
    tokens: Vec<u32>,
}

impl SeqCache {
    pub fn new(layers: usize, kv_dim: usize) -> Self {
        Self {
            keys: vec![Vec::new(); layers],
            values: vec![Vec::new(); layers],
            kv_dim,
            tokens: Vec::new(),
        }
    }

    /// Positions whose keys and values are complete in every layer.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    /// Makes room for `positions` in total, so a generation never reallocates.
    pub fn reserve(&mut self, positions: usize) {
        let want = positions * self.kv_dim;
        for v in self.keys.iter_mut().chain(self.values.iter_mut()) {
            v.reserve(want.saturating_sub(v.len()));
        }
    }

    /// Adds keys and values of new positions to `layer` (visible to attention
    /// in that layer at once; [`Self::commit`] closes the step).
    pub fn append(&mut self, layer: usize, k: &[f32], v: &[f32]) {
        for (cache, new) in [(&mut self.keys[layer], k), (&mut self.values[layer], v)] {
            let at = cache.len();
            cache.resize(at + new.len(), f16::ZERO);
            half::slice::HalfFloatSliceExt::convert_from_f32_slice(&mut cache[at..], new);
        }
    }

    /// Records the tokens whose keys and values every layer now holds.
    pub fn commit(&mut self, tokens: &[u32]) {
        self.tokens.extend_from_slice(tokens);
    }

    /// The keys of the first `positions` positions of `layer`.
    pub fn keys(&self, layer: usize, positions: usize) -> &[f16] {
        &self.keys[layer][..positions * self.kv_dim]
    }

    pub fn values(&self, layer: usize, positions: usize) -> &[f16] {
        &self.values[layer][..positions * self.kv_dim]
    }

    /// A copy of the first `positions` positions.
    fn prefix(&self, positions: usize) -> Self {
        let n = positions * self.kv_dim;
        Self {
            keys: self.keys.iter().map(|k| k[..n].to_vec()).collect(),
            values: self.values.iter().map(|v| v[..n].to_vec()).collect(),
            kv_dim: self.kv_dim,
            tokens: self.tokens[..positions].to_vec(),
        }
    }

    /// Memory this cache holds, reserved room included.
    pub fn bytes(&self) -> u64 {
        let halves: usize = self
            .keys
            .iter()
            .chain(&self.values)
            .map(Vec::capacity)
            .sum();
        (halves * 2 + self.tokens.capacity() * 4) as u64
    }

    /// Returns memory reserved beyond what is held (a stored cache stays put).
    fn shrink(&mut self) {
        for v in self.keys.iter_mut().chain(self.values.iter_mut()) {
            v.shrink_to_fit();
        }
    }
}

/// Finished sequences' caches, least recently used first, bounded by the
/// number of positions they hold together.
pub struct PrefixCache {
    entries: Vec<SeqCache>,
    capacity: usize,
}

impl PrefixCache {
    /// `capacity`: positions kept in total (0 turns prefix caching off).
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Vec::new(),
            capacity,
        }
    }

    /// The longest cached prefix of `prompt`, copied, leaving at least the
    /// prompt's last token to compute (its logits start the generation).
    pub fn lookup(&mut self, prompt: &[u32]) -> Option<SeqCache> {
        let usable =
            |e: &SeqCache| common_prefix(e.tokens(), prompt).min(prompt.len().saturating_sub(1));
        let (best, n) = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (i, usable(e)))
            .max_by_key(|&(i, n)| (n, i))?;
        if n == 0 {
            return None;
        }
        let hit = self.entries.remove(best);
        let copy = hit.prefix(n);
        self.entries.push(hit);
        Some(copy)
    }

    /// Keeps a finished sequence's cache, dropping entries it extends and the
    /// least recently used ones beyond capacity.
    pub fn insert(&mut self, mut cache: SeqCache) {
        if cache.is_empty() || cache.len() > self.capacity {
            return;
        }
        // Capacity counts positions, so memory must be positions too.
        cache.shrink();
        self.entries
            .retain(|e| common_prefix(e.tokens(), cache.tokens()) < e.len());
        self.entries.push(cache);
        let mut total: usize = self.entries.iter().map(SeqCache::len).sum();
        while total > self.capacity {
            total -= self.entries.remove(0).len();
        }
    }

    /// Memory the kept caches hold.
    pub fn bytes(&self) -> u64 {
        self.entries.iter().map(SeqCache::bytes).sum()
    }

    /// Positions held.
    pub fn positions(&self) -> usize {
        self.entries.iter().map(SeqCache::len).sum()
    }
}

fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(tokens: &[u32]) -> SeqCache {
        let mut c = SeqCache::new(2, 1);
        for (i, &t) in tokens.iter().enumerate() {
            for layer in 0..2 {
                c.append(layer, &[i as f32], &[-(i as f32)]);
            }
            c.commit(&[t]);
        }
        c
    }

    #[test]
    fn lookup_returns_the_longest_shared_prefix_and_keeps_the_last_prompt_token() {
        let mut p = PrefixCache::new(100);
        p.insert(cache(&[1, 2, 3, 4, 5]));
        p.insert(cache(&[1, 2, 9]));
        let hit = p.lookup(&[1, 2, 3, 4, 5]).unwrap();
        assert_eq!(hit.tokens(), &[1, 2, 3, 4]);
        let f32s = |v: &[f16]| v.iter().map(|h| h.to_f32()).collect::<Vec<_>>();
        assert_eq!(f32s(hit.keys(1, 4)), [0.0, 1.0, 2.0, 3.0]);
        assert_eq!(f32s(hit.values(0, 4)), [0.0, -1.0, -2.0, -3.0]);
        assert!(p.lookup(&[7, 8]).is_none());
        // The entry itself is still whole for the next request.
        assert_eq!(p.lookup(&[1, 2, 3, 4, 5, 6]).unwrap().len(), 5);
    }

    #[test]
    fn an_entry_extended_by_a_newer_one_is_replaced_and_capacity_evicts_oldest() {
        let mut p = PrefixCache::new(8);
        p.insert(cache(&[1, 2]));
        p.insert(cache(&[1, 2, 3]));
        assert_eq!(p.positions(), 3);
        p.insert(cache(&[5, 6, 7, 8, 9, 10]));
        assert_eq!(p.positions(), 6);
        assert!(p.lookup(&[1, 2, 3, 4]).is_none());
    }

    #[test]
    fn a_zero_capacity_cache_keeps_nothing() {
        let mut p = PrefixCache::new(0);
        p.insert(cache(&[1, 2, 3]));
        assert!(p.lookup(&[1, 2, 3, 4]).is_none());
    }
}
