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
    assert_eq!(info.kv_cache_bytes(2048, 4), 2 * 2048 * 2 * 32 * 4);
}

#[test]
fn kv_cache_size_saturates_instead_of_overflowing() {
    let info = check(&valid().build()).unwrap();
    assert_eq!(info.kv_cache_bytes(u64::MAX, 2), u64::MAX);
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
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
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
        assert!(info.kv_cache_bytes(1024, 2) > 0);
    }
}
