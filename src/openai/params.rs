//! Validation shared by chat and text completions: sampling fields, stop
//! sequences and the token budget, each refused with a 400 that names the field.

use std::time::Duration;

use serde_json::Value;

use serde::Deserialize;

use crate::http::AppError;
use std::sync::Arc;

use crate::generation::{Answer, Generator};
use crate::inference::chat_model::{ChatModel, Generation};
use crate::inference::constraint::Constraint;
use crate::inference::sampler::{Repetition, SamplingParams, Window};

/// `stop`: one string or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

/// llama.cpp server's repetition controls, under its names, as sent. All off
/// unless asked for, as on llama.cpp and the OpenAI API.
#[derive(Debug, Default, Deserialize)]
pub struct RepetitionFields {
    pub repeat_penalty: Option<f64>,
    pub repeat_last_n: Option<i64>,
    pub dry_multiplier: Option<f64>,
    pub dry_base: Option<f64>,
    pub dry_allowed_length: Option<i64>,
    pub dry_penalty_last_n: Option<i64>,
    pub dry_sequence_breakers: Option<Vec<String>>,
}

/// Bounds on `dry_sequence_breakers`: each list costs a scan of the vocabulary.
const MAX_BREAKERS: usize = 16;
const MAX_BREAKER_BYTES: usize = 32;

fn in_range(name: &str, v: Option<f64>, lo: f64, hi: f64) -> Result<Option<f64>, AppError> {
    match v {
        Some(x) if !(lo..=hi).contains(&x) || x.is_nan() => Err(AppError::invalid(
            name,
            format!("`{name}` must be between {lo} and {hi}, got {x}"),
        )),
        other => Ok(other),
    }
}

/// A window in tokens: -1 (the whole context), 0 (off) or up to `context`.
fn window(name: &str, v: Option<i64>, context: usize) -> Result<Option<Window>, AppError> {
    match v {
        Some(n) if n < -1 || n > context as i64 => Err(AppError::invalid(
            name,
            format!("`{name}` must be -1 (the whole context), 0 (off) or at most the context length of {context}, got {n}"),
        )),
        other => Ok(other.map(Window::from_llama)),
    }
}

impl RepetitionFields {
    /// Checks each field; those left out keep llama.cpp's defaults, all off.
    pub fn validate(self, context: usize) -> Result<Repetition, AppError> {
        let mut r = Repetition::default();
        if let Some(p) = in_range("repeat_penalty", self.repeat_penalty, 0.0, 2.0)? {
            if p == 0.0 {
                return Err(AppError::invalid(
                    "repeat_penalty",
                    "`repeat_penalty` must be greater than 0 (1.0 is off)",
                ));
            }
            r.repeat_penalty = p as f32;
        }
        if let Some(w) = window("repeat_last_n", self.repeat_last_n, context)? {
            r.repeat_last_n = w;
        }
        if let Some(m) = in_range("dry_multiplier", self.dry_multiplier, 0.0, 5.0)? {
            r.dry_multiplier = m as f32;
        }
        if let Some(b) = in_range("dry_base", self.dry_base, 1.0, 4.0)? {
            r.dry_base = b as f32;
        }
        match self.dry_allowed_length {
            Some(n) if !(1..=context as i64).contains(&n) => {
                return Err(AppError::invalid(
                    "dry_allowed_length",
                    format!("`dry_allowed_length` must be between 1 and the context length of {context}, got {n}"),
                ))
            }
            Some(n) => r.dry_allowed_length = n as usize,
            None => {}
        }
        if let Some(w) = window("dry_penalty_last_n", self.dry_penalty_last_n, context)? {
            r.dry_penalty_last_n = w;
        }
        if let Some(breakers) = self.dry_sequence_breakers {
            if breakers.is_empty()
                || breakers.len() > MAX_BREAKERS
                || breakers
                    .iter()
                    .any(|b| b.is_empty() || b.len() > MAX_BREAKER_BYTES)
            {
                return Err(AppError::invalid(
                    "dry_sequence_breakers",
                    format!("`dry_sequence_breakers` takes 1 to {MAX_BREAKERS} non-empty strings of at most {MAX_BREAKER_BYTES} bytes"),
                ));
            }
            r.dry_sequence_breakers = breakers;
        }
        Ok(r)
    }
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
    pub repetition: RepetitionFields,
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
        let repetition = self.repetition.validate(context)?;
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
                repetition,
            },
            constraint: None,
        })
    }
}

/// A request's `keep_alive` (Ollama's field): how long the model stays loaded
/// once idle. Seconds as a number, or a duration string (`"30s"`, `"10m"`,
/// `"2h"`, `"0"`); negative is "until unloaded by hand". `None`: not given.
pub fn keep_alive(value: Option<&Value>) -> Result<Option<Option<Duration>>, AppError> {
    let invalid = || {
        AppError::invalid(
            "keep_alive",
            "`keep_alive` must be seconds or a duration such as \"30s\", \"10m\" or \"1h\" (negative: keep loaded)",
        )
    };
    let seconds = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_f64().ok_or_else(invalid)?,
        Some(Value::String(text)) => {
            let t = text.trim();
            let (number, unit) = match t.char_indices().last() {
                Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c),
                _ => (t, 's'),
            };
            let n: f64 = number.trim().parse().map_err(|_| invalid())?;
            n * match unit {
                's' => 1.0,
                'm' => 60.0,
                'h' => 3600.0,
                _ => return Err(invalid()),
            }
        }
        Some(_) => return Err(invalid()),
    };
    if !seconds.is_finite() {
        return Err(invalid());
    }
    Ok(Some(
        (seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(1e9))),
    ))
}
