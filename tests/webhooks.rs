//! Webhooks end to end: a receiver started here checks every delivery's
//! signature (HMAC-SHA256 over "<t>.<body>" under the secret shown at
//! registration) and timestamp; events come from the API, from the command
//! line and from jobs; a receiver that fails three times gets the delivery
//! on the fourth attempt, with a server restart in between losing nothing.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use common::{MINILM, SMOL};

#[derive(Clone, Debug)]
struct Received {
    event: String,
    delivery: String,
    signature: String,
    body: String,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    /// Answers 500 to this many attempts of `document.ready` first.
    fail_ready: Arc<Mutex<usize>>,
}

impl Receiver {
    async fn start(self) -> u16 {
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(self);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        port
    }

    fn of(&self, event: &str) -> Vec<Received> {
        let got = self.got.lock().unwrap();
        got.iter().filter(|r| r.event == event).cloned().collect()
    }

    async fn wait_for(&self, event: &str, n: usize) -> Vec<Received> {
        for _ in 0..600 {
            let got = self.of(event);
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{event}: fewer than {n} deliveries: {:?}",
            self.got.lock().unwrap()
        );
    }
}

async fn hook(
    axum::extract::State(r): axum::extract::State<Receiver>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let header = |n: &str| {
        headers
            .get(n)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let received = Received {
        event: header("x-bacopilot-event"),
        delivery: header("x-bacopilot-delivery"),
        signature: header("x-bacopilot-signature"),
        body,
    };
    let failing = received.event == "document.ready" && {
        let mut left = r.fail_ready.lock().unwrap();
        let fail = *left > 0;
        *left = left.saturating_sub(1);
        fail
    };
    r.got.lock().unwrap().push(received);
    if failing {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

/// What a receiver should do: recompute the HMAC and refuse a stale timestamp.
fn verify(secret: &str, r: &Received) -> Value {
    let (t, v1) = r
        .signature
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
        .unwrap_or_else(|| panic!("malformed signature header {:?}", r.signature));
    let t: i64 = t.parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (now - t).abs() < 300,
        "timestamp outside the tolerance window"
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", r.body).as_bytes());
    let want = hex::encode(mac.finalize().into_bytes());
    assert_eq!(v1, want, "signature of {}", r.event);
    // A wrong secret does not verify.
    let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec_wrong").unwrap();
    mac.update(format!("{t}.{}", r.body).as_bytes());
    assert_ne!(v1, hex::encode(mac.finalize().into_bytes()));
    let body: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["type"], r.event.as_str());
    assert!(body["id"].is_string() && body["created"].is_i64(), "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn signed_deliveries_retry_until_accepted_and_survive_a_restart() {
    let receiver = Receiver::default();
    *receiver.fail_ready.lock().unwrap() = 3;
    let port = receiver.clone().start().await;
    let models = common::models_dir("webhooks", &[SMOL, MINILM]);
    let data = models.join("data");
    let tweak = |c: &mut bacopilot::config::Config| {
        c.webhooks.allowed_hosts = vec!["127.0.0.1".into()];
        c.webhooks.retry_base_ms = 1500;
        c.webhooks.max_attempts = 6;
    };
    let s = common::start(&models, tweak);

    // Targets off the allowlist and unknown events are refused.
    let (status, body) = s
        .post(
            "/api/v1/webhooks",
            json!({"url": "http://hooks.example/x", "events": ["document.ready"]}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("allowed_hosts"), "{body}");
    let url = format!("http://127.0.0.1:{port}/hook");
    let (status, body) = s
        .post(
            "/api/v1/webhooks",
            json!({"url": url, "events": ["document.redy"]}),
        )
        .await;
    assert_eq!(status, 400, "{body}");

    let (status, hook) = s
        .post(
            "/api/v1/webhooks",
            json!({"url": url, "events": ["document.ready", "key.created", "key.revoked", "user.created"]}),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let secret = hook["secret"].as_str().unwrap().to_string();
    let id = hook["id"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_") && secret.len() > 40);
    let (_, shown) = s.get(&format!("/api/v1/webhooks/{id}")).await;
    assert!(
        shown.get("secret").is_none(),
        "the secret is shown once: {shown}"
    );

    // From the command line (another process): the server delivers it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bacopilot"))
        .args([
            "--data-dir",
            data.to_str().unwrap(),
            "keys",
            "create",
            "--user",
            "admin",
            "--name",
            "ci-runner",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created = receiver.wait_for("key.created", 1).await;
    let body = verify(&secret, &created[0]);
    assert_eq!(body["data"]["name"], "ci-runner", "{body}");

    // A job's event, refused three times; the server restarts after two.
    let project = s.project("Hooks").await;
    let (status, up) = s
        .upload(
            &project,
            "memo.md",
            b"# Memo\n\nInvoices are approved by the controller.\n".to_vec(),
        )
        .await;
    assert_eq!(status, 202, "{up}");
    let document = up["id"].as_str().unwrap().to_string();
    receiver.wait_for("document.ready", 2).await;
    s.stop();
    let restart_data = data.clone();
    let r = common::start(&models, move |c| {
        tweak(c);
        c.server.data_dir = restart_data;
    });
    let attempts = receiver.wait_for("document.ready", 4).await;
    let first = verify(&secret, &attempts[0]);
    assert_eq!(first["data"]["document_id"], document.as_str(), "{first}");
    assert_eq!(first["data"]["project_id"], project.as_str());
    for a in &attempts {
        verify(&secret, a);
        assert_eq!(
            a.body, attempts[0].body,
            "every attempt sends the same event"
        );
        assert_eq!(a.delivery, attempts[0].delivery);
    }
    // The receiver answered; the log records it a moment later.
    let mut ready = Value::Null;
    for _ in 0..100 {
        let (status, log) = r.get(&format!("/api/v1/webhooks/{id}/deliveries")).await;
        assert_eq!(status, 200, "{log}");
        ready = log["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["type"] == "document.ready")
            .cloned()
            .unwrap_or_else(|| panic!("{log}"));
        if ready["status"] != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ready["status"], "delivered", "{ready}");
    assert_eq!(ready["attempts"], 4, "{ready}");
    assert_eq!(ready["last_status"], 204);
    assert_eq!(
        receiver.of("document.ready").len(),
        4,
        "delivered once, then never again"
    );
    assert!(r.metric("bacopilot_webhook_deliveries_total").await >= 1.0);

    // The test button reaches this endpoint alone.
    let (status, q) = r
        .post(&format!("/api/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!((status, q["queued"].as_i64()), (202, Some(1)));
    verify(&secret, &receiver.wait_for("webhook.test", 1).await[0]);

    // Deleted: nothing more is sent to it.
    assert_eq!(r.delete(&format!("/api/v1/webhooks/{id}")).await, 204);
    let before = receiver.got.lock().unwrap().len();
    let (status, _) = r
        .post("/api/v1/keys", json!({"name": "after delete"}))
        .await;
    assert_eq!(status, 201);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.got.lock().unwrap().len(), before);
    r.stop();
}
