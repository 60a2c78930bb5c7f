//! What SRS work can fail with, in its own words; `http/error.rs` says what
//! a client sees, and a job stores the sentence (or, for an internal
//! failure, a code and a sentence while the detail goes to the log).

use crate::generation::structured::Stop;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A document or one of its versions: not there, a conflict, the database.
    #[error(transparent)]
    Versioned(#[from] crate::versioned::Error),
    /// Another record (a template version): not there, or the database.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    /// A request field a client got wrong: which, and why.
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    NotFound(String),
    /// Stored state the code cannot use (an unreadable or missing template).
    #[error("{0}")]
    Broken(String),
    /// No model or upstream of the route can take the work.
    #[error(transparent)]
    Model(#[from] crate::generation::Error),
    /// The model's output could not be used.
    #[error("{0}")]
    Generation(String),
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// A failure of the server rather than of the request: the client is told
    /// only that something went wrong.
    pub fn is_internal(&self) -> bool {
        match self {
            Error::Versioned(e) => e.is_internal(),
            Error::Store(e) => matches!(e, crate::store::Error::Database(_)),
            Error::Broken(_) | Error::Cancelled => true,
            Error::Model(e) => matches!(e, crate::generation::Error::Internal(_)),
            Error::Invalid { .. } | Error::NotFound(_) | Error::Generation(_) => false,
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Store(e.into())
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
