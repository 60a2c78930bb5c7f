//! BA Copilot: a self-hosted local-inference appliance for business analysts.

pub mod bench;
pub mod config;
pub mod http;
pub mod inference;
pub mod metrics;
pub mod openai;
pub mod server;

pub use http::{app, AppState};
