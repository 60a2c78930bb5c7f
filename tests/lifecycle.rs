//! Models load on first use, unload after their idle time, share a memory
//! budget in turn without ever losing a request in flight, and appear when
//! their file is copied in while the server runs.

mod common;

use std::time::{Duration, Instant};

use common::{TestServer, GEMMA, GEMMA_ID, MINILM, SMOL, SMOL_ID};
use serde_json::{json, Value};

/// The admin list's row for `id`.
async fn row(server: &TestServer, id: &str) -> Value {
    let (status, body) = server.get("/api/v1/admin/models").await;
    assert_eq!(status, 200, "{body}");
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} is not listed: {body}"))
}

async fn state(server: &TestServer, id: &str) -> String {
    row(server, id).await["state"].as_str().unwrap().to_string()
}

/// Waits up to `limit` for `id` to reach `want`.
async fn wait_for_state(server: &TestServer, id: &str, want: &str, limit: Duration) {
    let start = Instant::now();
    loop {
        let now = state(server, id).await;
        if now == want {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "{id} is still {now} after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn ask(server: &TestServer, model: &str, extra: Value) -> Value {
    let mut body = json!({"model": model, "messages": [{"role": "user", "content": "Name one colour."}],
        "max_tokens": 4, "temperature": 0});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, answer) = server.post("/v1/chat/completions", body).await;
    assert_eq!(status, 200, "{model}: {answer}");
    answer
}

#[tokio::test]
async fn a_model_loads_on_first_use_unloads_when_idle_and_loads_again_on_the_next_request() {
    let dir = common::models_dir("lifecycle-idle", &[SMOL, GEMMA, MINILM]);
    let server = common::start(&dir, |c| {
        c.models.max_context = 512;
        c.models.keep_alive_secs = 2;
    });
    // The role models are loaded at start-up and kept; Gemma waits for a request.
    assert_eq!(state(&server, SMOL_ID).await, "loaded");
    let gemma = row(&server, GEMMA_ID).await;
    assert_eq!(gemma["state"], "unloaded", "{gemma}");
    assert_eq!(gemma["architecture"], "gemma3");
    assert!(
        gemma["quantization"].as_str().unwrap().contains("Q4_K_M"),
        "{gemma}"
    );
    assert!(gemma["size_bytes"].as_u64().unwrap() > 200 << 20, "{gemma}");
    let listed = server.get("/v1/models").await.1;
    assert!(
        listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == GEMMA_ID && m["state"] == "unloaded"),
        "an unloaded model is still offered: {listed}"
    );

    ask(&server, GEMMA_ID, json!({})).await;
    let loaded = row(&server, GEMMA_ID).await;
    assert_eq!(loaded["state"], "loaded", "{loaded}");
    assert_eq!(loaded["keep_alive_secs"], 2);
    // Weights, eight batched caches of 512 positions and the prefix cache.
    let most = loaded["memory_bytes"].as_u64().unwrap();
    assert!(most > 240 << 20, "{loaded}");
    // Held now: the weights and the finished request's cache, kept for
    // prefix reuse; less than the most it may hold.
    let held = loaded["resident_bytes"].as_u64().unwrap();
    assert!(held > 200 << 20 && held < most, "{loaded}");
    assert!(
        gemma["resident_bytes"].is_null(),
        "an unloaded model holds nothing: {gemma}"
    );
    wait_for_state(&server, GEMMA_ID, "unloaded", Duration::from_secs(15)).await;
    assert_eq!(state(&server, SMOL_ID).await, "loaded", "role models stay");

    // It loads again on the next request; `keep_alive: 0` unloads it once idle.
    ask(&server, GEMMA_ID, json!({"keep_alive": 0})).await;
    wait_for_state(&server, GEMMA_ID, "unloaded", Duration::from_secs(5)).await;
    // `keep_alive: -1` keeps it past the configured idle time.
    ask(&server, GEMMA_ID, json!({"keep_alive": "-1"})).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(state(&server, GEMMA_ID).await, "loaded");
    let (status, body) = server
        .post("/v1/chat/completions", json!({"model": SMOL_ID, "messages": [{"role": "user", "content": "hi"}], "keep_alive": "soon"}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "keep_alive", "{body}");

    // The operator unloads and loads by hand, and each action is audited.
    let (status, body) = server
        .post(
            &format!("/api/v1/admin/models/{GEMMA_ID}/unload"),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["state"].as_str()),
        (200, Some("unloaded")),
        "{body}"
    );
    let (status, body) = server
        .post(&format!("/api/v1/admin/models/{GEMMA_ID}/load"), json!({}))
        .await;
    assert_eq!(
        (status, body["state"].as_str()),
        (200, Some("loaded")),
        "{body}"
    );
    assert_eq!(server.audited("model.unload", GEMMA_ID).await.len(), 1);
    assert_eq!(server.audited("model.load", GEMMA_ID).await.len(), 1);
}

#[tokio::test]
async fn a_budget_for_one_chat_model_serves_two_in_turn_and_never_evicts_a_running_request() {
    let dir = common::models_dir("lifecycle-budget", &[SMOL, GEMMA, MINILM]);
    // 512 positions, two batched sequences, no prefix cache, f16 KV caches:
    // SmolLM2 needs about 115 MiB, Gemma 3 about 253 MiB, MiniLM 87 MiB.
    // 300 MiB holds either chat model, never both.
    let server = common::start(&dir, |c| {
        c.models.max_context = 512;
        c.engine.max_batch = 2;
        c.engine.prefix_cache_mib = 0;
        c.models.memory_budget_mib = 300;
    });
    ask(&server, GEMMA_ID, json!({})).await;
    assert_eq!(state(&server, GEMMA_ID).await, "loaded");
    assert_eq!(
        state(&server, SMOL_ID).await,
        "unloaded",
        "evicted for Gemma"
    );
    ask(&server, SMOL_ID, json!({})).await;
    assert_eq!(state(&server, SMOL_ID).await, "loaded");
    assert_eq!(
        state(&server, GEMMA_ID).await,
        "unloaded",
        "evicted for SmolLM2"
    );

    // A long stream on SmolLM2 (several seconds); Gemma, asked for
    // meanwhile, must wait for it: evicting SmolLM2 at once would answer
    // Gemma (a load of about a second) long before the stream ends.
    let stream_server = server.client();
    let url = server.url("/v1/chat/completions");
    let long = tokio::spawn(async move {
        let r = stream_server
            .post(url)
            .json(&json!({"model": SMOL_ID, "stream": true, "max_tokens": 400, "temperature": 0,
                "ignore_eos": true, "messages": [{"role": "user", "content": "Describe a library."}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let text = r.text().await.unwrap();
        (text, Instant::now())
    });
    // Wait until SmolLM2 is generating.
    let start = Instant::now();
    while row(&server, SMOL_ID).await["in_flight"] == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the stream never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let answer = ask(&server, GEMMA_ID, json!({})).await;
    let gemma_done = Instant::now();
    let (text, stream_done) = long.await.unwrap();
    let events = common::sse_data(&text);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"), "{text}");
    assert!(!text.contains("\"error\""), "the stream was cut: {text}");
    let finish: Vec<Value> = events
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .filter(|e| !e["choices"][0]["finish_reason"].is_null())
        .collect();
    assert_eq!(finish[0]["choices"][0]["finish_reason"], "length", "{text}");
    assert!(
        stream_done <= gemma_done,
        "Gemma was answered before SmolLM2's stream ended"
    );
    assert!(answer["choices"][0]["message"]["content"].is_string());
}

#[tokio::test]
async fn a_file_copied_in_while_serving_is_offered_and_a_partial_download_never_is() {
    let dir = common::models_dir("lifecycle-drop", &[SMOL, MINILM]);
    let server = common::start(&dir, |c| c.models.max_context = 512);
    let ids = |body: &Value| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(!ids(&server.get("/v1/models").await.1).contains(&GEMMA_ID.to_string()));

    // A pull in progress writes a hidden partial file beside the models.
    let source = common::model_path(GEMMA);
    let bytes = std::fs::read(&source).unwrap();
    std::fs::write(
        dir.join(format!(".{GEMMA}.partial")),
        &bytes[..bytes.len() / 2],
    )
    .unwrap();
    let listed = ids(&server.get("/v1/models").await.1);
    assert_eq!(listed, [SMOL_ID, MINILM], "{listed:?}");

    std::fs::hard_link(&source, dir.join(GEMMA)).unwrap();
    let listed = ids(&server.get("/v1/models").await.1);
    assert!(listed.contains(&GEMMA_ID.to_string()), "{listed:?}");
    ask(&server, GEMMA_ID, json!({})).await;

    // Deleting removes the file; a role model cannot be deleted.
    assert_eq!(
        server
            .delete(&format!("/api/v1/admin/models/{GEMMA_ID}"))
            .await,
        204
    );
    assert!(!dir.join(GEMMA).exists());
    assert_eq!(
        server
            .delete(&format!("/api/v1/admin/models/{SMOL_ID}"))
            .await,
        409
    );
    assert!(!ids(&server.get("/v1/models").await.1).contains(&GEMMA_ID.to_string()));
    assert_eq!(server.audited("model.delete", GEMMA_ID).await.len(), 1);
}
