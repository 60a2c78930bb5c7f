//! The chat's Markdown renderer (web/markdown.js) in headless Chromium, under
//! the same Content-Security-Policy the server sends. Needs no models: a tiny
//! static server in this file serves `web/` the way the product does
//! (`/` → index.html, `/assets/<file>` → web/<file>).

#[path = "common/browser.rs"]
mod browser;

use std::path::PathBuf;
use std::time::Duration;

use browser::{Browser, Page};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The policy src/web.rs sends with the page.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
                   form-action 'self'";

fn web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("web")
}

/// Serves `web/` and an empty project list on 127.0.0.1; returns the base URL.
async fn serve_web() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let target = head.split_whitespace().nth(1).unwrap_or("/");
                let path = target.split(['?', '#']).next().unwrap_or("/");
                let (status, kind, body) = respond(path);
                let header = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
                     Content-Security-Policy: {CSP}\r\nX-Content-Type-Options: nosniff\r\n\
                     Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(header.as_bytes()).await;
                let _ = sock.write_all(&body).await;
            });
        }
    });
    base
}

fn respond(path: &str) -> (&'static str, &'static str, Vec<u8>) {
    if path == "/api/v1/auth/me" {
        let me = json!({"user": {"id": "u1", "name": "tester", "role": "analyst"}, "via": "session", "csrf_token": "t"});
        return ("200 OK", "application/json", me.to_string().into_bytes());
    }
    if path == "/api/v1/projects" {
        let body = json!({ "data": [], "next_cursor": null }).to_string();
        return ("200 OK", "application/json", body.into_bytes());
    }
    let file = match path {
        "/" => Some("index.html"),
        _ => path
            .strip_prefix("/assets/")
            .filter(|f| !f.contains('/') && !f.starts_with('.')),
    };
    let Some(bytes) = file.and_then(|f| std::fs::read(web_dir().join(f)).ok()) else {
        return ("404 Not Found", "text/plain", b"not found".to_vec());
    };
    // Module scripts must come with a JavaScript MIME type or Chromium refuses them.
    let kind = match file.unwrap().rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    ("200 OK", kind, bytes)
}

/// Opens the app's page (so app.js also boots under the CSP) and renders each
/// of `inputs` with renderMarkdown into its own `#md-out .case`.
async fn render_cases(inputs: &[&str]) -> (Browser, Page) {
    let base = serve_web().await;
    let browser = Browser::launch().await;
    let page = browser.new_page().await;
    page.goto(&format!("{base}/")).await;
    page.wait_for(
        "document.querySelector('#project-list[aria-busy=\"false\"]')",
        Duration::from_secs(10),
    )
    .await;
    let js = format!(
        r#"import('/assets/markdown.js').then(m => {{
             const out = document.createElement('section');
             out.id = 'md-out';
             document.body.append(out);
             for (const text of {inputs}) {{
               const div = document.createElement('div');
               div.className = 'case';
               div.append(m.renderMarkdown(text));
               out.append(div);
             }}
             return out.children.length;
           }})"#,
        inputs = json!(inputs)
    );
    assert_eq!(page.eval(&js).await, json!(inputs.len()));
    (browser, page)
}

#[tokio::test]
async fn hostile_markdown_renders_as_inert_text_and_links_only_to_safe_schemes() {
    let inputs = [
        "<img src=x onerror=window.__pwned=1>",
        "[x](javascript:window.__pwned=1)",
        "[x](JaVaScRiPt:window.__pwned=1)",
        "[x]( java\tscript:window.__pwned=1)",
        "[x](\u{1}javascript:window.__pwned=1)",
        "[x](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19wd25lZD0xPC9zY3JpcHQ+)",
        "[x](vbscript:msgbox(1)) [y](file:///etc/passwd) <javascript:window.__pwned=1>",
        "<iframe src=https://example.com></iframe>",
        "![i](http://example.com/a.png)",
        "<script>window.__pwned=1</script>",
        "<a href=\"javascript:window.__pwned=1\">click me</a>",
        "<object data=x></object><embed src=x> <svg onload=window.__pwned=1>",
        "**[bold link](javascript:window.__pwned=1)** and `<b>code</b>`",
        "[web](https://example.com/a?b=1) [mail](mailto:ba@example.com) [rel](./docs/srs.md) [anchor](#top)",
    ];
    let (_browser, page) = render_cases(&inputs).await;

    let found = page
        .eval(
            "(() => { const out = document.getElementById('md-out'); return { \
               forbidden: [...out.querySelectorAll('img, iframe, script, object, embed, svg, frame, link, style, form, input')].map(e => e.outerHTML), \
               handlers: [...out.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.name)).filter(n => n.startsWith('on')), \
               links: [...out.querySelectorAll('a')].map(a => ({ href: a.getAttribute('href'), protocol: a.protocol, rel: a.rel, target: a.target })), \
               texts: [...out.querySelectorAll('.case')].map(c => c.innerText), \
             }; })()",
        )
        .await;
    // Click everything the renderer produced, in this tab (target removed), so
    // a javascript: URL would run here (or, under the CSP, be reported as a
    // violation below). Safe links are kept from navigating.
    page.eval(
        "document.addEventListener('click', e => { const a = e.target.closest('a'); \
         if (a && ['http:', 'https:', 'mailto:'].includes(a.protocol)) e.preventDefault(); }, true); \
         document.querySelectorAll('#md-out a').forEach(a => a.removeAttribute('target')); \
         document.querySelectorAll('#md-out a, #md-out button').forEach((e, i) => e.dataset.probe = i);",
    )
    .await;
    let clickable = page
        .eval("document.querySelectorAll('[data-probe]').length")
        .await;
    for i in 0..clickable.as_u64().unwrap() {
        page.click(&format!("[data-probe=\"{i}\"]")).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await; // time for any onerror/onload
    assert_eq!(page.eval("typeof window.__pwned").await, "undefined");

    assert_eq!(found["forbidden"], json!([]), "{found:#}");
    assert_eq!(found["handlers"], json!([]), "{found:#}");

    let links = found["links"].as_array().unwrap();
    let hrefs: Vec<&str> = links
        .iter()
        .map(|l| l["href"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        hrefs,
        [
            "https://example.com/a?b=1",
            "mailto:ba@example.com",
            "./docs/srs.md",
            "#top"
        ],
        "only the safe links become <a>: {found:#}"
    );
    for l in links {
        assert!(
            ["http:", "https:", "mailto:"].contains(&l["protocol"].as_str().unwrap()),
            "{l}"
        );
        assert_eq!(l["rel"], "noopener noreferrer nofollow", "{l}");
        assert_eq!(l["target"], "_blank", "{l}");
    }

    let texts: Vec<&str> = found["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(texts[0], inputs[0], "raw HTML is shown as literal text");
    assert_eq!(texts[7], inputs[7]);
    assert_eq!(texts[9], inputs[9]);
    assert_eq!(texts[10], inputs[10]);
    assert!(
        texts[11].contains("<svg onload=window.__pwned=1>"),
        "{}",
        texts[11]
    );
    assert_eq!(texts[8], "i", "an image shows its alt text and never loads");
    for (i, text) in texts.iter().enumerate().take(6).skip(1) {
        assert_eq!(
            *text, "x",
            "case {i}: an unsafe link keeps its label as plain text"
        );
    }
    assert!(
        texts[12].contains("bold link") && texts[12].contains("<b>code</b>"),
        "{}",
        texts[12]
    );

    let errors = page.console_errors().await;
    assert!(
        errors.is_empty(),
        "the page logged errors or CSP violations: {errors:#?}"
    );

    // The check above can fail: an inline script is refused and reported.
    page.eval("const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.body.append(s);")
        .await;
    let reported = async {
        while !page
            .console_errors()
            .await
            .iter()
            .any(|e| e.contains("CSP violation"))
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), reported)
        .await
        .expect("a blocked inline script is reported as a CSP violation");
    assert_eq!(page.eval("typeof window.__inline").await, "undefined");
}

#[tokio::test]
async fn an_ordinary_answer_renders_bold_lists_code_and_citation_buttons() {
    let answer = "The system **must** export reports [1].\n\n\
                  - CSV export\n- PDF export [2, 3]\n\n\
                  1. first\n2. second\n\n\
                  Use `bacopilot export`:\n\n```sh\nbacopilot export --format pdf\n```\n\n\
                  > Quoted *requirement*\n\n### Scope";
    let (_browser, page) = render_cases(&[answer]).await;
    let found: Value = page
        .eval(
            "(() => { const c = document.querySelector('#md-out .case'); return { \
               strong: c.querySelector('p strong')?.textContent, \
               bullets: [...c.querySelectorAll('ul > li')].map(li => li.textContent), \
               numbered: [...c.querySelectorAll('ol > li')].map(li => li.textContent), \
               inline_code: c.querySelector('p code')?.textContent, \
               block_code: c.querySelector('pre > code.language-sh')?.textContent, \
               quote_em: c.querySelector('blockquote em')?.textContent, \
               heading: c.querySelector('h5')?.textContent, \
               citations: [...c.querySelectorAll('button.citation')].map(b => [b.dataset.n, b.type, b.textContent]), \
             }; })()",
        )
        .await;
    assert_eq!(found["strong"], "must", "{found:#}");
    assert_eq!(
        found["bullets"],
        json!(["CSV export", "PDF export [2] [3]"]),
        "{found:#}"
    );
    assert_eq!(found["numbered"], json!(["first", "second"]), "{found:#}");
    assert_eq!(found["inline_code"], "bacopilot export", "{found:#}");
    assert_eq!(
        found["block_code"], "bacopilot export --format pdf",
        "{found:#}"
    );
    assert_eq!(found["quote_em"], "requirement", "{found:#}");
    assert_eq!(
        found["heading"], "Scope",
        "### becomes h5 inside an answer: {found:#}"
    );
    assert_eq!(
        found["citations"],
        json!([
            ["1", "button", "[1]"],
            ["2", "button", "[2]"],
            ["3", "button", "[3]"]
        ]),
        "{found:#}"
    );
    let errors = page.console_errors().await;
    assert!(errors.is_empty(), "{errors:#?}");
}
