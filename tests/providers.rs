//! Upstream providers over real sockets: a second `bacopilot` process (the
//! built binary, on the real default models) as an OpenAI-compatible
//! upstream, and a scripted HTTP server in this test where the upstream's
//! side must be inspected (what arrived, in which shape) or must misbehave
//! on cue.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bacopilot::config::{Config, ProviderConfig, ProviderKind};
use common::{sse_data, TestServer, MINILM, SMOL, SMOL_ID};
use serde_json::{json, Value};

const SERVED_BY: &str = "x-bacopilot-served-by";

/// A second BA Copilot, run from the binary cargo built, with its own data.
struct Upstream {
    child: Option<Child>,
    port: u16,
    key: String,
    models: PathBuf,
    data: PathBuf,
}

impl Upstream {
    async fn start(tag: &str) -> Upstream {
        let models = common::models_dir(&format!("{tag}-upstream"), &[SMOL, MINILM]);
        let data = models.join("data");
        let key = common::admin_key(&data).await;
        let mut u = Upstream {
            child: None,
            port: common::free_port(),
            key,
            models,
            data,
        };
        u.launch().await;
        u
    }

    /// Starts (or restarts, on the same port) the process; waits until ready.
    async fn launch(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_bacopilot"))
            .args(["--models-dir"])
            .arg(&self.models)
            .arg("--data-dir")
            .arg(&self.data)
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .current_dir(&self.data)
            .env("BACOPILOT_LIMITS_INFERENCE_PER_MINUTE", "100000")
            .env("BACOPILOT_LIMITS_READ_PER_MINUTE", "100000")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let ready = format!("{}/readyz", self.base());
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(180) {
            if let Ok(r) = reqwest::get(&ready).await {
                if r.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("the upstream bacopilot never became ready");
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Chat requests the upstream has answered, from its own `/metrics`.
    async fn chat_requests(&self) -> f64 {
        let text = common::client_with_key(&self.key)
            .get(format!("{}/metrics", self.base()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .filter(|l| {
                l.starts_with("bacopilot_http_requests_total{route=\"/v1/chat/completions\"")
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// A provider entry for it, its key in a file.
    fn provider(&self, name: &str) -> ProviderConfig {
        let key_file = self.data.join(format!("{name}.key"));
        std::fs::write(&key_file, &self.key).unwrap();
        common::upstream_provider(
            name,
            &format!("{}/v1", self.base()),
            &key_file,
            &[SMOL_ID, MINILM],
        )
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop();
    }
}

fn front(tag: &str, tweak: impl FnOnce(&mut Config)) -> TestServer {
    let dir = common::models_dir(tag, &[SMOL, MINILM]);
    common::start(&dir, |c| {
        c.routing.probe_interval_secs = 1;
        tweak(c)
    })
}

fn chat(model: &str, content: &str, max_tokens: u32, extra: Value) -> Value {
    let mut body = common::chat_body("You are a concise assistant.", content, max_tokens, extra);
    body["model"] = json!(model);
    body
}

/// A streamed answer of `max_tokens` tokens, headers read, body unread.
async fn long_stream(s: &TestServer, model: &str, max_tokens: u32) -> reqwest::Response {
    let body = chat(
        model,
        "Tell a long story.",
        max_tokens,
        json!({"stream": true, "ignore_eos": true}),
    );
    s.client()
        .post(s.url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn post(s: &TestServer, body: &Value) -> (u16, String, String) {
    let r = s
        .client()
        .post(s.url("/v1/chat/completions"))
        .json(body)
        .send()
        .await
        .unwrap();
    let served = r
        .headers()
        .get(SERVED_BY)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (r.status().as_u16(), served, r.text().await.unwrap())
}

#[tokio::test]
async fn a_second_bacopilot_answers_provider_model_ids_and_every_answer_names_who_answered() {
    let up = Upstream::start("named").await;
    let s = front("named", |c| {
        c.providers = vec![up.provider("lan")];
        c.cache.local = true;
    });
    let lan = format!("lan/{SMOL_ID}");

    let (_, models) = s.get("/v1/models").await;
    let listed = models["data"].as_array().unwrap();
    let entry = listed
        .iter()
        .find(|m| m["id"] == lan.as_str())
        .expect("listed");
    assert_eq!(entry["owned_by"], "lan");
    assert!(
        listed.iter().any(|m| m["id"] == SMOL_ID),
        "the local model too"
    );

    let (status, served, text) = post(&s, &chat(&lan, "Name a colour.", 16, json!({}))).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(served, lan);
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["model"], lan.as_str());
    assert!(!body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .is_empty());

    let (status, served, text) = post(&s, &chat(SMOL_ID, "Name a colour.", 8, json!({}))).await;
    assert_eq!(
        (status, served.as_str()),
        (200, format!("local/{SMOL_ID}").as_str()),
        "{text}"
    );

    // A stream passes through chunk by chunk and ends with [DONE].
    let (status, served, text) = post(
        &s,
        &chat(&lan, "Count to five.", 16, json!({"stream": true})),
    )
    .await;
    assert_eq!((status, served.as_str()), (200, lan.as_str()), "{text}");
    let data = sse_data(&text);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let content: String = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str::<Value>(d).unwrap())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(String::from)
        })
        .collect();
    assert!(!content.is_empty(), "{text}");

    // A JSON schema and tools pass through to the upstream's engine.
    let schema = json!({"type": "json_schema", "json_schema": {"name": "c", "schema": {
        "type": "object", "properties": {"colour": {"type": "string", "maxLength": 12}},
        "required": ["colour"], "additionalProperties": false}}});
    let (status, _, text) = post(
        &s,
        &chat(
            &lan,
            "Pick a colour.",
            40,
            json!({"response_format": schema}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    let out: Value =
        serde_json::from_str(body["choices"][0]["message"]["content"].as_str().unwrap()).unwrap();
    assert!(out["colour"].is_string(), "{out}");
    let tools = json!({"tools": [{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 20}}, "required": ["city"]}}}],
        "tool_choice": "required"});
    let (status, _, text) = post(&s, &chat(&lan, "Weather in Paris?", 60, tools)).await;
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "get_weather",
        "{body}"
    );

    // The same greedy request again comes from the response cache, which
    // keeps our engine's answers and (by default) not an upstream's.
    let greedy = |model: &str| chat(model, "Name a fruit.", 8, json!({"temperature": 0}));
    let cache_of = |model: String| {
        let s = &s;
        async move {
            let r = s
                .client()
                .post(s.url("/v1/chat/completions"))
                .json(&greedy(&model))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let cache = r
                .headers()
                .get("x-bacopilot-cache")
                .map(|v| v.to_str().unwrap().to_string());
            let served = r.headers()[SERVED_BY].to_str().unwrap().to_string();
            (cache, served, r.json::<Value>().await.unwrap())
        }
    };
    let (first, _, a) = cache_of(SMOL_ID.to_string()).await;
    let (second, served, b) = cache_of(SMOL_ID.to_string()).await;
    assert_eq!(
        (first.as_deref(), second.as_deref()),
        (Some("miss"), Some("hit"))
    );
    assert_eq!((a, served), (b, format!("local/{SMOL_ID}")));
    assert_eq!(
        s.metric("bacopilot_response_cache_total{outcome=\"hit\"}")
            .await,
        1.0
    );
    let (first, _, _) = cache_of(lan.clone()).await;
    let (second, _, _) = cache_of(lan.clone()).await;
    assert_eq!(
        (first, second),
        (None, None),
        "an upstream's answers are not kept"
    );

    // Embeddings pass through too.
    let r = s
        .client()
        .post(s.url("/v1/embeddings"))
        .json(&json!({"model": format!("lan/{MINILM}"), "input": ["a room", "a desk"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[SERVED_BY], format!("lan/{MINILM}").as_str());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["data"][0]["embedding"].as_array().unwrap().len(), 384);

    // A key restricted to local models sees and reaches no upstream.
    let (status, made) = s
        .post(
            "/api/v1/keys",
            json!({"name": "local only", "scope": "local"}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let local_key = common::client_with_key(made["key"].as_str().unwrap());
    let r = local_key
        .post(s.url("/v1/chat/completions"))
        .json(&chat(&lan, "Hi", 4, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let listed: Value = local_key
        .get(s.url("/v1/models"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!listed.to_string().contains("lan/"), "{listed}");
    let r = local_key
        .post(s.url("/v1/chat/completions"))
        .json(&chat(SMOL_ID, "Hi", 4, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A client that leaves a stream early still leaves the call's row.
    let mut res = long_stream(&s, &lan, 300).await;
    res.chunk().await.unwrap();
    drop(res);
    wait_for(
        "the row of a stream left early",
        Duration::from_secs(30),
        async || {
            let rows = s.audited("upstream.call", &lan).await;
            rows.iter()
                .any(|r| r["details"]["outcome"] == "client_gone")
        },
    )
    .await;

    // Each upstream call left an audit row without the prompt.
    let rows = s.audited("upstream.call", &lan).await;
    assert!(rows.len() >= 6, "{rows:?}");
    assert!(
        rows.iter().all(|r| r["details"]["role"] == "api"
            && ["ok", "client_gone"].contains(&r["details"]["outcome"].as_str().unwrap())),
        "{rows:?}"
    );
    assert!(!serde_json::to_string(&rows).unwrap().contains("Paris"));
    assert!(up.chat_requests().await >= 4.0);
}

#[tokio::test]
async fn a_full_local_queue_passes_requests_to_the_upstream() {
    let up = Upstream::start("queue").await;
    let s = front("queue", |c| {
        c.providers = vec![up.provider("lan")];
        c.routing.chat = vec!["local".into(), "lan".into()];
        c.engine.queue_size = 1;
        c.engine.max_batch = 1;
    });
    // One answer running and one waiting: our engine's queue is full.
    let mut running = long_stream(&s, SMOL_ID, 2000).await;
    assert_eq!(
        running.headers()[SERVED_BY],
        format!("local/{SMOL_ID}").as_str()
    );
    running.chunk().await.unwrap();
    let waiting = long_stream(&s, SMOL_ID, 2000).await;
    wait_for("a full queue", Duration::from_secs(60), async || {
        s.metric("bacopilot_queue_depth").await == 2.0
    })
    .await;
    let lan = format!("lan/{SMOL_ID}");
    let (status, served, text) = post(&s, &chat(SMOL_ID, "Hello", 8, json!({}))).await;
    assert_eq!((status, served.as_str()), (200, lan.as_str()), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body["model"],
        lan.as_str(),
        "the body names the model that answered"
    );
    let (status, served, text) =
        post(&s, &chat(SMOL_ID, "Hello", 8, json!({"stream": true}))).await;
    assert_eq!((status, served.as_str()), (200, lan.as_str()), "{text}");
    assert!(text.contains(&format!("\"model\":\"{lan}\"")), "{text}");
    drop((running, waiting));
    assert!(up.chat_requests().await >= 1.0);
}

async fn upstream_up(s: &TestServer) -> f64 {
    s.metric("bacopilot_upstream_up{provider=\"lan\"}").await
}

async fn wait_for(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "waited {limit:?} for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_stream_broken_after_its_first_token_ends_in_an_error_and_the_breaker_opens_and_closes() {
    let mut up = Upstream::start("breaker").await;
    let s = front("breaker", |c| {
        c.providers = vec![up.provider("lan")];
        c.routing.breaker_failures = 1;
        c.routing.attempts = 1;
    });
    let lan = format!("lan/{SMOL_ID}");
    assert_eq!(upstream_up(&s).await, 1.0);

    // The upstream dies mid-stream: the client gets what came, then an
    // error event, never a silent switch to another target.
    let mut res = long_stream(&s, &lan, 400).await;
    assert_eq!(res.headers()[SERVED_BY], lan.as_str());
    let mut text = String::new();
    while !text.contains("\"content\":\"") || !text.contains("\n\n") {
        text.push_str(&String::from_utf8_lossy(
            &res.chunk().await.unwrap().unwrap(),
        ));
    }
    up.stop();
    while let Some(chunk) = res.chunk().await.unwrap() {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let data = sse_data(&text);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"), "{text}");
    let error: Value = serde_json::from_str(&data[data.len() - 2]).unwrap();
    assert_eq!(error["error"]["code"], "upstream_unavailable", "{text}");
    // Every chunk before the error came from the upstream: no switch.
    let chunks = &data[..data.len() - 2];
    assert!(!chunks.is_empty(), "{text}");
    for c in chunks {
        let chunk: Value = serde_json::from_str(c).unwrap();
        assert_eq!(chunk["model"], lan.as_str(), "{text}");
    }

    // Probes fail: the breaker opens and calls are refused at once.
    wait_for("the breaker to open", Duration::from_secs(15), async || {
        upstream_up(&s).await == 0.0
    })
    .await;
    let started = Instant::now();
    let (status, _, text) = post(&s, &chat(&lan, "Hello", 8, json!({}))).await;
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("upstream_unavailable"), "{text}");
    assert!(text.contains("lan is out of service"), "{text}");
    eprintln!("refused with the breaker open in {:?}", started.elapsed());

    // It comes back: a probe closes the breaker and calls pass again.
    up.launch().await;
    wait_for(
        "the breaker to close",
        Duration::from_secs(15),
        async || upstream_up(&s).await == 1.0,
    )
    .await;
    let (status, served, text) = post(&s, &chat(&lan, "Hello", 8, json!({}))).await;
    assert_eq!((status, served.as_str()), (200, lan.as_str()), "{text}");
    assert!(
        s.metric("bacopilot_upstream_breaker_opened_total{provider=\"lan\"}")
            .await
            >= 1.0
    );
}

const BRIEF: &str = "A room booking system for a small office: staff book one of 4 meeting rooms for up to 3 hours; bookings can be cancelled until 1 hour before.";

async fn srs_job(s: &TestServer, project: &str) -> Value {
    let (status, body) = s
        .post(
            &format!("/api/v1/projects/{project}/srs"),
            json!({"title": "Rooms", "brief": BRIEF}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    s.finished_job(body["job_id"].as_str().unwrap(), Duration::from_secs(1800))
        .await
}

#[tokio::test]
async fn a_local_only_project_never_reaches_the_upstream_until_an_administrator_allows_it() {
    let up = Upstream::start("policy").await;
    let s = front("policy", |c| {
        c.providers = vec![up.provider("lan")];
        // Upstream first: only the project's policy keeps work local.
        c.routing.chat = vec!["lan".into(), "local".into()];
        c.routing.srs = vec!["lan".into(), "local".into()];
        c.routing.wireframes = vec!["lan".into(), "local".into()];
    });
    let project = s.project("Rooms").await;
    let (_, p) = s.get(&format!("/api/v1/projects/{project}")).await;
    assert_eq!(p["data_policy"], "local_only");

    let doc = s
        .ingest(
            &project,
            "rooms.md",
            b"# Rooms\n\nStaff book one of 4 meeting rooms for up to 3 hours.\n".to_vec(),
        )
        .await;
    assert_eq!(doc["status"], "ready", "{doc}");
    let (_, c) = s
        .post(
            &format!("/api/v1/projects/{project}/conversations"),
            json!({}),
        )
        .await;
    let cid = c["id"].as_str().unwrap();
    let (status, _) = s
        .post(
            &format!("/api/v1/conversations/{cid}/messages"),
            json!({"content": "How long can a room be booked?", "mode": "grounded"}),
        )
        .await;
    assert_eq!(status, 200);
    let job = srs_job(&s, &project).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let (status, body) = s
        .post(
            &format!("/api/v1/projects/{project}/wireframes"),
            json!({"description": "A booking screen for staff to choose a room and a time."}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let job = s
        .finished_job(body["job_id"].as_str().unwrap(), Duration::from_secs(900))
        .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        up.chat_requests().await,
        0.0,
        "a local-only project reached the upstream"
    );
    assert!(s
        .audited("upstream.call", &format!("lan/{SMOL_ID}"))
        .await
        .is_empty());

    // The policy names only configured providers, and is audited.
    let patch = |body: Value| {
        let s = &s;
        let project = project.clone();
        async move {
            let r = s
                .client()
                .patch(s.url(&format!("/api/v1/projects/{project}")))
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, _) = patch(json!({"data_policy": "upstream", "providers": ["nowhere"]})).await;
    assert_eq!(status, 400);
    let (status, p) = patch(json!({"data_policy": "upstream", "providers": ["lan"]})).await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["providers"], json!(["lan"]));
    let rows = s.audited("project.update", &project).await;
    assert!(
        rows.iter()
            .any(|r| r["details"]["data_policy"] == "upstream"),
        "{rows:?}"
    );

    let job = srs_job(&s, &project).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert!(up.chat_requests().await >= 1.0);
    let rows = s.audited("upstream.call", &format!("lan/{SMOL_ID}")).await;
    assert!(
        rows.iter()
            .any(|r| r["details"]["role"] == "srs" && r["details"]["project"] == project.as_str()),
        "{rows:?}"
    );
}

/// What the scripted upstream received.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: Vec<(String, String)>,
    body: Value,
}

/// How the scripted upstream answers its next request.
#[derive(Clone)]
enum Reply {
    Status(u16, Value),
    Json(Value),
    /// The last user message echoed back as the answer (streamed in pieces
    /// of three characters when the request asks for a stream).
    Echo,
    /// A raw SSE body.
    Sse(String),
}

#[derive(Clone, Default)]
struct Script {
    seen: Arc<Mutex<Vec<Seen>>>,
    replies: Arc<Mutex<Vec<Reply>>>,
}

async fn scripted(State(script): State<Script>, req: Request) -> Response {
    let path = req.uri().to_string();
    if req.method() == axum::http::Method::GET {
        // The front's health probes: up, serving what its config says.
        return axum::Json(json!({"object": "list", "data": []})).into_response();
    }
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    script.seen.lock().unwrap().push(Seen {
        path,
        headers,
        body: body.clone(),
    });
    let reply = {
        let mut replies = script.replies.lock().unwrap();
        if replies.len() > 1 {
            replies.remove(0)
        } else {
            replies[0].clone()
        }
    };
    let sse = |text: String| ([("content-type", "text/event-stream")], text).into_response();
    match reply {
        Reply::Status(code, body) => (
            axum::http::StatusCode::from_u16(code).unwrap(),
            axum::Json(body),
        )
            .into_response(),
        Reply::Json(v) => axum::Json(v).into_response(),
        Reply::Sse(text) => sse(text),
        Reply::Echo => {
            let said = body["messages"]
                .as_array()
                .unwrap()
                .iter()
                .rev()
                .find(|m| m["role"] == "user")
                .unwrap()["content"]
                .as_str()
                .unwrap()
                .to_string();
            if body["stream"] == true {
                let chars: Vec<char> = said.chars().collect();
                let mut out = String::new();
                for piece in chars.chunks(3) {
                    let piece: String = piece.iter().collect();
                    let chunk = json!({"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                        "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}]});
                    out.push_str(&format!("data: {chunk}\n\n"));
                }
                let end = json!({"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
                out.push_str(&format!("data: {end}\n\ndata: [DONE]\n\n"));
                sse(out)
            } else {
                axum::Json(json!({"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": said}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}})).into_response()
            }
        }
    }
}

async fn script(replies: Vec<Reply>) -> (SocketAddr, Script) {
    let script = Script {
        seen: Default::default(),
        replies: Arc::new(Mutex::new(replies)),
    };
    let app = axum::Router::new()
        .fallback(scripted)
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, script)
}

fn key_file(dir: &Path, name: &str, key: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let f = dir.join(format!("{name}.key"));
    std::fs::write(&f, key).unwrap();
    f
}

const PERSONAL: &str = "Mail jane.doe@example.com or call +44 20 7946 0958; pay GB82 WEST 1234 5698 7654 32 or card 4111 1111 1111 1111.";
const VALUES: [&str; 4] = [
    "jane.doe@example.com",
    "+44 20 7946 0958",
    "GB82 WEST 1234 5698 7654 32",
    "4111 1111 1111 1111",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_reaches_an_external_provider_as_placeholders_on_every_attempt_and_comes_back_restored(
) {
    let (addr, script) = script(vec![
        Reply::Status(503, json!({"error": {"message": "busy"}})),
        Reply::Echo,
    ])
    .await;
    let keys = std::env::temp_dir().join(format!("bacopilot-redact-keys-{}", std::process::id()));
    let s = front("redact", |c| {
        let mut p = common::upstream_provider(
            "cloud",
            &format!("http://{addr}/v1"),
            &key_file(&keys, "cloud", "k"),
            &["gpt-x"],
        );
        p.external = true;
        c.providers = vec![p];
        c.routing.backoff_ms = 10;
    });
    let (status, served, text) = post(&s, &chat("cloud/gpt-x", PERSONAL, 64, json!({}))).await;
    assert_eq!((status, served.as_str()), (200, "cloud/gpt-x"), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"], PERSONAL,
        "restored"
    );
    let seen = script.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "a failed attempt, then the retry");
    for attempt in &seen {
        let sent = attempt.body.to_string();
        for v in VALUES {
            assert!(!sent.contains(v), "{v} reached the provider: {sent}");
        }
        assert!(
            sent.contains("[EMAIL_1]") && sent.contains("[CARD_1]"),
            "{sent}"
        );
    }

    // Streamed, with placeholders split across chunks.
    let (status, _, text) = post(
        &s,
        &chat("cloud/gpt-x", PERSONAL, 64, json!({"stream": true})),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let data = sse_data(&text);
    let content: String = data
        .iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str::<Value>(d).unwrap())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(String::from)
        })
        .collect();
    assert_eq!(content, PERSONAL);
    let rows = s.audited("upstream.call", "cloud/gpt-x").await;
    assert!(
        rows.iter().any(|r| r["details"]["redacted"] == 4),
        "{rows:?}"
    );
    assert!(!serde_json::to_string(&rows).unwrap().contains("jane.doe"));
}

fn header<'a>(seen: &'a Seen, name: &str) -> Option<&'a str> {
    seen.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_and_azure_providers_get_their_own_shapes_urls_and_headers() {
    let fixtures = common::repo_dir().join("tests/fixtures/anthropic");
    let fixture = |f: &str| std::fs::read_to_string(fixtures.join(f)).unwrap();
    let answer: Value = serde_json::from_str(&fixture("response_text.json")).unwrap();
    let (claude_addr, claude) = script(vec![
        Reply::Json(answer.clone()),
        Reply::Sse(fixture("stream_text.sse")),
    ])
    .await;
    let (azure_addr, azure) = script(vec![Reply::Echo]).await;
    let keys = std::env::temp_dir().join(format!("bacopilot-shape-keys-{}", std::process::id()));
    let s = front("shapes", |c| {
        let mut a = common::upstream_provider(
            "claude",
            &format!("http://{claude_addr}/v1"),
            &key_file(&keys, "claude", "anthropic-secret"),
            &["claude-x"],
        );
        a.kind = ProviderKind::Anthropic;
        let mut z = common::upstream_provider(
            "azure",
            &format!("http://{azure_addr}/openai/deployments/gpt-4o"),
            &key_file(&keys, "azure", "azure-secret"),
            &["gpt-4o"],
        );
        z.api_version = "2024-10-21".into();
        z.key_header = "api-key".into();
        c.providers = vec![a, z];
    });

    let (status, served, text) = post(&s, &chat("claude/claude-x", "Hello", 64, json!({}))).await;
    assert_eq!(
        (status, served.as_str()),
        (200, "claude/claude-x"),
        "{text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "claude/claude-x");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        answer["content"][0]["text"]
    );
    let seen = claude.seen.lock().unwrap()[0].clone();
    assert_eq!(seen.path, "/v1/messages");
    assert_eq!(header(&seen, "x-api-key"), Some("anthropic-secret"));
    assert_eq!(header(&seen, "anthropic-version"), Some("2023-06-01"));
    assert_eq!(seen.body["system"], "You are a concise assistant.");
    assert_eq!(seen.body["model"], "claude-x");
    assert_eq!(seen.body["max_tokens"], 64);

    let (status, _, text) = post(
        &s,
        &chat("claude/claude-x", "Hello", 64, json!({"stream": true})),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let data = sse_data(&text);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = data
        .iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk"),
        "{text}"
    );
    assert!(
        chunks
            .iter()
            .any(|c| c["choices"][0]["finish_reason"] == "stop"),
        "{text}"
    );

    let (status, served, text) =
        post(&s, &chat("azure/gpt-4o", "Hello Azure", 16, json!({}))).await;
    assert_eq!((status, served.as_str()), (200, "azure/gpt-4o"), "{text}");
    let seen = azure.seen.lock().unwrap()[0].clone();
    assert_eq!(
        seen.path,
        "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(header(&seen, "api-key"), Some("azure-secret"));
    assert_eq!(header(&seen, "authorization"), None);
}

/// Runs the built binary with `config` until it exits (or is killed after
/// `limit`, or once a file `stop` appears in `dir`); its exit status and
/// everything it wrote.
fn run_binary(
    dir: &Path,
    config: &str,
    env: &[(&str, &str)],
    limit: Duration,
) -> (Option<i32>, String) {
    std::fs::create_dir_all(dir).unwrap();
    let config_path = dir.join("config.toml");
    std::fs::write(&config_path, config).unwrap();
    let log = dir.join("log.txt");
    let out = std::fs::File::create(&log).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bacopilot"))
        .arg("--config")
        .arg(&config_path)
        .arg("serve")
        .current_dir(dir)
        .envs(env.iter().copied())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let started = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > limit || dir.join("stop").exists() {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (code, std::fs::read_to_string(&log).unwrap())
}

#[test]
fn a_bad_provider_configuration_refuses_to_start_and_names_the_key() {
    let dir = std::env::temp_dir().join(format!("bacopilot-badcfg-{}", std::process::id()));
    let models = common::models_dir("badcfg", &[]);
    let head = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n[models]\ndir = \"{}\"\n",
        dir.join("data").display(),
        models.display()
    );
    let cases = [
        ("kind = \"grpc\"\nbase_url = \"http://h/v1\"", "kind"),
        ("kind = \"openai-compatible\"\nbase_url = \"https://user:pw@h/v1\"", "providers[0] (p).base_url"),
        ("kind = \"openai-compatible\"\nbase_url = \"http://h/v1\"\napi_key_env = \"BACOPILOT_TEST_NO_SUCH_KEY\"", "providers[0] (p).api_key_env"),
    ];
    for (provider, key) in cases {
        let config = format!("{head}[[providers]]\nname = \"p\"\n{provider}\n");
        let (code, log) = run_binary(&dir, &config, &[], Duration::from_secs(60));
        assert!(
            code.is_some_and(|c| c != 0),
            "started with {provider}: {log}"
        );
        assert!(log.contains(key), "the error should name {key}: {log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_appears_in_no_log_error_metric_or_answer() {
    const SECRET: &str = "sk-test-5f0c1d2e3a4b-never-shown";
    let (addr, _script) = script(vec![Reply::Status(
        401,
        json!({"error": {"message": format!("Incorrect API key provided: {SECRET}")}}),
    )])
    .await;
    let dir = std::env::temp_dir().join(format!("bacopilot-secret-{}", std::process::id()));
    let models = common::models_dir("secret", &[SMOL, MINILM]);
    let key = common::admin_key(&dir.join("data")).await;
    let port = common::free_port();
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\n[models]\ndir = \"{}\"\n\
         [[providers]]\nname = \"cloud\"\nkind = \"openai-compatible\"\nbase_url = \"http://{addr}/v1\"\n\
         api_key_env = \"BACOPILOT_TEST_CLOUD_KEY\"\nmodels = [\"gpt-x\"]\nexternal = true\n",
        dir.join("data").display(),
        models.display()
    );
    let server = {
        let dir = dir.clone();
        std::thread::spawn(move || {
            run_binary(
                &dir,
                &config,
                &[("BACOPILOT_TEST_CLOUD_KEY", SECRET), ("RUST_LOG", "debug")],
                Duration::from_secs(120),
            )
        })
    };
    let client = common::client_with_key(&key);
    let base = format!("http://127.0.0.1:{port}");
    wait_for("the server", Duration::from_secs(100), async || {
        client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
    let mut answers = String::new();
    for _ in 0..3 {
        let r = client
            .post(format!("{base}/v1/chat/completions"))
            .json(&chat("cloud/gpt-x", "Hi", 8, json!({})))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            502,
            "the upstream refused our key: not the client's fault"
        );
        answers.push_str(&r.text().await.unwrap());
    }
    for path in ["/v1/models", "/metrics", "/api/v1/audit?limit=100"] {
        answers.push_str(
            &client
                .get(format!("{base}{path}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }
    assert!(answers.contains("Incorrect API key"), "{answers}");
    assert!(!answers.contains(SECRET), "the key leaked into an answer");
    // Stop the server and read everything it logged.
    std::fs::write(dir.join("stop"), "").unwrap();
    let (_, log) = server.join().unwrap();
    assert!(log.contains("cloud"), "{log}");
    assert!(!log.contains(SECRET), "the key leaked into the log");
}
