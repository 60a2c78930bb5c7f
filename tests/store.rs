//! The SQLite store under concurrent writers: a write waits for another
//! writer's transaction instead of failing with "database is locked".

use std::time::Duration;

use bacopilot::chat::{self, NewMessage};
use bacopilot::store::Store;
use sqlx::{Connection, SqliteConnection};

#[tokio::test]
async fn a_message_written_while_another_writer_holds_the_lock_waits_and_is_stored() {
    let dir = std::env::temp_dir().join(format!("bacopilot-test-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open(&dir).await.unwrap();
    sqlx::query("INSERT INTO projects (id, name) VALUES ('p', 'Locks')")
        .execute(&store.pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO conversations (id, project_id, title) VALUES ('c', 'p', '')")
        .execute(&store.pool)
        .await
        .unwrap();

    // Another writer (as the audit log or an upload would) holds the write
    // lock for a moment.
    let url = format!("sqlite://{}", dir.join("bacopilot.db").display());
    let mut other = SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    sqlx::query("UPDATE projects SET description = 'held' WHERE id = 'p'")
        .execute(&mut other)
        .await
        .unwrap();
    let holder = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    });

    // A message insert also writes the full-text index, which reads first.
    let stored = chat::insert(
        &store.pool,
        NewMessage {
            conversation_id: "c",
            role: "user",
            content: "Who approves invoices above 5000 euros?",
            mode: None,
            model: None,
            usage: None,
            citations: &[],
        },
    )
    .await;
    holder.await.unwrap();
    let stored = stored.expect("the insert waits for the other writer");
    assert_eq!(stored.content, "Who approves invoices above 5000 euros?");
    let found: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH 'approves'")
            .fetch_one(&store.pool)
            .await
            .unwrap();
    assert_eq!(found, 1);
    let description: String = sqlx::query_scalar("SELECT description FROM projects WHERE id = 'p'")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(description, "held");
}
