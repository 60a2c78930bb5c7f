//! A loaded chat model: validated GGUF, tokenizer, chat template and the engine
//! thread that owns the weights. Handlers talk to it through [`ChatModel::submit`].

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use candle_core::quantized::gguf_file;
use candle_core::Device;
use tokio::sync::{mpsc, Semaphore};

use super::chat_template::{ChatMessage, ChatTemplate};
use super::constraint::{Constrainer, Constraint, ConstraintSpec};
use super::decoder::{self, Decoder, PrefixCache};
pub use super::engine::Generation;
use super::engine::{Backend, EngineLoop, Event, GenerateRequest, Limits};
use super::gguf_check::{self, GgufError, GgufInfo};
use super::model::Weights;
use super::tokenizer::{GgufTokenizer, TokenizerError};
use crate::observe::Observer;
pub use quantization::quantization;

mod quantization;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Invalid(#[from] GgufError),
    #[error("model file `{file}`: {message}")]
    Candle { file: String, message: String },
    #[error("model file `{file}`: tokenizer: {source}")]
    Tokenizer {
        file: String,
        source: TokenizerError,
    },
    #[error("model file `{file}`: chat template: {message}")]
    Template { file: String, message: String },
    #[error(
        "model file `{file}` needs about {needed_mib} MiB (weights, a KV cache of {context} tokens for each of \
         {sequences} batched sequences and {prefix_cache_mib} MiB of prefix cache) but only {available_mib} MiB \
         is available to it; lower `models.max_context`, `engine.max_batch` or `engine.prefix_cache_mib`, \
         raise `models.max_memory_mib` or free memory"
    )]
    OutOfMemory {
        file: String,
        needed_mib: u64,
        available_mib: u64,
        context: usize,
        sequences: usize,
        prefix_cache_mib: u64,
    },
}

/// Why a request was not admitted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the generation queue of `{0}` is full")]
    QueueFull(String),
    #[error("the engine of `{0}` has stopped")]
    EngineStopped(String),
}

pub struct LoadOptions {
    pub max_context: usize,
    /// Cap on one model's weights plus KV cache, in bytes (`None`: free memory only).
    pub max_memory: Option<u64>,
    pub queue_size: usize,
    pub limits: Limits,
    /// Memory for finished sequences' KV caches kept for prefix reuse.
    pub prefix_cache_bytes: u64,
    pub device: Device,
}

pub struct ChatModel {
    pub id: String,
    pub info: GgufInfo,
    /// Context window served: the model's own, capped by configuration.
    pub context_length: usize,
    /// The weights' dominant block type by bytes (`Q4_K`, `Q8_0`, …) and the
    /// file's own label (`general.file_type`, as llama.cpp names it) when set.
    pub quantization: String,
    /// What this model may hold at most: weights, a full-context KV cache for
    /// each batched sequence and the prefix cache (what the load was checked against).
    pub memory_bytes: u64,
    /// What it holds now: weights, live caches and the prefix cache, as the
    /// engine last counted them ([`Self::resident_bytes`]).
    resident: Arc<AtomicU64>,
    /// Requests admitted at once: running plus queued.
    capacity: usize,
    pub tokenizer: Arc<GgufTokenizer>,
    pub template: ChatTemplate,
    /// The vocabulary as llguidance sees it, or why constraints are
    /// unavailable; built by the first constrained request (a token trie of
    /// the whole vocabulary: tens of MB and a second or two for 262k tokens).
    constrainer: std::sync::OnceLock<Result<Constrainer, String>>,
    queue: mpsc::UnboundedSender<GenerateRequest>,
    admission: Arc<Semaphore>,
    metrics: Arc<dyn Observer>,
}

impl ChatModel {
    /// Validates and loads `path`, then starts its engine thread.
    pub fn load(
        id: &str,
        path: &Path,
        opts: &LoadOptions,
        metrics: Arc<dyn Observer>,
    ) -> Result<Self, LoadError> {
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let candle_err = |e: candle_core::Error| LoadError::Candle {
            file: file.clone(),
            message: e.to_string(),
        };
        let info = gguf_check::validate(path)?;
        let (budget, batched) = MemoryBudget::plan(&info, opts);
        let context_length = budget.context;
        check_memory(&file, &info, &budget, opts.max_memory)?;

        let mut reader = std::fs::File::open(path).map_err(|e| candle_err(e.into()))?;
        let content = gguf_file::Content::read(&mut reader).map_err(candle_err)?;
        let quantization = quantization(&content);
        let tokenizer =
            GgufTokenizer::from_gguf(&content).map_err(|source| LoadError::Tokenizer {
                file: file.clone(),
                source,
            })?;
        let gguf_template = content
            .metadata
            .get("tokenizer.chat_template")
            .and_then(|v| v.to_string().ok())
            .cloned();
        let template = ChatTemplate::new(
            gguf_template.as_deref(),
            &info.architecture,
            tokenizer.bos_token(),
            tokenizer.eos_token(),
        )
        .map_err(|e| LoadError::Template {
            file: file.clone(),
            message: e.to_string(),
        })?;
        let started = Instant::now();
        let backend = if batched {
            let decoder = Decoder::load(&content, path, context_length).map_err(candle_err)?;
            let per_token = decoder.config.kv_bytes_per_token() as u64;
            let prefixes = PrefixCache::new((opts.prefix_cache_bytes / per_token.max(1)) as usize);
            Backend::Batched {
                decoder: Box::new(decoder),
                prefixes,
            }
        } else {
            let weights = Weights::from_gguf(&info.architecture, content, path, &opts.device)
                .map_err(candle_err)?;
            Backend::Candle {
                weights: Box::new(weights),
                device: opts.device.clone(),
            }
        };
        let max_batch = backend.max_batch(opts.limits.max_batch);
        tracing::info!(model = id, architecture = %info.architecture, context_length, max_batch,
            seconds = started.elapsed().as_secs_f64(), "chat model loaded");

        let memory_bytes = budget.bytes(&info);
        let tokenizer = Arc::new(tokenizer);
        let (tx, rx) = mpsc::unbounded_channel();
        let weight_bytes = backend.weight_bytes(info.file_size);
        let resident = Arc::new(AtomicU64::new(weight_bytes));
        let engine = EngineLoop {
            model_id: id.to_string(),
            backend,
            limits: opts.limits,
            tokenizer: tokenizer.clone(),
            metrics: metrics.clone(),
            breakers: Default::default(),
            resident: resident.clone(),
            weight_bytes,
        };
        // The engine loop runs on a worker of its own thread pool, so the
        // decoder's parallel loops share work with the thread that starts
        // them instead of handing it to other threads and sleeping (two
        // context switches per loop, hundreds of loops per step).
        let pool = rayon::ThreadPoolBuilder::new()
            .thread_name({
                let id = id.to_string();
                move |i| format!("engine-{id}-{i}")
            })
            .build()
            .map_err(|e| candle_err(candle_core::Error::Msg(e.to_string())))?;
        std::thread::Builder::new()
            .name(format!("engine-{id}"))
            .spawn(move || pool.install(move || engine.run(rx)))
            .map_err(|e| candle_err(e.into()))?;
        Ok(Self {
            id: id.to_string(),
            info,
            context_length,
            tokenizer,
            template,
            constrainer: std::sync::OnceLock::new(),
            quantization,
            memory_bytes,
            resident,
            capacity: opts.queue_size + max_batch,
            queue: tx,
            // `max_batch` requests run while `queue_size` wait.
            admission: Arc::new(Semaphore::new(opts.queue_size + max_batch)),
            metrics,
        })
    }

    /// Memory the model holds now: its weights as the kernels read them, the
    /// KV caches of running sequences and the prefix cache (not the
    /// constraint vocabulary a first constrained request builds). For models
    /// on candle's path, the file's size.
    pub fn resident_bytes(&self) -> u64 {
        self.resident.load(Ordering::Relaxed)
    }

    /// Requests running or queued now (a model in use is never unloaded).
    pub fn in_flight(&self) -> usize {
        self.capacity
            .saturating_sub(self.admission.available_permits())
    }

    /// Renders `messages` (offering `tools`, OpenAI-shaped; none is empty)
    /// with the chat template and tokenizes the result as the model expects
    /// (BOS added when its metadata asks, never twice). Control tokens
    /// written in messages and tools are text (see [`GgufTokenizer::quote`]);
    /// only the template's own turn markers become control tokens. Runs on a
    /// blocking thread: the template and the tokenizer are CPU work.
    pub async fn chat_prompt(
        self: &Arc<Self>,
        messages: Vec<ChatMessage>,
        tools: Vec<serde_json::Value>,
    ) -> Result<Vec<u32>, String> {
        let model = self.clone();
        tokio::task::spawn_blocking(move || model.render_prompt(&messages, &tools))
            .await
            .map_err(|e| format!("chat prompt task: {e}"))?
    }

    fn render_prompt(
        &self,
        messages: &[ChatMessage],
        tools: &[serde_json::Value],
    ) -> Result<Vec<u32>, String> {
        let tokenizer = &self.tokenizer;
        let text = self
            .template
            .render(messages, tools, &|s| tokenizer.quote(s))
            .map_err(|e| format!("chat template: {e}"))?;
        self.encode(&text)
    }

    /// Tokenizes `text` with special tokens parsed and the model's BOS rule:
    /// for rendered templates and raw completion prompts, whose author writes
    /// the turn markers (see [`GgufTokenizer::encode`]).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
        let mut ids = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| e.to_string())?;
        // Templates often write `{{ bos_token }}` themselves; the tokenizer then adds a second.
        if let Some(bos) = self.tokenizer.bos_id() {
            if ids.len() >= 2 && ids[0] == bos && ids[1] == bos {
                ids.remove(0);
            }
        }
        Ok(ids)
    }

    /// Compiles a response format for this model's vocabulary. CPU work that
    /// grows with the schema: call it off the async runtime.
    pub fn compile_constraint(&self, spec: &ConstraintSpec) -> Result<Constraint, String> {
        let constrainer = self.constrainer.get_or_init(|| {
            let c = Constrainer::new(&self.tokenizer);
            if let Err(e) = &c {
                tracing::warn!(model = %self.id, error = %e, "structured output is unavailable for this model");
            }
            c
        });
        match constrainer {
            Ok(c) => c.compile(spec),
            Err(e) => Err(format!(
                "structured output is unavailable for model `{}`: {e}",
                self.id
            )),
        }
    }

    /// Queues a generation, or refuses at once when the queue is full.
    pub fn submit(&self, g: Generation) -> Result<mpsc::UnboundedReceiver<Event>, SubmitError> {
        self.submit_or_return(g).map_err(|(e, _)| e)
    }

    /// [`Self::submit`] that hands the generation back with the refusal, for
    /// background work that waits for room in the queue instead of failing.
    /// The refusal is rare and the generation goes straight back to its
    /// owner, so its size in the `Err` costs nothing worth a box.
    #[allow(clippy::result_large_err)]
    pub fn submit_or_return(
        &self,
        g: Generation,
    ) -> Result<mpsc::UnboundedReceiver<Event>, (SubmitError, Generation)> {
        let permit = match self.admission.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => return Err((SubmitError::QueueFull(self.id.clone()), g)),
        };
        let (events, rx) = mpsc::unbounded_channel();
        let req = GenerateRequest {
            generation: g,
            events,
            permit,
            admitted_at: Instant::now(),
        };
        self.metrics.queue_changed(1);
        self.queue.send(req).map_err(|e| {
            self.metrics.queue_changed(-1);
            (SubmitError::EngineStopped(self.id.clone()), e.0.generation)
        })?;
        Ok(rx)
    }
}

/// The memory [`ChatModel::load`] would check a file of `info` against,
/// without loading it (for a budget across models).
pub fn memory_needed(info: &GgufInfo, opts: &LoadOptions) -> u64 {
    MemoryBudget::plan(info, opts).0.bytes(info)
}

/// What a model's caches may grow to while it serves.
struct MemoryBudget {
    /// Positions in one sequence's KV cache.
    context: usize,
    /// Sequences whose caches are alive at once (`engine.max_batch` when batching).
    sequences: usize,
    /// Bytes of finished sequences' caches kept for prefix reuse.
    prefix_cache: u64,
    /// Bytes per cached key or value: f16 on our decoder, f32 on candle's.
    kv_value_bytes: u64,
}

impl MemoryBudget {
    /// What `opts` let a model of `info` hold: the context served (the
    /// model's own, capped by configuration), and whether our batching
    /// decoder runs it (CPU only; a GPU build keeps candle's models, one
    /// sequence at a time, with no prefix cache).
    fn plan(info: &GgufInfo, opts: &LoadOptions) -> (Self, bool) {
        let context = [
            info.context_length.map(|c| c as usize),
            Weights::max_positions(&info.architecture),
        ]
        .into_iter()
        .flatten()
        .fold(opts.max_context, usize::min)
        .max(1);
        let batched = decoder::supports(&info.architecture) && opts.device.is_cpu();
        let budget = Self {
            context,
            sequences: if batched {
                opts.limits.max_batch.max(1)
            } else {
                1
            },
            prefix_cache: if batched { opts.prefix_cache_bytes } else { 0 },
            kv_value_bytes: if batched { 2 } else { 4 },
        };
        (budget, batched)
    }

    /// Weights, a full-context KV cache per batched sequence, and the prefix cache.
    fn bytes(&self, info: &GgufInfo) -> u64 {
        info.kv_cache_bytes(self.context as u64, self.kv_value_bytes)
            .saturating_mul(self.sequences as u64)
            .saturating_add(self.prefix_cache)
            .saturating_add(info.tensor_bytes)
    }
}

/// Refuses a model whose weights plus caches would not fit in the memory the
/// kernel reports as available, before anything is allocated.
fn check_memory(
    file: &str,
    info: &GgufInfo,
    budget: &MemoryBudget,
    cap: Option<u64>,
) -> Result<(), LoadError> {
    let Some(available) = [available_memory(), cap].into_iter().flatten().min() else {
        return Ok(());
    };
    let needed = budget.bytes(info);
    if needed > available {
        return Err(LoadError::OutOfMemory {
            file: file.to_string(),
            needed_mib: needed >> 20,
            available_mib: available >> 20,
            context: budget.context,
            sequences: budget.sequences,
            prefix_cache_mib: budget.prefix_cache >> 20,
        });
    }
    Ok(())
}

/// `MemAvailable` from /proc/meminfo (Linux); `None` where it cannot be read.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SmolLM2-135M's shape: 30 layers, 3 KV heads of 64 dimensions, so one
    /// position costs 30 × 3 × (64 + 64) × 4 bytes = 45 KiB.
    fn smollm2() -> GgufInfo {
        GgufInfo {
            architecture: "llama".into(),
            file_size: 0,
            tensor_count: 0,
            tensor_bytes: 100 << 20,
            context_length: Some(8192),
            block_count: Some(30),
            embedding_length: Some(576),
            head_count: Some(9),
            head_count_kv: Some(3),
            key_length: None,
            value_length: None,
        }
    }

    #[test]
    fn the_memory_budget_counts_a_kv_cache_per_batched_sequence_and_the_prefix_cache() {
        let budget = MemoryBudget {
            context: 2048,
            sequences: 8,
            prefix_cache: 256 << 20,
            kv_value_bytes: 2,
        };
        // 30 layers, 3 KV heads of 64 dimensions, keys and values in f16.
        let per_sequence = 2048 * 30 * 3 * (64 + 64) * 2;
        assert_eq!(
            budget.bytes(&smollm2()),
            (100 << 20) + 8 * per_sequence + (256 << 20)
        );
    }

    #[test]
    fn a_model_whose_batch_of_caches_exceeds_the_cap_is_refused_though_one_sequence_fits() {
        let one = MemoryBudget {
            context: 2048,
            sequences: 1,
            prefix_cache: 0,
            // candle's path: f32.
            kv_value_bytes: 4,
        };
        let eight = MemoryBudget {
            sequences: 8,
            prefix_cache: 64 << 20,
            ..one
        };
        // 100 MiB of weights + 90 MiB of cache fits 300 MiB; 8 caches (720 MiB) do not.
        assert!(check_memory("m.gguf", &smollm2(), &one, Some(300 << 20)).is_ok());
        let err = check_memory("m.gguf", &smollm2(), &eight, Some(300 << 20)).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("884 MiB") && message.contains("8 batched sequences"),
            "{message}"
        );
    }
}
