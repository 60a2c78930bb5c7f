//! What the engine reports as it works: queue depth, tokens, cancellations
//! and latencies. The engine knows no metrics format; the application
//! implements [`Observer`] (its Prometheus registry does) and hands it in.

/// Receives the engine's counts; every method must be cheap and never block.
pub trait Observer: Send + Sync {
    /// A request entered (`+1`) or left (`-1`) a model's queue.
    fn queue_changed(&self, delta: i64);
    /// A generation was stopped before it finished.
    fn generation_cancelled(&self);
    /// A finished generation of `model`; `cached` of its `prompt` tokens
    /// came from the prefix cache.
    fn add_tokens(&self, model: &str, prompt: usize, cached: usize, completion: usize);
    /// Seconds from submission to the first token, per model.
    fn observe_ttft(&self, model: &str, seconds: f64);
    /// Seconds between two tokens of one sequence, per model.
    fn observe_token_latency(&self, model: &str, seconds: f64);
}

/// An observer that drops everything, for tools and tests that count nothing.
pub struct Unobserved;

impl Observer for Unobserved {
    fn queue_changed(&self, _: i64) {}
    fn generation_cancelled(&self) {}
    fn add_tokens(&self, _: &str, _: usize, _: usize, _: usize) {}
    fn observe_ttft(&self, _: &str, _: f64) {}
    fn observe_token_latency(&self, _: &str, _: f64) {}
}
