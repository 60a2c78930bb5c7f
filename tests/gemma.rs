//! A second architecture in the same server: Gemma 3 (SentencePiece vocabulary,
//! BOS added, no chat template in the file, so the built-in Gemma turn format).

mod common;

use common::{GEMMA, GEMMA_ID, MINILM, SMOL, SMOL_ID};
use serde_json::{json, Value};

#[tokio::test]
async fn gemma_and_smollm_are_served_side_by_side_with_their_own_tokenizers_and_templates() {
    let dir = common::models_dir("gemma", &[SMOL, GEMMA, MINILM]);
    let server = common::start(&dir, |c| c.models.max_context = 4096);
    assert_eq!(server.model_when_settled(GEMMA_ID).await.0, 200);

    let path = common::repo_dir().join("../shared/testdata/gemma3-tokens.json");
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for item in reference["items"].as_array().unwrap() {
        let (status, body) = server
            .post(
                "/api/v1/tokenize",
                json!({"model": GEMMA_ID, "text": item["text"]}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["ids"], item["ids"], "text {:?}", item["text"]);
    }

    let messages = json!([{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "What is a requirement?"}]);
    let (status, body) = server
        .post(
            "/v1/chat/completions",
            json!({"model": GEMMA_ID, "messages": messages, "max_tokens": 12, "temperature": 0}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        !body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .trim()
            .is_empty(),
        "{body}"
    );
    let rendered = "<start_of_turn>user\nAnswer briefly.\n\nWhat is a requirement?<end_of_turn>\n<start_of_turn>model\n";
    let (_, tok) = server
        .post(
            "/api/v1/tokenize",
            json!({"model": GEMMA_ID, "text": rendered}),
        )
        .await;
    assert_eq!(tok["ids"][0], 2, "Gemma prompts start with <bos>");
    assert_eq!(body["usage"]["prompt_tokens"], tok["count"]);

    let (status, body) = server
        .post(
            "/v1/chat/completions",
            json!({"model": SMOL_ID, "messages": messages, "max_tokens": 4, "temperature": 0}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}
