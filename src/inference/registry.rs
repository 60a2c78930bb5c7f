//! The models this server knows: every GGUF in the models directory (a chat
//! model) and every sentence-transformers folder (an embedding model). The
//! role models load at start-up; the others load on first use. A file that
//! fails validation is recorded with its error and the others are served.
//! What loads, unloads and when (idle time, the memory budget, files
//! appearing in the directory) is [`super::lifecycle`].

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::chat_model::{ChatModel, LoadOptions};
use super::embeddings::Embedder;
use super::engine::Limits;
use crate::config::Config;
use crate::metrics::Metrics;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Chat,
    Embedding,
}

#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: String,
    pub path: PathBuf,
    pub kind: ModelKind,
}

#[derive(Clone)]
pub enum Slot {
    /// Known from the directory, not in memory; loads on first use.
    Unloaded,
    Loading,
    Chat(Arc<ChatModel>),
    Embedding(Arc<Embedder>),
    Failed(String),
}

impl Slot {
    pub fn state(&self) -> &'static str {
        match self {
            Self::Unloaded => "unloaded",
            Self::Loading => "loading",
            Self::Chat(_) | Self::Embedding(_) => "loaded",
            Self::Failed(_) => "failed",
        }
    }
}

/// A model lookup that did not give a ready model.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("The model `{0}` does not exist")]
    NotFound(String),
    #[error("The model `{0}` is still loading; retry shortly")]
    Loading(String),
    #[error("The model `{0}` could not be loaded: {1}")]
    Failed(String, String),
    #[error("The model `{0}` is an embedding model and cannot generate text")]
    NotChat(String),
    #[error("The model `{0}` is not an embedding model")]
    NotEmbedding(String),
}

/// One model file and what is in memory for it.
pub(super) struct Entry {
    pub candidate: Candidate,
    pub slot: Slot,
    /// When a request last used it (or it finished loading).
    pub last_used: Instant,
    /// How long it stays loaded while idle (`None`: until unloaded by hand).
    pub keep_alive: Option<Duration>,
}

/// A model as [`Registry::snapshot`] reports it.
pub struct Known {
    pub candidate: Candidate,
    pub slot: Slot,
    /// Time since a request last used it.
    pub idle: Duration,
    pub keep_alive: Option<Duration>,
    /// A role model: loaded at start-up, kept, never deleted.
    pub pinned: bool,
}

pub struct Registry {
    pub(super) entries: RwLock<BTreeMap<String, Entry>>,
    aliases: HashMap<String, String>,
    pub default_chat: String,
    pub default_embedding: String,
    pub(super) lifecycle: super::lifecycle::Lifecycle,
}
/// The engine's load options from the configuration: context and memory caps,
/// queue size, batching limits and the prefix cache.
pub fn load_options(config: &Config) -> LoadOptions {
    LoadOptions {
        max_context: config.models.max_context,
        max_memory: (config.models.max_memory_mib > 0)
            .then_some(config.models.max_memory_mib << 20),
        queue_size: config.engine.queue_size,
        limits: Limits {
            max_batch: config.engine.max_batch,
            prefill_chunk: config.engine.prefill_chunk,
        },
        prefix_cache_bytes: config.engine.prefix_cache_mib << 20,
        device: super::device(),
    }
}

/// Stable id of a model file: the file name without `.gguf`, dots as dashes
/// (`SmolLM2-135M-Instruct.Q4_1.gguf` → `SmolLM2-135M-Instruct-Q4_1`).
pub fn model_id(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.strip_suffix(".gguf")
        .unwrap_or(&name)
        .replace('.', "-")
}

/// Finds the model files in `dir`, sorted by id. A symlink is followed only
/// to a file inside `dir`: one that leads out of it (to `/etc/shadow`, to
/// another user's files) is skipped with a warning, so whoever can write to
/// the models directory cannot make the server read what it holds elsewhere.
pub fn discover(dir: &Path) -> std::io::Result<Vec<Candidate>> {
    let root = dir.canonicalize()?;
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let is_gguf = path.extension().is_some_and(|e| e == "gguf");
        let embedding_files = ["config.json", "tokenizer.json", "model.safetensors"];
        if path.is_file() && is_gguf {
            if !stays_inside(&root, &path) {
                continue;
            }
            found.push(Candidate {
                id: model_id(&path),
                path,
                kind: ModelKind::Chat,
            });
        } else if path.is_dir() && embedding_files.iter().all(|f| path.join(f).is_file()) {
            if !embedding_files
                .iter()
                .all(|f| stays_inside(&root, &path.join(f)))
            {
                continue;
            }
            let id = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            found.push(Candidate {
                id,
                path,
                kind: ModelKind::Embedding,
            });
        }
    }
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

/// Whether `path`, symlinks resolved, is inside the canonical directory `root`.
fn stays_inside(root: &Path, path: &Path) -> bool {
    match path.canonicalize() {
        Ok(real) if real.starts_with(root) => true,
        Ok(_) => {
            tracing::warn!(path = %path.display(),
                "skipped: a symlink in the models directory leads outside it");
            false
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "skipped: cannot resolve the path");
            false
        }
    }
}

impl Registry {
    /// Every candidate known and unloaded; [`Self::preload`] loads the role models.
    pub fn new(candidates: &[Candidate], config: &Config, metrics: Arc<Metrics>) -> Self {
        let lifecycle = super::lifecycle::Lifecycle::new(config, metrics);
        let entries = candidates
            .iter()
            .map(|c| (c.id.clone(), lifecycle.entry(c.clone())))
            .collect();
        Self {
            entries: RwLock::new(entries),
            aliases: config.models.aliases.clone(),
            default_chat: config.models.chat.clone(),
            default_embedding: config.models.embedding.clone(),
            lifecycle,
        }
    }

    /// The id an alias (or an id) stands for.
    pub fn resolve<'a>(&'a self, name: &'a str) -> &'a str {
        self.aliases.get(name).map_or(name, String::as_str)
    }

    /// The model's state now, loading nothing.
    pub fn get(&self, name: &str) -> Result<Slot, LookupError> {
        let id = self.resolve(name);
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        match entries.get(id).map(|e| &e.slot) {
            None => Err(LookupError::NotFound(name.to_string())),
            Some(Slot::Failed(e)) => Err(LookupError::Failed(name.to_string(), e.clone())),
            Some(slot) => Ok(slot.clone()),
        }
    }

    /// The chat model `name`, loaded first if it is not in memory.
    pub async fn chat(self: &Arc<Self>, name: &str) -> Result<Arc<ChatModel>, LookupError> {
        match self.ready(name).await? {
            Slot::Chat(m) => Ok(m),
            _ => Err(LookupError::NotChat(name.to_string())),
        }
    }

    /// The embedding model `name`, loaded first if it is not in memory.
    pub async fn embedding(self: &Arc<Self>, name: &str) -> Result<Arc<Embedder>, LookupError> {
        match self.ready(name).await? {
            Slot::Embedding(m) => Ok(m),
            _ => Err(LookupError::NotEmbedding(name.to_string())),
        }
    }

    /// Every model and its state, in id order.
    pub fn snapshot(&self) -> Vec<Known> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .values()
            .map(|e| Known {
                candidate: e.candidate.clone(),
                slot: e.slot.clone(),
                idle: e.last_used.elapsed(),
                keep_alive: e.keep_alive,
                pinned: self.lifecycle.is_pinned(&e.candidate.id),
            })
            .collect()
    }

    /// True once both default models have loaded at start-up, for as long
    /// as they stay loadable: one unloaded later (for the memory budget) loads
    /// again on its next request, so the server is still ready.
    pub fn ready_to_serve(&self) -> bool {
        let usable = |name: &str, want: ModelKind| {
            matches!(
                (self.get(name), want),
                (
                    Ok(Slot::Chat(_) | Slot::Unloaded | Slot::Loading),
                    ModelKind::Chat
                ) | (
                    Ok(Slot::Embedding(_) | Slot::Unloaded | Slot::Loading),
                    ModelKind::Embedding
                )
            )
        };
        let kind_of = |name: &str| {
            let id = self.resolve(name);
            let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
            entries.get(id).map(|e| e.candidate.kind)
        };
        self.lifecycle.preloaded()
            && kind_of(&self.default_chat) == Some(ModelKind::Chat)
            && kind_of(&self.default_embedding) == Some(ModelKind::Embedding)
            && usable(&self.default_chat, ModelKind::Chat)
            && usable(&self.default_embedding, ModelKind::Embedding)
    }

    /// The options every chat model loads with.
    pub fn load_options(&self) -> &LoadOptions {
        &self.lifecycle.opts
    }

    pub fn aliases(&self) -> &HashMap<String, String> {
        &self.aliases
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_come_from_file_names() {
        assert_eq!(
            model_id(Path::new("/m/SmolLM2-135M-Instruct.Q4_1.gguf")),
            "SmolLM2-135M-Instruct-Q4_1"
        );
        assert_eq!(
            model_id(Path::new("gemma-3-270m-q4_k_m.gguf")),
            "gemma-3-270m-q4_k_m"
        );
    }

    #[test]
    fn a_symlink_out_of_the_models_directory_is_skipped_and_one_inside_it_is_kept() {
        let base = std::env::temp_dir().join(format!("bacopilot-discover-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (models, elsewhere) = (base.join("models"), base.join("elsewhere"));
        std::fs::create_dir_all(&models).unwrap();
        std::fs::create_dir_all(elsewhere.join("bert")).unwrap();
        std::fs::write(models.join("real.gguf"), b"GGUF").unwrap();
        std::fs::write(elsewhere.join("secret.gguf"), b"GGUF").unwrap();
        std::os::unix::fs::symlink(elsewhere.join("secret.gguf"), models.join("escape.gguf"))
            .unwrap();
        std::os::unix::fs::symlink(models.join("real.gguf"), models.join("alias.gguf")).unwrap();
        // An embedding folder inside, whose weights lead outside.
        std::fs::create_dir_all(models.join("bert")).unwrap();
        for f in ["config.json", "tokenizer.json", "model.safetensors"] {
            std::fs::write(elsewhere.join("bert").join(f), b"{}").unwrap();
        }
        for f in ["config.json", "tokenizer.json"] {
            std::fs::write(models.join("bert").join(f), b"{}").unwrap();
        }
        std::os::unix::fs::symlink(
            elsewhere.join("bert/model.safetensors"),
            models.join("bert/model.safetensors"),
        )
        .unwrap();

        let ids: Vec<String> = discover(&models)
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, ["alias", "real"]);
        std::fs::remove_dir_all(&base).unwrap();
    }
}
