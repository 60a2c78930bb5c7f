//! Sentence embeddings with all-MiniLM-L6-v2 on candle's BERT.
//!
//! Reproduces sentence-transformers' pipeline for this model: word pieces
//! truncated to 256, a BERT forward pass, mean pooling over the real tokens
//! (padding masked out), then L2 normalisation. Reference vectors made with
//! sentence-transformers live in `shared/testdata/minilm-reference.json`.

use std::path::Path;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{
    PaddingDirection, PaddingParams, PaddingStrategy, Tokenizer, TruncationDirection,
    TruncationParams, TruncationStrategy,
};

/// sentence-transformers' `max_seq_length` for all-MiniLM-L6-v2
/// (`sentence_bert_config.json`); the model was trained on 128 and
/// tokenizer.json says 512, but 256 is what the reference library embeds.
const MAX_TOKENS: usize = 256;

/// Rows per forward pass: large enough to keep the matmuls busy, small
/// enough that one long input does not make a huge padded batch.
const BATCH_SIZE: usize = 32;

const CONFIG_FILE: &str = "config.json";
const TOKENIZER_FILE: &str = "tokenizer.json";
const WEIGHTS_FILE: &str = "model.safetensors";

/// Errors name files as `model-dir/file`, never by absolute path, so that they
/// can reach logs and API clients without exposing the host's layout.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddingError {
    #[error("cannot read {file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("invalid {file}: {source}")]
    Config {
        file: String,
        source: serde_json::Error,
    },
    #[error("invalid {file}: {message}")]
    Tokenizer { file: String, message: String },
    #[error("cannot load weights from {file}: {source}")]
    Weights {
        file: String,
        source: candle_core::Error,
    },
    #[error("tokenization failed: {0}")]
    Tokenize(String),
    #[error("embedding forward pass failed: {0}")]
    Inference(#[from] candle_core::Error),
}

/// A loaded sentence-embedding model; cheap to share by reference across
/// threads (`Send + Sync`), but each call runs a full forward pass, so keep
/// it off async worker threads.
pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    /// The same vocabulary without truncation or padding, for splitting text.
    splitter: Tokenizer,
    dimensions: usize,
    device: Device,
    /// The weights held in memory (f32, as the file stores them).
    weight_bytes: u64,
}

impl Embedder {
    /// Loads config.json, tokenizer.json and model.safetensors from `dir`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self, EmbeddingError> {
        let dir_name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let label = |file: &str| {
            if dir_name.is_empty() {
                file.to_string()
            } else {
                format!("{dir_name}/{file}")
            }
        };
        let read = |file: &str| {
            std::fs::read(dir.join(file)).map_err(|source| EmbeddingError::Read {
                file: label(file),
                source,
            })
        };

        let config: Config = serde_json::from_slice(&read(CONFIG_FILE)?).map_err(|source| {
            EmbeddingError::Config {
                file: label(CONFIG_FILE),
                source,
            }
        })?;

        let tokenizer_error = |message: String| EmbeddingError::Tokenizer {
            file: label(TOKENIZER_FILE),
            message,
        };
        let mut tokenizer = Tokenizer::from_bytes(read(TOKENIZER_FILE)?)
            .map_err(|e| tokenizer_error(e.to_string()))?;
        // tokenizer.json ships with truncation at 128 and fixed padding to
        // 128; replace both so inputs keep up to 256 pieces and a batch pads
        // only to its longest member.
        tokenizer
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: MAX_TOKENS,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| tokenizer_error(e.to_string()))?;
        let mut splitter = tokenizer.clone();
        splitter
            .with_truncation(None)
            .map_err(|e| tokenizer_error(e.to_string()))?;
        splitter.with_padding(None);
        let pad_id = u32::try_from(config.pad_token_id)
            .map_err(|_| tokenizer_error("pad_token_id out of range".into()))?;
        let pad_token = tokenizer
            .id_to_token(pad_id)
            .ok_or_else(|| tokenizer_error(format!("no token for pad id {pad_id}")))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            direction: PaddingDirection::Right,
            pad_to_multiple_of: None,
            pad_id,
            pad_type_id: 0,
            pad_token,
        }));

        // Read into memory rather than mmap: candle's mmap errors carry the
        // full path, and 90 MB is freed once the tensors are built.
        let weights_error = |source| EmbeddingError::Weights {
            file: label(WEIGHTS_FILE),
            source,
        };
        let weights = read(WEIGHTS_FILE)?;
        let weight_bytes = weights.len() as u64;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, device)
            .map_err(weights_error)?;
        let model = BertModel::load(vb, &config).map_err(weights_error)?;

        Ok(Self {
            model,
            tokenizer,
            splitter,
            dimensions: config.hidden_size,
            device: device.clone(),
            weight_bytes,
        })
    }

    /// Bytes of weights this model holds.
    pub fn weight_bytes(&self) -> u64 {
        self.weight_bytes
    }

    /// Bytes the model in `dir` would hold once loaded (its weights file).
    pub fn file_bytes(dir: &Path) -> u64 {
        std::fs::metadata(dir.join(WEIGHTS_FILE)).map_or(0, |m| m.len())
    }

    /// Length of every embedding vector (384 for all-MiniLM-L6-v2).
    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// Word pieces kept per input, [CLS] and [SEP] included; longer inputs
    /// are truncated silently, as sentence-transformers does.
    pub fn max_tokens(&self) -> usize {
        MAX_TOKENS
    }

    /// Number of tokens each input counts for usage (after truncation, including special tokens).
    pub fn count_tokens(&self, inputs: &[&str]) -> Result<Vec<usize>, EmbeddingError> {
        Ok(self.encode(inputs)?.iter().map(real_length).collect())
    }

    /// Byte ranges of the word pieces of `text` (no special tokens, no
    /// truncation), for cutting documents into chunks the model sees whole.
    pub fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, EmbeddingError> {
        let encoding = self
            .splitter
            .encode(text, false)
            .map_err(|e| EmbeddingError::Tokenize(e.to_string()))?;
        Ok(encoding.get_offsets().to_vec())
    }

    /// One L2-normalised vector per input, in input order.
    pub fn embed(&self, inputs: &[&str]) -> Result<Vec<Vec<f32>>, EmbeddingError> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self.encode(inputs)?;
        let lengths: Vec<usize> = encodings.iter().map(real_length).collect();
        let mut out = vec![Vec::new(); inputs.len()];
        for batch in batches_by_length(&lengths, BATCH_SIZE) {
            let vectors = self.embed_batch(&encodings, &lengths, &batch)?;
            for (index, vector) in batch.into_iter().zip(vectors) {
                out[index] = vector;
            }
        }
        Ok(out)
    }

    fn encode(&self, inputs: &[&str]) -> Result<Vec<tokenizers::Encoding>, EmbeddingError> {
        self.tokenizer
            .encode_batch(inputs.to_vec(), true)
            .map_err(|e| EmbeddingError::Tokenize(e.to_string()))
    }

    /// Runs the rows `batch` of `encodings` through the model. The encodings
    /// are right-padded to the longest input of the whole call, so each row
    /// is cut back to the longest member of this batch.
    fn embed_batch(
        &self,
        encodings: &[tokenizers::Encoding],
        lengths: &[usize],
        batch: &[usize],
    ) -> Result<Vec<Vec<f32>>, EmbeddingError> {
        let width = batch.iter().map(|&i| lengths[i]).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(batch.len() * width);
        let mut mask = Vec::with_capacity(batch.len() * width);
        for &i in batch {
            ids.extend_from_slice(&encodings[i].get_ids()[..width]);
            mask.extend_from_slice(&encodings[i].get_attention_mask()[..width]);
        }
        let shape = (batch.len(), width);
        let ids = Tensor::from_vec(ids, shape, &self.device)?;
        let mask = Tensor::from_vec(mask, shape, &self.device)?;
        // A single segment: BERT's token type 0 throughout.
        let token_type_ids = ids.zeros_like()?;

        let hidden = self.model.forward(&ids, &token_type_ids, Some(&mask))?;
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        // Every row holds at least [CLS] and [SEP], so the divisor is >= 2.
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let pooled = summed.broadcast_div(&mask.sum(1)?)?;
        let norms = pooled.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?;
        let normalised = pooled.broadcast_div(&norms)?;
        Ok(normalised.to_vec2::<f32>()?)
    }
}

/// Tokens that carry content: the attention mask is 1 on them and 0 on padding.
fn real_length(encoding: &tokenizers::Encoding) -> usize {
    encoding
        .get_attention_mask()
        .iter()
        .filter(|&&m| m != 0)
        .count()
}

/// Groups input indices into batches of at most `size`, similar lengths
/// together, so short inputs are not padded up to a long neighbour's length.
fn batches_by_length(lengths: &[usize], size: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    // Stable, so equal lengths keep input order and results are reproducible.
    order.sort_by_key(|&i| lengths[i]);
    order.chunks(size.max(1)).map(<[usize]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_group_similar_lengths_and_cover_every_input_once() {
        let lengths = [5, 1, 9, 1, 4];
        let batches = batches_by_length(&lengths, 2);
        assert_eq!(batches, vec![vec![1, 3], vec![4, 0], vec![2]]);
    }

    #[test]
    fn batching_no_inputs_gives_no_batches() {
        assert!(batches_by_length(&[], BATCH_SIZE).is_empty());
    }

    #[test]
    fn a_missing_model_is_reported_without_the_absolute_path() {
        let dir = std::env::temp_dir().join("bacopilot-no-such-model");
        let err = match Embedder::load(&dir, &Device::Cpu) {
            Ok(_) => panic!("loading from a missing directory succeeded"),
            Err(err) => err.to_string(),
        };
        assert!(err.contains("bacopilot-no-such-model/config.json"), "{err}");
        assert!(
            !err.contains(&*std::env::temp_dir().to_string_lossy()),
            "{err}"
        );
    }
}
