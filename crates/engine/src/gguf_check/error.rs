//! Why a model file was refused.

use super::*;

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
