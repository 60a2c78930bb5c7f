//! Checks `GgufTokenizer` against token ids produced by llama.cpp's
//! `llama-tokenize` for the two bundled chat models (see the `made_with`
//! field of each reference file in `shared/testdata`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use bacopilot::inference::tokenizer::GgufTokenizer;
use candle_core::quantized::gguf_file::Content;
use serde_json::Value;

fn load(model_file: &str) -> GgufTokenizer {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(model_file);
    let mut file = std::fs::File::open(&path).unwrap_or_else(|e| {
        panic!("cannot open models/{model_file} ({e}); run scripts/fetch-models.sh first")
    });
    let content = Content::read(&mut file).expect("GGUF header should parse");
    let started = Instant::now();
    let tokenizer = GgufTokenizer::from_gguf(&content).expect("tokenizer should build");
    eprintln!("{model_file}: tokenizer built in {:?}", started.elapsed());
    tokenizer
}

fn reference_items(name: &str) -> Vec<(String, Vec<u32>)> {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/testdata")
        .join(name);
    let raw = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read shared/testdata/{name}: {e}"));
    let json: Value = serde_json::from_str(&raw).expect("reference file should be JSON");
    json["items"]
        .as_array()
        .expect("reference file should have items")
        .iter()
        .map(|item| {
            let text = item["text"].as_str().expect("item text").to_string();
            let ids = item["ids"]
                .as_array()
                .expect("item ids")
                .iter()
                .map(|id| id.as_u64().expect("id") as u32)
                .collect();
            (text, ids)
        })
        .collect()
}

fn assert_matches_reference(tokenizer: &GgufTokenizer, reference: &str) {
    let items = reference_items(reference);
    assert!(!items.is_empty(), "{reference} has no items");
    let add_bos = tokenizer.add_bos_default();
    for (text, expected) in &items {
        let ids = tokenizer.encode(text, true).expect("encode");
        assert_eq!(&ids, expected, "ids differ from llama.cpp for {text:?}");

        let body = if add_bos { &ids[1..] } else { &ids[..] };
        let decoded = tokenizer.decode(body, false).expect("decode");
        assert_eq!(
            &decoded, text,
            "decode(encode(text)) should give the text back"
        );
    }
}

#[test]
fn smollm2_tokens_match_llama_cpp_and_round_trip() {
    let tokenizer = load("SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(!tokenizer.add_bos_default());
    assert_matches_reference(&tokenizer, "smollm2-tokens.json");
}

#[test]
fn gemma3_tokens_match_llama_cpp_and_round_trip() {
    let tokenizer = load("gemma-3-270m-q4_k_m.gguf");
    assert!(tokenizer.add_bos_default());
    assert_eq!(tokenizer.bos_token(), Some("<bos>"));
    assert_matches_reference(&tokenizer, "gemma3-tokens.json");
}

#[test]
fn chat_turn_ends_are_stop_ids_for_both_models() {
    let smollm = load("SmolLM2-135M-Instruct.Q4_1.gguf");
    let im_end = smollm.encode("<|im_end|>", false).unwrap();
    assert_eq!(im_end.len(), 1);
    assert!(smollm.stop_ids().contains(&im_end[0]));
    assert!(smollm.is_special(im_end[0]));

    let gemma = load("gemma-3-270m-q4_k_m.gguf");
    let end_of_turn = gemma.encode("<end_of_turn>", false).unwrap();
    assert_eq!(end_of_turn.len(), 1);
    assert!(gemma.stop_ids().contains(&end_of_turn[0]));
    assert_eq!(gemma.eos_token(), Some("<eos>"));
    assert_eq!(gemma.decode(&end_of_turn, true).unwrap(), "");
}

#[test]
fn decoding_a_prefix_cut_inside_a_character_ends_with_a_replacement_char() {
    for model in [
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "gemma-3-270m-q4_k_m.gguf",
    ] {
        let tokenizer = load(model);
        // A rare character is split into byte tokens by both vocabularies.
        let text = "x\u{13000}";
        let ids = tokenizer.encode(text, false).unwrap();
        assert_eq!(tokenizer.decode(&ids, false).unwrap(), text);
        let partial = tokenizer.decode(&ids[..ids.len() - 1], false).unwrap();
        assert!(partial.ends_with('\u{FFFD}'), "{model}: {partial:?}");
    }
}
