//! The operations page in a real Chromium: an administrator registers a
//! webhook for a receiver started here, reads its secret once, sends a test
//! event and sees it delivered in the log; takes a backup and finds it
//! listed with a download link.

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use browser::Browser;
use common::{MINILM, SMOL};

const T: Duration = Duration::from_secs(60);

#[tokio::test]
async fn an_admin_registers_a_webhook_tests_it_and_takes_a_backup() {
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let seen = seen.clone();
            async move {
                let event = headers["x-bacopilot-event"].to_str().unwrap().to_string();
                seen.lock().unwrap().push(event);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = common::models_dir("browser-operations", &[SMOL, MINILM]);
    let backups = dir.join("backups");
    let server = common::start(&dir, move |c| {
        c.webhooks.allowed_hosts = vec!["127.0.0.1".into()];
        c.backup.dir = backups;
        c.backup.interval_secs = 0;
    });
    let browser = Browser::launch().await;
    let page = browser.new_page().await;
    page.sign_in(&server.base, common::ADMIN, common::ADMIN_PASSWORD)
        .await;
    page.goto(&server.url("/#/admin/operations")).await;
    page.wait_for(
        "document.querySelector('[data-testid=\"event-document.ready\"]')",
        T,
    )
    .await;

    page.type_into(
        "[data-testid=webhook-url]",
        &format!("http://127.0.0.1:{port}/hook"),
    )
    .await;
    page.click("[data-testid=\"event-document.ready\"]").await;
    page.click("[data-testid=\"event-srs.generated\"]").await;
    page.click("[data-testid=webhook-create]").await;
    page.wait_for(
        "document.querySelector('[data-testid=webhook-secret-value]')",
        T,
    )
    .await;
    let secret = page
        .eval("document.querySelector('[data-testid=webhook-secret-value]').textContent")
        .await;
    assert!(secret.as_str().unwrap().starts_with("whsec_"), "{secret}");
    page.wait_for("document.querySelector('[data-testid=webhook-row]')", T)
        .await;
    let events = page
        .eval("document.querySelector('[data-testid=webhook-row]').textContent")
        .await;
    assert!(
        events
            .as_str()
            .unwrap()
            .contains("document.ready, srs.generated"),
        "{events}"
    );

    page.click("[data-testid=webhook-test]").await;
    page.wait_for(
        "document.querySelector('[data-testid=delivery-row][data-type=\"webhook.test\"][data-status=delivered]')",
        T,
    )
    .await;
    assert_eq!(got.lock().unwrap().as_slice(), ["webhook.test"]);

    page.click("[data-testid=backup-now]").await;
    page.wait_for(
        "document.querySelector('[data-testid=backup-row] [data-testid=backup-download]')",
        T,
    )
    .await;
    let href = page
        .eval("document.querySelector('[data-testid=backup-download]').getAttribute('href')")
        .await;
    let href = href.as_str().unwrap().to_string();
    assert!(href.starts_with("/api/v1/admin/backups/backup-"), "{href}");
    // The link downloads (an administrator's key here; the page's cookie there).
    let r = server.client().get(server.url(&href)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().len() > 1024);
    assert!(page.console_errors().await.is_empty());
    server.stop();
}
