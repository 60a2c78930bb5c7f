//! The application's side of inference: which models exist (the catalog and
//! model pulls), which are loaded (the registry) and when they load and unload (lifecycle).
//! The engine itself (everything that touches candle) is the
//! `bacopilot-engine` crate in `crates/engine`, re-exported here so the rest
//! of the application names one place.

pub mod catalog;
pub mod lifecycle;
pub mod pulls;
pub mod registry;
pub mod routes;

pub use bacopilot_engine::{
    chat_model, chat_template, constraint, decoder, device, embeddings, engine, gguf_check, model,
    observe, sampler, tokenizer,
};
