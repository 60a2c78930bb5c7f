//! SVG for the data displays, tables and charts.

use super::super::props::{table as table_data, CHART_BARS};
use super::leaves::caption;
use super::{Canvas, FONT, INK};
use crate::wireframe::model::Component;

pub(super) fn table(c: &mut Canvas, k: &Component, x: i32, y: i32, w: i32) -> i32 {
    let t = table_data(k);
    let top = caption(c, k, x, y, w);
    let n = t.columns.len().max(1) as i32;
    let col_w = w / n;
    let (head_h, row_h) = (28, 26);
    let y0 = y + top;
    let h = head_h + t.rows.len() as i32 * row_h;
    c.rect(
        x,
        y0,
        col_w * n,
        head_h,
        "fill=\"#e6e6e6\" stroke=\"#555555\" stroke-width=\"1.5\"",
    );
    for (i, (col, sortable)) in t.columns.iter().zip(&t.sortable).enumerate() {
        let cx = x + i as i32 * col_w;
        let mark = if *sortable { 14 } else { 0 };
        c.text(
            cx + 6,
            y0 + 19,
            FONT,
            col_w - 12 - mark,
            "font-weight=\"bold\" fill=\"#222222\"",
            col,
        );
        if *sortable {
            let (ax, ay) = (cx + col_w - 14, y0 + 9);
            c.path(
                &format!("M{ax} {} l4 -4 l4 4 M{ax} {} l4 4 l4 -4", ay + 4, ay + 7),
                "fill=\"none\" stroke=\"#555555\" stroke-width=\"1.5\"",
            );
        }
    }
    for (r, row) in t.rows.iter().enumerate() {
        let ry = y0 + head_h + r as i32 * row_h;
        for (i, cell) in row.iter().enumerate() {
            let cx = x + i as i32 * col_w;
            if t.sample {
                c.scribble(cx + 8, ry + 13, col_w * 3 / 5 - 8);
            } else {
                c.text(cx + 6, ry + 18, 13, col_w - 12, INK, cell);
            }
        }
        c.line(
            x,
            ry + row_h,
            x + col_w * n,
            ry + row_h,
            "stroke=\"#999999\" stroke-width=\"1\"",
        );
    }
    for i in 1..n {
        c.line(
            x + i * col_w,
            y0,
            x + i * col_w,
            y0 + h,
            "stroke=\"#999999\" stroke-width=\"1\"",
        );
    }
    c.rect(
        x,
        y0,
        col_w * n,
        h,
        "fill=\"none\" stroke=\"#555555\" stroke-width=\"1.5\"",
    );
    top + h
}

/// Bars with a dashed trend line: "a chart goes here", not data.
pub(super) fn chart(c: &mut Canvas, k: &Component, x: i32, y: i32, w: i32) -> i32 {
    let h = 160;
    c.rect(
        x,
        y,
        w,
        h,
        "fill=\"#ffffff\" stroke=\"#777777\" stroke-width=\"1.5\"",
    );
    let top = caption(c, k, x + 8, y + 4, w - 16);
    let (ox, oy) = (x + 16, y + h - 14);
    let plot_h = oy - (y + 8 + top);
    c.line(
        ox,
        y + 8 + top,
        ox,
        oy,
        "stroke=\"#555555\" stroke-width=\"1.5\"",
    );
    c.line(
        ox,
        oy,
        x + w - 10,
        oy,
        "stroke=\"#555555\" stroke-width=\"1.5\"",
    );
    let slot = (w - 40) / CHART_BARS.len() as i32;
    let mut d = String::new();
    for (i, pct) in CHART_BARS.iter().enumerate() {
        let bh = plot_h * *pct as i32 / 100;
        let bx = ox + 8 + i as i32 * slot;
        c.rect(
            bx,
            oy - bh,
            (slot * 3 / 5).max(2),
            bh,
            "fill=\"#dddddd\" stroke=\"#777777\" stroke-width=\"1\"",
        );
        let px = bx + slot * 3 / 10;
        d.push_str(&format!(
            "{}{px} {}",
            if i == 0 { "M" } else { " L" },
            oy - bh - 8
        ));
    }
    c.path(
        &d,
        "fill=\"none\" stroke=\"#333333\" stroke-width=\"2\" stroke-dasharray=\"5 4\"",
    );
    h
}
