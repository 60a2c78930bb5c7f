//! Reading a GGUF into a [`Decoder`]: the architecture's constants from the
//! metadata (with llama.cpp's defaults where a key is absent) and every
//! tensor checked against the shape they imply.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use candle_core::quantized::gguf_file::{Content, Value};

use super::matrix::Matrix;
use super::ops::{Activation, Rope, RopeStyle};
use super::{Arch, Config, Decoder, Layer};

/// Gemma 3 alternates five sliding-window layers with one global layer
/// (llama.cpp's `set_swa_pattern(6)`; the GGUF does not say).
const GEMMA3_SWA_PATTERN: usize = 6;
/// The RoPE base of Gemma 3's sliding-window layers (llama.cpp's
/// `rope_freq_base_train_swa`; absent from the GGUF).
const GEMMA3_LOCAL_ROPE_BASE: f32 = 10_000.0;

impl Arch {
    /// The architecture named by `general.architecture`, when this module runs it.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "llama" | "mistral" => Self::Llama,
            "qwen2" => Self::Qwen2,
            "qwen3" => Self::Qwen3,
            "gemma3" => Self::Gemma3,
            _ => return None,
        })
    }

    fn rope_style(self) -> RopeStyle {
        match self {
            Self::Llama => RopeStyle::Interleaved,
            Self::Qwen2 | Self::Qwen3 | Self::Gemma3 => RopeStyle::Neox,
        }
    }
}

/// Metadata under the architecture's prefix.
struct Meta<'a> {
    content: &'a Content,
    prefix: &'a str,
}

impl Meta<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.content.metadata.get(&format!("{}.{key}", self.prefix))
    }

    fn required(&self, key: &str) -> candle_core::Result<&Value> {
        self.get(key).ok_or_else(|| {
            candle_core::Error::Msg(format!("metadata `{}.{key}` is missing", self.prefix))
        })
    }

    fn usize(&self, key: &str) -> candle_core::Result<Option<usize>> {
        self.get(key)
            .map(|v| v.to_u32().map(|v| v as usize))
            .transpose()
    }

    fn f32(&self, key: &str) -> candle_core::Result<Option<f32>> {
        self.get(key).map(Value::to_f32).transpose()
    }
}

fn config(content: &Content, arch: Arch, max_positions: usize) -> candle_core::Result<Config> {
    let prefix = content
        .metadata
        .get("general.architecture")
        .and_then(|v| v.to_string().ok())
        .map_or("llama", |s| s.as_str());
    let md = Meta { content, prefix };
    let hidden = md.required("embedding_length")?.to_u32()? as usize;
    let heads = md.required("attention.head_count")?.to_u32()? as usize;
    let kv_heads = md.usize("attention.head_count_kv")?.unwrap_or(heads);
    if heads == 0 || kv_heads == 0 || !heads.is_multiple_of(kv_heads) {
        candle_core::bail!("inconsistent attention shape: {heads} heads, {kv_heads} KV heads");
    }
    // Qwen 3 and Gemma 3 set the head size; llama.cpp's default is hidden / heads.
    let head_dim = match md.usize("attention.key_length")? {
        Some(k) => k,
        None if hidden.is_multiple_of(heads) => hidden / heads,
        None => candle_core::bail!("{hidden} wide does not split into {heads} heads"),
    };
    let value_dim = md.usize("attention.value_length")?.unwrap_or(head_dim);
    if head_dim == 0 || value_dim != head_dim {
        candle_core::bail!(
            "keys of {head_dim} and values of {value_dim} dimensions are not supported"
        );
    }
    let rope_dim = md.usize("rope.dimension_count")?.unwrap_or(head_dim);
    if rope_dim > head_dim || !rope_dim.is_multiple_of(2) {
        candle_core::bail!("rope dimension {rope_dim} does not fit heads of {head_dim}");
    }
    let linear = md
        .get("rope.scaling.type")
        .and_then(|v| v.to_string().ok())
        .is_some_and(|t| t == "linear");
    let rope_scale = match (linear, md.f32("rope.scaling.factor")?) {
        (true, Some(f)) if f > 0.0 => 1.0 / f,
        _ => 1.0,
    };
    let gemma = arch == Arch::Gemma3;
    Ok(Config {
        arch,
        layers: md.required("block_count")?.to_u32()? as usize,
        hidden,
        heads,
        kv_heads,
        head_dim,
        rope_dim,
        // llama.cpp's default when the key is absent.
        rope_base: md.f32("rope.freq_base")?.unwrap_or(10_000.0),
        rope_scale,
        eps: md.required("attention.layer_norm_rms_epsilon")?.to_f32()?,
        vocab: 0,
        max_positions,
        sliding_window: match gemma {
            true => md.usize("attention.sliding_window")?,
            false => None,
        },
        embedding_scale: gemma.then(|| (hidden as f32).sqrt()),
        final_softcap: md.f32("final_logit_softcapping")?.filter(|&c| c > 0.0),
        activation: match gemma {
            true => Activation::Gelu,
            false => Activation::Silu,
        },
    })
}

impl Decoder {
    pub fn load(content: &Content, path: &Path, max_positions: usize) -> candle_core::Result<Self> {
        let name = content
            .metadata
            .get("general.architecture")
            .and_then(|v| v.to_string().ok())
            .map_or("llama", |s| s.as_str());
        let arch = Arch::from_name(name).ok_or_else(|| {
            candle_core::Error::Msg(format!("architecture `{name}` is not supported"))
        })?;
        let mut config = config(content, arch, max_positions)?;
        let mut reader = BufReader::new(File::open(path)?);
        let r = &mut reader;
        let embedding = Matrix::read(content, r, "token_embd.weight")?;
        let output = match content.tensor_infos.contains_key("output.weight") {
            true => Some(Matrix::read(content, r, "output.weight")?),
            false => None,
        };
        config.vocab = output.as_ref().unwrap_or(&embedding).rows;
        let c = &config;
        let d = c.hidden;
        if embedding.cols != d || output.as_ref().is_some_and(|o| o.cols != d) {
            candle_core::bail!("the embedding or output width is not {d}");
        }
        let ff = content
            .tensor_infos
            .get("blk.0.ffn_gate.weight")
            .and_then(|t| t.shape.dims().first().copied())
            .unwrap_or(0);
        let layers = (0..c.layers)
            .map(|i| read_layer(content, r, c, i, ff))
            .collect::<candle_core::Result<Vec<_>>>()?;
        let norm = vector(content, r, "output_norm.weight", d)?;
        let global = Rope::new(
            c.rope_dim,
            c.rope_base,
            c.rope_scale,
            arch.rope_style(),
            max_positions,
        );
        let mut ropes = vec![global];
        if c.sliding_window.is_some() {
            ropes.push(Rope::new(
                c.rope_dim,
                GEMMA3_LOCAL_ROPE_BASE,
                1.0,
                arch.rope_style(),
                max_positions,
            ));
        }
        Ok(Self {
            config,
            embedding,
            layers,
            norm,
            output,
            ropes,
        })
    }
}

fn read_layer<R: Read + Seek>(
    content: &Content,
    r: &mut R,
    c: &Config,
    i: usize,
    ff: usize,
) -> candle_core::Result<Layer> {
    let (d, q_dim, kv_dim) = (c.hidden, c.heads * c.head_dim, c.kv_heads * c.head_dim);
    let has = |name: &str| {
        content
            .tensor_infos
            .contains_key(&format!("blk.{i}.{name}"))
    };
    let m = |r: &mut R, name: &str, rows: usize, cols: usize| {
        let name = format!("blk.{i}.{name}.weight");
        Matrix::read(content, r, &name)?.expect(&name, rows, cols)
    };
    let v = |r: &mut R, name: &str, len: usize| vector(content, r, &format!("blk.{i}.{name}"), len);
    let optional = |r: &mut R, name: &str, len: usize| match has(name) {
        true => v(r, name, len).map(Some),
        false => Ok(None),
    };
    let (wq, wk, wv, wo) = (
        m(r, "attn_q", q_dim, d)?,
        m(r, "attn_k", kv_dim, d)?,
        m(r, "attn_v", kv_dim, d)?,
        m(r, "attn_output", d, q_dim)?,
    );
    let (gate, up, down) = (
        m(r, "ffn_gate", ff, d)?,
        m(r, "ffn_up", ff, d)?,
        m(r, "ffn_down", d, ff)?,
    );
    // Qwen 2 has biases on Q, K and V; some llama-architecture files do too.
    let bias = match c.arch == Arch::Qwen2 || has("attn_q.bias") {
        true => Some([
            v(r, "attn_q.bias", q_dim)?,
            v(r, "attn_k.bias", kv_dim)?,
            v(r, "attn_v.bias", kv_dim)?,
        ]),
        false => None,
    };
    let qk_norm = match c.arch {
        Arch::Qwen3 | Arch::Gemma3 => Some([
            v(r, "attn_q_norm.weight", c.head_dim)?,
            v(r, "attn_k_norm.weight", c.head_dim)?,
        ]),
        Arch::Llama | Arch::Qwen2 => None,
    };
    let (post_attn_norm, post_ffn_norm) = match c.arch {
        Arch::Gemma3 => (
            Some(v(r, "post_attention_norm.weight", d)?),
            Some(v(r, "post_ffw_norm.weight", d)?),
        ),
        _ => (
            optional(r, "post_attention_norm.weight", d)?,
            optional(r, "post_ffw_norm.weight", d)?,
        ),
    };
    // Gemma 3: every sixth layer attends globally, the others over a window.
    let window = c
        .sliding_window
        .filter(|_| !(i + 1).is_multiple_of(GEMMA3_SWA_PATTERN));
    Ok(Layer {
        attn_norm: v(r, "attn_norm.weight", d)?,
        wq,
        wk,
        wv,
        wo,
        bias,
        qk_norm,
        post_attn_norm,
        ffn_norm: v(r, "ffn_norm.weight", d)?,
        gate,
        up,
        down,
        post_ffn_norm,
        window,
        rope: usize::from(window.is_some()),
    })
}

/// A one-dimensional tensor of `len` values (a norm's weights, a bias).
fn vector<R: Read + Seek>(
    content: &Content,
    r: &mut R,
    name: &str,
    len: usize,
) -> candle_core::Result<Vec<f32>> {
    let w = Matrix::read_vector(content, r, name)?;
    if w.len() != len {
        candle_core::bail!("tensor `{name}` has {} values; {len} expected", w.len());
    }
    Ok(w)
}
