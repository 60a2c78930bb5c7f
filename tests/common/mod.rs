//! A real server on a real socket for integration tests, with the real models.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use bacopilot::config::Config;
use serde_json::{json, Value};

pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The real model files; the tests need them (run scripts/fetch-models.sh).
pub fn model_path(name: &str) -> PathBuf {
    let p = repo_dir().join("models").join(name);
    assert!(
        p.exists(),
        "{} is missing: run scripts/fetch-models.sh",
        p.display()
    );
    p
}

pub const SMOL: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
pub const SMOL_ID: &str = "SmolLM2-135M-Instruct-Q4_1";
pub const GEMMA: &str = "gemma-3-270m-q4_k_m.gguf";
pub const GEMMA_ID: &str = "gemma-3-270m-q4_k_m";
pub const MINILM: &str = "all-MiniLM-L6-v2";

/// A fresh models directory holding hard links to the named real models
/// (the server skips symlinks that lead out of its models directory).
pub fn models_dir(tag: &str, models: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bacopilot-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for m in models {
        link_tree(&model_path(m), &dir.join(m));
    }
    dir
}

/// Hard-links `src` (a file, or a folder's files) at `dest`; copies where
/// the two are on different file systems.
fn link_tree(src: &Path, dest: &Path) {
    if src.is_dir() {
        std::fs::create_dir_all(dest).unwrap();
        for entry in std::fs::read_dir(src).unwrap() {
            let entry = entry.unwrap();
            link_tree(&entry.path(), &dest.join(entry.file_name()));
        }
    } else if std::fs::hard_link(src, dest).is_err() {
        std::fs::copy(src, dest).unwrap();
    }
}

pub struct TestServer {
    pub base: String,
    pub data_dir: PathBuf,
    /// A full-scope API key of the administrator `admin`.
    pub key: String,
    /// The one-time setup token, when the server started with no users.
    pub setup_token: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin password 1";

/// Makes sure the administrator `admin` exists in `data_dir` (as an operator
/// would with `bacopilot users add`) and returns a new full-scope key of theirs.
pub async fn admin_key(data_dir: &Path) -> String {
    use bacopilot::auth::{keys, users, Role, Scope};
    std::fs::create_dir_all(data_dir).unwrap();
    let store = bacopilot::store::Store::open(data_dir).await.unwrap();
    let admin = match users::by_name(&store.pool, ADMIN).await.unwrap() {
        Some(u) => u,
        None => users::create(
            &store.pool,
            users::NewUser {
                name: ADMIN.into(),
                role: Role::Admin,
                password: ADMIN_PASSWORD.into(),
            },
        )
        .await
        .unwrap(),
    };
    let key = keys::create(&store.pool, &admin.id, "tests", Scope::Full, None)
        .await
        .unwrap();
    store.pool.close().await;
    key.key
}

/// Starts the server on 127.0.0.1 with an OS-chosen port in a thread of its own
/// (so it outlives each test's runtime) and waits until `/readyz` is 200. The
/// administrator `admin` is created first (see [`admin_key`]); rate limits
/// are high unless `tweak` lowers them.
pub fn start(models_dir: &Path, tweak: impl FnOnce(&mut Config)) -> TestServer {
    start_with(models_dir, true, tweak)
}

/// [`start`], optionally with no users at all (the first-start setup link).
pub fn start_with(
    models_dir: &Path,
    with_admin: bool,
    tweak: impl FnOnce(&mut Config),
) -> TestServer {
    launch(models_dir, with_admin, false, tweak)
}

/// [`start`] for a server configured for TLS: ready once it accepts
/// connections (the plain-HTTP readiness probe cannot speak TLS).
pub fn start_tls(models_dir: &Path, tweak: impl FnOnce(&mut Config)) -> TestServer {
    launch(models_dir, true, true, tweak)
}

/// The servers' warnings and errors go to the real stderr, not the test's
/// captured output: a server outlives the test that started it, and a 500
/// in CI is then explained by the log line above it. `BACOPILOT_TEST_LOG`
/// takes a tracing filter (e.g. `debug`) to see more.
fn log_to_stderr() {
    static LOGS: std::sync::Once = std::sync::Once::new();
    LOGS.call_once(|| {
        let filter = std::env::var("BACOPILOT_TEST_LOG").unwrap_or_else(|_| "warn".into());
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .try_init();
    });
}

fn launch(
    models_dir: &Path,
    with_admin: bool,
    tls: bool,
    tweak: impl FnOnce(&mut Config),
) -> TestServer {
    log_to_stderr();
    let mut config = Config::default();
    config.models.dir = models_dir.to_path_buf();
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.server.data_dir = models_dir.join("data");
    config.limits.inference_per_minute = 100_000;
    config.limits.write_per_minute = 100_000;
    config.limits.read_per_minute = 100_000;
    // The server runs inside this test binary, which is not `bacopilot`:
    // documents are read by the real binary that cargo built for the tests.
    config.documents.extract_worker = PathBuf::from(env!("CARGO_BIN_EXE_bacopilot"));
    // Tests of the engine ask the same greedy question twice on purpose;
    // the response cache is switched on by the tests of the cache.
    config.cache.local = false;
    tweak(&mut config);
    let data_dir = config.server.data_dir.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let key = if with_admin {
                admin_key(&config.server.data_dir).await
            } else {
                String::new()
            };
            let listener = bacopilot::server::bind(&config).await.unwrap();
            let addr = axum::serve::Listener::local_addr(&listener).unwrap();
            let state = bacopilot::app::start(config).await.unwrap();
            tx.send((addr, key, state.auth.setup_token())).unwrap();
            bacopilot::app::run(state, listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
    });
    let (addr, key, setup_token) = rx.recv().unwrap();
    let base = format!("http://{addr}");
    for _ in 0..600 {
        let ready = if tls {
            std::net::TcpStream::connect(addr).is_ok()
        } else {
            probe_status(&addr.to_string(), "/readyz") == Some(200)
        };
        if ready {
            return TestServer {
                base,
                data_dir,
                key,
                setup_token,
                stop: Some(stop),
                thread: Some(thread),
            };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("server at {base} never became ready");
}

impl TestServer {
    /// Shuts the server down and waits until its runtime (and every task on
    /// it: jobs, the database pool) is gone, as a process exit would.
    pub fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

/// Status of a GET over a raw socket, so `start` needs no async runtime.
fn probe_status(host: &str, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(host).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    buf.split_whitespace().nth(1)?.parse().ok()
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client that sends the administrator's API key.
    pub fn client(&self) -> reqwest::Client {
        client_with_key(&self.key)
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .client()
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// POSTs `body` and returns the raw response text (an SSE stream, say).
    pub async fn post_text(&self, path: &str, body: &Value) -> String {
        self.client()
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Uploads `bytes` as the multipart field `file` named `name`.
    pub async fn upload(&self, project: &str, name: &str, bytes: Vec<u8>) -> (u16, Value) {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
        // Browsers send the name as it is (no percent-encoding); so do we, so
        // hostile names reach the server unaltered.
        let form = reqwest::multipart::Form::new()
            .percent_encode_noop()
            .part("file", part);
        let r = self
            .client()
            .post(self.url(&format!("/api/v1/projects/{project}/documents")))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A new project's id.
    pub async fn project(&self, name: &str) -> String {
        let (status, body) = self
            .post("/api/v1/projects", serde_json::json!({"name": name}))
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// Uploads a document and waits until its ingest finished; returns the document.
    pub async fn ingest(&self, project: &str, name: &str, bytes: Vec<u8>) -> Value {
        let (status, body) = self.upload(project, name, bytes).await;
        assert_eq!(status, 202, "{body}");
        self.document_when_settled(body["id"].as_str().unwrap())
            .await
    }

    /// The document once it is no longer `processing`.
    pub async fn document_when_settled(&self, id: &str) -> Value {
        for _ in 0..1200 {
            let (status, doc) = self.get(&format!("/api/v1/documents/{id}")).await;
            assert_eq!(status, 200, "{doc}");
            if doc["status"] != "processing" {
                return doc;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("document {id} never finished ingest");
    }

    pub async fn delete(&self, path: &str) -> u16 {
        self.client()
            .delete(self.url(path))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.client().get(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Job `jid` once it has finished (succeeded, failed or cancelled);
    /// panics if it runs longer than `limit`.
    pub async fn finished_job(&self, jid: &str, limit: Duration) -> Value {
        let start = std::time::Instant::now();
        loop {
            let (status, job) = self.get(&format!("/api/v1/jobs/{jid}")).await;
            assert_eq!(status, 200, "{job}");
            if ["succeeded", "failed", "cancelled"].contains(&job["status"].as_str().unwrap()) {
                return job;
            }
            assert!(start.elapsed() < limit, "job {jid} still running: {job}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// `GET /v1/models/{id}` once the model has finished loading (or failed
    /// to): models other than the role models load on first use, so this
    /// asks for the load (`POST /api/v1/admin/models/{id}/load` waits for it).
    pub async fn model_when_settled(&self, id: &str) -> (u16, Value) {
        let (status, body) = self
            .post(&format!("/api/v1/admin/models/{id}/load"), json!({}))
            .await;
        assert!(
            [200, 503].contains(&status),
            "loading {id}: {status} {body}"
        );
        self.get(&format!("/v1/models/{id}")).await
    }

    /// The audit rows for `action` whose target is `target`, newest first.
    pub async fn audited(&self, action: &str, target: &str) -> Vec<Value> {
        let r = self
            .client()
            .get(self.url("/api/v1/audit"))
            .query(&[("action", action), ("limit", "1000")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let rows: Value = r.json().await.unwrap();
        rows["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row["action"] == action && row["target"] == target)
            .cloned()
            .collect()
    }

    pub async fn metric(&self, name: &str) -> f64 {
        let text = self
            .client()
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        metric_in(&text, name).unwrap_or(0.0)
    }
}

/// The value of the metric line `name value` in a `/metrics` text.
pub fn metric_in(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
        .map(|v| v.trim().parse().unwrap())
}

/// A client that sends `key` as `Authorization: Bearer`.
pub fn client_with_key(key: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {key}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// A greedy SmolLM2 chat request with a system prompt, then `extra`'s fields.
pub fn chat_body(system: &str, content: &str, max_tokens: u32, extra: Value) -> Value {
    let mut body = serde_json::json!({
        "model": SMOL_ID,
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": content}
        ],
        "temperature": 0,
        "max_tokens": max_tokens,
    });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

/// `(event, data)` pairs of a complete SSE body.
pub fn sse_events(body: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut event = String::from("message");
    for line in body.lines() {
        if let Some(e) = line.strip_prefix("event: ") {
            event = e.to_string();
        } else if let Some(d) = line.strip_prefix("data: ") {
            out.push((
                event.clone(),
                serde_json::from_str(d).unwrap_or(Value::Null),
            ));
            event = String::from("message");
        }
    }
    out
}

/// Direct views of the two stores in a server's data directory, to check
/// what was stored (or not) behind the API.
pub struct Stores {
    pub sqlite: sqlx::SqlitePool,
    pub lance: lancedb::Connection,
}

impl Stores {
    pub async fn open(data_dir: &Path) -> Stores {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(data_dir.join("bacopilot.db"))
            .read_only(true);
        Stores {
            sqlite: sqlx::SqlitePool::connect_with(options).await.unwrap(),
            lance: lancedb::connect(&data_dir.join("lancedb").to_string_lossy())
                .execute()
                .await
                .unwrap(),
        }
    }

    /// A read-write connection to the server's database, for tests that
    /// play the part of time passing or of someone editing the file.
    pub async fn open_writable(data_dir: &Path) -> sqlx::SqlitePool {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(data_dir.join("bacopilot.db"))
            .busy_timeout(Duration::from_secs(10));
        sqlx::SqlitePool::connect_with(options).await.unwrap()
    }

    pub async fn sqlite_count(&self, sql: &str, arg: &str) -> i64 {
        sqlx::query_scalar(sql)
            .bind(arg)
            .fetch_one(&self.sqlite)
            .await
            .unwrap()
    }

    /// LanceDB rows matching `filter` (0 when the table does not exist yet).
    pub async fn lance_count(&self, filter: &str) -> usize {
        match self.lance.open_table("chunks").execute().await {
            Ok(t) => t.count_rows(Some(filter.to_string())).await.unwrap(),
            Err(_) => 0,
        }
    }
}

/// The `data:` payloads of a complete SSE body.
pub fn sse_data(body: &str) -> Vec<String> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(str::to_string)
        .collect()
}

/// Every text a wireframe's JSON shows: screen titles, labels, items,
/// columns, options and table cells. The tests and the content benchmark
/// judge a wireframe by these.
pub fn wireframe_texts(w: &Value) -> Vec<String> {
    fn strings(v: &Value) -> impl Iterator<Item = String> + '_ {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(String::from))
    }
    fn walk(out: &mut Vec<String>, list: &Value) {
        for c in list.as_array().into_iter().flatten() {
            out.extend(c["label"].as_str().map(String::from));
            for key in ["items", "columns", "options"] {
                out.extend(strings(&c["props"][key]));
            }
            for row in c["props"]["rows"].as_array().into_iter().flatten() {
                out.extend(strings(row));
            }
            walk(out, &c["children"]);
        }
    }
    let mut out = Vec::new();
    for s in w["screens"].as_array().into_iter().flatten() {
        out.extend(s["title"].as_str().map(String::from));
        walk(&mut out, &s["components"]);
    }
    out.retain(|t| !t.trim().is_empty());
    out
}

/// Whether every word of `expected` (but the small ones) is in one of
/// `texts`, case, plurals and possessives folded: an asked-for label shown.
pub fn label_shown(texts: &[String], expected: &str) -> bool {
    use bacopilot_content::screen::fold;
    use bacopilot_content::text::{is_stopword, word_keys};
    let want: Vec<String> = word_keys(expected)
        .iter()
        .filter(|w| !is_stopword(w))
        .map(|w| fold(w))
        .collect();
    texts.iter().any(|t| {
        let have: Vec<String> = word_keys(t).iter().map(|w| fold(w)).collect();
        want.iter().all(|w| have.contains(w))
    })
}

/// A port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An OpenAI-compatible provider entry serving `models`, its key in `key_file`.
pub fn upstream_provider(
    name: &str,
    base_url: &str,
    key_file: &Path,
    models: &[&str],
) -> bacopilot::config::ProviderConfig {
    let mut p: bacopilot::config::ProviderConfig = toml::from_str(&format!(
        "name = \"{name}\"\nkind = \"openai-compatible\"\nbase_url = \"{base_url}\"\n"
    ))
    .unwrap();
    p.api_key_file = key_file.display().to_string();
    p.models = models.iter().map(|m| m.to_string()).collect();
    p
}

/// Runs the `bacopilot` binary cargo built for the tests; answers whether it
/// succeeded and what it printed (standard output, then standard error).
pub fn cli(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bacopilot"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
