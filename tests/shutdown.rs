//! Stopping the real process: SIGTERM mid-stream gives the client a final
//! `server_shutdown` event within the drain deadline and the process exits
//! 0; `kill -9` mid-ingest and mid-generation leaves a data directory that
//! starts, passes `PRAGMA integrity_check` and keeps everything committed,
//! the interrupted document indexed again and the generation job failed
//! with a reason.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{MINILM, SMOL, SMOL_ID};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};

struct Process {
    child: Child,
    base: String,
    client: reqwest::Client,
}

impl Process {
    /// Starts `bacopilot serve` on `data` and waits until it is ready.
    async fn start(models: &Path, data: &Path, key: &str, drain_secs: u64) -> Process {
        let port = common::free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_bacopilot"))
            .args(["--data-dir", data.to_str().unwrap()])
            .args(["--models-dir", models.to_str().unwrap()])
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("BACOPILOT_SERVER_DRAIN_SECS", drain_secs.to_string())
            .env("BACOPILOT_LIMITS_WRITE_PER_MINUTE", "10000")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let p = Process {
            child,
            base: format!("http://127.0.0.1:{port}"),
            client: common::client_with_key(key),
        };
        let started = Instant::now();
        loop {
            let ready = p.client.get(p.url("/readyz")).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return p;
            }
            assert!(started.elapsed() < Duration::from_secs(180), "never ready");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, sig) }, 0);
    }

    /// The exit status once the process ends, or panics after `limit`.
    fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(start.elapsed() < limit, "still running after {limit:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    async fn json(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn scratch(tag: &str) -> (PathBuf, PathBuf) {
    let models = common::models_dir(&format!("shutdown-{tag}"), &[SMOL, MINILM]);
    let data = models.join("data");
    (models, data)
}

async fn integrity_ok(data: &Path) {
    let pool = common::Stores::open_writable(data).await;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_stream_ends_the_stream_with_a_final_event_and_exits_zero() {
    let (models, data) = scratch("sigterm");
    let key = common::admin_key(&data).await;
    let mut p = Process::start(&models, &data, &key, 2).await;
    let body = json!({
        "model": SMOL_ID,
        "messages": [{"role": "user", "content": "Write a very long story about a lighthouse keeper."}],
        "max_tokens": 4000,
        "temperature": 0.8,
        "stream": true,
    });
    let r = p
        .client
        .post(p.url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut chunks = r.bytes_stream();
    let mut text = String::new();
    while !text.contains("data: {") {
        text.push_str(&String::from_utf8_lossy(
            &chunks.next().await.unwrap().unwrap(),
        ));
    }
    let signalled = Instant::now();
    p.signal(libc::SIGTERM);
    // A new client is not served once the server is stopping (the signal
    // takes a moment to arrive on a busy machine).
    let mut refused = false;
    for _ in 0..50 {
        let late = reqwest::Client::new().get(p.url("/healthz")).send().await;
        if late.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "new connections are still accepted");
    while let Some(chunk) = chunks.next().await {
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    let cut_after = signalled.elapsed();
    let events = common::sse_events(&text);
    let (name, last) = events.last().unwrap();
    assert_eq!(name, "error", "{text}");
    assert_eq!(last["error"]["type"], "server_shutdown", "{last}");
    assert!(!text.contains("[DONE]"), "the stream was cut, not finished");
    let status = p.wait(Duration::from_secs(30));
    assert!(status.success(), "exit status {status:?}");
    println!("stream cut {cut_after:?} after SIGTERM (drain 2 s); process exited 0");
    integrity_ok(&data).await;
}

/// A document long enough that its ingest is still running when killed.
fn long_document() -> (Vec<u8>, String) {
    let mut text = String::from("# Operations handbook\n\n");
    for i in 0..400 {
        text.push_str(&format!(
            "## Procedure {i}\n\nStep {i}: the shift lead checks valve {} and logs the pressure reading in the plant register before handover.\n\n",
            1000 + i
        ));
    }
    let fact = "the shift lead checks valve 1399 and logs the pressure reading".to_string();
    (text.into_bytes(), fact)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_ingest_then_restart_indexes_the_document_again_and_loses_nothing() {
    let (models, data) = scratch("kill-ingest");
    let key = common::admin_key(&data).await;
    let mut p = Process::start(&models, &data, &key, 10).await;
    let (_, project) = p
        .json(
            reqwest::Method::POST,
            "/api/v1/projects",
            Some(json!({"name": "Plant"})),
        )
        .await;
    let pid = project["id"].as_str().unwrap().to_string();
    let small = b"# Shifts\n\nThe night shift starts at 22:00.\n".to_vec();
    let upload = |name: &str, bytes: Vec<u8>| {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
        p.client
            .post(p.url(&format!("/api/v1/projects/{pid}/documents")))
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
    };
    let r = upload("shifts.md", small).await.unwrap();
    let committed: Value = r.json().await.unwrap();
    let committed_id = committed["id"].as_str().unwrap().to_string();
    let settled = |p: &Process, id: String| {
        let (client, url) = (p.client.clone(), p.url(&format!("/api/v1/documents/{id}")));
        async move {
            for _ in 0..1800 {
                let d: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
                if d["status"] != "processing" {
                    return d;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("never settled");
        }
    };
    assert_eq!(settled(&p, committed_id.clone()).await["status"], "ready");

    let (bytes, fact) = long_document();
    let r = upload("handbook.md", bytes).await.unwrap();
    assert_eq!(r.status(), 202);
    let doc: Value = r.json().await.unwrap();
    let (id, job) = (
        doc["id"].as_str().unwrap().to_string(),
        doc["job_id"].as_str().unwrap().to_string(),
    );
    // Killed once embedding has started.
    loop {
        let (_, j) = p
            .json(reqwest::Method::GET, &format!("/api/v1/jobs/{job}"), None)
            .await;
        assert!(
            j["status"] != "succeeded",
            "ingest finished before the kill: {j}"
        );
        if j["progress"].as_f64().unwrap_or(0.0) > 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    p.signal(libc::SIGKILL);
    p.wait(Duration::from_secs(10));
    integrity_ok(&data).await;

    let p = Process::start(&models, &data, &key, 10).await;
    let doc = settled(&p, id.clone()).await;
    assert_eq!(
        doc["status"], "ready",
        "the interrupted document resumed: {doc}"
    );
    assert_ne!(doc["job_id"], job.as_str(), "a new job indexed it");
    let stores = common::Stores::open(&data).await;
    let chunks = stores
        .sqlite_count("SELECT count(*) FROM chunks WHERE document_id = ?1", &id)
        .await;
    assert!(chunks > 10);
    assert_eq!(
        stores.lance_count(&format!("document_id = '{id}'")).await as i64,
        chunks,
        "no vectors twice"
    );
    let (_, hits) = p
        .json(
            reqwest::Method::GET,
            &format!("/api/v1/projects/{pid}/search?q={}", fact.replace(' ', "+")),
            None,
        )
        .await;
    assert!(hits.to_string().contains("valve 1399"), "{hits}");
    assert_eq!(
        settled(&p, committed_id).await["status"],
        "ready",
        "committed before the kill"
    );
    let (_, old) = p
        .json(reqwest::Method::GET, &format!("/api/v1/jobs/{job}"), None)
        .await;
    assert_eq!(old["status"], "failed");
    assert!(
        old["message"].as_str().unwrap().contains("interrupted"),
        "{old}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_generation_fails_the_job_with_a_reason_and_keeps_the_project() {
    let (models, data) = scratch("kill-generation");
    let key = common::admin_key(&data).await;
    let mut p = Process::start(&models, &data, &key, 10).await;
    let (_, project) = p
        .json(
            reqwest::Method::POST,
            "/api/v1/projects",
            Some(json!({"name": "Portal"})),
        )
        .await;
    let pid = project["id"].as_str().unwrap().to_string();
    let (status, started) = p
        .json(
            reqwest::Method::POST,
            &format!("/api/v1/projects/{pid}/srs"),
            Some(json!({"brief": "A customer portal where clients upload invoices and track their approval."})),
        )
        .await;
    assert_eq!(status, 202, "{started}");
    let job = started["job_id"].as_str().unwrap().to_string();
    // Killed once the model is writing the document.
    let mut j = Value::Null;
    for _ in 0..300 {
        j = p
            .json(reqwest::Method::GET, &format!("/api/v1/jobs/{job}"), None)
            .await
            .1;
        if j["status"] == "running" && j["progress"].as_f64().unwrap_or(0.0) > 0.0 {
            break;
        }
        assert!(j["status"] == "running" || j["status"] == "queued", "{j}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(j["status"], "running", "{j}");
    p.signal(libc::SIGKILL);
    p.wait(Duration::from_secs(10));
    integrity_ok(&data).await;

    let p = Process::start(&models, &data, &key, 10).await;
    let (_, j) = p
        .json(reqwest::Method::GET, &format!("/api/v1/jobs/{job}"), None)
        .await;
    assert_eq!(j["status"], "failed", "{j}");
    assert!(
        j["message"].as_str().unwrap().contains("interrupted"),
        "{j}"
    );
    let (status, project) = p
        .json(
            reqwest::Method::GET,
            &format!("/api/v1/projects/{pid}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(project["name"], "Portal");
    let (_, list) = p
        .json(
            reqwest::Method::GET,
            &format!("/api/v1/projects/{pid}/srs"),
            None,
        )
        .await;
    assert_eq!(
        list["data"].as_array().map(Vec::len),
        Some(0),
        "no half-written SRS: {list}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_gives_an_open_websocket_the_final_event_and_a_going_away_close() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::Message;
    let (models, data) = scratch("sigterm-ws");
    let key = common::admin_key(&data).await;
    // No drain time: the answer is cut at once.
    let mut p = Process::start(&models, &data, &key, 0).await;
    let (_, project) = p
        .json(
            reqwest::Method::POST,
            "/api/v1/projects",
            Some(json!({"name": "Sockets"})),
        )
        .await;
    let pid = project["id"].as_str().unwrap();
    let (_, conv) = p
        .json(
            reqwest::Method::POST,
            &format!("/api/v1/projects/{pid}/conversations"),
            Some(json!({})),
        )
        .await;
    let url = p
        .url(&format!(
            "/api/v1/conversations/{}/ws",
            conv["id"].as_str().unwrap()
        ))
        .replacen("http", "ws", 1);
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {key}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let ask = json!({"content": "Tell a long story about a lighthouse keeper.", "mode": "free"});
    ws.send(Message::Text(ask.to_string().into()))
        .await
        .unwrap();
    loop {
        let frame = ws.next().await.unwrap().unwrap();
        let v: Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
        assert_ne!(v["event"], "done", "the answer ended before the signal");
        if v["event"] == "token" {
            break;
        }
    }
    p.signal(libc::SIGTERM);
    let (mut last_event, mut close) = (Value::Null, None);
    while let Some(Ok(frame)) = ws.next().await {
        match frame {
            Message::Text(t) => last_event = serde_json::from_str(&t).unwrap(),
            Message::Close(c) => {
                close = c;
                break;
            }
            _ => {}
        }
    }
    assert_eq!(last_event["event"], "error", "{last_event}");
    assert_eq!(last_event["data"]["error"]["type"], "server_shutdown");
    assert_eq!(close.map(|c| c.code), Some(CloseCode::Away));
    assert!(p.wait(Duration::from_secs(30)).success());
}
