//! Keeping the audit chain verifiable as it is pruned and at its end.
//!
//! Archiving moves the oldest rows into a JSON-lines file (a header with the
//! hash the first row links to, then the rows), records a checkpoint with
//! the last archived row's seq and hash, and deletes the rows in the same
//! transaction. The live chain then verifies from the checkpoint, and the
//! file verifies on its own (`bacopilot audit verify --archive FILE`).
//!
//! The anchor is `audit.anchor` beside the database: the seq and hash of the
//! newest row, rewritten after each append. Deleting the newest rows leaves
//! the chain consistent in itself, but no longer reaching the anchor.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

use super::{row_hash, Broken};

/// The anchor's file name, beside the database.
pub const ANCHOR: &str = "audit.anchor";

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: u32,
    first_seq: i64,
    last_seq: i64,
    rows: u64,
    /// The hash the first row links to (empty for the very first row).
    prev_hash: String,
    last_hash: String,
}

#[derive(Debug, Serialize, Deserialize, sqlx::FromRow)]
struct Row {
    seq: i64,
    at: String,
    actor: Option<String>,
    address: Option<String>,
    action: String,
    target: Option<String>,
    details: String,
    #[serde(with = "hex_bytes")]
    #[sqlx(default)]
    prev_hash: Option<Vec<u8>>,
    #[serde(with = "hex_bytes_plain")]
    hash: Vec<u8>,
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v.as_deref().unwrap_or_default()))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(&text).map_err(serde::de::Error::custom)?;
        Ok((!bytes.is_empty()).then_some(bytes))
    }
}

mod hex_bytes_plain {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        hex::decode(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Row {
    fn computed(&self, prev: &[u8]) -> Vec<u8> {
        row_hash(
            prev,
            self.seq,
            [
                Some(&self.at),
                self.actor.as_deref(),
                self.address.as_deref(),
                Some(&self.action),
                self.target.as_deref(),
                Some(&self.details),
            ],
        )
    }
}

/// What one archiving run moved.
#[derive(Debug, Serialize)]
pub struct Archived {
    pub rows: u64,
    pub first_seq: i64,
    pub last_seq: i64,
    pub file: PathBuf,
}

/// Where the live chain starts: the checkpoint's (seq + 1, hash), or (1, empty).
pub(super) async fn start(pool: &SqlitePool) -> Result<(i64, Vec<u8>), sqlx::Error> {
    let cp: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
            .fetch_optional(pool)
            .await?;
    Ok(cp.map_or((1, Vec::new()), |(seq, hash)| (seq + 1, hash)))
}

/// Moves the rows older than `cutoff` (ISO-8601 UTC) to a file in `dir`;
/// the newest row always stays, so the next append has a row to link to.
pub async fn archive_before(
    pool: &SqlitePool,
    cutoff: &str,
    dir: &Path,
) -> anyhow::Result<Option<Archived>> {
    // The write lock first: no row is appended while the prefix is moved.
    let mut tx = crate::store::write_tx(pool).await?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, at, actor, address, action, target, details, prev_hash, hash FROM audit_log
         WHERE seq <= (SELECT max(seq) FROM audit_log WHERE at < ?1)
           AND seq < (SELECT max(seq) FROM audit_log)
         ORDER BY seq",
    )
    .bind(cutoff)
    .fetch_all(&mut *tx)
    .await?;
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(None);
    };
    let header = Header {
        format: 1,
        first_seq: first.seq,
        last_seq: last.seq,
        rows: rows.len() as u64,
        prev_hash: hex::encode(first.prev_hash.as_deref().unwrap_or_default()),
        last_hash: hex::encode(&last.hash),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = format!("audit-{:010}-{:010}.jsonl", first.seq, last.seq);
    let file = dir.join(&name);
    let tmp = dir.join(format!(".{name}.partial"));
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        serde_json::to_writer(&mut out, &header)?;
        out.write_all(b"\n")?;
        for r in &rows {
            serde_json::to_writer(&mut out, r)?;
            out.write_all(b"\n")?;
        }
        out.into_inner()?.sync_all()?;
    }
    std::fs::rename(&tmp, &file)?;
    std::fs::File::open(dir)?.sync_all()?;
    // The file is whole, and its name durable, before a row leaves the database.
    sqlx::query("INSERT INTO audit_checkpoints (seq, hash, rows, archive) VALUES (?1, ?2, ?3, ?4)")
        .bind(last.seq)
        .bind(&last.hash)
        .bind(rows.len() as i64)
        // The name only: the archive moves with a restored data directory.
        .bind(&name)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DROP TRIGGER audit_log_no_delete")
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM audit_log WHERE seq <= ?1")
        .bind(last.seq)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
         BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(Archived {
        rows: rows.len() as u64,
        first_seq: first.seq,
        last_seq: last.seq,
        file,
    }))
}

/// Checks an archive file on its own: every row's hash and link, from the
/// hash its header says the first row links to. Answers the rows checked
/// and the last row's hash (which a checkpoint records).
pub fn verify_archive(path: &Path) -> anyhow::Result<(u64, String)> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = std::io::BufReader::new(file).lines();
    let header: Header = serde_json::from_str(&lines.next().context("the archive is empty")??)
        .context("the archive's first line is not its header")?;
    let mut prev = hex::decode(&header.prev_hash).context("the header's prev_hash")?;
    let (mut expected, mut n) = (header.first_seq, 0u64);
    for line in lines {
        let r: Row = serde_json::from_str(&line?).context("a row of the archive is not JSON")?;
        if r.seq != expected {
            bail!("row {}: a row before it is missing", r.seq);
        }
        if r.prev_hash.clone().unwrap_or_default() != prev {
            bail!("row {}: its link to the previous row does not match", r.seq);
        }
        if r.computed(&prev) != r.hash {
            bail!("row {}: its contents do not match its hash", r.seq);
        }
        prev = r.hash;
        expected += 1;
        n += 1;
    }
    if n != header.rows || expected - 1 != header.last_seq || hex::encode(&prev) != header.last_hash
    {
        bail!(
            "the archive holds {n} rows ending at {}, its header says {} rows ending at {}",
            expected - 1,
            header.rows,
            header.last_seq
        );
    }
    Ok((n, header.last_hash))
}

#[derive(Debug, Serialize, Deserialize)]
struct Anchor {
    seq: i64,
    hash: String,
}

/// `audit.anchor` beside the database file of `pool`.
async fn anchor_path(pool: &SqlitePool) -> Option<PathBuf> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as("PRAGMA database_list")
        .fetch_all(pool)
        .await
        .ok()?;
    let file = rows.into_iter().find(|r| r.1 == "main")?.2;
    (!file.is_empty()).then(|| Path::new(&file).with_file_name(ANCHOR))
}

/// Records the newest row's seq and hash, unless the file already names a
/// later row (another process appended meanwhile).
pub(super) async fn write_anchor(pool: &SqlitePool, seq: i64, hash: &[u8]) {
    let Some(path) = anchor_path(pool).await else {
        return;
    };
    let current: Option<Anchor> = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let hash = hex::encode(hash);
    // Another process may have anchored a later row meanwhile; the same seq
    // with another hash is a row rewritten after a lost commit.
    if current.is_some_and(|a| a.seq > seq || (a.seq == seq && a.hash == hash)) {
        return;
    }
    let anchor = Anchor { seq, hash };
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("anchor.{}.{n}", std::process::id()));
    let written = serde_json::to_vec(&anchor)
        .map_err(std::io::Error::other)
        .and_then(|b| std::fs::write(&tmp, b))
        .and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        tracing::warn!(path = %path.display(), error = %e, "cannot write the audit anchor");
    }
}

/// Writes the anchor of the database behind `pool` from its own newest row
/// (for a copy of the database, whose end the live anchor may have passed).
pub async fn anchor_end(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let last: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(pool)
            .await?;
    if let Some((seq, hash)) = last {
        write_anchor(pool, seq, &hash).await;
    }
    Ok(())
}

/// The chain must reach the anchor: its row is there with the anchored hash
/// (or was archived, by a checkpoint at or after it).
pub(super) async fn check_anchor(pool: &SqlitePool) -> Result<Option<Broken>, sqlx::Error> {
    let Some(path) = anchor_path(pool).await else {
        return Ok(None);
    };
    let Some(anchor) = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Anchor>(&b).ok())
    else {
        return Ok(None);
    };
    let row: Option<Vec<u8>> = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = ?1")
        .bind(anchor.seq)
        .fetch_optional(pool)
        .await?;
    let archived: Option<i64> = sqlx::query_scalar("SELECT max(seq) FROM audit_checkpoints")
        .fetch_one(pool)
        .await?;
    let broken = |reason| {
        Ok(Some(Broken {
            seq: anchor.seq,
            reason,
        }))
    };
    match row {
        Some(h) if hex::encode(&h) == anchor.hash => Ok(None),
        Some(_) => broken("it differs from the row the anchor recorded"),
        None if archived.is_some_and(|a| a >= anchor.seq) => Ok(None),
        None => broken("rows at the end of the log were deleted (or lost to a power failure): the anchor records this row"),
    }
}
