//! The wireframe as HTML: one page with every screen, or one screen alone for
//! the preview pane.
//!
//! Each screen is a `<section id="screen-…">`; CSS grid places its top-level
//! regions (header on top, sidebars beside the main column, footer below)
//! and stacks them on narrow viewports. Safety rests on four things: every
//! tree string goes through `esc`, ids and anchors through `Anchors`, the only
//! `href`s are in-page anchors, and a Content-Security-Policy meta tag stops
//! anything loading or running even if an escaping bug slipped through.

use std::fmt::Write as _;

use super::props::{grid_columns, TABS};
use super::text::esc;
use super::{members, Anchors, Region, MAX_DEPTH};
use crate::wireframe::model::{Component, Kind, Layout, Screen, Wireframe};

mod leaves;

const STYLE: &str = include_str!("style.css");

/// Nothing may load (no fonts, images, frames, connections) and no script
/// may run; inline styles are the page's own stylesheet.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'";

pub(super) fn document(w: &Wireframe) -> String {
    let anchors = Anchors::new(w);
    let mut out = String::with_capacity(32 * 1024);
    head(&mut out, &w.title);
    out.push_str("<header class=\"wf-doc\">\n");
    let _ = writeln!(out, "<h1>{}</h1>", esc(&w.title));
    let _ = writeln!(
        out,
        "<p class=\"wf-meta\">Wireframe &middot; version {} &middot; {} screen{}</p>",
        w.version,
        w.screens.len(),
        if w.screens.len() == 1 { "" } else { "s" }
    );
    out.push_str("<nav class=\"wf-toc\" aria-label=\"Screens\"><ol>\n");
    for (i, s) in w.screens.iter().enumerate() {
        let _ = writeln!(
            out,
            "<li><a href=\"#screen-{}\">{}</a></li>",
            esc(anchors.slug(i)),
            esc(&s.title)
        );
    }
    out.push_str("</ol></nav>\n</header>\n");
    for i in 0..w.screens.len() {
        screen(&mut out, &anchors, i);
    }
    out.push_str("</body>\n</html>\n");
    out
}

pub(super) fn single(w: &Wireframe, screen_id: &str) -> Option<String> {
    let i = w.screens.iter().position(|s| s.id == screen_id)?;
    let anchors = Anchors::new(w);
    let mut out = String::with_capacity(16 * 1024);
    head(&mut out, &w.screens[i].title);
    screen(&mut out, &anchors, i);
    out.push_str("</body>\n</html>\n");
    Some(out)
}

fn head(out: &mut String, title: &str) {
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", esc(title));
    let _ = writeln!(out, "<style>\n{STYLE}</style>\n</head>\n<body>");
}

fn layout_class(layout: Layout) -> &'static str {
    match layout {
        Layout::Stack => "stack",
        Layout::Centered => "centered",
        Layout::SidebarLeft => "sidebar-left",
        Layout::SidebarRight => "sidebar-right",
    }
}

fn screen(out: &mut String, anchors: &Anchors, index: usize) {
    let s: &Screen = &anchors.screens[index];
    let has_side = members(s, Region::Side).next().is_some();
    // A sidebar layout without a sidebar would leave an empty column.
    let class = if has_side || !matches!(s.layout, Layout::SidebarLeft | Layout::SidebarRight) {
        layout_class(s.layout)
    } else {
        "stack"
    };
    let _ = writeln!(
        out,
        "<section class=\"wf-screen wf-layout-{class}\" id=\"screen-{}\" data-layout=\"{}\">",
        esc(anchors.slug(index)),
        layout_class(s.layout)
    );
    let _ = writeln!(
        out,
        "<h2 class=\"wf-screen-title\">{}<span class=\"wf-screen-id\">{}</span></h2>",
        esc(&s.title),
        esc(&s.id)
    );
    out.push_str("<div class=\"wf-frame\">\n");
    for (r, class) in [
        (Region::Top, "wf-top"),
        (Region::Side, "wf-side"),
        (Region::Body, "wf-body"),
        (Region::Bottom, "wf-bottom"),
    ] {
        let mut inside = members(s, r).peekable();
        if inside.peek().is_none() {
            continue;
        }
        let _ = writeln!(out, "<div class=\"wf-region {class}\">");
        for c in inside {
            component(out, anchors, c, 0);
        }
        out.push_str("</div>\n");
    }
    out.push_str("</div>\n</section>\n");
}

/// The element a component is wrapped in; semantic where HTML has one.
fn element(kind: Kind) -> &'static str {
    match kind {
        Kind::Header => "header",
        Kind::Sidebar => "aside",
        Kind::Footer => "footer",
        Kind::Navigation | Kind::Breadcrumbs | Kind::Pagination => "nav",
        _ => "div",
    }
}

fn component(out: &mut String, anchors: &Anchors, c: &Component, depth: usize) {
    let tag = element(c.kind);
    let _ = write!(
        out,
        "<{tag} class=\"wf-c k-{}\" data-requirements=\"{}\">",
        c.kind.as_str(),
        esc(&c.requirement_ids.join(" "))
    );
    if !c.requirement_ids.is_empty() {
        out.push_str("<span class=\"wf-reqs\">");
        for r in &c.requirement_ids {
            let _ = write!(out, "<span class=\"wf-req\">{}</span>", esc(r));
        }
        out.push_str("</span>");
    }
    let mut linked = false;
    if c.kind.is_container() {
        container(out, anchors, c, depth, &mut linked);
    } else {
        leaves::leaf(out, anchors, c, &mut linked);
    }
    // A link whose label was not shown as one still gets a way to follow it.
    if !linked {
        if let Some(link) = &c.link_to {
            match anchors.target(link) {
                Some((target, slug)) => {
                    let _ = write!(
                        out,
                        "<a class=\"wf-goto\" href=\"#screen-{}\">&rarr; {}</a>",
                        esc(slug),
                        esc(&target.title)
                    );
                }
                None => {
                    let _ = write!(out, "<span class=\"wf-goto\">&rarr; {}</span>", esc(link));
                }
            }
        }
    }
    let _ = writeln!(out, "</{tag}>");
}

/// The component's label, as a link when `link_to` names a screen of this
/// wireframe (setting `linked`), as plain text otherwise.
fn label(anchors: &Anchors, c: &Component, text: &str, linked: &mut bool) -> String {
    match c.link_to.as_deref().and_then(|l| anchors.target(l)) {
        Some((_, slug)) if !text.is_empty() => {
            *linked = true;
            format!("<a href=\"#screen-{}\">{}</a>", esc(slug), esc(text))
        }
        _ => esc(text),
    }
}

fn caption(out: &mut String, anchors: &Anchors, c: &Component, linked: &mut bool) {
    if !c.label.is_empty() {
        let _ = write!(
            out,
            "<p class=\"wf-caption\">{}</p>",
            label(anchors, c, &c.label, linked)
        );
    }
}

fn container(out: &mut String, anchors: &Anchors, c: &Component, depth: usize, linked: &mut bool) {
    match c.kind {
        Kind::Header if !c.label.is_empty() => {
            let _ = write!(
                out,
                "<strong class=\"wf-brand\">{}</strong>",
                label(anchors, c, &c.label, linked)
            );
        }
        Kind::Tabs => {
            caption(out, anchors, c, linked);
            let mut items = c.prop_strings("items");
            if items.is_empty() {
                items = TABS.to_vec();
            }
            out.push_str("<div class=\"wf-tabstrip\">");
            for (i, item) in items.iter().enumerate() {
                let active = if i == 0 { " wf-active" } else { "" };
                let _ = write!(out, "<span class=\"wf-tab{active}\">{}</span>", esc(item));
            }
            out.push_str("</div>");
        }
        Kind::Modal => {
            let _ = write!(
                out,
                "<div class=\"wf-modal-bar\"><span>{}</span><span aria-hidden=\"true\">&times;</span></div>",
                label(anchors, c, &c.label, linked)
            );
        }
        _ => caption(out, anchors, c, linked),
    }
    if depth >= MAX_DEPTH && !c.children.is_empty() {
        out.push_str("<p class=\"wf-too-deep\">(nested too deep to show)</p>");
        return;
    }
    let class = if c.kind == Kind::Grid {
        format!("wf-kids wf-grid wf-cols-{}", grid_columns(c))
    } else {
        "wf-kids".to_string()
    };
    let _ = writeln!(out, "<div class=\"{class}\">");
    for child in &c.children {
        component(out, anchors, child, depth + 1);
    }
    out.push_str("</div>");
}

#[cfg(test)]
mod tests;
