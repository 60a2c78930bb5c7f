//! Upstream model servers: the providers named in `[[providers]]`, each with
//! its HTTP client (no redirects, its own timeouts), its secret, the models
//! it serves and its circuit breaker. Calls take and give OpenAI shapes;
//! [`anthropic`] maps them for Anthropic's Messages API.
//!
//! Secrets are read once at start, from an environment variable or a file,
//! and appear nowhere else: not in errors, logs, metrics or answers.

pub mod anthropic;
mod breaker;
mod secret;
mod sse;

use std::fmt::Write as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::{Stream, StreamExt};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{StatusCode, Url};
use serde_json::{json, Value};

pub use breaker::Breaker;
use secret::read_secret;

use crate::config::{Config, ProviderConfig, ProviderKind};

/// OpenAI `chat.completion.chunk` objects, or the error that ended the stream.
pub type Chunks = Pin<Box<dyn Stream<Item = Result<Value, String>> + Send>>;

/// An upstream's answer to a chat request.
pub enum Reply {
    Json(Value),
    Stream(Chunks),
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Worth another attempt or the next target: no connection, a timeout,
    /// 429, a 5xx, a redirect (not followed), an unreadable answer.
    #[error("{0}")]
    Unavailable(String),
    /// The upstream refused the request itself (a 4xx other than 429):
    /// another attempt would be refused too, so the caller hears it.
    #[error("{message}")]
    Refused { status: u16, message: String },
}

/// One configured provider.
pub struct Provider {
    pub name: String,
    pub kind: ProviderKind,
    pub external: bool,
    /// Longest prompt plus answer, in tokens; 0 when unknown.
    pub context_length: usize,
    base: Url,
    api_version: String,
    headers: HeaderMap,
    /// Kept only to scrub it from upstream error messages that echo it.
    secret: Option<String>,
    configured: Vec<String>,
    /// What its `GET /models` reported, when no models are configured.
    discovered: RwLock<Vec<String>>,
    client: reqwest::Client,
    pub breaker: Breaker,
    calls_ok: AtomicU64,
    calls_failed: AtomicU64,
}

/// Every configured provider, by name.
#[derive(Default)]
pub struct Upstreams {
    providers: Vec<Arc<Provider>>,
}

impl Upstreams {
    /// Builds a client per provider and reads its secret; an error names
    /// the configuration key at fault and never contains a secret.
    pub fn new(config: &Config) -> Result<Self, String> {
        let providers = config
            .providers
            .iter()
            .enumerate()
            .map(|(i, p)| Provider::new(i, p, config).map(Arc::new))
            .collect::<Result<_, _>>()?;
        Ok(Self { providers })
    }

    pub fn all(&self) -> &[Arc<Provider>] {
        &self.providers
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Provider>> {
        self.providers.iter().find(|p| p.name == name)
    }

    /// Probes every provider each `interval` (`GET {base_url}/models`),
    /// feeding its breaker and learning the models of those with none
    /// configured. Runs until the runtime stops.
    pub fn spawn_probes(self: &Arc<Self>, interval: Duration) {
        for p in self.providers.iter().cloned() {
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(interval.max(Duration::from_millis(100)));
                loop {
                    tick.tick().await;
                    match p.list_models().await {
                        Ok(models) => {
                            p.breaker.probe_ok();
                            if p.configured.is_empty() {
                                *p.discovered.write().unwrap_or_else(|e| e.into_inner()) = models;
                            }
                        }
                        Err(e) => {
                            tracing::debug!(provider = %p.name, error = %e, "probe failed");
                            p.breaker.failure();
                        }
                    }
                }
            });
        }
    }

    /// Each provider's breaker and call counts, in the exposition format.
    pub fn render_metrics(&self, out: &mut String) {
        if self.providers.is_empty() {
            return;
        }
        let _ = writeln!(out, "# TYPE bacopilot_upstream_up gauge");
        for p in &self.providers {
            let up = u8::from(p.breaker.closed());
            let _ = writeln!(out, "bacopilot_upstream_up{{provider=\"{}\"}} {up}", p.name);
        }
        let _ = writeln!(
            out,
            "# TYPE bacopilot_upstream_breaker_opened_total counter"
        );
        for p in &self.providers {
            let _ = writeln!(
                out,
                "bacopilot_upstream_breaker_opened_total{{provider=\"{}\"}} {}",
                p.name,
                p.breaker.times_opened()
            );
        }
        let _ = writeln!(out, "# TYPE bacopilot_upstream_calls_total counter");
        for p in &self.providers {
            for (outcome, n) in [("ok", &p.calls_ok), ("failed", &p.calls_failed)] {
                let _ = writeln!(
                    out,
                    "bacopilot_upstream_calls_total{{provider=\"{}\",outcome=\"{outcome}\"}} {}",
                    p.name,
                    n.load(Ordering::Relaxed)
                );
            }
        }
    }
}

/// An error's sentence without the URL reqwest puts in it (a URL could
/// carry a query the operator considers private).
fn plain(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer could not be read"
    } else {
        "the request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

impl Provider {
    fn new(i: usize, p: &ProviderConfig, config: &Config) -> Result<Self, String> {
        let key = |k: &str| format!("providers[{i}] ({}).{k}", p.name);
        let mut base = Url::parse(&p.base_url).map_err(|e| format!("{}: {e}", key("base_url")))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let mut headers = HeaderMap::new();
        let secret = read_secret(i, p)?;
        if let Some(secret) = secret.clone() {
            let header = match p.kind {
                ProviderKind::Anthropic => HeaderName::from_static("x-api-key"),
                ProviderKind::OpenaiCompatible => {
                    HeaderName::from_bytes(p.key_header.as_bytes())
                        .map_err(|_| format!("{}: not a header name", key("key_header")))?
                }
            };
            let value = if header == reqwest::header::AUTHORIZATION {
                format!("Bearer {secret}")
            } else {
                secret
            };
            let mut value = HeaderValue::from_str(&value).map_err(|_| {
                format!(
                    "{}: the key has characters a header cannot carry",
                    key("api_key_env")
                )
            })?;
            value.set_sensitive(true);
            headers.insert(header, value);
        }
        if p.kind == ProviderKind::Anthropic {
            headers.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(p.connect_timeout_secs))
            .timeout(Duration::from_secs(p.timeout_secs))
            .user_agent(concat!("bacopilot/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("{}: cannot build its HTTP client: {e}", key("base_url")))?;
        Ok(Self {
            name: p.name.clone(),
            kind: p.kind,
            external: p.external,
            context_length: p.context_length,
            base,
            api_version: p.api_version.clone(),
            headers,
            secret,
            configured: p.models.clone(),
            discovered: RwLock::new(Vec::new()),
            client,
            breaker: Breaker::new(
                config.routing.breaker_failures,
                config.routing.probe_successes,
            ),
            calls_ok: AtomicU64::new(0),
            calls_failed: AtomicU64::new(0),
        })
    }

    /// The models it serves: those configured, else those its `/models` reported.
    pub fn models(&self) -> Vec<String> {
        if self.configured.is_empty() {
            self.discovered
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        } else {
            self.configured.clone()
        }
    }

    /// Whether `model` is one it serves (any model while its list is unknown).
    pub fn serves(&self, model: &str) -> bool {
        let models = self.models();
        models.is_empty() || models.iter().any(|m| m == model)
    }

    /// The model a bare provider name in a chain stands for.
    pub fn first_model(&self) -> Option<String> {
        self.models().into_iter().next()
    }

    fn url(&self, path: &str) -> Url {
        let mut url = self.base.join(path).unwrap_or_else(|_| self.base.clone());
        if !self.api_version.is_empty() {
            url.query_pairs_mut()
                .append_pair("api-version", &self.api_version);
        }
        url
    }

    async fn send(&self, path: &str, body: Option<&Value>) -> Result<reqwest::Response, CallError> {
        let request = match body {
            Some(b) => self.client.post(self.url(path)).json(b),
            None => self.client.get(self.url(path)),
        };
        let res = request
            .headers(self.headers.clone())
            .send()
            .await
            .map_err(|e| CallError::Unavailable(plain(&e)))?;
        let status = res.status();
        if status.is_success() {
            return Ok(res);
        }
        let text = res.text().await.unwrap_or_default();
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| error_message(self.kind, &v))
            .unwrap_or_else(|| text.chars().take(300).collect());
        let mut message = format!("{} answered {status}: {message}", self.name);
        if let Some(secret) = self.secret.as_deref() {
            message = message.replace(secret, "[key]");
        }
        if status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error()
            || status.is_redirection()
        {
            Err(CallError::Unavailable(message))
        } else {
            Err(CallError::Refused {
                status: status.as_u16(),
                message,
            })
        }
    }

    /// Records a call's outcome for the breaker and `/metrics`.
    pub fn outcome<T>(&self, result: &Result<T, CallError>) {
        match result {
            Ok(_) | Err(CallError::Refused { .. }) => {
                self.breaker.success();
                self.calls_ok.fetch_add(1, Ordering::Relaxed);
            }
            Err(CallError::Unavailable(_)) => {
                self.breaker.failure();
                self.calls_failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// `GET /models`: the ids it serves.
    pub async fn list_models(&self) -> Result<Vec<String>, CallError> {
        let res = self.send("models", None).await?;
        let body: Value = res
            .json()
            .await
            .map_err(|e| CallError::Unavailable(plain(&e)))?;
        Ok(body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["id"].as_str().map(String::from))
            .collect())
    }

    /// A chat request in OpenAI's shape (its `model` the upstream's name for
    /// it); `model_id` is what our answers call it (`provider/model`).
    pub async fn chat(&self, body: &Value, model_id: &str) -> Result<Reply, CallError> {
        let stream = body["stream"].as_bool().unwrap_or(false);
        let include_usage = body["stream_options"]["include_usage"]
            .as_bool()
            .unwrap_or(false);
        let (path, sent) = match self.kind {
            ProviderKind::OpenaiCompatible => ("chat/completions", body.clone()),
            ProviderKind::Anthropic => {
                let model = body["model"].as_str().unwrap_or_default();
                let mapped = anthropic::request(body, model, 1024).map_err(|message| {
                    CallError::Refused {
                        status: 400,
                        message,
                    }
                })?;
                ("messages", mapped)
            }
        };
        let res = self.send(path, Some(&sent)).await?;
        if !stream {
            let mut answer: Value = res
                .json()
                .await
                .map_err(|e| CallError::Unavailable(plain(&e)))?;
            if self.kind == ProviderKind::Anthropic {
                answer = anthropic::response(&answer, model_id).map_err(CallError::Unavailable)?;
            }
            answer["model"] = json!(model_id);
            return Ok(Reply::Json(answer));
        }
        let events = sse::events(Box::pin(res.bytes_stream()));
        let model_id = model_id.to_string();
        let chunks: Chunks = match self.kind {
            ProviderKind::OpenaiCompatible => Box::pin(
                events
                    .take_while(|e| {
                        let done = matches!(e, Ok(ev) if ev.data.trim() == "[DONE]");
                        std::future::ready(!done)
                    })
                    .map(move |e| {
                        let e = e?;
                        let mut chunk: Value = serde_json::from_str(&e.data).map_err(|_| {
                            "the upstream sent an event that is not JSON".to_string()
                        })?;
                        if let Some(message) = chunk.get("error").and_then(|v| {
                            v["message"]
                                .as_str()
                                .map(String::from)
                                .or(Some(v.to_string()))
                        }) {
                            return Err(message);
                        }
                        chunk["model"] = json!(model_id);
                        Ok(chunk)
                    }),
            ),
            ProviderKind::Anthropic => {
                let mapper = Arc::new(std::sync::Mutex::new(anthropic::StreamMapper::new(
                    format!("chatcmpl-{:016x}", rand::random::<u64>()),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs()),
                    model_id,
                    include_usage,
                )));
                let at_end = mapper.clone();
                // A stream that ends without `message_stop` was cut, not finished.
                let cut = futures::stream::once(async move {
                    let finished = at_end.lock().unwrap_or_else(|e| e.into_inner()).finished();
                    (!finished).then(|| Err("the stream ended before the message did".to_string()))
                })
                .filter_map(std::future::ready);
                Box::pin(
                    events
                        .map(move |e| {
                            let e = e?;
                            let data: Value = serde_json::from_str(&e.data).map_err(|_| {
                                "the upstream sent an event that is not JSON".to_string()
                            })?;
                            mapper
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .event(&e.name, &data)
                        })
                        .flat_map(|r| {
                            futures::stream::iter(match r {
                                Ok(chunks) => chunks.into_iter().map(Ok).collect(),
                                Err(e) => vec![Err(e)],
                            })
                        })
                        .chain(cut),
                )
            }
        };
        Ok(Reply::Stream(chunks))
    }

    /// `POST /embeddings` in OpenAI's shape (OpenAI-compatible providers).
    pub async fn embeddings(&self, body: &Value, model_id: &str) -> Result<Value, CallError> {
        if self.kind != ProviderKind::OpenaiCompatible {
            return Err(CallError::Refused {
                status: 400,
                message: format!("{} does not serve embeddings", self.name),
            });
        }
        let res = self.send("embeddings", Some(body)).await?;
        let mut answer: Value = res
            .json()
            .await
            .map_err(|e| CallError::Unavailable(plain(&e)))?;
        answer["model"] = json!(model_id);
        Ok(answer)
    }
}

/// The message of an upstream's error body, in either API's shape.
fn error_message(kind: ProviderKind, body: &Value) -> Option<String> {
    match kind {
        ProviderKind::Anthropic => anthropic::error_message(body),
        ProviderKind::OpenaiCompatible => body["error"]["message"]
            .as_str()
            .or(body["error"].as_str())
            .map(String::from),
    }
}
