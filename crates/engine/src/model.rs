//! Quantized chat models: one enum over the GGUF architectures candle-transformers
//! ships, chosen by `general.architecture`.
//!
//! The file is validated by [`super::gguf_check`] before candle sees it, because
//! candle trusts the header (a bad alignment or offset panics or over-allocates).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use candle_core::quantized::gguf_file;
use candle_core::{DType, Device, Tensor};
use candle_transformers::models::{
    quantized_gemma3, quantized_glm4, quantized_lfm2, quantized_llama, quantized_phi,
    quantized_phi3, quantized_qwen2, quantized_qwen3,
};

/// The weights of one loaded model, with the KV cache of the sequence it runs.
pub enum Weights {
    Llama(quantized_llama::ModelWeights),
    Qwen2(quantized_qwen2::ModelWeights),
    Qwen3(quantized_qwen3::ModelWeights),
    Gemma3(quantized_gemma3::ModelWeights),
    Phi3(quantized_phi3::ModelWeights),
    Phi2(quantized_phi::ModelWeights),
    Glm4(quantized_glm4::ModelWeights),
    Lfm2(quantized_lfm2::ModelWeights),
}

impl Weights {
    /// Reads the tensors of an already parsed (and validated) GGUF.
    pub fn from_gguf(
        architecture: &str,
        content: gguf_file::Content,
        path: &Path,
        device: &Device,
    ) -> candle_core::Result<Self> {
        let mut reader = BufReader::new(File::open(path)?);
        let r = &mut reader;
        Ok(match architecture {
            // Mistral GGUFs use the llama tensor layout and key names.
            "llama" | "mistral" => Self::Llama(quantized_llama::ModelWeights::from_gguf(
                content, r, device,
            )?),
            "qwen2" => Self::Qwen2(quantized_qwen2::ModelWeights::from_gguf(
                content, r, device,
            )?),
            "qwen3" => Self::Qwen3(quantized_qwen3::ModelWeights::from_gguf(
                content, r, device,
            )?),
            "gemma3" => Self::Gemma3(quantized_gemma3::ModelWeights::from_gguf(
                content, r, device,
            )?),
            "phi3" => Self::Phi3(quantized_phi3::ModelWeights::from_gguf(
                false, content, r, device,
            )?),
            "phi2" => Self::Phi2(quantized_phi::ModelWeights::from_gguf(content, r, device)?),
            "glm4" => Self::Glm4(quantized_glm4::ModelWeights::from_gguf(
                content,
                r,
                device,
                DType::F32,
            )?),
            "lfm2" => Self::Lfm2(quantized_lfm2::ModelWeights::from_gguf(content, r, device)?),
            other => candle_core::bail!("unsupported architecture `{other}`"),
        })
    }

    /// The most positions the candle implementation of `architecture` supports,
    /// when it fixes one regardless of the file (its RoPE tables have this size).
    pub fn max_positions(architecture: &str) -> Option<usize> {
        match architecture {
            "llama" | "mistral" => Some(quantized_llama::MAX_SEQ_LEN),
            "phi2" => Some(quantized_phi::MAX_SEQ_LEN),
            "gemma3" => Some(quantized_gemma3::MAX_SEQ_LEN),
            _ => None,
        }
    }

    /// Runs `tokens` at positions `pos..` and returns the logits (f32, vocab-sized)
    /// of the last one. `pos == 0` starts a new sequence.
    pub fn forward(
        &mut self,
        tokens: &[u32],
        pos: usize,
        device: &Device,
    ) -> candle_core::Result<Tensor> {
        if pos == 0 {
            self.reset();
        }
        let input = Tensor::new(tokens, device)?.unsqueeze(0)?;
        let logits = match self {
            Self::Llama(m) => m.forward(&input, pos)?,
            Self::Qwen2(m) => m.forward(&input, pos)?,
            Self::Qwen3(m) => m.forward(&input, pos)?,
            Self::Gemma3(m) => m.forward(&input, pos)?,
            Self::Phi3(m) => m.forward(&input, pos)?,
            Self::Phi2(m) => m.forward(&input, pos)?,
            Self::Glm4(m) => m.forward(&input, pos)?,
            Self::Lfm2(m) => m.forward(&input, pos)?,
        };
        // Some models return (1, vocab), others (1, 1, vocab) or (1, seq, vocab).
        let logits = logits.squeeze(0)?;
        let logits = if logits.rank() == 2 {
            let n = logits.dim(0)?;
            logits.get(n - 1)?
        } else {
            logits
        };
        logits.to_dtype(DType::F32)
    }

    /// Drops the KV cache. Models without a `clear_kv_cache` replace their cache
    /// when called with position 0, which is the only way a sequence starts here.
    fn reset(&mut self) {
        match self {
            Self::Llama(m) => m.clear_kv_cache(),
            Self::Qwen2(m) => m.clear_kv_cache(),
            Self::Qwen3(m) => m.clear_kv_cache(),
            Self::Gemma3(_) | Self::Phi3(_) | Self::Phi2(_) | Self::Glm4(_) | Self::Lfm2(_) => {}
        }
    }
}
