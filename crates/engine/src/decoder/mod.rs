//! Our own forward pass for llama-architecture GGUFs (Llama, Mistral,
//! SmolLM2), built for serving many sequences at once: one step runs any mix
//! of prefill chunks and single decode tokens from different sequences, each
//! at its own position with its own KV cache ([`SeqCache`]).
//!
//! candle-transformers' quantized models keep one private KV cache and grow it
//! with `Tensor::cat` every token; they cannot batch sequences of different
//! lengths, and a cache cannot be kept, copied or resumed. The arithmetic
//! follows llama.cpp's `llm_build_llama`: RMSNorm, interleaved ("normal")
//! RoPE, grouped-query attention, SwiGLU, tied output when the file has no
//! `output.weight`.

mod kernels;
mod kv;
mod matrix;
mod ops;

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use candle_core::quantized::gguf_file::Content;
pub use kv::{PrefixCache, SeqCache};
use matrix::Matrix;
use rayon::prelude::*;

/// Architectures this module runs; the rest use candle-transformers one sequence at a time.
pub fn supports(architecture: &str) -> bool {
    matches!(architecture, "llama" | "mistral")
}

/// Shapes and constants from the GGUF metadata.
#[derive(Debug, Clone)]
pub struct Config {
    pub layers: usize,
    pub hidden: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    pub rope_dim: usize,
    pub rope_base: f32,
    pub eps: f32,
    pub vocab: usize,
    /// Positions the RoPE table covers (the served context).
    pub max_positions: usize,
}

impl Config {
    /// Floats one position of a sequence occupies in the KV cache (keys and values, all layers).
    pub fn kv_floats_per_token(&self) -> usize {
        2 * self.layers * self.kv_heads * self.head_dim
    }
}

struct Layer {
    attn_norm: Vec<f32>,
    wq: Matrix,
    wk: Matrix,
    wv: Matrix,
    wo: Matrix,
    ffn_norm: Vec<f32>,
    gate: Matrix,
    up: Matrix,
    down: Matrix,
}

pub struct Decoder {
    pub config: Config,
    embedding: Matrix,
    layers: Vec<Layer>,
    norm: Vec<f32>,
    /// `None`: tied to the embedding (SmolLM2 ships no `output.weight`).
    output: Option<Matrix>,
    rope: ops::Rope,
}

/// One sequence's share of a step: `tokens` at positions `cache.len()..`.
pub struct Segment<'a> {
    pub tokens: &'a [u32],
    pub cache: &'a mut SeqCache,
    /// Whether the caller wants the logits after the last token.
    pub logits: bool,
}

impl Decoder {
    pub fn load(content: &Content, path: &Path, max_positions: usize) -> candle_core::Result<Self> {
        let arch = "llama";
        let md = |key: &str| {
            content
                .metadata
                .get(&format!("{arch}.{key}"))
                .ok_or_else(|| {
                    candle_core::Error::Msg(format!("metadata `{arch}.{key}` is missing"))
                })
        };
        let hidden = md("embedding_length")?.to_u32()? as usize;
        let heads = md("attention.head_count")?.to_u32()? as usize;
        let kv_heads = md("attention.head_count_kv")
            .and_then(|v| v.to_u32())
            .map_or(heads, |v| v as usize);
        if heads == 0
            || kv_heads == 0
            || !hidden.is_multiple_of(heads)
            || !heads.is_multiple_of(kv_heads)
        {
            candle_core::bail!(
                "inconsistent attention shape: {hidden} wide, {heads} heads, {kv_heads} KV heads"
            );
        }
        let head_dim = hidden / heads;
        let rope_dim = md("rope.dimension_count")
            .and_then(|v| v.to_u32())
            .map_or(head_dim, |v| v as usize);
        if rope_dim > head_dim || !rope_dim.is_multiple_of(2) {
            candle_core::bail!("rope dimension {rope_dim} does not fit heads of {head_dim}");
        }
        let mut reader = BufReader::new(File::open(path)?);
        let r = &mut reader;
        let embedding = Matrix::read(content, r, "token_embd.weight")?;
        let output = match content.tensor_infos.contains_key("output.weight") {
            true => Some(Matrix::read(content, r, "output.weight")?),
            false => None,
        };
        let config = Config {
            layers: md("block_count")?.to_u32()? as usize,
            hidden,
            heads,
            kv_heads,
            head_dim,
            rope_dim,
            // llama.cpp's default when the key is absent.
            rope_base: md("rope.freq_base")
                .and_then(|v| v.to_f32())
                .unwrap_or(10_000.0),
            eps: md("attention.layer_norm_rms_epsilon")?.to_f32()?,
            vocab: output.as_ref().unwrap_or(&embedding).rows,
            max_positions,
        };
        let (d, q_dim, kv_dim) = (hidden, heads * head_dim, kv_heads * head_dim);
        if embedding.cols != d || output.as_ref().is_some_and(|o| o.cols != d) {
            candle_core::bail!("the embedding or output width is not {d}");
        }
        let ff = content
            .tensor_infos
            .get("blk.0.ffn_gate.weight")
            .and_then(|t| t.shape.dims().first().copied())
            .unwrap_or(0);
        let mut layers = Vec::with_capacity(config.layers);
        for i in 0..config.layers {
            let mut m = |name: &str, rows: usize, cols: usize| {
                let name = format!("blk.{i}.{name}.weight");
                Matrix::read(content, r, &name)?.expect(&name, rows, cols)
            };
            let (wq, wk, wv, wo) = (
                m("attn_q", q_dim, d)?,
                m("attn_k", kv_dim, d)?,
                m("attn_v", kv_dim, d)?,
                m("attn_output", d, q_dim)?,
            );
            let (gate, up, down) = (
                m("ffn_gate", ff, d)?,
                m("ffn_up", ff, d)?,
                m("ffn_down", d, ff)?,
            );
            let mut v = |name: &str| {
                let name = format!("blk.{i}.{name}.weight");
                let w = Matrix::read_vector(content, r, &name)?;
                if w.len() != d {
                    candle_core::bail!("tensor `{name}` has {} values; {d} expected", w.len());
                }
                Ok(w)
            };
            let (attn_norm, ffn_norm) = (v("attn_norm")?, v("ffn_norm")?);
            layers.push(Layer {
                attn_norm,
                wq,
                wk,
                wv,
                wo,
                ffn_norm,
                gate,
                up,
                down,
            });
        }
        let norm = Matrix::read_vector(content, r, "output_norm.weight")?;
        if norm.len() != d {
            candle_core::bail!(
                "tensor `output_norm.weight` has {} values; {d} expected",
                norm.len()
            );
        }
        let rope = ops::Rope::new(config.rope_dim, config.rope_base, max_positions);
        Ok(Self {
            config,
            embedding,
            layers,
            norm,
            output,
            rope,
        })
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
            for r in 0..n {
                self.rope
                    .apply_interleaved(&mut q[r * q_dim..(r + 1) * q_dim], c.head_dim, pos[r]);
                self.rope.apply_interleaved(
                    &mut k[r * kv_dim..(r + 1) * kv_dim],
                    c.head_dim,
                    pos[r],
                );
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
            attn.par_chunks_mut(c.head_dim).enumerate().for_each_init(
                Vec::new,
                |scores, (i, out)| {
                    let (r, h) = (i / c.heads, i % c.heads);
                    let cache = caches[seg[r]];
                    ops::attend(
                        &q[i * c.head_dim..(i + 1) * c.head_dim],
                        cache.keys(li, pos[r] + 1),
                        cache.values(li, pos[r] + 1),
                        (kv_dim, (h / group) * c.head_dim),
                        scores,
                        out,
                    );
                },
            );
            layer.wo.matmul(&attn, &mut proj);
            ops::add_assign(&mut x, &proj);

            ops::rms_norm(&x, &layer.ffn_norm, c.eps, &mut xn);
            Matrix::matmul_many(&[&layer.gate, &layer.up], &xn, &mut [&mut g, &mut u]);
            ops::silu_mul(&mut g, &u);
            layer.down.matmul(&g, &mut proj);
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
        Ok(logits.chunks(c.vocab).map(<[f32]>::to_vec).collect())
    }
}
