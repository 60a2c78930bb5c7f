//! Repetition control on `/v1` with the real default model: llama.cpp's
//! `repeat_penalty`, `repeat_last_n` and DRY fields, off unless asked for.

mod common;

use std::sync::OnceLock;

use bacopilot_content::repetition::{repeated_ngram, LOOP_NGRAM};
use common::{TestServer, MINILM, SMOL, SMOL_ID};
use serde_json::{json, Value};

fn server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = common::models_dir("repetition", &[SMOL, MINILM]);
        common::start(&dir, |_| {})
    })
}

/// SmolLM2-135M says six words twice when it
/// answers this greedily in 300 tokens (found with the engine's `loops` example).
const LOOPING: &str = "List the functional requirements for a library management system.";

async fn answer(extra: Value) -> String {
    let body = common::chat_body(
        "You are a helpful assistant for business analysts.",
        LOOPING,
        300,
        extra,
    );
    let (status, body) = server().post("/v1/chat/completions", body).await;
    assert_eq!(status, 200, "{body}");
    body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_prompt_that_loops_greedily_does_not_loop_with_dry_and_a_repeat_penalty() {
    let plain = answer(json!({})).await;
    assert!(
        repeated_ngram(&plain, LOOP_NGRAM).is_some(),
        "the prompt no longer loops without repetition control: {plain}"
    );
    let controlled = answer(json!({
        // Only a new line breaks a sequence: list items' "**Name**:" may
        // not start a repeat over.
        "repeat_penalty": 1.2,
        "repeat_last_n": 64,
        "dry_multiplier": 1.0,
        "dry_base": 1.75,
        "dry_allowed_length": 2,
        "dry_penalty_last_n": -1,
        "dry_sequence_breakers": ["\n"]
    }))
    .await;
    assert!(
        repeated_ngram(&controlled, LOOP_NGRAM).is_none(),
        "{controlled}"
    );
    assert!(controlled.split_whitespace().count() > 20, "{controlled}");
}

#[tokio::test]
async fn out_of_range_repetition_fields_are_400_naming_the_field() {
    let bad = [
        ("repeat_penalty", json!(0)),
        ("repeat_penalty", json!(3.0)),
        ("repeat_last_n", json!(-2)),
        ("repeat_last_n", json!(1_000_000)),
        ("dry_multiplier", json!(-0.5)),
        ("dry_base", json!(0.5)),
        ("dry_allowed_length", json!(0)),
        ("dry_penalty_last_n", json!(-5)),
        ("dry_sequence_breakers", json!([])),
        ("dry_sequence_breakers", json!([""])),
    ];
    for (field, value) in bad {
        let mut extra = serde_json::Map::new();
        extra.insert(field.to_string(), value.clone());
        for (path, body) in [
            (
                "/v1/chat/completions",
                common::chat_body("Be brief.", "hi", 8, Value::Object(extra.clone())),
            ),
            ("/v1/completions", {
                let mut b = json!({"model": SMOL_ID, "prompt": "Hello", "max_tokens": 8});
                b.as_object_mut().unwrap().extend(extra.clone());
                b
            }),
        ] {
            let (status, err) = server().post(path, body).await;
            assert_eq!(status, 400, "{path} {field}={value}: {err}");
            assert_eq!(err["error"]["param"], field, "{err}");
            let message = err["error"]["message"].as_str().unwrap();
            assert!(message.contains(field), "{message}");
        }
    }
}

#[tokio::test]
async fn repetition_fields_in_range_are_accepted_on_completions() {
    let (status, body) = server()
        .post(
            "/v1/completions",
            json!({
                "model": SMOL_ID, "prompt": "The rules are", "max_tokens": 16,
                "temperature": 0, "repeat_penalty": 1.3, "repeat_last_n": -1,
                "dry_multiplier": 1.0, "dry_sequence_breakers": [".", "\n"]
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(!body["choices"][0]["text"].as_str().unwrap().is_empty());
}
