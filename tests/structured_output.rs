//! `response_format` over a real socket with the real 135M chat model: the
//! output parses (and validates) whatever the model would rather have said.

mod common;

use std::sync::OnceLock;

use common::{sse_data, TestServer, MINILM, SMOL, SMOL_ID};
use serde_json::{json, Value};

fn server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = common::models_dir("structured", &[SMOL, MINILM]);
        common::start(&dir, |_| {})
    })
}

fn chat(content: &str, extra: Value) -> Value {
    common::chat_body("You answer in JSON.", content, 200, extra)
}

fn story_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 80},
            "priority": {"enum": ["must", "should", "could"]},
            "points": {"type": "integer"}
        },
        "required": ["title", "priority", "points"],
        "additionalProperties": false
    })
}

fn json_schema_format(schema: Value) -> Value {
    json!({"response_format": {"type": "json_schema", "json_schema": {"name": "story", "schema": schema, "strict": true}}})
}

/// The checks `story_schema` makes, written out.
fn assert_valid_story(v: &Value) {
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["points", "priority", "title"], "{v}");
    assert!(obj["title"].is_string(), "{v}");
    assert!(
        ["must", "should", "could"].contains(&obj["priority"].as_str().unwrap_or_default()),
        "{v}"
    );
    assert!(obj["points"].is_i64() || obj["points"].is_u64(), "{v}");
}

async fn chat_content(body: Value) -> (String, Value) {
    let (status, resp) = server().post("/v1/chat/completions", body).await;
    assert_eq!(status, 200, "{resp}");
    let choice = &resp["choices"][0];
    (
        choice["message"]["content"].as_str().unwrap().to_string(),
        choice["finish_reason"].clone(),
    )
}

#[tokio::test]
async fn json_object_output_is_a_json_object_at_temperature_zero_and_one() {
    for extra in [
        json!({"response_format": {"type": "json_object"}}),
        json!({"response_format": {"type": "json_object"}, "temperature": 1.0, "seed": 7}),
    ] {
        let (text, finish) = chat_content(chat(
            "Describe a library member as a JSON object with a name and an age.",
            extra,
        ))
        .await;
        let parsed: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert!(parsed.is_object(), "{text}");
        assert_eq!(finish, "stop", "{text}");
    }
}

#[tokio::test]
async fn json_schema_output_validates_against_the_schema() {
    for extra in [json!({}), json!({"temperature": 1.0, "seed": 3})] {
        let mut body = chat(
            "Write a user story for renewing a library loan.",
            json_schema_format(story_schema()),
        );
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (text, finish) = chat_content(body).await;
        let parsed: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_valid_story(&parsed);
        assert_eq!(finish, "stop", "{text}");
    }
}

/// OpenAI's strict mode: objects that do not mention `additionalProperties`
/// accept no other property, at every depth. Without it a model may add
/// properties of its own and nest them until `max_tokens` cuts the JSON.
#[tokio::test]
async fn a_strict_schema_without_additional_properties_gets_only_the_named_properties() {
    let mut schema = story_schema();
    schema
        .as_object_mut()
        .unwrap()
        .remove("additionalProperties");
    schema["properties"]["owner"] = json!({"type": "object", "properties": {"name": {"type": "string", "maxLength": 40}}, "required": ["name"]});
    schema["required"] = json!(["title", "priority", "points", "owner"]);
    for extra in [json!({}), json!({"temperature": 1.0, "seed": 11})] {
        let mut body = chat(
            "Write a user story for renewing a library loan, with every detail you can think of: acceptance criteria, notes, tags, dates.",
            json_schema_format(schema.clone()),
        );
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (text, finish) = chat_content(body).await;
        let mut parsed: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let owner = parsed.as_object_mut().unwrap().remove("owner").unwrap();
        assert_valid_story(&parsed);
        let keys: Vec<&String> = owner.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["name"], "{text}");
        assert_eq!(finish, "stop", "{text}");
    }
}

#[tokio::test]
async fn lark_grammar_output_is_a_string_of_the_grammar() {
    let grammar = r#"
start: "Priority: " level ", points: " points
level: "must" | "should" | "could"
points: /[1-9][0-9]?/
"#;
    let (text, finish) = chat_content(chat(
        "How important is loan renewal?",
        json!({"response_format": {"type": "grammar", "grammar": grammar}}),
    ))
    .await;
    let rest = text
        .strip_prefix("Priority: ")
        .unwrap_or_else(|| panic!("{text}"));
    let (level, points) = rest
        .split_once(", points: ")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(["must", "should", "could"].contains(&level), "{text}");
    let n: u32 = points.parse().unwrap_or_else(|_| panic!("{text}"));
    assert!((1..100).contains(&n), "{text}");
    assert_eq!(finish, "stop");
}

#[tokio::test]
async fn text_completions_take_a_response_format_too() {
    let (status, body) = server()
        .post(
            "/v1/completions",
            json!({
                "model": SMOL_ID,
                "prompt": "A user story as JSON: ",
                "temperature": 0,
                "max_tokens": 200,
                "response_format": {"type": "json_schema", "json_schema": {"name": "story", "schema": story_schema()}},
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let text = body["choices"][0]["text"].as_str().unwrap();
    assert_valid_story(&serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}")));
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn an_invalid_schema_or_grammar_is_a_400_naming_response_format() {
    for format in [
        json!({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object", "properties": {"a": {"type": "nosuchtype"}}}}}),
        json!({"type": "grammar", "grammar": "start: ("}),
        json!({"type": "yaml"}),
    ] {
        let (status, body) = server()
            .post(
                "/v1/chat/completions",
                chat("Hi", json!({"response_format": format})),
            )
            .await;
        assert_eq!(status, 400, "{format}: {body}");
        assert_eq!(body["error"]["param"], "response_format", "{body}");
        assert!(
            !body["error"]["message"].as_str().unwrap().is_empty(),
            "{body}"
        );
    }
    let (_, body) = server()
        .post(
            "/v1/chat/completions",
            chat(
                "Hi",
                json_schema_format(
                    json!({"type": "object", "properties": {"a": {"type": "nosuchtype"}}}),
                ),
            ),
        )
        .await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("nosuchtype"), "{message}");
}

#[tokio::test]
async fn streamed_json_schema_output_concatenates_to_a_valid_instance() {
    let mut body = chat(
        "Write a user story for paying a library fine.",
        json_schema_format(story_schema()),
    );
    body["stream"] = json!(true);
    let text = server().post_text("/v1/chat/completions", &body).await;
    let events = sse_data(&text);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_valid_story(
        &serde_json::from_str(&content).unwrap_or_else(|e| panic!("{e}: {content}")),
    );
    let finish = chunks
        .iter()
        .find_map(|c| c["choices"][0]["finish_reason"].as_str());
    assert_eq!(finish, Some("stop"));
}

#[tokio::test]
async fn a_constrained_answer_cut_by_max_tokens_finishes_with_length() {
    let (text, finish) = chat_content(chat(
        "Describe a library member.",
        json!({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": story_schema()}}, "max_tokens": 3}),
    ))
    .await;
    assert_eq!(finish, "length", "{text}");
    assert!(text.starts_with('{'), "{text}");
}
