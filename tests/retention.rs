//! Retention on a real server: conversations older than their project's (or
//! the global) days are deleted and no others; originals are deleted after
//! ingest while search still finds the text; the audit log is archived and
//! pruned and still verifies, the archive verifies on its own, and deleting
//! the newest rows is caught by the anchor.

mod common;

use std::time::Duration;

use common::{Stores, MINILM, SMOL};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_exactly_what_the_policies_say_and_the_audit_chain_still_verifies() {
    let models = common::models_dir("retention", &[SMOL, MINILM]);
    let s = common::start(&models, |c| {
        c.retention.conversations_days = 30;
        c.retention.delete_originals = true;
        c.retention.interval_secs = 1;
    });
    let short = s.project("Short-lived").await;
    let long = s.project("Kept long").await;
    let r = s
        .client()
        .patch(s.url(&format!("/api/v1/projects/{short}")))
        .json(&json!({"retention_days": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["retention_days"], 2, "{p}");

    let conversation = |project: String, title: &'static str| {
        let s = &s;
        async move {
            let (status, c) = s
                .post(
                    &format!("/api/v1/projects/{project}/conversations"),
                    json!({"title": title}),
                )
                .await;
            assert_eq!(status, 201, "{c}");
            c["id"].as_str().unwrap().to_string()
        }
    };
    let short_old = conversation(short.clone(), "three days old").await;
    let short_new = conversation(short.clone(), "today").await;
    let long_mid = conversation(long.clone(), "ten days old").await;
    let long_old = conversation(long.clone(), "forty days old").await;
    let db = Stores::open_writable(&s.data_dir).await;
    for (id, days) in [(&short_old, 3), (&long_mid, 10), (&long_old, 40)] {
        sqlx::query(
            "UPDATE conversations SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?2) WHERE id = ?1",
        )
        .bind(id)
        .bind(format!("-{days} days"))
        .execute(&db)
        .await
        .unwrap();
    }

    let doc = s
        .ingest(
            &long,
            "rota.md",
            b"# Rota\n\nThe loading dock opens at six on weekdays.\n".to_vec(),
        )
        .await;
    assert_eq!(doc["status"], "ready");
    let did = doc["id"].as_str().unwrap().to_string();

    // The loop runs every second: give it a few.
    let gone = |id: String| {
        let s = &s;
        async move { s.get(&format!("/api/v1/conversations/{id}")).await.0 == 404 }
    };
    for _ in 0..100 {
        if gone(short_old.clone()).await
            && gone(long_old.clone()).await
            && !s.data_dir.join("files").join(&did).exists()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone(short_old).await, "older than its project's 2 days");
    assert!(gone(long_old).await, "older than the global 30 days");
    assert!(!gone(short_new).await);
    assert!(!gone(long_mid).await, "10 days is within the global 30");
    assert!(
        !s.data_dir.join("files").join(&did).exists(),
        "the original is deleted"
    );
    let (_, hits) = s
        .get(&format!(
            "/api/v1/projects/{long}/search?q=loading+dock+opens"
        ))
        .await;
    assert!(
        hits.to_string().contains("loading dock opens at six"),
        "the text stays: {hits}"
    );
    let (_, d) = s.get(&format!("/api/v1/documents/{did}")).await;
    assert_eq!(d["status"], "ready");
    let (_, applied) = s.get("/api/v1/audit?action=retention.apply").await;
    let total: i64 = applied["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["details"]["conversations"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 2, "{applied}");

    let data = s.data_dir.to_str().unwrap().to_string();
    let (ok, out) = common::cli(&["--data-dir", &data, "audit", "verify"]);
    assert!(ok, "{out}");
    // Into the default place, audit-archive/ in the data directory.
    let archive_dir = s.data_dir.join("audit-archive");
    let (ok, out) = common::cli(&[
        "--data-dir",
        &data,
        "audit",
        "archive",
        "--older-than-days",
        "0",
    ]);
    assert!(ok && out.contains("archived audit rows 1 to"), "{out}");
    let live: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(live <= 2, "only the newest rows stay: {live}");
    // The chain goes on from the checkpoint, across new rows.
    let (status, _) = s
        .post("/api/v1/projects", json!({"name": "After archiving"}))
        .await;
    assert_eq!(status, 201);
    let (ok, out) = common::cli(&["--data-dir", &data, "audit", "verify"]);
    assert!(ok, "the pruned chain verifies: {out}");
    assert!(
        out.contains("ending where the live log begins"),
        "the archive is checked too: {out}"
    );
    let file = std::fs::read_dir(&archive_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let (ok, out) = common::cli(&["audit", "verify", "--archive", file.to_str().unwrap()]);
    assert!(ok && out.contains("audit archive intact"), "{out}");
    // A row edited in the archive is caught.
    let text = std::fs::read_to_string(&file).unwrap();
    let tampered = s.data_dir.join("tampered.jsonl");
    std::fs::write(
        &tampered,
        text.replacen("project.create", "project.delete", 1),
    )
    .unwrap();
    let (ok, out) = common::cli(&["audit", "verify", "--archive", tampered.to_str().unwrap()]);
    assert!(!ok && out.contains("do not match its hash"), "{out}");

    // Deleting the newest row (past the append-only trigger) is caught by the anchor.
    sqlx::query("DROP TRIGGER audit_log_no_delete")
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)")
        .execute(&db)
        .await
        .unwrap();
    let (ok, out) = common::cli(&["--data-dir", &data, "audit", "verify"]);
    assert!(!ok && out.contains("deleted"), "{out}");
    db.close().await;
    s.stop();
}
