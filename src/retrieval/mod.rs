//! Documents and retrieval: extracting text from uploads, chunking by tokens,
//! embedding, storing vectors in LanceDB beside the SQLite record, and hybrid
//! search.

pub mod chunk;
pub mod documents;
pub mod extract;
pub mod files;
pub mod ingest;
pub mod routes;
pub mod search;
pub mod uploads;
pub mod vectors;

use std::sync::Arc;

use sqlx::SqlitePool;

use crate::inference::registry::LookupError;
use crate::jobs::Jobs;
use extract::ExtractError;
use files::FileStore;
use vectors::VectorStore;

/// Why a document could not be taken, found or removed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    #[error("vector store: {0}")]
    Vectors(#[from] lancedb::Error),
    #[error(transparent)]
    Model(#[from] LookupError),
    /// The upload is only whitespace.
    #[error("The file is empty")]
    Empty,
    /// A file we will not ingest, decided before anything is stored.
    #[error(transparent)]
    Refused(#[from] ExtractError),
    /// The same bytes are being uploaded to the project at the same time.
    #[error("The same file is being uploaded at the same time; try again")]
    UploadRace,
    /// Everything else; the detail is for the log.
    #[error("{0}")]
    Internal(String),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Store(e.into())
    }
}

/// The three places a document lives (the SQLite record, its vectors, its
/// original file) and the jobs that fill them; cheap to clone, so a job
/// takes its own copy.
#[derive(Clone)]
pub struct Library {
    pub pool: SqlitePool,
    pub vectors: Arc<VectorStore>,
    pub files: Arc<FileStore>,
    pub jobs: Arc<Jobs>,
}
