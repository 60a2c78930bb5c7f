//! Backups of a data directory, safe while a server serves it: SQLite copied
//! with `VACUUM INTO` (one read transaction, so one consistent instant), the
//! LanceDB table at its version as of that instant, the stored original
//! files, the archived audit rows, and a manifest with the schema and app
//! versions, every table's row count and every file's SHA-256.
//!
//! The vector version is the table's version read before and after the
//! SQLite copy, when both agree (no commit landed during the copy; otherwise
//! the copy is taken again). Ingest commits a document's vectors before
//! SQLite marks it ready, and deletion removes the SQLite row before the
//! vectors, so that version holds the vectors of every ready document in
//! the snapshot; rows of documents not ready yet are swept by the restored
//! server's first start. Under a stream of commits that never lets up, the
//! version committed by the snapshot's time is taken instead.
//!
//! A backup is written under a temporary name beside its destination and
//! renamed into place once its manifest is written, so a directory with the
//! final name is always complete.

pub mod cli;
pub mod restore;
pub mod routes;
pub mod schedule;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{bail, Context};
use lancedb::query::ExecutableQuery;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::SqlitePool;

/// The manifest's own format; a newer one is refused by `verify`.
pub const FORMAT: u32 = 1;
pub const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "bacopilot.db";
const LANCE_DIR: &str = "lancedb";
const LANCE_TABLE: &str = "chunks";
const FILES_DIR: &str = "files";
/// Archived audit rows (`audit::archive`), in their default place.
const AUDIT_ARCHIVE: &str = "audit-archive";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The `bacopilot` version that wrote the backup.
    pub app_version: String,
    /// The newest database migration applied in the snapshot.
    pub schema_version: i64,
    pub created_at: String,
    /// The LanceDB table version copied (0 when there was no table yet).
    pub lancedb_version: u64,
    /// Rows per SQLite table, plus `vectors` for the LanceDB table.
    pub counts: BTreeMap<String, i64>,
    /// Every file of the backup but this manifest, by relative path.
    pub files: BTreeMap<String, FileSum>,
    /// Documents whose original file was deleted while the backup ran.
    #[serde(default)]
    pub documents_missing_files: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileSum {
    pub bytes: u64,
    pub sha256: String,
}

/// The newest migration this program knows: a snapshot from a newer schema
/// cannot be restored by it.
pub fn known_schema_version() -> i64 {
    sqlx::migrate!("./migrations")
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

/// Writes a backup of `data_dir` to `dest`, which must not exist yet.
pub async fn create(data_dir: &Path, dest: &Path) -> anyhow::Result<Manifest> {
    let source_db = data_dir.join(DATABASE);
    if !source_db.is_file() {
        bail!(
            "{} holds no database ({DATABASE}); is it a data directory?",
            data_dir.display()
        );
    }
    if dest.exists() {
        bail!(
            "{} exists already; name a new directory for the backup",
            dest.display()
        );
    }
    let partial = partial_name(dest);
    if partial.exists() {
        std::fs::remove_dir_all(&partial)
            .with_context(|| format!("cannot remove the leftover {}", partial.display()))?;
    }
    std::fs::create_dir_all(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    match write(data_dir, &partial).await {
        Ok(manifest) => {
            std::fs::rename(&partial, dest).with_context(|| {
                format!("cannot rename {} to {}", partial.display(), dest.display())
            })?;
            Ok(manifest)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            Err(e)
        }
    }
}

/// `DIR` is written as `.DIR.partial` beside it.
fn partial_name(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backup".into());
    dest.with_file_name(format!(".{name}.partial"))
}

async fn write(data_dir: &Path, out: &Path) -> anyhow::Result<Manifest> {
    let source = open_sqlite(&data_dir.join(DATABASE), false).await?;
    let lance = data_dir.join(LANCE_DIR);
    let copy = out.join(DATABASE);
    // The vector table's version before and after the copy: equal, it is the
    // version as of the SQLite snapshot. A commit in between (an ingest) and
    // the copy is taken again; after three tries, the version committed by
    // the snapshot's time is taken (see the module's note).
    let mut pinned = None;
    for _ in 0..3 {
        let before = latest_vector_version(&lance).await?;
        let instant = chrono::Utc::now();
        let _ = std::fs::remove_file(&copy);
        sqlx::query("VACUUM INTO ?1")
            .bind(copy.to_string_lossy().as_ref())
            .execute(&source)
            .await
            .context("cannot copy the database (VACUUM INTO)")?;
        let after = latest_vector_version(&lance).await?;
        pinned = Some((before == after, before, instant));
        if before == after {
            break;
        }
    }
    source.close().await;
    let (settled, latest, instant) = pinned.expect("the loop runs");
    let version = if settled {
        Pick::Exactly(latest)
    } else {
        tracing::warn!("the vector table changed during each copy; taking the version committed by the snapshot's time");
        Pick::AsOf(instant)
    };

    let snapshot = open_sqlite(&copy, true).await?;
    let counts = table_counts(&snapshot).await?;
    let schema_version = schema_version(&snapshot).await?;
    let documents: Vec<String> = sqlx::query_scalar("SELECT id FROM documents")
        .fetch_all(&snapshot)
        .await?;
    // The backup's own anchor: the end of the chain in the snapshot (the live
    // anchor may already name rows written after it).
    crate::audit::archive::anchor_end(&snapshot).await?;
    snapshot.close().await;

    let (lancedb_version, vectors) = copy_vectors(&lance, &out.join(LANCE_DIR), version).await?;
    let documents_missing_files =
        copy_files(&data_dir.join(FILES_DIR), &out.join(FILES_DIR), &documents)?;
    restore::copy_tree(&data_dir.join(AUDIT_ARCHIVE), &out.join(AUDIT_ARCHIVE))
        .context("cannot copy the audit archive")?;

    let mut counts = counts;
    counts.insert("vectors".into(), vectors as i64);
    let manifest = Manifest {
        format: FORMAT,
        app_version: env!("CARGO_PKG_VERSION").into(),
        schema_version,
        created_at: instant.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        lancedb_version,
        counts,
        files: checksums(out)?,
        documents_missing_files,
    };
    let text = serde_json::to_vec_pretty(&manifest)?;
    std::fs::write(out.join(MANIFEST), text).context("cannot write the manifest")?;
    sync_dir(out);
    Ok(manifest)
}

/// A connection pool on one SQLite file without migrating it: the backup
/// must not change the database it copies, nor a snapshot it checks.
pub(crate) async fn open_sqlite(path: &Path, read_only: bool) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .read_only(read_only)
        .busy_timeout(Duration::from_secs(30));
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open {}", path.display()))
}

/// Rows in every table of the database, FTS shadow tables included (their
/// counts catch a snapshot that lost part of an index).
async fn table_counts(pool: &SqlitePool) -> anyhow::Result<BTreeMap<String, i64>> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    let mut counts = BTreeMap::new();
    for t in tables {
        // Names come from the database's own catalogue; quoted all the same.
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM \"{}\"",
            t.replace('"', "\"\"")
        ))
        .fetch_one(pool)
        .await?;
        counts.insert(t, n);
    }
    Ok(counts)
}

async fn schema_version(pool: &SqlitePool) -> anyhow::Result<i64> {
    let v: Option<i64> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success = 1")
            .fetch_one(pool)
            .await
            .context("the database has no migration table")?;
    Ok(v.unwrap_or(0))
}

/// Which version of the vector table to copy.
#[derive(Clone, Copy)]
enum Pick {
    /// This one (`None`: there was no table).
    Exactly(Option<u64>),
    /// The newest committed by then, or the oldest kept when all are newer.
    AsOf(chrono::DateTime<chrono::Utc>),
}

async fn open_vectors(dir: &Path) -> anyhow::Result<Option<lancedb::Table>> {
    if !dir.is_dir() {
        return Ok(None);
    }
    let db = lancedb::connect(&dir.to_string_lossy())
        .execute()
        .await
        .context("cannot open the vector store")?;
    match db.open_table(LANCE_TABLE).execute().await {
        Ok(t) => Ok(Some(t)),
        Err(lancedb::Error::TableNotFound { .. }) => Ok(None),
        Err(e) => Err(e).context("cannot open the vector table"),
    }
}

/// The vector table's newest committed version (`None`: no table yet).
async fn latest_vector_version(dir: &Path) -> anyhow::Result<Option<u64>> {
    match open_vectors(dir).await? {
        Some(t) => Ok(Some(t.version().await?)),
        None => Ok(None),
    }
}

/// Copies the chunks table at the version `pick` names into a new database
/// at `dest`, with its full-text index, streaming (the table is never held
/// in memory whole). Answers the version and the row count.
async fn copy_vectors(source: &Path, dest: &Path, pick: Pick) -> anyhow::Result<(u64, usize)> {
    std::fs::create_dir_all(dest)?;
    let Some(table) = open_vectors(source).await? else {
        return Ok((0, 0));
    };
    let version = match pick {
        Pick::Exactly(None) => return Ok((0, 0)),
        Pick::Exactly(Some(v)) => v,
        Pick::AsOf(instant) => {
            let versions = table.list_versions().await?;
            versions
                .iter()
                .filter(|v| v.timestamp <= instant)
                .map(|v| v.version)
                .max()
                .or_else(|| versions.iter().map(|v| v.version).min())
                .context("the vector table lists no versions")?
        }
    };
    table
        .checkout(version)
        .await
        .with_context(|| format!("cannot read version {version} of the vector table"))?;
    let rows = table.count_rows(None).await?;
    if rows == 0 {
        return Ok((version, 0));
    }
    let stream = table.query().execute().await?;
    let copy = lancedb::connect(&dest.to_string_lossy()).execute().await?;
    let t = copy
        .create_table(LANCE_TABLE, stream)
        .execute()
        .await
        .context("cannot write the vector table copy")?;
    let copied = t.count_rows(None).await?;
    if copied != rows {
        bail!("the vector table copy holds {copied} rows, version {version} holds {rows}");
    }
    crate::retrieval::vectors::ensure_fts_index(&t)
        .await
        .context("cannot index the vector table copy")?;
    Ok((version, rows))
}

/// Copies each listed document's original file; answers the documents
/// whose file was gone (deleted since the snapshot, or pruned by retention).
fn copy_files(source: &Path, dest: &Path, documents: &[String]) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(dest)?;
    let mut missing = Vec::new();
    for id in documents {
        if !crate::store::is_id(id) {
            continue;
        }
        match std::fs::copy(source.join(id), dest.join(id)) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing.push(id.clone()),
            Err(e) => return Err(e).with_context(|| format!("cannot copy the file of {id}")),
        }
    }
    Ok(missing)
}

/// SHA-256 and size of every file under `root` but the manifest.
fn checksums(root: &Path) -> anyhow::Result<BTreeMap<String, FileSum>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                let rel = path
                    .strip_prefix(root)?
                    .to_string_lossy()
                    .replace('\\', "/");
                if rel != MANIFEST {
                    out.insert(rel, sum(&path)?);
                }
            }
        }
    }
    Ok(out)
}

fn sum(path: &Path) -> anyhow::Result<FileSum> {
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok(FileSum {
        bytes,
        sha256: hex::encode(h.finalize()),
    })
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// What `verify` found wrong; empty when the backup is whole.
pub async fn verify(dir: &Path) -> anyhow::Result<(Manifest, Vec<String>)> {
    let text = std::fs::read(dir.join(MANIFEST)).with_context(|| {
        format!(
            "{} has no {MANIFEST}: not a backup, or an unfinished one",
            dir.display()
        )
    })?;
    let manifest: Manifest =
        serde_json::from_slice(&text).context("the manifest is not valid JSON")?;
    if manifest.format > FORMAT {
        bail!(
            "the backup's manifest format {} is newer than this program's ({FORMAT}); use bacopilot {} or newer",
            manifest.format,
            manifest.app_version
        );
    }
    let mut problems = Vec::new();
    let found = checksums(dir)?;
    for (name, want) in &manifest.files {
        match found.get(name) {
            None => problems.push(format!("{name}: missing")),
            Some(got) if got != want => problems.push(format!(
                "{name}: altered ({} bytes, sha256 {}; the manifest says {} bytes, {})",
                got.bytes, got.sha256, want.bytes, want.sha256
            )),
            Some(_) => {}
        }
    }
    for name in found.keys().filter(|n| !manifest.files.contains_key(*n)) {
        problems.push(format!("{name}: not in the manifest"));
    }
    if !problems.is_empty() {
        return Ok((manifest, problems));
    }
    let db = open_sqlite(&dir.join(DATABASE), true).await?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&db)
        .await?;
    if integrity != "ok" {
        problems.push(format!("{DATABASE}: integrity check says {integrity}"));
    }
    let mut counts = table_counts(&db).await?;
    db.close().await;
    counts.insert(
        "vectors".into(),
        vector_rows(&dir.join(LANCE_DIR)).await? as i64,
    );
    for (table, want) in &manifest.counts {
        let got = counts.get(table).copied().unwrap_or(-1);
        if got != *want {
            problems.push(format!("{table}: {got} rows, the manifest says {want}"));
        }
    }
    Ok((manifest, problems))
}

/// Rows of the chunks table in the LanceDB directory `dir` (0 without one).
pub(crate) async fn vector_rows(dir: &Path) -> anyhow::Result<usize> {
    if !dir.is_dir() {
        return Ok(0);
    }
    let db = lancedb::connect(&dir.to_string_lossy()).execute().await?;
    match db.open_table(LANCE_TABLE).execute().await {
        Ok(t) => Ok(t.count_rows(None).await?),
        Err(lancedb::Error::TableNotFound { .. }) => Ok(0),
        Err(e) => Err(e).context("cannot open the vector table"),
    }
}
