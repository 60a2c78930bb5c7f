//! Wireframes over HTTP with the real model: a login screen from a
//! description, screens from the evaluation set's descriptions showing the
//! labels asked for and no word from nowhere, a change request as a new
//! version, safe deterministic rendering (also of a hostile tree written
//! straight into the database), and exports that open.

mod common;

use std::io::Read;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{Stores, TestServer, MINILM, SMOL};
use serde_json::{json, Value};
use tokio::sync::OnceCell;

fn server() -> &'static TestServer {
    static S: OnceLock<TestServer> = OnceLock::new();
    S.get_or_init(|| {
        let dir = common::models_dir("wireframes", &[SMOL, MINILM]);
        common::start(&dir, |c| c.wireframes.max_screens = 2)
    })
}

/// Every component of a wireframe's JSON, depth first.
fn components(w: &Value) -> Vec<Value> {
    fn walk(out: &mut Vec<Value>, list: &Value) {
        for c in list.as_array().unwrap() {
            out.push(c.clone());
            walk(out, &c["children"]);
        }
    }
    let mut out = Vec::new();
    for s in w["screens"].as_array().unwrap() {
        walk(&mut out, &s["components"]);
    }
    out
}

struct Login {
    project: String,
    wireframe: Value,
}

async fn login() -> &'static Login {
    static L: OnceCell<Login> = OnceCell::const_new();
    L.get_or_init(|| async {
        let s = server();
        let project = s.project("Portal").await;
        let started = Instant::now();
        let (status, body) = s
            .post(
                &format!("/api/v1/projects/{project}/wireframes"),
                json!({"description": "A login screen with an email field, a password field and a sign-in button.", "title": "Login"}),
            )
            .await;
        assert_eq!(status, 202, "{body}");
        let job = s.finished_job(body["job_id"].as_str().unwrap(), Duration::from_secs(900)).await;
        assert_eq!(job["status"], "succeeded", "{job}");
        let wid = job["result"]["wireframe_id"].as_str().unwrap();
        let (status, wireframe) = s.get(&format!("/api/v1/wireframes/{wid}")).await;
        assert_eq!(status, 200, "{wireframe}");
        eprintln!("login wireframe in {:.1} s: {wireframe}", started.elapsed().as_secs_f64());
        Login { project, wireframe }
    })
    .await
}

#[tokio::test]
async fn a_login_description_yields_a_form_with_two_inputs_and_a_button() {
    let l = login().await;
    let w = &l.wireframe;
    assert_eq!(w["version"], 1);
    assert_eq!(w["project_id"], l.project.as_str());
    let all = components(w);
    let forms: Vec<&Value> = all.iter().filter(|c| c["type"] == "form").collect();
    assert!(!forms.is_empty(), "no form: {w}");
    let in_forms: Vec<Value> = forms
        .iter()
        .flat_map(|f| components(&json!({"screens": [{"components": f["children"]}]})))
        .collect();
    let inputs = in_forms
        .iter()
        .filter(|c| ["input", "textarea", "select"].contains(&c["type"].as_str().unwrap()))
        .count();
    assert!(inputs >= 2, "fewer than two inputs in the form: {w}");
    assert!(
        in_forms.iter().any(|c| c["type"] == "button"),
        "no button in the form: {w}"
    );
    for c in &all {
        for key in ["type", "label", "props", "children", "requirement_ids"] {
            assert!(c.get(key).is_some(), "{key} missing in {c}");
        }
    }
    let (_, list) = server()
        .get(&format!("/api/v1/projects/{}/wireframes", l.project))
        .await;
    assert_eq!(list["data"][0]["id"], w["id"]);
}

#[tokio::test]
async fn described_screens_show_the_labels_asked_for_and_no_word_from_nowhere() {
    let set: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(common::repo_dir().join("benches/eval/wireframes.json")).unwrap(),
    )
    .unwrap();
    let s = server();
    let project = s.project("Described screens").await;
    let (mut asked, mut shown) = (0, 0);
    for case in set.iter().filter(|c| c["split"] == "dev") {
        let description = case["description"].as_str().unwrap();
        let started = Instant::now();
        let (status, body) = s
            .post(
                &format!("/api/v1/projects/{project}/wireframes"),
                json!({"description": description}),
            )
            .await;
        assert_eq!(status, 202, "{body}");
        let job = s
            .finished_job(body["job_id"].as_str().unwrap(), Duration::from_secs(900))
            .await;
        assert_eq!(job["status"], "succeeded", "{job}");
        let wid = job["result"]["wireframe_id"].as_str().unwrap();
        let (_, w) = s.get(&format!("/api/v1/wireframes/{wid}")).await;
        eprintln!("{:.1} s: {description}", started.elapsed().as_secs_f64());
        let texts = common::wireframe_texts(&w);
        for expected in case["expected_labels"].as_array().unwrap() {
            let expected = expected.as_str().unwrap();
            asked += 1;
            if common::label_shown(&texts, expected) {
                shown += 1;
            } else {
                eprintln!("  missing {expected:?} in {texts:?}");
            }
        }
        for t in &texts {
            let nowhere = bacopilot_content::screen::words_from_nowhere(t, description);
            assert!(
                nowhere.is_empty(),
                "{nowhere:?} in {t:?}, from nowhere for: {description}"
            );
        }
    }
    assert!(asked > 40, "the evaluation set lost its descriptions");
    assert!(
        shown * 10 >= asked * 9,
        "only {shown} of {asked} asked-for labels shown"
    );
}

async fn fetch(s: &TestServer, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = s.client().get(s.url(path)).send().await.unwrap();
    (
        r.status().as_u16(),
        r.headers().clone(),
        r.bytes().await.unwrap().to_vec(),
    )
}

/// No script, no event handler, no external or script URL in `html`.
fn assert_inert(html: &str) {
    let lower = html.to_lowercase();
    for bad in [
        "<script",
        "javascript:",
        "http://",
        "https://",
        "src=",
        "<iframe",
        "<object",
        "<embed",
        "<img",
    ] {
        assert!(!lower.contains(bad), "{bad} in {html}");
    }
    // Attributes only appear inside tags: scan each tag for on*= handlers.
    for tag in lower.split('<').skip(1) {
        let inside = tag.split('>').next().unwrap_or("");
        for attr in inside.split_whitespace().skip(1) {
            assert!(
                !(attr.starts_with("on") && attr.contains('=')),
                "event handler `{attr}` in <{inside}>"
            );
        }
    }
}

#[tokio::test]
async fn previews_and_exports_are_deterministic_inert_and_open() {
    let s = server();
    let l = login().await;
    let wid = l.wireframe["id"].as_str().unwrap();
    let (status, headers, html) = fetch(s, &format!("/api/v1/wireframes/{wid}/preview")).await;
    assert_eq!(status, 200);
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("sandbox") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    let html = String::from_utf8(html).unwrap();
    assert_inert(&html);
    let (_, _, again) = fetch(s, &format!("/api/v1/wireframes/{wid}/preview")).await;
    assert_eq!(
        html.as_bytes(),
        again.as_slice(),
        "rendering is not deterministic"
    );

    let (status, _, zip) = fetch(s, &format!("/api/v1/wireframes/{wid}/export?format=zip")).await;
    assert_eq!(status, 200);
    let (_, _, zip_again) = fetch(s, &format!("/api/v1/wireframes/{wid}/export?format=zip")).await;
    assert_eq!(zip, zip_again);
    let exports = s.audited("wireframe.export", wid).await;
    assert!(
        exports
            .iter()
            .filter(|r| r["details"]["format"] == "zip")
            .count()
            >= 2,
        "exports are not audited: {exports:?}"
    );
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    for screen in l.wireframe["screens"].as_array().unwrap() {
        let mut svg = String::new();
        archive
            .by_name(&format!("screens/{}.svg", screen["id"].as_str().unwrap()))
            .unwrap()
            .read_to_string(&mut svg)
            .unwrap();
        let mut reader = quick_xml::Reader::from_str(&svg);
        let mut root = None;
        loop {
            match reader
                .read_event()
                .unwrap_or_else(|e| panic!("SVG does not parse: {e}\n{svg}"))
            {
                quick_xml::events::Event::Start(e) if root.is_none() => {
                    root = Some(String::from_utf8(e.name().as_ref().to_vec()).unwrap())
                }
                quick_xml::events::Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(root.as_deref(), Some("svg"));
    }
    let (status, headers, svg) =
        fetch(s, &format!("/api/v1/wireframes/{wid}/export?format=svg")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/svg+xml");
    assert!(String::from_utf8(svg).unwrap().contains("<svg"));
    let (status, _, _) = fetch(
        s,
        &format!("/api/v1/wireframes/{wid}/export?format=svg&screen=nowhere"),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = fetch(s, &format!("/api/v1/wireframes/{wid}/export?format=exe")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_hostile_tree_from_anywhere_renders_inert() {
    let s = server();
    let l = login().await;
    let wid = l.wireframe["id"].as_str().unwrap();
    // Play a model (or a cloud provider) that returned hostile text in every
    // field: write it as a new version behind the API's back.
    let evil = "<script>alert(1)</script>\"><img src=x onerror=alert(1)> javascript:alert(1) https://evil.example/x.png";
    let component = |kind: &str, children: Value| json!({"type": kind, "label": evil, "props": {"items": [evil], "options": [evil], "columns": [evil], "rows": [[evil]], "placeholder": evil, "input_type": evil}, "children": children, "requirement_ids": [evil], "link_to": evil});
    let leaves: Vec<Value> = [
        "navigation",
        "heading",
        "text",
        "input",
        "select",
        "checkbox",
        "radio",
        "textarea",
        "button",
        "table",
        "list",
        "image",
        "chart",
        "search",
        "pagination",
        "breadcrumbs",
        "alert",
    ]
    .iter()
    .map(|k| component(k, json!([])))
    .collect();
    let tree = json!([{"id": evil, "title": evil, "layout": "sidebar-left", "components": [
        component("header", json!(leaves.clone())), component("sidebar", json!(leaves.clone())),
        component("main", json!([component("form", json!(leaves.clone())), component("card", json!(leaves.clone())), component("tabs", json!(leaves.clone())), component("modal", json!(leaves.clone())), component("grid", json!(leaves))])),
        component("footer", json!([]))
    ]}]);
    let pool = Stores::open_writable(&s.data_dir).await;
    let v: i64 = sqlx::query_scalar("SELECT current_version FROM wireframes WHERE id = ?1")
        .bind(wid)
        .fetch_one(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO wireframe_versions (wireframe_id, version, tree, request) VALUES (?1, ?2, ?3, 'hostile')")
        .bind(wid)
        .bind(v + 100)
        .bind(tree.to_string())
        .execute(&pool)
        .await
        .unwrap();
    let (status, _, html) = fetch(
        s,
        &format!("/api/v1/wireframes/{wid}/preview?version={}", v + 100),
    )
    .await;
    assert_eq!(status, 200);
    let html = String::from_utf8(html).unwrap();
    assert_inert(&html);
    assert!(
        html.contains("&lt;script&gt;"),
        "the hostile text should show, escaped"
    );
    let (status, _, exported) = fetch(
        s,
        &format!(
            "/api/v1/wireframes/{wid}/export?format=html&version={}",
            v + 100
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_inert(&String::from_utf8(exported).unwrap());
    let (status, _, svg) = fetch(
        s,
        &format!(
            "/api/v1/wireframes/{wid}/export?format=svg&version={}",
            v + 100
        ),
    )
    .await;
    assert_eq!(status, 200);
    let svg = String::from_utf8(svg).unwrap();
    let lower = svg.to_lowercase();
    for bad in [
        "<script",
        "javascript:",
        "https://evil",
        "onerror",
        "<foreignobject",
    ] {
        assert!(!lower.contains(bad), "{bad} in SVG");
    }
    let mut reader = quick_xml::Reader::from_str(&svg);
    while !matches!(reader.read_event().unwrap(), quick_xml::events::Event::Eof) {}
}

#[tokio::test]
async fn a_change_request_makes_a_new_version_that_differs_as_asked() {
    let s = server();
    // A wireframe of its own, so the other tests keep reading version 1.
    let project = s.project("Change requests").await;
    let (status, body) = s
        .post(
            &format!("/api/v1/projects/{project}/wireframes"),
            json!({"description": "A dashboard with a header, and a table of recent expense claims with date, employee and amount."}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let job = s
        .finished_job(body["job_id"].as_str().unwrap(), Duration::from_secs(900))
        .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let wid = job["result"]["wireframe_id"].as_str().unwrap().to_string();
    let (_, before) = s.get(&format!("/api/v1/wireframes/{wid}")).await;
    let searches = |w: &Value| {
        components(w)
            .iter()
            .filter(|c| c["type"] == "search")
            .count()
    };

    let (status, body) = s
        .post(
            &format!("/api/v1/wireframes/{wid}/changes"),
            json!({"request": "Add a search box to the header"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let job = s
        .finished_job(body["job_id"].as_str().unwrap(), Duration::from_secs(900))
        .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["result"]["version"], 2);
    let audited = s.audited("wireframe.change", &wid).await;
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert_eq!(
        audited[0]["details"]["request"],
        "Add a search box to the header"
    );
    assert_eq!(audited[0]["details"]["job_id"], job["id"]);
    let (_, after) = s.get(&format!("/api/v1/wireframes/{wid}")).await;
    assert_eq!(after["version"], 2);
    assert_eq!(
        searches(&after),
        searches(&before) + 1,
        "no search box was added: {after}"
    );

    let (_, d) = s
        .get(&format!("/api/v1/wireframes/{wid}/diff?from=1&to=2"))
        .await;
    let changes = d["components"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["change"] == "added" && c["type"] == "search"),
        "{d}"
    );
    assert!(changes.iter().all(|c| c["change"] != "removed"), "{d}");
    let (_, versions) = s.get(&format!("/api/v1/wireframes/{wid}/versions")).await;
    assert!(versions["data"][0]["request"]
        .as_str()
        .unwrap()
        .starts_with("Add a search box to the header"));
    let (_, old) = s.get(&format!("/api/v1/wireframes/{wid}/versions/1")).await;
    assert_eq!(old["screens"], before["screens"]);

    let (status, e) = s
        .post(
            &format!("/api/v1/wireframes/{wid}/changes"),
            json!({"request": "  "}),
        )
        .await;
    assert_eq!(status, 400, "{e}");
}
