//! The whole flow in headless Chromium against the real server and models:
//! create a project, upload a document, ask a question, see the answer stream
//! in as a quotation of the document with its citation, and open the cited
//! passage.

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::time::Duration;

use browser::Browser;
use common::{MINILM, SMOL};

const T: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_user_creates_a_project_uploads_a_document_and_gets_a_cited_streamed_answer() {
    let dir = common::models_dir("browser-chat", &[SMOL, MINILM]);
    let server = common::start(&dir, |c| c.chat.max_answer_tokens = 96);
    let file = dir.join("onboarding.md");
    std::fs::write(
        &file,
        "# Onboarding\n\n## Equipment\n\nEvery new employee receives a laptop and a security badge from the IT desk on the first morning.\n",
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
    page.type_into("#project-name", "Onboarding revamp").await;
    page.click("#project-create").await;
    page.wait_for("document.querySelector('#file-input')", T)
        .await;

    page.set_file("#file-input", &file).await;
    page.wait_for(
        "document.querySelector('tr[data-testid=document-row][data-status=ready]')",
        T,
    )
    .await;

    page.click("#new-conversation").await;
    page.wait_for("document.querySelector('#chat-input')", T)
        .await;
    page.type_into(
        "#chat-input",
        "What does a new employee receive on the first morning?",
    )
    .await;
    page.click("#chat-send").await;
    // The answer streams: the bubble is marked streaming, then finished.
    page.wait_for(
        "document.querySelector('[data-testid=assistant-bubble][data-streaming=\"true\"]') || document.querySelector('[data-testid=assistant-bubble][data-streaming=\"false\"]')",
        T,
    )
    .await;
    page.wait_for(
        "document.querySelector('[data-testid=assistant-bubble][data-streaming=\"false\"]')",
        T,
    )
    .await;
    let answer = page
        .eval("document.querySelector('[data-testid=assistant-bubble]').textContent")
        .await;
    assert!(!answer.as_str().unwrap().trim().is_empty(), "empty answer");
    // The answer is the document's own sentence, shown as a quotation that
    // ends with its citation.
    let quotation = page
        .eval("document.querySelector('[data-testid=assistant-bubble] blockquote')?.textContent || ''")
        .await;
    assert!(
        quotation
            .as_str()
            .unwrap()
            .contains("Every new employee receives a laptop and a security badge from the IT desk on the first morning."),
        "{quotation}"
    );
    let cited = page
        .eval(
            "!!document.querySelector('[data-testid=assistant-bubble] blockquote button.citation')",
        )
        .await;
    assert_eq!(
        cited,
        serde_json::json!(true),
        "no citation in the quotation"
    );

    page.wait_for("document.querySelector('button.citation')", T)
        .await;
    page.click("button.citation").await;
    page.wait_for("document.querySelector('dialog#source-panel').open", T)
        .await;
    let document = page
        .eval("document.querySelector('#source-document').textContent")
        .await;
    assert!(
        document.as_str().unwrap().contains("onboarding.md"),
        "{document}"
    );
    let quote = page
        .eval("document.querySelector('#source-quote').textContent")
        .await;
    assert!(
        quote.as_str().unwrap().contains("security badge"),
        "{quote}"
    );

    let errors = page.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    drop(browser);
    server.stop();
}
