//! A versioned document: a row per document (its title, the project it is
//! in, its current version) and a row per version holding the whole body as
//! JSON with a note on what made it, so any version can be read, compared
//! and exported as it was. SRS documents and wireframes are both this; each
//! names its pair of tables with a [`Tables`] (the schema is as `migrations/`
//! made it) and describes itself to the generic routes with a [`Document`].
//!
//! Imports: `store` only.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Row, SqlitePool};

use crate::store::new_id;

pub mod routes;

/// Where one kind of versioned document lives. Every name here is a
/// constant of the code (never input), so it is safe to put in SQL text.
#[derive(Debug)]
pub struct Tables {
    /// The document rows, e.g. `srs_documents`.
    pub documents: &'static str,
    /// The version rows, e.g. `srs_versions`.
    pub versions: &'static str,
    /// The version rows' column naming their document, e.g. `srs_id`.
    pub document_id: &'static str,
    /// The version rows' JSON column, e.g. `body`.
    pub body: &'static str,
    /// The version rows' column saying what made the version, e.g. `note`.
    pub note: &'static str,
    /// The document rows' columns besides `id`, `project_id`, `title` and
    /// `current_version`, read into [`Record::extra`].
    pub columns: &'static [&'static str],
    /// What a client calls one, e.g. `SRS document`, in not-found sentences.
    pub name: &'static str,
    /// The sentence for a change decided on version `base` when the
    /// document is at `current`.
    pub conflict: fn(base: i64, current: i64) -> String,
}

/// SRS documents (`migrations/0002`, `0004`).
pub const SRS: Tables = Tables {
    documents: "srs_documents",
    versions: "srs_versions",
    document_id: "srs_id",
    body: "body",
    note: "note",
    columns: &["brief", "template_version"],
    name: "SRS document",
    conflict: |base, current| {
        format!("The document changed since version {base}; it is now at version {current}. Reload and apply the change again.")
    },
};

/// Wireframes (`migrations/0002`, `0005`).
pub const WIREFRAMES: Tables = Tables {
    documents: "wireframes",
    versions: "wireframe_versions",
    document_id: "wireframe_id",
    body: "tree",
    note: "request",
    columns: &["description", "srs_id"],
    name: "wireframe",
    conflict: |_, current| {
        format!("The wireframe changed while the request was worked on (now version {current}); ask again")
    },
};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not there (a sentence naming what was asked for), or the database failed.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    /// The version a change was decided on is no longer the latest (the
    /// sentence is the kind's [`Tables::conflict`]).
    #[error("{0}")]
    Conflict(String),
    /// Another change took the same next version number at the same moment.
    #[error("Another change to this document was saved at the same moment; reload and try again")]
    Raced,
    /// A stored body that no longer reads as its type.
    #[error("stored {0}")]
    Corrupt(String),
}

impl Error {
    /// A failure of the server rather than of the request: the client is told
    /// only that something went wrong, the log gets the detail.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            Error::Store(crate::store::Error::Database(_)) | Error::Corrupt(_)
        )
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Store(e.into())
    }
}

fn not_found(sentence: String) -> Error {
    Error::Store(crate::store::Error::NotFound(sentence))
}

/// A document row: what every kind has, and its own columns in `extra`.
#[derive(Debug, Clone)]
pub struct Record<X> {
    pub id: String,
    pub project_id: String,
    pub title: String,
    pub current_version: i64,
    pub extra: X,
}

impl<'r, X: FromRow<'r, SqliteRow>> FromRow<'r, SqliteRow> for Record<X> {
    fn from_row(row: &'r SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            project_id: row.try_get("project_id")?,
            title: row.try_get("title")?,
            current_version: row.try_get("current_version")?,
            extra: X::from_row(row)?,
        })
    }
}

/// No columns of the kind's own: for readers that need only the common ones.
#[derive(Debug, Clone, Copy)]
pub struct Common;

impl<'r> FromRow<'r, SqliteRow> for Common {
    fn from_row(_: &'r SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Common)
    }
}

/// A value for one of a kind's own columns when a document is created.
#[derive(Debug, Clone, Copy)]
pub enum Column<'a> {
    Text(&'a str),
    Int(i64),
    OptionalText(Option<&'a str>),
}

/// A document at one version.
#[derive(Debug)]
pub struct Loaded<X, B> {
    pub record: Record<X>,
    pub version: i64,
    pub body: B,
}

/// A document at its current version, as listed.
#[derive(Debug)]
pub struct Listed<X, B> {
    pub record: Record<X>,
    pub body: B,
    pub created_at: String,
    pub updated_at: String,
}

/// How one kind of versioned document looks to clients; what the generic
/// routes ([`routes`]) need to show, list, compare and delete it.
pub trait Document: Send + Sync + 'static {
    const TABLES: &'static Tables;
    /// The first part of its audit actions: `srs` gives `srs.delete`.
    const AUDIT: &'static str;
    type Extra: for<'r> FromRow<'r, SqliteRow> + Send + Unpin;
    type Body: DeserializeOwned + Send;
    /// The document at one version as the API returns it.
    type View: Serialize + Send;
    /// One version as listed.
    type Version: for<'r> FromRow<'r, SqliteRow> + Serialize + Send + Unpin;
    type Diff: Serialize + Send;

    fn view(loaded: Loaded<Self::Extra, Self::Body>) -> Self::View;
    fn diff(a: &Self::View, b: &Self::View) -> Self::Diff;
}

const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

fn columns(t: &Tables) -> String {
    let mut out = String::from("id, project_id, title, current_version");
    for c in t.columns {
        out.push_str(", ");
        out.push_str(c);
    }
    out
}

fn parse<B: DeserializeOwned>(t: &Tables, id: &str, version: i64, text: &str) -> Result<B, Error> {
    serde_json::from_str(text)
        .map_err(|e| Error::Corrupt(format!("{} {id} version {version}: {e}", t.name)))
}

/// The document row of `id`; not found (naming `t.name`) for an id that is
/// not there or not one of ours.
pub async fn record<X>(pool: &SqlitePool, t: &Tables, id: &str) -> Result<Record<X>, Error>
where
    X: for<'r> FromRow<'r, SqliteRow> + Send + Unpin,
{
    let sql = format!("SELECT {} FROM {} WHERE id = ?1", columns(t), t.documents);
    Ok(crate::store::by_id(pool, &sql, t.name, id).await?)
}

/// The body of `version` of document `id`.
pub async fn body<B: DeserializeOwned>(
    pool: &SqlitePool,
    t: &Tables,
    id: &str,
    version: i64,
) -> Result<B, Error> {
    let sql = format!(
        "SELECT {} FROM {} WHERE {} = ?1 AND version = ?2",
        t.body, t.versions, t.document_id
    );
    let text: Option<String> = sqlx::query_scalar(&sql)
        .bind(id)
        .bind(version)
        .fetch_optional(pool)
        .await?;
    let text = text.ok_or_else(|| {
        not_found(format!(
            "{} `{id}` has no version {version}",
            capitalized(t.name)
        ))
    })?;
    parse(t, id, version, &text)
}

/// The document at `version` (the current one if `None`).
pub async fn load<X, B>(
    pool: &SqlitePool,
    t: &Tables,
    id: &str,
    version: Option<i64>,
) -> Result<Loaded<X, B>, Error>
where
    X: for<'r> FromRow<'r, SqliteRow> + Send + Unpin,
    B: DeserializeOwned,
{
    let record = record::<X>(pool, t, id).await?;
    let version = version.unwrap_or(record.current_version);
    let body = body(pool, t, id, version).await?;
    Ok(Loaded {
        record,
        version,
        body,
    })
}

/// Stores a new document at version 1, in one transaction: either the whole
/// document exists or none of it does. `extra` fills `t.columns` in order.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    pool: &SqlitePool,
    t: &Tables,
    project_id: &str,
    title: &str,
    extra: &[Column<'_>],
    body: &impl Serialize,
    note: &str,
    created_by: Option<&str>,
) -> Result<String, Error> {
    debug_assert_eq!(extra.len(), t.columns.len(), "one value per column");
    let id = new_id();
    let own: String = t.columns.iter().map(|c| format!(", {c}")).collect();
    let places: String = (0..extra.len()).map(|i| format!(", ?{}", i + 4)).collect();
    let sql = format!(
        "INSERT INTO {} (id, project_id, title, current_version, updated_at{own})
         VALUES (?1, ?2, ?3, 1, {NOW}{places})",
        t.documents
    );
    let mut tx = crate::store::write_tx(pool).await?;
    let mut insert = sqlx::query(&sql).bind(&id).bind(project_id).bind(title);
    for value in extra {
        insert = match *value {
            Column::Text(v) => insert.bind(v),
            Column::Int(v) => insert.bind(v),
            Column::OptionalText(v) => insert.bind(v),
        };
    }
    insert.execute(&mut *tx).await?;
    let sql = format!(
        "INSERT INTO {} ({}, version, {}, {}, created_by) VALUES (?1, 1, ?2, ?3, ?4)",
        t.versions, t.document_id, t.body, t.note
    );
    sqlx::query(&sql)
        .bind(&id)
        .bind(serde_json::to_string(body).expect("a body serializes"))
        .bind(note)
        .bind(created_by)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Stores `body` (and `title`, if given) as the next version of `id`. With
/// `base_version`, refuses ([`Error::Conflict`]) when another version was
/// saved since.
#[allow(clippy::too_many_arguments)]
pub async fn commit(
    pool: &SqlitePool,
    t: &Tables,
    id: &str,
    base_version: Option<i64>,
    title: Option<&str>,
    body: &impl Serialize,
    note: &str,
    created_by: Option<&str>,
) -> Result<i64, Error> {
    let mut tx = crate::store::write_tx(pool).await?;
    let sql = format!("SELECT current_version FROM {} WHERE id = ?1", t.documents);
    let current: i64 = sqlx::query_scalar(&sql)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| not_found(format!("No {} with id `{id}`", t.name)))?;
    if let Some(base) = base_version.filter(|&b| b != current) {
        return Err(Error::Conflict((t.conflict)(base, current)));
    }
    let next = current + 1;
    let sql = format!(
        "INSERT INTO {} ({}, version, {}, {}, created_by) VALUES (?1, ?2, ?3, ?4, ?5)",
        t.versions, t.document_id, t.body, t.note
    );
    let inserted = sqlx::query(&sql)
        .bind(id)
        .bind(next)
        .bind(serde_json::to_string(body).expect("a body serializes"))
        .bind(note)
        .bind(created_by)
        .execute(&mut *tx)
        .await;
    if let Err(sqlx::Error::Database(e)) = &inserted {
        if e.is_unique_violation() {
            return Err(Error::Raced);
        }
    }
    inserted?;
    let sql = format!(
        "UPDATE {} SET current_version = ?2, title = COALESCE(?3, title), updated_at = {NOW} WHERE id = ?1",
        t.documents
    );
    sqlx::query(&sql)
        .bind(id)
        .bind(next)
        .bind(title)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(next)
}

/// Every version of `id`, newest first, as the row type `V` reads them
/// (`version`, the note column, `created_by`, `created_at`).
pub async fn versions<V>(pool: &SqlitePool, t: &Tables, id: &str) -> Result<Vec<V>, Error>
where
    V: for<'r> FromRow<'r, SqliteRow> + Send + Unpin,
{
    let sql = format!(
        "SELECT version, {}, created_by, created_at FROM {} WHERE {} = ?1 ORDER BY version DESC",
        t.note, t.versions, t.document_id
    );
    Ok(sqlx::query_as::<_, V>(&sql)
        .bind(id)
        .fetch_all(pool)
        .await?)
}

/// One page of the project's documents at their current versions, newest
/// first: up to `limit` after the cursor `after`, plus one more when there is
/// a next page (for `Page::from_rows`).
pub async fn list<X, B>(
    pool: &SqlitePool,
    t: &Tables,
    project_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<Listed<X, B>>, Error>
where
    X: for<'r> FromRow<'r, SqliteRow> + Send + Unpin,
    B: DeserializeOwned,
{
    let own: String = t.columns.iter().map(|c| format!(", d.{c}")).collect();
    let sql = format!(
        "SELECT d.id, d.project_id, d.title, d.current_version{own}, d.created_at, d.updated_at,
                v.{body} AS stored_body
         FROM {documents} d JOIN {versions} v ON v.{fk} = d.id AND v.version = d.current_version
         WHERE d.project_id = ?1 AND (?2 = '' OR d.id < ?2) ORDER BY d.id DESC LIMIT ?3",
        body = t.body,
        documents = t.documents,
        versions = t.versions,
        fk = t.document_id,
    );
    let rows = sqlx::query(&sql)
        .bind(project_id)
        .bind(after)
        .bind(limit + 1)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            let record = Record::<X>::from_row(row)?;
            let text: String = row.try_get("stored_body")?;
            Ok(Listed {
                body: parse(t, &record.id, record.current_version, &text)?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
                record,
            })
        })
        .collect()
}

/// Deletes `id` and its versions (they cascade).
pub async fn delete(pool: &SqlitePool, t: &Tables, id: &str) -> Result<(), Error> {
    let sql = format!("DELETE FROM {} WHERE id = ?1", t.documents);
    sqlx::query(&sql).bind(id).execute(pool).await?;
    Ok(())
}

/// `wireframe` → `Wireframe`, for a sentence that starts with the name.
fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_that_starts_a_sentence_is_capitalized_once() {
        assert_eq!(capitalized("wireframe"), "Wireframe");
        assert_eq!(capitalized("SRS document"), "SRS document");
    }
}
