//! How a GGUF is quantized, as the model list shows it.

use candle_core::quantized::gguf_file;

/// The block type holding most of the weights' bytes, with the file's own
/// label (`general.file_type`) when it has one: `Q4_K (Q4_K_M)`.
pub fn quantization(content: &gguf_file::Content) -> String {
    let mut bytes: Vec<(String, usize)> = Vec::new();
    for t in content.tensor_infos.values() {
        // candle's Debug names (`Q4K`) with llama.cpp's underscore (`Q4_K`).
        let dtype = format!("{:?}", t.ggml_dtype).replace('K', "_K");
        let size = t.shape.elem_count() / t.ggml_dtype.block_size() * t.ggml_dtype.type_size();
        match bytes.iter_mut().find(|(d, _)| *d == dtype) {
            Some((_, n)) => *n += size,
            None => bytes.push((dtype, size)),
        }
    }
    let dominant = bytes
        .into_iter()
        .max_by_key(|&(_, n)| n)
        .map_or_else(|| "unknown".to_string(), |(d, _)| d);
    let label = content
        .metadata
        .get("general.file_type")
        .and_then(|v| v.to_u32().ok())
        .and_then(file_type_name);
    match label {
        Some(l) if l != dominant => format!("{dominant} ({l})"),
        _ => dominant,
    }
}

/// llama.cpp's `llama_ftype` names.
fn file_type_name(t: u32) -> Option<&'static str> {
    Some(match t {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        32 => "BF16",
        _ => return None,
    })
}
