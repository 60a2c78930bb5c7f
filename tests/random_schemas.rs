//! Fifty JSON schemas drawn from a fixed seed (objects, arrays, enums,
//! nesting, required and optional fields, string patterns, bounded numbers)
//! sent to the real 135M model over a real socket, eight at a time: every
//! answer parses and validates against its schema (checked with the
//! `jsonschema` crate, an independent validator).

mod common;

use common::{MINILM, SMOL};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

const SCHEMAS: usize = 50;
const SEED: u64 = 20_261_124;

const PATTERNS: &[&str] = &[
    "^FR-[0-9]{3}$",
    "^[A-Z]{2,4}$",
    "^[a-z]+(-[a-z]+)?$",
    "^\\+?[0-9]{7,10}$",
    "^v[0-9]\\.[0-9]$",
];
const WORDS: &[&str] = &[
    "title", "owner", "status", "priority", "due", "author", "module", "actor", "goal", "risk",
    "cost", "score", "tags", "steps", "notes", "region",
];

/// A random schema whose instances are small (bounded strings, arrays and
/// depth), so every answer fits in the token budget.
fn schema(rng: &mut StdRng, depth: u32) -> Value {
    let leaf = depth >= 2 || rng.random_bool(0.4);
    if leaf {
        return match rng.random_range(0..6) {
            0 => json!({"type": "string", "maxLength": rng.random_range(3..16)}),
            1 => {
                json!({"type": "string", "pattern": PATTERNS[rng.random_range(0..PATTERNS.len())]})
            }
            2 => {
                let lo = rng.random_range(-50..50);
                json!({"type": "integer", "minimum": lo, "maximum": lo + rng.random_range(1..500)})
            }
            3 => json!({"type": "boolean"}),
            4 => {
                let n = rng.random_range(2..5);
                let picks: Vec<&str> = (0..n)
                    .map(|i| WORDS[(i * 5 + depth as usize) % WORDS.len()])
                    .collect();
                json!({"enum": picks})
            }
            _ => json!({"type": "number", "minimum": 0, "maximum": 100}),
        };
    }
    if rng.random_bool(0.3) {
        let max = rng.random_range(1..4);
        return json!({
            "type": "array",
            "items": schema(rng, depth + 1),
            "minItems": rng.random_range(0..=max.min(1)),
            "maxItems": max,
        });
    }
    let n = rng.random_range(1..5);
    let mut props = Map::new();
    let mut required = Vec::new();
    let start = rng.random_range(0..WORDS.len());
    for i in 0..n {
        let name = WORDS[(start + i * 3) % WORDS.len()];
        props.insert(name.to_string(), schema(rng, depth + 1));
        if rng.random_bool(0.7) {
            required.push(name);
        }
    }
    json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
}

#[tokio::test]
async fn fifty_random_schemas_all_yield_valid_instances() {
    let dir = common::models_dir("random-schemas", &[SMOL, MINILM]);
    let server = common::start(&dir, |c| c.engine.queue_size = SCHEMAS);
    let mut rng = StdRng::seed_from_u64(SEED);
    let schemas: Vec<Value> = (0..SCHEMAS)
        .map(|_| {
            // The top level is always an object, as OpenAI requires.
            let mut s = schema(&mut rng, 0);
            if s["type"] != "object" {
                s = json!({"type": "object", "properties": {"value": s}, "required": ["value"], "additionalProperties": false});
            }
            s
        })
        .collect();
    let requests = schemas.iter().enumerate().map(|(i, s)| {
        let body = common::chat_body(
            "You answer in JSON.",
            &format!("Fill in record number {i} for a requirements tracker."),
            400,
            json!({
                "temperature": if i % 2 == 0 { 0.0 } else { 1.0 },
                "seed": i,
                "response_format": {"type": "json_schema", "json_schema": {"name": format!("s{i}"), "schema": s, "strict": true}},
            }),
        );
        let server = &server;
        async move { server.post("/v1/chat/completions", body).await }
    });
    let answers = futures::future::join_all(requests).await;
    for (i, ((status, resp), s)) in answers.into_iter().zip(&schemas).enumerate() {
        assert_eq!(status, 200, "schema {i}: {resp}");
        let text = resp["choices"][0]["message"]["content"].as_str().unwrap();
        assert_eq!(
            resp["choices"][0]["finish_reason"], "stop",
            "schema {i} ran out of tokens: {text}"
        );
        let instance: Value = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("schema {i}: not JSON ({e}): {text}\nschema: {s}"));
        let validator = jsonschema::validator_for(s).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "schema {i}: {errors:?}\ninstance: {instance}\nschema: {s}"
        );
    }
}
