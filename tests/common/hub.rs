//! A model hub on a real socket, as an air-gapped site's mirror of the
//! Hugging Face hub serves it (`HF_ENDPOINT`): the file list of a repository
//! with each file's size and LFS SHA-256, and the files themselves. A file
//! can be held half-sent until the test lets it go, then cut off.
#![allow(dead_code)] // each test crate uses part of it

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

#[derive(Clone)]
pub struct HubFile {
    pub bytes: Arc<Vec<u8>>,
    /// The SHA-256 the listing gives (a wrong one makes a corrupt download).
    pub listed_sha256: String,
    /// Sends the first half, waits for [`Hub::release`], then breaks off.
    pub cut_in_half: bool,
}

impl HubFile {
    pub fn new(bytes: Vec<u8>) -> Self {
        let listed_sha256 = format!("{:x}", Sha256::digest(&bytes));
        Self {
            bytes: Arc::new(bytes),
            listed_sha256,
            cut_in_half: false,
        }
    }
}

#[derive(Clone, Default)]
struct Files {
    /// "owner/name" → file name → file.
    repos: Arc<Mutex<HashMap<String, HashMap<String, HubFile>>>>,
    release: Arc<Notify>,
}

pub struct Hub {
    pub url: String,
    files: Files,
}

impl Hub {
    pub async fn start() -> Hub {
        let files = Files::default();
        let app = Router::new()
            .route("/api/models/{owner}/{name}/revision/main", get(listing))
            .route("/{owner}/{name}/resolve/main/{*file}", get(download))
            .with_state(files.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Hub { url, files }
    }

    pub fn add(&self, repo: &str, name: &str, file: HubFile) {
        self.files
            .repos
            .lock()
            .unwrap()
            .entry(repo.to_string())
            .or_default()
            .insert(name.to_string(), file);
    }

    /// Lets every held download go on (to break off).
    pub fn release(&self) {
        self.files.release.notify_waiters();
    }
}

async fn listing(
    State(files): State<Files>,
    Path((owner, name)): Path<(String, String)>,
) -> Response {
    let repos = files.repos.lock().unwrap();
    let Some(repo) = repos.get(&format!("{owner}/{name}")) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut siblings: Vec<Value> = vec![json!({"rfilename": "README.md", "size": 10})];
    siblings.extend(repo.iter().map(|(name, f)| {
        json!({
            "rfilename": name,
            "size": f.bytes.len(),
            "lfs": {"sha256": f.listed_sha256, "size": f.bytes.len(), "pointerSize": 135},
        })
    }));
    Json(json!({"id": format!("{owner}/{name}"), "siblings": siblings})).into_response()
}

async fn download(
    State(files): State<Files>,
    Path((owner, name, file)): Path<(String, String, String)>,
) -> Response {
    let found = files
        .repos
        .lock()
        .unwrap()
        .get(&format!("{owner}/{name}"))
        .and_then(|r| r.get(&file).cloned());
    let Some(f) = found else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let len = f.bytes.len();
    if !f.cut_in_half {
        let chunks: Vec<Result<Bytes, std::io::Error>> = f
            .bytes
            .chunks(1 << 20)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        return Response::builder()
            .header("content-length", len)
            .body(Body::from_stream(futures::stream::iter(chunks)))
            .unwrap();
    }
    let release = files.release.clone();
    let half = Bytes::copy_from_slice(&f.bytes[..len / 2]);
    let stream = futures::stream::unfold(0, move |step| {
        let (release, half) = (release.clone(), half.clone());
        async move {
            match step {
                0 => Some((Ok(half), 1)),
                1 => {
                    release.notified().await;
                    Some((Err(std::io::Error::other("connection lost")), 2))
                }
                _ => None,
            }
        }
    });
    Response::builder()
        .header("content-length", len)
        .body(Body::from_stream(stream))
        .unwrap()
}
