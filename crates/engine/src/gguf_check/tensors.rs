//! The tensor table: each tensor's shape, type and placement checked against
//! the file.

use super::*;

/// Checks every tensor's shape, type and placement; returns the total data size.
pub(super) fn read_tensor_table<R: Read + Seek>(
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
