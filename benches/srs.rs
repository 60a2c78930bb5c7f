//! SRS generation benchmark over the evaluation set (`benches/eval/srs.json`):
//! for each stakeholder document, a project with the document uploaded and
//! an SRS generated from its brief with the default models and `[srs]`
//! settings; prints, per document and per split (dev, held-out), the share
//! of the document's rules captured as requirements, degenerate texts,
//! criteria with repeated parts, invented names, the lint score and the
//! generation time.
//!
//!   cargo bench --bench srs [-- --split held-out] [-- --model gemma-3-270m-q4_k_m.gguf]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bacopilot::config::Config;
use bacopilot::retrieval::{documents as docs, ingest};
use bacopilot::srs::eval;
use bacopilot::srs::runs::{self, NewSrs};
use bacopilot::store::new_id;

const DEFAULT_MODEL: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

fn arg(name: &str) -> Option<String> {
    std::env::args().skip_while(|a| a != name).nth(1)
}

fn models_dir(model: &str) -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("bacopilot-bench-srs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for m in ["all-MiniLM-L6-v2", model] {
        let path = repo.join("models").join(m);
        assert!(path.exists(), "run scripts/fetch-models.sh first ({m})");
        std::os::unix::fs::symlink(path, dir.join(m)).unwrap();
    }
    dir
}

fn main() {
    let split = arg("--split");
    let model = arg("--model").unwrap_or_else(|| DEFAULT_MODEL.into());
    let dir = models_dir(&model);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut config = Config::default();
        config.models.dir = dir.clone();
        config.models.chat = model.clone();
        config.server.data_dir = dir.join("data");
        let s = bacopilot::app::start(config).await.unwrap();
        while !s.registry.ready_to_serve() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut totals: BTreeMap<String, (usize, usize, usize, usize, u32, f64)> = BTreeMap::new();
        for case in eval::cases() {
            if split.as_ref().is_some_and(|want| *want != case.split) {
                continue;
            }
            let pid = new_id();
            sqlx::query("INSERT INTO projects (id, name) VALUES (?1, 'bench')")
                .bind(&pid)
                .execute(&s.store.pool)
                .await
                .unwrap();
            let file = format!("{}.md", case.name);
            let handles = bacopilot::retrieval::routes::ingest(&s);
            let (_, accepted) =
                ingest::accept(&handles, &pid, &file, case.document.clone().into_bytes())
                    .await
                    .unwrap();
            while docs::get(&s.store.pool, &accepted.id).await.unwrap().status == "processing" {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let request = NewSrs {
                brief: case.brief.clone(),
                title: Some(case.name.clone()),
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
            let m = eval::measure(&srs, &case);
            println!(
                "{} {}: {}/{} rules captured, {} requirements, {} degenerate texts, \
                 {} criteria with repeated parts, invented {:?}, lint {}, {secs:.1} s; missed {:?}",
                case.split,
                case.name,
                m.captured,
                m.rules,
                m.requirements,
                m.degenerate.len(),
                m.repeated_criteria,
                m.invented,
                m.lint_score,
                m.missed
            );
            let t = totals.entry(case.split.clone()).or_insert((0, 0, 0, 0, 100, 0.0));
            t.0 += m.captured;
            t.1 += m.rules;
            t.2 += m.degenerate.len() + m.repeated_criteria;
            t.3 += m.invented.len();
            t.4 = t.4.min(m.lint_score);
            t.5 += secs;
        }
        for (split, (captured, rules, junk, invented, lint, secs)) in totals {
            println!(
                "{model} {split}: {captured}/{rules} rules captured ({:.0}%), {junk} degenerate texts \
                 or repeated criteria, {invented} invented names, lowest lint {lint}, {secs:.0} s in all",
                100.0 * captured as f64 / rules.max(1) as f64
            );
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
