//! An administrator, in a real Chromium: signs in, creates a user, creates an
//! API key, and the key works on `/v1/models`; the audit page shows it all.

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::time::Duration;

use browser::Browser;
use common::{MINILM, SMOL};

const T: Duration = Duration::from_secs(60);

#[tokio::test]
async fn an_admin_signs_in_creates_a_user_and_an_api_key_that_works_on_v1_models() {
    let dir = common::models_dir("browser-admin", &[SMOL, MINILM]);
    let server = common::start(&dir, |_| {});
    let browser = Browser::launch().await;
    let page = browser.new_page().await;

    // Unsigned, any page is the sign-in page.
    page.goto(&server.url("/")).await;
    page.wait_for("document.querySelector('#login-submit')", T)
        .await;
    page.type_into("#login-name", common::ADMIN).await;
    page.type_into("#login-password", "not the password").await;
    page.click("#login-submit").await;
    page.wait_for(
        "document.querySelector('#login-error') && document.querySelector('#login-error').textContent.length > 0",
        T,
    )
    .await;
    page.sign_in(&server.base, common::ADMIN, common::ADMIN_PASSWORD)
        .await;
    let who = page
        .eval("document.querySelector('#whoami').textContent")
        .await;
    assert!(who.as_str().unwrap().contains(common::ADMIN), "{who}");

    // Users: create an analyst.
    page.goto(&server.url("/#/admin/users")).await;
    page.wait_for(
        "document.querySelector('#user-create') && document.querySelector('tr[data-testid=user-row][data-name=admin]')",
        T,
    )
        .await;
    page.type_into("#user-name", "dana").await;
    page.type_into("#user-password", "dana's long password")
        .await;
    page.click("#user-create").await;
    page.wait_for(
        "document.querySelector('tr[data-testid=user-row][data-name=dana]')",
        T,
    )
    .await;

    // Keys: create one, read it once.
    page.goto(&server.url("/#/keys")).await;
    page.wait_for(
        "document.querySelector('#key-create') && document.querySelector('tr[data-testid=key-row]')",
        T,
    )
        .await;
    page.type_into("#key-name", "browser test").await;
    page.click("#key-create").await;
    let key = page
        .wait_for("(document.querySelector('#new-key') || {}).textContent", T)
        .await;
    let key = key.as_str().unwrap().trim().to_string();
    assert!(key.starts_with("bac_"), "{key}");
    page.wait_for(
        "document.querySelector('tr[data-testid=key-row][data-status=active]')",
        T,
    )
    .await;

    let r = common::client_with_key(&key)
        .get(server.url("/v1/models"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let models: serde_json::Value = r.json().await.unwrap();
    assert!(!models["data"].as_array().unwrap().is_empty());

    // The audit page lists what was done, with the filters.
    page.goto(&server.url("/#/admin/audit")).await;
    page.wait_for(
        "document.querySelector('tr[data-testid=audit-row][data-action=\"key.create\"]')",
        T,
    )
    .await;
    page.type_into("#audit-action", "user").await;
    page.click("#audit-apply").await;
    page.wait_for(
        "[...document.querySelectorAll('tr[data-testid=audit-row]')].length > 0 && [...document.querySelectorAll('tr[data-testid=audit-row]')].every(r => r.dataset.action.startsWith('user.'))",
        T,
    )
    .await;

    // Sign out: the session is gone for the server too.
    page.click("#logout").await;
    page.wait_for("location.pathname === '/login'", T).await;
    let status = page
        .eval("fetch('/api/v1/auth/me').then(r => r.status)")
        .await;
    assert_eq!(status, 401);
    server.stop();
}
