//! Validation shared by chat and text completions: sampling fields, stop
//! sequences and the token budget, each refused with a 400 that names the field.

use serde::Deserialize;

use crate::http::AppError;
use std::sync::Arc;

use crate::generation::{Answer, Generator};
use crate::inference::chat_model::{ChatModel, Generation};
use crate::inference::constraint::Constraint;
use crate::inference::sampler::SamplingParams;

/// `stop`: one string or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

/// The generation fields of a request, as sent (not yet validated).
#[derive(Debug, Default)]
pub struct GenerationFields {
    pub max_tokens: Option<i64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub top_k: Option<i64>,
    pub n: Option<i64>,
    pub seed: Option<i64>,
    pub stop: Option<Stop>,
    pub presence_penalty: Option<f64>,
    pub frequency_penalty: Option<f64>,
    pub ignore_eos: bool,
    /// `text`, `json_object`, `json_schema` or `grammar` (see [`super::response_format`]).
    pub response_format: Option<serde_json::Value>,
}

/// OpenAI allows at most four stop sequences.
const MAX_STOP: usize = 4;

impl GenerationFields {
    /// Validates the fields, compiles the response format, and queues the
    /// generation: what chat and text completions share after their prompts.
    /// A `constraint` the caller compiled (chat's tool calls) takes the place
    /// of `response_format`.
    pub async fn submit(
        self,
        model: &Arc<ChatModel>,
        prompt: Vec<u32>,
        default_max: usize,
        constraint: Option<Constraint>,
    ) -> Result<Answer, AppError> {
        let format = self.response_format.clone();
        let mut generation = self.into_generation(model, prompt, default_max)?;
        generation.constraint = match constraint {
            Some(c) => Some(c),
            None => super::response_format::constraint(model, format.as_ref()).await?,
        };
        Ok(Generator::start(model, generation)?)
    }

    /// Checks every field against `model` and the prompt, and builds the request.
    fn into_generation(
        self,
        model: &ChatModel,
        prompt: Vec<u32>,
        default_max: usize,
    ) -> Result<Generation, AppError> {
        let in_range =
            |name: &str, v: Option<f64>, lo: f64, hi: f64| -> Result<Option<f64>, AppError> {
                match v {
                    Some(x) if !(lo..=hi).contains(&x) || x.is_nan() => Err(AppError::invalid(
                        name,
                        format!("`{name}` must be between {lo} and {hi}, got {x}"),
                    )),
                    other => Ok(other),
                }
            };
        let temperature = in_range("temperature", self.temperature, 0.0, 2.0)?.unwrap_or(1.0);
        let top_p = in_range("top_p", self.top_p, 0.0, 1.0)?.unwrap_or(1.0);
        if top_p == 0.0 {
            return Err(AppError::invalid("top_p", "`top_p` must be greater than 0"));
        }
        let presence =
            in_range("presence_penalty", self.presence_penalty, -2.0, 2.0)?.unwrap_or(0.0);
        let frequency =
            in_range("frequency_penalty", self.frequency_penalty, -2.0, 2.0)?.unwrap_or(0.0);
        let vocab = model.tokenizer.vocab_size() as i64;
        let top_k = match self.top_k {
            Some(k) if !(0..=vocab).contains(&k) => {
                return Err(AppError::invalid(
                    "top_k",
                    format!("`top_k` must be between 0 and {vocab}, got {k}"),
                ))
            }
            Some(k) => k as usize,
            None => 0,
        };
        if let Some(n) = self.n {
            if n != 1 {
                return Err(AppError::invalid(
                    "n",
                    format!("`n` must be 1 (one choice per request), got {n}"),
                ));
            }
        }
        let stop = match self.stop {
            None => vec![],
            Some(Stop::One(s)) => vec![s],
            Some(Stop::Many(v)) => v,
        };
        if stop.len() > MAX_STOP || stop.iter().any(String::is_empty) {
            return Err(AppError::invalid(
                "stop",
                format!("`stop` takes at most {MAX_STOP} non-empty strings"),
            ));
        }

        let context = model.context_length;
        if prompt.is_empty() {
            return Err(AppError::invalid("prompt", "The prompt is empty"));
        }
        if prompt.len() >= context {
            return Err(AppError::ContextLengthExceeded(format!(
                "This model's maximum context length is {context} tokens, but the prompt has {} tokens",
                prompt.len()
            )));
        }
        let room = context - prompt.len();
        let max_tokens = match self.max_tokens {
            Some(m) if m < 1 => return Err(AppError::invalid("max_tokens", format!("`max_tokens` must be at least 1, got {m}"))),
            Some(m) if m as u64 > context as u64 => {
                return Err(AppError::invalid(
                    "max_tokens",
                    format!("`max_tokens` is {m}, more than the model's context length of {context} tokens"),
                ))
            }
            Some(m) if m as usize > room => {
                return Err(AppError::ContextLengthExceeded(format!(
                    "This model's maximum context length is {context} tokens; the prompt has {} tokens and max_tokens asks for {m} more",
                    prompt.len()
                )))
            }
            Some(m) => m as usize,
            None => default_max.min(room),
        };
        let seed = self.seed.map_or_else(rand::random::<u64>, |s| s as u64);
        Ok(Generation {
            prompt,
            max_tokens,
            stop,
            ignore_eos: self.ignore_eos,
            sampling: SamplingParams {
                temperature: temperature as f32,
                top_p: top_p as f32,
                top_k,
                presence_penalty: presence as f32,
                frequency_penalty: frequency as f32,
                seed,
            },
            constraint: None,
        })
    }
}
