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
