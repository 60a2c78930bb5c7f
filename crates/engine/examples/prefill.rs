//! Prefill and decode speed of one model on our decoder, without the server:
//! the quick loop for kernel work (the engine rebuilds in seconds, the
//! application in minutes). `bacopilot bench` is the figure to report.
//!
//! cargo run -p bacopilot-engine --example prefill -- MODEL.gguf [PROMPT_TOKENS] [CHUNK] [RUNS] [GEN_TOKENS] [STREAMS]
//!
//! Prints prefill and decode tokens per second for each run; with STREAMS
//! above 1, each run submits that many generations at once and prints their
//! aggregate tokens per second instead.

use std::path::Path;
use std::sync::Arc;

use bacopilot_engine::chat_model::{ChatModel, LoadOptions};
use bacopilot_engine::engine::{Event, Generation, Limits};
use bacopilot_engine::observe::Unobserved;
use bacopilot_engine::sampler::SamplingParams;

const TEXT: &str = "The library management system shall allow librarians to register new members, \
record loans and returns, and send reminders for overdue items. Members can search the catalogue by title, \
author or subject, reserve items that are on loan, and see their loan history. ";

fn arg(i: usize, default: usize) -> usize {
    std::env::args()
        .nth(i)
        .map_or(default, |a| a.parse().expect("a number"))
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "models/gemma-3-270m-q4_k_m.gguf".into());
    let (tokens, chunk, runs, gen) = (arg(2, 512), arg(3, 64), arg(4, 3), arg(5, 32));
    let streams = arg(6, 1);
    let opts = LoadOptions {
        max_context: 4096,
        max_memory: None,
        queue_size: 16,
        limits: Limits {
            max_batch: 8,
            prefill_chunk: chunk,
        },
        // Every run reads the same prompt; a prefix cache would skip it.
        prefix_cache_bytes: 0,
        device: candle_core::Device::Cpu,
    };
    let model = ChatModel::load("m", Path::new(&path), &opts, Arc::new(Unobserved)).expect("load");
    let mut prompt = Vec::new();
    while prompt.len() < tokens {
        prompt.extend(model.encode(TEXT).expect("encode"));
    }
    prompt.truncate(tokens);
    let generation = || Generation {
        prompt: prompt.clone(),
        max_tokens: gen,
        stop: vec![],
        ignore_eos: true,
        sampling: SamplingParams {
            temperature: 0.0,
            ..Default::default()
        },
        constraint: None,
    };
    if streams > 1 {
        for _ in 0..runs {
            let started = std::time::Instant::now();
            let mut rxs: Vec<_> = (0..streams)
                .map(|_| model.submit(generation()).expect("submit"))
                .collect();
            let mut tokens = 0;
            for rx in &mut rxs {
                while let Some(e) = rx.blocking_recv() {
                    match e {
                        Event::Delta(_) => {}
                        Event::Done(d) => {
                            tokens += d.completion_tokens;
                            break;
                        }
                        Event::Error(e) => panic!("{e}"),
                    }
                }
            }
            let secs = started.elapsed().as_secs_f64();
            println!(
                "{streams} streams: {:.1} tok/s in all",
                tokens as f64 / secs
            );
        }
        return;
    }
    for _ in 0..runs {
        let mut rx = model.submit(generation()).expect("submit");
        let done = loop {
            match rx.blocking_recv() {
                Some(Event::Delta(_)) => {}
                Some(Event::Done(d)) => break d,
                Some(Event::Error(e)) => panic!("{e}"),
                None => panic!("engine stopped"),
            }
        };
        println!(
            "prefill {:.1} tok/s, decode {:.1} tok/s",
            done.prompt_tokens as f64 / done.prefill_seconds,
            done.completion_tokens.saturating_sub(1) as f64 / done.decode_seconds
        );
    }
}
