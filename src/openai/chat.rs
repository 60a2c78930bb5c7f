//! `POST /v1/chat/completions`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::params::{GenerationFields, Stop};
use super::stream::{self, ChunkFormat};
use crate::http::extract::ApiJson;
use crate::http::{AppError, AppState};
use crate::inference::chat_template::ChatMessage;
use crate::inference::engine::Completion;

#[derive(Debug, Deserialize)]
pub struct ChatRequest {
    model: String,
    messages: Vec<RequestMessage>,
    #[serde(default)]
    stream: bool,
    stream_options: Option<StreamOptions>,
    max_tokens: Option<i64>,
    max_completion_tokens: Option<i64>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    top_k: Option<i64>,
    n: Option<i64>,
    seed: Option<i64>,
    stop: Option<Stop>,
    presence_penalty: Option<f64>,
    frequency_penalty: Option<f64>,
    /// llama.cpp-server extension: generate exactly max_tokens.
    #[serde(default)]
    ignore_eos: bool,
    /// `text`, `json_object`, `json_schema` or `grammar` (see [`super::response_format`]).
    response_format: Option<Value>,
    #[serde(default)]
    logprobs: bool,
}

#[derive(Debug, Deserialize, Default)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: bool,
}

#[derive(Debug, Deserialize)]
struct RequestMessage {
    role: String,
    #[serde(default)]
    content: Option<Content>,
}

/// Message content: a string, or a list of parts of which only text is supported.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Debug, Deserialize)]
struct Part {
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
}

fn to_chat_messages(messages: Vec<RequestMessage>) -> Result<Vec<ChatMessage>, AppError> {
    if messages.is_empty() {
        return Err(AppError::invalid(
            "messages",
            "`messages` must contain at least one message",
        ));
    }
    messages
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let role = match m.role.as_str() {
                "system" | "developer" => "system",
                "user" => "user",
                "assistant" => "assistant",
                "tool" => "tool",
                other => {
                    return Err(AppError::invalid(
                        &format!("messages[{i}].role"),
                        format!("Unknown role `{other}`; expected system, developer, user, assistant or tool"),
                    ))
                }
            };
            let content = match m.content {
                None => String::new(),
                Some(Content::Text(t)) => t,
                Some(Content::Parts(parts)) => {
                    let mut text = String::new();
                    for (j, p) in parts.into_iter().enumerate() {
                        match (p.kind.as_str(), p.text) {
                            ("text", Some(t)) => text.push_str(&t),
                            (kind, _) => {
                                return Err(AppError::invalid(
                                    &format!("messages[{i}].content[{j}]"),
                                    format!("Content part of type `{kind}` is not supported; only `text` is"),
                                ))
                            }
                        }
                    }
                    text
                }
            };
            Ok(ChatMessage { role: role.to_string(), content })
        })
        .collect()
}

pub async fn create(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<ChatRequest>,
) -> Result<Response, AppError> {
    let model = s.registry.chat(&req.model)?;
    if req.logprobs {
        return Err(AppError::invalid("logprobs", "`logprobs` is not supported"));
    }
    let messages = to_chat_messages(req.messages)?;
    let prompt = model
        .chat_prompt(&messages)
        .map_err(|e| AppError::invalid("messages", e))?;
    let fields = GenerationFields {
        max_tokens: req.max_completion_tokens.or(req.max_tokens),
        temperature: req.temperature,
        top_p: req.top_p,
        top_k: req.top_k,
        n: req.n,
        seed: req.seed,
        stop: req.stop,
        presence_penalty: req.presence_penalty,
        frequency_penalty: req.frequency_penalty,
        ignore_eos: req.ignore_eos,
        response_format: req.response_format,
    };
    let rx = fields
        .submit(&model, prompt, s.config.engine.default_max_tokens)
        .await?;
    let id = super::new_id("chatcmpl");
    let created = super::unix_now();
    let model_name = req.model;

    if req.stream {
        let include_usage = req.stream_options.unwrap_or_default().include_usage;
        let format = ChatChunks {
            id,
            created,
            model: model_name,
            include_usage,
        };
        return Ok(stream::sse(rx, format).into_response());
    }
    let (text, done) = stream::collect(rx).await?;
    Ok(Json(json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model_name,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "logprobs": null,
            "finish_reason": done.finish_reason,
        }],
        "usage": stream::usage_json(&done),
    }))
    .into_response())
}

struct ChatChunks {
    id: String,
    created: u64,
    model: String,
    pub include_usage: bool,
}

impl ChatChunks {
    fn chunk(&self, choices: Value) -> Value {
        json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        })
    }
}

impl ChunkFormat for ChatChunks {
    fn opening(&self) -> Option<Value> {
        Some(self.chunk(json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": null, "finish_reason": null}])))
    }

    fn delta(&self, text: &str) -> Value {
        self.chunk(json!([{"index": 0, "delta": {"content": text}, "logprobs": null, "finish_reason": null}]))
    }

    fn finish(&self, done: &Completion) -> Value {
        self.chunk(json!([{"index": 0, "delta": {}, "logprobs": null, "finish_reason": done.finish_reason}]))
    }

    fn usage(&self, done: &Completion) -> Option<Value> {
        self.include_usage.then(|| {
            let mut c = self.chunk(json!([]));
            c["usage"] = stream::usage_json(done);
            c
        })
    }
}
