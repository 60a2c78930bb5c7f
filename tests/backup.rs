//! Backup and restore with real processes and stores: `bacopilot backup`
//! runs while the server serves the data directory under uploads and chats;
//! the backup verifies, restores into a fresh directory, and a server on it
//! finds every document, chunk, vector, file and conversation that the
//! snapshot holds. A damaged backup and one from a newer schema are refused
//! and leave the target empty. The admin API takes, lists, prunes and
//! downloads scheduled backups.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Stores, TestServer, MINILM, SMOL};
use serde_json::{json, Value};

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bacopilot-backup-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A document with one sentence no other document holds.
fn note(i: usize) -> (String, Vec<u8>, String) {
    let fact = format!(
        "Warehouse {i} ships refrigerated pallets to customer number {} every Thursday.",
        4100 + i
    );
    (
        format!("note-{i}.md"),
        format!("# Note {i}\n\n{fact}\n").into_bytes(),
        fact,
    )
}

async fn search_finds(s: &TestServer, project: &str, text: &str) -> bool {
    let r = s
        .client()
        .get(s.url(&format!("/api/v1/projects/{project}/search")))
        .query(&[("q", text), ("k", "3")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["text"].as_str().unwrap_or("").contains(text))
}

async fn ask(s: &TestServer, conversation: &str, question: &str) {
    let (status, body) = s
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({"content": question}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_load_restores_into_a_fresh_directory_with_everything_it_holds() {
    let models = common::models_dir("backup", &[SMOL, MINILM]);
    let s = common::start(&models, |_| {});
    let project = s.project("Backed up").await;
    for i in 0..3 {
        let (name, bytes, _) = note(i);
        let doc = s.ingest(&project, &name, bytes).await;
        assert_eq!(doc["status"], "ready", "{doc}");
    }
    let (status, conv) = s
        .post(
            &format!("/api/v1/projects/{project}/conversations"),
            json!({"title": "Before"}),
        )
        .await;
    assert_eq!(status, 201, "{conv}");
    let conversation = conv["id"].as_str().unwrap().to_string();
    ask(&s, &conversation, "Which warehouse ships to customer 4101?").await;

    // Uploads and a chat keep writing while the backup runs in another process.
    let load = {
        let (base, key, project, conversation) = (
            s.base.clone(),
            s.key.clone(),
            project.clone(),
            conversation.clone(),
        );
        tokio::spawn(async move {
            let c = common::client_with_key(&key);
            for i in 3..9 {
                let (name, bytes, _) = note(i);
                let part = reqwest::multipart::Part::bytes(bytes).file_name(name);
                let form = reqwest::multipart::Form::new().part("file", part);
                let r = c
                    .post(format!("{base}/api/v1/projects/{project}/documents"))
                    .multipart(form)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 202);
                let r = c
                    .post(format!(
                        "{base}/api/v1/conversations/{conversation}/messages"
                    ))
                    .json(&json!({"content": format!("What does warehouse {i} ship?")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let backup = scratch("under-load");
    let data = s.data_dir.to_str().unwrap().to_string();
    let dest = backup.to_str().unwrap().to_string();
    let (ok, out) =
        tokio::task::spawn_blocking(move || common::cli(&["--data-dir", &data, "backup", &dest]))
            .await
            .unwrap();
    assert!(ok, "backup failed: {out}");
    assert!(out.contains("backup written to"), "{out}");
    load.await.unwrap();

    let (ok, out) = common::cli(&["backup", "--verify", backup.to_str().unwrap()]);
    assert!(ok, "verify failed: {out}");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["app_version"], env!("CARGO_PKG_VERSION"));
    assert!(manifest["schema_version"].as_i64().unwrap() > 0);
    // The backup was audited in the database it copied.
    let done = s
        .client()
        .get(s.url("/api/v1/audit"))
        .query(&[("action", "backup.done")])
        .send()
        .await
        .unwrap();
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["data"].as_array().unwrap().len(), 1, "{done}");

    // What the snapshot holds, read from its own database.
    let snapshot = Stores::open(&backup).await;
    let ready: Vec<(String, i64)> =
        sqlx::query_as("SELECT id, chunk_count FROM documents WHERE status = 'ready' ORDER BY id")
            .fetch_all(&snapshot.sqlite)
            .await
            .unwrap();
    assert!(
        ready.len() >= 3,
        "the three documents settled before the backup"
    );
    let messages: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(&snapshot.sqlite)
        .await
        .unwrap();
    assert!(messages >= 2, "the first question and its answer");
    snapshot.sqlite.close().await;

    let restored = scratch("restored");
    let (ok, out) = common::cli(&[
        "--data-dir",
        restored.to_str().unwrap(),
        "restore",
        backup.to_str().unwrap(),
    ]);
    assert!(ok, "restore failed: {out}");
    let (ok, out) = common::cli(&["--data-dir", restored.to_str().unwrap(), "audit", "verify"]);
    assert!(ok, "the restored audit log does not verify: {out}");

    s.stop();
    let models2 = common::models_dir("backup-restored", &[SMOL, MINILM]);
    let restored_dir = restored.clone();
    let r = common::start(&models2, move |c| c.server.data_dir = restored_dir);
    let stores = Stores::open(&restored).await;
    for (id, chunks) in &ready {
        let (status, doc) = r.get(&format!("/api/v1/documents/{id}")).await;
        assert_eq!(status, 200, "{doc}");
        assert_eq!(doc["status"], "ready", "{doc}");
        assert_eq!(
            stores
                .sqlite_count("SELECT count(*) FROM chunks WHERE document_id = ?1", id)
                .await,
            *chunks
        );
        assert_eq!(
            stores.lance_count(&format!("document_id = '{id}'")).await as i64,
            *chunks,
            "vectors of {id}"
        );
        assert!(restored.join("files").join(id).is_file(), "file of {id}");
    }
    for i in 0..3 {
        assert!(search_finds(&r, &project, &note(i).2).await, "note {i}");
    }
    let (status, msgs) = r
        .get(&format!("/api/v1/conversations/{conversation}/messages"))
        .await;
    assert_eq!(status, 200, "{msgs}");
    assert!(msgs["data"].as_array().unwrap().len() as i64 >= messages);
    // The restored server takes new work.
    let (name, bytes, fact) = note(20);
    assert_eq!(r.ingest(&project, &name, bytes).await["status"], "ready");
    assert!(search_finds(&r, &project, &fact).await);
    r.stop();
}

/// Copies a backup directory so a test can damage the copy.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_and_newer_schema_backups_are_refused_and_restore_nothing() {
    let models = common::models_dir("backup-refused", &[SMOL, MINILM]);
    let s = common::start(&models, |_| {});
    let project = s.project("Refusals").await;
    let (name, bytes, _) = note(1);
    s.ingest(&project, &name, bytes).await;
    let good = scratch("good");
    let (ok, out) = common::cli(&[
        "--data-dir",
        s.data_dir.to_str().unwrap(),
        "backup",
        good.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    // A second backup to the same place is refused: it would mix two.
    let (ok, out) = common::cli(&[
        "--data-dir",
        s.data_dir.to_str().unwrap(),
        "backup",
        good.to_str().unwrap(),
    ]);
    assert!(!ok && out.contains("exists already"), "{out}");

    // One byte changed in a stored file.
    let damaged = scratch("damaged");
    copy_dir(&good, &damaged);
    let file = std::fs::read_dir(damaged.join("files"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&file, bytes).unwrap();
    let (ok, out) = common::cli(&["backup", "--verify", damaged.to_str().unwrap()]);
    assert!(!ok && out.contains("altered"), "{out}");
    let target = scratch("target-damaged");
    let (ok, out) = common::cli(&[
        "--data-dir",
        target.to_str().unwrap(),
        "restore",
        damaged.to_str().unwrap(),
    ]);
    assert!(!ok && out.contains("damaged"), "{out}");
    assert!(!target.exists() || std::fs::read_dir(&target).unwrap().next().is_none());

    // A snapshot from a newer schema than this program knows.
    let newer = scratch("newer");
    copy_dir(&good, &newer);
    let path = newer.join("manifest.json");
    let mut m: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    m["schema_version"] = json!(99_991_231_000_000i64);
    m["app_version"] = json!("9.9.9");
    std::fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
    let target = scratch("target-newer");
    let (ok, out) = common::cli(&[
        "--data-dir",
        target.to_str().unwrap(),
        "restore",
        newer.to_str().unwrap(),
    ]);
    assert!(
        !ok && out.contains("newer than this program") && out.contains("9.9.9"),
        "{out}"
    );
    assert!(!target.exists() || std::fs::read_dir(&target).unwrap().next().is_none());

    // A data directory in use is never a restore target.
    let (ok, out) = common::cli(&[
        "--data-dir",
        s.data_dir.to_str().unwrap(),
        "restore",
        good.to_str().unwrap(),
    ]);
    assert!(!ok && out.contains("not empty"), "{out}");
    s.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_takes_lists_prunes_and_downloads_backups() {
    let models = common::models_dir("backup-api", &[SMOL, MINILM]);
    let dir = scratch("api-dir");
    let backups = dir.clone();
    let s = common::start(&models, move |c| {
        c.backup.dir = backups;
        c.backup.keep = 2;
        c.backup.interval_secs = 0;
    });
    let project = s.project("Scheduled").await;
    let (name, bytes, _) = note(7);
    s.ingest(&project, &name, bytes).await;
    for _ in 0..3 {
        let (status, started) = s.post("/api/v1/admin/backups", json!({})).await;
        assert_eq!(status, 202, "{started}");
        let job = s
            .finished_job(
                started["job_id"].as_str().unwrap(),
                Duration::from_secs(120),
            )
            .await;
        assert_eq!(job["status"], "succeeded", "{job}");
        assert!(job["result"]["backup"]
            .as_str()
            .unwrap()
            .starts_with("backup-"));
    }
    let (status, list) = s.get("/api/v1/admin/backups").await;
    assert_eq!(status, 200, "{list}");
    let names: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "keep = 2 prunes the oldest: {list}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    assert_eq!(list["data"][1]["counts"]["documents"], 1);
    assert!(s.metric("bacopilot_backup_age_seconds").await >= 0.0);

    let r = s
        .client()
        .get(s.url(&format!("/api/v1/admin/backups/{}/download", names[1])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let tar = r.bytes().await.unwrap();
    let unpacked = scratch("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    std::fs::write(unpacked.join("b.tar"), &tar).unwrap();
    let st = Command::new("tar")
        .arg("-xf")
        .arg("b.tar")
        .current_dir(&unpacked)
        .status()
        .unwrap();
    assert!(st.success());
    let (ok, out) = common::cli(&[
        "backup",
        "--verify",
        unpacked.join(names[1]).to_str().unwrap(),
    ]);
    assert!(ok, "the downloaded backup does not verify: {out}");
    // A name that climbs out of one backup into another is not a backup.
    let climbing = format!(
        "/api/v1/admin/backups/{}%2F..%2F{}/download",
        names[1], names[0]
    );
    assert_eq!(s.get(&climbing).await.0, 404);

    s.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_from_an_older_schema_is_migrated_on_restore() {
    use sqlx::migrate::Migrator;
    // A data directory as the release before the webhook tables left it.
    let old = scratch("old-schema");
    std::fs::create_dir_all(&old).unwrap();
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(old.join("bacopilot.db"))
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let all = sqlx::migrate!("./migrations");
    let previous: Vec<_> = all.iter().filter(|m| m.version < 7).cloned().collect();
    let older = Migrator {
        migrations: std::borrow::Cow::Owned(previous),
        ..Migrator::DEFAULT
    };
    older.run(&pool).await.unwrap();
    sqlx::query("INSERT INTO projects (id, name) VALUES ('0193e6c5-0000-7000-8000-000000000001', 'From last year')")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let backup = scratch("old-schema-backup");
    let m = bacopilot::backup::create(&old, &backup).await.unwrap();
    assert_eq!(m.schema_version, 6);
    let target = scratch("old-schema-restored");
    let (ok, out) = common::cli(&[
        "--data-dir",
        target.to_str().unwrap(),
        "restore",
        backup.to_str().unwrap(),
    ]);
    assert!(ok && out.contains("migrated from schema 6 to 7"), "{out}");
    let stores = Stores::open(&target).await;
    let (name, days): (String, Option<i64>) =
        sqlx::query_as("SELECT name, retention_days FROM projects")
            .fetch_one(&stores.sqlite)
            .await
            .unwrap();
    assert_eq!((name.as_str(), days), ("From last year", None));
    let hooks: i64 = sqlx::query_scalar("SELECT count(*) FROM webhooks")
        .fetch_one(&stores.sqlite)
        .await
        .unwrap();
    assert_eq!(hooks, 0, "the new tables exist");
}
