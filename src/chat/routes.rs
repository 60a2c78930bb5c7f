//! Conversations and messages: JSON, server-sent events and a WebSocket, all
//! carrying the same events (`token`, `citation`, `done`, `error`).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::ws::{
    close_code, CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade,
};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::answer::{self, ChatEvent, Context};
use super::{Conversation, FoundMessage, Message, Mode};
use crate::app::AppState;
use crate::audit::{self, Actor};
use crate::auth::limits::Class;
use crate::auth::Identity;
use crate::http::extract::ApiJson;
use crate::http::routes::Routes;
use crate::http::AppError;
use crate::projects::{access, access_within, Need};
use crate::store::{new_id, Cursor, Page};
use utoipa_axum::routes;

/// What answering reads, from the application's state.
fn context(s: &AppState) -> Context<'_> {
    Context {
        index: crate::retrieval::routes::index(s),
        settings: &s.config.chat,
    }
}

/// An event's name and JSON, the same over SSE and the WebSocket; a failure
/// is the error body every other answer carries.
fn wire(event: ChatEvent) -> (&'static str, serde_json::Value) {
    let name = event.name();
    let data = match event {
        ChatEvent::Token(text) => json!({ "text": text }),
        ChatEvent::Citation(c) => json!(c),
        ChatEvent::Done { message, usage } => json!({ "message": message, "usage": usage }),
        ChatEvent::Error(e) => AppError::from(e).body(),
    };
    (name, data)
}

pub fn router() -> Routes {
    Routes::new()
        .api(routes!(list_conversations, create_conversation))
        .api(routes!(search_messages))
        .api(routes!(show_conversation, delete_conversation))
        .api(routes!(list_messages, post_message))
        .api(routes!(websocket))
}

#[utoipa::path(get, path = "/api/v1/projects/{pid}/conversations", tag = "chat", params(("pid" = String, Path), Cursor),
    responses((status = 200, body = Page<Conversation>), (status = 404)))]
pub async fn list_conversations(
    State(s): State<AppState>,
    who: Identity,
    Path(pid): Path<String>,
    Query(c): Query<Cursor>,
) -> Result<Json<Page<Conversation>>, AppError> {
    access(&s.store.pool, &who, &pid, Need::Read).await?;
    let rows = super::conversations(&s.store.pool, &pid, c.after(), c.limit()).await?;
    Ok(Json(Page::from_rows(rows, c.limit(), |c| &c.id)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConversation {
    /// Defaults to the start of the first question.
    #[serde(default)]
    pub title: String,
}

#[utoipa::path(post, path = "/api/v1/projects/{pid}/conversations", params(("pid" = String, Path)), tag = "chat",
    request_body = NewConversation, responses((status = 201, body = Conversation), (status = 404)))]
pub async fn create_conversation(
    State(s): State<AppState>,
    who: Identity,
    Path(pid): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Conversation>), AppError> {
    access(&s.store.pool, &who, &pid, Need::Write).await?;
    // The body is optional: no body means no title yet.
    let body: NewConversation = if body.iter().all(u8::is_ascii_whitespace) {
        NewConversation::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| AppError::invalid("title", format!("Invalid request body: {e}")))?
    };
    let title = crate::store::text_field("title", &body.title, false, 200)?;
    let id = new_id();
    sqlx::query("INSERT INTO conversations (id, project_id, title) VALUES (?1, ?2, ?3)")
        .bind(&id)
        .bind(&pid)
        .bind(&title)
        .execute(&s.store.pool)
        .await?;
    let details = json!({"project_id": pid, "title": title});
    audit::record(
        &s.store.pool,
        Actor::from(&who),
        "conversation.create",
        Some(&id),
        details,
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(super::conversation(&s.store.pool, &id).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/conversations/{cid}", params(("cid" = String, Path)), tag = "chat",
    responses((status = 200, body = Conversation), (status = 404)))]
pub async fn show_conversation(
    State(s): State<AppState>,
    who: Identity,
    Path(cid): Path<String>,
) -> Result<Json<Conversation>, AppError> {
    Ok(Json(visible(&s, &who, &cid, Need::Read).await?))
}

#[utoipa::path(delete, path = "/api/v1/conversations/{cid}", params(("cid" = String, Path)), tag = "chat",
    responses((status = 204), (status = 404)))]
pub async fn delete_conversation(
    State(s): State<AppState>,
    who: Identity,
    Path(cid): Path<String>,
) -> Result<StatusCode, AppError> {
    let c = visible(&s, &who, &cid, Need::Write).await?;
    sqlx::query("DELETE FROM conversations WHERE id = ?1")
        .bind(&c.id)
        .execute(&s.store.pool)
        .await?;
    let details = json!({"project_id": c.project_id, "title": c.title});
    audit::record(
        &s.store.pool,
        Actor::from(&who),
        "conversation.delete",
        Some(&c.id),
        details,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageSearch {
    /// Words that must all occur in the message.
    pub q: String,
    /// Results (1–100, default 20).
    pub limit: Option<i64>,
}

/// Full-text search over the project's conversation history.
#[utoipa::path(get, path = "/api/v1/projects/{pid}/messages", tag = "chat", params(("pid" = String, Path), MessageSearch),
    responses((status = 200, body = Page<FoundMessage>), (status = 404)))]
pub async fn search_messages(
    State(s): State<AppState>,
    who: Identity,
    Path(pid): Path<String>,
    Query(q): Query<MessageSearch>,
) -> Result<Json<Page<FoundMessage>>, AppError> {
    access(&s.store.pool, &who, &pid, Need::Read).await?;
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    let found = super::search_messages(&s.store.pool, &pid, &q.q, limit).await?;
    Ok(Json(Page::all(found)))
}

#[utoipa::path(get, path = "/api/v1/conversations/{cid}/messages", params(("cid" = String, Path)), tag = "chat",
    responses((status = 200, body = Page<Message>), (status = 404)))]
pub async fn list_messages(
    State(s): State<AppState>,
    who: Identity,
    Path(cid): Path<String>,
) -> Result<Json<Page<Message>>, AppError> {
    let c = visible(&s, &who, &cid, Need::Read).await?;
    Ok(Json(Page::all(
        super::messages(&s.store.pool, &c.id).await?,
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ask {
    pub content: String,
    #[serde(default)]
    pub mode: Mode,
}

/// Asks a question. With `Accept: text/event-stream` the answer streams as
/// `token`, `citation`, `done` (the stored message and usage) or `error`
/// events; otherwise the stored answer comes back as `{"message": …}`.
#[utoipa::path(post, path = "/api/v1/conversations/{cid}/messages", params(("cid" = String, Path)), tag = "chat", request_body = Ask,
    responses((status = 200, description = "`{\"message\": Message}`, or an event stream"),
        (status = 400), (status = 404), (status = 429), (status = 503)))]
pub async fn post_message(
    State(s): State<AppState>,
    who: Identity,
    Path(cid): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Ask>,
) -> Result<Response, AppError> {
    let conversation = visible(&s, &who, &cid, Need::Write).await?;
    let rx = answer::ask(
        context(&s),
        &conversation,
        &body.content,
        body.mode,
        (&who.name, &who.address),
    )
    .await?;
    let details = json!({"project_id": conversation.project_id, "via": "http"});
    audit::record(
        &s.store.pool,
        Actor::from(&who),
        "chat.ask",
        Some(&cid),
        details,
    )
    .await;
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    if wants_stream {
        let stream = tokio_stream::wrappers::ReceiverStream::new(rx).map(|e| {
            let (name, data) = wire(e);
            Ok::<_, Infallible>(Event::default().event(name).data(data.to_string()))
        });
        return Ok(Sse::new(stream)
            .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
            .into_response());
    }
    let mut rx = rx;
    while let Some(event) = rx.recv().await {
        match event {
            ChatEvent::Done { message, usage } => {
                return Ok(Json(json!({"message": message, "usage": usage})).into_response())
            }
            ChatEvent::Error(e) => {
                let body = AppError::from(e).body();
                return Ok((StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response());
            }
            ChatEvent::Token(_) | ChatEvent::Citation(_) => {}
        }
    }
    Err(AppError::Internal(
        "the answer ended without a result".into(),
    ))
}

/// A WebSocket per conversation: each text frame `{"content", "mode"}` asks a
/// question; every event comes back as `{"event": name, "data": …}`. One
/// question at a time; closing the socket stops the answer.
#[utoipa::path(get, path = "/api/v1/conversations/{cid}/ws", params(("cid" = String, Path)), tag = "chat",
    responses((status = 101, description = "WebSocket upgrade"), (status = 403, description = "Origin of another site"), (status = 404)))]
pub async fn websocket(
    State(s): State<AppState>,
    who: Identity,
    Path(cid): Path<String>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, AppError> {
    // Browsers send cookies on a WebSocket handshake from any site.
    crate::http::guard::authenticate::check_same_site(&headers)?;
    let conversation = visible(&s, &who, &cid, Need::Write).await?;
    Ok(ws
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| serve_socket(s, who, conversation, socket)))
}

async fn serve_socket(
    s: AppState,
    who: Identity,
    conversation: Conversation,
    mut socket: WebSocket,
) {
    let _open = OpenSocket::count(&s.sockets);
    let send = |event: &str, data: serde_json::Value| {
        WsMessage::Text(json!({"event": event, "data": data}).to_string().into())
    };
    let stopping = s.stopping.clone();
    loop {
        let frame = tokio::select! {
            frame = socket.recv() => frame,
            () = stopping.cancelled() => return close_for_shutdown(socket).await,
        };
        let Some(Ok(frame)) = frame else { return };
        let text = match frame {
            WsMessage::Text(t) => t,
            WsMessage::Close(_) => return,
            _ => continue,
        };
        let ask: Ask = match serde_json::from_str(&text) {
            Ok(a) => a,
            Err(e) => {
                let err = AppError::invalid("content", format!("Invalid message: {e}"));
                if socket.send(send("error", err.body())).await.is_err() {
                    return;
                }
                continue;
            }
        };
        // The socket outlives the request that opened it: each question is
        // asked as the caller stands now, or the socket is closed.
        let who = match still_allowed(&s, &who, &conversation.id).await {
            Ok(Some(now)) => now,
            Ok(None) => return close_for_policy(socket).await,
            Err(e) => {
                if socket.send(send("error", e.body())).await.is_err() {
                    return;
                }
                continue;
            }
        };
        // Each question counts against the asker's inference limit, as over HTTP.
        if let Err(wait) = s.auth.limits.take(&who.user_id, Class::Inference) {
            let err = AppError::RateLimited {
                retry_after: wait.as_secs().max(1),
                message: format!("Rate limit reached; retry in {} s", wait.as_secs().max(1)),
            };
            if socket.send(send("error", err.body())).await.is_err() {
                return;
            }
            continue;
        }
        let mut rx = match answer::ask(
            context(&s),
            &conversation,
            &ask.content,
            ask.mode,
            (&who.name, &who.address),
        )
        .await
        {
            Ok(rx) => {
                let details = json!({"project_id": conversation.project_id, "via": "websocket"});
                audit::record(
                    &s.store.pool,
                    Actor::from(&who),
                    "chat.ask",
                    Some(&conversation.id),
                    details,
                )
                .await;
                rx
            }
            Err(e) => {
                if socket
                    .send(send("error", AppError::from(e).body()))
                    .await
                    .is_err()
                {
                    return;
                }
                continue;
            }
        };
        // Watch the socket while the answer streams: a Close (or a dead
        // connection) returns, and dropping `rx` stops the generation.
        loop {
            tokio::select! {
                event = rx.recv() => {
                    let Some(event) = event else { break };
                    let (name, data) = wire(event);
                    if socket.send(send(name, data)).await.is_err() {
                        return;
                    }
                }
                frame = socket.recv() => match frame {
                    Some(Ok(WsMessage::Text(_))) => {
                        let busy = AppError::invalid("content", "One question at a time: wait for `done`");
                        if socket.send(send("error", busy.body())).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => return,
                    Some(Ok(_)) => {}
                },
                () = stopping.cancelled() => return close_for_shutdown(socket).await,
            }
        }
    }
}

/// The caller with their current role while their session or key is live
/// and they may still write to the conversation; `None` once not.
async fn still_allowed(
    s: &AppState,
    who: &Identity,
    cid: &str,
) -> Result<Option<Identity>, AppError> {
    let Some(now) = who.recheck(&s.store.pool).await? else {
        return Ok(None);
    };
    match visible(s, &now, cid, Need::Write).await {
        Ok(_) => Ok(Some(now)),
        Err(e @ AppError::Internal(_)) => Err(e),
        Err(_) => Ok(None),
    }
}

/// Counts a WebSocket session while it lasts (shutdown waits for them).
struct OpenSocket(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl OpenSocket {
    fn count(open: &std::sync::Arc<std::sync::atomic::AtomicUsize>) -> Self {
        open.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self(open.clone())
    }
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// At the drain deadline of a shutdown: the same error event as the event
/// streams get, then 1001 (going away, RFC 6455 §7.4.1).
async fn close_for_shutdown(mut socket: WebSocket) {
    let event = json!({"event": "error", "data": crate::http::drain::stopping_error()});
    let _ = socket.send(WsMessage::Text(event.to_string().into())).await;
    let frame = CloseFrame {
        code: close_code::AWAY,
        reason: "The server is stopping".into(),
    };
    let _ = socket.send(WsMessage::Close(Some(frame))).await;
}

/// Closes the socket with 1008 (policy violation, RFC 6455 §7.4.1).
async fn close_for_policy(mut socket: WebSocket) {
    let frame = CloseFrame {
        code: close_code::POLICY,
        reason: "Your sign-in or access has ended".into(),
    };
    let _ = socket.send(WsMessage::Close(Some(frame))).await;
}

/// True unless the request comes from a page of another site: browsers send
/// `Origin` on WebSocket handshakes, and cookies or not, a foreign page must
/// not drive a conversation (cross-site WebSocket hijacking).
/// The conversation, if `who` may use its project for `need` (404 for a
/// conversation in a project they cannot see).
async fn visible(
    s: &AppState,
    who: &Identity,
    cid: &str,
    need: Need,
) -> Result<Conversation, AppError> {
    let c = super::conversation(&s.store.pool, cid).await?;
    access_within(&s.store.pool, who, &c.project_id, need, "conversation", cid).await?;
    Ok(c)
}
