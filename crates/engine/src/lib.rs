//! The inference engine: the only code that touches candle. GGUF reading and
//! checking, tokenizers, chat templates, the decoder and its kernels, the
//! batching scheduler, sampling, grammar constraints and sentence embeddings.
//!
//! It depends on no web, storage or configuration crate: the application
//! hands it plain options ([`chat_model::LoadOptions`]) and an
//! [`observe::Observer`] for its counts.

pub mod chat_model;
pub mod chat_template;
pub mod constraint;
pub mod decoder;
pub mod embeddings;
pub mod engine;
pub mod gguf_check;
pub mod model;
pub mod observe;
pub mod sampler;
pub mod tokenizer;

/// The device models run on: the first CUDA GPU when built with `--features cuda`
/// and one is present, else the CPU.
pub fn device() -> candle_core::Device {
    #[cfg(feature = "cuda")]
    if let Ok(d) = candle_core::Device::new_cuda(0) {
        return d;
    }
    candle_core::Device::Cpu
}
