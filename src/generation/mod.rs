//! The one path from a feature to a model. A feature names a [`Role`] (or,
//! for the OpenAI API, the model a client asked for) and hands over a
//! [`Generation`]; this module finds the model, compiles constraints off the
//! async runtime, submits under a queue policy and hands back an [`Answer`]:
//! a stream of events together with who produces it. Embeddings have one
//! entry point too, [`Generator::embed`], with bounded admission.
//!
//! This is the seam where upstream providers plug in: a request goes in, a
//! stream of [`Event`]s comes out, and [`Answer::model`] says who answered.

pub mod cache;
pub mod guard;
pub mod route;
pub mod structured;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::inference::chat_model::{ChatModel, Generation, SubmitError};
use crate::inference::constraint::{Constraint, ConstraintSpec};
use crate::inference::embeddings::Embedder;
use crate::inference::engine::{Completion, Event};
use crate::inference::registry::{LookupError, Registry};

/// What a feature generates for; each role has its own model setting
/// (`chat.model`, `srs.model`, `wireframes.model`, falling back to `models.chat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Chat,
    Srs,
    Wireframes,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Chat => "chat",
            Role::Srs => "srs",
            Role::Wireframes => "wireframes",
        }
    }
}

/// The model names each role resolves to, read once from the configuration.
#[derive(Debug, Clone)]
struct Roles {
    chat: String,
    srs: String,
    wireframes: String,
    embedding: String,
}

/// Finds models and runs generations and embeddings on them; cheap to share.
pub struct Generator {
    registry: Arc<Registry>,
    roles: Roles,
    /// Embedding batches running at once: each holds a core for its whole batch.
    embedding: Semaphore,
    /// Upstream providers and the chains of each role.
    router: route::Router,
    /// Answers to identical requests at temperature 0.
    pub cache: cache::Cache,
}

/// A generation under way: its events, and the model producing them.
pub struct Answer {
    /// The id of the model that answers (for the OpenAI API, the name the
    /// client asked for is echoed instead).
    pub model: String,
    pub events: UnboundedReceiver<Event>,
}

/// Why a generation could not start, or an embedding could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Lookup(#[from] LookupError),
    #[error(transparent)]
    Submit(#[from] SubmitError),
    /// The constraint (schema, grammar) was refused; the message says why.
    #[error("{0}")]
    Constraint(String),
    /// The caller stopped waiting for a place in the queue.
    #[error("cancelled")]
    Cancelled,
    /// A blocking task died or the model failed; the detail is for the log.
    #[error("{0}")]
    Internal(String),
    /// Nothing in the role's chain is up and allowed.
    #[error("{0}")]
    NoTarget(String),
    /// Every upstream target failed; the last failure.
    #[error("{0}")]
    Unavailable(String),
    /// An upstream refused the request itself.
    #[error("{message}")]
    Refused { status: u16, message: String },
}

/// How long a waiting submission sleeps before it tries a full queue again.
const QUEUE_RETRY: Duration = Duration::from_millis(250);

impl Generator {
    pub fn new(
        registry: Arc<Registry>,
        config: &Config,
        router: route::Router,
        cache: cache::Cache,
    ) -> Self {
        let roles = Roles {
            chat: config.chat_model(&config.chat.model).to_string(),
            srs: config.chat_model(&config.srs.model).to_string(),
            wireframes: config.chat_model(&config.wireframes.model).to_string(),
            embedding: config.models.embedding.clone(),
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            registry,
            roles,
            embedding: Semaphore::new(cores),
            router,
            cache,
        }
    }

    /// The chat model serving `role`.
    /// (Loaded first when it is not in memory.)
    pub async fn model_for(&self, role: Role) -> Result<Arc<ChatModel>, LookupError> {
        let name = match role {
            Role::Chat => &self.roles.chat,
            Role::Srs => &self.roles.srs,
            Role::Wireframes => &self.roles.wireframes,
        };
        self.registry.chat(name).await
    }

    /// The chat model a client named (an id or an alias), loaded first when
    /// it is not in memory.
    pub async fn model_named(&self, name: &str) -> Result<Arc<ChatModel>, LookupError> {
        self.registry.chat(name).await
    }

    /// The embedding model a client named, or the default one for `None`.
    pub async fn embedder(&self, name: Option<&str>) -> Result<Arc<Embedder>, LookupError> {
        self.registry
            .embedding(name.unwrap_or(&self.roles.embedding))
            .await
    }

    /// The models this server knows and what is loaded.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Compiles `spec` for `model` on a blocking thread (grammar compilation
    /// is CPU work that must not stall the runtime).
    pub async fn compile(
        model: &Arc<ChatModel>,
        spec: ConstraintSpec,
    ) -> Result<Constraint, Error> {
        let m = model.clone();
        tokio::task::spawn_blocking(move || m.compile_constraint(&spec))
            .await
            .map_err(|e| Error::Internal(format!("compiling a constraint: {e}")))?
            .map_err(Error::Constraint)
    }

    /// Runs `work` with `model` on a blocking thread, for callers that
    /// compile several constraints and decide between them (tool calls).
    pub async fn off_runtime<R: Send + 'static>(
        model: &Arc<ChatModel>,
        work: impl FnOnce(&ChatModel) -> R + Send + 'static,
    ) -> Result<R, Error> {
        let m = model.clone();
        tokio::task::spawn_blocking(move || work(&m))
            .await
            .map_err(|e| Error::Internal(format!("constraint task: {e}")))
    }

    /// Queues `generation`, refusing at once when the queue is full: a
    /// client can retry (the API answers 429).
    pub fn start(model: &Arc<ChatModel>, generation: Generation) -> Result<Answer, Error> {
        let events = model.submit(generation)?;
        Ok(Answer {
            model: model.id.clone(),
            events,
        })
    }

    /// Queues `generation`, waiting out a full queue until `cancelled()`:
    /// background work has no client to retry.
    pub async fn start_waiting(
        model: &Arc<ChatModel>,
        mut generation: Generation,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<Answer, Error> {
        loop {
            if cancelled() {
                return Err(Error::Cancelled);
            }
            match model.submit_or_return(generation) {
                Ok(events) => {
                    return Ok(Answer {
                        model: model.id.clone(),
                        events,
                    })
                }
                Err((SubmitError::QueueFull(_), g)) => {
                    generation = g;
                    tokio::time::sleep(QUEUE_RETRY).await;
                }
                Err((e, _)) => return Err(e.into()),
            }
        }
    }

    /// Embeds `texts` with `embedder` on a blocking thread, at most one batch
    /// per core at a time; with `count`, also each text's token count.
    pub async fn embed(
        &self,
        embedder: &Arc<Embedder>,
        texts: Vec<String>,
        count: bool,
    ) -> Result<Embedded, Error> {
        let _permit = self
            .embedding
            .acquire()
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        let worker = embedder.clone();
        tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let vectors = worker.embed(&refs).map_err(|e| e.to_string())?;
            let tokens = if count {
                worker.count_tokens(&refs).map_err(|e| e.to_string())?
            } else {
                Vec::new()
            };
            Ok(Embedded { vectors, tokens })
        })
        .await
        .map_err(|e| Error::Internal(format!("embedding task: {e}")))?
        .map_err(|e: String| Error::Internal(format!("embedding: {e}")))
    }
}

/// Vectors for a batch of texts, and (when asked) their token counts.
pub struct Embedded {
    pub vectors: Vec<Vec<f32>>,
    pub tokens: Vec<usize>,
}

impl Answer {
    /// Waits for the whole text and how the generation finished.
    pub async fn collect(mut self) -> Result<(String, Completion), String> {
        let mut text = String::new();
        while let Some(event) = self.events.recv().await {
            match event {
                Event::Delta(d) => text.push_str(&d),
                Event::Done(done) => return Ok((text, done)),
                Event::Error(e) => return Err(e),
            }
        }
        Err("the generation stopped without finishing".into())
    }
}
