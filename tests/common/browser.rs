//! A minimal Chrome DevTools Protocol client for the browser tests.
//!
//! Starts headless Chromium (`/usr/bin/chromium`, or `$CHROMIUM`) with a fresh
//! profile, talks CDP over its browser WebSocket, and drives pages attached
//! with `flatten: true` (one socket, commands tagged with a `sessionId`).
//! A reader task hands each response to the request waiting on its `id` and
//! each event to the page whose session it names. Protocol reference:
//! <https://chromedevtools.github.io/devtools-protocol/>.
//! Helpers panic on failure: they are for tests.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

/// A CDP command that gets no answer within this long means a hung browser.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

type Reply = Result<Value, String>;

/// Per-page state the reader task fills in.
struct Session {
    events: mpsc::UnboundedSender<Value>,
    errors: Arc<Mutex<Vec<String>>>,
}

struct Conn {
    out: mpsc::UnboundedSender<String>,
    next_id: AtomicU64,
    pending: Mutex<HashMap<u64, oneshot::Sender<Reply>>>,
    sessions: Mutex<HashMap<String, Session>>,
}

impl Conn {
    fn post(&self, session: Option<&str>, method: &str, params: Value) -> oneshot::Receiver<Reply> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        self.out
            .send(msg.to_string())
            .expect("the CDP connection is closed");
        rx
    }

    async fn call(&self, session: Option<&str>, method: &str, params: Value) -> Value {
        let rx = self.post(session, method, params);
        match tokio::time::timeout(COMMAND_TIMEOUT, rx).await {
            Ok(Ok(Ok(v))) => v,
            Ok(Ok(Err(e))) => panic!("CDP {method} failed: {e}"),
            Ok(Err(_)) => panic!("CDP connection closed during {method}"),
            Err(_) => panic!("CDP {method} got no answer in {COMMAND_TIMEOUT:?}"),
        }
    }

    /// Routes one message from the browser.
    fn dispatch(&self, msg: Value) {
        if let Some(id) = msg["id"].as_u64() {
            if let Some(tx) = self.pending.lock().unwrap().remove(&id) {
                let reply = match msg.get("error") {
                    Some(e) => Err(e.to_string()),
                    None => Ok(msg["result"].clone()),
                };
                let _ = tx.send(reply);
            }
            return;
        }
        let Some(sid) = msg["sessionId"].as_str() else {
            return;
        };
        let sessions = self.sessions.lock().unwrap();
        let Some(session) = sessions.get(sid) else {
            return;
        };
        if let Some(error) = error_text(&msg) {
            session.errors.lock().unwrap().push(error);
        }
        if msg["method"] == "Page.javascriptDialogOpening" {
            // alert()/confirm() would block the page and every later command.
            drop(self.post(
                Some(sid),
                "Page.handleJavaScriptDialog",
                json!({ "accept": true }),
            )); // answer unneeded
        }
        let _ = session.events.send(msg);
    }
}

/// The text of an event that reports an error in the page, if it is one.
fn error_text(msg: &Value) -> Option<String> {
    let p = &msg["params"];
    match msg["method"].as_str()? {
        "Runtime.exceptionThrown" => {
            let d = &p["exceptionDetails"];
            let text = d["exception"]["description"]
                .as_str()
                .or(d["text"].as_str());
            Some(format!("exception: {}", text.unwrap_or("?")))
        }
        "Log.entryAdded" if p["entry"]["level"] == "error" => Some(format!(
            "{}: {} {}",
            p["entry"]["source"].as_str().unwrap_or("log"),
            p["entry"]["text"].as_str().unwrap_or(""),
            p["entry"]["url"].as_str().unwrap_or("")
        )),
        "Runtime.consoleAPICalled" if p["type"] == "error" => {
            let args: Vec<String> = p["args"]
                .as_array()?
                .iter()
                .map(|a| {
                    a["value"]
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| a["description"].to_string())
                })
                .collect();
            Some(format!("console.error: {}", args.join(" ")))
        }
        "Runtime.bindingCalled" if p["name"] == CSP_BINDING => Some(format!(
            "CSP violation: {}",
            p["payload"].as_str().unwrap_or("")
        )),
        "Page.javascriptDialogOpening" => Some(format!("javascript dialog: {}", p["message"])),
        _ => None,
    }
}

const CSP_BINDING: &str = "__cdpCspViolation";

pub struct Browser {
    child: Child,
    profile: PathBuf,
    conn: Arc<Conn>,
}

pub struct Page {
    conn: Arc<Conn>,
    session: String,
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<Value>>,
    errors: Arc<Mutex<Vec<String>>>,
}

impl Browser {
    /// Starts headless Chromium and connects to it.
    pub async fn launch() -> Browser {
        let exe = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        static LAUNCHES: AtomicU64 = AtomicU64::new(0);
        let profile = std::env::temp_dir().join(format!(
            "bacopilot-chromium-{}-{}",
            std::process::id(),
            LAUNCHES.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).unwrap();
        let mut child = Command::new(&exe)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {exe} (set $CHROMIUM): {e}"));
        // Chromium prints its endpoint on stderr; keep draining it afterwards
        // so a full pipe never stalls the browser.
        let stderr = child.stderr.take().unwrap();
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut seen = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = url_tx.send(Ok(url.trim().to_owned()));
                } else if seen.len() < 4000 {
                    seen.push_str(&line);
                    seen.push('\n');
                }
            }
            let _ = url_tx.send(Err(seen));
        });
        let url = tokio::task::spawn_blocking(move || url_rx.recv_timeout(Duration::from_secs(30)))
            .await
            .unwrap()
            .unwrap_or_else(|_| panic!("{exe} printed no DevTools endpoint in 30 s"))
            .unwrap_or_else(|stderr| panic!("{exe} exited before listening:\n{stderr}"));
        let (ws, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .expect("connect to DevTools");
        let (mut sink, mut stream) = ws.split();
        let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            while let Some(text) = out_rx.recv().await {
                if sink.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
        });
        let conn = Arc::new(Conn {
            out,
            next_id: AtomicU64::new(1),
            pending: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
        });
        let reader = Arc::downgrade(&conn);
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let (Message::Text(text), Some(conn)) = (msg, reader.upgrade()) else {
                    continue;
                };
                if let Ok(v) = serde_json::from_str::<Value>(&text) {
                    conn.dispatch(v);
                }
            }
        });
        Browser {
            child,
            profile,
            conn,
        }
    }

    /// A new tab with Page, Runtime and Log events on, and CSP violations reported.
    pub async fn new_page(&self) -> Page {
        let target = self
            .conn
            .call(None, "Target.createTarget", json!({ "url": "about:blank" }))
            .await;
        let attached = self
            .conn
            .call(
                None,
                "Target.attachToTarget",
                json!({ "targetId": target["targetId"], "flatten": true }),
            )
            .await;
        let session = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_owned();
        let (tx, rx) = mpsc::unbounded_channel();
        let errors = Arc::new(Mutex::new(Vec::new()));
        let state = Session {
            events: tx,
            errors: errors.clone(),
        };
        self.conn
            .sessions
            .lock()
            .unwrap()
            .insert(session.clone(), state);
        let page = Page {
            conn: self.conn.clone(),
            session,
            events: tokio::sync::Mutex::new(rx),
            errors,
        };
        for domain in ["Page.enable", "Runtime.enable", "Log.enable", "DOM.enable"] {
            page.cmd(domain, json!({})).await;
        }
        page.cmd("Runtime.addBinding", json!({ "name": CSP_BINDING }))
            .await;
        let hook = format!(
            "document.addEventListener('securitypolicyviolation', e => \
             {CSP_BINDING}(`${{e.violatedDirective}} blocked ${{e.blockedURI || 'inline'}} at ${{e.sourceFile}}:${{e.lineNumber}}`));"
        );
        page.cmd(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": hook }),
        )
        .await;
        page
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Page {
    pub async fn cmd(&self, method: &str, params: Value) -> Value {
        self.conn.call(Some(&self.session), method, params).await
    }

    /// Navigates and waits for the load event (a change of only the hash
    /// returns at once, as the page stays loaded).
    pub async fn goto(&self, url: &str) {
        let mut events = self.events.lock().await;
        while events.try_recv().is_ok() {} // drop events of the previous document
        let nav = self.cmd("Page.navigate", json!({ "url": url })).await;
        if let Some(e) = nav["errorText"].as_str() {
            panic!("navigation to {url} failed: {e}");
        }
        if nav.get("loaderId").is_none() {
            return; // same-document (hash) navigation: there is no load event
        }
        let wait = async {
            while let Some(ev) = events.recv().await {
                if ev["method"] == "Page.loadEventFired" {
                    return;
                }
            }
        };
        tokio::time::timeout(COMMAND_TIMEOUT, wait)
            .await
            .unwrap_or_else(|_| panic!("{url} did not finish loading"));
    }

    async fn try_eval(&self, js: &str) -> Result<Value, String> {
        let params = json!({ "expression": js, "awaitPromise": true, "returnByValue": true, "userGesture": true });
        let r = self.cmd("Runtime.evaluate", params).await;
        if let Some(d) = r.get("exceptionDetails") {
            let text = d["exception"]["description"]
                .as_str()
                .or(d["text"].as_str())
                .unwrap_or("?");
            return Err(text.to_owned());
        }
        Ok(r["result"].get("value").cloned().unwrap_or(Value::Null))
    }

    /// Evaluates `js` (awaiting a promise) and returns its value as JSON.
    pub async fn eval(&self, js: &str) -> Value {
        self.try_eval(js)
            .await
            .unwrap_or_else(|e| panic!("JS exception in `{js}`:\n{e}"))
    }

    /// Polls `js_condition` every 50 ms until it is truthy and returns its value.
    /// An exception counts as "not yet" (the element may not exist yet).
    pub async fn wait_for(&self, js_condition: &str, timeout: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let last = match self.try_eval(js_condition).await {
                Ok(v) if truthy(&v) => return v,
                Ok(v) => format!("last value: {v}"),
                Err(e) => format!("last exception: {e}"),
            };
            if tokio::time::Instant::now() >= deadline {
                panic!("timed out after {timeout:?} waiting for `{js_condition}` ({last})");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs the JS `body` with `e` bound to the first element matching
    /// `selector`; panics when there is none.
    async fn on_element(&self, selector: &str, body: &str) -> Value {
        let sel = json!(selector);
        let js = format!(
            "(() => {{ const e = document.querySelector({sel}); \
             if (!e) throw new Error('no element ' + {sel}); {body} }})()"
        );
        self.eval(&js).await
    }

    /// A real mouse click at the centre of the first element matching `selector`.
    pub async fn click(&self, selector: &str) {
        let centre = "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); \
                      return [r.left + r.width / 2, r.top + r.height / 2];";
        let at = self.on_element(selector, centre).await;
        for kind in ["mousePressed", "mouseReleased"] {
            let params =
                json!({ "type": kind, "x": at[0], "y": at[1], "button": "left", "clickCount": 1 });
            self.cmd("Input.dispatchMouseEvent", params).await;
        }
    }

    /// Sets an input's or textarea's value and fires `input` and `change`.
    pub async fn type_into(&self, selector: &str, text: &str) {
        let body = format!(
            "e.focus(); e.value = {}; \
             for (const t of ['input', 'change']) e.dispatchEvent(new Event(t, {{bubbles: true}}));",
            json!(text)
        );
        self.on_element(selector, &body).await;
    }

    /// Focuses `selector` and presses Enter as a keyboard would.
    pub async fn press_enter(&self, selector: &str) {
        self.on_element(selector, "e.focus();").await;
        for (kind, text) in [("keyDown", "\r"), ("keyUp", "")] {
            let key = json!({ "type": kind, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": text });
            self.cmd("Input.dispatchKeyEvent", key).await;
        }
    }

    /// Puts `path` into the file input `selector` (fires `input` and `change`).
    pub async fn set_file(&self, selector: &str, path: &Path) {
        let doc = self.cmd("DOM.getDocument", json!({ "depth": 0 })).await;
        let found = self
            .cmd(
                "DOM.querySelector",
                json!({ "nodeId": doc["root"]["nodeId"], "selector": selector }),
            )
            .await;
        let node = found["nodeId"].as_u64().filter(|&n| n != 0);
        let node = node.unwrap_or_else(|| panic!("no element {selector}"));
        let file = path
            .canonicalize()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        self.cmd(
            "DOM.setFileInputFiles",
            json!({ "nodeId": node, "files": [file] }),
        )
        .await;
    }

    /// Exceptions, console errors, failed loads and CSP violations seen so far.
    /// Signs in through the sign-in page and waits for the projects page.
    pub async fn sign_in(&self, base: &str, name: &str, password: &str) {
        self.goto(&format!("{base}/login")).await;
        self.wait_for(
            "document.querySelector('#login-submit')",
            Duration::from_secs(20),
        )
        .await;
        self.type_into("#login-name", name).await;
        self.type_into("#login-password", password).await;
        self.click("#login-submit").await;
        self.wait_for(
            "location.pathname === '/' && document.querySelector('#whoami')",
            Duration::from_secs(30),
        )
        .await;
    }

    pub async fn console_errors(&self) -> Vec<String> {
        self.errors.lock().unwrap().clone()
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}
