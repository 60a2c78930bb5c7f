//! SRS documents: an ISO/IEC/IEEE 29148 outline filled section by section by
//! the model under a JSON schema, grounded in the project's documents, checked
//! by a rule-based linter, versioned on every change, and exported.

pub mod derive;
pub mod diff;
pub mod edit;
pub mod error;
pub mod eval;
pub mod export;
pub mod generate;
pub mod lint;
pub mod model;
pub mod prompt;
pub mod routes;
pub mod runs;
pub mod store;
pub mod template;

pub use error::Error;
pub use model::*;
