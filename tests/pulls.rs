//! Pulling a model from a hub while the server serves: an administrator
//! starts a pull over HTTP from a hub mirror on a real socket (as
//! `models.hub_endpoint` names it), follows its progress, and the model is
//! served once its SHA-256 checks out. A download that is cut off, cancelled
//! or corrupt never shows up as a model and leaves nothing behind.

mod common;
#[path = "common/hub.rs"]
mod hub;

use std::path::Path;
use std::time::{Duration, Instant};

use hub::{Hub, HubFile};
use serde_json::{json, Value};

use common::{MINILM, SMOL};

/// Polls the pull until `done(pull)`.
async fn pull_until(
    server: &common::TestServer,
    id: &str,
    mut done: impl FnMut(&Value) -> bool,
    mut meanwhile: impl FnMut(),
) -> Value {
    let start = Instant::now();
    loop {
        let (status, pull) = server.get(&format!("/api/v1/admin/pulls/{id}")).await;
        assert_eq!(status, 200, "{pull}");
        if done(&pull) {
            return pull;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "pull stuck: {pull}"
        );
        meanwhile();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn ended(pull: &Value) -> bool {
    !pull["finished"].is_null()
}

/// Every entry in the models directory except the embedding model's folder
/// and the test server's data directory.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != MINILM && n != "data")
        .collect();
    names.sort();
    names
}

async fn served_ids(server: &common::TestServer) -> Vec<String> {
    let (status, models) = server.get("/v1/models").await;
    assert_eq!(status, 200);
    let mut ids: Vec<String> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    let (_, admin) = server.get("/api/v1/admin/models").await;
    ids.extend(
        admin["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string()),
    );
    ids
}

#[tokio::test]
async fn a_pulled_model_is_checked_then_served_without_a_restart() {
    let hub = Hub::start().await;
    let bytes = std::fs::read(common::model_path(SMOL)).unwrap();
    let size = bytes.len() as u64;
    let file = HubFile::new(bytes);
    let sha = file.listed_sha256.clone();
    hub.add("mirror/smol-pulled", "smol-pulled.Q4_1.gguf", file);
    let dir = common::models_dir("pull-ok", &[SMOL, MINILM]);
    let url = hub.url.clone();
    let server = common::start(&dir, move |c| {
        c.models.hub_endpoint = url;
        c.models.max_context = 512;
    });

    // No file named: the repository's only GGUF is chosen.
    let (status, started) = server
        .post("/api/v1/admin/pulls", json!({"repo": "mirror/smol-pulled"}))
        .await;
    assert_eq!(status, 202, "{started}");
    let id = started["id"].as_str().unwrap();
    let pull = pull_until(&server, id, ended, || {}).await;
    assert_eq!(pull["state"], "done", "{pull}");
    assert_eq!(pull["file"], "smol-pulled.Q4_1.gguf");
    assert_eq!(pull["received_bytes"], size);
    assert_eq!(pull["total_bytes"], size);
    assert_eq!(pull["sha256"], sha.as_str());
    assert_eq!(pull["model"], "smol-pulled-Q4_1");
    assert_eq!(files_in(&dir), [SMOL, "smol-pulled.Q4_1.gguf"]);

    // Served at once, and it answers.
    assert!(served_ids(&server)
        .await
        .contains(&"smol-pulled-Q4_1".to_string()));
    let (status, answer) = server
        .post(
            "/v1/chat/completions",
            common::chat_body(
                "You are a helpful assistant.",
                "Name one colour.",
                8,
                json!({"model": "smol-pulled-Q4_1", "temperature": 0}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["model"], "smol-pulled-Q4_1");
    let text = answer["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(!text.trim().is_empty(), "{answer}");

    // Audited: who asked, and what the pull installed.
    assert_eq!(
        server
            .audited("model.pull", "mirror/smol-pulled")
            .await
            .len(),
        1
    );
    let end = server.audited("model.pull.end", id).await;
    assert_eq!(end[0]["details"]["model"], "smol-pulled-Q4_1", "{end:?}");
    assert_eq!(end[0]["details"]["sha256"], sha.as_str());

    // Pulling it again would overwrite the model: refused.
    let (status, again) = server
        .post(
            "/api/v1/admin/pulls",
            json!({"repo": "mirror/smol-pulled", "file": "smol-pulled.Q4_1.gguf"}),
        )
        .await;
    assert_eq!(status, 409, "{again}");
    server.stop();
}

#[tokio::test]
async fn a_half_downloaded_cancelled_or_corrupt_pull_never_shows_up_as_a_model() {
    let hub = Hub::start().await;
    let bytes: Vec<u8> = (0..4u32 << 20).map(|i| (i * 7 % 251) as u8).collect();
    let cut = HubFile {
        cut_in_half: true,
        ..HubFile::new(bytes.clone())
    };
    hub.add("mirror/big", "half.gguf", cut.clone());
    hub.add("mirror/big", "cancelled.gguf", cut);
    let mut corrupt = HubFile::new(bytes);
    corrupt.listed_sha256 = "0".repeat(64);
    hub.add("mirror/big", "corrupt.gguf", corrupt);
    let dir = common::models_dir("pull-cut", &[SMOL, MINILM]);
    let url = hub.url.clone();
    let server = common::start(&dir, move |c| c.models.hub_endpoint = url);

    let start = |file: &'static str| {
        let server = &server;
        async move {
            let (status, pull) = server
                .post(
                    "/api/v1/admin/pulls",
                    json!({"repo": "mirror/big", "file": file}),
                )
                .await;
            assert_eq!(status, 202, "{pull}");
            pull["id"].as_str().unwrap().to_string()
        }
    };

    // Half of it has arrived: it is nowhere among the models, on disk only
    // under a hidden temporary name.
    let half = start("half.gguf").await;
    let pull = pull_until(
        &server,
        &half,
        |p| p["received_bytes"].as_u64() >= Some(2 << 20),
        || {},
    )
    .await;
    assert_eq!(pull["state"], "downloading", "{pull}");
    assert_eq!(pull["total_bytes"], 4 << 20);
    server.get("/v1/models").await; // a listing reads the directory again
    let ids = served_ids(&server).await;
    assert!(!ids.iter().any(|m| m.contains("half")), "{ids:?}");
    assert_eq!(files_in(&dir), [".half.gguf.partial", SMOL]);

    // Then the connection breaks off: failed, and nothing is left.
    let pull = pull_until(&server, &half, ended, || hub.release()).await;
    assert_eq!(pull["state"], "failed", "{pull}");
    let error = pull["error"].as_str().unwrap();
    assert!(error.contains("broke off"), "{error}");
    assert_eq!(files_in(&dir), [SMOL]);

    // Cancelled mid-download: the same.
    let cancelled = start("cancelled.gguf").await;
    pull_until(
        &server,
        &cancelled,
        |p| p["received_bytes"].as_u64() > Some(0),
        || {},
    )
    .await;
    let r = server
        .client()
        .delete(server.url(&format!("/api/v1/admin/pulls/{cancelled}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let pull: Value = r.json().await.unwrap();
    assert_eq!(pull["state"], "cancelled", "{pull}");
    assert_eq!(files_in(&dir), [SMOL]);

    // All of it arrived, but its hash is not the hub's: failed, nothing left.
    let corrupt = start("corrupt.gguf").await;
    let pull = pull_until(&server, &corrupt, ended, || {}).await;
    assert_eq!(pull["state"], "failed", "{pull}");
    assert!(
        pull["error"].as_str().unwrap().contains("SHA-256"),
        "{pull}"
    );
    assert_eq!(files_in(&dir), [SMOL]);
    let ids = served_ids(&server).await;
    assert!(
        !ids.iter()
            .any(|m| m.contains("corrupt") || m.contains("cancelled")),
        "{ids:?}"
    );

    // Names that could leave the hub's paths or the models directory are
    // refused before anything is fetched; the pull list shows all three.
    for bad in [
        json!({"repo": "../etc"}),
        json!({"repo": "mirror/big", "file": "../../x.gguf"}),
        json!({"repo": "mirror/big", "file": "weights.bin"}),
    ] {
        let (status, body) = server.post("/api/v1/admin/pulls", bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (_, list) = server.get("/api/v1/admin/pulls").await;
    let states: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["failed", "cancelled", "failed"]);
    server.stop();
}
