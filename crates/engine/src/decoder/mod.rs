//! Our own forward pass for the GGUF architectures teams run (Llama,
//! Mistral and SmolLM2; Qwen 2.5; Qwen 3; Gemma 3), built for serving many
//! sequences at once: one step runs any mix of prefill chunks and single
//! decode tokens from different sequences, each at its own position with its
//! own KV cache ([`SeqCache`]).
//!
//! candle-transformers' quantized models keep one private KV cache and grow it
//! with `Tensor::cat` every token; they cannot batch sequences of different
//! lengths, and a cache cannot be kept, copied or resumed. The arithmetic
//! follows llama.cpp's graphs (`llm_build_llama`, `_qwen2`, `_qwen3`,
//! `_gemma3`): RMSNorm, RoPE (interleaved for llama, NeoX for the others),
//! grouped-query attention, a gated feed-forward block (SwiGLU, or GeGLU for
//! Gemma), tied output when the file has no `output.weight`. The variations:
//! biases on Q, K and V (Qwen 2), an RMSNorm of each query and key head
//! (Qwen 3, Gemma 3), norms after attention and after the feed-forward block,
//! scaled embeddings and sliding-window layers with their own RoPE base
//! (Gemma 3), final logit soft-capping where the file sets it.
//!
//! Weights stay in their GGUF blocks, the token embedding included: a step
//! dequantizes only the rows of its tokens.

mod attention;
mod interleaved;
mod kernels;
mod kv;
mod load;
mod matrix;
mod ops;
mod repack;

pub use kv::{PrefixCache, SeqCache};
use matrix::Matrix;
pub use ops::Activation;
use rayon::prelude::*;

/// Architectures this module runs; the rest use candle-transformers one sequence at a time.
pub fn supports(architecture: &str) -> bool {
    Arch::from_name(architecture).is_some()
}

/// The architecture families this decoder runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// `llama` and `mistral`.
    Llama,
    Qwen2,
    Qwen3,
    Gemma3,
}

/// Shapes and constants from the GGUF metadata.
#[derive(Debug, Clone)]
pub struct Config {
    pub arch: Arch,
    pub layers: usize,
    pub hidden: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    pub rope_dim: usize,
    pub rope_base: f32,
    /// Linear RoPE position scaling (1 for none).
    pub rope_scale: f32,
    pub eps: f32,
    pub vocab: usize,
    /// Positions the RoPE table covers (the served context).
    pub max_positions: usize,
    /// Positions a sliding-window layer sees, itself included (Gemma 3).
    pub sliding_window: Option<usize>,
    /// Factor on the token embedding (Gemma: √hidden).
    pub embedding_scale: Option<f32>,
    /// `cap · tanh(logit / cap)` on the output (when the file sets it).
    pub final_softcap: Option<f32>,
    pub activation: Activation,
}

impl Config {
    /// Bytes one position of a sequence occupies in the KV cache (keys and
    /// values of every layer, f16).
    pub fn kv_bytes_per_token(&self) -> usize {
        2 * self.layers * self.kv_heads * self.head_dim * std::mem::size_of::<half::f16>()
    }
}

struct Layer {
    attn_norm: Vec<f32>,
    wq: Matrix,
    wk: Matrix,
    wv: Matrix,
    wo: Matrix,
    /// Biases of Q, K and V (Qwen 2).
    bias: Option<[Vec<f32>; 3]>,
    /// RMSNorm weights of each query and key head (Qwen 3, Gemma 3).
    qk_norm: Option<[Vec<f32>; 2]>,
    post_attn_norm: Option<Vec<f32>>,
    ffn_norm: Vec<f32>,
    gate: Matrix,
    up: Matrix,
    down: Matrix,
    post_ffn_norm: Option<Vec<f32>>,
    /// Positions this layer attends over (`None`: all).
    window: Option<usize>,
    /// Index of this layer's table in [`Decoder::ropes`].
    rope: usize,
}

pub struct Decoder {
    pub config: Config,
    embedding: Matrix,
    layers: Vec<Layer>,
    norm: Vec<f32>,
    /// `None`: tied to the embedding (SmolLM2 and Gemma ship no `output.weight`).
    output: Option<Matrix>,
    /// The global RoPE table, then the sliding-window layers' one (Gemma 3).
    ropes: Vec<ops::Rope>,
}

/// One sequence's share of a step: `tokens` at positions `cache.len()..`.
pub struct Segment<'a> {
    pub tokens: &'a [u32],
    pub cache: &'a mut SeqCache,
    /// Whether the caller wants the logits after the last token.
    pub logits: bool,
}

impl Decoder {
    /// Memory the weights and RoPE tables hold.
    pub fn weight_bytes(&self) -> u64 {
        let floats = |v: &Vec<f32>| (v.len() * 4) as u64;
        let layers: u64 = self
            .layers
            .iter()
            .map(|l| {
                let norms = [&l.post_attn_norm, &l.post_ffn_norm]
                    .into_iter()
                    .flatten()
                    .chain([&l.attn_norm, &l.ffn_norm])
                    .chain(l.bias.iter().flatten())
                    .chain(l.qk_norm.iter().flatten());
                [&l.wq, &l.wk, &l.wv, &l.wo, &l.gate, &l.up, &l.down]
                    .iter()
                    .map(|m| m.bytes())
                    .sum::<u64>()
                    + norms.map(floats).sum::<u64>()
            })
            .sum();
        self.embedding.bytes()
            + self.output.as_ref().map_or(0, Matrix::bytes)
            + floats(&self.norm)
            + layers
            + self.ropes.iter().map(ops::Rope::bytes).sum::<u64>()
    }

    /// A fresh, empty cache for one sequence.
    pub fn new_cache(&self) -> SeqCache {
        SeqCache::new(
            self.config.layers,
            self.config.kv_heads * self.config.head_dim,
        )
    }

    /// Runs one step over `segments` and returns, for each segment that asked,
    /// the logits after its last token (in segment order).
    pub fn forward(&self, segments: &mut [Segment<'_>]) -> candle_core::Result<Vec<Vec<f32>>> {
        let c = &self.config;
        let (d, q_dim, kv_dim) = (c.hidden, c.heads * c.head_dim, c.kv_heads * c.head_dim);
        // Row r of the step belongs to segment seg[r] at position pos[r].
        let mut seg = Vec::new();
        let mut pos = Vec::new();
        for (i, s) in segments.iter().enumerate() {
            let start = s.cache.len();
            if start + s.tokens.len() > c.max_positions {
                candle_core::bail!(
                    "sequence of {} positions exceeds the model's {}",
                    start + s.tokens.len(),
                    c.max_positions
                );
            }
            for p in start..start + s.tokens.len() {
                seg.push(i);
                pos.push(p);
            }
        }
        let n = seg.len();
        if n == 0 {
            return Ok(vec![]);
        }
        let mut x = vec![0f32; n * d];
        let tokens = segments.iter().flat_map(|s| s.tokens.iter());
        for (&t, row) in tokens.zip(x.chunks_mut(d)) {
            if t as usize >= self.embedding.rows {
                candle_core::bail!("token id {t} is outside the vocabulary");
            }
            self.embedding.row_into(t as usize, row);
            if let Some(scale) = c.embedding_scale {
                row.iter_mut().for_each(|v| *v *= scale);
            }
        }
        let mut xn = vec![0f32; n * d];
        let (mut q, mut k, mut v) = (
            vec![0f32; n * q_dim],
            vec![0f32; n * kv_dim],
            vec![0f32; n * kv_dim],
        );
        let mut attn = vec![0f32; n * q_dim];
        let mut proj = vec![0f32; n * d];
        let ff = self.layers.first().map_or(0, |l| l.gate.rows);
        let (mut g, mut u) = (vec![0f32; n * ff], vec![0f32; n * ff]);

        for (li, layer) in self.layers.iter().enumerate() {
            ops::rms_norm(&x, &layer.attn_norm, c.eps, &mut xn);
            Matrix::matmul_many(
                &[&layer.wq, &layer.wk, &layer.wv],
                &xn,
                &mut [&mut q, &mut k, &mut v],
            );
            if let Some([bq, bk, bv]) = &layer.bias {
                ops::add_bias(&mut q, bq);
                ops::add_bias(&mut k, bk);
                ops::add_bias(&mut v, bv);
            }
            if let Some([nq, nk]) = &layer.qk_norm {
                ops::rms_norm_heads(&mut q, nq, c.eps);
                ops::rms_norm_heads(&mut k, nk, c.eps);
            }
            let rope = &self.ropes[layer.rope];
            for r in 0..n {
                rope.apply(&mut q[r * q_dim..(r + 1) * q_dim], c.head_dim, pos[r]);
                rope.apply(&mut k[r * kv_dim..(r + 1) * kv_dim], c.head_dim, pos[r]);
            }
            // Keys and values join their sequence's cache before attention, so a
            // prefill chunk attends to itself causally.
            let mut row = 0;
            for s in segments.iter_mut() {
                let len = s.tokens.len();
                s.cache.append(
                    li,
                    &k[row * kv_dim..(row + len) * kv_dim],
                    &v[row * kv_dim..(row + len) * kv_dim],
                );
                row += len;
            }
            let caches: Vec<&SeqCache> = segments.iter().map(|s| &*s.cache).collect();
            let group = c.heads / c.kv_heads;
            let scale = 1.0 / (c.head_dim as f32).sqrt();
            attn.par_chunks_mut(c.head_dim).enumerate().for_each_init(
                Vec::new,
                |scores, (i, out)| {
                    let (r, h) = (i / c.heads, i % c.heads);
                    let cache = caches[seg[r]];
                    let end = pos[r] + 1;
                    let from = layer.window.map_or(0, |w| end.saturating_sub(w)) * kv_dim;
                    attention::attend(
                        &q[i * c.head_dim..(i + 1) * c.head_dim],
                        &cache.keys(li, end)[from..],
                        &cache.values(li, end)[from..],
                        (kv_dim, (h / group) * c.head_dim),
                        scale,
                        scores,
                        out,
                    );
                },
            );
            layer.wo.matmul(&attn, &mut proj);
            if let Some(w) = &layer.post_attn_norm {
                ops::rms_norm(&proj, w, c.eps, &mut xn);
                std::mem::swap(&mut proj, &mut xn);
            }
            ops::add_assign(&mut x, &proj);

            ops::rms_norm(&x, &layer.ffn_norm, c.eps, &mut xn);
            Matrix::matmul_many(&[&layer.gate, &layer.up], &xn, &mut [&mut g, &mut u]);
            ops::gate_mul(&mut g, &u, c.activation);
            layer.down.matmul(&g, &mut proj);
            if let Some(w) = &layer.post_ffn_norm {
                ops::rms_norm(&proj, w, c.eps, &mut xn);
                std::mem::swap(&mut proj, &mut xn);
            }
            ops::add_assign(&mut x, &proj);
        }
        for s in segments.iter_mut() {
            s.cache.commit(s.tokens);
        }

        // Only the last row of each segment that wants logits goes through the
        // (vocabulary-sized) output projection.
        let mut last_rows = Vec::new();
        let mut row = 0;
        for s in segments.iter() {
            row += s.tokens.len();
            if s.logits {
                last_rows.extend_from_slice(&x[(row - 1) * d..row * d]);
            }
        }
        let wanted = last_rows.len() / d;
        let mut normed = vec![0f32; last_rows.len()];
        ops::rms_norm(&last_rows, &self.norm, c.eps, &mut normed);
        let mut logits = vec![0f32; wanted * c.vocab];
        self.output
            .as_ref()
            .unwrap_or(&self.embedding)
            .matmul(&normed, &mut logits);
        if let Some(cap) = c.final_softcap {
            logits.iter_mut().for_each(|l| *l = cap * (*l / cap).tanh());
        }
        Ok(logits.chunks(c.vocab).map(<[f32]>::to_vec).collect())
    }
}
