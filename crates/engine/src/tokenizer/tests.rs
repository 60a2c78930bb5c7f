//! Tokenizer behaviour on tiny hand-made vocabularies; `tests/tokenizer_reference.rs`
//! checks the real models against llama.cpp.

use super::*;
use candle_core::quantized::gguf_file::VersionedMagic;
use std::collections::HashMap;

fn content(entries: Vec<(&str, Value)>) -> Content {
    Content {
        magic: VersionedMagic::GgufV3,
        metadata: entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        tensor_infos: HashMap::new(),
        tensor_data_offset: 0,
    }
}

fn strings(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| Value::String(s.to_string())).collect())
}

/// A SentencePiece vocabulary with byte tokens, control tokens and a
/// user-defined double space, like Gemma's.
fn tiny_spm(add_space_prefix: bool) -> GgufTokenizer {
    let tokens = [
        "<unk>",
        "<s>",
        "</s>",
        "<0x0A>",
        "<0xC3>",
        "<0xA9>",
        "\u{2581}",
        "a",
        "b",
        "ab",
        "\u{2581}a",
        "\u{2581}ab",
        "<turn>",
        "<turn_end>",
        "  ",
    ];
    let scores = [
        0., 0., 0., 0., 0., 0., -5., -6., -7., -2., -3., -1., 0., 0., 0.,
    ];
    let types = [2, 3, 3, 6, 6, 6, 1, 1, 1, 1, 1, 1, 3, 3, 4];
    let ct = content(vec![
        ("tokenizer.ggml.model", Value::String("llama".into())),
        ("tokenizer.ggml.tokens", strings(&tokens)),
        (
            "tokenizer.ggml.scores",
            Value::Array(scores.iter().map(|&s| Value::F32(s)).collect()),
        ),
        (
            "tokenizer.ggml.token_type",
            Value::Array(types.iter().map(|&t| Value::I32(t)).collect()),
        ),
        ("tokenizer.ggml.bos_token_id", Value::U32(1)),
        ("tokenizer.ggml.eos_token_id", Value::U32(2)),
        ("tokenizer.ggml.unknown_token_id", Value::U32(0)),
        (
            "tokenizer.ggml.add_space_prefix",
            Value::Bool(add_space_prefix),
        ),
    ]);
    GgufTokenizer::from_gguf(&ct).expect("tiny vocab builds")
}

#[test]
fn byte_fallback_tokens_decode_back_to_the_character_or_a_replacement() {
    let tok = tiny_spm(false);
    let ids = tok.encode("a\u{e9}", false).unwrap();
    assert_eq!(ids, vec![7, 4, 5]);
    assert_eq!(tok.decode(&ids, false).unwrap(), "a\u{e9}");
    assert_eq!(tok.decode(&ids[..2], false).unwrap(), "a\u{FFFD}");
}

#[test]
fn special_and_user_defined_tokens_in_text_are_single_tokens() {
    let tok = tiny_spm(false);
    let ids = tok.encode("<turn>ab  a<turn_end>", true).unwrap();
    assert_eq!(ids, vec![1, 12, 9, 14, 7, 13]);
    assert_eq!(tok.decode(&ids, true).unwrap(), "ab  a");
    assert_eq!(tok.decode(&ids, false).unwrap(), "<s><turn>ab  a<turn_end>");
    assert!(tok.is_special(12) && !tok.is_special(14));
    assert_eq!(tok.stop_ids(), &[2]);
}

#[test]
fn unsupported_tokenizer_model_is_a_clear_error() {
    let ct = content(vec![
        ("tokenizer.ggml.model", Value::String("bert".into())),
        ("tokenizer.ggml.tokens", strings(&["[CLS]"])),
    ]);
    let err = GgufTokenizer::from_gguf(&ct)
        .err()
        .expect("bert is refused");
    assert!(matches!(err, TokenizerError::UnsupportedModel(ref m) if m == "bert"));
    assert!(err.to_string().contains("`bert` is not supported"));
}

#[test]
fn space_prefix_goes_before_text_after_specials_and_is_dropped_after_bos() {
    let tok = tiny_spm(true);
    assert!(tok.add_bos_default(), "SentencePiece adds BOS by default");
    assert_eq!(tok.encode("ab", true).unwrap(), vec![1, 11]);
    assert_eq!(tok.encode("<turn>ab", false).unwrap(), vec![12, 11]);
    assert_eq!(tok.decode(&[1, 11], true).unwrap(), "ab");
    assert_eq!(tok.decode(&[11], true).unwrap(), " ab");
}

#[test]
fn sentencepiece_token_bytes_turn_the_word_marker_into_a_space_and_byte_tokens_into_bytes() {
    let tok = tiny_spm(true);
    assert_eq!(tok.token_bytes(11), b" ab");
    assert_eq!(tok.token_bytes(6), b" ");
    assert_eq!(tok.token_bytes(3), b"\n");
    assert_eq!(tok.token_bytes(4), [0xC3]);
    assert_eq!(tok.token_bytes(14), b"  ");
    assert_eq!(tok.token_bytes(2), b"</s>");
    assert!(tok.is_special(2));
    assert!(tok.token_bytes(99).is_empty());
}

#[test]
fn byte_level_token_bytes_are_the_bytes_the_pieces_stand_for() {
    let ct = content(vec![
        ("tokenizer.ggml.model", Value::String("gpt2".into())),
        ("tokenizer.ggml.pre", Value::String("smollm".into())),
        // "Ġ" is a space, "Ċ" a newline, "Ã©" the two bytes of "é".
        (
            "tokenizer.ggml.tokens",
            strings(&["<|endoftext|>", "a", "Ġ", "Ċ", "Ã", "©", "Ġa", "Ã©"]),
        ),
        ("tokenizer.ggml.merges", strings(&["Ġ a", "Ã ©"])),
        (
            "tokenizer.ggml.token_type",
            Value::Array([3, 1, 1, 1, 1, 1, 1, 1].map(Value::I32).to_vec()),
        ),
        ("tokenizer.ggml.eos_token_id", Value::U32(0)),
    ]);
    let tok = GgufTokenizer::from_gguf(&ct).expect("tiny byte-level vocab builds");
    assert_eq!(tok.token_bytes(6), b" a");
    assert_eq!(tok.token_bytes(3), b"\n");
    assert_eq!(tok.token_bytes(7), "\u{e9}".as_bytes());
    assert_eq!(tok.token_bytes(4), [0xC3]);
    assert_eq!(tok.token_bytes(0), b"<|endoftext|>");
    assert_eq!(tok.eos_id(), Some(0));
}

#[test]
fn tokenizer_can_be_shared_with_the_engine_thread() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<GgufTokenizer>();
}

/// The byte-level vocabulary of a ChatML model in miniature: `<|im_start|>`
/// a control token, `Ġ` the space.
fn tiny_chatml() -> GgufTokenizer {
    let mut tokens = vec!["<|im_start|>", "<|im_end|>", "Ġ"];
    let printable: Vec<String> = (b'!'..=b'~').map(|b| (b as char).to_string()).collect();
    tokens.extend(printable.iter().map(String::as_str));
    let mut types = vec![3, 3];
    types.resize(tokens.len(), 1);
    let ct = content(vec![
        ("tokenizer.ggml.model", Value::String("gpt2".into())),
        ("tokenizer.ggml.pre", Value::String("smollm".into())),
        ("tokenizer.ggml.tokens", strings(&tokens)),
        ("tokenizer.ggml.merges", strings(&[])),
        (
            "tokenizer.ggml.token_type",
            Value::Array(types.into_iter().map(Value::I32).collect()),
        ),
        ("tokenizer.ggml.eos_token_id", Value::U32(1)),
    ]);
    GgufTokenizer::from_gguf(&ct).expect("tiny ChatML vocab builds")
}

#[test]
fn control_tokens_in_quoted_content_are_text_while_the_templates_own_are_tokens() {
    let tok = tiny_chatml();
    let content = "a<|im_start|>b<|im_end|>";
    let prompt = format!("<|im_start|>{}<|im_end|>", tok.quote(content));
    let ids = tok.encode(&prompt, false).unwrap();
    let as_text = tok.encode_plain(content, false).unwrap();
    assert!(
        !as_text.contains(&0) && !as_text.contains(&1),
        "{as_text:?}"
    );
    assert_eq!(ids, [&[0][..], &as_text, &[1]].concat());
    assert_eq!(
        tok.decode(&ids, false).unwrap(),
        "<|im_start|>a<|im_start|>b<|im_end|><|im_end|>"
    );
}

#[test]
fn unquoted_text_still_parses_control_tokens_as_llama_cpp_does() {
    let tok = tiny_chatml();
    assert_eq!(
        tok.encode("<|im_start|>a", false).unwrap(),
        [0, tok.encode_plain("a", false).unwrap()[0]]
    );
    assert_eq!(
        tok.encode_plain("<|im_start|>", false).unwrap().len(),
        "<|im_start|>".len()
    );
}

#[test]
fn quote_marks_smuggled_into_content_cannot_turn_the_templates_tokens_into_text() {
    let tok = tiny_chatml();
    let prompt = format!("<|im_start|>{}<|im_end|>", tok.quote("a\u{FDD0}"));
    assert_eq!(
        tok.encode(&prompt, false).unwrap(),
        [0, tok.encode_plain("a", false).unwrap()[0], 1]
    );
}

#[test]
fn quoting_leaves_user_defined_tokens_and_plain_text_alone() {
    let tok = tiny_spm(false);
    assert_eq!(tok.quote("ab  a"), "ab  a");
    let quoted = tok.quote("a<turn>b");
    assert_ne!(quoted, "a<turn>b");
    assert_eq!(
        tok.encode(&quoted, false).unwrap(),
        tok.encode_plain("a<turn>b", false).unwrap()
    );
    assert_eq!(
        tok.encode_plain("a  b", false).unwrap(),
        [7, 14, 8],
        "user-defined `  ` stays one token"
    );
}
