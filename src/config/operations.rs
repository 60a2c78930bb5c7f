//! The operator's sections: scheduled backups, webhook delivery, retention.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Backups the server takes itself (`bacopilot backup` works without this).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackupConfig {
    /// Where scheduled and requested backups go; empty: none are taken.
    pub dir: PathBuf,
    /// Seconds between scheduled backups; 0 takes them only on request.
    pub interval_secs: u64,
    /// Scheduled backups kept, newest first; 0 keeps all.
    pub keep: usize,
}

impl Default for BackupConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::new(),
            interval_secs: 86_400,
            keep: 7,
        }
    }
}

/// Signed event deliveries to endpoints administrators register.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Hosts a webhook may target (`name`, `name:port`, or `*` for any).
    /// LAN targets are normal for an appliance, so the check is this list
    /// rather than a refusal of private addresses. Empty: no webhooks.
    pub allowed_hosts: Vec<String>,
    /// Delay before the first retry; each later one doubles it (capped at an hour).
    pub retry_base_ms: u64,
    /// Attempts before a delivery is given up as failed.
    pub max_attempts: u32,
    /// Seconds a receiver has to answer one delivery.
    pub timeout_secs: u64,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            allowed_hosts: Vec::new(),
            retry_base_ms: 10_000,
            max_attempts: 10,
            timeout_secs: 10,
        }
    }
}

/// What is deleted, and when. Each run is audited with what it removed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Conversations untouched for this many days are deleted (a project's
    /// own `retention_days` overrides it); 0 keeps them.
    pub conversations_days: u32,
    /// Delete each document's original file once it is indexed; its text,
    /// chunks and vectors stay (search, chat and SRS work as before).
    pub delete_originals: bool,
    /// Audit rows older than this many days are moved to an archive file in
    /// `audit_archive_dir` that verifies on its own, and the live chain goes
    /// on from a checkpoint; 0 keeps every row in the database.
    pub audit_days: u32,
    /// Where audit archives go; empty: `audit-archive` in the data directory.
    pub audit_archive_dir: PathBuf,
    /// Webhook deliveries (delivered or given up) kept in the log this many
    /// days; 0 keeps them.
    pub webhook_log_days: u32,
    /// Seconds between two runs (the first runs at start).
    pub interval_secs: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            conversations_days: 0,
            delete_originals: false,
            audit_days: 0,
            audit_archive_dir: PathBuf::new(),
            webhook_log_days: 30,
            interval_secs: 3600,
        }
    }
}
