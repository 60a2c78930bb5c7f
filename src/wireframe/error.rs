//! What wireframe work can fail with, in its own words; `http/error.rs` says
//! what a client sees, and a job stores the sentence (or, for an internal
//! failure, a code and a sentence while the detail goes to the log).

use crate::generation::structured::Stop;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A wireframe or one of its versions: not there, a conflict, the database.
    #[error(transparent)]
    Versioned(#[from] crate::versioned::Error),
    /// The requirements a new wireframe is to satisfy.
    #[error(transparent)]
    Trace(#[from] crate::trace::Error),
    /// A request field a client got wrong: which, and why.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// No model or upstream of the route can take the work.
    #[error(transparent)]
    Model(#[from] crate::generation::Error),
    /// The jobs table.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl Error {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// A failure of the server rather than of the request.
    pub fn is_internal(&self) -> bool {
        match self {
            Error::Versioned(e) => e.is_internal(),
            Error::Trace(e) => e.is_internal(),
            Error::Database(_) => true,
            Error::Model(e) => matches!(e, crate::generation::Error::Internal(_)),
            Error::Invalid { .. } => false,
        }
    }
}

/// A job that stops on an error stores its sentence for its user; an
/// internal one is logged and stored as a code and a sentence.
impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        let internal = e.is_internal();
        Stop::failed(&e, internal)
    }
}
