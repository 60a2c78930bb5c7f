//! The router: which targets answer a request, in order, and the calls to
//! upstream targets with retries, failover, redaction, the breaker and an
//! audit row per call. Our own engine is target `local`; a feature's chain
//! comes from `[routing]`, cut to what the project's data policy allows.
//!
//! A streamed answer fails over only until its first token: the chunks up
//! to it are held back, and a target that breaks before then is skipped.
//! After it, a break reaches the client as an error event.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bacopilot_content::redact::{self, Kind, Redaction};
use regex::Regex;
use serde_json::{json, Value};
use sqlx::SqlitePool;

use super::{Error, Generator, Role};
use crate::config::{Config, RoutingConfig};
use crate::inference::chat_model::ChatModel;
use crate::upstream::{CallError, Provider, Reply, Upstreams};
use output::{estimated_tokens, first_token, relay, restore_answer, Audit};

mod output;

/// Which providers a request may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    /// Our engine only: a project's default, and keys restricted to it.
    LocalOnly,
    /// These providers, by name, besides our engine.
    Providers(Vec<String>),
    /// Any configured provider (`/v1` with an unrestricted key).
    Any,
}

impl Allowed {
    fn admits(&self, provider: &Provider) -> bool {
        match self {
            Allowed::LocalOnly => false,
            Allowed::Providers(names) => names.iter().any(|n| n == &provider.name),
            Allowed::Any => true,
        }
    }
}

/// Who a call is made for, for the audit row.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: String,
    pub address: String,
    pub project: Option<String>,
    /// `chat`, `srs`, `wireframes` or `api`.
    pub role: &'static str,
}

/// One place an answer can come from.
#[derive(Clone)]
pub enum Target {
    Local(Arc<ChatModel>),
    Upstream {
        provider: Arc<Provider>,
        /// The upstream's name for the model.
        model: String,
    },
}

impl Target {
    /// `local/<model>` or `provider/model`: the `x-bacopilot-served-by` value.
    pub fn served_by(&self) -> String {
        match self {
            Target::Local(m) => format!("local/{}", m.id),
            Target::Upstream { provider, model } => format!("{}/{model}", provider.name),
        }
    }
}

/// The router's share of a [`Generator`]: providers, chains, redaction and
/// where audit rows go.
pub struct Router {
    pub upstreams: Arc<Upstreams>,
    routing: RoutingConfig,
    redacting: bool,
    patterns: Vec<Regex>,
    pool: SqlitePool,
}

impl Router {
    pub fn new(
        config: &Config,
        upstreams: Arc<Upstreams>,
        pool: SqlitePool,
    ) -> Result<Self, String> {
        let patterns = config
            .redaction
            .patterns
            .iter()
            .enumerate()
            .map(|(i, p)| Regex::new(p).map_err(|e| format!("redaction.patterns[{i}]: {e}")))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            upstreams,
            routing: config.routing.clone(),
            redacting: config.redaction.enabled,
            patterns,
            pool,
        })
    }
}

/// An upstream's answer and who gave it.
pub struct Upstreamed {
    pub reply: Reply,
    pub served_by: String,
}

impl Generator {
    /// The targets of `role` that `allowed` admits and that are up, in
    /// order. A local model that is not loaded is skipped (the chain goes
    /// on); when nothing is left the first reason is the error.
    pub async fn chain(&self, role: Role, allowed: &Allowed) -> Result<Vec<Target>, Error> {
        let names = match role {
            Role::Chat => &self.router.routing.chat,
            Role::Srs => &self.router.routing.srs,
            Role::Wireframes => &self.router.routing.wireframes,
        };
        let mut targets = Vec::new();
        let mut first_error = None;
        for name in names {
            if name == "local" {
                match self.model_for(role).await {
                    Ok(m) => targets.push(Target::Local(m)),
                    Err(e) => {
                        first_error.get_or_insert(Error::Lookup(e));
                    }
                }
            } else if let Some(t) = self.upstream_target(name, allowed) {
                targets.push(t);
            }
        }
        if targets.is_empty() {
            return Err(first_error.unwrap_or_else(|| {
                Error::NoTarget(format!(
                    "no target of the {} route is up and allowed for this project",
                    role.name()
                ))
            }));
        }
        Ok(targets)
    }

    /// The upstream targets of the chat chain, for `/v1` requests our own
    /// engine cannot take.
    pub fn fallbacks(&self, allowed: &Allowed) -> Vec<Target> {
        self.router
            .routing
            .chat
            .iter()
            .filter(|n| *n != "local")
            .filter_map(|n| self.upstream_target(n, allowed))
            .collect()
    }

    /// `provider` or `provider/model`, when allowed and its breaker is closed.
    pub fn upstream_target(&self, name: &str, allowed: &Allowed) -> Option<Target> {
        let (provider, model) = match name.split_once('/') {
            Some((p, m)) => (p, Some(m.to_string())),
            None => (name, None),
        };
        let provider = self.router.upstreams.get(provider)?;
        if !allowed.admits(provider) || !provider.breaker.closed() {
            return None;
        }
        let model = model.or_else(|| provider.first_model())?;
        Some(Target::Upstream {
            provider: provider.clone(),
            model,
        })
    }

    pub fn upstreams(&self) -> &Arc<Upstreams> {
        &self.router.upstreams
    }

    /// Sends `body` (an OpenAI chat request) to the upstream targets in
    /// order, each tried `routing.attempts` times with backoff, until one
    /// answers. Redaction, the breaker and the audit row apply to every
    /// attempt. A refusal (a 4xx) ends the chain: the next target would
    /// refuse the same request.
    pub async fn call_upstreams(
        &self,
        targets: &[Target],
        body: &Value,
        caller: &Caller,
    ) -> Result<Upstreamed, Error> {
        let mut last = String::from("no upstream target is up and allowed");
        for target in targets {
            let Target::Upstream { provider, model } = target else {
                continue;
            };
            if !provider.breaker.closed() {
                last = format!(
                    "{} is out of service until its health probes succeed",
                    provider.name
                );
                continue;
            }
            if provider.context_length > 0 && estimated_tokens(body) > provider.context_length {
                last = format!(
                    "the prompt is longer than the context of {} ({} tokens)",
                    provider.name, provider.context_length
                );
                continue;
            }
            let mut wait = Duration::from_millis(self.router.routing.backoff_ms);
            for attempt in 1..=self.router.routing.attempts {
                if attempt > 1 {
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                match self.attempt(provider, model, body, caller).await {
                    Ok(done) => return Ok(done),
                    Err(CallError::Refused { status, message }) => {
                        tracing::warn!(provider = %provider.name, status, error = %message, "upstream refused the request");
                        return Err(Error::Refused { status, message });
                    }
                    Err(CallError::Unavailable(e)) => {
                        tracing::warn!(provider = %provider.name, attempt, error = %e, "upstream attempt failed");
                        last = e;
                        if !provider.breaker.closed() {
                            break;
                        }
                    }
                }
            }
        }
        Err(Error::Unavailable(last))
    }

    /// One call: redacted when the provider is external, audited, and for a
    /// stream held until its first token.
    async fn attempt(
        &self,
        provider: &Arc<Provider>,
        model: &str,
        body: &Value,
        caller: &Caller,
    ) -> Result<Upstreamed, CallError> {
        let served_by = format!("{}/{model}", provider.name);
        let mut sent = body.clone();
        sent["model"] = json!(model);
        let mut redaction = Redaction::new();
        let redacting = provider.external && self.router.redacting;
        if redacting {
            self.redact_messages(&mut sent, &mut redaction);
        }
        let started = Instant::now();
        let result = provider.chat(&sent, &served_by).await;
        let result = match result {
            Ok(Reply::Stream(chunks)) => first_token(chunks).await.map(Reply::Stream),
            other => other,
        };
        provider.outcome(&result);
        let mut audit = Audit {
            pool: self.router.pool.clone(),
            caller: caller.clone(),
            provider: provider.name.clone(),
            model: model.to_string(),
            redacted: redaction.count(),
        }
        .pending();
        match result {
            Ok(Reply::Json(mut answer)) => {
                if redacting {
                    restore_answer(&mut answer, &redaction);
                }
                audit.write("ok", &answer["usage"]).await;
                tracing::debug!(%served_by, ms = started.elapsed().as_millis() as u64, "upstream answered");
                Ok(Upstreamed {
                    reply: Reply::Json(answer),
                    served_by,
                })
            }
            Ok(Reply::Stream(chunks)) => Ok(Upstreamed {
                reply: Reply::Stream(relay(chunks, redacting.then_some(redaction), audit)),
                served_by,
            }),
            Err(e) => {
                let outcome = match &e {
                    CallError::Refused { .. } => "refused",
                    CallError::Unavailable(_) => "unavailable",
                };
                audit.write(outcome, &Value::Null).await;
                Err(e)
            }
        }
    }

    /// Embeddings from an upstream target (once: an embedding request is
    /// cheap to repeat for the client), its input redacted when the
    /// provider is external, audited like a chat call.
    pub async fn embed_upstream(
        &self,
        target: &Target,
        body: &Value,
        caller: &Caller,
    ) -> Result<Value, Error> {
        let Target::Upstream { provider, model } = target else {
            return Err(Error::Internal(
                "embeddings from a local target go through embed".into(),
            ));
        };
        if !provider.breaker.closed() {
            return Err(Error::Unavailable(format!(
                "{} is out of service",
                provider.name
            )));
        }
        let mut sent = body.clone();
        sent["model"] = json!(model);
        let mut redaction = Redaction::new();
        if provider.external && self.router.redacting {
            match &mut sent["input"] {
                Value::String(s) => *s = redaction.redact(s, &[]),
                Value::Array(items) => {
                    for item in items.iter_mut() {
                        if let Value::String(s) = item {
                            *s = redaction.redact(s, &[]);
                        }
                    }
                }
                _ => {}
            }
        }
        let result = provider.embeddings(&sent, &target.served_by()).await;
        provider.outcome(&result);
        let mut audit = Audit {
            pool: self.router.pool.clone(),
            caller: caller.clone(),
            provider: provider.name.clone(),
            model: model.clone(),
            redacted: redaction.count(),
        }
        .pending();
        match result {
            Ok(answer) => {
                audit.write("ok", &answer["usage"]).await;
                Ok(answer)
            }
            Err(CallError::Refused { status, message }) => {
                audit.write("refused", &Value::Null).await;
                Err(Error::Refused { status, message })
            }
            Err(CallError::Unavailable(message)) => {
                audit.write("unavailable", &Value::Null).await;
                Err(Error::Unavailable(message))
            }
        }
    }

    /// Replaces personal data in every message's text with placeholders.
    fn redact_messages(&self, body: &mut Value, redaction: &mut Redaction) {
        let Some(messages) = body["messages"].as_array_mut() else {
            return;
        };
        let mut redact_text = |text: &mut String| {
            let extra: Vec<redact::Span> = self
                .router
                .patterns
                .iter()
                .flat_map(|p| p.find_iter(text))
                .map(|m| redact::Span {
                    start: m.start(),
                    end: m.end(),
                    kind: Kind::Custom,
                })
                .collect();
            *text = redaction.redact(text, &extra);
        };
        for m in messages {
            match &mut m["content"] {
                Value::String(s) => redact_text(s),
                Value::Array(parts) => {
                    for part in parts {
                        if let Some(Value::String(s)) = part.get_mut("text") {
                            redact_text(s);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// A feature's chain, resolved for one request or job, with what the
/// router needs to call its upstream targets.
#[derive(Clone)]
pub struct Route {
    pub targets: Vec<Target>,
    pub caller: Caller,
    pub generator: Arc<Generator>,
}

impl Generator {
    /// [`Generator::chain`] for `role`, ready to call.
    pub async fn route(
        self: &Arc<Self>,
        role: Role,
        allowed: &Allowed,
        caller: Caller,
    ) -> Result<Route, Error> {
        Ok(Route {
            targets: self.chain(role, allowed).await?,
            caller,
            generator: self.clone(),
        })
    }
}
