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

/// Why a model file was refused. Messages name the file by its file name
/// only, since they can reach HTTP clients.
#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    #[error("model file `{file}` cannot be read: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error(
        "model file `{file}`: only {size} bytes, shorter than the {HEADER_LEN}-byte GGUF header"
    )]
    TooShort { file: String, size: u64 },
    #[error("model file `{file}`: truncated: {what} needs {needed} bytes at byte {offset}, but the file has {file_size} bytes")]
    Truncated {
        file: String,
        what: String,
        needed: u64,
        offset: u64,
        file_size: u64,
    },
    #[error(
        "model file `{file}`: not a GGUF file (starts with bytes {found:02x?}, expected `GGUF`)"
    )]
    BadMagic { file: String, found: [u8; 4] },
    #[error("model file `{file}`: GGUF version {version} is not supported (only 2 and 3 are)")]
    UnsupportedVersion { file: String, version: u32 },
    #[error("model file `{file}`: declares {count} tensors, more than the limit of {MAX_TENSORS}")]
    TooManyTensors { file: String, count: u64 },
    #[error(
        "model file `{file}`: declares {count} metadata entries, more than the limit of {MAX_KVS}"
    )]
    TooManyKvs { file: String, count: u64 },
    #[error("model file `{file}`: declares {tensors} tensors and {kvs} metadata entries, which cannot fit in its remaining {remaining} bytes")]
    CountsExceedFile {
        file: String,
        tensors: u64,
        kvs: u64,
        remaining: u64,
    },
    #[error("model file `{file}`: {what} is {len} bytes long, more than the limit of {limit}")]
    StringTooLong {
        file: String,
        what: String,
        len: u64,
        limit: u64,
    },
    #[error(
        "model file `{file}`: {what} has {len} elements, more than the limit of {MAX_ARRAY_LEN}"
    )]
    ArrayTooLong {
        file: String,
        what: String,
        len: u64,
    },
    #[error("model file `{file}`: metadata `{key}` nests arrays more than one level deep")]
    NestedArray { file: String, key: String },
    #[error("model file `{file}`: metadata `{key}` has unknown value type {value_type}")]
    UnknownValueType {
        file: String,
        key: String,
        value_type: u32,
    },
    #[error("model file `{file}`: {what} is not valid UTF-8")]
    InvalidUtf8 { file: String, what: String },
    #[error("model file `{file}`: metadata key `{key}` appears more than once")]
    DuplicateKey { file: String, key: String },
    #[error("model file `{file}`: metadata `{key}` {problem}")]
    BadMetadataValue {
        file: String,
        key: String,
        problem: &'static str,
    },
    #[error("model file `{file}`: `general.alignment` must be a power-of-two u32, found {found}")]
    BadAlignment { file: String, found: String },
    #[error("model file `{file}`: tensor `{tensor}` has {n_dims} dimensions, not 1 to {MAX_DIMS}")]
    BadDimensionCount {
        file: String,
        tensor: String,
        n_dims: u32,
    },
    #[error("model file `{file}`: tensor `{tensor}` has a dimension of length 0")]
    ZeroDimension { file: String, tensor: String },
    #[error("model file `{file}`: tensor `{tensor}` is so large its size overflows 64 bits")]
    ShapeOverflow { file: String, tensor: String },
    #[error("model file `{file}`: tensor `{tensor}` has unknown ggml type {ggml_type}")]
    UnknownTensorType {
        file: String,
        tensor: String,
        ggml_type: u32,
    },
    #[error("model file `{file}`: tensor `{tensor}` has rows of {row} elements, not a multiple of the {block_size}-element blocks of {dtype}")]
    NotBlockMultiple {
        file: String,
        tensor: String,
        row: u64,
        block_size: u64,
        dtype: String,
    },
    #[error("model file `{file}`: tensor `{tensor}` has data offset {offset}, not a multiple of the alignment {alignment}")]
    MisalignedTensor {
        file: String,
        tensor: String,
        offset: u64,
        alignment: u64,
    },
    #[error("model file `{file}`: tensor `{tensor}` at offset {offset} with {size} bytes overflows 64 bits")]
    TensorOffsetOverflow {
        file: String,
        tensor: String,
        offset: u64,
        size: u64,
    },
    #[error("model file `{file}`: tensor `{tensor}` ends at byte {end} past the end of the file ({file_size} bytes)")]
    TensorPastEnd {
        file: String,
        tensor: String,
        end: u64,
        file_size: u64,
    },
    #[error("model file `{file}`: tensor `{tensor}` appears more than once")]
    DuplicateTensor { file: String, tensor: String },
    #[error("model file `{file}`: metadata `general.architecture` is missing")]
    MissingArchitecture { file: String },
    #[error("model file `{file}`: architecture `{architecture}` is not supported (supported: {})", SUPPORTED_ARCHITECTURES.join(", "))]
    UnsupportedArchitecture { file: String, architecture: String },
    #[error("model file `{file}`: `tokenizer.ggml.tokens` has {tokens} entries but `tokenizer.ggml.token_type` has {types}")]
    TokenCountMismatch {
        file: String,
        tokens: u64,
        types: u64,
    },
    #[error("model file `{file}`: token #{index} `{token}` has type BYTE but is not of the form `<0xHH>`")]
    BadByteToken {
        file: String,
        index: u64,
        token: String,
    },
}

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
    /// Bytes of an f32 KV cache holding `context` positions in every layer;
    /// 0 when the file lacks the layer or head counts.
    pub fn kv_cache_bytes(&self, context: u64) -> u64 {
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
            4,
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

/// A buffered reader that knows how many bytes the file has left, so every
/// declared length is checked before it is trusted.
struct Src<R> {
    inner: BufReader<R>,
    pos: u64,
    size: u64,
    file: String,
    /// Reused for streaming strings, so a vocabulary costs no allocation per token.
    scratch: Vec<u8>,
}

/// A string as far as the validator keeps it: its first bytes and its length.
struct Text {
    head: String,
    /// Length without trailing NULs, which some writers append and candle strips.
    len: u64,
}

impl<R: Read + Seek> Src<R> {
    fn new(file: String, mut reader: R, size: u64) -> Result<Self, GgufError> {
        if let Err(source) = reader.seek(SeekFrom::Start(0)) {
            return Err(GgufError::Io { file, source });
        }
        let inner = BufReader::with_capacity(64 << 10, reader);
        Ok(Self {
            inner,
            pos: 0,
            size,
            file,
            scratch: vec![0; 4096],
        })
    }

    fn remaining(&self) -> u64 {
        self.size.saturating_sub(self.pos)
    }

    fn ensure(&self, needed: u64, what: What) -> Result<(), GgufError> {
        if needed <= self.remaining() {
            return Ok(());
        }
        Err(GgufError::Truncated {
            file: self.file.clone(),
            what: what(),
            needed,
            offset: self.pos,
            file_size: self.size,
        })
    }

    fn fill(&mut self, buf: &mut [u8], what: What) -> Result<(), GgufError> {
        self.ensure(buf.len() as u64, what)?;
        match self.inner.read_exact(buf) {
            Ok(()) => {
                self.pos += buf.len() as u64;
                Ok(())
            }
            // The stream is shorter than the size we were told.
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                self.size = self.pos;
                self.ensure(buf.len() as u64, what)
            }
            Err(source) => Err(GgufError::Io {
                file: self.file.clone(),
                source,
            }),
        }
    }

    fn u32(&mut self, what: What) -> Result<u32, GgufError> {
        let mut b = [0; 4];
        self.fill(&mut b, what)?;
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self, what: What) -> Result<u64, GgufError> {
        let mut b = [0; 8];
        self.fill(&mut b, what)?;
        Ok(u64::from_le_bytes(b))
    }

    fn skip(&mut self, n: u64, what: What) -> Result<(), GgufError> {
        self.ensure(n, what)?;
        // n <= remaining <= size, and no real file is 2^63 bytes long.
        let step = i64::try_from(n).unwrap_or(i64::MAX);
        self.inner
            .seek_relative(step)
            .map_err(|source| GgufError::Io {
                file: self.file.clone(),
                source,
            })?;
        self.pos += n;
        Ok(())
    }

    fn bad_value(&self, key: &str, problem: &'static str) -> GgufError {
        GgufError::BadMetadataValue {
            file: self.file.clone(),
            key: shown(key),
            problem,
        }
    }

    fn seek_to(&mut self, pos: u64) -> Result<(), GgufError> {
        self.inner
            .seek(SeekFrom::Start(pos))
            .map_err(|source| GgufError::Io {
                file: self.file.clone(),
                source,
            })?;
        self.pos = pos;
        Ok(())
    }

    /// Reads the integer metadata value of type `vtype`; `None` (nothing read)
    /// when `vtype` is not an integer type.
    fn int(&mut self, vtype: u32, what: What) -> Result<Option<i128>, GgufError> {
        let mut b = [0u8; 8];
        let Some(width) = int_width(vtype) else {
            return Ok(None);
        };
        self.fill(&mut b[..width], what)?;
        let unsigned = u64::from_le_bytes(b);
        let value = match vtype {
            0 | 2 | 4 | 10 => i128::from(unsigned),
            1 => i128::from(b[0] as i8),
            3 => i128::from(i16::from_le_bytes([b[0], b[1]])),
            5 => i128::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            _ => i128::from(unsigned as i64),
        };
        Ok(Some(value))
    }

    /// Reads a length-prefixed string of at most `limit` bytes, keeping only
    /// its first `keep` bytes; `utf8` checks the whole string while streaming.
    fn string(
        &mut self,
        limit: u64,
        keep: usize,
        utf8: bool,
        what: What,
    ) -> Result<Text, GgufError> {
        let len = self.u64(&|| format!("length of {}", what()))?;
        if len > limit {
            return Err(GgufError::StringTooLong {
                file: self.file.clone(),
                what: what(),
                len,
                limit,
            });
        }
        self.ensure(len, what)?;
        if !utf8 && keep == 0 {
            self.skip(len, what)?;
            return Ok(Text {
                head: String::new(),
                len,
            });
        }
        // The scratch buffer goes back even when streaming fails.
        let mut chunk = std::mem::take(&mut self.scratch);
        let text = self.stream_string(&mut chunk, len, keep, utf8, what);
        self.scratch = chunk;
        text
    }

    /// Streams `len` bytes through `chunk`, validating UTF-8 across chunk
    /// boundaries when asked and keeping the first `keep` bytes.
    fn stream_string(
        &mut self,
        chunk: &mut [u8],
        len: u64,
        keep: usize,
        utf8: bool,
        what: What,
    ) -> Result<Text, GgufError> {
        let (mut left, mut carry, mut trailing_nuls) = (len, 0usize, 0u64);
        let mut head = Vec::new();
        while left > 0 {
            // `carry` holds the start of a character split across chunks (< 4 bytes).
            let n = (chunk.len() - carry).min(usize::try_from(left).unwrap_or(usize::MAX));
            let filled = carry + n;
            self.fill(&mut chunk[carry..filled], what)?;
            left -= n as u64;
            let fresh = &chunk[carry..filled];
            head.extend_from_slice(&fresh[..keep.saturating_sub(head.len()).min(n)]);
            trailing_nuls = match fresh.iter().rposition(|&b| b != 0) {
                Some(p) => (n - 1 - p) as u64,
                None => trailing_nuls + n as u64,
            };
            carry = 0;
            if utf8 {
                match std::str::from_utf8(&chunk[..filled]) {
                    Ok(_) => {}
                    Err(e) if e.error_len().is_none() => {
                        chunk.copy_within(e.valid_up_to()..filled, 0);
                        carry = filled - e.valid_up_to();
                    }
                    Err(_) => carry = usize::MAX,
                }
            }
            // An invalid byte, or a character cut off by the end of the string.
            if carry == usize::MAX || (left == 0 && carry != 0) {
                return Err(GgufError::InvalidUtf8 {
                    file: self.file.clone(),
                    what: what(),
                });
            }
        }
        let valid = std::str::from_utf8(&head).map_or_else(|e| e.valid_up_to(), str::len);
        head.truncate(valid);
        let head = String::from_utf8(head).unwrap_or_default();
        Ok(Text {
            head,
            len: len - trailing_nuls,
        })
    }
}

/// The metadata the validator keeps: a few numbers and two bits per token.
struct Metadata {
    architecture: Option<String>,
    alignment: u64,
    /// `{arch}.{suffix}` values for every supported arch, since the
    /// architecture key may come after them.
    fields: [[Option<u64>; FIELD_SUFFIXES.len()]; SUPPORTED_ARCHITECTURES.len()],
    /// Where the token strings start, and which look like `<0xHH>`.
    tokens: Option<(u64, Bits)>,
    /// Which tokens have type BYTE.
    byte_types: Option<Bits>,
}

fn read_metadata<R: Read + Seek>(src: &mut Src<R>, kv_count: u64) -> Result<Metadata, GgufError> {
    let mut meta = Metadata {
        architecture: None,
        alignment: DEFAULT_ALIGNMENT,
        fields: Default::default(),
        tokens: None,
        byte_types: None,
    };
    // Keys are remembered by hash: a key may be 64 KiB and there may be 65,536 of them.
    let hasher = RandomState::new();
    let mut seen = HashSet::new();
    for i in 0..kv_count {
        let key = src
            .string(MAX_KEY_LEN, MAX_KEY_LEN as usize, true, &|| {
                format!("key of metadata entry #{i}")
            })?
            .head;
        if !seen.insert(hasher.hash_one(&key)) {
            return Err(GgufError::DuplicateKey {
                file: src.file.clone(),
                key: shown(&key),
            });
        }
        let vtype = src.u32(&|| format!("type of metadata `{}`", shown(&key)))?;
        read_value(src, &mut meta, &key, vtype)?;
    }
    Ok(meta)
}

fn read_value<R: Read + Seek>(
    src: &mut Src<R>,
    meta: &mut Metadata,
    key: &str,
    vtype: u32,
) -> Result<(), GgufError> {
    let what = || format!("metadata `{}`", shown(key));
    match key {
        "general.architecture" => {
            if vtype != TYPE_STRING {
                return Err(src.bad_value(key, "must be a string"));
            }
            // Longer names cannot be supported ones; 64 bytes suffice for the error.
            let text = src.string(MAX_STRING_LEN, 64, true, &what)?;
            meta.architecture = Some(text.head.trim_end_matches('\0').to_owned());
        }
        "general.alignment" => {
            let found = if vtype == TYPE_U32 {
                let value = src.u32(&what)?;
                if value.is_power_of_two() {
                    meta.alignment = u64::from(value);
                    return Ok(());
                }
                value.to_string()
            } else {
                format!("a value of type {vtype}")
            };
            return Err(GgufError::BadAlignment {
                file: src.file.clone(),
                found,
            });
        }
        "tokenizer.ggml.tokens" => {
            let (elem, count) = array_header(src, key, vtype, 0)?;
            if elem != TYPE_STRING {
                return Err(src.bad_value(key, "must be an array of strings"));
            }
            let first = src.pos;
            let mut byte_forms = Bits::default();
            for j in 0..count {
                let token = src.string(MAX_STRING_LEN, 8, true, &|| {
                    format!("token #{j} of `{key}`")
                })?;
                byte_forms.push(is_byte_token(&token));
            }
            meta.tokens = Some((first, byte_forms));
        }
        "tokenizer.ggml.token_type" => {
            let (elem, count) = array_header(src, key, vtype, 0)?;
            if int_width(elem).is_none() {
                return Err(src.bad_value(key, "must be an array of integers"));
            }
            let mut byte_types = Bits::default();
            for _ in 0..count {
                byte_types.push(src.int(elem, &what)? == Some(BYTE_TOKEN_TYPE));
            }
            meta.byte_types = Some(byte_types);
        }
        _ => match arch_field(key) {
            Some((arch, field)) => meta.fields[arch][field] = Some(read_count(src, key, vtype)?),
            None => skip_value(src, key, vtype, 0)?,
        },
    }
    Ok(())
}

/// Reads a count such as `llama.block_count`: any integer type, or an array
/// of them (one per layer), of which the largest is kept.
fn read_count<R: Read + Seek>(src: &mut Src<R>, key: &str, vtype: u32) -> Result<u64, GgufError> {
    let what = || format!("metadata `{}`", shown(key));
    let (elem, count) = match vtype {
        TYPE_ARRAY => array_header(src, key, vtype, 0)?,
        _ => (vtype, 1),
    };
    if int_width(elem).is_none() {
        return Err(src.bad_value(key, "must be a non-negative integer or an array of them"));
    }
    let mut largest = 0;
    for _ in 0..count {
        let value = src.int(elem, &what)?.unwrap_or_default();
        largest = largest
            .max(u64::try_from(value).map_err(|_| src.bad_value(key, "must not be negative"))?);
    }
    Ok(largest)
}

/// Reads an array's element type and length, refusing lengths that exceed
/// the cap or could not fit in the rest of the file.
fn array_header<R: Read + Seek>(
    src: &mut Src<R>,
    key: &str,
    vtype: u32,
    depth: u8,
) -> Result<(u32, u64), GgufError> {
    let what = || format!("metadata `{}`", shown(key));
    if vtype != TYPE_ARRAY {
        return Err(src.bad_value(key, "must be an array"));
    }
    let elem = src.u32(&what)?;
    let count = src.u64(&what)?;
    if elem == TYPE_ARRAY && depth >= 1 {
        return Err(GgufError::NestedArray {
            file: src.file.clone(),
            key: shown(key),
        });
    }
    if count > MAX_ARRAY_LEN {
        return Err(GgufError::ArrayTooLong {
            file: src.file.clone(),
            what: what(),
            len: count,
        });
    }
    let Some(min_len) = min_value_len(elem) else {
        return Err(GgufError::UnknownValueType {
            file: src.file.clone(),
            key: shown(key),
            value_type: elem,
        });
    };
    src.ensure(count * min_len, &|| {
        format!("{count} elements of {}", what())
    })?;
    Ok((elem, count))
}

/// Steps over a value the validator does not need, still checking its bounds.
fn skip_value<R: Read + Seek>(
    src: &mut Src<R>,
    key: &str,
    vtype: u32,
    depth: u8,
) -> Result<(), GgufError> {
    let what = || format!("metadata `{}`", shown(key));
    if let Some(width) = fixed_width(vtype) {
        return src.skip(width, &what);
    }
    match vtype {
        TYPE_STRING => src.string(MAX_STRING_LEN, 0, false, &what).map(drop),
        TYPE_ARRAY => {
            let (elem, count) = array_header(src, key, vtype, depth)?;
            match fixed_width(elem) {
                // array_header checked that count * width fits in the file.
                Some(width) => src.skip(count * width, &what),
                None => (0..count).try_for_each(|_| skip_value(src, key, elem, depth + 1)),
            }
        }
        _ => Err(GgufError::UnknownValueType {
            file: src.file.clone(),
            key: shown(key),
            value_type: vtype,
        }),
    }
}

/// Checks every tensor's shape, type and placement; returns the total data size.
fn read_tensor_table<R: Read + Seek>(
    src: &mut Src<R>,
    count: u64,
    alignment: u64,
) -> Result<u64, GgufError> {
    let hasher = RandomState::new();
    let mut seen = HashSet::new();
    let mut total = 0u64;
    // Only the tensor reaching furthest matters once the data section's start is known.
    let mut furthest: Option<(String, u64)> = None;
    for i in 0..count {
        let name = src
            .string(
                MAX_TENSOR_NAME_LEN,
                MAX_TENSOR_NAME_LEN as usize,
                true,
                &|| format!("name of tensor #{i}"),
            )?
            .head;
        let what = || format!("tensor `{}`", shown(&name));
        let (file, tensor) = (src.file.clone(), shown(&name));
        if !seen.insert(hasher.hash_one(&name)) {
            return Err(GgufError::DuplicateTensor { file, tensor });
        }
        let n_dims = src.u32(&what)?;
        if n_dims == 0 || n_dims > MAX_DIMS {
            return Err(GgufError::BadDimensionCount {
                file,
                tensor,
                n_dims,
            });
        }
        let (mut elements, mut row) = (1u64, 0u64);
        for d in 0..n_dims {
            let dim = src.u64(&what)?;
            if dim == 0 {
                return Err(GgufError::ZeroDimension { file, tensor });
            }
            // GGUF lists dimensions innermost first: the first is the row length.
            if d == 0 {
                row = dim;
            }
            let Some(product) = elements.checked_mul(dim) else {
                return Err(GgufError::ShapeOverflow { file, tensor });
            };
            elements = product;
        }
        let ggml_type = src.u32(&what)?;
        let Some(dtype) = ggml_dtype(ggml_type) else {
            return Err(GgufError::UnknownTensorType {
                file,
                tensor,
                ggml_type,
            });
        };
        let (block_size, type_size) = (dtype.block_size() as u64, dtype.type_size() as u64);
        // Quantized blocks never straddle rows (llama.cpp checks the same).
        if !row.is_multiple_of(block_size) {
            let dtype = format!("{dtype:?}");
            return Err(GgufError::NotBlockMultiple {
                file,
                tensor,
                row,
                block_size,
                dtype,
            });
        }
        let Some(size) = (elements / block_size).checked_mul(type_size) else {
            return Err(GgufError::ShapeOverflow { file, tensor });
        };
        let offset = src.u64(&what)?;
        if !offset.is_multiple_of(alignment) {
            return Err(GgufError::MisalignedTensor {
                file,
                tensor,
                offset,
                alignment,
            });
        }
        let Some(end) = offset.checked_add(size) else {
            return Err(GgufError::TensorOffsetOverflow {
                file,
                tensor,
                offset,
                size,
            });
        };
        if furthest.as_ref().is_none_or(|(_, e)| end > *e) {
            furthest = Some((name, end));
        }
        total = total.saturating_add(size);
    }
    // The data section starts at the end of the tensor table, aligned.
    let data_start = src
        .pos
        .checked_next_multiple_of(alignment)
        .unwrap_or(u64::MAX);
    if let Some((name, end)) = furthest {
        let end = data_start.saturating_add(end);
        if end > src.size {
            let (file, tensor) = (src.file.clone(), shown(&name));
            return Err(GgufError::TensorPastEnd {
                file,
                tensor,
                end,
                file_size: src.size,
            });
        }
    }
    Ok(total)
}

/// Checks that the token list and its types agree and that BYTE tokens are
/// `<0xHH>`, which llama.cpp-style detokenisers parse as hex.
fn check_tokens<R: Read + Seek>(src: &mut Src<R>, meta: &Metadata) -> Result<(), GgufError> {
    let (Some((first, byte_forms)), Some(byte_types)) = (&meta.tokens, &meta.byte_types) else {
        return Ok(());
    };
    if byte_forms.len != byte_types.len {
        let (tokens, types) = (byte_forms.len, byte_types.len);
        return Err(GgufError::TokenCountMismatch {
            file: src.file.clone(),
            tokens,
            types,
        });
    }
    let Some(index) = byte_types.first_without(byte_forms) else {
        return Ok(());
    };
    // Only the offending token is read again, so the vocabulary never has to stay in memory.
    src.seek_to(*first)?;
    let what = || "`tokenizer.ggml.tokens`".to_owned();
    for _ in 0..index {
        let len = src.u64(&what)?;
        src.skip(len, &what)?;
    }
    let token = src.string(MAX_STRING_LEN, 32, true, &what)?.head;
    Err(GgufError::BadByteToken {
        file: src.file.clone(),
        index,
        token: shown(&token),
    })
}

/// A growable bit set, so per-token flags cost a bit each.
#[derive(Default)]
struct Bits {
    words: Vec<u64>,
    len: u64,
}

impl Bits {
    fn push(&mut self, bit: bool) {
        if self.len.is_multiple_of(64) {
            self.words.push(0);
        }
        if let Some(word) = self.words.last_mut() {
            *word |= u64::from(bit) << (self.len % 64);
        }
        self.len += 1;
    }

    /// The first index set here but not in `other`.
    fn first_without(&self, other: &Bits) -> Option<u64> {
        let pairs = self
            .words
            .iter()
            .zip(other.words.iter().chain(std::iter::repeat(&0)));
        pairs
            .map(|(a, b)| a & !b)
            .enumerate()
            .find(|(_, w)| *w != 0)
            .map(|(i, w)| i as u64 * 64 + u64::from(w.trailing_zeros()))
    }
}

fn is_byte_token(token: &Text) -> bool {
    match token.head.as_bytes() {
        [b'<', b'0', b'x', hi, lo, b'>', ..] => {
            token.len == 6 && hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit()
        }
        _ => false,
    }
}

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
pub mod testing {
    /// A GGUF file under construction. Tensor data is zeros, laid out at the
    /// alignment set with `kv_u32("general.alignment", ..)` (default 32).
    #[derive(Debug, Clone)]
    pub struct GgufBuilder {
        magic: [u8; 4],
        version: u32,
        kvs: Vec<u8>,
        kv_count: u64,
        raw_kv_count: Option<u64>,
        raw_tensor_count: Option<u64>,
        tensors: Vec<Tensor>,
        alignment: u64,
    }

    #[derive(Debug, Clone)]
    struct Tensor {
        name: String,
        dims: Vec<u64>,
        ggml_type: u32,
        offset: Option<u64>,
        data_len: usize,
    }

    /// A GGUF string: u64 length, then the bytes.
    pub fn gguf_string(s: &str) -> Vec<u8> {
        let mut out = (s.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(s.as_bytes());
        out
    }

    impl Default for GgufBuilder {
        fn default() -> Self {
            Self::new()
        }
    }

    impl GgufBuilder {
        /// An empty version-3 file: no metadata, no tensors.
        pub fn new() -> Self {
            Self {
                magic: *b"GGUF",
                version: 3,
                kvs: Vec::new(),
                kv_count: 0,
                raw_kv_count: None,
                raw_tensor_count: None,
                tensors: Vec::new(),
                alignment: 32,
            }
        }

        pub fn magic(mut self, magic: [u8; 4]) -> Self {
            self.magic = magic;
            self
        }

        pub fn version(mut self, version: u32) -> Self {
            self.version = version;
            self
        }

        /// Declares `count` metadata entries whatever was added.
        pub fn raw_kv_count(mut self, count: u64) -> Self {
            self.raw_kv_count = Some(count);
            self
        }

        /// Declares `count` tensors whatever was added.
        pub fn raw_tensor_count(mut self, count: u64) -> Self {
            self.raw_tensor_count = Some(count);
            self
        }

        /// Adds a key with value type `value_type` followed by `value` verbatim.
        pub fn kv_raw(mut self, key: &str, value_type: u32, value: &[u8]) -> Self {
            self.kvs.extend(gguf_string(key));
            self.kvs.extend(value_type.to_le_bytes());
            self.kvs.extend_from_slice(value);
            self.kv_count += 1;
            self
        }

        pub fn kv_str(self, key: &str, value: &str) -> Self {
            self.kv_raw(key, 8, &gguf_string(value))
        }

        pub fn kv_u32(mut self, key: &str, value: u32) -> Self {
            if key == "general.alignment" && value.is_power_of_two() {
                self.alignment = u64::from(value);
            }
            self.kv_raw(key, 4, &value.to_le_bytes())
        }

        pub fn kv_u64(self, key: &str, value: u64) -> Self {
            self.kv_raw(key, 10, &value.to_le_bytes())
        }

        pub fn kv_i32(self, key: &str, value: i32) -> Self {
            self.kv_raw(key, 5, &value.to_le_bytes())
        }

        pub fn kv_str_array(self, key: &str, values: &[&str]) -> Self {
            let mut value = 8u32.to_le_bytes().to_vec();
            value.extend((values.len() as u64).to_le_bytes());
            values.iter().for_each(|v| value.extend(gguf_string(v)));
            self.kv_raw(key, 9, &value)
        }

        pub fn kv_i32_array(self, key: &str, values: &[i32]) -> Self {
            let mut value = 5u32.to_le_bytes().to_vec();
            value.extend((values.len() as u64).to_le_bytes());
            values.iter().for_each(|v| value.extend(v.to_le_bytes()));
            self.kv_raw(key, 9, &value)
        }

        /// Adds `tokenizer.ggml.tokens` and `tokenizer.ggml.token_type`.
        pub fn token_list(self, tokens: &[&str], types: &[i32]) -> Self {
            self.kv_str_array("tokenizer.ggml.tokens", tokens)
                .kv_i32_array("tokenizer.ggml.token_type", types)
        }

        /// Adds an F32 tensor with zeroed data; its recorded offset is where
        /// the data lies unless overridden. Use `tensor_raw` for huge shapes.
        pub fn tensor_f32(
            mut self,
            name: &str,
            dims: &[u64],
            data_offset_override: Option<u64>,
        ) -> Self {
            let elements = dims.iter().product::<u64>() as usize;
            self.tensors.push(Tensor {
                name: name.into(),
                dims: dims.to_vec(),
                ggml_type: 0,
                offset: data_offset_override,
                data_len: elements * 4,
            });
            self
        }

        /// Adds a tensor entry with any dims, ggml type code and offset, and no data.
        pub fn tensor_raw(mut self, name: &str, dims: &[u64], ggml_type: u32, offset: u64) -> Self {
            self.tensors.push(Tensor {
                name: name.into(),
                dims: dims.to_vec(),
                ggml_type,
                offset: Some(offset),
                data_len: 0,
            });
            self
        }

        pub fn build(&self) -> Vec<u8> {
            let align =
                |v: &mut Vec<u8>| v.resize(v.len().next_multiple_of(self.alignment as usize), 0);
            let mut out = self.magic.to_vec();
            out.extend(self.version.to_le_bytes());
            let tensor_count = self.raw_tensor_count.unwrap_or(self.tensors.len() as u64);
            out.extend(tensor_count.to_le_bytes());
            out.extend(self.raw_kv_count.unwrap_or(self.kv_count).to_le_bytes());
            out.extend_from_slice(&self.kvs);
            let mut data = Vec::new();
            for tensor in &self.tensors {
                out.extend(gguf_string(&tensor.name));
                out.extend((tensor.dims.len() as u32).to_le_bytes());
                tensor.dims.iter().for_each(|d| out.extend(d.to_le_bytes()));
                out.extend(tensor.ggml_type.to_le_bytes());
                align(&mut data);
                let offset = tensor.offset.unwrap_or(data.len() as u64);
                data.resize(data.len() + tensor.data_len, 0);
                out.extend(offset.to_le_bytes());
            }
            if !data.is_empty() {
                align(&mut out);
                out.extend(data);
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{gguf_string, GgufBuilder};
    use super::*;
    use std::io::Cursor;

    fn valid() -> GgufBuilder {
        GgufBuilder::new()
            .kv_str("general.architecture", "llama")
            .kv_u32("llama.context_length", 2048)
            .kv_u32("llama.block_count", 2)
            .kv_u32("llama.embedding_length", 64)
            .kv_u32("llama.attention.head_count", 4)
            .kv_u64("llama.attention.head_count_kv", 2)
            .kv_str("tokenizer.chat_template", "{{ messages }}")
            .token_list(&["<unk>", "<0x0A>", "hello"], &[2, 6, 1])
            .tensor_f32("token_embd.weight", &[64, 3], None)
            .tensor_f32("output_norm.weight", &[64], None)
    }

    fn check(bytes: &[u8]) -> Result<GgufInfo, GgufError> {
        validate_reader("test.gguf", Cursor::new(bytes), bytes.len() as u64)
    }

    fn refused(builder: GgufBuilder) -> GgufError {
        check(&builder.build()).expect_err("malformed file was accepted")
    }

    #[test]
    fn a_well_formed_file_passes_and_reports_its_shape() {
        let bytes = valid().build();
        let info = check(&bytes).unwrap();
        assert_eq!(info.architecture, "llama");
        assert_eq!(info.file_size, bytes.len() as u64);
        assert_eq!(info.tensor_count, 2);
        assert_eq!(info.tensor_bytes, (64 * 3 + 64) * 4);
        assert_eq!(info.context_length, Some(2048));
        assert_eq!(info.block_count, Some(2));
        assert_eq!(info.embedding_length, Some(64));
        assert_eq!((info.head_count, info.head_count_kv), (Some(4), Some(2)));
        assert_eq!((info.key_length, info.value_length), (None, None));
        // 2 layers * 2048 positions * 2 KV heads * (16 + 16) dims * 4 bytes.
        assert_eq!(info.kv_cache_bytes(2048), 2 * 2048 * 2 * 32 * 4);
    }

    #[test]
    fn kv_cache_size_saturates_instead_of_overflowing() {
        let info = check(&valid().build()).unwrap();
        assert_eq!(info.kv_cache_bytes(u64::MAX), u64::MAX);
    }

    #[test]
    fn a_four_byte_file_is_too_short() {
        assert!(matches!(
            check(b"GGUF"),
            Err(GgufError::TooShort { size: 4, .. })
        ));
        assert!(matches!(
            check(b""),
            Err(GgufError::TooShort { size: 0, .. })
        ));
    }

    #[test]
    fn a_file_without_the_gguf_magic_is_refused() {
        let err = refused(valid().magic(*b"GGML"));
        assert!(matches!(err, GgufError::BadMagic { .. }), "{err}");
    }

    #[test]
    fn versions_other_than_2_and_3_are_refused() {
        for version in [1, 99] {
            let err = refused(valid().version(version));
            assert!(
                matches!(err, GgufError::UnsupportedVersion { version: v, .. } if v == version),
                "{err}"
            );
        }
        assert!(check(&valid().version(2).build()).is_ok());
    }

    #[test]
    fn a_file_cut_inside_its_metadata_is_reported_truncated() {
        let bytes = valid().build();
        let cut = bytes
            .windows(14)
            .position(|w| w == b"{{ messages }}")
            .unwrap()
            + 5;
        let err = check(&bytes[..cut]).unwrap_err();
        assert!(matches!(err, GgufError::Truncated { .. }), "{err}");
        // A caller overstating the size gets the same answer, not an I/O error.
        let err =
            validate_reader("t.gguf", Cursor::new(&bytes[..cut]), bytes.len() as u64).unwrap_err();
        assert!(matches!(err, GgufError::Truncated { .. }), "{err}");
    }

    #[test]
    fn huge_declared_counts_are_refused_before_allocating() {
        assert!(matches!(
            refused(valid().raw_kv_count(1 << 40)),
            GgufError::TooManyKvs { .. }
        ));
        assert!(matches!(
            refused(valid().raw_tensor_count(1 << 40)),
            GgufError::TooManyTensors { .. }
        ));
        let err = refused(valid().raw_kv_count(60_000));
        assert!(matches!(err, GgufError::CountsExceedFile { .. }), "{err}");
    }

    #[test]
    fn a_string_length_of_2_pow_40_is_refused() {
        let err = refused(valid().kv_raw("x.template", 8, &(1u64 << 40).to_le_bytes()));
        assert!(
            matches!(err, GgufError::StringTooLong { len, .. } if len == 1 << 40),
            "{err}"
        );
    }

    #[test]
    fn an_array_count_of_2_pow_40_is_refused() {
        let mut header = 4u32.to_le_bytes().to_vec();
        header.extend((1u64 << 40).to_le_bytes());
        let err = refused(valid().kv_raw("tokenizer.ggml.scores", 9, &header));
        assert!(matches!(err, GgufError::ArrayTooLong { .. }), "{err}");
        // Under the cap but beyond what the file holds.
        let mut header = 4u32.to_le_bytes().to_vec();
        header.extend(1_000_000u64.to_le_bytes());
        let err = refused(valid().kv_raw("tokenizer.ggml.scores", 9, &header));
        assert!(matches!(err, GgufError::Truncated { .. }), "{err}");
    }

    #[test]
    fn arrays_nested_more_than_one_level_are_refused() {
        // An array of one array of u8 is allowed.
        let mut one_level = 9u32.to_le_bytes().to_vec();
        one_level.extend(1u64.to_le_bytes());
        one_level.extend(0u32.to_le_bytes());
        one_level.extend(1u64.to_le_bytes());
        one_level.push(7);
        assert!(check(&valid().kv_raw("x.nested", 9, &one_level).build()).is_ok());
        let mut two_levels = 9u32.to_le_bytes().to_vec();
        two_levels.extend(1u64.to_le_bytes());
        two_levels.extend(9u32.to_le_bytes());
        two_levels.extend(1u64.to_le_bytes());
        two_levels.extend([0u8; 12]);
        let err = refused(valid().kv_raw("x.nested", 9, &two_levels));
        assert!(matches!(err, GgufError::NestedArray { .. }), "{err}");
    }

    #[test]
    fn unknown_metadata_value_types_are_refused() {
        let err = refused(valid().kv_raw("x.odd", 13, &[0; 8]));
        assert!(
            matches!(err, GgufError::UnknownValueType { value_type: 13, .. }),
            "{err}"
        );
    }

    #[test]
    fn duplicate_metadata_keys_are_refused() {
        let err = refused(valid().kv_u32("llama.block_count", 3));
        assert!(matches!(err, GgufError::DuplicateKey { .. }), "{err}");
    }

    #[test]
    fn alignment_must_be_a_nonzero_power_of_two_u32() {
        for alignment in [0, 3] {
            let err = refused(valid().kv_u32("general.alignment", alignment));
            assert!(matches!(err, GgufError::BadAlignment { .. }), "{err}");
        }
        let err = refused(valid().kv_u64("general.alignment", 32));
        assert!(matches!(err, GgufError::BadAlignment { .. }), "{err}");
        assert!(check(&valid().kv_u32("general.alignment", 64).build()).is_ok());
    }

    #[test]
    fn a_tensor_ending_past_the_end_of_the_file_is_refused() {
        let err = refused(valid().tensor_f32("blk.0.attn_q.weight", &[8], Some(1 << 20)));
        assert!(matches!(err, GgufError::TensorPastEnd { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.starts_with("model file `test.gguf`: tensor `blk.0.attn_q.weight` ends at byte"),
            "{msg}"
        );
        let err = refused(valid().tensor_raw("w", &[8], 0, u64::MAX - 31));
        assert!(
            matches!(err, GgufError::TensorOffsetOverflow { .. }),
            "{err}"
        );
    }

    #[test]
    fn a_tensor_offset_off_the_alignment_is_refused() {
        let err = refused(valid().tensor_f32("w", &[8], Some(4)));
        assert!(
            matches!(
                err,
                GgufError::MisalignedTensor {
                    offset: 4,
                    alignment: 32,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn tensor_shapes_that_overflow_are_refused() {
        let err = refused(valid().tensor_raw("w", &[u64::MAX / 2, 4], 0, 0));
        assert!(matches!(err, GgufError::ShapeOverflow { .. }), "{err}");
        // Element count fits but the byte size does not.
        let err = refused(valid().tensor_raw("w", &[1 << 32, 1 << 31], 0, 0));
        assert!(matches!(err, GgufError::ShapeOverflow { .. }), "{err}");
    }

    #[test]
    fn tensors_need_one_to_four_nonzero_dimensions() {
        let err = refused(valid().tensor_raw("w", &[1, 1, 1, 1, 1], 0, 0));
        assert!(
            matches!(err, GgufError::BadDimensionCount { n_dims: 5, .. }),
            "{err}"
        );
        let err = refused(valid().tensor_raw("w", &[], 0, 0));
        assert!(
            matches!(err, GgufError::BadDimensionCount { n_dims: 0, .. }),
            "{err}"
        );
        let err = refused(valid().tensor_raw("w", &[4, 0], 0, 0));
        assert!(matches!(err, GgufError::ZeroDimension { .. }), "{err}");
    }

    #[test]
    fn unknown_ggml_types_and_partial_blocks_are_refused() {
        let err = refused(valid().tensor_raw("w", &[32], 99, 0));
        assert!(
            matches!(err, GgufError::UnknownTensorType { ggml_type: 99, .. }),
            "{err}"
        );
        // Q4_0 packs 32 elements per block; a 33-element row cannot be stored.
        let err = refused(valid().tensor_raw("w", &[33, 32], 2, 0));
        assert!(
            matches!(
                err,
                GgufError::NotBlockMultiple {
                    row: 33,
                    block_size: 32,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn duplicate_and_overlong_tensor_names_are_refused() {
        let err = refused(valid().tensor_f32("output_norm.weight", &[8], None));
        assert!(matches!(err, GgufError::DuplicateTensor { .. }), "{err}");
        let err = refused(valid().tensor_f32(&"x".repeat(300), &[8], None));
        assert!(
            matches!(err, GgufError::StringTooLong { len: 300, .. }),
            "{err}"
        );
    }

    #[test]
    fn byte_tokens_must_be_two_hex_digits() {
        for bad in ["<0x-1>", "<0xZZ>", "<0x0A0>", "0x0A"] {
            let file = GgufBuilder::new()
                .kv_str("general.architecture", "llama")
                .token_list(&["<unk>", bad], &[2, 6])
                .build();
            let err = check(&file).unwrap_err();
            assert!(
                matches!(&err, GgufError::BadByteToken { index: 1, token, .. } if token == bad),
                "{err}"
            );
        }
    }

    #[test]
    fn token_lists_and_types_must_have_the_same_length() {
        let file = GgufBuilder::new()
            .kv_str("general.architecture", "llama")
            .token_list(&["a", "b", "c"], &[1, 1])
            .build();
        assert!(matches!(
            check(&file),
            Err(GgufError::TokenCountMismatch {
                tokens: 3,
                types: 2,
                ..
            })
        ));
    }

    fn with_token(token: &[u8]) -> Result<GgufInfo, GgufError> {
        let mut tokens = 8u32.to_le_bytes().to_vec();
        tokens.extend(1u64.to_le_bytes());
        tokens.extend((token.len() as u64).to_le_bytes());
        tokens.extend(token);
        let file = GgufBuilder::new()
            .kv_str("general.architecture", "llama")
            .kv_raw("tokenizer.ggml.tokens", 9, &tokens)
            .build();
        check(&file)
    }

    #[test]
    fn tokens_must_be_valid_utf8() {
        assert!(matches!(
            with_token(&[0xC3, 0x28]),
            Err(GgufError::InvalidUtf8 { .. })
        ));
        let mut long = vec![b'a'; 5000];
        long.push(0xFF);
        assert!(matches!(
            with_token(&long),
            Err(GgufError::InvalidUtf8 { .. })
        ));
        // A character cut off by the end of the string.
        assert!(matches!(
            with_token(&[b'a', 0xC3]),
            Err(GgufError::InvalidUtf8 { .. })
        ));
    }

    #[test]
    fn characters_split_across_read_chunks_are_valid_utf8() {
        // The reader streams strings in 4096-byte chunks; put `é` across the seam.
        let mut token = vec![b'a'; 4095];
        token.extend("é".as_bytes());
        assert!(with_token(&token).is_ok());
    }

    #[test]
    fn an_unsupported_or_missing_architecture_is_refused() {
        let file = GgufBuilder::new()
            .kv_str("general.architecture", "gpt-j-9000")
            .build();
        let err = check(&file).unwrap_err();
        assert!(
            matches!(err, GgufError::UnsupportedArchitecture { .. }),
            "{err}"
        );
        assert!(
            err.to_string().contains("gpt-j-9000") && err.to_string().contains("qwen3, gemma3"),
            "{err}"
        );
        let file = GgufBuilder::new().kv_u32("llama.block_count", 2).build();
        assert!(matches!(
            check(&file),
            Err(GgufError::MissingArchitecture { .. })
        ));
        let file = GgufBuilder::new().kv_u32("general.architecture", 2).build();
        assert!(matches!(
            check(&file),
            Err(GgufError::BadMetadataValue { .. })
        ));
    }

    #[test]
    fn counts_accept_any_integer_type_but_not_negatives() {
        let file = GgufBuilder::new()
            .kv_raw("gemma3.block_count", 0, &[18])
            .kv_str("general.architecture", "gemma3")
            .build();
        assert_eq!(check(&file).unwrap().block_count, Some(18));
        let file = GgufBuilder::new()
            .kv_str("general.architecture", "llama")
            .kv_i32("llama.block_count", -1)
            .build();
        assert!(matches!(
            check(&file),
            Err(GgufError::BadMetadataValue { .. })
        ));
    }

    #[test]
    fn per_layer_kv_head_counts_report_their_largest_value() {
        let file = GgufBuilder::new()
            .kv_str("general.architecture", "lfm2")
            .kv_i32_array("lfm2.attention.head_count_kv", &[0, 8, 0, 4])
            .build();
        assert_eq!(check(&file).unwrap().head_count_kv, Some(8));
    }

    #[test]
    fn errors_name_the_file_but_never_its_directory() {
        let dir = std::env::temp_dir().join(format!("gguf-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("broken.gguf");
        std::fs::write(&path, b"GGUF").unwrap();
        let msg = validate(&path).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(msg.starts_with("model file `broken.gguf`:"), "{msg}");
        assert!(!msg.contains(&*dir.to_string_lossy()), "{msg}");
        let msg = validate(&dir.join("absent.gguf")).unwrap_err().to_string();
        assert!(
            msg.starts_with("model file `absent.gguf` cannot be read"),
            "{msg}"
        );
        let msg = validate_reader("/srv/models/x.gguf", Cursor::new(b"GG"), 2)
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("model file `x.gguf`:"), "{msg}");
    }

    #[test]
    fn untrusted_text_in_errors_is_escaped_and_shortened() {
        let name = format!("evil\n{}", "a".repeat(500));
        let file = GgufBuilder::new()
            .kv_str("general.architecture", &name)
            .build();
        let msg = check(&file).unwrap_err().to_string();
        assert!(!msg.contains('\n') && msg.len() < 400, "{msg}");
        assert_eq!(gguf_string("ab"), [2, 0, 0, 0, 0, 0, 0, 0, b'a', b'b']);
    }

    #[test]
    fn every_truncation_is_refused_and_no_corruption_panics() {
        let bytes = valid().build();
        for cut in 0..bytes.len() {
            assert!(
                check(&bytes[..cut]).is_err(),
                "prefix of {cut} bytes accepted"
            );
        }
        for i in 0..bytes.len() {
            for flip in [0x01, 0x80, 0xFF] {
                let mut corrupt = bytes.clone();
                corrupt[i] ^= flip;
                let _ = check(&corrupt);
            }
        }
    }

    #[test]
    fn the_shipped_models_pass_quickly_and_agree_with_candle() {
        let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        for name in [
            "SmolLM2-135M-Instruct.Q4_1.gguf",
            "gemma-3-270m-q4_k_m.gguf",
        ] {
            let path = models.join(name);
            if !path.exists() {
                eprintln!("skipping {name}: not downloaded");
                continue;
            }
            let started = std::time::Instant::now();
            let info = validate(&path).unwrap();
            let elapsed = started.elapsed();
            eprintln!("{name}: validated in {elapsed:?}: {info:?}");
            assert!(elapsed.as_secs_f64() < 2.0, "validation took {elapsed:?}");
            let content =
                candle_core::quantized::gguf_file::Content::read(&mut File::open(&path).unwrap())
                    .unwrap();
            assert_eq!(info.tensor_count, content.tensor_infos.len() as u64);
            assert!(info.tensor_bytes <= info.file_size);
            assert!(info.block_count.is_some_and(|n| n > 0));
            assert!(info.kv_cache_bytes(1024) > 0);
        }
    }
}
