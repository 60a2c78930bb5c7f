//! The metadata table: the keys the engine needs, kept; every other value
//! stepped over within its bounds.

use super::*;

/// The metadata the validator keeps: a few numbers and two bits per token.
pub(super) struct Metadata {
    pub(super) architecture: Option<String>,
    pub(super) alignment: u64,
    /// `{arch}.{suffix}` values for every supported arch, since the
    /// architecture key may come after them.
    pub(super) fields: [[Option<u64>; FIELD_SUFFIXES.len()]; SUPPORTED_ARCHITECTURES.len()],
    /// Where the token strings start, and which look like `<0xHH>`.
    pub(super) tokens: Option<(u64, Bits)>,
    /// Which tokens have type BYTE.
    pub(super) byte_types: Option<Bits>,
}

pub(super) fn read_metadata<R: Read + Seek>(
    src: &mut Src<R>,
    kv_count: u64,
) -> Result<Metadata, GgufError> {
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

pub(super) fn read_value<R: Read + Seek>(
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
pub(super) fn read_count<R: Read + Seek>(
    src: &mut Src<R>,
    key: &str,
    vtype: u32,
) -> Result<u64, GgufError> {
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
pub(super) fn array_header<R: Read + Seek>(
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
pub(super) fn skip_value<R: Read + Seek>(
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
