//! The administrators' pulls: GGUFs downloading from the hub in the
//! background while the server serves, each with its progress, cancellable.
//! A finished pull's model is offered at once (the models directory is read
//! again); a pull that fails or is cancelled leaves nothing behind.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::{oneshot, watch};

use super::catalog::pull::{self, Hub, Installed, Step};
use super::registry::Registry;

/// Pulls downloading at once; more are refused until one ends.
const MAX_RUNNING: usize = 4;
/// Finished pulls kept for the list.
const KEEP_FINISHED: usize = 20;
/// A temporary download file this old belongs to no running pull (a download
/// writes at least every minute or fails).
const STALE_PARTIAL: Duration = Duration::from_secs(600);

/// Why a pull was not started.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
}

/// One pull as the list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PullView {
    pub id: String,
    pub repo: String,
    /// The file in the repository (chosen by the server when not named).
    pub file: Option<String>,
    /// `resolving`, `downloading`, `verifying`, `done`, `failed` or `cancelled`.
    pub state: &'static str,
    pub received_bytes: u64,
    /// From the hub's listing; `None` until it is read.
    pub total_bytes: Option<u64>,
    pub error: Option<String>,
    /// The model id it is served under, once done.
    pub model: Option<String>,
    pub sha256: Option<String>,
    pub started: u64,
    pub finished: Option<u64>,
}

struct Pull {
    view: Mutex<PullView>,
    cancel: watch::Sender<bool>,
    /// Turns true when the pull has ended, whichever way.
    ended: watch::Sender<bool>,
}

impl Pull {
    fn view(&self) -> PullView {
        self.view.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn update(&self, f: impl FnOnce(&mut PullView)) {
        f(&mut self.view.lock().unwrap_or_else(|e| e.into_inner()));
    }

    fn running(&self) -> bool {
        !*self.ended.borrow()
    }
}

pub struct Pulls {
    hub_endpoint: String,
    dir: PathBuf,
    registry: Arc<Registry>,
    /// Newest first.
    list: Mutex<Vec<Arc<Pull>>>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Pulls {
    /// Also removes temporary files that interrupted downloads (a killed
    /// process) left in `dir`.
    pub fn new(hub_endpoint: &str, dir: &Path, registry: Arc<Registry>) -> Self {
        remove_stale_partials(dir);
        Self {
            hub_endpoint: hub_endpoint.to_string(),
            dir: dir.to_path_buf(),
            registry,
            list: Mutex::new(Vec::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Pull>>> {
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn list(&self) -> Vec<PullView> {
        self.lock().iter().map(|p| p.view()).collect()
    }

    pub fn get(&self, id: &str) -> Option<PullView> {
        self.lock().iter().map(|p| p.view()).find(|v| v.id == id)
    }

    /// Asks a running pull to stop; its view once it has (or as it is).
    pub async fn cancel(&self, id: &str) -> Option<PullView> {
        let pull = self.lock().iter().find(|p| p.view().id == id).cloned()?;
        let _ = pull.cancel.send(true);
        let mut ended = pull.ended.subscribe();
        // The download stops at once, even mid-chunk; the clean-up is quick.
        let _ = tokio::time::timeout(Duration::from_secs(10), ended.wait_for(|e| *e)).await;
        Some(pull.view())
    }

    /// Starts pulling `file` of `repo` (the repository's Q4_K_M GGUF when
    /// `None`); the receiver gets the outcome when it ends.
    pub fn start(
        &self,
        repo: &str,
        file: Option<&str>,
    ) -> Result<(PullView, oneshot::Receiver<Result<Installed, String>>), PullError> {
        pull::check_repo(repo).map_err(|e| PullError::Invalid(e.to_string()))?;
        if let Some(f) = file {
            let name = pull::destination_name(f).map_err(|e| PullError::Invalid(e.to_string()))?;
            if self.dir.join(&name).exists() {
                return Err(PullError::Conflict(format!(
                    "`{name}` is already in the models directory; delete it first to pull it again"
                )));
            }
        }
        let (cancel, cancelled) = watch::channel(false);
        let pull = Arc::new(Pull {
            view: Mutex::new(PullView {
                id: crate::store::new_id(),
                repo: repo.to_string(),
                file: file.map(str::to_string),
                state: "resolving",
                received_bytes: 0,
                total_bytes: None,
                error: None,
                model: None,
                sha256: None,
                started: unix_now(),
                finished: None,
            }),
            cancel,
            ended: watch::channel(false).0,
        });
        {
            let mut list = self.lock();
            let running: Vec<PullView> = list
                .iter()
                .filter(|p| p.running())
                .map(|p| p.view())
                .collect();
            if running.len() >= MAX_RUNNING {
                return Err(PullError::Conflict(format!(
                    "{MAX_RUNNING} pulls are running; try again when one ends"
                )));
            }
            if let Some(same) = running
                .iter()
                .find(|p| p.repo == repo && file.is_some() && p.file.as_deref() == file)
            {
                return Err(PullError::Conflict(format!(
                    "this file is already being pulled (pull {})",
                    same.id
                )));
            }
            list.insert(0, pull.clone());
            let mut kept_finished = 0;
            list.retain(|p| {
                if p.running() {
                    return true;
                }
                kept_finished += 1;
                kept_finished <= KEEP_FINISHED
            });
        }
        let view = pull.view();
        let (done, outcome) = oneshot::channel();
        let (endpoint, dir, registry) = (
            self.hub_endpoint.clone(),
            self.dir.clone(),
            self.registry.clone(),
        );
        let (repo, file) = (repo.to_string(), file.map(str::to_string));
        tokio::spawn(async move {
            let report = |step: Step| {
                pull.update(|v| match step {
                    Step::Resolved(f) => {
                        v.file = Some(f.name);
                        v.total_bytes = f.size;
                        v.state = "downloading";
                    }
                    Step::Received(n) => v.received_bytes = n,
                    Step::Verifying => v.state = "verifying",
                })
            };
            let result = match Hub::new(&endpoint) {
                Ok(hub) => {
                    pull::fetch(
                        &hub,
                        &dir,
                        &repo,
                        file.as_deref(),
                        &report,
                        cancelled.clone(),
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            if result.is_ok() {
                let registry = registry.clone();
                let _ = tokio::task::spawn_blocking(move || registry.rescan()).await;
            }
            let was_cancelled = *cancelled.borrow();
            pull.update(|v| {
                v.finished = Some(unix_now());
                match &result {
                    Ok(installed) => {
                        v.state = "done";
                        v.model = Some(installed.id.clone());
                        v.sha256 = Some(installed.sha256.clone());
                    }
                    Err(_) if was_cancelled => v.state = "cancelled",
                    Err(e) => {
                        v.state = "failed";
                        v.error = Some(format!("{e:#}"));
                    }
                }
            });
            match &result {
                Ok(i) => tracing::info!(model = %i.id, %repo, "pull done"),
                Err(e) => {
                    tracing::warn!(%repo, error = %format!("{e:#}"), "pull ended without a model")
                }
            }
            pull.ended.send_replace(true);
            let _ = done.send(result.map_err(|e| format!("{e:#}")));
        });
        Ok((view, outcome))
    }
}

/// Deletes `.*.partial` files in `dir` that no download has written to lately.
fn remove_stale_partials(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_PARTIAL);
        if name.starts_with('.') && name.ends_with(".partial") && old {
            tracing::info!(file = %name, "removing an interrupted download");
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
