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
