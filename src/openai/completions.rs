//! `POST /v1/completions` (legacy text completions): the prompt is used as is,
//! without a chat template.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::chat::StreamOptions;
use super::params::{GenerationFields, RepetitionFields, Stop};
use super::stream::{self, ChunkFormat};
use crate::app::AppState;
use crate::http::extract::ApiJson;
use crate::http::AppError;
use crate::inference::chat_model::ChatModel;
use crate::inference::engine::Completion;

#[derive(Debug, Deserialize)]
pub struct CompletionRequest {
    model: String,
    prompt: Prompt,
    #[serde(default)]
    stream: bool,
    stream_options: Option<StreamOptions>,
    max_tokens: Option<i64>,
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
    echo: bool,
    suffix: Option<String>,
    logprobs: Option<u32>,
}

/// A prompt as text or token ids, alone or in a list of one.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Prompt {
    Text(String),
    Texts(Vec<String>),
    Ids(Vec<u32>),
    IdLists(Vec<Vec<u32>>),
}

/// A raw prompt is the client's own template, turn markers and all, so special
/// tokens written in it are parsed, as llama.cpp's `/completion` does (the
/// client could send the ids themselves anyway). Nobody else's content is
/// put into it; chat content is where markers are text.
fn prompt_ids(model: &ChatModel, prompt: Prompt) -> Result<Vec<u32>, AppError> {
    let one = |n: usize| {
        if n == 1 {
            Ok(())
        } else {
            Err(AppError::invalid(
                "prompt",
                format!("Exactly one prompt per request is supported, got {n}"),
            ))
        }
    };
    let ids = match prompt {
        Prompt::Text(t) => model
            .encode(&t)
            .map_err(|e| AppError::invalid("prompt", e))?,
        Prompt::Texts(v) => {
            one(v.len())?;
            model
                .encode(&v[0])
                .map_err(|e| AppError::invalid("prompt", e))?
        }
        Prompt::Ids(ids) => ids,
        Prompt::IdLists(mut v) => {
            one(v.len())?;
            v.remove(0)
        }
    };
    let vocab = model.tokenizer.vocab_size();
    if let Some(bad) = ids.iter().find(|&&id| id as usize >= vocab) {
        return Err(AppError::invalid(
            "prompt",
            format!("Token id {bad} is outside the vocabulary of {vocab}"),
        ));
    }
    Ok(ids)
}

pub async fn create(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<CompletionRequest>,
) -> Result<Response, AppError> {
    let keep_alive = super::params::keep_alive(req.keep_alive.as_ref())?;
    let model = s.generation.model_named(&req.model).await?;
    if let Some(k) = keep_alive {
        s.registry.set_keep_alive(&req.model, k);
    }
    if req.echo {
        return Err(AppError::invalid("echo", "`echo` is not supported"));
    }
    if req.suffix.is_some() {
        return Err(AppError::invalid("suffix", "`suffix` is not supported"));
    }
    if req.logprobs.is_some() {
        return Err(AppError::invalid("logprobs", "`logprobs` is not supported"));
    }
    let prompt = prompt_ids(&model, req.prompt)?;
    let fields = GenerationFields {
        max_tokens: req.max_tokens,
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
    let answer = fields
        .submit(&model, prompt, s.config.engine.default_max_tokens, None)
        .await?;
    let format = TextChunks {
        id: super::new_id("cmpl"),
        created: super::unix_now(),
        model: req.model,
        include_usage: req.stream_options.unwrap_or_default().include_usage,
    };
    let served_by = format!("local/{}", model.id);
    let mut res = if req.stream {
        stream::sse(answer.events, format).into_response()
    } else {
        let (text, done) = answer.collect().await.map_err(AppError::Internal)?;
        let mut body = format.chunk(&text, Some(&done));
        body["usage"] = stream::usage_json(&done);
        Json(body).into_response()
    };
    super::upstream::served_by(&mut res, &served_by);
    Ok(res)
}

struct TextChunks {
    id: String,
    created: u64,
    model: String,
    include_usage: bool,
}

impl TextChunks {
    fn chunk(&self, text: &str, done: Option<&Completion>) -> Value {
        json!({
            "id": self.id,
            "object": "text_completion",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "text": text, "logprobs": null, "finish_reason": done.map(|d| d.finish_reason)}],
        })
    }
}

impl ChunkFormat for TextChunks {
    fn opening(&self) -> Option<Value> {
        None
    }

    fn delta(&self, text: &str) -> Value {
        self.chunk(text, None)
    }

    fn finish(&self, done: &Completion) -> Value {
        self.chunk("", Some(done))
    }

    fn usage(&self, done: &Completion) -> Option<Value> {
        self.include_usage.then(|| {
            let mut c = self.chunk("", None);
            c["choices"] = json!([]);
            c["usage"] = stream::usage_json(done);
            c
        })
    }
}
