//! Accounts, roles, API keys, sessions, isolation, rate limits, the audit
//! trail and the HTTP hardening, against the real server over real HTTP.

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use common::{TestServer, MINILM, SMOL};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn server() -> &'static TestServer {
    static S: OnceLock<TestServer> = OnceLock::new();
    S.get_or_init(|| {
        let dir = common::models_dir("auth", &[SMOL, MINILM]);
        common::start(&dir, |_| {})
    })
}

/// A server with short clocks and low limits, for the tests that need them.
fn strict() -> &'static TestServer {
    static S: OnceLock<TestServer> = OnceLock::new();
    S.get_or_init(|| {
        let dir = common::models_dir("auth-strict", &[SMOL, MINILM]);
        common::start(&dir, |c| {
            c.auth.session_ttl_secs = 2;
            c.auth.login_failures_per_account = 3;
            c.auth.login_failures_per_address = 1000;
            c.limits.inference_per_minute = 3;
            c.server.body_timeout_secs = 2;
            c.server.max_body_bytes = 64 * 1024;
        })
    })
}

/// A signed-in browser-like client: the session cookie, and the CSRF token.
struct Session {
    client: reqwest::Client,
    csrf: String,
}

async fn sign_in(s: &TestServer, name: &str, password: &str) -> Session {
    let r = try_sign_in(s, json!({"name": name, "password": password}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "sign-in of {name}");
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    let body: Value = r.json().await.unwrap();
    let mut headers = HeaderMap::new();
    let pair = cookie.split(';').next().unwrap().to_string();
    headers.insert("cookie", HeaderValue::from_str(&pair).unwrap());
    Session {
        client: reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap(),
        csrf: body["csrf_token"].as_str().unwrap().to_string(),
    }
}

/// An anonymous sign-in attempt with `body` (`{"name", "password"}`).
async fn try_sign_in(s: &TestServer, body: Value) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::new()
        .post(s.url("/api/v1/auth/login"))
        .json(&body)
        .send()
        .await
}

/// The status of a GET of `url` with `client`.
async fn get_status(client: &reqwest::Client, url: String) -> u16 {
    client.get(url).send().await.unwrap().status().as_u16()
}

/// Creates a user through the API as the administrator.
async fn user(s: &TestServer, name: &str, role: &str) -> Value {
    let (status, body) = s
        .post(
            "/api/v1/users",
            json!({"name": name, "role": role, "password": format!("{name} password")}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

/// A signed-in new user with the role.
async fn person(s: &TestServer, name: &str, role: &str) -> (Value, Session) {
    let u = user(s, name, role).await;
    (u, sign_in(s, name, &format!("{name} password")).await)
}

impl Session {
    async fn send(
        &self,
        method: reqwest::Method,
        s: &TestServer,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, s.url(path))
            .header("x-csrf-token", &self.csrf);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, s: &TestServer, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, s, path, None).await
    }

    async fn post(&self, s: &TestServer, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, s, path, Some(body)).await
    }

    async fn delete(&self, s: &TestServer, path: &str) -> u16 {
        self.send(reqwest::Method::DELETE, s, path, None).await.0
    }

    async fn upload(&self, s: &TestServer, pid: &str, name: &str, text: &str) -> (u16, Value) {
        let part =
            reqwest::multipart::Part::bytes(text.as_bytes().to_vec()).file_name(name.to_string());
        let r = self
            .client
            .post(s.url(&format!("/api/v1/projects/{pid}/documents")))
            .header("x-csrf-token", &self.csrf)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

/// Replaces every `{param}` of a route template with a well-formed id.
fn concrete(template: &str) -> String {
    let id = "0193a3f0-0000-7000-8000-000000000000";
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        out.push_str(if &rest[start..=end] == "{name}" {
            "app.js"
        } else {
            id
        });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn every_route_without_credentials_is_401_except_the_probes_and_sign_in() {
    use bacopilot::http::guard::authenticate::is_public;
    let s = server();
    let routes = bacopilot::app::routes(1024);
    assert!(routes.paths().len() > 30, "{:?}", routes.paths());
    let anonymous = reqwest::Client::new();
    let wrong_key = common::client_with_key(
        "bac_0193a3f0000070008000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    let mut checked = 0;
    for template in routes
        .paths()
        .iter()
        .map(String::as_str)
        .chain(["/no/such/route"])
    {
        let path = concrete(template);
        for m in methods {
            let method = reqwest::Method::from_bytes(m.as_bytes()).unwrap();
            let http_method = axum::http::Method::from_bytes(m.as_bytes()).unwrap();
            if is_public(&http_method, &path) {
                continue;
            }
            for client in [&anonymous, &wrong_key] {
                let r = client
                    .request(method.clone(), s.url(&path))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 401, "{m} {path}");
                checked += 1;
            }
        }
    }
    assert!(checked > 200, "{checked}");
    // The public ones answer without credentials, and reveal nothing more.
    for path in [
        "/healthz",
        "/readyz",
        "/login",
        "/setup",
        "/assets/login.js",
    ] {
        let r = anonymous.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    // A browser asking for a page gets the sign-in page with the 401.
    let r = anonymous
        .get(s.url("/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("/assets/login.js"));
    // A malformed Authorization header is refused the same way.
    let r = anonymous
        .get(s.url("/v1/models"))
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
}

#[tokio::test]
async fn a_viewer_reads_but_cannot_write_and_a_non_member_gets_404() {
    let s = server();
    let (_, analyst) = person(s, "ana", "analyst").await;
    let (viewer_user, viewer) = person(s, "vic", "viewer").await;
    let (_, outsider) = person(s, "oscar", "analyst").await;

    let (status, project) = analyst
        .post(s, "/api/v1/projects", json!({"name": "Roles"}))
        .await;
    assert_eq!(status, 201, "{project}");
    let pid = project["id"].as_str().unwrap();
    let (status, doc) = analyst
        .upload(
            s,
            pid,
            "scope.md",
            "# Scope\n\nThe portal serves suppliers.\n",
        )
        .await;
    assert_eq!(status, 202, "{doc}");
    let did = doc["id"].as_str().unwrap();
    let job = doc["job_id"].as_str().map(str::to_string);
    let doc = s.document_when_settled(did).await;
    assert_eq!(doc["status"], "ready", "{doc}");
    let (status, conv) = analyst
        .post(
            s,
            &format!("/api/v1/projects/{pid}/conversations"),
            json!({}),
        )
        .await;
    assert_eq!(status, 201, "{conv}");
    let cid = conv["id"].as_str().unwrap();

    // Not yet a member: the viewer does not see the project at all.
    assert_eq!(
        viewer.get(s, &format!("/api/v1/projects/{pid}")).await.0,
        404
    );
    let (status, m) = analyst
        .post(
            s,
            &format!("/api/v1/projects/{pid}/members"),
            json!({"name": "vic"}),
        )
        .await;
    assert_eq!(status, 201, "{m}");
    assert_eq!(m["user_id"], viewer_user["id"]);

    // A member viewer reads everything ...
    for path in [
        format!("/api/v1/projects/{pid}"),
        format!("/api/v1/projects/{pid}/documents"),
        format!("/api/v1/documents/{did}"),
        format!("/api/v1/projects/{pid}/search?q=suppliers"),
        format!("/api/v1/projects/{pid}/conversations"),
        format!("/api/v1/conversations/{cid}/messages"),
        format!("/api/v1/projects/{pid}/members"),
    ] {
        assert_eq!(viewer.get(s, &path).await.0, 200, "{path}");
    }
    let (_, list) = viewer.get(s, "/api/v1/projects").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "{list}");
    // ... and writes nothing.
    assert_eq!(viewer.upload(s, pid, "x.md", "# X\n\ntext\n").await.0, 403);
    assert_eq!(
        viewer.delete(s, &format!("/api/v1/documents/{did}")).await,
        403
    );
    assert_eq!(
        viewer
            .post(
                s,
                &format!("/api/v1/projects/{pid}/conversations"),
                json!({})
            )
            .await
            .0,
        403
    );
    assert_eq!(
        viewer
            .post(
                s,
                &format!("/api/v1/conversations/{cid}/messages"),
                json!({"content": "hi"})
            )
            .await
            .0,
        403
    );
    assert_eq!(
        viewer
            .send(
                reqwest::Method::PATCH,
                s,
                &format!("/api/v1/projects/{pid}"),
                Some(json!({"name": "Mine"}))
            )
            .await
            .0,
        403
    );
    assert_eq!(
        viewer
            .post(s, "/api/v1/projects", json!({"name": "New"}))
            .await
            .0,
        403
    );
    for admin_only in [
        "/api/v1/users",
        "/api/v1/audit",
        "/api/v1/audit/export",
        "/api/v1/providers",
        "/metrics",
    ] {
        assert_eq!(viewer.get(s, admin_only).await.0, 403, "{admin_only}");
    }
    // The project's owner renames it but cannot let its data leave the machine.
    let policy = json!({"data_policy": "upstream", "providers": []});
    let path = format!("/api/v1/projects/{pid}");
    let (status, body) = analyst
        .send(reqwest::Method::PATCH, s, &path, Some(policy))
        .await;
    assert_eq!(status, 403, "{body}");

    // Someone outside the project gets 404 for everything in it.
    let mut paths = vec![
        format!("/api/v1/projects/{pid}"),
        format!("/api/v1/projects/{pid}/documents"),
        format!("/api/v1/documents/{did}"),
        format!("/api/v1/projects/{pid}/search?q=suppliers"),
        format!("/api/v1/projects/{pid}/conversations"),
        format!("/api/v1/projects/{pid}/messages?q=x"),
        format!("/api/v1/conversations/{cid}"),
        format!("/api/v1/conversations/{cid}/messages"),
        format!("/api/v1/projects/{pid}/members"),
    ];
    if let Some(j) = &job {
        paths.push(format!("/api/v1/jobs/{j}"));
    }
    for path in &paths {
        assert_eq!(outsider.get(s, path).await.0, 404, "{path}");
    }
    assert_eq!(
        outsider
            .delete(s, &format!("/api/v1/documents/{did}"))
            .await,
        404
    );
    assert_eq!(
        outsider
            .post(
                s,
                &format!("/api/v1/conversations/{cid}/messages"),
                json!({"content": "hi"})
            )
            .await
            .0,
        404
    );
    assert_eq!(
        outsider.upload(s, pid, "x.md", "# X\n\ntext\n").await.0,
        404
    );
    let (_, list) = outsider.get(s, "/api/v1/projects").await;
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"] != pid),
        "{list}"
    );
    // The document is still there.
    assert_eq!(s.get(&format!("/api/v1/documents/{did}")).await.0, 200);
}

#[tokio::test]
async fn search_never_returns_another_projects_chunks_even_on_an_exact_match() {
    let s = server();
    let (_, alice) = person(s, "alice", "analyst").await;
    let (_, bob) = person(s, "bob", "analyst").await;
    let secret = "The vault combination for Project Nightingale is seven four nine.";
    let (_, a) = alice
        .post(s, "/api/v1/projects", json!({"name": "A"}))
        .await;
    let (_, b) = bob.post(s, "/api/v1/projects", json!({"name": "B"})).await;
    let (pa, pb) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let (_, da) = alice
        .upload(
            s,
            pa,
            "a.md",
            "# Travel\n\nEconomy class is booked for flights under six hours.\n",
        )
        .await;
    let (_, db) = bob
        .upload(s, pb, "b.md", &format!("# Secret\n\n{secret}\n"))
        .await;
    for d in [&da, &db] {
        let doc = s.document_when_settled(d["id"].as_str().unwrap()).await;
        assert_eq!(doc["status"], "ready", "{doc}");
    }
    let (status, hits) = alice
        .get(
            s,
            &format!("/api/v1/projects/{pa}/search?q={}", urlencode(secret)),
        )
        .await;
    assert_eq!(status, 200, "{hits}");
    let hits = hits["data"].as_array().unwrap();
    assert!(!hits.is_empty());
    for h in hits {
        assert_eq!(h["document_id"], da["id"], "{h}");
        assert!(!h.to_string().contains("Nightingale"), "{h}");
    }
    // Bob, searching his own project, finds it.
    let (_, own) = bob
        .get(
            s,
            &format!("/api/v1/projects/{pb}/search?q={}", urlencode(secret)),
        )
        .await;
    assert_eq!(own["data"][0]["document_id"], db["id"]);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn api_keys_are_shown_once_scoped_and_die_at_once_when_revoked_or_their_user_is_disabled() {
    let s = server();
    let (kim, session) = person(s, "kim", "analyst").await;
    let (status, full) = session
        .post(s, "/api/v1/keys", json!({"name": "ci", "scope": "full"}))
        .await;
    assert_eq!(status, 201, "{full}");
    let full_key = full["key"].as_str().unwrap().to_string();
    assert!(full_key.starts_with("bac_"));
    let (status, inference) = session
        .post(
            s,
            "/api/v1/keys",
            json!({"name": "chatbot", "expires_in_days": 30}),
        )
        .await;
    assert_eq!(status, 201, "{inference}");
    assert_eq!(inference["scope"], "inference");
    assert!(inference["expires_at"].is_string());
    let inference_key = inference["key"].as_str().unwrap().to_string();

    // Listed without the key itself; only the owner's, with the owner's name.
    let (_, list) = session.get(s, "/api/v1/keys").await;
    let list = list["data"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(list
        .iter()
        .all(|k| k.get("key").is_none() && k["user_name"] == "kim"));
    let (_, everyone) = s.get("/api/v1/keys").await;
    assert!(everyone["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["user_name"] == "kim"));
    assert!(everyone["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["user_name"] == "admin"));

    // Bearer and x-api-key, the same rules.
    let bearer = common::client_with_key(&full_key);
    let x_api_key = |key: &str| {
        let mut h = HeaderMap::new();
        h.insert("x-api-key", HeaderValue::from_str(key).unwrap());
        reqwest::Client::builder()
            .default_headers(h)
            .build()
            .unwrap()
    };
    for c in [&bearer, &x_api_key(&full_key)] {
        assert_eq!(get_status(c, s.url("/v1/models")).await, 200);
        assert_eq!(get_status(c, s.url("/api/v1/projects")).await, 200);
        assert_eq!(
            get_status(c, s.url("/api/v1/users")).await,
            403,
            "an analyst's key"
        );
    }
    let scoped = common::client_with_key(&inference_key);
    assert_eq!(get_status(&scoped, s.url("/v1/models")).await, 200);
    assert_eq!(get_status(&scoped, s.url("/api/v1/projects")).await, 403);
    assert_eq!(
        get_status(&x_api_key(&inference_key), s.url("/api/v1/projects")).await,
        403
    );

    // Another user's key is not theirs to revoke.
    let (_, other) = person(s, "lee", "analyst").await;
    let kid = full["id"].as_str().unwrap();
    assert_eq!(other.delete(s, &format!("/api/v1/keys/{kid}")).await, 404);
    // Revoked: the very next call fails, by either header.
    assert_eq!(session.delete(s, &format!("/api/v1/keys/{kid}")).await, 204);
    assert_eq!(get_status(&bearer, s.url("/v1/models")).await, 401);
    assert_eq!(
        get_status(&x_api_key(&full_key), s.url("/v1/models")).await,
        401
    );

    // Expired: time passes (the row's expiry moves into the past).
    let stores = common::Stores::open_writable(&s.data_dir).await;
    sqlx::query("UPDATE api_keys SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ?1")
        .bind(inference["id"].as_str().unwrap())
        .execute(&stores)
        .await
        .unwrap();
    assert_eq!(get_status(&scoped, s.url("/v1/models")).await, 401);

    // Disabling a user stops their keys and sessions at once.
    let (_, fresh) = session
        .post(s, "/api/v1/keys", json!({"name": "again", "scope": "full"}))
        .await;
    let fresh = common::client_with_key(fresh["key"].as_str().unwrap());
    assert_eq!(get_status(&fresh, s.url("/v1/models")).await, 200);
    let uid = kim["id"].as_str().unwrap();
    let r = s
        .client()
        .patch(s.url(&format!("/api/v1/users/{uid}")))
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(get_status(&fresh, s.url("/v1/models")).await, 401);
    assert_eq!(session.get(s, "/api/v1/auth/me").await.0, 401);
    let r = try_sign_in(s, json!({"name": "kim", "password": "kim password"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a disabled user cannot sign in");
}

#[tokio::test]
async fn cookie_writes_need_the_csrf_token_and_our_own_origin() {
    let s = server();
    let (_, session) = person(s, "cora", "analyst").await;
    let (status, me) = session.get(s, "/api/v1/auth/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["user"]["name"], "cora");
    assert_eq!(me["csrf_token"], session.csrf);

    let create = |csrf: Option<&str>, extra: Option<(&'static str, &'static str)>| {
        let mut req = session
            .client
            .post(s.url("/api/v1/projects"))
            .json(&json!({"name": "CSRF"}));
        if let Some(t) = csrf {
            req = req.header("x-csrf-token", t.to_string());
        }
        if let Some((k, v)) = extra {
            req = req.header(k, v);
        }
        req.send()
    };
    let r = create(None, None).await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "csrf_token_missing"
    );
    let r = create(Some("forged"), None).await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "csrf_token_invalid"
    );
    // A valid cookie and token, but sent from another site.
    let r = create(Some(&session.csrf), Some(("origin", "http://evil.example")))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = create(Some(&session.csrf), Some(("sec-fetch-site", "cross-site")))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = create(Some(&session.csrf), Some(("sec-fetch-site", "same-origin")))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let stores = common::Stores::open(&s.data_dir).await;
    let made = stores
        .sqlite_count("SELECT COUNT(*) FROM projects WHERE name = ?1", "CSRF")
        .await;
    assert_eq!(
        made, 1,
        "only the same-site request with the token made a project"
    );

    // Logout ends the session.
    assert_eq!(
        session.post(s, "/api/v1/auth/logout", json!({})).await.0,
        204
    );
    assert_eq!(session.get(s, "/api/v1/auth/me").await.0, 401);
}

#[tokio::test]
async fn an_expired_session_is_401() {
    let s = strict();
    let (_, session) = person(s, "eve", "viewer").await;
    assert_eq!(session.get(s, "/api/v1/auth/me").await.0, 200);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(session.get(s, "/api/v1/auth/me").await.0, 401);
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_throttled_even_for_the_right_password() {
    let s = strict();
    user(s, "mallet", "analyst").await;
    let attempt =
        |password: &'static str| try_sign_in(s, json!({"name": "mallet", "password": password}));
    for _ in 0..3 {
        assert_eq!(attempt("wrong password!").await.unwrap().status(), 401);
    }
    let r = attempt("mallet password").await.unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= 900, "{wait}");
    // Unknown names are throttled the same way (nothing tells them apart).
    for _ in 0..3 {
        let r = try_sign_in(s, json!({"name": "nobody", "password": "whatever123"}))
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let (status, rows) = s.get("/api/v1/audit?action=auth.login_failed").await;
    assert_eq!(status, 200);
    assert!(rows["data"].as_array().unwrap().len() >= 6, "{rows}");
}

#[tokio::test]
async fn inference_is_rate_limited_per_user_with_retry_after_while_reads_go_on() {
    let s = strict();
    let (_, session) = person(s, "rita", "analyst").await;
    let (_, key) = session.post(s, "/api/v1/keys", json!({"name": "k"})).await;
    let c = common::client_with_key(key["key"].as_str().unwrap());
    let embed = || {
        c.post(s.url("/v1/embeddings"))
            .json(&json!({"model": MINILM, "input": "hello"}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(embed().await.unwrap().status(), 200);
    }
    let r = embed().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_eq!(
        get_status(&c, s.url("/v1/models")).await,
        200,
        "reads are a separate class"
    );
    // Another user's allowance is untouched.
    let admin = s.client();
    assert_eq!(
        admin
            .post(s.url("/v1/embeddings"))
            .json(&json!({"model": MINILM, "input": "x"}))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_trickling_upload_is_cut_off_and_an_oversized_body_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = strict();
    let (status, project) = s.post("/api/v1/projects", json!({"name": "Slow"})).await;
    assert_eq!(status, 201);
    let pid = project["id"].as_str().unwrap();
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/projects/{pid}/documents HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: 100000\r\n\r\n--XX\r\n",
        s.key
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    // ... and then nothing more: the server answers rather than wait forever.
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), sock.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server kept waiting for the body");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    // Too large for the route's limit: 413, nothing read beyond it.
    let r = reqwest::Client::new()
        .post(s.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(vec![b' '; 128 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(s.get("/healthz").await.0, 200);
}

#[tokio::test]
async fn foreign_host_names_are_refused_and_every_answer_has_security_headers() {
    let s = server();
    let addr = s.base.trim_start_matches("http://").to_string();
    let rebinding = reqwest::Client::builder()
        .resolve("attacker.example", addr.parse().unwrap())
        .build()
        .unwrap();
    let port = addr.rsplit(':').next().unwrap();
    let r = rebinding
        .get(format!("http://attacker.example:{port}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 421);
    for path in ["/healthz", "/api/v1/projects", "/"] {
        let r = s.client().get(s.url(path)).send().await.unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
    }
    // CORS is closed: no other site is told it may read our answers.
    let r = s
        .client()
        .get(s.url("/v1/models"))
        .header("origin", "http://intranet.example")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn administrators_manage_users_and_cannot_remove_the_last_admin() {
    let s = server();
    let u = user(s, "paula", "viewer").await;
    let uid = u["id"].as_str().unwrap();
    let patch = |body: Value, id: String| {
        s.client()
            .patch(s.url(&format!("/api/v1/users/{id}")))
            .json(&body)
            .send()
    };
    let r = patch(json!({"role": "analyst"}), uid.to_string())
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["role"], "analyst");
    for (name, role, password, status) in [
        ("paula", "viewer", "long enough 1", 409),
        ("short", "viewer", "short", 400),
        ("x y", "viewer", "long enough 1", 400),
        ("zed", "root", "long enough 1", 400),
    ] {
        let body = json!({"name": name, "role": role, "password": password});
        assert_eq!(s.post("/api/v1/users", body).await.0, status, "{name}");
    }
    let (_, me) = s.get("/api/v1/auth/me").await;
    let admin_id = me["user"]["id"].as_str().unwrap().to_string();
    let r = patch(json!({"role": "viewer"}), admin_id).await.unwrap();
    assert_eq!(r.status(), 409, "the only administrator stays one");
    let (_, rows) = s.get("/api/v1/audit?action=user.role_change").await;
    assert!(
        rows["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["target"] == uid && r["details"]["to"] == "analyst"),
        "{rows}"
    );
}

/// Runs the `bacopilot` binary.
fn cli(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bacopilot"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn the_cli_manages_users_and_keys_while_the_server_runs() {
    let s = server();
    let data = s.data_dir.to_str().unwrap();
    let out = cli(
        &[
            "users",
            "add",
            "carol",
            "--role",
            "analyst",
            "--password-stdin",
            "--data-dir",
            data,
        ],
        Some("carol's password\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let session = sign_in(s, "carol", "carol's password").await;
    let out = cli(
        &[
            "keys",
            "create",
            "--user",
            "carol",
            "--name",
            "nightly",
            "--scope",
            "full",
            "--data-dir",
            data,
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let key = stdout.lines().last().unwrap().trim().to_string();
    let c = common::client_with_key(&key);
    assert_eq!(get_status(&c, s.url("/api/v1/projects")).await, 200);
    let (_, keys) = session.get(s, "/api/v1/keys").await;
    let id = keys["data"][0]["id"].as_str().unwrap().to_string();
    let out = cli(&["keys", "revoke", &id, "--data-dir", data], None);
    assert!(out.status.success());
    assert_eq!(get_status(&c, s.url("/api/v1/projects")).await, 401);
    let out = cli(&["users", "disable", "carol", "--data-dir", data], None);
    assert!(out.status.success());
    assert_eq!(session.get(s, "/api/v1/auth/me").await.0, 401);
    // Mistakes are clear errors.
    let out = cli(
        &[
            "users",
            "add",
            "carol",
            "--role",
            "analyst",
            "--password-stdin",
            "--data-dir",
            data,
        ],
        Some("another password\n"),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    // Each change is in the audit log, by the operator, from this machine.
    let operator = bacopilot::auth::cli::operator();
    let (_, rows) = s
        .get(&format!("/api/v1/audit?actor={operator}&limit=1000"))
        .await;
    let done: Vec<(&str, &str)> = rows["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["address"] == "local")
        .map(|r| {
            (
                r["action"].as_str().unwrap(),
                r["target"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let carol = keys["data"][0]["user_id"].as_str().unwrap();
    for expected in [
        ("user.create", carol),
        ("key.revoke", id.as_str()),
        ("user.disable", carol),
    ] {
        assert!(done.contains(&expected), "{expected:?} not in {done:?}");
    }
    assert!(done.iter().any(|(a, _)| *a == "key.create"), "{done:?}");
}

#[tokio::test]
async fn audit_rows_appear_for_audited_actions_and_verify_catches_an_edited_row() {
    let s = server();
    let (_, session) = person(s, "audrey", "analyst").await;
    let _ = try_sign_in(s, json!({"name": "audrey", "password": "not the password"}))
        .await
        .unwrap();
    let (_, key) = session
        .post(s, "/api/v1/keys", json!({"name": "audited"}))
        .await;
    session
        .delete(s, &format!("/api/v1/keys/{}", key["id"].as_str().unwrap()))
        .await;
    let (_, project) = session
        .post(s, "/api/v1/projects", json!({"name": "Audited"}))
        .await;
    let pid = project["id"].as_str().unwrap();
    let (_, doc) = session
        .upload(s, pid, "a.md", "# A\n\nAudited text.\n")
        .await;
    let did = doc["id"].as_str().unwrap();
    s.document_when_settled(did).await;
    assert_eq!(
        session.delete(s, &format!("/api/v1/documents/{did}")).await,
        204
    );

    let (status, rows) = s.get("/api/v1/audit?actor=audrey&limit=100").await;
    assert_eq!(status, 200, "{rows}");
    let actions: Vec<&str> = rows["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    for expected in [
        "auth.login",
        "key.create",
        "key.revoke",
        "project.create",
        "document.upload",
        "document.delete",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    let row = &rows["data"][0];
    assert_eq!(row["address"], "127.0.0.1");
    assert!(row["at"].as_str().unwrap().ends_with('Z'));
    let (_, failed) = s.get("/api/v1/audit?action=auth.login_failed").await;
    assert!(failed["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["target"] == "audrey" && r["actor"].is_null()));
    let (_, family) = s.get("/api/v1/audit?action=key&actor=audrey").await;
    assert!(family["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["action"].as_str().unwrap().starts_with("key.")));
    assert_eq!(family["data"].as_array().unwrap().len(), 2);

    // CSV export, with the same filter.
    let r = s
        .client()
        .get(s.url("/api/v1/audit/export?action=key&actor=audrey"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "seq,at,actor,address,action,target,details");
    assert_eq!(lines.len(), 3, "{csv}");

    // The log is intact; the database refuses edits outright.
    let data = s.data_dir.to_str().unwrap();
    let out = cli(&["audit", "verify", "--data-dir", data], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = common::Stores::open_writable(&s.data_dir).await;
    let edit = sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
        .execute(&db)
        .await;
    assert!(edit.is_err(), "the append-only trigger let an edit through");
}

#[tokio::test]
async fn verify_names_the_row_that_was_edited_behind_the_servers_back() {
    let dir = std::env::temp_dir().join(format!("bacopilot-audit-tamper-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.to_str().unwrap();
    for name in ["one", "two", "three"] {
        let out = cli(
            &[
                "users",
                "add",
                name,
                "--role",
                "viewer",
                "--password-stdin",
                "--data-dir",
                data,
            ],
            Some("a long password\n"),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = cli(&["audit", "verify", "--data-dir", data], None);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 rows"));
    // Someone with the database file drops the guard and rewrites history.
    let db = common::Stores::open_writable(&dir).await;
    sqlx::query("DROP TRIGGER audit_log_no_update")
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET details = '{\"name\":\"someone else\"}' WHERE seq = 2")
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let out = cli(&["audit", "verify", "--data-dir", data], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row 2"), "{err}");
}

#[tokio::test]
async fn the_first_start_offers_a_one_time_setup_link_and_no_default_password() {
    let dir = common::models_dir("auth-setup", &[SMOL, MINILM]);
    let s = common::start_with(&dir, false, |_| {});
    let token = s
        .setup_token
        .clone()
        .expect("a setup token on a server with no users");
    let anonymous = reqwest::Client::new();
    assert_eq!(get_status(&anonymous, s.url("/api/v1/projects")).await, 401);
    for (name, password) in [("admin", "admin"), ("admin", "password"), ("admin", "")] {
        let r = anonymous
            .post(s.url("/api/v1/auth/login"))
            .json(&json!({"name": name, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let setup = |token: String, password: &'static str| {
        anonymous
            .post(s.url("/api/v1/auth/setup"))
            .json(&json!({"token": token, "name": "root", "password": password}))
            .send()
    };
    assert_eq!(
        setup("wrong".into(), "a long password")
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        setup(token.clone(), "short").await.unwrap().status(),
        400,
        "the link survives a bad password"
    );
    let r = setup(token.clone(), "a long password").await.unwrap();
    assert_eq!(r.status(), 201);
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("HttpOnly"));
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["user"]["role"], "admin");
    assert_eq!(setup(token, "a long password").await.unwrap().status(), 409);
    s.stop();
}

#[tokio::test]
async fn tls_serves_with_the_configured_certificate() {
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls;
    let dir = common::models_dir("auth-tls", &[SMOL, MINILM]);
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), cert.key_pair.serialize_pem()).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    let s = common::start_tls(&dir, |c| {
        c.server.tls_cert = cert_path;
        c.server.tls_key = key_path;
    });
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let addr = s.base.rsplit("//").next().unwrap().to_string();
    let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    tls.write_all(format!("GET /v1/models HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n", s.key).as_bytes())
        .await
        .unwrap();
    let mut answer = String::new();
    tls.read_to_string(&mut answer).await.unwrap_or_default();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.to_lowercase().contains("strict-transport-security"),
        "{answer}"
    );
    s.stop();
}

#[tokio::test]
async fn a_metrics_key_reads_metrics_and_nothing_else() {
    let s = server();
    let (status, created) = s
        .post(
            "/api/v1/keys",
            json!({"name": "prometheus", "scope": "metrics"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["scope"], "metrics");
    let scraper = common::client_with_key(created["key"].as_str().unwrap());
    let r = scraper.get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("bacopilot_http_request_duration_seconds_bucket"),
        "route latency"
    );
    assert!(text.contains("bacopilot_webhook_deliveries_failed_total"));
    for path in [
        "/v1/models",
        "/api/v1/projects",
        "/api/v1/keys",
        "/api/v1/audit",
    ] {
        assert_eq!(get_status(&scraper, s.url(path)).await, 403, "{path}");
    }
    // An analyst may hold such a key, but their role does not read metrics.
    let (_, session) = person(s, "mia", "analyst").await;
    let (status, theirs) = session
        .post(
            s,
            "/api/v1/keys",
            json!({"name": "scraper", "scope": "metrics"}),
        )
        .await;
    assert_eq!(status, 201, "{theirs}");
    let theirs = common::client_with_key(theirs["key"].as_str().unwrap());
    assert_eq!(get_status(&theirs, s.url("/metrics")).await, 403);
}
