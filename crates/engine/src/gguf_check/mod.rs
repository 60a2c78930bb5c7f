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
pub use error::GgufError;

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
pub mod testing;

#[cfg(test)]
mod tests;
