//! Documents over HTTP with the real embedding model, SQLite and LanceDB:
//! every format is found by search and gone after delete; bad uploads are
//! refused with nothing stored; a restart keeps everything.

mod common;
#[path = "common/documents.rs"]
mod documents;

use std::sync::OnceLock;

use common::{Stores, TestServer, MINILM, SMOL};
use serde_json::{json, Value};

fn server() -> &'static TestServer {
    static S: OnceLock<TestServer> = OnceLock::new();
    S.get_or_init(|| {
        let dir = common::models_dir("documents", &[SMOL, MINILM]);
        common::start(&dir, |c| c.documents.max_upload_bytes = 512 * 1024)
    })
}

async fn search(s: &TestServer, project: &str, q: &str) -> Vec<Value> {
    let r = s
        .client()
        .get(s.url(&format!("/api/v1/projects/{project}/search")))
        .query(&[("q", q), ("k", "5")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["data"].as_array().unwrap().clone()
}

/// One upload per format, each with a sentence no other holds.
fn samples() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    vec![
        (
            "policy.pdf",
            documents::pdf(&[
                "Purchasing policy. This page is about office furniture.",
                "Travel expenses above 900 euros require approval by the regional finance director.",
            ]),
            "Travel expenses above 900 euros require approval by the regional finance director",
        ),
        (
            "minutes.docx",
            documents::docx(&[
                ("Heading1", "Workshop minutes"),
                ("", "The warehouse team scans every pallet barcode at the loading dock."),
            ]),
            "The warehouse team scans every pallet barcode at the loading dock",
        ),
        (
            "notes.md",
            b"# Onboarding\n\n## Accounts\n\nNew hires receive a laptop and a badge on their first morning.\n".to_vec(),
            "New hires receive a laptop and a badge on their first morning",
        ),
        (
            "plain.txt",
            b"Customer complaints are answered within two working days by the service desk.\n".to_vec(),
            "Customer complaints are answered within two working days by the service desk",
        ),
        (
            "page.html",
            b"<!doctype html><html><head><title>Intranet</title><script>var x = 'ignored';</script></head><body><h1>Security</h1><p>Visitors sign the register at reception and wear a red lanyard.</p></body></html>".to_vec(),
            "Visitors sign the register at reception and wear a red lanyard",
        ),
        (
            "stock.csv",
            b"sku,product,warehouse\nA-100,Oak desk,Rotterdam\nB-200,Steel cabinet,Lyon\nC-300,Ergonomic chair,Turin\n".to_vec(),
            "Steel cabinet Lyon",
        ),
    ]
}

#[tokio::test]
async fn each_format_is_found_by_search_and_gone_from_both_stores_after_delete() {
    let s = server();
    let stores = Stores::open(&s.data_dir).await;
    let project = s.project("Formats").await;
    for (name, bytes, sentence) in samples() {
        let doc = s.ingest(&project, name, bytes).await;
        assert_eq!(doc["status"], "ready", "{name}: {doc}");
        assert!(doc["chunk_count"].as_i64().unwrap() >= 1, "{name}: {doc}");
        let id = doc["id"].as_str().unwrap();

        let hits = search(s, &project, sentence).await;
        let top = &hits[0];
        assert_eq!(top["document_id"], id, "{name}: top hit {top}");
        assert_eq!(top["document_name"], name);
        let words: Vec<&str> = sentence.split(' ').collect();
        let text = top["text"].as_str().unwrap();
        assert!(words.iter().all(|w| text.contains(w)), "{name}: {text}");
        match name {
            "policy.pdf" => assert_eq!(top["page"], 2, "{top}"),
            "notes.md" => assert_eq!(top["heading"], "Onboarding > Accounts", "{top}"),
            "minutes.docx" => assert_eq!(top["heading"], "Workshop minutes", "{top}"),
            _ => {}
        }
        let filter = format!("document_id = '{id}'");
        let chunks = "SELECT COUNT(*) FROM chunks WHERE document_id = ?1";
        assert!(stores.lance_count(&filter).await >= 1);
        assert!(stores.sqlite_count(chunks, id).await >= 1);

        assert_eq!(s.delete(&format!("/api/v1/documents/{id}")).await, 204);
        assert_eq!(s.get(&format!("/api/v1/documents/{id}")).await.0, 404);
        assert_eq!(
            stores.lance_count(&filter).await,
            0,
            "{name}: vectors remain"
        );
        assert_eq!(
            stores.sqlite_count(chunks, id).await,
            0,
            "{name}: chunks remain"
        );
        let after = search(s, &project, sentence).await;
        assert!(
            after.iter().all(|h| h["document_id"] != id),
            "{name}: still found"
        );
        assert!(
            !s.data_dir.join("files").join(id).exists(),
            "{name}: file remains"
        );
    }
}

#[tokio::test]
async fn the_ingest_job_reports_progress_and_its_result() {
    let s = server();
    let project = s.project("Jobs").await;
    let (status, accepted) = s
        .upload(
            &project,
            "a.md",
            b"# A\n\nThe job test sentence about solar panels.\n".to_vec(),
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    let job_id = accepted["job_id"].as_str().unwrap();
    // The event stream ends once the job has finished; its last event is the final state.
    let text = s
        .client()
        .get(s.url(&format!("/api/v1/jobs/{job_id}/events")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events = common::sse_events(&text);
    assert!(events.iter().all(|(e, _)| e == "job"), "{text}");
    let last = &events.last().unwrap().1;
    assert_eq!(last["status"], "succeeded", "{text}");
    assert_eq!(last["progress"], 1.0);
    assert_eq!(last["result"]["document_id"], accepted["id"]);
    let (status, job) = s.get(&format!("/api/v1/jobs/{job_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(job["kind"], "ingest");
    assert_eq!(job["status"], "succeeded");
}

#[tokio::test]
async fn the_same_content_uploaded_twice_is_recognised_by_its_hash() {
    let s = server();
    let project = s.project("Duplicates").await;
    let bytes = b"Quarterly targets are reviewed by the board every March.\n".to_vec();
    let first = s.ingest(&project, "targets.txt", bytes.clone()).await;
    let (status, again) = s.upload(&project, "copy-of-targets.txt", bytes).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["id"], first["id"]);
    let (_, list) = s
        .get(&format!("/api/v1/projects/{project}/documents"))
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "{list}");
}

/// Counts of everything stored, to show a refused upload stored nothing.
async fn stored(s: &TestServer, stores: &Stores, project: &str) -> (usize, i64, usize) {
    let (_, list) = s
        .get(&format!("/api/v1/projects/{project}/documents"))
        .await;
    let docs = list["data"].as_array().unwrap().len();
    let chunks = stores
        .sqlite_count("SELECT COUNT(*) FROM chunks WHERE project_id = ?1", project)
        .await;
    let vectors = stores
        .lance_count(&format!("project_id = '{project}'"))
        .await;
    (docs, chunks, vectors)
}

#[tokio::test]
async fn bad_uploads_get_a_clear_error_and_store_nothing() {
    let s = server();
    let stores = Stores::open(&s.data_dir).await;
    let project = s.project("Bad input").await;
    s.ingest(
        &project,
        "good.md",
        b"# Good\n\nA valid document keeps its place.\n".to_vec(),
    )
    .await;
    let before = stored(s, &stores, &project).await;
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[0u8; 64]].concat();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "broken.pdf",
            documents::corrupt_pdf(),
            422,
            "corrupt_document",
        ),
        (
            "secret.pdf",
            documents::encrypted_pdf(),
            422,
            "encrypted_document",
        ),
        (
            "report.docx",
            b"this is not a zip at all \x00\x01\x02\xff".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "bomb.docx",
            documents::zip_bomb(),
            422,
            "document_too_large",
        ),
        ("empty.txt", Vec::new(), 422, "empty_document"),
        ("image.md", png, 415, "unsupported_media_type"),
        ("huge.txt", vec![b'a'; 600 * 1024], 413, "payload_too_large"),
    ];
    for (name, bytes, want, code) in cases {
        let (status, body) = s.upload(&project, name, bytes).await;
        assert_eq!(status, want, "{name}: {body}");
        assert_eq!(body["error"]["code"], code, "{name}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.len() > 10, "{name}: unclear message {message:?}");
        assert_eq!(
            stored(s, &stores, &project).await,
            before,
            "{name} left something behind"
        );
        assert_eq!(s.get("/healthz").await.0, 200);
    }
}

#[tokio::test]
async fn hostile_file_names_are_neutralised_and_never_used_as_paths() {
    let s = server();
    let project = s.project("Names").await;
    let names = [
        ("../../escape.md", "escape.md"),
        ("/etc/absolute.md", "absolute.md"),
        ("..\\..\\windows.md", "windows.md"),
    ];
    for (i, (name, shown)) in names.into_iter().enumerate() {
        let body = format!("# Name test {i}\n\nA harmless document number {i} about file names.\n");
        let doc = s.ingest(&project, name, body.into_bytes()).await;
        assert_eq!(doc["name"], shown, "{name:?}: {doc}");
        assert!(!doc["name"].as_str().unwrap().contains(['/', '\\', '\0']));
    }
    // A NUL cannot even appear in a multipart header: the body is refused whole.
    let (status, body) = s
        .upload(&project, "nul\0byte.md", b"# x\n\ny\n".to_vec())
        .await;
    assert_eq!(status, 400, "{body}");
    let (_, list) = s
        .get(&format!("/api/v1/projects/{project}/documents"))
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 3);
    // Nothing was written where the traversal pointed.
    assert!(!s.data_dir.join("escape.md").exists());
    assert!(!s.data_dir.parent().unwrap().join("escape.md").exists());
    assert!(!std::path::Path::new("/etc/absolute.md").exists());
}

#[tokio::test]
async fn a_project_id_that_does_not_exist_is_404_everywhere() {
    let s = server();
    let missing = "0190d5a8-0000-7000-8000-000000000000";
    for path in [
        format!("/api/v1/projects/{missing}"),
        format!("/api/v1/projects/{missing}/documents"),
        format!("/api/v1/projects/{missing}/search?q=x"),
        format!("/api/v1/projects/{missing}/conversations"),
        "/api/v1/projects/not-an-id".to_string(),
        format!("/api/v1/documents/{missing}"),
        format!("/api/v1/jobs/{missing}"),
    ] {
        let (status, body) = s.get(&path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    let (status, _) = s.upload(missing, "a.md", b"# x\n\ny\n".to_vec()).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn projects_are_created_listed_renamed_and_validated() {
    let s = server();
    let (status, body) = s.post("/api/v1/projects", json!({"name": "  "})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "name");
    let (status, body) = s
        .post("/api/v1/projects", json!({"name": "x", "colour": 1}))
        .await;
    assert_eq!(status, 400, "{body}");
    let id = s.project("Renamed later").await;
    let r = s
        .client()
        .patch(s.url(&format!("/api/v1/projects/{id}")))
        .json(&json!({"description": "Client X, phase 2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["name"], "Renamed later");
    assert_eq!(p["description"], "Client X, phase 2");
    let (_, list) = s.get("/api/v1/projects?limit=200").await;
    assert!(list["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == id));
}

#[tokio::test]
async fn the_openapi_document_describes_the_routes() {
    let s = server();
    let (status, doc) = s.get("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for path in [
        "/api/v1/projects",
        "/api/v1/projects/{pid}/documents",
        "/api/v1/projects/{pid}/search",
        "/api/v1/conversations/{cid}/messages",
        "/api/v1/jobs/{jid}/events",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
}

#[tokio::test]
async fn a_restart_keeps_projects_documents_conversations_and_vectors() {
    let dir = common::models_dir("restart", &[SMOL, MINILM]);
    let first = common::start(&dir, |_| {});
    let project = first.project("Survives restarts").await;
    let doc = first
        .ingest(
            &project,
            "retention.md",
            b"# Retention\n\nInvoices are archived for ten years in the document vault.\n".to_vec(),
        )
        .await;
    let (_, conversation) = first
        .post(
            &format!("/api/v1/projects/{project}/conversations"),
            json!({"title": "Before the restart"}),
        )
        .await;
    let cid = conversation["id"].as_str().unwrap().to_string();
    let (status, answer) = first
        .post(
            &format!("/api/v1/conversations/{cid}/messages"),
            json!({"content": "How long are invoices archived?", "mode": "free"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    first.stop();

    let second = common::start(&dir, |_| {});
    let (status, p) = second.get(&format!("/api/v1/projects/{project}")).await;
    assert_eq!(status, 200);
    assert_eq!(p["document_count"], 1);
    let (_, d) = second
        .get(&format!(
            "/api/v1/documents/{}",
            doc["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(d["status"], "ready");
    let (_, messages) = second
        .get(&format!("/api/v1/conversations/{cid}/messages"))
        .await;
    assert_eq!(messages["data"].as_array().unwrap().len(), 2, "{messages}");
    let hits = search(&second, &project, "how long are invoices archived").await;
    assert_eq!(
        hits[0]["document_id"], doc["id"],
        "vectors survived: {hits:?}"
    );
    second.stop();
}
