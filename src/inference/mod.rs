//! The application's side of inference: which models exist (the catalog and
//! model pulls), which are loaded (the registry).
//! The engine itself (everything that touches candle) is the
//! `bacopilot-engine` crate in `crates/engine`, re-exported here so the rest
//! of the application names one place.

pub mod catalog;
pub mod registry;

pub use bacopilot_engine::{
    chat_model, chat_template, constraint, decoder, device, embeddings, engine, gguf_check, model,
    observe, sampler, tokenizer,
};
