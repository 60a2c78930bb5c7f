//! What the router costs. Prints, side by side in one run on the same
//! machine: time to first token of a streamed local answer over HTTP from a
//! server with no providers and from one with a chat chain
//! (`local`, then an upstream); the time an answer takes through an
//! upstream when the first target of the chain is down (connection
//! refused: its attempts and backoff, then the next target), against the
//! same answer with the live target alone; and the same once the down
//! target's breaker has opened.
//!
//!   cargo bench --bench router [-- --rounds 30]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use bacopilot::generation::route::{Allowed, Caller, Target};
use serde_json::{json, Value};

fn arg(name: &str) -> Option<String> {
    std::env::args().skip_while(|a| a != name).nth(1)
}

/// Milliseconds from sending a streamed request to its first content chunk.
async fn first_token(s: &common::TestServer, body: &Value) -> f64 {
    let started = Instant::now();
    let mut res = s
        .client()
        .post(s.url("/v1/chat/completions"))
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut text = String::new();
    while let Some(chunk) = res.chunk().await.unwrap() {
        text.push_str(&String::from_utf8_lossy(&chunk));
        if text.contains("\"content\":\"") && !text.ends_with("\"content\":\"\"}") {
            break;
        }
    }
    started.elapsed().as_secs_f64() * 1000.0
}

fn stats(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[v.len() / 2], v[(v.len() * 9 / 10).min(v.len() - 1)])
}

fn main() {
    let rounds: usize = arg("--rounds").and_then(|r| r.parse().ok()).unwrap_or(30);
    let models = [common::SMOL, common::MINILM];
    let up = common::start(&common::models_dir("bench-router-up", &models), |_| {});
    let key_file = up.data_dir.join("bench.key");
    std::fs::write(&key_file, &up.key).unwrap();
    let live = format!("{}/v1", up.base);
    let down = format!("http://127.0.0.1:{}/v1", common::free_port());
    let plain = common::start(&common::models_dir("bench-router-plain", &models), |c| {
        c.cache.local = true;
    });
    let chained = common::start(&common::models_dir("bench-router-chained", &models), |c| {
        c.providers = vec![
            common::upstream_provider("down", &down, &key_file, &[common::SMOL_ID]),
            common::upstream_provider("lan", &live, &key_file, &[common::SMOL_ID]),
        ];
        c.routing.chat = vec!["local".into(), "down".into(), "lan".into()];
        c.routing.probe_interval_secs = 3600;
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let body = json!({"model": common::SMOL_ID, "stream": true, "max_tokens": 2,
            "messages": [{"role": "user", "content": "Say hello."}]});
        for s in [&plain, &chained] {
            first_token(s, &body).await; // warm the prefix cache and connections
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            a.push(first_token(&plain, &body).await);
            b.push(first_token(&chained, &body).await);
        }
        let ((a50, a90), (b50, b90)) = (stats(a), stats(b));
        println!("router benchmark, {rounds} rounds, {}", common::SMOL_ID);
        println!("| local answer, time to first token | median ms | p90 ms |");
        println!("|---|---|---|");
        println!("| no providers configured | {a50:.2} | {a90:.2} |");
        println!("| chat chain local → down → lan | {b50:.2} | {b90:.2} |");
        println!(
            "| added by the router | {:.2} | {:.2} |",
            b50 - a50,
            b90 - a90
        );

        // The response cache: a whole greedy answer, then the same request.
        let (mut misses, mut hits) = (Vec::new(), Vec::new());
        for i in 0..rounds {
            let body = json!({"model": common::SMOL_ID, "temperature": 0, "max_tokens": 32,
                "messages": [{"role": "user", "content": format!("Describe room {i} briefly.")}]});
            for times in [&mut misses, &mut hits] {
                let started = Instant::now();
                let r = plain
                    .client()
                    .post(plain.url("/v1/chat/completions"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                r.bytes().await.unwrap();
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        let ((m50, _), (h50, h90)) = (stats(misses), stats(hits));
        println!();
        println!("| whole greedy answer (up to 32 tokens) | median ms | p90 ms |");
        println!("|---|---|---|");
        println!("| generated (cache miss) | {m50:.1} | |");
        println!("| from the response cache (hit) | {h50:.2} | {h90:.2} |");
    });
    drop(rt);

    // Failover, measured on the router itself (the same code path the
    // features and /v1 take), against the upstream server above.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut config = bacopilot::config::Config::default();
        let dir = common::models_dir("bench-router-failover", &models);
        config.models.dir = dir.clone();
        config.server.data_dir = dir.join("data");
        config.providers = vec![
            common::upstream_provider("down", &down, &key_file, &[common::SMOL_ID]),
            common::upstream_provider("lan", &live, &key_file, &[common::SMOL_ID]),
        ];
        config.routing.probe_interval_secs = 3600;
        let state = bacopilot::app::start(config).await.unwrap();
        let g = &state.generation;
        let target = |n: &str| g.upstream_target(n, &Allowed::Any).unwrap();
        let caller = Caller {
            user: "bench".into(),
            address: "bench".into(),
            project: None,
            role: "api",
        };
        let body =
            json!({"max_tokens": 2, "messages": [{"role": "user", "content": "Say hello."}]});
        let time = |targets: Vec<Target>| {
            let (body, caller) = (body.clone(), caller.clone());
            async move {
                let started = Instant::now();
                g.call_upstreams(&targets, &body, &caller)
                    .await
                    .map(|_| ())
                    .unwrap();
                started.elapsed().as_secs_f64() * 1000.0
            }
        };
        time(vec![target("lan")]).await;
        let mut direct = Vec::new();
        for _ in 0..5 {
            direct.push(time(vec![target("lan")]).await);
        }
        let mut failover = Vec::new();
        let (lan, dead) = (target("lan"), target("down"));
        for _ in 0..2 {
            failover.push(time(vec![dead.clone(), lan.clone()]).await);
        }
        // Two calls of two attempts: the breaker (3 failures) is open now.
        let mut skipped = Vec::new();
        for _ in 0..5 {
            skipped.push(time(vec![dead.clone(), lan.clone()]).await);
        }
        println!();
        println!("| answer through the upstream (2 tokens) | median ms |");
        println!("|---|---|");
        println!("| live target alone | {:.1} |", stats(direct).0);
        println!(
            "| first target down (2 attempts, 200 ms backoff), then live | {:.1} |",
            stats(failover).0
        );
        println!(
            "| first target down with its breaker open | {:.1} |",
            stats(skipped).0
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    });
}
