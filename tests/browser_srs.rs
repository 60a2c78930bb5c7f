//! The SRS pages in headless Chromium against the real server and models:
//! generate an SRS from a brief and an uploaded document, edit a requirement
//! in place, and download the Word export with the session cookie; and see
//! each requirement beside the sentence of the document it came from.

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::time::Duration;

use browser::Browser;
use common::{MINILM, SMOL};
use serde_json::Value;

const T: Duration = Duration::from_secs(60);
/// Generation writes every section of the outline with the small model on
/// the CPU: about 17 minutes on a busy two-core runner.
const GENERATION: Duration = Duration::from_secs(30 * 60);

const EDITED: &str =
    "The system shall notify the approver by e-mail within 5 minutes of an expense claim being submitted.";

#[tokio::test]
async fn a_user_generates_an_srs_edits_a_requirement_and_downloads_it_as_docx() {
    let dir = common::models_dir("browser-srs", &[SMOL, MINILM]);
    let server = common::start(&dir, |_| {});
    let file = dir.join("expense-approval.md");
    std::fs::write(
        &file,
        "# Expense approval\n\n## Submitting a claim\n\nAn employee submits an expense claim with the receipts attached. \
         Claims above 500 EUR need the approval of the cost-centre manager.\n\n\
         ## Approval\n\nThe manager approves or rejects the claim within three working days. \
         Approved claims are paid with the next salary run.\n",
    )
    .unwrap();

    let browser = Browser::launch().await;
    let page = browser.new_page().await;
    page.sign_in(&server.base, common::ADMIN, common::ADMIN_PASSWORD)
        .await;
    page.wait_for(
        "document.querySelector('#project-list[aria-busy=\"false\"]')",
        T,
    )
    .await;
    page.type_into("#project-name", "Expense approval").await;
    page.click("#project-create").await;
    page.wait_for("document.querySelector('#file-input')", T)
        .await;
    page.set_file("#file-input", &file).await;
    page.wait_for(
        "document.querySelector('tr[data-testid=document-row][data-status=ready]')",
        T,
    )
    .await;
    page.wait_for(
        "document.querySelector('#srs-list[aria-busy=\"false\"]')",
        T,
    )
    .await;

    page.type_into("#srs-title", "Expense approval SRS").await;
    page.type_into(
        "#srs-brief",
        "A web application where employees submit expense claims and managers approve or reject them.",
    )
    .await;
    page.click("#srs-generate").await;
    // The progress bar shows while the job runs, then the document page opens.
    page.wait_for(
        "document.querySelector('#srs-progress') || location.hash.includes('/srs/')",
        T,
    )
    .await;
    page.wait_for(
        "location.hash.includes('/srs/') && document.querySelector('[data-testid=requirement]')",
        GENERATION,
    )
    .await;
    let sid = page
        .eval("decodeURIComponent(location.hash.split('/srs/')[1])")
        .await;
    let sid = sid.as_str().unwrap().to_owned();
    let rid = page
        .eval("document.querySelector('[data-testid=requirement]').dataset.id")
        .await;
    let rid = rid.as_str().unwrap().to_owned();
    let before = version_shown(&page).await;

    page.click("[data-testid=requirement] [data-testid=edit-requirement]")
        .await;
    page.wait_for("document.querySelector('[data-testid=edit-statement]')", T)
        .await;
    page.type_into("[data-testid=edit-statement]", EDITED).await;
    page.click("[data-testid=save-requirement]").await;
    let card = format!(
        "[...document.querySelectorAll('[data-testid=requirement]')].find(c => c.dataset.id === {})",
        serde_json::json!(rid)
    );
    page.wait_for(
        &format!(
            "!document.querySelector('[data-testid=requirement-form]') && {card}?.querySelector('[data-testid=statement]').textContent === {}",
            serde_json::json!(EDITED)
        ),
        T,
    )
    .await;
    let after = version_shown(&page).await;
    assert!(after > before, "version {before} → {after}");

    // The export link downloads with the page's own session cookie.
    let has_download = page
        .eval("document.querySelector('[data-testid=export-docx]').hasAttribute('download')")
        .await;
    assert_eq!(has_download, Value::Bool(true));
    let docx = page
        .eval(
            "fetch(document.querySelector('[data-testid=export-docx]').href, { credentials: 'same-origin' })\
             .then(async r => ({ status: r.status, type: r.headers.get('content-type'), \
             disposition: r.headers.get('content-disposition'), \
             head: [...new Uint8Array(await r.arrayBuffer()).slice(0, 2)] }))",
        )
        .await;
    assert_eq!(docx["status"], 200, "{docx}");
    assert_eq!(docx["head"], serde_json::json!([0x50, 0x4b]), "{docx}");
    let mime = docx["type"].as_str().unwrap_or_default();
    assert!(
        mime.contains("officedocument.wordprocessingml.document"),
        "{docx}"
    );
    let disposition = docx["disposition"].as_str().unwrap_or_default();
    assert!(disposition.starts_with("attachment"), "{docx}");

    // The stored document has the edit, under the same requirement id.
    let (status, stored) = server.get(&format!("/api/v1/srs/{sid}")).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["version"].as_i64(), Some(after), "{stored}");
    let edited = stored["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["requirements"].as_array().unwrap())
        .find(|r| r["id"] == rid.as_str())
        .unwrap_or_else(|| panic!("{rid} is gone: {stored}"));
    assert_eq!(edited["statement"], EDITED, "{edited}");

    let errors = page.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    drop(browser);
    server.stop();
}

#[tokio::test]
async fn a_requirement_is_shown_with_the_sentence_of_the_document_it_came_from() {
    let dir = common::models_dir("browser-srs-source", &[SMOL, MINILM]);
    // Prose sections get a token budget too small to finish: they fail fast
    // and the test is about the requirements, which come from the document.
    let server = common::start(&dir, |c| {
        c.srs.max_requirements_per_section = 0;
        c.srs.max_section_tokens = 8;
        c.srs.section_attempts = 1;
    });
    let file = dir.join("loan-policy.md");
    std::fs::write(
        &file,
        "# Laptop loans\n\nEach member may borrow at most 2 laptops at a time. \
         Laptops must be returned to the front desk by 18:00 on the due date.\n",
    )
    .unwrap();
    let browser = Browser::launch().await;
    let page = browser.new_page().await;
    page.sign_in(&server.base, common::ADMIN, common::ADMIN_PASSWORD)
        .await;
    page.wait_for(
        "document.querySelector('#project-list[aria-busy=\"false\"]')",
        T,
    )
    .await;
    page.type_into("#project-name", "Laptop loans").await;
    page.click("#project-create").await;
    page.wait_for("document.querySelector('#file-input')", T)
        .await;
    page.set_file("#file-input", &file).await;
    page.wait_for(
        "document.querySelector('tr[data-testid=document-row][data-status=ready]')",
        T,
    )
    .await;
    page.wait_for(
        "document.querySelector('#srs-list[aria-busy=\"false\"]')",
        T,
    )
    .await;
    page.type_into("#srs-brief", "Laptop lending for library members.")
        .await;
    page.click("#srs-generate").await;
    page.wait_for(
        "location.hash.includes('/srs/') && document.querySelector('[data-testid=source-quote]')",
        GENERATION,
    )
    .await;
    // The view re-renders while the job finishes: read the cards until the
    // borrowing rule's card is among them (or give up and show what is there).
    let mut shown = Value::Null;
    for _ in 0..100 {
        shown = page
            .eval(
                "[...document.querySelectorAll('[data-testid=requirement]')].map(c => ({ \
             statement: c.querySelector('[data-testid=statement]').textContent, \
             quote: c.querySelector('[data-testid=source-quote]')?.textContent, \
             source: c.querySelector('[data-testid=source-name]')?.textContent }))",
            )
            .await;
        let found = shown.as_array().is_some_and(|cards| {
            cards
                .iter()
                .any(|c| c["quote"] == "Each member may borrow at most 2 laptops at a time.")
        });
        if found {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let cards = shown.as_array().unwrap();
    let limit = cards
        .iter()
        .find(|c| c["quote"] == "Each member may borrow at most 2 laptops at a time.")
        .unwrap_or_else(|| panic!("no card quotes the borrowing rule: {shown}"));
    assert_eq!(limit["source"], "loan-policy.md", "{limit}");
    assert!(
        limit["statement"]
            .as_str()
            .unwrap()
            .contains("at most 2 laptops"),
        "{limit}"
    );
    let returns = cards
        .iter()
        .find(|c| c["quote"].as_str().is_some_and(|q| q.contains("by 18:00")))
        .unwrap_or_else(|| panic!("no card quotes the return rule: {shown}"));
    assert!(
        returns["statement"].as_str().unwrap().contains("18:00"),
        "{returns}"
    );
    let errors = page.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    drop(browser);
    server.stop();
}

/// The version the document page shows.
async fn version_shown(page: &browser::Page) -> i64 {
    let v = page
        .eval("Number(document.querySelector('#srs-version').dataset.version)")
        .await;
    v.as_i64()
        .unwrap_or_else(|| panic!("no version shown: {v}"))
}
