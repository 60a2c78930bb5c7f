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
        remove_partials(&dir);
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

    /// True while a backup is being taken.
    pub fn is_running(&self) -> bool {
        self.running.try_lock().is_err()
    }

    /// Removes the oldest scheduled backups beyond `keep` (0 keeps all).
    fn prune(&self, dir: &Path) {
        if self.config.keep == 0 {
            return;
        }
        let names: Vec<String> = self.list().into_iter().map(|b| b.name).collect();
        let excess = names.len().saturating_sub(self.config.keep);
        for name in &names[..excess] {
            if let Err(e) = std::fs::remove_dir_all(dir.join(name)) {
                tracing::warn!(backup = %name, error = %e, "cannot remove an old backup");
            }
        }
    }

    /// The complete backups in `[backup] dir`, oldest first.
    pub fn list(&self) -> Vec<Listed> {
        let dir = self.dir();
        self.names()
            .into_iter()
            .filter_map(|name| listed(dir?, name))
            .collect()
    }

    /// Names of the backups in `[backup] dir`, oldest first (they sort by time).
    fn names(&self) -> Vec<String> {
        let Some(Ok(entries)) = self.dir().map(std::fs::read_dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(PREFIX))
            .collect();
        names.sort();
        names
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

    /// Seconds since the newest complete backup, for `/metrics` (one
    /// manifest read per scrape, not every backup's).
    pub fn age_secs(&self) -> Option<f64> {
        let dir = self.dir()?;
        let newest = self
            .names()
            .into_iter()
            .rev()
            .find_map(|n| listed(dir, n))?;
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
                // A negative age (the clock was set back) counts as due.
                let due_in = |age: f64| if age < 0.0 { 0.0 } else { interval - age };
                let wait = me.age_secs().map_or(0.0, due_in);
                tokio::time::sleep(Duration::from_secs_f64(wait.max(1.0))).await;
                if me.age_secs().is_some_and(|age| due_in(age) > 0.0) {
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
/// served database, opened without migrating it: a newer `bacopilot` must
/// not change the schema under the server that serves it.
pub async fn record_outcome(data_dir: &Path, dest: &Path, outcome: &anyhow::Result<Manifest>) {
    let db = data_dir.join(super::DATABASE);
    if !db.is_file() {
        return;
    }
    let pool = match super::open_sqlite(&db, false).await {
        Ok(p) => p,
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
    record(&pool, actor, dest, outcome).await;
    pool.close().await;
}

/// The backup `name` in `dir`, if its manifest is there (it is complete).
fn listed(dir: &Path, name: String) -> Option<Listed> {
    let text = std::fs::read(dir.join(&name).join(MANIFEST)).ok()?;
    let m: Manifest = serde_json::from_slice(&text).ok()?;
    Some(Listed {
        name,
        created_at: m.created_at,
        app_version: m.app_version,
        schema_version: m.schema_version,
        bytes: m.files.values().map(|f| f.bytes).sum(),
        counts: m.counts,
    })
}

/// Removes backups a crash or a stop left unfinished (`.backup-….partial`).
fn remove_partials(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&format!(".{PREFIX}")) && name.ends_with(".partial") {
            if let Err(e) = std::fs::remove_dir_all(entry.path()) {
                tracing::warn!(path = %entry.path().display(), error = %e, "cannot remove an unfinished backup");
            }
        }
    }
}
