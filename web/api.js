// The JSON API under /api/v1, uploads with progress, job following and
// Server-Sent Events read from a fetch body. Also the signed-in session: its
// CSRF token goes on every request that changes something, and a 401 sends
// the main app to the login page.

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

// Error bodies are {"error": {"code", "message", "details"}}; anything else
// (a proxy's HTML page, an empty body) still gets a readable message.
function errorFrom(status, text) {
  try {
    const e = JSON.parse(text).error;
    if (e && e.message) return new ApiError(status, e.code || "error", e.message, e.details);
  } catch {
    /* not JSON */
  }
  return new ApiError(status, "http_" + status, `Request failed with HTTP status ${status}`);
}

// ---- session ----------------------------------------------------------------

let session = null; // promise of the /auth/me answer, shared by every caller
let signedInApp = false;
let redirecting = false;

/// The signed-in identity: {user: {id, name, role}, via, csrf_token,
/// session_id}, fetched once and cached. A failed look-up is not cached.
export function whoami() {
  if (!session) {
    const pending = api("GET", "/api/v1/auth/me");
    session = pending;
    pending.catch(() => {
      if (session === pending) session = null;
    });
  }
  return session;
}

/// Caches the session a login or setup answer carries (same shape as /auth/me).
export function setSession(me) {
  session = Promise.resolve(me);
}

/// Marks this page as the signed-in app (the login page is not): requests
/// carry the session's CSRF token, and a 401 sends the browser to the login
/// page and then back here. On the login page a wrong password is a 401.
export function requireSignIn() {
  signedInApp = true;
}

function unauthorized() {
  if (!signedInApp || redirecting) return;
  redirecting = true;
  const here = location.pathname + location.search + location.hash;
  location.assign(`/login?next=${encodeURIComponent(here)}`);
}

const SAFE_METHODS = new Set(["GET", "HEAD"]);

// The header a cookie session needs on anything but GET/HEAD. The login page
// has no session yet, so it neither has a token nor asks for one.
async function csrfHeaders(method) {
  if (SAFE_METHODS.has(method.toUpperCase())) return {};
  if (!signedInApp && !session) return {};
  let me;
  try {
    me = await whoami();
  } catch (e) {
    if (e.status === 401) return {};
    throw e;
  }
  return me && me.csrf_token ? { "X-CSRF-Token": me.csrf_token } : {};
}

// A 403 naming CSRF means our cached token went stale (the session was
// replaced in another tab): fetch a fresh one and try once more.
const csrfRejected = (status, text) => status === 403 && /csrf/i.test(errorFrom(status, text).code);

/// fetch() with the CSRF header added and the 401 redirect applied.
async function send(path, init) {
  const method = init.method || "GET";
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(path, { ...init, headers: { ...init.headers, ...(await csrfHeaders(method)) } });
    if (res.status === 401) unauthorized();
    if (attempt === 0 && !SAFE_METHODS.has(method.toUpperCase()) && res.status === 403) {
      const text = await res.clone().text();
      if (csrfRejected(res.status, text)) {
        session = null;
        continue;
      }
    }
    return res;
  }
}

// ---- JSON API ---------------------------------------------------------------

/// `method` `path` with an optional JSON body; resolves to the parsed answer
/// (null for 204) or rejects with an ApiError.
export async function api(method, path, body, signal) {
  const init = { method, headers: { Accept: "application/json" }, signal };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await send(path, init);
  const text = await res.text();
  if (!res.ok) {
    const err = errorFrom(res.status, text);
    // Seconds to wait after a 429 (RFC 9110 §10.2.3), when the server says.
    err.retryAfter = Number(res.headers.get("Retry-After")) || null;
    throw err;
  }
  return text ? JSON.parse(text) : null;
}

/// Like api() but resolves to the answer's text (CSV and other non-JSON).
export async function apiText(method, path, signal) {
  const res = await send(path, { method, headers: { Accept: "text/csv, text/plain, */*" }, signal });
  const text = await res.text();
  if (!res.ok) throw errorFrom(res.status, text);
  return text;
}

/// Uploads `file` as multipart field "file"; XMLHttpRequest because fetch has
/// no upload progress. `onProgress(fraction)` runs as bytes leave.
export async function uploadDocument(pid, file, onProgress, signal) {
  const headers = { Accept: "application/json", ...(await csrfHeaders("POST")) };
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1/projects/${encodeURIComponent(pid)}/documents`);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText));
        } catch {
          reject(new ApiError(xhr.status, "bad_response", "The server's answer was not JSON"));
        }
      } else {
        if (xhr.status === 401) unauthorized();
        reject(errorFrom(xhr.status, xhr.responseText));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "The upload failed: the server could not be reached"));
    xhr.onabort = () => reject(new DOMException("Upload cancelled", "AbortError"));
    if (signal) signal.addEventListener("abort", () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

/// Follows job `jid` until it ends, calling `onUpdate(job)` on each change.
/// Uses the SSE feed, and falls back to polling every 500 ms when the feed
/// fails (no EventSource, a proxy that buffers, a dropped connection).
export function followJob(jid, onUpdate, signal) {
  const url = `/api/v1/jobs/${encodeURIComponent(jid)}`;
  return new Promise((resolve, reject) => {
    let finished = false;
    const finish = (job) => {
      finished = true;
      resolve(job);
    };
    const seen = (job) => {
      if (finished) return;
      onUpdate(job);
      if (TERMINAL.has(job.status)) finish(job);
    };
    const poll = async () => {
      while (!finished && !signal?.aborted) {
        try {
          seen(await api("GET", url, undefined, signal));
        } catch (e) {
          if (e.name === "AbortError") break;
          finished = true;
          return reject(e);
        }
        if (!finished) await new Promise((r) => setTimeout(r, 500));
      }
    };
    if (typeof EventSource === "undefined") return void poll();
    const es = new EventSource(url + "/events");
    signal?.addEventListener("abort", () => es.close(), { once: true });
    const onEvent = (e) => {
      try {
        seen(JSON.parse(e.data));
      } catch {
        return; // a keep-alive or a line we do not know
      }
      if (finished) es.close();
    };
    es.addEventListener("job", onEvent);
    es.onmessage = onEvent;
    // The server closes the feed after a terminal status; EventSource would
    // reconnect, so an error after the end is expected and before it means poll.
    es.onerror = () => {
      es.close();
      if (!finished) poll();
    };
  });
}

/// Splits a text/event-stream into {event, data} records (WHATWG HTML §9.2).
export class SseParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = "";
    this.event = "";
    this.data = [];
  }
  push(chunk) {
    const buf = this.buffer + chunk;
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i];
      if (c !== "\n" && c !== "\r") continue;
      if (c === "\r" && i + 1 === buf.length) break; // maybe half of "\r\n"
      this.line(buf.slice(start, i));
      if (c === "\r" && buf[i + 1] === "\n") i++;
      start = i + 1;
    }
    this.buffer = buf.slice(start);
  }
  end() {
    if (this.buffer) this.line(this.buffer.replace(/\r$/, ""));
    this.buffer = "";
    this.line("");
  }
  line(line) {
    if (line === "") {
      if (this.data.length) this.onEvent({ event: this.event || "message", data: this.data.join("\n") });
      this.event = "";
      this.data = [];
      return;
    }
    if (line.startsWith(":")) return; // comment / keep-alive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
  }
}

/// Sends a chat message and streams the answer. `on.token(text)`,
/// `on.citation(c)`, `on.done({message, usage})`, `on.error({code, message})`.
/// Resolves when the stream ends.
export async function streamMessage(cid, content, mode, on, signal) {
  const res = await send(`/api/v1/conversations/${encodeURIComponent(cid)}/messages`, {
    method: "POST",
    headers: { Accept: "text/event-stream", "Content-Type": "application/json" },
    body: JSON.stringify({ content, mode }),
    signal,
  });
  if (!res.ok) throw errorFrom(res.status, await res.text());
  if (!(res.headers.get("Content-Type") || "").includes("text/event-stream")) {
    on.done(await res.json()); // a server that answered with JSON after all
    return;
  }
  const parser = new SseParser(({ event, data }) => {
    let value;
    try {
      value = JSON.parse(data);
    } catch {
      return; // e.g. "data: [DONE]"
    }
    if (event === "token") on.token(value.text ?? "");
    else if (event === "citation") on.citation(value);
    else if (event === "done") on.done(value);
    else if (event === "error") on.error(value.error || value);
  });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parser.push(value);
  }
  parser.end();
}
