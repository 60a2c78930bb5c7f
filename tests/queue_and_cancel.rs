//! Admission and cancellation: a full queue answers 429 at once, and a client
//! that drops its stream frees the engine for the next request.

mod common;

use std::time::Duration;

use common::{MINILM, SMOL, SMOL_ID};
use futures::StreamExt;
use serde_json::json;

fn long_stream() -> serde_json::Value {
    json!({
        "model": SMOL_ID,
        "messages": [{"role": "user", "content": "Write a very long story."}],
        "stream": true,
        "max_tokens": 2000,
        "ignore_eos": true,
    })
}

/// Opens a streamed chat and waits for its first chunk, so it is known to be running or queued.
async fn open_stream(server: &common::TestServer) -> reqwest::Response {
    let res = server
        .client()
        .post(server.url("/v1/chat/completions"))
        .json(&long_stream())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res
}

async fn wait_for_queue(server: &common::TestServer, depth: f64) {
    for _ in 0..600 {
        if server.metric("bacopilot_queue_depth").await == depth {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("queue depth never reached {depth}");
}

#[tokio::test]
async fn a_full_queue_is_429_with_retry_after_and_dropped_streams_free_the_engine() {
    let dir = common::models_dir("queue", &[SMOL, MINILM]);
    let server = common::start(&dir, |c| {
        c.engine.queue_size = 1;
        c.engine.max_batch = 1;
    });

    // One running, one waiting: the queue of size 1 is full.
    let mut running = open_stream(&server).await.bytes_stream();
    let first = running.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("data: "));
    let waiting = open_stream(&server).await;
    wait_for_queue(&server, 2.0).await;

    let res = server.client()
        .post(server.url("/v1/chat/completions"))
        .json(&json!({"model": SMOL_ID, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "1");
    let err: serde_json::Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "overloaded");

    // Both clients go away: both generations stop long before their 2000 tokens.
    drop(running);
    drop(waiting);
    wait_for_queue(&server, 0.0).await;
    assert_eq!(
        server.metric("bacopilot_generations_cancelled_total").await,
        2.0
    );
    let generated = server.metric("bacopilot_completion_tokens_total").await;
    assert!(
        generated < 2000.0,
        "cancelled generations ran on: {generated} tokens"
    );

    // The engine serves the next request.
    let (status, body) = server
        .post("/v1/chat/completions", json!({"model": SMOL_ID, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["usage"]["completion_tokens"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn concurrent_requests_all_complete() {
    let dir = common::models_dir("concurrent", &[SMOL, MINILM]);
    let server = common::start(&dir, |_| {});
    let requests = (0..4).map(|i| {
        server.post(
            "/v1/chat/completions",
            json!({"model": SMOL_ID, "messages": [{"role": "user", "content": format!("Give me idea number {i}.")}], "max_tokens": 6}),
        )
    });
    for (status, body) in futures::future::join_all(requests).await {
        assert_eq!(status, 200, "{body}");
        assert!(!body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .is_empty());
    }
}
