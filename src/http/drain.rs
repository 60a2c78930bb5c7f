//! Shutting down without leaving clients hanging: once the drain deadline
//! passes, every open event stream ends with a final `error` event saying
//! the server is stopping (the OpenAI SDKs raise it as an API error; our UI
//! shows it), and its generation is dropped like a disconnected client's.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::app::AppState;

/// The last event of a stream cut by shutdown. It starts with a blank line
/// so that it stands alone even after an event cut in the middle.
pub const STOPPING_EVENT: &str = "\nevent: error\ndata: {\"error\": {\"message\": \"the server is stopping; send the request again when it is back\", \"type\": \"server_shutdown\", \"code\": \"server_stopping\"}}\n\n";

/// The same error as [`STOPPING_EVENT`]'s data, for WebSocket clients.
pub fn stopping_error() -> serde_json::Value {
    serde_json::json!({"error": {
        "message": "the server is stopping; send the request again when it is back",
        "type": "server_shutdown",
        "code": "server_stopping",
    }})
}

/// Wraps every `text/event-stream` answer so that it is cut, with
/// [`STOPPING_EVENT`], when `stopping` is cancelled.
pub async fn cut_streams(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let is_stream = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if !is_stream {
        return res;
    }
    let (parts, body) = res.into_parts();
    Response::from_parts(parts, Body::from_stream(cut(body, s.stopping.clone())))
}

fn cut(
    body: Body,
    stopping: CancellationToken,
) -> impl futures::Stream<Item = Result<Bytes, axum::Error>> + Send {
    futures::stream::unfold(
        (body.into_data_stream(), stopping, false),
        |(mut data, stopping, ended)| async move {
            if ended {
                return None;
            }
            tokio::select! {
                biased;
                next = data.next() => next.map(|chunk| (chunk, (data, stopping, false))),
                () = stopping.cancelled() => {
                    Some((Ok(Bytes::from_static(STOPPING_EVENT.as_bytes())), (data, stopping, true)))
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stream_cut_by_shutdown_ends_with_the_stopping_event_and_a_finished_one_does_not() {
        let stopping = CancellationToken::new();
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
        let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
        let mut out = Box::pin(cut(body, stopping.clone()));
        tx.send(Ok(Bytes::from_static(b"data: one\n\n")))
            .await
            .unwrap();
        assert_eq!(out.next().await.unwrap().unwrap(), "data: one\n\n");
        stopping.cancel();
        let last = out.next().await.unwrap().unwrap();
        assert_eq!(last, STOPPING_EVENT.as_bytes());
        assert!(out.next().await.is_none(), "nothing after the final event");
        let data: serde_json::Value =
            serde_json::from_str(STOPPING_EVENT.trim().rsplit("data: ").next().unwrap()).unwrap();
        assert_eq!(data, stopping_error());

        let finished = Body::from("data: whole\n\n");
        let chunks: Vec<_> = cut(finished, CancellationToken::new()).collect().await;
        assert_eq!(chunks.len(), 1);
    }
}
