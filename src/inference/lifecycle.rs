//! When models load and unload. The role models (`models.chat`,
//! `models.embedding` and the features' own) load at start-up and stay; any
//! other model loads on first use and unloads after `models.keep_alive_secs`
//! idle (per model in `models.keep_alive_by_model`, per request with a
//! `keep_alive` field). Under `models.memory_budget_mib` a load first unloads
//! the least recently used idle models until it fits; a model with a request
//! running or queued is never unloaded. The models directory is read again
//! every `models.rescan_secs`, so a GGUF copied in is served without a restart.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::chat_model::{self, ChatModel, LoadOptions};
use super::embeddings::Embedder;
use super::registry::{discover, Candidate, Entry, LookupError, ModelKind, Registry, Slot};
use crate::config::Config;
use crate::metrics::Metrics;

/// How long a load waits for busy models to go idle before it gives up.
const BUDGET_WAIT: Duration = Duration::from_secs(600);
/// How often the idle clock and the budget wait look again.
const TICK: Duration = Duration::from_millis(200);

pub struct Lifecycle {
    dir: PathBuf,
    pub(super) opts: LoadOptions,
    metrics: Arc<Metrics>,
    /// Idle time before a model that is not pinned unloads (`None`: never).
    keep_alive: Option<Duration>,
    per_model: HashMap<String, Option<Duration>>,
    /// The role models: loaded at start-up, kept unless configured otherwise.
    pinned: HashSet<String>,
    budget: Option<u64>,
    rescan: Option<Duration>,
    /// Bumped whenever a load ends, so waiting requests look again.
    changed: watch::Sender<u64>,
    /// One load at a time, so the budget counts what is really in memory.
    loading: Mutex<()>,
    /// Set once the start-up loads of the role models have ended.
    preloaded: AtomicBool,
}

/// Why a model could not be unloaded or deleted.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error(transparent)]
    Lookup(#[from] LookupError),
    #[error("The model `{0}` is serving {1} request(s); try again when they finish")]
    Busy(String, usize),
    #[error("The model `{0}` is a role model (models.chat, models.embedding or a feature's model) and cannot be deleted")]
    Pinned(String),
    #[error("cannot delete the model file: {0}")]
    Io(#[from] std::io::Error),
}

/// A configured number of seconds: negative is "forever".
fn seconds(s: i64) -> Option<Duration> {
    u64::try_from(s).ok().map(Duration::from_secs)
}

impl Lifecycle {
    pub fn new(config: &Config, metrics: Arc<Metrics>) -> Self {
        let m = &config.models;
        let pinned = [
            config.chat_model(&config.chat.model),
            config.chat_model(&config.srs.model),
            config.chat_model(&config.wireframes.model),
            &m.embedding,
        ]
        .into_iter()
        .map(|name| m.aliases.get(name).unwrap_or(&name.to_string()).clone())
        .collect();
        Self {
            dir: m.dir.clone(),
            opts: super::registry::load_options(config),
            metrics,
            keep_alive: seconds(m.keep_alive_secs),
            per_model: m
                .keep_alive_by_model
                .iter()
                .map(|(id, &s)| (id.clone(), seconds(s)))
                .collect(),
            pinned,
            budget: (m.memory_budget_mib > 0).then_some(m.memory_budget_mib << 20),
            rescan: (m.rescan_secs > 0).then(|| Duration::from_secs(m.rescan_secs)),
            changed: watch::channel(0).0,
            loading: Mutex::new(()),
            preloaded: AtomicBool::new(false),
        }
    }

    pub(super) fn entry(&self, candidate: Candidate) -> Entry {
        let keep_alive = match self.per_model.get(&candidate.id) {
            Some(k) => *k,
            None if self.pinned.contains(&candidate.id) => None,
            None => self.keep_alive,
        };
        Entry {
            candidate,
            slot: Slot::Unloaded,
            last_used: Instant::now(),
            keep_alive,
        }
    }

    pub fn is_pinned(&self, id: &str) -> bool {
        self.pinned.contains(id)
    }

    /// Whether the start-up loads have ended (successful or not).
    pub fn preloaded(&self) -> bool {
        self.preloaded.load(Ordering::Acquire)
    }
}

/// Bytes a loaded model may hold (what the budget counts).
fn resident(slot: &Slot) -> u64 {
    match slot {
        Slot::Chat(m) => m.memory_bytes,
        Slot::Embedding(e) => e.weight_bytes(),
        _ => 0,
    }
}

fn in_flight(slot: &Slot) -> usize {
    match slot {
        Slot::Chat(m) => m.in_flight(),
        _ => 0,
    }
}

impl Registry {
    fn lock(&self) -> std::sync::RwLockWriteGuard<'_, std::collections::BTreeMap<String, Entry>> {
        self.entries.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Loads the role models, one after another. Blocking: run it on its own thread.
    pub fn preload(&self) {
        let ids: Vec<String> = {
            let entries = self.lock();
            let mut ids: Vec<String> = entries
                .keys()
                .filter(|id| self.lifecycle.is_pinned(id))
                .cloned()
                .collect();
            // The default chat and embedding models first: readiness waits on them.
            ids.sort_by_key(|id| *id != self.default_chat && *id != self.default_embedding);
            ids
        };
        for id in ids {
            if self.claim(&id) {
                self.load_now(&id);
            }
        }
        self.lifecycle.preloaded.store(true, Ordering::Release);
    }

    /// Marks `id` loading when it is unloaded; false when someone else is on it.
    fn claim(&self, id: &str) -> bool {
        let mut entries = self.lock();
        match entries.get_mut(id) {
            Some(e) if matches!(e.slot, Slot::Unloaded) => {
                e.slot = Slot::Loading;
                true
            }
            _ => false,
        }
    }

    /// The slot of `name` once it is loaded (starting the load if needed).
    pub(super) async fn ready(self: &Arc<Self>, name: &str) -> Result<Slot, LookupError> {
        let id = self.resolve(name).to_string();
        let mut changes = self.lifecycle.changed.subscribe();
        loop {
            let start = {
                let mut entries = self.lock();
                let Some(e) = entries.get_mut(&id) else {
                    return Err(LookupError::NotFound(name.to_string()));
                };
                match &e.slot {
                    Slot::Chat(_) | Slot::Embedding(_) => {
                        e.last_used = Instant::now();
                        return Ok(e.slot.clone());
                    }
                    Slot::Failed(msg) => {
                        return Err(LookupError::Failed(name.to_string(), msg.clone()))
                    }
                    Slot::Loading => false,
                    Slot::Unloaded => {
                        e.slot = Slot::Loading;
                        true
                    }
                }
            };
            if start {
                let (me, id) = (self.clone(), id.clone());
                std::thread::Builder::new()
                    .name("model-loader".into())
                    .spawn(move || me.load_now(&id))
                    .map_err(|e| LookupError::Failed(name.to_string(), e.to_string()))?;
            }
            if changes.changed().await.is_err() {
                return Err(LookupError::Loading(name.to_string()));
            }
        }
    }

    /// Loads `id` (claimed: its slot is `Loading`), unloading idle models
    /// first when the budget needs room. Blocking.
    fn load_now(&self, id: &str) {
        let _one = self
            .lifecycle
            .loading
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let Some(candidate) = self.lock().get(id).map(|e| e.candidate.clone()) else {
            return;
        };
        let started = Instant::now();
        let slot = match self.make_room(&candidate) {
            Err(e) => Slot::Failed(e),
            Ok(()) => self.load_candidate(&candidate),
        };
        match &slot {
            Slot::Failed(e) => tracing::error!(model = %id, error = %e, "model refused"),
            _ => {
                tracing::info!(model = %id, seconds = started.elapsed().as_secs_f64(), "model ready")
            }
        }
        if let Some(e) = self.lock().get_mut(id) {
            e.slot = slot;
            e.last_used = Instant::now();
        }
        self.lifecycle.changed.send_modify(|n| *n += 1);
    }

    fn load_candidate(&self, c: &Candidate) -> Slot {
        let opts = &self.lifecycle.opts;
        match c.kind {
            ModelKind::Chat => {
                match ChatModel::load(&c.id, &c.path, opts, self.lifecycle.metrics.clone()) {
                    Ok(m) => Slot::Chat(Arc::new(m)),
                    Err(e) => Slot::Failed(e.to_string()),
                }
            }
            ModelKind::Embedding => match Embedder::load(&c.path, &opts.device) {
                Ok(m) => Slot::Embedding(Arc::new(m)),
                Err(e) => Slot::Failed(e.to_string()),
            },
        }
    }

    /// Unloads least recently used idle models until `c` fits the budget,
    /// waiting for busy ones to finish; an error when it never can.
    fn make_room(&self, c: &Candidate) -> Result<(), String> {
        let Some(budget) = self.lifecycle.budget else {
            return Ok(());
        };
        let need = match c.kind {
            ModelKind::Chat => {
                let info = super::gguf_check::validate(&c.path).map_err(|e| e.to_string())?;
                chat_model::memory_needed(&info, &self.lifecycle.opts)
            }
            ModelKind::Embedding => Embedder::file_bytes(&c.path),
        };
        if need > budget {
            return Err(format!(
                "needs about {} MiB, more than the whole memory budget (models.memory_budget_mib = {})",
                need >> 20,
                budget >> 20
            ));
        }
        let deadline = Instant::now() + BUDGET_WAIT;
        loop {
            let victim = {
                let mut entries = self.lock();
                let used: u64 = entries.values().map(|e| resident(&e.slot)).sum();
                if used + need <= budget {
                    return Ok(());
                }
                let idle = entries
                    .iter_mut()
                    .filter(|(id, e)| {
                        **id != c.id && resident(&e.slot) > 0 && in_flight(&e.slot) == 0
                    })
                    .min_by_key(|(_, e)| e.last_used);
                idle.map(|(id, e)| {
                    e.slot = Slot::Unloaded;
                    id.clone()
                })
            };
            match victim {
                Some(v) => {
                    tracing::info!(model = %v, for_model = %c.id, "unloaded to fit the memory budget")
                }
                None if Instant::now() > deadline => {
                    return Err(format!(
                        "the memory budget ({} MiB) is held by models serving requests",
                        budget >> 20
                    ))
                }
                None => std::thread::sleep(TICK),
            }
        }
    }

    /// Unloads `name` now; refused while it serves requests.
    pub fn unload(&self, name: &str) -> Result<(), LifecycleError> {
        let id = self.resolve(name).to_string();
        let mut entries = self.lock();
        let e = entries
            .get_mut(&id)
            .ok_or_else(|| LookupError::NotFound(name.to_string()))?;
        match in_flight(&e.slot) {
            0 => {
                if !matches!(e.slot, Slot::Loading) {
                    e.slot = Slot::Unloaded;
                }
                Ok(())
            }
            n => Err(LifecycleError::Busy(id, n)),
        }
    }

    /// Loads `name` (again after a failure), waiting until it is ready.
    pub async fn load(self: &Arc<Self>, name: &str) -> Result<Slot, LookupError> {
        let id = self.resolve(name).to_string();
        if let Some(e) = self.lock().get_mut(&id) {
            if matches!(e.slot, Slot::Failed(_)) {
                e.slot = Slot::Unloaded;
            }
        }
        self.ready(name).await
    }

    /// Unloads `name` and deletes its file (a role model cannot be deleted).
    pub fn delete(&self, name: &str) -> Result<(), LifecycleError> {
        let id = self.resolve(name).to_string();
        if self.lifecycle.is_pinned(&id) {
            return Err(LifecycleError::Pinned(id));
        }
        self.unload(&id)?;
        let Some(entry) = self.lock().remove(&id) else {
            return Err(LookupError::NotFound(name.to_string()).into());
        };
        let path = &entry.candidate.path;
        match entry.candidate.kind {
            ModelKind::Chat => std::fs::remove_file(path)?,
            ModelKind::Embedding => std::fs::remove_dir_all(path)?,
        }
        Ok(())
    }

    /// A request's `keep_alive`: how long `name` stays loaded once idle from now on.
    pub fn set_keep_alive(&self, name: &str, keep_alive: Option<Duration>) {
        let id = self.resolve(name).to_string();
        if let Some(e) = self.lock().get_mut(&id) {
            e.keep_alive = keep_alive;
            e.last_used = Instant::now();
        }
    }

    /// How long `id` stays loaded once idle (`None`: until unloaded by hand).
    pub fn keep_alive(&self, id: &str) -> Option<Duration> {
        self.lock().get(id).and_then(|e| e.keep_alive)
    }

    /// Seconds since `id` was last used.
    pub fn idle_for(&self, id: &str) -> Option<Duration> {
        self.lock().get(id).map(|e| e.last_used.elapsed())
    }

    /// Unloads models idle beyond their keep-alive; a busy model's idle clock restarts.
    pub fn reap(&self) {
        let mut entries = self.lock();
        for (id, e) in entries.iter_mut() {
            if resident(&e.slot) == 0 {
                continue;
            }
            if in_flight(&e.slot) > 0 {
                e.last_used = Instant::now();
            } else if e.keep_alive.is_some_and(|k| e.last_used.elapsed() >= k) {
                tracing::info!(model = %id, "unloaded after its keep-alive");
                e.slot = Slot::Unloaded;
            }
        }
    }

    /// Reads the models directory again: new files become unloaded models,
    /// files gone take their (idle) models with them.
    pub fn rescan(&self) {
        let found = match discover(&self.lifecycle.dir) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the models directory");
                return;
            }
        };
        let mut entries = self.lock();
        for c in &found {
            if !entries.contains_key(&c.id) {
                tracing::info!(model = %c.id, "new model file found");
                entries.insert(c.id.clone(), self.lifecycle.entry(c.clone()));
            }
        }
        entries.retain(|id, e| {
            found.iter().any(|c| &c.id == id)
                || matches!(e.slot, Slot::Loading)
                || in_flight(&e.slot) > 0
        });
    }

    /// The idle clock and the directory scan, for as long as the server runs.
    pub fn spawn_housekeeping(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut last_scan = Instant::now();
            loop {
                tokio::time::sleep(TICK).await;
                // Ends with the registry (a test server dropped).
                let Some(me) = weak.upgrade() else { return };
                me.reap();
                if me
                    .lifecycle
                    .rescan
                    .is_some_and(|r| last_scan.elapsed() >= r)
                {
                    last_scan = Instant::now();
                    let m = me.clone();
                    let _ = tokio::task::spawn_blocking(move || m.rescan()).await;
                }
            }
        });
    }
}
