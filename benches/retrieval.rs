//! Retrieval benchmark: ingest throughput for a generated 100-page PDF, and
//! hybrid search latency (p50/p95) over 10k and 100k chunks.
//!
//!   cargo bench --bench retrieval [-- --pages 100 --sizes 10000,100000 --queries 200]
//!
//! Ingest goes through the real pipeline (extract, chunk, embed with
//! all-MiniLM-L6-v2, LanceDB, SQLite). The search corpora are synthetic
//! (random unit vectors, text drawn from a fixed vocabulary) and written
//! straight into both stores, since embedding 100k real chunks would take the
//! benchmark most of an hour on a laptop CPU; each query is embedded for real.

#[path = "../tests/common/documents.rs"]
mod documents;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bacopilot::app::AppState;
use bacopilot::config::Config;
use bacopilot::retrieval::vectors::VectorRow;
use bacopilot::retrieval::{documents as docs, ingest, search};
use bacopilot::store::new_id;

const WORDS: &[&str] = &[
    "invoice",
    "approval",
    "supplier",
    "warehouse",
    "contract",
    "budget",
    "customer",
    "release",
    "requirement",
    "workflow",
    "report",
    "dashboard",
    "account",
    "payment",
    "delivery",
    "audit",
    "policy",
    "employee",
    "schedule",
    "inventory",
    "order",
    "ticket",
    "service",
    "migration",
    "interface",
    "login",
    "export",
    "quarter",
    "region",
    "manager",
    "review",
    "deadline",
];

struct Args {
    pages: usize,
    sizes: Vec<usize>,
    queries: usize,
}

fn args() -> Args {
    let mut a = Args {
        pages: 100,
        sizes: vec![10_000, 100_000],
        queries: 200,
    };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let value = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--pages" => a.pages = value.parse().expect("--pages N"),
            "--queries" => a.queries = value.parse().expect("--queries N"),
            "--sizes" => {
                a.sizes = value
                    .split(',')
                    .map(|s| s.parse().expect("--sizes N,M"))
                    .collect()
            }
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    a
}

/// A deterministic pseudo-random stream (xorshift), so every run sees the same corpus.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }
    fn words(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| WORDS[self.next() as usize % WORDS.len()])
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn models_dir() -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir =
        std::env::temp_dir().join(format!("bacopilot-bench-retrieval-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let model = repo.join("models/all-MiniLM-L6-v2");
    assert!(model.exists(), "run scripts/fetch-models.sh first");
    std::os::unix::fs::symlink(model, dir.join("all-MiniLM-L6-v2")).unwrap();
    dir
}

async fn state(dir: &Path, tag: &str) -> AppState {
    let mut config = Config::default();
    config.models.dir = dir.to_path_buf();
    config.server.data_dir = dir.join(format!("data-{tag}"));
    // Documents are read by the `bacopilot` binary, not this benchmark.
    config.documents.extract_worker = PathBuf::from(env!("CARGO_BIN_EXE_bacopilot"));
    let s = bacopilot::app::start(config).await.unwrap();
    // Waits for the load the start began.
    s.registry
        .embedding(&s.config.models.embedding)
        .await
        .expect("the embedding model did not load");
    s
}

async fn project(s: &AppState) -> String {
    let id = new_id();
    sqlx::query("INSERT INTO projects (id, name) VALUES (?1, 'bench')")
        .bind(&id)
        .execute(&s.store.pool)
        .await
        .unwrap();
    id
}

async fn bench_ingest(dir: &Path, pages: usize) {
    let s = state(dir, "ingest").await;
    let pid = project(&s).await;
    let mut rng = Rng(7);
    let texts: Vec<String> = (0..pages)
        .map(|p| format!("Page {p}. {}", rng.words(420)))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let pdf = documents::pdf(&refs);
    let started = Instant::now();
    let (_, accepted) = ingest::accept(
        &bacopilot::retrieval::routes::ingest(&s),
        &pid,
        "bench.pdf",
        pdf,
    )
    .await
    .unwrap();
    let doc = loop {
        let d = docs::get(&s.store.pool, &accepted.id).await.unwrap();
        if d.status != "processing" {
            break d;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(doc.status, "ready", "{:?}", doc.error);
    println!(
        "ingest: {pages} pages, {} chunks in {secs:.2} s = {:.1} pages/s ({:.1} chunks/s)",
        doc.chunk_count,
        pages as f64 / secs,
        doc.chunk_count as f64 / secs
    );
}

async fn fill(s: &AppState, pid: &str, rows: usize) {
    let dims = 384;
    let mut rng = Rng(42);
    let doc = new_id();
    sqlx::query(
        "INSERT INTO documents (id, project_id, name, kind, size_bytes, sha256, status)
         VALUES (?1, ?2, 'synthetic', 'text', 0, ?1, 'ready')",
    )
    .bind(&doc)
    .bind(pid)
    .execute(&s.store.pool)
    .await
    .unwrap();
    for start in (0..rows).step_by(5000) {
        let n = 5000.min(rows - start);
        let mut batch = Vec::with_capacity(n);
        let mut tx = s.store.pool.begin().await.unwrap();
        for i in 0..n {
            let text = rng.words(150);
            let mut v: Vec<f32> = (0..dims).map(|_| rng.unit()).collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter_mut().for_each(|x| *x /= norm);
            let id = new_id();
            sqlx::query(
                "INSERT INTO chunks (id, document_id, project_id, ord, text, token_count)
                 VALUES (?1, ?2, ?3, ?4, ?5, 150)",
            )
            .bind(&id)
            .bind(&doc)
            .bind(pid)
            .bind((start + i) as i64)
            .bind(&text)
            .execute(&mut *tx)
            .await
            .unwrap();
            batch.push(VectorRow {
                chunk_id: id,
                project_id: pid.to_string(),
                document_id: doc.clone(),
                text,
                vector: v,
            });
        }
        tx.commit().await.unwrap();
        s.vectors.add(batch).await.unwrap();
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn bench_search(dir: &Path, rows: usize, queries: usize) {
    let s = state(dir, &format!("search-{rows}")).await;
    let pid = project(&s).await;
    let started = Instant::now();
    fill(&s, &pid, rows).await;
    let fill_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    s.vectors.clone().maintain().await;
    let maintain_secs = started.elapsed().as_secs_f64();
    let indexed = rows >= s.config.documents.vector_index_min_rows;
    let mut rng = Rng(99);
    // Warm the caches once.
    search::search(
        bacopilot::retrieval::routes::index(&s),
        &pid,
        "invoice approval",
        8,
    )
    .await
    .unwrap();
    let mut times = Vec::with_capacity(queries);
    for _ in 0..queries {
        let q = rng.words(4);
        let t = Instant::now();
        let hits = search::search(bacopilot::retrieval::routes::index(&s), &pid, &q, 8)
            .await
            .unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(!hits.is_empty());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "search: {rows} chunks ({}), {queries} queries, k=8: p50 {:.1} ms, p95 {:.1} ms (load {fill_secs:.1} s, index/optimize {maintain_secs:.1} s)",
        if indexed { "IVF-HNSW-SQ index" } else { "scan" },
        percentile(&times, 0.5),
        percentile(&times, 0.95),
    );
}

fn main() {
    let a = args();
    let dir = models_dir();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        bench_ingest(&dir, a.pages).await;
        for &rows in &a.sizes {
            bench_search(&dir, rows, a.queries).await;
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
