//! all-MiniLM-L6-v2 through `Embedder` against vectors made with
//! sentence-transformers (`shared/testdata/minilm-reference.json`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use bacopilot::inference::embeddings::Embedder;
use candle_core::Device;
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    items: Vec<ReferenceItem>,
}

#[derive(Deserialize)]
struct ReferenceItem {
    text: String,
    embedding: Vec<f32>,
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Loaded once: the model takes a moment and every test only reads it.
fn embedder() -> &'static Embedder {
    static EMBEDDER: OnceLock<Embedder> = OnceLock::new();
    EMBEDDER.get_or_init(|| {
        let dir = manifest_dir().join("models/all-MiniLM-L6-v2");
        assert!(
            dir.join("model.safetensors").is_file(),
            "all-MiniLM-L6-v2 is missing from models/; run scripts/fetch-models.sh"
        );
        Embedder::load(&dir, &Device::Cpu).expect("load all-MiniLM-L6-v2")
    })
}

fn reference() -> Reference {
    // CI checks out shared/ beside the repository.
    let path: PathBuf = manifest_dir().join("../shared/testdata/minilm-reference.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("parse minilm-reference.json")
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    dot(a, b) / (dot(a, a).sqrt() * dot(b, b).sqrt())
}

#[test]
fn one_batch_matches_sentence_transformers_for_every_reference_text() {
    let reference = reference();
    let texts: Vec<&str> = reference.items.iter().map(|i| i.text.as_str()).collect();
    let vectors = embedder().embed(&texts).expect("embed reference texts");
    assert_eq!(vectors.len(), texts.len());

    let mut min = f32::INFINITY;
    for (item, vector) in reference.items.iter().zip(&vectors) {
        assert_eq!(vector.len(), item.embedding.len());
        let c = cosine(vector, &item.embedding);
        assert!(c > 0.99, "cosine {c} for {:?}", item.text);
        min = min.min(c);
    }
    eprintln!("min cosine against sentence-transformers: {min:.7}");
}

#[test]
fn a_batch_gives_the_same_vectors_as_one_by_one() {
    let reference = reference();
    let texts: Vec<&str> = reference.items.iter().map(|i| i.text.as_str()).collect();
    let batched = embedder().embed(&texts).expect("embed batch");
    for (text, in_batch) in texts.iter().zip(&batched) {
        let alone = embedder().embed(&[text]).expect("embed one");
        for (a, b) in alone[0].iter().zip(in_batch) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b} for {text:?}");
        }
    }
}

#[test]
fn related_words_are_closer_than_unrelated_ones() {
    let v = embedder()
        .embed(&["cat", "kitten", "invoice"])
        .expect("embed words");
    assert!(dot(&v[0], &v[1]) > dot(&v[0], &v[2]));
}

#[test]
fn every_vector_has_unit_norm_and_the_model_dimension() {
    let e = embedder();
    let vectors = e
        .embed(&[
            "",
            "a short one",
            "Users must be able to reset their password.",
        ])
        .expect("embed");
    for v in &vectors {
        assert_eq!(v.len(), e.dimensions());
        assert!((dot(v, v).sqrt() - 1.0).abs() < 1e-5);
    }
    assert_eq!(e.dimensions(), 384);
}

#[test]
fn no_inputs_give_no_vectors() {
    assert!(embedder().embed(&[]).expect("embed nothing").is_empty());
}

#[test]
fn token_counts_include_special_tokens_and_stop_at_the_limit() {
    let e = embedder();
    let long = "word ".repeat(1000);
    let counts = e.count_tokens(&["", "cat", &long]).expect("count");
    // [CLS] [SEP] only; [CLS] cat [SEP]; truncated to the limit.
    assert_eq!(counts, vec![2, 3, e.max_tokens()]);
    assert_eq!(e.max_tokens(), 256);
}

#[test]
fn throughput_of_a_batch_of_short_sentences_is_reported() {
    let sentences: Vec<String> = (0..64)
        .map(|i| format!("Requirement {i}: the user shall be able to export report number {i}."))
        .collect();
    let inputs: Vec<&str> = sentences.iter().map(String::as_str).collect();
    let e = embedder();
    e.embed(&inputs[..4]).expect("warm up");
    let start = Instant::now();
    let vectors = e.embed(&inputs).expect("embed 64 sentences");
    let elapsed = start.elapsed().as_secs_f64();
    assert_eq!(vectors.len(), 64);
    eprintln!(
        "embedded 64 short sentences in {:.1} ms: {:.0} sentences/s",
        elapsed * 1e3,
        64.0 / elapsed
    );
}
