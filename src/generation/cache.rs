//! Answers to identical requests at temperature 0 kept in SQLite: the same
//! model, messages, parameters and constraint give the same answer, so the
//! second asker need not wait for it. Bounded by a time to live and a
//! number of entries; on for our engine, off for upstreams unless
//! configured (an upstream's model can change behind the same name).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;

use crate::config::CacheConfig;

pub struct Cache {
    pool: SqlitePool,
    config: CacheConfig,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// A cached answer and who gave it originally.
pub struct Hit {
    pub body: Value,
    pub served_by: String,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Cache {
    pub fn new(pool: SqlitePool, config: CacheConfig) -> Self {
        Self {
            pool,
            config,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The key of a request that may be answered from the cache: a whole
    /// (not streamed) request at temperature 0 for one choice. `None` for
    /// any other, and when caching is off for both kinds of target.
    pub fn key(&self, body: &Value) -> Option<String> {
        let cacheable = (self.config.local || self.config.upstream)
            && self.config.max_entries > 0
            && body["temperature"].as_f64() == Some(0.0)
            && !body["stream"].as_bool().unwrap_or(false)
            && body["n"].as_u64().unwrap_or(1) == 1;
        if !cacheable {
            return None;
        }
        // serde_json keeps the client's key order; two orders of the same
        // request are two entries, which costs a miss, never a wrong answer.
        Some(format!("{:x}", Sha256::digest(body.to_string().as_bytes())))
    }

    /// Whether an answer from `served_by` may be kept.
    pub fn keeps(&self, served_by: &str) -> bool {
        if served_by.starts_with("local/") {
            self.config.local
        } else {
            self.config.upstream
        }
    }

    pub async fn get(&self, key: &str) -> Option<Hit> {
        let oldest = now() - self.config.ttl_secs as i64;
        let row: Option<(String, String)> = sqlx::query_as(
            "UPDATE response_cache SET hits = hits + 1 WHERE key = ?1 AND created_at >= ?2
             RETURNING body, served_by",
        )
        .bind(key)
        .bind(oldest)
        .fetch_optional(&self.pool)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read the response cache");
            None
        });
        let hit = row.and_then(|(body, served_by)| {
            Some(Hit {
                body: serde_json::from_str(&body).ok()?,
                served_by,
            })
        });
        let counter = if hit.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        hit
    }

    /// Keeps `body`, then drops expired entries and the oldest beyond the bound.
    pub async fn put(&self, key: &str, served_by: &str, body: &Value) {
        let oldest = now() - self.config.ttl_secs as i64;
        let result = async {
            sqlx::query(
                "INSERT INTO response_cache (key, served_by, body, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (key) DO UPDATE SET served_by = ?2, body = ?3, created_at = ?4, hits = 0",
            )
            .bind(key)
            .bind(served_by)
            .bind(body.to_string())
            .bind(now())
            .execute(&self.pool)
            .await?;
            sqlx::query(
                "DELETE FROM response_cache WHERE created_at < ?1 OR key IN (
                   SELECT key FROM response_cache ORDER BY created_at DESC LIMIT -1 OFFSET ?2)",
            )
            .bind(oldest)
            .bind(self.config.max_entries as i64)
            .execute(&self.pool)
            .await
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot keep an answer in the response cache");
        }
    }

    pub fn render_metrics(&self, out: &mut String) {
        let _ = writeln!(out, "# TYPE bacopilot_response_cache_total counter");
        for (outcome, n) in [("hit", &self.hits), ("miss", &self.misses)] {
            let _ = writeln!(
                out,
                "bacopilot_response_cache_total{{outcome=\"{outcome}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
    }
}
