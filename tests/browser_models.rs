//! The models page in a real Chromium: an administrator sees every model
//! with its architecture, quantization and state, loads and unloads a model
//! that is not a role model, and deletes it; the role model cannot be deleted.

#[path = "common/browser.rs"]
mod browser;
mod common;

use std::time::Duration;

use browser::Browser;
use common::{GEMMA, GEMMA_ID, MINILM, SMOL, SMOL_ID};

const T: Duration = Duration::from_secs(90);

fn row(id: &str) -> String {
    format!("tr[data-testid=model-row][data-id=\"{id}\"]")
}

#[tokio::test]
async fn an_admin_loads_unloads_and_deletes_a_model_from_the_models_page() {
    let dir = common::models_dir("browser-models", &[SMOL, GEMMA, MINILM]);
    let server = common::start(&dir, |c| c.models.max_context = 512);
    let browser = Browser::launch().await;
    let page = browser.new_page().await;
    page.sign_in(&server.base, common::ADMIN, common::ADMIN_PASSWORD)
        .await;
    page.goto(&server.url("/#/admin/models")).await;
    page.wait_for(
        &format!(
            "document.querySelector('{}[data-state=loaded]') && document.querySelector('{}[data-state=unloaded]')",
            row(SMOL_ID),
            row(GEMMA_ID)
        ),
        T,
    )
    .await;
    let gemma_text = page
        .eval(&format!(
            "document.querySelector('{}').textContent",
            row(GEMMA_ID)
        ))
        .await;
    let gemma_text = gemma_text.as_str().unwrap();
    assert!(
        gemma_text.contains("gemma3") && gemma_text.contains("Q4_K_M"),
        "{gemma_text}"
    );
    // A role model offers no delete button.
    let smol_delete = page
        .eval(&format!(
            "!!document.querySelector('{} [data-testid=model-delete]')",
            row(SMOL_ID)
        ))
        .await;
    assert_eq!(smol_delete, false);

    page.click(&format!("{} [data-testid=model-load]", row(GEMMA_ID)))
        .await;
    page.wait_for(
        &format!(
            "document.querySelector('{}[data-state=loaded]')",
            row(GEMMA_ID)
        ),
        T,
    )
    .await;
    page.click(&format!("{} [data-testid=model-unload]", row(GEMMA_ID)))
        .await;
    page.wait_for(
        &format!(
            "document.querySelector('{}[data-state=unloaded]')",
            row(GEMMA_ID)
        ),
        T,
    )
    .await;

    page.click(&format!("{} [data-testid=model-delete]", row(GEMMA_ID)))
        .await;
    page.wait_for("document.querySelector('#confirm-dialog').open", T)
        .await;
    page.click("#confirm-ok").await;
    page.wait_for(
        &format!(
            "!document.querySelector('{}') && document.querySelector('{}')",
            row(GEMMA_ID),
            row(SMOL_ID)
        ),
        T,
    )
    .await;
    assert!(!dir.join(GEMMA).exists(), "the file is deleted");
    assert_eq!(server.audited("model.load", GEMMA_ID).await.len(), 1);
    assert_eq!(server.audited("model.delete", GEMMA_ID).await.len(), 1);
    assert!(
        page.console_errors().await.is_empty(),
        "{:?}",
        page.console_errors().await
    );
}
