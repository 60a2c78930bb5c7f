//! Validation of untrusted GGUF model files before candle parses them.
//!
//! candle's `gguf_file::Content::read` trusts much of what a file declares;
//! peers have shipped crashes from a 4-byte file, tensor offsets past the end
//! of the file, metadata counts of 2^40 and `general.alignment = 0`. This
//! module walks the header, metadata and tensor table of a GGUF file
//! ([spec](https://github.com/ggml-org/ggml/blob/master/docs/gguf.md)) with a
//! streaming reader: every length is checked against a fixed cap and against
//! the bytes left in the file before anything is read, nothing is allocated in
//! proportion to a declared count, and memory stays flat (a vocabulary costs
//! two bits per token). It never reads tensor data, so it takes milliseconds.

use std::collections::HashSet;
use std::fs::File;
use std::hash::{BuildHasher, RandomState};
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::path::Path;

use candle_core::quantized::GgmlDType;

mod error;
mod metadata;
mod reader;
mod tensors;
mod tokens;

pub use error::GgufError;
use metadata::{read_metadata, Metadata};
use reader::{Src, Text};
use tensors::read_tensor_table;
use tokens::{check_tokens, is_byte_token, Bits};

/// Architectures the inference engine has model code for.
pub const SUPPORTED_ARCHITECTURES: &[&str] = &[
    "llama", "mistral", "qwen2", "qwen3", "gemma3", "phi3", "phi2", "glm4", "lfm2",
];

/// Magic, version, tensor count and metadata count.
const HEADER_LEN: u64 = 24;
/// Far above any released model (a 70B llama has 723 tensors and ~40 keys).
const MAX_TENSORS: u64 = 65_536;
const MAX_KVS: u64 = 65_536;
/// The spec caps keys at 2^16 - 1 bytes.
const MAX_KEY_LEN: u64 = 65_535;
/// Room for the largest chat templates and tokenizer blobs seen in the wild.
const MAX_STRING_LEN: u64 = 64 << 20;
/// Vocabularies and merge lists stay well under this (gemma3: 262,144 tokens).
const MAX_ARRAY_LEN: u64 = 16 << 20;
/// llama.cpp refuses names of 64 bytes or more (GGML_MAX_NAME); we allow some
/// slack for other writers while still bounding what an error message echoes.
const MAX_TENSOR_NAME_LEN: u64 = 256;
/// GGML_MAX_DIMS in ggml.h.
const MAX_DIMS: u32 = 4;
/// The spec's default when `general.alignment` is absent.
const DEFAULT_ALIGNMENT: u64 = 32;
/// LLAMA_TOKEN_TYPE_BYTE in llama.cpp: the token stands for one raw byte.
const BYTE_TOKEN_TYPE: i128 = 6;
/// Smallest encodings: key length + value type + a one-byte value, and name
/// length + n_dims + one dim + ggml type + offset.
const MIN_KV_LEN: u64 = 8 + 4 + 1;
const MIN_TENSOR_INFO_LEN: u64 = 8 + 4 + 8 + 4 + 8;

// GGUF metadata value types (gguf_type in gguf.h).
const TYPE_U32: u32 = 4;
const TYPE_STRING: u32 = 8;
const TYPE_ARRAY: u32 = 9;

/// Keys `{arch}.{suffix}` whose integer values feed [`GgufInfo`], in field order.
const FIELD_SUFFIXES: [&str; 7] = [
    "context_length",
    "block_count",
    "embedding_length",
    "attention.head_count",
    "attention.head_count_kv",
    "attention.key_length",
    "attention.value_length",
];

/// What the validator learned about a file that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GgufInfo {
    pub architecture: String,
    pub file_size: u64,
    pub tensor_count: u64,
    /// Sum of the tensors' data sizes.
    pub tensor_bytes: u64,
    pub context_length: Option<u64>,
    pub block_count: Option<u64>,
    pub embedding_length: Option<u64>,
    pub head_count: Option<u64>,
    /// Some architectures (lfm2) store one value per layer; this is the largest,
    /// so memory estimates err on the high side.
    pub head_count_kv: Option<u64>,
    pub key_length: Option<u64>,
    pub value_length: Option<u64>,
}

impl GgufInfo {
    /// Bytes of a KV cache of `value_bytes` per value (4 for f32, 2 for
    /// f16) holding `context` positions in every layer; 0 when the file
    /// lacks the layer or head counts.
    pub fn kv_cache_bytes(&self, context: u64, value_bytes: u64) -> u64 {
        let layers = self.block_count.unwrap_or(0);
        // llama.cpp's defaults: as many KV heads as query heads, and a head
        // size of embedding_length / head_count.
        let kv_heads = self.head_count_kv.or(self.head_count).unwrap_or(0);
        let head_dim = match (self.embedding_length, self.head_count) {
            (Some(embedding), Some(heads)) => embedding.checked_div(heads).unwrap_or(0),
            _ => 0,
        };
        let key_dim = self.key_length.unwrap_or(head_dim);
        let value_dim = self.value_length.unwrap_or(key_dim);
        [
            layers,
            context,
            kv_heads,
            key_dim.saturating_add(value_dim),
            value_bytes,
        ]
        .into_iter()
        .fold(1u64, u64::saturating_mul)
    }
}

/// Validates the GGUF file at `path` without reading its tensor data.
pub fn validate(path: &Path) -> Result<GgufInfo, GgufError> {
    let name = path
        .file_name()
        .map_or_else(|| "<unnamed>".into(), |n| n.to_string_lossy());
    let io = |source| GgufError::Io {
        file: shown(&name),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    validate_reader(&name, file, size)
}

/// Validates GGUF bytes from `reader`, which holds `file_size` bytes;
/// `file_name` is only used in error messages.
pub fn validate_reader<R: Read + Seek>(
    file_name: &str,
    reader: R,
    file_size: u64,
) -> Result<GgufInfo, GgufError> {
    let name = Path::new(file_name)
        .file_name()
        .map_or(file_name.into(), |n| n.to_string_lossy());
    let mut src = Src::new(shown(&name), reader, file_size)?;
    read_header(&mut src)?;
    let (tensor_count, kv_count) = (
        src.u64(&|| "tensor count".into())?,
        src.u64(&|| "metadata count".into())?,
    );
    check_counts(&src, tensor_count, kv_count)?;
    let meta = read_metadata(&mut src, kv_count)?;
    let Some(architecture) = meta.architecture.clone() else {
        return Err(GgufError::MissingArchitecture { file: src.file });
    };
    let Some(arch) = SUPPORTED_ARCHITECTURES
        .iter()
        .position(|a| *a == architecture)
    else {
        return Err(GgufError::UnsupportedArchitecture {
            file: src.file,
            architecture: shown(&architecture),
        });
    };
    let tensor_bytes = read_tensor_table(&mut src, tensor_count, meta.alignment)?;
    check_tokens(&mut src, &meta)?;
    let [context_length, block_count, embedding_length, head_count, head_count_kv, key_length, value_length] =
        meta.fields[arch];
    Ok(GgufInfo {
        architecture,
        file_size,
        tensor_count,
        tensor_bytes,
        context_length,
        block_count,
        embedding_length,
        head_count,
        head_count_kv,
        key_length,
        value_length,
    })
}

fn read_header<R: Read + Seek>(src: &mut Src<R>) -> Result<(), GgufError> {
    if src.size >= 4 {
        let mut magic = [0u8; 4];
        src.fill(&mut magic, &|| "magic".into())?;
        if &magic != b"GGUF" {
            return Err(GgufError::BadMagic {
                file: src.file.clone(),
                found: magic,
            });
        }
    }
    if src.size < HEADER_LEN {
        return Err(GgufError::TooShort {
            file: src.file.clone(),
            size: src.size,
        });
    }
    let version = src.u32(&|| "version".into())?;
    if !(2..=3).contains(&version) {
        return Err(GgufError::UnsupportedVersion {
            file: src.file.clone(),
            version,
        });
    }
    Ok(())
}

fn check_counts<R: Read + Seek>(src: &Src<R>, tensors: u64, kvs: u64) -> Result<(), GgufError> {
    let file = src.file.clone();
    if tensors > MAX_TENSORS {
        return Err(GgufError::TooManyTensors {
            file,
            count: tensors,
        });
    }
    if kvs > MAX_KVS {
        return Err(GgufError::TooManyKvs { file, count: kvs });
    }
    let needed = (kvs * MIN_KV_LEN).saturating_add(tensors * MIN_TENSOR_INFO_LEN);
    if needed > src.remaining() {
        return Err(GgufError::CountsExceedFile {
            file,
            tensors,
            kvs,
            remaining: src.remaining(),
        });
    }
    Ok(())
}

/// Lazily built description of what is being read, for error messages only.
type What<'a> = &'a dyn Fn() -> String;

/// Which supported architecture and [`FIELD_SUFFIXES`] entry a key names.
fn arch_field(key: &str) -> Option<(usize, usize)> {
    let (arch, suffix) = key.split_once('.')?;
    let arch = SUPPORTED_ARCHITECTURES.iter().position(|a| *a == arch)?;
    Some((arch, FIELD_SUFFIXES.iter().position(|s| *s == suffix)?))
}

/// Byte width of an integer metadata type.
fn int_width(vtype: u32) -> Option<usize> {
    match vtype {
        0 | 1 => Some(1),
        2 | 3 => Some(2),
        4 | 5 => Some(4),
        10 | 11 => Some(8),
        _ => None,
    }
}

/// Byte width of a fixed-size metadata type (numbers and bools).
fn fixed_width(vtype: u32) -> Option<u64> {
    match vtype {
        6 => Some(4),
        7 => Some(1),
        12 => Some(8),
        _ => int_width(vtype).map(|w| w as u64),
    }
}

/// Fewest bytes a value of `vtype` can take, `None` for unknown types.
fn min_value_len(vtype: u32) -> Option<u64> {
    match vtype {
        TYPE_STRING => Some(8),
        TYPE_ARRAY => Some(12),
        _ => fixed_width(vtype),
    }
}

/// ggml type codes candle can load; mirrors candle 0.11.1's crate-private
/// `GgmlDType::from_u32` (codes from ggml.h).
fn ggml_dtype(code: u32) -> Option<GgmlDType> {
    Some(match code {
        0 => GgmlDType::F32,
        1 => GgmlDType::F16,
        2 => GgmlDType::Q4_0,
        3 => GgmlDType::Q4_1,
        6 => GgmlDType::Q5_0,
        7 => GgmlDType::Q5_1,
        8 => GgmlDType::Q8_0,
        9 => GgmlDType::Q8_1,
        10 => GgmlDType::Q2K,
        11 => GgmlDType::Q3K,
        12 => GgmlDType::Q4K,
        13 => GgmlDType::Q5K,
        14 => GgmlDType::Q6K,
        15 => GgmlDType::Q8K,
        30 => GgmlDType::BF16,
        _ => return None,
    })
}

/// Untrusted text as it may appear in an error message: escaped and short.
fn shown(s: &str) -> String {
    const MAX_CHARS: usize = 80;
    let head: String = s.chars().take(MAX_CHARS).collect();
    let mut out = head.escape_debug().to_string();
    if s.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Builds small GGUF files in memory, well-formed or deliberately broken, for
/// the unit tests here and the integration tests in `tests/`.
#[doc(hidden)]
pub mod testing;

#[cfg(test)]
mod tests;
