//! The wireframe pages in headless Chromium against the real server and
//! models: generate a wireframe from a description on the project page, then
//! see its screen, with the fields, columns and buttons the description
//! asked for, in a frame that is sandboxed twice over (an empty `sandbox`
//! attribute and the preview's own CSP) and holds no script.

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::time::Duration;

use browser::Browser;
use common::{MINILM, SMOL};
use serde_json::Value;

const T: Duration = Duration::from_secs(60);
const LEAVE: &str = "A leave request form with fields for employee name, start date, end date and leave type, and a comment box for the reason. Buttons to submit the request and save a draft. A link to the leave policy.";
/// What the description asks the screen to show, as the preview writes it.
const LABELS: [&str; 9] = [
    "Leave Request Form",
    "Employee Name",
    "Start Date",
    "End Date",
    "Leave Type",
    "Reason",
    "Submit Request",
    "Save Draft",
    "Leave Policy",
];
/// The small model sketches two screens on the CPU; on a two-core runner
/// that takes minutes.
const GENERATION: Duration = Duration::from_secs(10 * 60);

#[tokio::test]
async fn a_generated_wireframe_shows_in_a_sandboxed_frame_without_scripts() {
    let dir = common::models_dir("browser-wireframes", &[SMOL, MINILM]);
    let server = common::start(&dir, |c| c.wireframes.max_screens = 2);

    let browser = Browser::launch().await;
    let page = browser.new_page().await;
    page.sign_in(&server.base, common::ADMIN, common::ADMIN_PASSWORD)
        .await;
    page.wait_for(
        "document.querySelector('#project-list[aria-busy=\"false\"]')",
        T,
    )
    .await;
    page.type_into("#project-name", "Customer portal").await;
    page.click("#project-create").await;
    page.wait_for(
        "document.querySelector('#wireframe-list[aria-busy=\"false\"]')",
        T,
    )
    .await;

    // A description from benches/eval/wireframes.json.
    page.type_into("#wireframe-title-input", "Leave request")
        .await;
    page.type_into("#wireframe-description", LEAVE).await;
    page.click("#wireframe-generate").await;
    page.wait_for(
        "document.querySelector('#wireframe-progress') || location.hash.includes('/wireframes/')",
        T,
    )
    .await;
    page.wait_for(
        "location.hash.includes('/wireframes/') && document.querySelector('#wireframe-preview')?.getAttribute('src')",
        GENERATION,
    )
    .await;

    let frame = page
        .eval(
            "(() => { const f = document.querySelector('#wireframe-preview'); \
             return { sandbox: f.getAttribute('sandbox'), src: f.getAttribute('src'), \
             tag: f.tagName, tabs: document.querySelectorAll('[data-testid=screen-tab]').length }; })()",
        )
        .await;
    assert_eq!(frame["tag"], "IFRAME", "{frame}");
    // Present and empty: no allow-scripts, no allow-same-origin.
    assert_eq!(frame["sandbox"], "", "{frame}");
    let src = frame["src"].as_str().unwrap_or_default();
    assert!(src.contains("/preview"), "{frame}");
    assert!(frame["tabs"].as_u64().unwrap_or(0) >= 1, "{frame}");

    // The mobile toggle narrows the frame.
    page.click("[data-testid=width-mobile]").await;
    let width = page
        .eval("document.querySelector('#wireframe-preview').getAttribute('width')")
        .await;
    assert_eq!(width, Value::from("375"));

    let preview = page
        .eval(
            "fetch(document.querySelector('#wireframe-preview').src, { credentials: 'same-origin' })\
             .then(async r => ({ status: r.status, csp: r.headers.get('content-security-policy'), html: await r.text() }))",
        )
        .await;
    assert_eq!(preview["status"], 200, "{preview}");
    let csp = preview["csp"].as_str().unwrap_or_default();
    assert!(csp.contains("sandbox"), "{preview}");
    let raw = preview["html"].as_str().unwrap_or_default();
    for label in LABELS {
        assert!(raw.contains(label), "{label} not in the preview: {raw}");
    }
    let html = raw.to_lowercase();
    // The renderer draws fields as disabled `<input>`s (never inside a `<form>`).
    assert!(html.contains("<input type=\"date\""), "{html}");
    assert!(html.contains("<textarea"), "{html}");
    assert!(!html.contains("<script"), "{html}");

    let errors = page.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    drop(browser);
    server.stop();
}
