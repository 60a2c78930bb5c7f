//! The models page in a real Chromium: an administrator sees every model
//! with its architecture, quantization and state, loads and unloads a model
//! that is not a role model, and deletes it; the role model cannot be deleted.
//! They pull a model from a hub mirror, watch its progress, cancel one pull
//! and see the other's model appear.

#[path = "common/browser.rs"]
mod browser;
mod common;
#[path = "common/hub.rs"]
mod hub;

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

    let resident = |id: &str| {
        format!(
            "document.querySelector('{} [data-testid=model-resident]').textContent",
            row(id)
        )
    };
    assert_eq!(page.eval(&resident(GEMMA_ID)).await, "", "not loaded");
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
    // What it holds now: its weights, hundreds of MiB.
    let held = page.eval(&resident(GEMMA_ID)).await;
    assert!(held.as_str().unwrap().ends_with(" MB"), "{held}");
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

#[tokio::test]
async fn an_admin_pulls_a_model_from_the_hub_and_watches_its_progress() {
    let hub = hub::Hub::start().await;
    let bytes = std::fs::read(common::model_path(SMOL)).unwrap();
    hub.add(
        "mirror/held",
        "held.Q4_1.gguf",
        hub::HubFile {
            cut_in_half: true,
            ..hub::HubFile::new(bytes.clone())
        },
    );
    hub.add("mirror/smol", "copy.Q4_1.gguf", hub::HubFile::new(bytes));
    let dir = common::models_dir("browser-pull", &[SMOL, MINILM]);
    let url = hub.url.clone();
    let server = common::start(&dir, move |c| c.models.hub_endpoint = url);
    let browser = Browser::launch().await;
    let page = browser.new_page().await;
    page.sign_in(&server.base, common::ADMIN, common::ADMIN_PASSWORD)
        .await;
    page.goto(&server.url("/#/admin/models")).await;
    // The model table filled first, so the form no longer moves under the click.
    page.wait_for(
        "document.querySelector('#pull-form') && document.querySelector('tr[data-testid=model-row]')",
        T,
    )
    .await;

    // A download held at half: its bar stands at half, and it can be cancelled.
    page.type_into("[data-testid=pull-repo]", "mirror/held")
        .await;
    page.click("[data-testid=pull-start]").await;
    let pull = "li[data-testid=pull]";
    page.wait_for(&format!("document.querySelector('{pull}')"), T)
        .await;
    let ratio = page
        .wait_for(
            &format!(
                "(() => {{ const p = document.querySelector('{pull}[data-state=downloading] progress'); \
                 return p && p.max > 1 && p.value >= p.max / 2 && p.value / p.max; }})()"
            ),
            T,
        )
        .await;
    assert!((0.49..0.51).contains(&ratio.as_f64().unwrap()), "{ratio}");
    page.click(&format!("{pull} [data-testid=pull-cancel]"))
        .await;
    page.wait_for(
        &format!("document.querySelector('{pull}[data-state=cancelled]')"),
        T,
    )
    .await;

    // A whole download: done, and the model appears in the table.
    page.type_into("[data-testid=pull-repo]", "mirror/smol")
        .await;
    page.click("[data-testid=pull-start]").await;
    page.wait_for(
        &format!("document.querySelector('{pull}[data-state=done]')"),
        T,
    )
    .await;
    page.wait_for(
        &format!("document.querySelector('{}')", row("copy-Q4_1")),
        T,
    )
    .await;
    let detail = page
        .eval(&format!(
            "document.querySelector('{pull}[data-state=done] [data-testid=pull-detail]').textContent"
        ))
        .await;
    assert!(
        detail.as_str().unwrap().contains("served as copy-Q4_1"),
        "{detail}"
    );
    assert!(dir.join("copy.Q4_1.gguf").exists());
    assert!(!dir.join("held.Q4_1.gguf").exists());
    assert!(
        page.console_errors().await.is_empty(),
        "{:?}",
        page.console_errors().await
    );
}
