//! SRS generation benchmark: the fixed brief of `tests/srs.rs` with the
//! expense policy uploaded, generated with the default models and the
//! default `[srs]` settings; prints the wall time, the requirements written
//! and the linter's score.
//!
//!   cargo bench --bench srs [-- --runs 1]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bacopilot::config::Config;
use bacopilot::retrieval::{documents as docs, ingest};
use bacopilot::srs::runs::{self, NewSrs};
use bacopilot::store::new_id;

const BRIEF: &str = "Expense claims for a 200-person consulting firm. Employees submit \
claims with receipts from the web or a phone; their manager approves or rejects each claim; \
finance pays approved claims in the weekly payment run and exports them to the accounting system.";

const POLICY: &str = "# Expense policy\n\n## Approvals\n\nEvery claim above 5000 euros must be approved by the \
chief financial officer before payment. Claims below that amount are approved by the employee's manager \
within five working days.\n\n## Receipts\n\nEach expense line needs a scanned receipt. Receipts are kept for \
ten years for the tax office.\n";

fn models_dir() -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("bacopilot-bench-srs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for m in ["all-MiniLM-L6-v2", "SmolLM2-135M-Instruct.Q4_1.gguf"] {
        let model = repo.join("models").join(m);
        assert!(model.exists(), "run scripts/fetch-models.sh first");
        std::os::unix::fs::symlink(model, dir.join(m)).unwrap();
    }
    dir
}

fn main() {
    let runs: usize = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .map_or(1, |n| n.parse().expect("--runs N"));
    let dir = models_dir();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut config = Config::default();
        config.models.dir = dir.clone();
        config.server.data_dir = dir.join("data");
        let s = bacopilot::app::start(config).await.unwrap();
        while !s.registry.ready() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for run in 1..=runs {
            let pid = new_id();
            sqlx::query("INSERT INTO projects (id, name) VALUES (?1, 'bench')")
                .bind(&pid)
                .execute(&s.store.pool)
                .await
                .unwrap();
            let (_, accepted) = ingest::accept(&bacopilot::retrieval::routes::ingest(&s), &pid, "expense-policy.md", POLICY.as_bytes().to_vec())
                .await
                .unwrap();
            while docs::get(&s.store.pool, &accepted.id).await.unwrap().status == "processing" {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let request = NewSrs {
                brief: BRIEF.into(),
                title: Some("Expense claims".into()),
                document_ids: None,
                clarify: false,
                clarifications: Vec::new(),
            };
            let started = Instant::now();
            let job = runs::start(&bacopilot::srs::routes::handles(&s), &pid, request, "bench")
                .await
                .unwrap();
            let job = loop {
                let j = s.jobs.get(&job.job_id).await.unwrap();
                if j.is_finished() {
                    break j;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            let secs = started.elapsed().as_secs_f64();
            assert_eq!(job.status, "succeeded", "{}", job.message);
            let sid = job.result["srs_id"].as_str().unwrap();
            let srs = bacopilot::srs::store::load(&s.store.pool, sid, None).await.unwrap();
            println!(
                "srs run {run}: {secs:.1} s, {} requirements in {} sections, lint score {} ({} findings); {}",
                srs.requirements().count(),
                srs.sections.len(),
                srs.lint.score,
                srs.lint.findings.len(),
                job.message
            );
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
