//! HTTP plumbing shared by every feature's handlers: the error mapping,
//! extractors, guards, the connection wrapper and listener, and [`Routes`].
//! The application itself (its state and the assembled router) is
//! [`crate::app`].

pub mod conn;
pub mod connections;
pub mod drain;
pub mod error;
pub mod extract;
pub mod guard;
pub mod listen;
pub mod routes;

pub use error::AppError;
