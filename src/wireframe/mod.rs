//! Wireframes: low-fidelity screens the model writes as a component tree
//! under a JSON schema (never as HTML), rendered by our own deterministic
//! renderers, refined by change requests, versioned, and traced to the SRS
//! requirements their components satisfy.

pub mod change;
pub mod diff;
pub mod error;
pub mod generate;
pub mod model;
pub mod prompt;
pub mod render;
pub mod routes;
pub mod store;

pub use error::Error;
pub use model::*;
