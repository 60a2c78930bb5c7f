//! SVG for the containers: a frame drawn under children laid out inside it,
//! stacked (most), in columns (grids) or in a row (headers).

use super::super::props::{grid_columns, TABS};
use super::super::text::fit;
use super::super::MAX_DEPTH;
use super::{draw, Canvas, BOX, DASHED, FONT, GAP, INK, INSET, LINE};
use crate::wireframe::model::{Component, Kind};

pub(super) fn container(
    c: &mut Canvas,
    k: &Component,
    x: i32,
    y: i32,
    w: i32,
    depth: usize,
) -> i32 {
    // The frame is drawn under the children once their height is known.
    let mark = c.out.len();
    let (x, w) = if k.kind == Kind::Modal {
        // Dialogs keep a dialog's width, centred where they sit.
        let mw = w.min(520);
        (x + (w - mw) / 2, mw)
    } else {
        (x, w)
    };
    let (inner_x, inner_w) = (x + INSET, w - 2 * INSET);
    let mut cy = y + INSET;
    match k.kind {
        Kind::Modal => {
            c.rect(
                x,
                y,
                w,
                32,
                "fill=\"#e6e6e6\" stroke=\"#333333\" stroke-width=\"2\"",
            );
            c.text(
                x + INSET,
                y + 21,
                15,
                w - 40,
                "font-weight=\"bold\" fill=\"#222222\"",
                &k.label,
            );
            c.text(x + w - 22, y + 22, 18, 20, INK, "×");
            cy = y + 32 + INSET;
        }
        Kind::Header => {}
        _ if !k.label.is_empty() => {
            c.text(
                inner_x,
                cy + 14,
                15,
                inner_w,
                "font-weight=\"bold\" fill=\"#222222\"",
                &k.label,
            );
            cy += LINE + 4;
        }
        _ => {}
    }
    if k.kind == Kind::Tabs {
        cy += tab_strip(c, k, inner_x, cy, inner_w) + 8;
    }
    let body_h = if depth >= MAX_DEPTH && !k.children.is_empty() {
        c.text(
            inner_x,
            cy + 14,
            12,
            // Widths have shrunk to nothing this deep; let the note overflow.
            inner_w.max(200),
            "font-style=\"italic\" fill=\"#777777\"",
            "(nested too deep to show)",
        );
        LINE
    } else {
        match k.kind {
            Kind::Header => header_row(c, k, x, cy, w, depth),
            Kind::Grid => columns(c, &k.children, inner_x, cy, inner_w, grid_columns(k), depth),
            _ => stack(c, &k.children, inner_x, cy, inner_w, depth),
        }
    };
    let h = cy - y + body_h + INSET;
    let frame = match k.kind {
        Kind::Header => format!(
            "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" rx=\"6\" \
             fill=\"#e6e6e6\" stroke=\"#444444\" stroke-width=\"2\"/>\n"
        ),
        Kind::Card | Kind::Form => {
            format!("<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" rx=\"10\" {BOX}/>\n")
        }
        Kind::Modal => format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{w}\" height=\"{h}\" rx=\"4\" fill=\"#bbbbbb\"/>\n\
             <rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" rx=\"4\" \
             fill=\"#ffffff\" stroke=\"#333333\" stroke-width=\"3\"/>\n",
            x + 6,
            y + 6
        ),
        _ => {
            format!("<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" rx=\"6\" {DASHED}/>\n")
        }
    };
    c.out.insert_str(mark, &frame);
    h + if k.kind == Kind::Modal { 6 } else { 0 }
}

/// Children top to bottom; returns their height.
fn stack(c: &mut Canvas, kids: &[Component], x: i32, y: i32, w: i32, depth: usize) -> i32 {
    let mut cy = y;
    for (i, k) in kids.iter().enumerate() {
        if i > 0 {
            cy += GAP;
        }
        cy += draw(c, k, x, cy, w, depth + 1);
    }
    cy - y
}

/// Children in `n` equal columns, row by row; returns their height.
fn columns(
    c: &mut Canvas,
    kids: &[Component],
    x: i32,
    y: i32,
    w: i32,
    n: usize,
    depth: usize,
) -> i32 {
    let n = n.max(1) as i32;
    let col_w = (w - (n - 1) * GAP) / n;
    let mut cy = y;
    for (r, row) in kids.chunks(n as usize).enumerate() {
        if r > 0 {
            cy += GAP;
        }
        let mut row_h = 0;
        for (i, k) in row.iter().enumerate() {
            row_h = row_h.max(draw(
                c,
                k,
                x + i as i32 * (col_w + GAP),
                cy,
                col_w,
                depth + 1,
            ));
        }
        cy += row_h;
    }
    cy - y
}

/// A header: its label as the brand on the left, children side by side in
/// the rest; returns the row's height.
fn header_row(c: &mut Canvas, k: &Component, x: i32, y: i32, w: i32, depth: usize) -> i32 {
    let mut left = x + INSET;
    if !k.label.is_empty() {
        // Bold 17px text runs wider than the 7px-per-character body estimate.
        let brand_w = (k.label.chars().count() as i32 * 11 + 24).min(w / 3);
        c.text(
            left,
            y + 16,
            17,
            brand_w - 12,
            "font-weight=\"bold\" fill=\"#222222\"",
            &k.label,
        );
        left += brand_w;
    }
    let rest = x + w - INSET - left;
    LINE.max(columns(
        c,
        &k.children,
        left,
        y,
        rest,
        k.children.len(),
        depth,
    ))
}

/// The tab headings of a `tabs` container, the first one active; returns
/// the strip's height.
fn tab_strip(c: &mut Canvas, k: &Component, x: i32, y: i32, w: i32) -> i32 {
    let mut items = k.prop_strings("items");
    if items.is_empty() {
        items = TABS.to_vec();
    }
    let mut tx = x;
    for (i, item) in items.iter().enumerate() {
        let label = fit(item, 18);
        let tw = label.chars().count() as i32 * 9 + 24;
        if tx + tw > x + w {
            break;
        }
        let (fill, weight) = if i == 0 {
            ("#e6e6e6", "bold")
        } else {
            ("#ffffff", "normal")
        };
        c.rect(
            tx,
            y,
            tw,
            26,
            &format!("fill=\"{fill}\" stroke=\"#555555\" stroke-width=\"1.5\""),
        );
        c.text(
            tx + 12,
            y + 18,
            FONT,
            tw - 12,
            &format!("font-weight=\"{weight}\" fill=\"#222222\""),
            &label,
        );
        tx += tw + 4;
    }
    c.line(
        x,
        y + 26,
        x + w,
        y + 26,
        "stroke=\"#555555\" stroke-width=\"2\"",
    );
    26
}
