//! Model files are untrusted: each malformed GGUF is refused with an error that
//! names the file and the problem, and the server goes on serving the others.

mod common;

use bacopilot::inference::gguf_check::testing::GgufBuilder;
use common::{MINILM, SMOL, SMOL_ID};
use serde_json::json;

fn valid() -> GgufBuilder {
    GgufBuilder::new()
        .kv_str("general.architecture", "llama")
        .tensor_f32("token_embd.weight", &[4, 2], None)
}

/// (file name, bytes, a fragment the error must contain)
fn cases() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let mut truncated = valid().kv_str("general.name", "cut short").build();
    truncated.truncate(40);
    vec![
        ("four-bytes.gguf", b"GGUF".to_vec(), "four-bytes.gguf"),
        ("bad-magic.gguf", valid().magic(*b"GGML").build(), "magic"),
        ("bad-version.gguf", valid().version(99).build(), "version"),
        ("truncated.gguf", truncated, "truncated"),
        (
            "huge-kv-count.gguf",
            valid().raw_kv_count(1 << 40).build(),
            "1099511627776",
        ),
        (
            "huge-string.gguf",
            valid()
                .kv_raw("general.name", 8, &(1u64 << 40).to_le_bytes())
                .build(),
            "string",
        ),
        (
            "huge-array.gguf",
            valid()
                .kv_raw(
                    "general.tags",
                    9,
                    &[8, 0, 0, 0]
                        .iter()
                        .copied()
                        .chain((1u64 << 40).to_le_bytes())
                        .collect::<Vec<u8>>(),
                )
                .build(),
            "array",
        ),
        (
            "alignment-zero.gguf",
            valid().kv_u32("general.alignment", 0).build(),
            "alignment",
        ),
        (
            "alignment-three.gguf",
            valid().kv_u32("general.alignment", 3).build(),
            "alignment",
        ),
        (
            "offset-past-end.gguf",
            GgufBuilder::new()
                .kv_str("general.architecture", "llama")
                .tensor_f32("token_embd.weight", &[4, 2], Some(1 << 20))
                .build(),
            "past the end",
        ),
        (
            "shape-overflow.gguf",
            GgufBuilder::new()
                .kv_str("general.architecture", "llama")
                .tensor_raw("token_embd.weight", &[u64::MAX / 2, 4], 0, 0)
                .build(),
            "overflow",
        ),
        (
            "bad-byte-token.gguf",
            valid().token_list(&["<unk>", "<0x-1>"], &[2, 6]).build(),
            "<0x-1>",
        ),
        (
            "unknown-arch.gguf",
            GgufBuilder::new()
                .kv_str("general.architecture", "gpt-j-9000")
                .build(),
            "gpt-j-9000",
        ),
        // A template that would loop 10^10 times: refused when its trial
        // render runs out of steps, before candle ever reads a weight.
        (
            "abusive-template.gguf",
            valid()
                .kv_str("tokenizer.ggml.model", "gpt2")
                .kv_str("tokenizer.ggml.pre", "smollm")
                .token_list(&["a", "b"], &[1, 1])
                .kv_str_array("tokenizer.ggml.merges", &["a b"])
                .kv_str(
                    "tokenizer.chat_template",
                    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                )
                .build(),
            "budget",
        ),
        // Well-formed, but without the tensors a llama needs: candle's own error, still named.
        (
            "no-tensors.gguf",
            GgufBuilder::new()
                .kv_str("general.architecture", "llama")
                .build(),
            "no-tensors.gguf",
        ),
    ]
}

#[tokio::test]
async fn each_malformed_gguf_is_refused_by_name_and_the_server_still_answers() {
    let dir = common::models_dir("malformed", &[SMOL, MINILM]);
    for (name, bytes, _) in cases() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let server = common::start(&dir, |_| {});

    for (name, _, fragment) in cases() {
        let id = name.trim_end_matches(".gguf");
        let (status, body) = server.model_when_settled(id).await;
        assert_eq!(status, 503, "{name}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(name),
            "{name}: the error should name the file: {message}"
        );
        assert!(
            message.to_lowercase().contains(&fragment.to_lowercase()),
            "{name}: expected `{fragment}` in: {message}"
        );
        assert!(
            !message.contains(dir.to_str().unwrap()),
            "{name}: no absolute path: {message}"
        );
        let (status, _) = server
            .post(
                "/v1/chat/completions",
                json!({"model": id, "messages": [{"role": "user", "content": "hi"}]}),
            )
            .await;
        assert_eq!(status, 503, "{name}");
    }

    let listed = server.get("/v1/models").await.1;
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [SMOL_ID, MINILM], "only the good models are listed");
    let (status, body) = server
        .post("/v1/chat/completions", json!({"model": SMOL_ID, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3}))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_model_whose_batched_kv_caches_do_not_fit_the_memory_budget_is_refused() {
    let dir = common::models_dir("memory", &[SMOL, MINILM, common::GEMMA]);
    // With 256 positions one sequence's KV cache (f16) is 4.5 MiB for Gemma
    // 3 270M: ~241 MiB of weights + 4.5 + 16 of prefix cache would fit 280
    // MiB, but 8 batched sequences (36 MiB) do not. SmolLM2 (~94 MiB of
    // weights, 5.6 MiB per sequence) fits with its eight.
    let server = common::start(&dir, |c| {
        c.models.max_memory_mib = 280;
        c.models.max_context = 256;
        c.engine.max_batch = 8;
        c.engine.prefix_cache_mib = 16;
    });
    let (status, body) = server.model_when_settled(common::GEMMA_ID).await;
    assert_eq!(status, 503, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(common::GEMMA)
            && message.contains("MiB")
            && message.contains("8 batched sequences"),
        "{message}"
    );
    assert_eq!(server.get(&format!("/v1/models/{SMOL_ID}")).await.0, 200);
}

#[test]
fn models_list_validates_every_file_and_reports_the_refused_ones() {
    let dir = common::models_dir("list", &[SMOL, MINILM]);
    for (name, bytes, _) in cases() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bacopilot"))
        .args(["--models-dir", dir.to_str().unwrap(), "models", "list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let line = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} missing:\n{text}"))
            .to_string()
    };
    assert!(line(SMOL_ID).contains("ok (default)"), "{text}");
    assert!(line(MINILM).contains("embedding"), "{text}");
    assert!(
        line("alignment-zero").contains("refused") && line("alignment-zero").contains("alignment"),
        "{text}"
    );
    assert!(line("bad-magic").contains("refused"), "{text}");
}
