//! The audit trail: an append-only table in which every row carries the
//! SHA-256 of its own fields and of the row before it, so an edited, removed
//! or reordered row breaks the chain (`bacopilot audit verify`); old rows
//! can be archived and the chain's end is anchored (see `archive`).

pub mod archive;
pub mod routes;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;
use utoipa::{IntoParams, ToSchema};

use crate::store::Invalid;

/// Why the log could not be written, searched or exported.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The CSV writer failed; the detail is for the log.
    #[error("csv: {0}")]
    Csv(String),
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Entry {
    pub seq: i64,
    pub at: String,
    pub actor: Option<String>,
    pub address: Option<String>,
    pub action: String,
    pub target: Option<String>,
    #[schema(value_type = Object)]
    pub details: sqlx::types::Json<Value>,
}

/// Who did it and from where; `None` actor for anonymous (a failed login).
/// A signed-in caller becomes one with `Actor::from(&identity)` (in `auth`).
pub struct Actor<'a> {
    pub name: Option<&'a str>,
    pub address: &'a str,
}

/// The chained hash of one row: the previous row's hash, `seq`, then the
/// row's fields in column order (at, actor, address, action, target, details).
fn row_hash(prev: &[u8], seq: i64, fields: [Option<&str>; 6]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update((prev.len() as u64).to_le_bytes());
    h.update(prev);
    h.update(seq.to_le_bytes());
    for field in fields {
        match field {
            // Length-prefixed, so no two different rows hash the same bytes.
            Some(f) => {
                h.update([1]);
                h.update((f.len() as u64).to_le_bytes());
                h.update(f.as_bytes());
            }
            None => h.update([0]),
        }
    }
    h.finalize().to_vec()
}

/// Appends a row. Appends are serialised by an immediate transaction, so the
/// chain holds even with the CLI writing while the server runs.
pub async fn append(
    pool: &SqlitePool,
    actor: Actor<'_>,
    action: &str,
    target: Option<&str>,
    details: Value,
) -> Result<(), Error> {
    let event = crate::events::for_audit(action).map(|kind| {
        let mut data = details.clone();
        if let Value::Object(fields) = &mut data {
            fields.insert("id".into(), Value::from(target));
            fields.insert("by".into(), Value::from(actor.name));
        }
        (kind, data)
    });
    let details = details.to_string();
    let mut tx = crate::store::write_tx(pool).await?;
    let last: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    let (seq, prev) = last.map_or((1, Vec::new()), |(s, h)| (s + 1, h));
    let at: String = sqlx::query_scalar("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')")
        .fetch_one(&mut *tx)
        .await?;
    let hash = row_hash(
        &prev,
        seq,
        [
            Some(&at),
            actor.name,
            Some(actor.address),
            Some(action),
            target,
            Some(&details),
        ],
    );
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, address, action, target, details, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .bind(seq)
    .bind(&at)
    .bind(actor.name)
    .bind(actor.address)
    .bind(action)
    .bind(target)
    .bind(&details)
    .bind((!prev.is_empty()).then_some(&prev))
    .bind(&hash)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    archive::write_anchor(pool, seq, &hash).await;
    if let Some((kind, data)) = event {
        crate::events::emit(pool, kind, data).await;
    }
    Ok(())
}

/// [`append`] for request handlers: the action has happened, so a failure to
/// record it is logged loudly rather than turned into an error for the client.
pub async fn record(
    pool: &SqlitePool,
    actor: Actor<'_>,
    action: &str,
    target: Option<&str>,
    details: Value,
) {
    if let Err(e) = append(pool, actor, action, target, details).await {
        tracing::error!(action, error = %e, "cannot write the audit log");
    }
}

/// The first row that breaks the chain, if any.
#[derive(Debug, PartialEq, Eq)]
pub struct Broken {
    pub seq: i64,
    pub reason: &'static str,
}

/// Walks the whole log: `Ok(rows checked)` or the first broken row.
pub async fn verify(pool: &SqlitePool) -> Result<Result<u64, Broken>, sqlx::Error> {
    use futures::TryStreamExt;
    type Row = (
        i64,
        String,
        Option<String>,
        Option<String>,
        String,
        Option<String>,
        String,
        Option<Vec<u8>>,
        Vec<u8>,
    );
    let mut rows = sqlx::query_as::<_, Row>(
        "SELECT seq, at, actor, address, action, target, details, prev_hash, hash
         FROM audit_log ORDER BY seq",
    )
    .fetch(pool);
    // Rows before the last checkpoint were archived (see `archive`).
    let (mut expected_seq, mut prev) = archive::start(pool).await?;
    let mut n = 0u64;
    while let Some((seq, at, actor, address, action, target, details, prev_hash, hash)) =
        rows.try_next().await?
    {
        let broken = |reason| Ok(Err(Broken { seq, reason }));
        if seq != expected_seq {
            return broken("a row before it is missing");
        }
        if prev_hash.unwrap_or_default() != prev {
            return broken("its link to the previous row does not match");
        }
        let computed = row_hash(
            &prev,
            seq,
            [
                Some(&at),
                actor.as_deref(),
                address.as_deref(),
                Some(&action),
                target.as_deref(),
                Some(&details),
            ],
        );
        if computed != hash {
            return broken("its contents do not match its hash");
        }
        prev = hash;
        expected_seq += 1;
        n += 1;
    }
    if let Some(b) = archive::check_anchor(pool).await? {
        return Ok(Err(b));
    }
    Ok(Ok(n))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Filter {
    /// User name.
    pub actor: Option<String>,
    /// An action (`document.upload`) or a family (`document`).
    pub action: Option<String>,
    /// ISO-8601 UTC lower bound, inclusive.
    pub since: Option<String>,
    /// ISO-8601 UTC upper bound, exclusive.
    pub until: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

impl Filter {
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(100).clamp(1, 1000)
    }
}

/// Rows matching `f`, newest first, at most `limit` (+1 to tell if more follow).
pub async fn search(pool: &SqlitePool, f: &Filter, limit: i64) -> Result<Vec<Entry>, Error> {
    let after: Option<i64> = match f.cursor.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => Some(a.parse().map_err(|_| {
            Invalid::new(
                "cursor",
                "`cursor` must be a next_cursor from a previous page",
            )
        })?),
        None => None,
    };
    let blank = |s: &Option<String>| {
        s.as_deref()
            .filter(|v| !v.trim().is_empty())
            .map(str::trim)
            .map(str::to_string)
    };
    Ok(sqlx::query_as(
        "SELECT seq, at, actor, address, action, target, details FROM audit_log
         WHERE (?1 IS NULL OR actor = ?1)
           AND (?2 IS NULL OR action = ?2 OR substr(action, 1, length(?2) + 1) = ?2 || '.')
           AND (?3 IS NULL OR at >= ?3)
           AND (?4 IS NULL OR at < ?4)
           AND (?5 IS NULL OR seq < ?5)
         ORDER BY seq DESC LIMIT ?6",
    )
    .bind(blank(&f.actor))
    .bind(blank(&f.action))
    .bind(blank(&f.since))
    .bind(blank(&f.until))
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// A CSV cell that a spreadsheet will show as text, never run as a formula.
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// The rows as CSV (header first).
pub fn to_csv(rows: &[Entry]) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Error::Csv(e.to_string());
    w.write_record([
        "seq", "at", "actor", "address", "action", "target", "details",
    ])
    .map_err(fail)?;
    for r in rows {
        w.write_record([
            r.seq.to_string(),
            cell(&r.at),
            cell(r.actor.as_deref().unwrap_or("")),
            cell(r.address.as_deref().unwrap_or("")),
            cell(&r.action),
            cell(r.target.as_deref().unwrap_or("")),
            cell(&r.details.0.to_string()),
        ])
        .map_err(fail)?;
    }
    w.into_inner().map_err(|e| Error::Csv(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_hash_covers_every_field_and_the_previous_hash() {
        let base = row_hash(
            b"p",
            1,
            [Some("t"), Some("a"), Some("h"), Some("x"), None, Some("{}")],
        );
        assert_ne!(
            base,
            row_hash(
                b"q",
                1,
                [Some("t"), Some("a"), Some("h"), Some("x"), None, Some("{}")]
            )
        );
        assert_ne!(
            base,
            row_hash(
                b"p",
                2,
                [Some("t"), Some("a"), Some("h"), Some("x"), None, Some("{}")]
            )
        );
        assert_ne!(
            base,
            row_hash(
                b"p",
                1,
                [Some("t"), None, Some("h"), Some("x"), None, Some("{}")]
            )
        );
        assert_ne!(
            base,
            row_hash(
                b"p",
                1,
                [
                    Some("t"),
                    Some("a"),
                    Some("h"),
                    Some("x"),
                    Some(""),
                    Some("{}")
                ]
            )
        );
        assert_ne!(
            base,
            row_hash(
                b"p",
                1,
                [Some("t"), Some("ah"), Some(""), Some("x"), None, Some("{}")]
            )
        );
    }

    #[test]
    fn csv_cells_that_look_like_formulas_are_quoted_as_text() {
        assert_eq!(cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(cell("alice"), "alice");
    }
}
