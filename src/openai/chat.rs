//! `POST /v1/chat/completions`, with tool calling (see [`super::tools`]).

use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::params::{GenerationFields, RepetitionFields, Stop};
use super::stream::{self, ChunkFormat};
use super::tools::output::{self, CallStream, Piece};
use super::tools::{self, Tools};
use super::upstream;
use crate::app::AppState;
use crate::auth::Identity;
use crate::http::extract::ApiJson;
use crate::http::AppError;
use crate::inference::chat_template::{ChatMessage, ToolCall};
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
    /// llama.cpp server's `repeat_penalty`, `repeat_last_n` and `dry_*`.
    #[serde(flatten)]
    repetition: RepetitionFields,
    /// llama.cpp-server extension: generate exactly max_tokens.
    #[serde(default)]
    ignore_eos: bool,
    /// `text`, `json_object`, `json_schema` or `grammar` (see [`super::response_format`]).
    response_format: Option<Value>,
    /// How long the model stays loaded once idle (see [`super::params::keep_alive`]).
    keep_alive: Option<Value>,
    #[serde(default)]
    logprobs: bool,
    /// Functions the model may call (see [`super::tools`]).
    tools: Option<Value>,
    /// `none`, `auto`, `required` or `{"type": "function", "function": {"name"}}`.
    tool_choice: Option<Value>,
    parallel_tool_calls: Option<bool>,
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
    /// The calls of an earlier assistant turn (its content may then be null).
    tool_calls: Option<Vec<RequestToolCall>>,
    /// On a `tool` message: the call whose result it is.
    tool_call_id: Option<String>,
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

#[derive(Debug, Deserialize)]
struct RequestToolCall {
    id: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    function: RequestFunctionCall,
}

#[derive(Debug, Deserialize)]
struct RequestFunctionCall {
    name: String,
    /// JSON text, as OpenAI sends it.
    arguments: String,
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
        .map(|(i, m)| to_chat_message(i, m))
        .collect()
}

fn to_chat_message(i: usize, m: RequestMessage) -> Result<ChatMessage, AppError> {
    let role = match m.role.as_str() {
        "system" | "developer" => "system",
        "user" => "user",
        "assistant" => "assistant",
        "tool" => "tool",
        other => {
            return Err(AppError::invalid(
                &format!("messages[{i}].role"),
                format!(
                    "Unknown role `{other}`; expected system, developer, user, assistant or tool"
                ),
            ))
        }
    };
    let mut message = ChatMessage::new(role, content_text(i, m.content)?);
    if let Some(calls) = m.tool_calls {
        if role != "assistant" {
            return Err(AppError::invalid(
                &format!("messages[{i}].tool_calls"),
                "Only assistant messages carry `tool_calls`",
            ));
        }
        for (j, call) in calls.into_iter().enumerate() {
            if call.kind.as_deref().is_some_and(|k| k != "function") {
                return Err(AppError::invalid(
                    &format!("messages[{i}].tool_calls[{j}].type"),
                    "The only tool call type is `function`",
                ));
            }
            let RequestFunctionCall { name, arguments } = call.function;
            let arguments = serde_json::from_str(&arguments).unwrap_or(Value::String(arguments));
            message
                .tool_calls
                .push(ToolCall::function(call.id, name, arguments));
        }
    }
    if role == "tool" && m.tool_call_id.is_none() {
        return Err(AppError::invalid(
            &format!("messages[{i}].tool_call_id"),
            "A tool message needs the `tool_call_id` of the call it answers",
        ));
    }
    message.tool_call_id = m.tool_call_id;
    Ok(message)
}

fn content_text(i: usize, content: Option<Content>) -> Result<String, AppError> {
    match content {
        None => Ok(String::new()),
        Some(Content::Text(t)) => Ok(t),
        Some(Content::Parts(parts)) => {
            let mut text = String::new();
            for (j, p) in parts.into_iter().enumerate() {
                match (p.kind.as_str(), p.text) {
                    ("text", Some(t)) => text.push_str(&t),
                    (kind, _) => {
                        return Err(AppError::invalid(
                            &format!("messages[{i}].content[{j}]"),
                            format!(
                                "Content part of type `{kind}` is not supported; only `text` is"
                            ),
                        ))
                    }
                }
            }
            Ok(text)
        }
    }
}

/// A `provider/model` id goes to that provider; a local model answers
/// itself, or, when it cannot take the request (queue full, not loaded),
/// the chat chain's upstream targets answer (see [`super::upstream`]).
pub async fn create(
    State(s): State<AppState>,
    who: Identity,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, AppError> {
    let req: ChatRequest = super::typed(&body)?;
    let key = s.generation.cache.key(&body);
    if let Some(key) = &key {
        if let Some(hit) = s.generation.cache.get(key).await {
            let mut res = Json(hit.body).into_response();
            upstream::served_by(&mut res, &hit.served_by);
            res.headers_mut()
                .insert(CACHE, HeaderValue::from_static("hit"));
            return Ok(res);
        }
    }
    let res = answer(&s, &who, req, &body).await?;
    match key {
        Some(key) => keep(&s, &key, res).await,
        None => Ok(res),
    }
}

/// The header that says an answer came from the response cache.
const CACHE: &str = "x-bacopilot-cache";

/// Keeps a whole answer in the cache when its target's answers may be kept.
async fn keep(s: &AppState, key: &str, res: Response) -> Result<Response, AppError> {
    let served_by = res
        .headers()
        .get(upstream::SERVED_BY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if res.status() != axum::http::StatusCode::OK || !s.generation.cache.keeps(&served_by) {
        return Ok(res);
    }
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|e| AppError::Internal(format!("reading an answer to cache it: {e}")))?;
    if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
        s.generation.cache.put(key, &served_by, &value).await;
    }
    parts
        .headers
        .insert(CACHE, HeaderValue::from_static("miss"));
    Ok(Response::from_parts(parts, axum::body::Body::from(bytes)))
}

async fn answer(
    s: &AppState,
    who: &Identity,
    req: ChatRequest,
    body: &Value,
) -> Result<Response, AppError> {
    if let Some(target) = upstream::named_target(s, who, &req.model)? {
        return upstream::chat(s, who, &[target], body).await;
    }
    match local(s, req).await {
        Err(e) if upstream::fails_over(&e) => {
            // `/v1` has no project: the caller's key says what may answer.
            let fallbacks = s.generation.fallbacks(&upstream::allowed(who));
            if fallbacks.is_empty() {
                return Err(e);
            }
            tracing::info!(reason = %e, "local model busy or absent; passing to the chat chain");
            upstream::chat(s, who, &fallbacks, body).await
        }
        other => other,
    }
}

/// The request answered by our own engine.
async fn local(s: &AppState, req: ChatRequest) -> Result<Response, AppError> {
    let keep_alive = super::params::keep_alive(req.keep_alive.as_ref())?;
    let model = s.generation.model_named(&req.model).await?;
    if let Some(k) = keep_alive {
        s.registry.set_keep_alive(&req.model, k);
    }
    if req.logprobs {
        return Err(AppError::invalid("logprobs", "`logprobs` is not supported"));
    }
    let tools = Tools::parse(
        req.tools.as_ref(),
        req.tool_choice.as_ref(),
        req.parallel_tool_calls,
    )?;
    // The tools offered to the model, unless `tool_choice` is `none`.
    let calling = tools.as_ref().filter(|t| t.active());
    if calling.is_some() && super::response_format::parse(req.response_format.as_ref())?.is_some() {
        return Err(AppError::invalid(
            "response_format",
            "`response_format` cannot be combined with `tools` unless `tool_choice` is `none`",
        ));
    }
    let messages = to_chat_messages(req.messages)?;
    let offered = calling.map_or(&[][..], |t| &t.definitions);
    let prompt = model
        .chat_prompt(messages, offered.to_vec())
        .await
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
        repetition: req.repetition,
        ignore_eos: req.ignore_eos,
        response_format: req.response_format,
    };
    // Tool calls take the place of `response_format` (refused above with them).
    let tool_constraint = match &tools {
        Some(t) => t.constraint(&model).await?,
        None => None,
    };
    let answer = fields
        .submit(
            &model,
            prompt,
            s.config.engine.default_max_tokens,
            tool_constraint,
        )
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
            calls: calling.map(|_| CallStream::default()),
            opened: false,
        };
        let mut res = stream::sse(answer.events, format).into_response();
        upstream::served_by(&mut res, &format!("local/{}", model.id));
        return Ok(res);
    }
    let (text, done) = answer.collect().await.map_err(AppError::Internal)?;
    let calls = calling.and_then(|_| output::parse_calls(&text));
    let (message, finish_reason) = match calls {
        Some(calls) => {
            let calls: Vec<Value> = calls
                .into_iter()
                .map(|c| {
                    json!({"id": tools::call_id(), "type": "function",
                           "function": {"name": c.name, "arguments": c.arguments}})
                })
                .collect();
            (
                json!({"role": "assistant", "content": null, "tool_calls": calls}),
                json!("tool_calls"),
            )
        }
        None => (
            json!({"role": "assistant", "content": text}),
            json!(done.finish_reason),
        ),
    };
    let mut res = Json(json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model_name,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason,
        }],
        "usage": stream::usage_json(&done),
    }))
    .into_response();
    upstream::served_by(&mut res, &format!("local/{}", model.id));
    Ok(res)
}

struct ChatChunks {
    id: String,
    created: u64,
    model: String,
    pub include_usage: bool,
    /// Set while the model may call tools: the answer is held back until it
    /// is known to be text or calls (see [`CallStream`]).
    calls: Option<CallStream>,
    /// Whether the assistant's role has gone out (with tools, in the first
    /// chunk of content or calls rather than up front).
    opened: bool,
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

    fn choice(&self, delta: Value, finish_reason: Value) -> Value {
        self.chunk(
            json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}]),
        )
    }

    /// OpenAI's shapes: the first chunk carries the role (and `content: null`
    /// when calls follow); a call opens with its id, type, name and empty
    /// arguments, and fragments of arguments follow by index.
    fn piece(&mut self, piece: Piece) -> Value {
        let mut delta = Map::new();
        if !self.opened {
            self.opened = true;
            delta.insert("role".into(), json!("assistant"));
            if !matches!(piece, Piece::Text(_)) {
                delta.insert("content".into(), Value::Null);
            }
        }
        let (key, value) = match piece {
            Piece::Text(text) => ("content", json!(text)),
            Piece::CallStart { index, name } => (
                "tool_calls",
                json!([{"index": index, "id": tools::call_id(), "type": "function",
                        "function": {"name": name, "arguments": ""}}]),
            ),
            Piece::Arguments { index, text } => (
                "tool_calls",
                json!([{"index": index, "function": {"arguments": text}}]),
            ),
        };
        delta.insert(key.into(), value);
        self.choice(Value::Object(delta), Value::Null)
    }
}

impl ChunkFormat for ChatChunks {
    fn opening(&self) -> Option<Value> {
        self.calls
            .is_none()
            .then(|| self.choice(json!({"role": "assistant", "content": ""}), Value::Null))
    }

    fn delta(&self, text: &str) -> Value {
        self.choice(json!({"content": text}), Value::Null)
    }

    fn finish(&self, done: &Completion) -> Value {
        self.choice(json!({}), json!(done.finish_reason))
    }

    fn usage(&self, done: &Completion) -> Option<Value> {
        self.include_usage.then(|| {
            let mut c = self.chunk(json!([]));
            c["usage"] = stream::usage_json(done);
            c
        })
    }

    fn on_text(&mut self, text: &str) -> Vec<Value> {
        let Some(calls) = self.calls.as_mut() else {
            return vec![self.delta(text)];
        };
        let pieces = calls.push(text);
        pieces.into_iter().map(|p| self.piece(p)).collect()
    }

    fn on_done(&mut self, done: &Completion) -> Vec<Value> {
        let Some(calls) = self.calls.as_mut() else {
            return vec![self.finish(done)];
        };
        let (pieces, complete) = calls.finish();
        let mut chunks: Vec<Value> = pieces.into_iter().map(|p| self.piece(p)).collect();
        if !self.opened {
            // An empty answer still says who spoke.
            chunks.push(self.piece(Piece::Text(String::new())));
        }
        let reason = if complete {
            json!("tool_calls")
        } else {
            json!(done.finish_reason)
        };
        chunks.push(self.choice(json!({}), reason));
        chunks
    }
}
