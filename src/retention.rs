//! Retention: what `[retention]` (and each project's `retention_days`) says
//! to delete, applied at start and every `interval_secs`. Each run that
//! removes something is audited with the counts, as `retention.apply`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::json;
use sqlx::SqlitePool;

use crate::audit::{self, Actor};
use crate::config::RetentionConfig;
use crate::retrieval::files::FileStore;

/// What one run removed.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Applied {
    pub conversations: u64,
    pub originals: u64,
    pub audit_rows: u64,
    pub webhook_deliveries: u64,
}

pub struct Retention {
    pool: SqlitePool,
    files: Arc<FileStore>,
    config: RetentionConfig,
    archive_dir: PathBuf,
}

impl Retention {
    pub fn new(
        pool: SqlitePool,
        files: Arc<FileStore>,
        config: RetentionConfig,
        data_dir: &std::path::Path,
    ) -> Self {
        let archive_dir = if config.audit_archive_dir.as_os_str().is_empty() {
            data_dir.join("audit-archive")
        } else {
            config.audit_archive_dir.clone()
        };
        Self {
            pool,
            files,
            config,
            archive_dir,
        }
    }

    /// Applies every policy once.
    pub async fn apply(&self) -> anyhow::Result<Applied> {
        let mut applied = Applied {
            conversations: self.conversations().await?,
            originals: self.originals().await?,
            audit_rows: 0,
            webhook_deliveries: self.deliveries().await?,
        };
        if self.config.audit_days > 0 {
            let cutoff = cutoff(self.config.audit_days);
            if let Some(a) =
                audit::archive::archive_before(&self.pool, &cutoff, &self.archive_dir).await?
            {
                tracing::info!(rows = a.rows, file = %a.file.display(), "audit rows archived");
                applied.audit_rows = a.rows;
            }
        }
        if applied != Applied::default() {
            let actor = Actor {
                name: Some("retention"),
                address: "local",
            };
            audit::record(&self.pool, actor, "retention.apply", None, json!(applied)).await;
        }
        Ok(applied)
    }

    /// Conversations untouched for longer than their project's days (or the
    /// global days); their messages go with them.
    async fn conversations(&self) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "DELETE FROM conversations WHERE id IN (
                SELECT c.id FROM conversations c JOIN projects p ON p.id = c.project_id
                WHERE COALESCE(p.retention_days, ?1) > 0
                  AND c.updated_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now',
                        '-' || COALESCE(p.retention_days, ?1) || ' days'))",
        )
        .bind(i64::from(self.config.conversations_days))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Finished webhook deliveries older than `webhook_log_days`.
    async fn deliveries(&self) -> Result<u64, sqlx::Error> {
        if self.config.webhook_log_days == 0 {
            return Ok(0);
        }
        let done = sqlx::query(
            "DELETE FROM webhook_deliveries WHERE status != 'pending'
             AND updated_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1)",
        )
        .bind(format!("-{} days", self.config.webhook_log_days))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Original files of indexed documents, when the operator wants them gone.
    async fn originals(&self) -> Result<u64, sqlx::Error> {
        if !self.config.delete_originals {
            return Ok(0);
        }
        let ready: std::collections::HashSet<String> =
            sqlx::query_scalar("SELECT id FROM documents WHERE status = 'ready'")
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .collect();
        let mut n = 0;
        for id in self.files.ids().into_iter().filter(|id| ready.contains(id)) {
            self.files.remove(&id);
            n += 1;
        }
        Ok(n)
    }

    /// Runs at start, then every `interval_secs` (projects may set their own
    /// days even when nothing global is configured).
    pub fn spawn(self) {
        let every = self.config.interval_secs.max(1);
        spawn_loop(self, every)
    }
}

fn spawn_loop(r: Retention, every_secs: u64) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = r.apply().await {
                tracing::error!(error = %format!("{e:#}"), "retention run failed");
            }
            tokio::time::sleep(Duration::from_secs(every_secs)).await;
        }
    });
}

/// The ISO-8601 UTC time `days` ago, as the audit log writes times.
pub fn cutoff(days: u32) -> String {
    (chrono::Utc::now() - chrono::Duration::days(i64::from(days)))
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}
