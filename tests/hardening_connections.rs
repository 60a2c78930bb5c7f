//! Clients that try to hold the server: slow or silent connections, too many
//! connections, WebSockets that outlive their credentials, floods of guessed
//! passwords, and refusals that must still carry the security headers.

mod common;

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{metric_in, TestServer, MINILM, SMOL};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

const HEADER_SECS: u64 = 2;
const IDLE_SECS: u64 = 6;
/// Slack on every deadline: the clocks are checked, not the scheduler.
const SLACK: Duration = Duration::from_secs(5);

/// Short clocks, generous connection caps, short answers.
fn server() -> &'static TestServer {
    static S: OnceLock<TestServer> = OnceLock::new();
    S.get_or_init(|| {
        let dir = common::models_dir("hardening-conn", &[SMOL, MINILM]);
        common::start(&dir, |c| {
            c.server.header_read_timeout_secs = HEADER_SECS;
            c.server.idle_timeout_secs = IDLE_SECS;
            c.server.body_timeout_secs = 2;
            c.server.max_body_bytes = 64 * 1024;
            c.server.max_connections_per_ip = 200;
            c.auth.login_failures_per_account = 5;
            c.auth.login_failures_per_address = 1000;
            c.chat.max_answer_tokens = 8;
        })
    })
}

/// Three connections per address and five in all, with long clocks.
fn capped() -> &'static TestServer {
    static S: OnceLock<TestServer> = OnceLock::new();
    S.get_or_init(|| {
        let dir = common::models_dir("hardening-cap", &[SMOL, MINILM]);
        common::start(&dir, |c| {
            c.server.max_connections = 5;
            c.server.max_connections_per_ip = 3;
        })
    })
}

fn socket_addr(s: &TestServer) -> SocketAddr {
    s.base.trim_start_matches("http://").parse().unwrap()
}

/// A connection to `s` from the loopback address `from` (all of 127/8 is
/// this machine, so each is a different client to the server).
async fn connect_from(s: &TestServer, from: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(socket_addr(s)).await.unwrap()
}

/// Sends `request` and returns the head of the answer, or `None` when the
/// server closed the connection without one.
async fn exchange(sock: &mut TcpStream, request: &str) -> Option<String> {
    if sock.write_all(request.as_bytes()).await.is_err() {
        return None;
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(30), sock.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            Ok(_) => break,
            Err(_) => panic!("no answer and no close within 30 s"),
        }
    }
    (!got.is_empty()).then(|| String::from_utf8_lossy(&got).into_owned())
}

fn get(path: &str, s: &TestServer) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\r\n",
        socket_addr(s),
        s.key
    )
}

/// Waits until the server's end of `sock` closes; the time it took, or
/// `None` if it still answered or stayed open past `limit`.
async fn closed_within(sock: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    match tokio::time::timeout(limit, sock.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => Some(start.elapsed()),
        Ok(Ok(_)) | Err(_) => None,
    }
}

/// `/metrics`, asked from `from` on a connection of its own (which counts
/// itself); `None` if that connection was refused.
async fn metrics_from(s: &TestServer, from: &str) -> Option<String> {
    let mut sock = connect_from(s, from).await;
    let request = get("/metrics", s).replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n");
    sock.write_all(request.as_bytes()).await.ok()?;
    let mut text = String::new();
    sock.read_to_string(&mut text).await.ok()?;
    Some(text)
}

/// Open connections reported by `/metrics`, the asking one included.
async fn open_connections(s: &TestServer) -> Option<f64> {
    metric_in(
        &metrics_from(s, "127.0.0.1").await?,
        "bacopilot_connections_open",
    )
}

/// Waits (up to 30 s: a loaded machine is slow to notice a close) until
/// only the asking connection is open.
async fn all_closed(s: &TestServer) -> bool {
    for _ in 0..300 {
        if open_connections(s).await == Some(1.0) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn slow_and_silent_clients_are_cut_off_at_the_header_deadline_while_others_are_served() {
    let s = server();
    let addr = socket_addr(s);
    let header_timeouts = "bacopilot_connections_timed_out_total{phase=\"header\"}";
    let timed_out_before = s.metric(header_timeouts).await;
    let start = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for i in 0..20 {
        clients.spawn(async move {
            let sock = TcpStream::connect(addr).await.unwrap();
            let (mut reader, mut writer) = sock.into_split();
            // Half the clients connect and say nothing (the write half is
            // kept: dropping it would send a FIN, which is not silence).
            let silent = if i % 2 == 1 {
                // A request line, then one byte of a header a second, forever.
                tokio::spawn(async move {
                    let _ = writer.write_all(b"GET /healthz HTTP/1.1\r\nX-Slow: ").await;
                    for _ in 0..60 {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        if writer.write_all(b"a").await.is_err() {
                            return;
                        }
                    }
                });
                None
            } else {
                Some(writer)
            };
            let mut buf = [0u8; 256];
            let limit = Duration::from_secs(HEADER_SECS) + SLACK;
            let closed = match tokio::time::timeout(limit, reader.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => start.elapsed(),
                Ok(Ok(n)) => panic!("answered: {}", String::from_utf8_lossy(&buf[..n])),
                Err(_) => panic!("client {i} was still connected after {limit:?}"),
            };
            drop(silent);
            closed
        });
    }
    // Meanwhile an ordinary request is answered at once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Answered while all twenty are still held, not once they are cut.
    let answered = tokio::time::timeout(Duration::from_secs(HEADER_SECS), s.get("/healthz"))
        .await
        .expect("an ordinary request waited for the slow clients");
    assert_eq!(answered.0, 200);
    while let Some(closed) = clients.join_next().await {
        let after = closed.unwrap();
        assert!(
            after >= Duration::from_secs(HEADER_SECS) - Duration::from_millis(500),
            "closed before its deadline: {after:?}"
        );
    }
    let timed_out = s.metric(header_timeouts).await - timed_out_before;
    assert!(timed_out >= 20.0, "{timed_out}");
}

#[tokio::test]
async fn a_kept_alive_connection_with_no_next_request_is_closed_after_the_idle_timeout() {
    let s = server();
    let mut sock = connect_from(s, "127.0.0.1").await;
    let head = exchange(&mut sock, &get("/healthz", s)).await.unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let after = closed_within(&mut sock, Duration::from_secs(IDLE_SECS) + SLACK)
        .await
        .expect("the idle connection stayed open");
    assert!(
        after >= Duration::from_secs(IDLE_SECS - 1),
        "closed at {after:?}, before the idle timeout"
    );
    assert!(
        s.metric("bacopilot_connections_timed_out_total{phase=\"idle\"}")
            .await
            >= 1.0
    );
}

#[tokio::test]
async fn connections_over_the_per_address_or_total_cap_are_closed_at_once() {
    let s = capped();
    // The start-up probe's connection may still be closing.
    assert!(all_closed(s).await, "connections open before the test");
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut sock = connect_from(s, "127.0.0.2").await;
        let head = exchange(&mut sock, &get("/healthz", s)).await;
        assert!(head.unwrap().starts_with("HTTP/1.1 200"));
        held.push(sock);
    }
    let mut fourth = connect_from(s, "127.0.0.2").await;
    assert_eq!(
        exchange(&mut fourth, &get("/healthz", s)).await,
        None,
        "a fourth connection from one address"
    );
    for _ in 0..2 {
        let mut sock = connect_from(s, "127.0.0.3").await;
        let head = exchange(&mut sock, &get("/healthz", s)).await;
        assert!(head.unwrap().starts_with("HTTP/1.1 200"));
        held.push(sock);
    }
    let mut sixth = connect_from(s, "127.0.0.4").await;
    assert_eq!(
        exchange(&mut sixth, &get("/healthz", s)).await,
        None,
        "a sixth connection in all"
    );
    drop(held);
    assert!(
        all_closed(s).await,
        "closed connections still hold their places"
    );
    let mut again = connect_from(s, "127.0.0.2").await;
    let head = exchange(&mut again, &get("/healthz", s)).await;
    assert!(head.unwrap().starts_with("HTTP/1.1 200"));
    drop(again);
    let metrics = metrics_from(s, "127.0.0.5").await.unwrap();
    let refused = |reason: &str| {
        metric_in(
            &metrics,
            &format!("bacopilot_connections_refused_total{{reason=\"{reason}\"}}"),
        )
    };
    assert_eq!(refused("per_address"), Some(1.0), "{metrics}");
    // The probes above may have met the total cap while connections closed.
    assert!(refused("total").is_some_and(|n| n >= 1.0), "{metrics}");
}

/// An analyst, signed in (a session) and with a full-scope API key.
struct Person {
    id: String,
    key: String,
    key_id: String,
    cookie: String,
    csrf: String,
    session_id: String,
}

async fn person(s: &TestServer, name: &str) -> Person {
    let password = format!("{name} password");
    let (status, user) = s
        .post(
            "/api/v1/users",
            json!({"name": name, "role": "analyst", "password": password}),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    let r = reqwest::Client::new()
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"name": name, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let me: Value = r.json().await.unwrap();
    let r = reqwest::Client::new()
        .post(s.url("/api/v1/keys"))
        .header("cookie", &cookie)
        .header("x-csrf-token", me["csrf_token"].as_str().unwrap())
        .json(&json!({"name": "socket", "scope": "full"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let key: Value = r.json().await.unwrap();
    Person {
        id: user["id"].as_str().unwrap().to_string(),
        key: key["key"].as_str().unwrap().to_string(),
        key_id: key["id"].as_str().unwrap().to_string(),
        cookie,
        csrf: me["csrf_token"].as_str().unwrap().to_string(),
        session_id: me["session_id"].as_str().unwrap().to_string(),
    }
}

/// A new conversation in a new project of `p`'s.
async fn conversation(s: &TestServer, p: &Person) -> String {
    let c = common::client_with_key(&p.key);
    let r = c
        .post(s.url("/api/v1/projects"))
        .json(&json!({"name": "Sockets"}))
        .send()
        .await
        .unwrap();
    let project: Value = r.json().await.unwrap();
    let pid = project["id"].as_str().unwrap();
    let r = c
        .post(s.url(&format!("/api/v1/projects/{pid}/conversations")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let conv: Value = r.json().await.unwrap();
    conv["id"].as_str().unwrap().to_string()
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The conversation's WebSocket, opened with `header: value` as credentials.
async fn socket(s: &TestServer, cid: &str, header: &'static str, value: &str) -> Socket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = s
        .url(&format!("/api/v1/conversations/{cid}/ws"))
        .replacen("http", "ws", 1);
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(header, value.parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Answered,
    Closed(Option<CloseCode>),
}

/// Asks a question; how the socket answered.
async fn ask(ws: &mut Socket) -> Outcome {
    let question = json!({"content": "Say hello.", "mode": "free"}).to_string();
    if ws.send(Message::Text(question.into())).await.is_err() {
        return Outcome::Closed(None);
    }
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(120), ws.next())
            .await
            .expect("no answer within 120 s");
        match frame {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                match v["event"].as_str().unwrap() {
                    "done" => return Outcome::Answered,
                    "error" => panic!("error event: {v}"),
                    _ => {}
                }
            }
            Some(Ok(Message::Close(frame))) => return Outcome::Closed(frame.map(|f| f.code)),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return Outcome::Closed(None),
        }
    }
}

#[tokio::test]
async fn a_websocket_closes_with_1008_at_the_first_message_after_its_user_is_disabled() {
    let s = server();
    let p = person(s, "wendy").await;
    let cid = conversation(s, &p).await;
    let mut ws = socket(s, &cid, "authorization", &format!("Bearer {}", p.key)).await;
    // A quiet socket is no idle connection: it outlives both read deadlines.
    tokio::time::sleep(Duration::from_secs(IDLE_SECS + 2)).await;
    assert_eq!(ask(&mut ws).await, Outcome::Answered);
    let r = s
        .client()
        .patch(s.url(&format!("/api/v1/users/{}", p.id)))
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(ask(&mut ws).await, Outcome::Closed(Some(CloseCode::Policy)));
}

#[tokio::test]
async fn a_websocket_closes_with_1008_once_its_key_is_revoked_or_its_session_ended() {
    let s = server();
    let p = person(s, "kevin").await;
    let cid = conversation(s, &p).await;
    let mut by_key = socket(s, &cid, "authorization", &format!("Bearer {}", p.key)).await;
    let mut by_cookie = socket(s, &cid, "cookie", &p.cookie).await;
    assert_eq!(ask(&mut by_key).await, Outcome::Answered);
    assert_eq!(ask(&mut by_cookie).await, Outcome::Answered);
    assert_eq!(s.delete(&format!("/api/v1/keys/{}", p.key_id)).await, 204);
    assert_eq!(
        ask(&mut by_key).await,
        Outcome::Closed(Some(CloseCode::Policy))
    );
    assert_eq!(
        ask(&mut by_cookie).await,
        Outcome::Answered,
        "the session is another credential"
    );
    // Signed out from another tab.
    let r = reqwest::Client::new()
        .delete(s.url(&format!("/api/v1/auth/sessions/{}", p.session_id)))
        .header("cookie", &p.cookie)
        .header("x-csrf-token", &p.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        ask(&mut by_cookie).await,
        Outcome::Closed(Some(CloseCode::Policy))
    );
}

#[tokio::test]
async fn thirty_concurrent_wrong_passwords_are_checked_only_as_often_as_the_limit_allows() {
    let s = server();
    let (status, _) = s
        .post(
            "/api/v1/users",
            json!({"name": "guessed", "role": "viewer", "password": "guessed password"}),
        )
        .await;
    assert_eq!(status, 201);
    let guesses = (0..30).map(|i| {
        reqwest::Client::new()
            .post(s.url("/api/v1/auth/login"))
            .json(&json!({"name": "guessed", "password": format!("wrong guess {i}")}))
            .send()
    });
    let statuses: Vec<u16> = futures::future::join_all(guesses)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    let checked = statuses.iter().filter(|&&c| c == 401).count();
    let throttled = statuses.iter().filter(|&&c| c == 429).count();
    assert_eq!((checked, throttled), (5, 25), "{statuses:?}");
    assert_eq!(s.audited("auth.login_failed", "guessed").await.len(), 5);
}

#[tokio::test]
async fn an_over_long_login_name_is_refused_and_kept_out_of_the_audit_log() {
    let s = server();
    let name = "n".repeat(10_000);
    let r = reqwest::Client::new()
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"name": name, "password": "some password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let (_, rows) = s
        .get("/api/v1/audit?action=auth.login_failed&limit=1000")
        .await;
    let longest = rows["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["target"].as_str())
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(
        longest <= 64 * 4,
        "an audit row names a {longest}-byte user"
    );
}

fn assert_security_headers(what: &str, h: &reqwest::header::HeaderMap) {
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
    ] {
        assert_eq!(
            h.get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{what}: {name}"
        );
    }
    assert!(h.contains_key("content-security-policy"), "{what}");
}

#[tokio::test]
async fn refusals_before_any_handler_still_carry_the_security_headers() {
    let s = server();
    let addr = socket_addr(s);
    // 421: a Host this server does not answer to (DNS rebinding).
    let rebinding = reqwest::Client::builder()
        .resolve("attacker.example", addr)
        .build()
        .unwrap();
    let r = rebinding
        .get(format!("http://attacker.example:{}/healthz", addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 421);
    assert_security_headers("421", r.headers());
    // 413: a body over the limit.
    let r = reqwest::Client::new()
        .post(s.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(vec![b' '; 128 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_security_headers("413", r.headers());
    // 408: a body that stops arriving.
    let mut sock = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"name\":"
    );
    let answer = exchange(&mut sock, &head).await.expect("no answer");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let lower = answer.to_ascii_lowercase();
    for name in [
        "x-content-type-options: nosniff",
        "content-security-policy:",
    ] {
        assert!(lower.contains(name), "408 lacks {name}: {answer}");
    }
}
