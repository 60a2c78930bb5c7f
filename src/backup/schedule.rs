//! Backups the server takes itself: into `[backup] dir`, every
//! `interval_secs`, keeping the newest `keep`; and on an administrator's
//! request. One runs at a time. Each outcome is audited and raised as the
//! `backup.done` or `backup.failed` event.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::json;
use sqlx::SqlitePool;
use utoipa::ToSchema;

use super::{create, Manifest, MANIFEST};
use crate::audit::{self, Actor};
use crate::config::BackupConfig;

/// Scheduled backups are named `backup-<UTC time>`; only those are pruned.
const PREFIX: &str = "backup-";

pub struct Backups {
    data_dir: PathBuf,
    config: BackupConfig,
    running: tokio::sync::Mutex<()>,
    pool: SqlitePool,
}

/// One backup in `[backup] dir`, as the admin API lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Listed {
    pub name: String,
    pub created_at: String,
    pub app_version: String,
    pub schema_version: i64,
    /// Sum of the files' sizes.
    pub bytes: u64,
    pub counts: std::collections::BTreeMap<String, i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("no backup directory is configured: set [backup] dir in the config")]
    NotConfigured,
    #[error("a backup is running; try again when it has finished")]
    Busy,
    #[error("{0}")]
    Failed(String),
}

impl Backups {
    pub fn new(data_dir: PathBuf, config: BackupConfig, pool: SqlitePool) -> Arc<Self> {
        Arc::new(Self {
            data_dir,
            config,
            running: tokio::sync::Mutex::new(()),
            pool,
        })
    }

    pub fn dir(&self) -> Option<&Path> {
        (!self.config.dir.as_os_str().is_empty()).then_some(self.config.dir.as_path())
    }

    /// Takes a backup now into `[backup] dir` and prunes beyond `keep`;
    /// `actor` (the schedule or an administrator) is named in the audit log.
    pub async fn take(&self, actor: Actor<'_>) -> Result<(String, Manifest), BackupError> {
        let dir = self.dir().ok_or(BackupError::NotConfigured)?.to_path_buf();
        let _one = self.running.try_lock().map_err(|_| BackupError::Busy)?;
        std::fs::create_dir_all(&dir)
            .map_err(|e| BackupError::Failed(format!("cannot create {}: {e}", dir.display())))?;
        let name = format!(
            "{PREFIX}{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ")
        );
        let dest = dir.join(&name);
        let outcome = create(&self.data_dir, &dest).await;
        record(&self.pool, actor, &dest, &outcome).await;
        let manifest = outcome.map_err(|e| BackupError::Failed(format!("{e:#}")))?;
        self.prune(&dir);
        Ok((name, manifest))
    }

    /// Removes the oldest scheduled backups beyond `keep` (0 keeps all).
    fn prune(&self, dir: &Path) {
        if self.config.keep == 0 {
            return;
        }
        let mut names: Vec<String> = self.list().into_iter().map(|b| b.name).collect();
        names.sort();
        let excess = names.len().saturating_sub(self.config.keep);
        for name in &names[..excess] {
            if let Err(e) = std::fs::remove_dir_all(dir.join(name)) {
                tracing::warn!(backup = %name, error = %e, "cannot remove an old backup");
            }
        }
    }

    /// The complete backups in `[backup] dir`, oldest first.
    pub fn list(&self) -> Vec<Listed> {
        let Some(dir) = self.dir() else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut out: Vec<Listed> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                if !name.starts_with(PREFIX) {
                    return None;
                }
                let text = std::fs::read(e.path().join(MANIFEST)).ok()?;
                let m: Manifest = serde_json::from_slice(&text).ok()?;
                Some(Listed {
                    name,
                    created_at: m.created_at,
                    app_version: m.app_version,
                    schema_version: m.schema_version,
                    bytes: m.files.values().map(|f| f.bytes).sum(),
                    counts: m.counts,
                })
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The path of the backup `name`, if it is one of ours.
    pub fn find(&self, name: &str) -> Option<PathBuf> {
        let plain = name.starts_with(PREFIX)
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'));
        let path = self.dir()?.join(name);
        (plain && path.join(MANIFEST).is_file()).then_some(path)
    }

    /// Seconds since the newest backup, for `/metrics`.
    pub fn age_secs(&self) -> Option<f64> {
        let newest = self.list().pop()?;
        let at = chrono::DateTime::parse_from_rfc3339(&newest.created_at).ok()?;
        Some((chrono::Utc::now() - at.with_timezone(&chrono::Utc)).num_milliseconds() as f64 / 1e3)
    }

    /// Takes a backup whenever the newest is `interval_secs` old (at once when
    /// there is none), for as long as the server runs.
    pub fn spawn_schedule(self: &Arc<Self>) {
        if self.dir().is_none() || self.config.interval_secs == 0 {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            let interval = me.config.interval_secs as f64;
            loop {
                let wait = me.age_secs().map_or(0.0, |age| (interval - age).max(0.0));
                tokio::time::sleep(Duration::from_secs_f64(wait.max(1.0))).await;
                if me.age_secs().is_some_and(|age| age < interval) {
                    continue;
                }
                let actor = Actor {
                    name: Some("schedule"),
                    address: "local",
                };
                match me.take(actor).await {
                    Ok((name, _)) => tracing::info!(backup = %name, "scheduled backup written"),
                    Err(BackupError::Busy) => {}
                    Err(e) => {
                        tracing::error!(error = %e, "scheduled backup failed");
                        // Not again at once: wait one interval's tenth (a minute at least).
                        tokio::time::sleep(Duration::from_secs_f64((interval / 10.0).max(60.0)))
                            .await;
                    }
                }
            }
        });
    }
}

/// Audits a backup's outcome and raises its event.
async fn record(
    pool: &SqlitePool,
    actor: Actor<'_>,
    dest: &Path,
    outcome: &anyhow::Result<Manifest>,
) {
    let dir = dest.display().to_string();
    let (action, details) = match outcome {
        Ok(m) => (
            "backup.done",
            json!({"dir": dir, "created_at": m.created_at, "schema_version": m.schema_version,
                   "counts": m.counts, "files": m.files.len()}),
        ),
        Err(e) => (
            "backup.failed",
            json!({"dir": dir, "error": format!("{e:#}")}),
        ),
    };
    audit::record(pool, actor, action, None, details.clone()).await;
    crate::events::emit(pool, action, details).await;
}

/// The audit row and event of a backup taken from the command line, in the
/// served database (when it opens).
pub async fn record_outcome(data_dir: &Path, dest: &Path, outcome: &anyhow::Result<Manifest>) {
    if !data_dir.join(super::DATABASE).is_file() {
        return;
    }
    let store = match crate::store::Store::open(data_dir).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot record the backup in the audit log");
            return;
        }
    };
    let op = crate::auth::cli::operator();
    let actor = Actor {
        name: Some(&op),
        address: "local",
    };
    record(&store.pool, actor, dest, outcome).await;
    store.pool.close().await;
}
