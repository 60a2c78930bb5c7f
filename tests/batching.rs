//! Continuous batching, chunked prefill and prefix caching over a real socket
//! with the real 135M model: sharing a step with other sequences, reading a
//! prompt in chunks, or starting from cached keys and values never changes
//! what a greedy request answers.

mod common;

use common::{TestServer, MINILM, SMOL, SMOL_ID};
use serde_json::{json, Value};

const SYSTEM: &str = "You are a business analyst. Answer briefly.";

/// Prompts of very different lengths, so chunks and decode steps interleave.
fn questions() -> Vec<String> {
    let long = "The library management system shall allow librarians to register members, \
record loans and returns, and send reminders for overdue items. "
        .repeat(12);
    vec![
        "Name one stakeholder of a library system.".into(),
        "What is a functional requirement?".into(),
        format!("{long}Summarise the requirements above in one sentence."),
        "List two risks of a payroll migration.".into(),
        "What does MoSCoW stand for?".into(),
        "Write a user story for resetting a password.".into(),
    ]
}

async fn answer(server: &TestServer, body: Value) -> Value {
    let (status, resp) = server.post("/v1/chat/completions", body).await;
    assert_eq!(status, 200, "{resp}");
    resp
}

fn text(resp: &Value) -> String {
    resp["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_string()
}

fn server(tag: &str, tweak: impl FnOnce(&mut bacopilot::config::Config)) -> TestServer {
    let dir = common::models_dir(tag, &[SMOL, MINILM]);
    common::start(&dir, tweak)
}

#[tokio::test]
async fn concurrent_greedy_streams_each_get_the_text_they_get_alone() {
    // No prefix cache, so every request computes its prompt from scratch.
    let server = server("batch-eq", |c| {
        c.engine.prefix_cache_mib = 0;
        c.engine.prefill_chunk = 16;
    });
    let bodies: Vec<Value> = questions()
        .iter()
        .map(|q| common::chat_body(SYSTEM, q, 24, json!({"ignore_eos": true})))
        .collect();
    let mut alone = Vec::new();
    for b in &bodies {
        alone.push(text(&answer(&server, b.clone()).await));
    }
    let together =
        futures::future::join_all(bodies.iter().map(|b| answer(&server, b.clone()))).await;
    for (i, resp) in together.iter().enumerate() {
        assert_eq!(resp["usage"]["completion_tokens"], 24, "{resp}");
        assert_eq!(text(resp), alone[i], "question {i} changed in a batch");
    }
    // The answers differ from one another: the batch did not mix sequences up.
    assert_ne!(alone[0], alone[1]);
}

#[tokio::test]
async fn a_second_turn_reuses_the_first_turns_keys_and_answers_the_same() {
    let cached = server("prefix-on", |_| {});
    let uncached = server("prefix-off", |c| {
        c.engine.prefix_cache_mib = 0;
        c.engine.prefill_chunk = 4096;
    });
    let first = common::chat_body(
        SYSTEM,
        "Name one stakeholder of a library system.",
        16,
        json!({}),
    );
    let turn1 = answer(&cached, first.clone()).await;
    let n1 = turn1["usage"]["prompt_tokens"].as_u64().unwrap();
    assert_eq!(turn1["usage"]["prompt_tokens_details"]["cached_tokens"], 0);

    let mut second = first.clone();
    second["messages"].as_array_mut().unwrap().extend([
        json!({"role": "assistant", "content": text(&turn1)}),
        json!({"role": "user", "content": "Name another one."}),
    ]);
    let turn2 = answer(&cached, second.clone()).await;
    let cached_tokens = turn2["usage"]["prompt_tokens_details"]["cached_tokens"]
        .as_u64()
        .unwrap();
    let n2 = turn2["usage"]["prompt_tokens"].as_u64().unwrap();
    assert!(
        cached_tokens >= n1 && cached_tokens < n2,
        "turn 1 had {n1} prompt tokens, turn 2 has {n2} and reused {cached_tokens}"
    );

    assert_eq!(
        cached.metric("bacopilot_prompt_tokens_cached_total").await,
        cached_tokens as f64
    );

    let fresh = answer(&uncached, second).await;
    assert_eq!(fresh["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    assert_eq!(text(&turn2), text(&fresh));
}

#[tokio::test]
async fn streamed_usage_reports_cached_tokens_for_a_repeated_system_prompt() {
    let server = server("prefix-stream", |_| {});
    let body = |q: &str| {
        common::chat_body(
            SYSTEM,
            q,
            4,
            json!({"stream": true, "stream_options": {"include_usage": true}}),
        )
    };
    let usage = |raw: String| -> Value {
        let chunks = common::sse_data(&raw);
        let last: Value = serde_json::from_str(&chunks[chunks.len() - 2]).unwrap();
        last["usage"].clone()
    };
    let u1 = usage(
        server
            .post_text("/v1/chat/completions", &body("What is a use case?"))
            .await,
    );
    assert_eq!(u1["prompt_tokens_details"]["cached_tokens"], 0, "{u1}");
    let u2 = usage(
        server
            .post_text("/v1/chat/completions", &body("What is an actor?"))
            .await,
    );
    // The system turn and the opening of the user turn are shared.
    assert!(
        u2["prompt_tokens_details"]["cached_tokens"]
            .as_u64()
            .unwrap()
            >= 10,
        "{u2}"
    );
}

#[tokio::test]
async fn many_streams_at_once_all_finish_with_their_own_token_counts() {
    let server = server("batch-many", |c| c.engine.max_batch = 4);
    let requests = (0..10).map(|i| {
        let body = json!({
            "model": SMOL_ID,
            "messages": [{"role": "user", "content": format!("Give me idea number {i}.")}],
            "max_tokens": 3 + i, "temperature": 0.8, "seed": i, "ignore_eos": true
        });
        let server = &server;
        async move { (i, answer(server, body).await) }
    });
    for (i, resp) in futures::future::join_all(requests).await {
        assert_eq!(resp["usage"]["completion_tokens"], 3 + i, "{resp}");
        assert_eq!(resp["choices"][0]["finish_reason"], "length");
    }
    // Every admitted request leaves the engine (the gauge drops just after
    // the last answer is sent).
    let mut depth = f64::NAN;
    for _ in 0..100 {
        depth = server.metric("bacopilot_queue_depth").await;
        if depth == 0.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(depth, 0.0);
}
