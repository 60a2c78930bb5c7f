//! `bacopilot bench`: prefill and decode speed and time to first token of a chat
//! model on a fixed prompt, and sentences per second of the embedding model.
//! Prints a Markdown table; figures go into the README by hand.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, Context};

use crate::config::Config;
use crate::inference::chat_model::{ChatModel, Generation};
use crate::inference::constraint::ConstraintSpec;
use crate::inference::embeddings::Embedder;
use crate::inference::engine::Event;
use crate::inference::sampler::SamplingParams;
use crate::metrics::Metrics;

/// Business-analysis prose, repeated to the prompt length asked for.
const PROMPT_TEXT: &str = "The library management system shall allow librarians to register new members, \
record loans and returns, and send reminders for overdue items. Members can search the catalogue by title, \
author or subject, reserve items that are on loan, and see their loan history. ";

pub struct BenchOptions {
    pub model: Option<String>,
    pub prompt_tokens: usize,
    pub gen_tokens: usize,
    pub runs: usize,
    /// Concurrent stream counts for the aggregate decode figure (empty: skip).
    pub concurrency: Vec<usize>,
    /// Also run each generation under [`bench_schema`], to measure the cost of
    /// structured output.
    pub json_schema: bool,
}

/// A schema whose instances run on for as long as the benchmark generates
/// (at least 1000 items), so the constrained run is as long as the free one.
fn bench_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "properties": {"requirements": {
            "type": "array",
            "minItems": 1000,
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "text": {"type": "string", "maxLength": 80},
                    "priority": {"enum": ["must", "should", "could"]}
                },
                "required": ["id", "text", "priority"],
                "additionalProperties": false
            }
        }},
        "required": ["requirements"],
        "additionalProperties": false
    })
}

pub fn run(config: &Config, opts: &BenchOptions) -> anyhow::Result<()> {
    let id = opts
        .model
        .clone()
        .unwrap_or_else(|| config.models.chat.clone());
    let path = config.models.dir.join(file_name_for(config, &id)?);
    let mut load = crate::inference::registry::load_options(config);
    // Every run reads the same prompt: without this, all but the first would
    // take it from the prefix cache and the prefill figures would mean nothing.
    load.prefix_cache_bytes = 0;
    load.queue_size = load
        .queue_size
        .max(opts.concurrency.iter().copied().max().unwrap_or(1));
    let model = ChatModel::load(&id, &path, &load, Arc::new(Metrics::default()))?;
    let mut prompt = Vec::new();
    while prompt.len() < opts.prompt_tokens {
        prompt.extend(model.encode(PROMPT_TEXT).map_err(|e| anyhow!(e))?);
    }
    prompt.truncate(opts.prompt_tokens);

    let modes: &[bool] = if opts.json_schema {
        &[false, true]
    } else {
        &[false]
    };
    println!("| model | output | prompt tokens | generated | prefill tok/s | decode tok/s | time to first token |");
    println!("|---|---|---|---|---|---|---|");
    for &constrained in modes.iter().cycle().take(opts.runs * modes.len()) {
        let constraint = constrained
            .then(|| model.compile_constraint(&ConstraintSpec::JsonSchema(bench_schema())))
            .transpose()
            .map_err(|e| anyhow!(e))?;
        let started = Instant::now();
        let mut rx = model.submit(Generation {
            prompt: prompt.clone(),
            max_tokens: opts.gen_tokens,
            stop: vec![],
            ignore_eos: true,
            sampling: SamplingParams {
                temperature: 0.0,
                ..Default::default()
            },
            constraint,
        })?;
        let mut first = None;
        let done = loop {
            match rx.blocking_recv() {
                Some(Event::Delta(_)) => {
                    first.get_or_insert_with(|| started.elapsed());
                }
                Some(Event::Done(d)) => break d,
                Some(Event::Error(e)) => return Err(anyhow!(e)),
                None => return Err(anyhow!("engine stopped")),
            }
        };
        // The first token comes out of prefill; decode covers the rest.
        let decode_tps = done.completion_tokens.saturating_sub(1) as f64 / done.decode_seconds;
        println!(
            "| {id} | {} | {} | {} | {:.1} | {:.1} | {:.0} ms |",
            if constrained { "json_schema" } else { "text" },
            done.prompt_tokens,
            done.completion_tokens,
            done.prompt_tokens as f64 / done.prefill_seconds,
            decode_tps,
            first.unwrap_or_default().as_secs_f64() * 1000.0,
        );
    }

    if !opts.concurrency.is_empty() {
        println!("\n| concurrent streams | tokens | aggregate decode tok/s | end-to-end tok/s |\n|---|---|---|---|");
    }
    for &streams in &opts.concurrency {
        let run = concurrent(
            &model,
            &prompt[..prompt.len().min(32)],
            opts.gen_tokens,
            streams,
        )?;
        println!(
            "| {streams} | {} | {:.1} | {:.1} |",
            run.tokens,
            run.decode_rate,
            run.tokens as f64 / run.seconds
        );
    }

    let embed_dir = config.models.dir.join(&config.models.embedding);
    let embedder = Embedder::load(&embed_dir, &crate::inference::device())?;
    let sentences: Vec<String> = (0..256)
        .map(|i| {
            format!(
                "Requirement {i}: the system shall notify the member {} days before the due date.",
                i % 7 + 1
            )
        })
        .collect();
    let refs: Vec<&str> = sentences.iter().map(String::as_str).collect();
    embedder.embed(&refs[..8])?;
    let started = Instant::now();
    embedder.embed(&refs)?;
    let secs = started.elapsed().as_secs_f64();
    println!("\n| embedding model | sentences | sentences/s |\n|---|---|---|");
    println!(
        "| {} | {} | {:.1} |",
        config.models.embedding,
        refs.len(),
        refs.len() as f64 / secs
    );
    Ok(())
}

struct Concurrent {
    /// Tokens generated by all streams.
    tokens: usize,
    /// Seconds from the first submission to the last token (prompts included).
    seconds: f64,
    /// The sum of each stream's decode rate (tokens after its first, over
    /// the seconds from its first token to its last): the decode throughput
    /// while the streams run side by side.
    decode_rate: f64,
}

/// Submits `streams` generations at once and waits for all.
fn concurrent(
    model: &ChatModel,
    prompt: &[u32],
    gen_tokens: usize,
    streams: usize,
) -> anyhow::Result<Concurrent> {
    let started = Instant::now();
    let receivers = (0..streams)
        .map(|_| {
            model.submit(Generation {
                prompt: prompt.to_vec(),
                max_tokens: gen_tokens,
                stop: vec![],
                ignore_eos: true,
                sampling: SamplingParams {
                    temperature: 0.0,
                    ..Default::default()
                },
                constraint: None,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut tokens = 0;
    let mut decode_rate = 0.0;
    for mut rx in receivers {
        loop {
            match rx.blocking_recv() {
                Some(Event::Delta(_)) => {}
                Some(Event::Done(d)) => {
                    tokens += d.completion_tokens;
                    decode_rate += d.completion_tokens.saturating_sub(1) as f64 / d.decode_seconds;
                    break;
                }
                Some(Event::Error(e)) => return Err(anyhow!(e)),
                None => return Err(anyhow!("engine stopped")),
            }
        }
    }
    Ok(Concurrent {
        tokens,
        seconds: started.elapsed().as_secs_f64(),
        decode_rate,
    })
}

/// The GGUF file in the models directory whose id is `id`.
fn file_name_for(config: &Config, id: &str) -> anyhow::Result<String> {
    let found = crate::inference::registry::discover(&config.models.dir)
        .with_context(|| format!("cannot read {}", config.models.dir.display()))?;
    found
        .into_iter()
        .find(|c| c.id == id)
        .and_then(|c| c.path.file_name().map(|f| f.to_string_lossy().into_owned()))
        .ok_or_else(|| anyhow!("no model `{id}` in {}", config.models.dir.display()))
}
