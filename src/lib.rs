//! BA Copilot: a self-hosted local-inference appliance for business analysts.

pub mod app;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod bench;
pub mod chat;
pub mod config;
pub mod events;
pub mod generation;
pub mod http;
pub mod inference;
pub mod jobs;
pub mod metrics;
pub mod openai;
pub mod openapi;
pub mod projects;
pub mod retention;
pub mod retrieval;
pub mod server;
pub mod srs;
pub mod store;
pub mod trace;
pub mod upstream;
pub mod versioned;
pub mod web;
pub mod wireframe;
