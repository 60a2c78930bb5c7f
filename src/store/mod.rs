//! The relational record: one SQLite database in the data directory, in WAL
//! mode (readers never wait for the writer), migrated at start-up from
//! `migrations/`.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

pub mod field;
pub mod page;

pub use field::{text_field, Invalid};
pub use page::{Cursor, Page};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {0}: {1}")]
    Open(String, sqlx::Error),
    #[error("cannot migrate the database {0}: {1}")]
    Migrate(String, sqlx::migrate::MigrateError),
}

/// What a lookup in the record can answer besides the row: it is not there
/// (a sentence naming what was asked for), or the database failed. Every
/// feature's error wraps it; `http/error.rs` maps it to 404 and 500.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// The connection pool; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) `bacopilot.db` in `data_dir` and applies
    /// every pending migration.
    pub async fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let path = data_dir.join("bacopilot.db");
        let shown = path.display().to_string();
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|e| StoreError::Open(shown.clone(), e))?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL with NORMAL loses at most the last transactions on power loss,
            // never consistency (sqlite.org/wal.html#durability).
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Open(shown.clone(), e))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Migrate(shown, e))?;
        Ok(Self { pool })
    }
}

/// A transaction that writes. It takes SQLite's write lock at `BEGIN`,
/// waiting for another writer up to the busy timeout. A deferred `BEGIN`
/// would take the lock only at the first write, and when its transaction has
/// read by then (the full-text index reads inside an `INSERT INTO messages`)
/// SQLite refuses at once with "database is locked" instead of waiting.
pub async fn write_tx(
    pool: &SqlitePool,
) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// The row `sql` (whose `?1` is the id) finds for `id`, or a 404 naming
/// `what` — also for a string that is not one of our ids, without a query.
pub async fn by_id<T>(pool: &SqlitePool, sql: &str, what: &str, id: &str) -> Result<T, Error>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
{
    let row = if is_id(id) {
        sqlx::query_as::<_, T>(sql)
            .bind(id)
            .fetch_optional(pool)
            .await?
    } else {
        None
    };
    row.ok_or_else(|| Error::NotFound(format!("No {what} with id `{id}`")))
}

/// A new public id: UUIDv7, so ids sort by creation time and double as cursors.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// True if `id` has the shape of our ids; anything else cannot exist, so
/// callers answer 404 without a query.
pub fn is_id(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok()
}
