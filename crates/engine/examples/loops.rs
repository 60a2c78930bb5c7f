//! How often a model loops at temperature 0, with and without repetition
//! control: the measurement behind `SamplingParams::for_features`.
//!
//! cargo run -p bacopilot-engine --example loops -- models/SmolLM2-135M-Instruct.Q4_1.gguf
//!
//! Prints, per setting, the share of answers that say six words twice (the
//! product's loop, `bacopilot_content::repetition`) and the share of
//! degenerate ones, then each answer's first words.

use std::path::Path;
use std::sync::Arc;

use bacopilot_content::repetition::{is_degenerate, repeated_ngram, LOOP_NGRAM};
use bacopilot_engine::chat_model::{ChatModel, LoadOptions};
use bacopilot_engine::chat_template::ChatMessage;
use bacopilot_engine::constraint::ConstraintSpec;
use bacopilot_engine::engine::{Event, Generation, Limits};
use bacopilot_engine::observe::Unobserved;
use bacopilot_engine::sampler::{Repetition, SamplingParams};

const SYSTEM: &str = "You are a helpful assistant for business analysts.";

/// Questions a business analyst asks, several about a policy the prompt gives.
const POLICY: &str = "Library loan policy. Members may borrow at most 2 books at a time. \
Loans last 14 days and may be renewed once. Reserved books are held for 3 days at the front desk. \
Only staff may use the archive room. Late returns cost 0.50 EUR per day.";

fn prompts() -> Vec<String> {
    let mut p: Vec<String> = [
        "List the functional requirements for a library management system.",
        "Write a detailed description of the expense claim approval process.",
        "What are the responsibilities of a business analyst in a software project?",
        "List the requirements for an online room booking system.",
        "Describe the data retention policy for customer records in detail.",
        "Write user stories for a leave request application.",
        "List the screens needed for a timesheet application and what each shows.",
        "Explain the password policy requirements for a banking web site.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for q in [
        "How many books may a member borrow?",
        "Explain the loan policy in detail.",
        "Who may use the archive room, and what happens when a book is returned late?",
        "List every rule in the policy as a requirement.",
    ] {
        p.push(format!("{POLICY}\n\nQuestion: {q}"));
    }
    p
}

fn settings() -> Vec<(&'static str, SamplingParams)> {
    let greedy = SamplingParams {
        temperature: 0.0,
        ..Default::default()
    };
    let with = |r: Repetition| SamplingParams {
        repetition: Repetition {
            include_prompt: false,
            ..r
        },
        ..greedy.clone()
    };
    vec![
        ("off", greedy.clone()),
        (
            "repeat_penalty 1.1",
            with(Repetition {
                repeat_penalty: 1.1,
                ..Default::default()
            }),
        ),
        (
            "dry 0.8",
            with(Repetition {
                dry_multiplier: 0.8,
                ..Default::default()
            }),
        ),
        (
            "no_repeat_ngram 8",
            with(Repetition {
                no_repeat_ngram: 8,
                ..Default::default()
            }),
        ),
        ("for_features", SamplingParams::for_features(0.0, 0)),
    ]
}

fn run(model: &Arc<ChatModel>, prompt: Vec<u32>, sampling: SamplingParams, json: bool) -> String {
    let constraint = json.then(|| {
        let schema = serde_json::json!({
            "type": "object",
            "properties": {"requirements": {"type": "array", "maxItems": 8, "items": {
                "type": "object",
                "properties": {"title": {"type": "string"}, "statement": {"type": "string"}},
                "required": ["title", "statement"]}}},
            "required": ["requirements"]
        });
        model
            .compile_constraint(&ConstraintSpec::JsonSchema(schema))
            .expect("schema")
    });
    let mut rx = model
        .submit(Generation {
            prompt,
            max_tokens: 300,
            stop: vec![],
            ignore_eos: false,
            sampling,
            constraint,
        })
        .expect("submit");
    let mut text = String::new();
    while let Some(e) = rx.blocking_recv() {
        match e {
            Event::Delta(d) => text.push_str(&d),
            Event::Done(_) => break,
            Event::Error(e) => panic!("{e}"),
        }
    }
    text
}

/// The texts a JSON answer's reader sees: its string values.
fn strings(text: &str) -> Vec<String> {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            serde_json::Value::Object(o) => o.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    match serde_json::from_str(text) {
        Ok(v) => walk(&v, &mut out),
        // Cut at the token limit: judge the raw text.
        Err(_) => out.push(text.to_string()),
    }
    out
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "models/SmolLM2-135M-Instruct.Q4_1.gguf".into());
    let opts = LoadOptions {
        max_context: 2048,
        max_memory: None,
        queue_size: 4,
        limits: Limits {
            max_batch: 1,
            prefill_chunk: 512,
        },
        prefix_cache_bytes: 0,
        device: candle_core::Device::Cpu,
    };
    let model = Arc::new(
        ChatModel::load("m", Path::new(&path), &opts, Arc::new(Unobserved)).expect("load"),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let prompts: Vec<Vec<u32>> = prompts()
        .into_iter()
        .map(|p| {
            let messages = vec![
                ChatMessage::new("system", SYSTEM),
                ChatMessage::new("user", p),
            ];
            rt.block_on(model.chat_prompt(messages, vec![])).unwrap()
        })
        .collect();
    let json_prompt = rt
        .block_on(model.chat_prompt(
            vec![
                ChatMessage::new("system", "Write software requirements as JSON."),
                ChatMessage::new(
                    "user",
                    format!("{POLICY}\n\nWrite the requirements of this policy."),
                ),
            ],
            vec![],
        ))
        .unwrap();
    for (name, sampling) in settings() {
        let mut loops = 0;
        let mut degenerate = 0;
        let mut words = 0;
        let mut samples = Vec::new();
        for p in &prompts {
            let text = run(&model, p.clone(), sampling.clone(), false);
            loops += repeated_ngram(&text, LOOP_NGRAM).is_some() as usize;
            degenerate += is_degenerate(&text) as usize;
            words += text.split_whitespace().count();
            samples.push(text);
        }
        let json = run(&model, json_prompt.clone(), sampling.clone(), true);
        let json_loops = strings(&json)
            .iter()
            .filter(|s| repeated_ngram(s, LOOP_NGRAM).is_some())
            .count();
        println!(
            "## {name}: {loops}/{} answers repeat a {LOOP_NGRAM}-gram, {degenerate} degenerate, {} words on average; JSON: {json_loops} looping strings",
            prompts.len(),
            words / prompts.len()
        );
        for s in &samples {
            let head: String = s.chars().take(400).collect();
            println!("- {}", head.replace('\n', " / "));
        }
        println!("- JSON: {}", json.chars().take(600).collect::<String>());
    }
}
