//! The OpenAI-compatible API over a real socket with the real default models.

mod common;

use std::sync::OnceLock;

use base64::Engine as _;
use common::{sse_data, TestServer, MINILM, SMOL, SMOL_ID};
use serde_json::{json, Value};

fn server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = common::models_dir("api", &[SMOL, MINILM]);
        common::start(&dir, |c| {
            c.models
                .aliases
                .insert("gpt-4o-mini".into(), SMOL_ID.into());
            c.server.max_body_bytes = 64 * 1024;
        })
    })
}

fn chat(content: &str, extra: Value) -> Value {
    common::chat_body("You are a concise assistant.", content, 24, extra)
}

#[tokio::test]
async fn models_lists_the_default_chat_and_embedding_models_and_aliases() {
    let (status, body) = server().get("/v1/models").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&SMOL_ID) && ids.contains(&MINILM) && ids.contains(&"gpt-4o-mini"),
        "{ids:?}"
    );
    assert_eq!(
        server().get(&format!("/v1/models/{SMOL_ID}")).await.1["object"],
        "model"
    );
}

#[tokio::test]
async fn chat_returns_text_and_usage_that_matches_the_tokenizer() {
    let (status, body) = server()
        .post(
            "/v1/chat/completions",
            chat("Name three colours.", json!({})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let text = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(!text.trim().is_empty());
    assert_eq!(body["object"], "chat.completion");
    // The prompt is SmolLM2's ChatML template around our two messages.
    let rendered = "<|im_start|>system\nYou are a concise assistant.<|im_end|>\n<|im_start|>user\nName three colours.<|im_end|>\n<|im_start|>assistant\n";
    let (_, tok) = server()
        .post(
            "/api/v1/tokenize",
            json!({"model": SMOL_ID, "text": rendered}),
        )
        .await;
    let usage = &body["usage"];
    assert_eq!(usage["prompt_tokens"], tok["count"]);
    let completion = usage["completion_tokens"].as_u64().unwrap();
    assert!((1..=24).contains(&completion));
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        tok["count"].as_u64().unwrap() + completion
    );
}

#[tokio::test]
async fn a_streamed_chat_sends_role_deltas_usage_and_done_with_the_same_text() {
    let plain = server()
        .post(
            "/v1/chat/completions",
            chat("Say hello to the team.", json!({})),
        )
        .await
        .1;
    let body = chat(
        "Say hello to the team.",
        json!({"stream": true, "stream_options": {"include_usage": true}}),
    );
    let res = server()
        .client()
        .post(server().url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let events = sse_data(&res.text().await.unwrap());
    assert_eq!(events.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(
        text,
        plain["choices"][0]["message"]["content"].as_str().unwrap()
    );
    let finish = chunks
        .iter()
        .find_map(|c| c["choices"][0]["finish_reason"].as_str())
        .unwrap();
    assert_eq!(finish, plain["choices"][0]["finish_reason"]);
    let mut usage = chunks.last().unwrap()["usage"].clone();
    // The same prompt a second time: all but its last token come from the prefix cache.
    let prompt_tokens = plain["usage"]["prompt_tokens"].as_u64().unwrap();
    assert_eq!(
        usage["prompt_tokens_details"]["cached_tokens"],
        prompt_tokens - 1
    );
    let mut plain_usage = plain["usage"].clone();
    usage["prompt_tokens_details"].take();
    plain_usage["prompt_tokens_details"].take();
    assert_eq!(usage, plain_usage);
    assert_eq!(chunks.last().unwrap()["choices"], json!([]));
}

#[tokio::test]
async fn the_same_seed_gives_the_same_text() {
    let req = chat(
        "Write a short line about requirements.",
        json!({"temperature": 1.0, "seed": 1234, "max_tokens": 20}),
    );
    let a = server().post("/v1/chat/completions", req.clone()).await.1;
    let b = server().post("/v1/chat/completions", req).await.1;
    assert_eq!(
        a["choices"][0]["message"]["content"],
        b["choices"][0]["message"]["content"]
    );
}

#[tokio::test]
async fn a_stop_sequence_ends_the_text_without_appearing_in_it() {
    let req = chat("Count from one to ten in words.", json!({"max_tokens": 40}));
    let full = server().post("/v1/chat/completions", req.clone()).await.1;
    let full = full["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    // Stop on a word from the middle of the greedy answer.
    let words: Vec<&str> = full.split_whitespace().collect();
    assert!(words.len() >= 4, "answer too short to test stop: {full:?}");
    let stop = words[words.len() / 2];
    let mut with_stop = req;
    with_stop["stop"] = json!([stop]);
    let (status, body) = server().post("/v1/chat/completions", with_stop).await;
    assert_eq!(status, 200);
    let text = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert_eq!(text, &full[..full.find(stop).unwrap()]);
    assert!(!text.contains(stop));
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn max_tokens_is_honoured_with_finish_reason_length() {
    let req = chat(
        "Describe a library system in detail.",
        json!({"max_tokens": 5, "ignore_eos": true}),
    );
    let body = server().post("/v1/chat/completions", req).await.1;
    assert_eq!(body["usage"]["completion_tokens"], 5);
    assert_eq!(body["choices"][0]["finish_reason"], "length");
}

#[tokio::test]
async fn text_completions_continue_a_prompt_and_stream() {
    let req = json!({"model": "gpt-4o-mini", "prompt": "The system shall", "max_tokens": 8, "temperature": 0, "ignore_eos": true});
    let (status, body) = server().post("/v1/completions", req.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "text_completion");
    assert_eq!(body["usage"]["completion_tokens"], 8);
    let mut streamed = req;
    streamed["stream"] = json!(true);
    let res = server()
        .client()
        .post(server().url("/v1/completions"))
        .json(&streamed)
        .send()
        .await
        .unwrap();
    // An alias is answered by the model it names, and the header says which.
    assert_eq!(
        res.headers()["x-bacopilot-served-by"],
        format!("local/{SMOL_ID}").as_str()
    );
    let events = sse_data(&res.text().await.unwrap());
    assert_eq!(events.last().unwrap(), "[DONE]");
    let text: String = events[..events.len() - 1]
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(e).unwrap()["choices"][0]["text"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(text, body["choices"][0]["text"].as_str().unwrap());
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn vectors(body: &Value) -> Vec<Vec<f64>> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            d["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn embeddings_put_cat_nearer_kitten_than_invoice_and_batches_equal_singles() {
    let inputs = ["cat", "kitten", "invoice"];
    let (status, body) = server()
        .post("/v1/embeddings", json!({"model": MINILM, "input": inputs}))
        .await;
    assert_eq!(status, 200, "{body}");
    let v = vectors(&body);
    assert_eq!(v.len(), 3);
    assert_eq!(v[0].len(), 384);
    assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]));
    for (i, input) in inputs.iter().enumerate() {
        let one = vectors(
            &server()
                .post("/v1/embeddings", json!({"model": MINILM, "input": input}))
                .await
                .1,
        );
        for (a, b) in one[0].iter().zip(&v[i]) {
            assert!((a - b).abs() < 1e-4, "batch and single differ for {input}");
        }
    }
    assert!(
        body["usage"]["prompt_tokens"].as_u64().unwrap() >= 9,
        "[CLS] word [SEP] per input"
    );
}

#[tokio::test]
async fn base64_embeddings_decode_to_the_float_ones() {
    let float = vectors(
        &server()
            .post(
                "/v1/embeddings",
                json!({"model": MINILM, "input": "invoice"}),
            )
            .await
            .1,
    );
    let b64 = server()
        .post(
            "/v1/embeddings",
            json!({"model": MINILM, "input": "invoice", "encoding_format": "base64"}),
        )
        .await
        .1;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    let decoded: Vec<f32> = bytes
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(decoded.len(), 384);
    for (a, b) in decoded.iter().zip(&float[0]) {
        assert!((*a as f64 - b).abs() < 1e-6);
    }
}

#[tokio::test]
async fn tokenize_matches_llama_cpp_reference_ids_and_detokenize_inverts_it() {
    let path = common::repo_dir().join("../shared/testdata/smollm2-tokens.json");
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for item in reference["items"].as_array().unwrap() {
        let (status, body) = server()
            .post(
                "/api/v1/tokenize",
                json!({"model": SMOL_ID, "text": item["text"]}),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(body["ids"], item["ids"], "text {:?}", item["text"]);
        assert_eq!(body["count"], item["ids"].as_array().unwrap().len());
        let (_, back) = server()
            .post(
                "/api/v1/detokenize",
                json!({"model": SMOL_ID, "ids": item["ids"]}),
            )
            .await;
        assert_eq!(back["text"], item["text"]);
    }
}

async fn expect_error(
    path: &str,
    body: Value,
    status: u16,
    code: &str,
    param: Option<&str>,
) -> Value {
    let (got, err) = server().post(path, body).await;
    assert_eq!(got, status, "{err}");
    assert_eq!(err["error"]["code"], code, "{err}");
    if let Some(p) = param {
        assert_eq!(err["error"]["param"], p, "{err}");
    }
    assert!(
        !err["error"]["message"].as_str().unwrap().contains("/work"),
        "no paths in errors: {err}"
    );
    err
}

#[tokio::test]
async fn bad_fields_are_400_naming_the_field() {
    let p = "/v1/chat/completions";
    expect_error(
        p,
        chat("hi", json!({"max_tokens": -1})),
        400,
        "invalid_request",
        Some("max_tokens"),
    )
    .await;
    expect_error(
        p,
        chat("hi", json!({"max_tokens": 1_000_000_000})),
        400,
        "invalid_request",
        Some("max_tokens"),
    )
    .await;
    expect_error(
        p,
        chat("hi", json!({"temperature": 5})),
        400,
        "invalid_request",
        Some("temperature"),
    )
    .await;
    expect_error(
        p,
        chat("hi", json!({"top_k": -3})),
        400,
        "invalid_request",
        Some("top_k"),
    )
    .await;
    expect_error(
        p,
        chat("hi", json!({"top_p": 0})),
        400,
        "invalid_request",
        Some("top_p"),
    )
    .await;
    expect_error(
        p,
        chat("hi", json!({"n": 3})),
        400,
        "invalid_request",
        Some("n"),
    )
    .await;
    expect_error(
        p,
        chat("hi", json!({"max_tokens": "many"})),
        400,
        "invalid_request",
        Some("max_tokens"),
    )
    .await;
    expect_error(
        p,
        json!({"model": SMOL_ID, "messages": []}),
        400,
        "invalid_request",
        Some("messages"),
    )
    .await;
    expect_error(
        p,
        json!({"model": SMOL_ID, "messages": [{"role": "wizard", "content": "x"}]}),
        400,
        "invalid_request",
        Some("messages[0].role"),
    )
    .await;
    expect_error(
        "/v1/embeddings",
        json!({"model": MINILM, "input": "x", "encoding_format": "hex"}),
        400,
        "invalid_request",
        Some("encoding_format"),
    )
    .await;
    expect_error(
        "/v1/embeddings",
        json!({"model": SMOL_ID, "input": "x"}),
        400,
        "invalid_request",
        Some("model"),
    )
    .await;
}

#[tokio::test]
async fn an_unknown_model_is_404_model_not_found() {
    let err = expect_error(
        "/v1/chat/completions",
        json!({"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}),
        404,
        "model_not_found",
        None,
    )
    .await;
    assert_eq!(err["error"]["type"], "invalid_request_error");
    expect_error(
        "/v1/embeddings",
        json!({"model": "nope", "input": "x"}),
        404,
        "model_not_found",
        None,
    )
    .await;
}

#[tokio::test]
async fn invalid_json_is_400_and_an_oversized_body_is_413() {
    let client = server().client();
    let res = client
        .post(server().url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body("{\"model\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["type"], "invalid_request_error");

    let huge = "word ".repeat(20_000); // 100 kB, over the 64 kB test limit
    let res = client
        .post(server().url("/v1/embeddings"))
        .json(&json!({"model": MINILM, "input": huge}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "payload_too_large");
}

#[tokio::test]
async fn a_prompt_longer_than_the_context_is_refused_not_truncated() {
    // 5,000 tokens, beyond SmolLM2's 4,096 positions in candle's llama.
    let long = "requirement ".repeat(5_000);
    let (status, err) = server()
        .post(
            "/v1/completions",
            json!({"model": SMOL_ID, "prompt": long, "max_tokens": 4}),
        )
        .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["code"], "context_length_exceeded");
}

#[tokio::test]
async fn probes_and_metrics_answer() {
    assert_eq!(server().get("/healthz").await.0, 200);
    assert_eq!(server().get("/readyz").await.0, 200);
    server()
        .post("/api/v1/tokenize", json!({"model": SMOL_ID, "text": "x"}))
        .await;
    let text = server()
        .client()
        .get(server().url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("bacopilot_http_requests_total{route=\"/api/v1/tokenize\",status=\"200\"}"),
        "{text}"
    );
    assert!(text.contains("# TYPE bacopilot_time_to_first_token_seconds histogram"));
    assert!(text.contains("bacopilot_queue_depth"));
}
