//! HTML for the leaf components: text, form controls, tables, media sketches.
//!
//! Controls are real elements so the page reads naturally and scales with
//! the viewport, but every one is `disabled` and none sits in a `<form>`.
//! Images and charts are inline SVG line drawings, never an `<img>`.

use std::fmt::Write as _;

use super::super::props::{
    alert_level, field_label, heading_level, input_type, is_primary, items, table, CHART_BARS,
    CRUMBS, NAV,
};
use super::super::text::esc;
use super::super::Anchors;
use super::label;
use crate::wireframe::model::{Component, Kind};

pub(super) fn leaf(out: &mut String, anchors: &Anchors, c: &Component, linked: &mut bool) {
    match c.kind {
        Kind::Navigation => {
            out.push_str("<ul class=\"wf-nav\">");
            for (i, item) in items(c, "items", &NAV).iter().enumerate() {
                let active = if i == 0 { " class=\"wf-active\"" } else { "" };
                let _ = write!(out, "<li{active}>{}</li>", esc(item));
            }
            out.push_str("</ul>");
        }
        Kind::Heading => {
            let level = heading_level(c);
            // h1 is the wireframe's title and h2 each screen's.
            let h = level + 2;
            let _ = write!(
                out,
                "<h{h} class=\"wf-h{level}\">{}</h{h}>",
                label(anchors, c, &c.label, linked)
            );
        }
        Kind::Text if c.label.is_empty() => scribbles(out, 3),
        Kind::Text => {
            let _ = write!(out, "<p>{}</p>", label(anchors, c, &c.label, linked));
        }
        Kind::Input => field(out, c, |out| {
            let _ = write!(
                out,
                "<input type=\"{}\" placeholder=\"{}\" disabled>",
                input_type(c),
                esc(c.prop_str("placeholder").unwrap_or_default())
            );
        }),
        Kind::Textarea => field(out, c, |out| {
            let _ = write!(
                out,
                "<textarea rows=\"4\" placeholder=\"{}\" disabled></textarea>",
                esc(c.prop_str("placeholder").unwrap_or_default())
            );
        }),
        Kind::Select => field(out, c, |out| {
            out.push_str("<select disabled>");
            if let Some(p) = c.prop_str("placeholder") {
                let _ = write!(out, "<option>{}</option>", esc(p));
            }
            for o in c.prop_strings("options") {
                let _ = write!(out, "<option>{}</option>", esc(o));
            }
            out.push_str("</select>");
        }),
        Kind::Checkbox | Kind::Radio => choices(out, c),
        Kind::Button => {
            let variant = if is_primary(c) {
                "wf-primary"
            } else {
                "wf-secondary"
            };
            match c.link_to.as_deref().and_then(|l| anchors.target(l)) {
                Some((_, slug)) => {
                    *linked = true;
                    let _ = write!(
                        out,
                        "<a class=\"wf-button {variant}\" href=\"#screen-{}\">{}</a>",
                        esc(slug),
                        esc(&c.label)
                    );
                }
                None => {
                    let _ = write!(
                        out,
                        "<button type=\"button\" class=\"wf-button {variant}\" disabled>{}</button>",
                        esc(&c.label)
                    );
                }
            }
        }
        Kind::Table => table_html(out, anchors, c, linked),
        Kind::List => {
            super::caption(out, anchors, c, linked);
            let items = c.prop_strings("items");
            if items.is_empty() {
                scribbles(out, 3);
            } else {
                out.push_str("<ul class=\"wf-list\">");
                for item in items {
                    let _ = write!(out, "<li>{}</li>", esc(item));
                }
                out.push_str("</ul>");
            }
        }
        Kind::Image => {
            let _ = write!(
                out,
                "<div class=\"wf-image\" role=\"img\" aria-label=\"{}\">\
                 <svg viewBox=\"0 0 100 100\" preserveAspectRatio=\"none\" aria-hidden=\"true\">\
                 <line x1=\"0\" y1=\"0\" x2=\"100\" y2=\"100\" stroke=\"#999\"/>\
                 <line x1=\"100\" y1=\"0\" x2=\"0\" y2=\"100\" stroke=\"#999\"/></svg>\
                 <span class=\"wf-image-label\">{}</span></div>",
                esc(&c.label),
                label(
                    anchors,
                    c,
                    if c.label.is_empty() {
                        "Image"
                    } else {
                        &c.label
                    },
                    linked
                )
            );
        }
        Kind::Chart => chart(out, anchors, c, linked),
        Kind::Search => {
            let placeholder = c.prop_str("placeholder").unwrap_or(&c.label);
            let _ = write!(
                out,
                "<div class=\"wf-search\"><input type=\"search\" placeholder=\"{}\" aria-label=\"{}\" disabled>\
                 <button type=\"button\" class=\"wf-button wf-secondary\" disabled>Search</button></div>",
                esc(if placeholder.is_empty() { "Search" } else { placeholder }),
                esc(if c.label.is_empty() { "Search" } else { &c.label })
            );
        }
        Kind::Pagination => out.push_str(
            "<div class=\"wf-pages\"><span>&lsaquo;</span><span class=\"wf-current\">1</span>\
             <span>2</span><span>3</span><span>&hellip;</span><span>&rsaquo;</span></div>",
        ),
        Kind::Breadcrumbs => {
            out.push_str("<ol class=\"wf-crumbs\">");
            for item in items(c, "items", &CRUMBS) {
                let _ = write!(out, "<li>{}</li>", esc(item));
            }
            out.push_str("</ol>");
        }
        Kind::Alert => {
            let level = alert_level(c);
            let icon = match level {
                "error" => "&times;",
                "warning" => "!",
                _ => "i",
            };
            let _ = write!(
                out,
                "<div class=\"wf-alert wf-alert-{level}\"><span class=\"wf-alert-icon\" aria-hidden=\"true\">{icon}</span>\
                 <span>{}</span></div>",
                label(anchors, c, &c.label, linked)
            );
        }
        // Containers are drawn by the caller; nothing reaches here.
        _ => {}
    }
}

/// Grey bars standing in for text the model left out.
fn scribbles(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push_str("<span class=\"wf-scribble\"></span>");
    }
}

/// A labelled control: the label above, the control from `control` below.
fn field(out: &mut String, c: &Component, control: impl FnOnce(&mut String)) {
    let _ = write!(
        out,
        "<label class=\"wf-field\"><span class=\"wf-field-label\">{}</span>",
        esc(&field_label(c))
    );
    control(out);
    out.push_str("</label>");
}

/// A checkbox or radio: one control for the label, or a group with the
/// label as legend when `options` are given.
fn choices(out: &mut String, c: &Component) {
    let ty = if c.kind == Kind::Radio {
        "radio"
    } else {
        "checkbox"
    };
    let options = c.prop_strings("options");
    if options.is_empty() {
        let _ = write!(
            out,
            "<label class=\"wf-choice\"><input type=\"{ty}\" disabled>{}</label>",
            esc(&field_label(c))
        );
        return;
    }
    let _ = write!(out, "<fieldset><legend>{}</legend>", esc(&field_label(c)));
    for o in options {
        let _ = write!(
            out,
            "<label class=\"wf-choice\"><input type=\"{ty}\" disabled>{}</label>",
            esc(o)
        );
    }
    out.push_str("</fieldset>");
}

fn table_html(out: &mut String, anchors: &Anchors, c: &Component, linked: &mut bool) {
    let t = table(c);
    out.push_str("<div class=\"wf-table-wrap\"><table>");
    if !c.label.is_empty() {
        let _ = write!(
            out,
            "<caption>{}</caption>",
            label(anchors, c, &c.label, linked)
        );
    }
    out.push_str("<thead><tr>");
    for (col, sortable) in t.columns.iter().zip(&t.sortable) {
        let mark = if *sortable {
            "<span class=\"wf-sort\" title=\"sortable\">&#8645;</span>"
        } else {
            ""
        };
        let _ = write!(out, "<th>{}{mark}</th>", esc(col));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &t.rows {
        out.push_str("<tr>");
        for cell in row {
            if t.sample {
                out.push_str("<td><span class=\"wf-scribble\"></span></td>");
            } else {
                let _ = write!(out, "<td>{}</td>", esc(cell));
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
}

/// Bars with a trend line over them: reads as "a chart goes here" without
/// pretending to show data.
fn chart(out: &mut String, anchors: &Anchors, c: &Component, linked: &mut bool) {
    out.push_str(
        "<figure class=\"wf-chart\"><svg viewBox=\"0 0 120 100\" preserveAspectRatio=\"none\" aria-hidden=\"true\">\
         <line x1=\"4\" y1=\"2\" x2=\"4\" y2=\"96\" stroke=\"#555\"/><line x1=\"4\" y1=\"96\" x2=\"118\" y2=\"96\" stroke=\"#555\"/>",
    );
    let mut points = String::new();
    for (i, h) in CHART_BARS.iter().enumerate() {
        let x = 10 + i as u32 * 18;
        let _ = write!(
            out,
            "<rect x=\"{x}\" y=\"{}\" width=\"12\" height=\"{h}\" fill=\"#ddd\" stroke=\"#777\"/>",
            96 - h
        );
        let _ = write!(points, "{},{} ", x + 6, (96 - h).saturating_sub(6));
    }
    let _ = write!(
        out,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#333\" stroke-width=\"2\" stroke-dasharray=\"4 3\"/></svg>",
        points.trim_end()
    );
    if !c.label.is_empty() {
        let _ = write!(
            out,
            "<figcaption>{}</figcaption>",
            label(anchors, c, &c.label, linked)
        );
    }
    out.push_str("</figure>");
}
