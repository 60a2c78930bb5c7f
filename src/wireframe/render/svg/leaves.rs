//! SVG for the leaf components: each draws itself at (`x`, `y`) in a column
//! `w` wide and returns the height it used.

use super::super::props::{
    alert_level, field_label, heading_level, input_type, is_primary, items, CRUMBS, NAV,
};
use super::super::text::{fit, wrap};
use super::{chars, data, Canvas, BOX, FONT, INK, LINE, MUTED};
use crate::wireframe::model::{Component, Kind};

const FIELD_H: i32 = 32;

pub(super) fn leaf(c: &mut Canvas, k: &Component, x: i32, y: i32, w: i32) -> i32 {
    match k.kind {
        Kind::Navigation => navigation(c, k, x, y, w),
        Kind::Heading => {
            let size = [26, 20, 17][usize::from(heading_level(k)) - 1];
            c.text(
                x,
                y + size,
                size,
                w,
                "font-weight=\"bold\" fill=\"#222222\"",
                &k.label,
            );
            size + 10
        }
        Kind::Text if k.label.is_empty() => scribbles(c, x, y, w, 3),
        Kind::Text => {
            let lines = wrap(&k.label, chars(w, FONT), 4);
            for (i, l) in lines.iter().enumerate() {
                c.text(x, y + 15 + i as i32 * LINE, FONT, w, INK, l);
            }
            lines.len() as i32 * LINE
        }
        Kind::Input => {
            let top = field_label_line(c, k, x, y, w);
            c.rect(x, y + top, w, FIELD_H, BOX);
            let placeholder = match (k.prop_str("placeholder"), input_type(k)) {
                (Some(p), _) => p,
                (None, "password") => "••••••••",
                (None, "date") => "dd / mm / yyyy",
                (None, "time") => "hh : mm",
                (None, _) => "",
            };
            c.text(x + 8, y + top + 21, FONT, w - 16, MUTED, placeholder);
            top + FIELD_H
        }
        Kind::Textarea => {
            let top = field_label_line(c, k, x, y, w);
            c.rect(x, y + top, w, 72, BOX);
            c.text(
                x + 8,
                y + top + 21,
                FONT,
                w - 16,
                MUTED,
                k.prop_str("placeholder").unwrap_or_default(),
            );
            top + 72
        }
        Kind::Select => {
            let top = field_label_line(c, k, x, y, w);
            c.rect(x, y + top, w, FIELD_H, BOX);
            let shown = k
                .prop_str("placeholder")
                .or_else(|| k.prop_strings("options").first().copied());
            c.text(
                x + 8,
                y + top + 21,
                FONT,
                w - 36,
                INK,
                shown.unwrap_or_default(),
            );
            let (ax, ay) = (x + w - 20, y + top + 13);
            c.path(
                &format!("M{ax} {ay} l5 6 l5 -6"),
                "fill=\"none\" stroke=\"#333333\" stroke-width=\"2\"",
            );
            top + FIELD_H
        }
        Kind::Checkbox | Kind::Radio => choices(c, k, x, y, w),
        Kind::Button => {
            let label = fit(&k.label, chars(w - 24, FONT));
            let bw = (label.chars().count() as i32 * 8 + 32).clamp(80.min(w), w);
            let (frame, ink) = if is_primary(k) {
                (
                    "fill=\"#444444\" stroke=\"#222222\" stroke-width=\"1.5\"",
                    "fill=\"#ffffff\"",
                )
            } else {
                (BOX, INK)
            };
            c.rect(x, y, bw, 34, frame);
            c.text(
                x + bw / 2,
                y + 22,
                FONT,
                bw - 8,
                &format!("text-anchor=\"middle\" {ink}"),
                &label,
            );
            34
        }
        Kind::Table => data::table(c, k, x, y, w),
        Kind::List => {
            let top = caption(c, k, x, y, w);
            let items = k.prop_strings("items");
            if items.is_empty() {
                return top + scribbles(c, x + 12, y + top, w - 12, 3);
            }
            for (i, item) in items.iter().enumerate() {
                let ry = y + top + i as i32 * 22;
                c.circle(x + 5, ry + 11, 3, "fill=\"#555555\"");
                c.text(x + 16, ry + 16, FONT, w - 16, INK, item);
            }
            top + items.len() as i32 * 22
        }
        Kind::Image => {
            let h = (w * 9 / 16).clamp(80, 200);
            c.rect(
                x,
                y,
                w,
                h,
                "fill=\"#f2f2f2\" stroke=\"#777777\" stroke-width=\"1.5\"",
            );
            c.line(
                x,
                y,
                x + w,
                y + h,
                "stroke=\"#aaaaaa\" stroke-width=\"1.5\"",
            );
            c.line(
                x + w,
                y,
                x,
                y + h,
                "stroke=\"#aaaaaa\" stroke-width=\"1.5\"",
            );
            let label = if k.label.is_empty() {
                "Image"
            } else {
                &k.label
            };
            c.text(
                x + w / 2,
                y + h - 10,
                12,
                w - 12,
                "text-anchor=\"middle\" fill=\"#555555\"",
                label,
            );
            h
        }
        Kind::Chart => data::chart(c, k, x, y, w),
        Kind::Search => {
            c.rect(x, y, w, FIELD_H, BOX);
            c.circle(
                x + 16,
                y + 14,
                6,
                "fill=\"none\" stroke=\"#555555\" stroke-width=\"2\"",
            );
            c.line(
                x + 20,
                y + 19,
                x + 25,
                y + 24,
                "stroke=\"#555555\" stroke-width=\"2\"",
            );
            let placeholder = k.prop_str("placeholder").unwrap_or(&k.label);
            let placeholder = if placeholder.is_empty() {
                "Search"
            } else {
                placeholder
            };
            c.text(x + 34, y + 21, FONT, w - 42, MUTED, placeholder);
            FIELD_H
        }
        Kind::Pagination => {
            for (i, label) in ["‹", "1", "2", "3", "…", "›"].iter().enumerate() {
                let bx = x + i as i32 * 34;
                if bx + 28 > x + w {
                    break;
                }
                let (frame, ink) = if i == 1 {
                    (
                        "fill=\"#444444\" stroke=\"#333333\" stroke-width=\"1.5\"",
                        "fill=\"#ffffff\"",
                    )
                } else {
                    (
                        "fill=\"#ffffff\" stroke=\"#999999\" stroke-width=\"1.5\"",
                        INK,
                    )
                };
                c.rect(bx, y, 28, 28, frame);
                c.text(
                    bx + 14,
                    y + 19,
                    FONT,
                    28,
                    &format!("text-anchor=\"middle\" {ink}"),
                    label,
                );
            }
            28
        }
        Kind::Breadcrumbs => {
            c.text(
                x,
                y + 15,
                13,
                w,
                "fill=\"#555555\"",
                &items(k, "items", &CRUMBS).join("  /  "),
            );
            LINE
        }
        Kind::Alert => alert(c, k, x, y, w),
        // Containers are drawn by the caller; nothing reaches here.
        _ => 0,
    }
}

/// Grey bars for text the model left out; returns their height.
fn scribbles(c: &mut Canvas, x: i32, y: i32, w: i32, n: i32) -> i32 {
    for i in 0..n {
        // Uneven lengths read as prose rather than a progress bar.
        let len = w * [90, 70, 80][i as usize % 3] / 100;
        c.scribble(x + 3, y + 10 + i * 16, len - 6);
    }
    n * 16
}

/// The label above a field, with `*` when required; returns its height.
fn field_label_line(c: &mut Canvas, k: &Component, x: i32, y: i32, w: i32) -> i32 {
    if k.label.is_empty() {
        return 0;
    }
    c.text(x, y + 14, 13, w, "fill=\"#444444\"", &field_label(k));
    LINE
}

/// A bold caption line for the label, if any; returns its height.
pub(super) fn caption(c: &mut Canvas, k: &Component, x: i32, y: i32, w: i32) -> i32 {
    if k.label.is_empty() {
        return 0;
    }
    c.text(
        x,
        y + 15,
        FONT,
        w,
        "font-weight=\"bold\" fill=\"#222222\"",
        &k.label,
    );
    LINE + 2
}

fn navigation(c: &mut Canvas, k: &Component, x: i32, y: i32, w: i32) -> i32 {
    let items = items(k, "items", &NAV);
    let widths: Vec<i32> = items
        .iter()
        .map(|i| fit(i, 20).chars().count() as i32 * 8 + 20)
        .collect();
    let across = widths.iter().sum::<i32>() <= w;
    let mut nx = x;
    for (i, (item, iw)) in items.iter().zip(&widths).enumerate() {
        let (ix, iy) = if across {
            (nx, y)
        } else {
            (x, y + i as i32 * 22)
        };
        let weight = if i == 0 { "bold" } else { "normal" };
        c.text(
            ix,
            iy + 15,
            FONT,
            if across { iw - 8 } else { w },
            &format!("font-weight=\"{weight}\" fill=\"#222222\""),
            item,
        );
        if i == 0 {
            c.line(
                ix,
                iy + 19,
                ix + iw - 24,
                iy + 19,
                "stroke=\"#222222\" stroke-width=\"2\"",
            );
        }
        nx += iw;
    }
    if across {
        LINE + 2
    } else {
        items.len() as i32 * 22
    }
}

fn choices(c: &mut Canvas, k: &Component, x: i32, y: i32, w: i32) -> i32 {
    let options = k.prop_strings("options");
    let (top, labels) = if options.is_empty() {
        (0, vec![field_label(k)])
    } else {
        (
            field_label_line(c, k, x, y, w),
            options.into_iter().map(String::from).collect(),
        )
    };
    for (i, label) in labels.iter().enumerate() {
        let ry = y + top + i as i32 * 22;
        if k.kind == Kind::Radio {
            c.circle(x + 7, ry + 11, 7, BOX);
        } else {
            c.rect(x, ry + 4, 14, 14, BOX);
        }
        c.text(x + 22, ry + 16, FONT, w - 22, INK, label);
    }
    top + labels.len() as i32 * 22
}

fn alert(c: &mut Canvas, k: &Component, x: i32, y: i32, w: i32) -> i32 {
    let level = alert_level(k);
    let lines = wrap(&k.label, chars(w - 52, FONT), 3);
    let h = (lines.len() as i32 * LINE + 16).max(40);
    let frame = match level {
        "error" => "fill=\"#dddddd\" stroke=\"#222222\" stroke-width=\"3\"",
        "warning" => "fill=\"#e9e9e9\" stroke=\"#555555\" stroke-width=\"2\"",
        _ => "fill=\"#f4f4f4\" stroke=\"#555555\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"",
    };
    c.rect(x, y, w, h, frame);
    c.circle(
        x + 20,
        y + h / 2,
        10,
        "fill=\"#ffffff\" stroke=\"#333333\" stroke-width=\"2\"",
    );
    let icon = match level {
        "error" => "×",
        "warning" => "!",
        _ => "i",
    };
    c.text(
        x + 20,
        y + h / 2 + 5,
        FONT,
        20,
        "text-anchor=\"middle\" font-weight=\"bold\" fill=\"#222222\"",
        icon,
    );
    let first = y + h / 2 - (lines.len() as i32 - 1) * LINE / 2 + 5;
    for (i, l) in lines.iter().enumerate() {
        c.text(x + 40, first + i as i32 * LINE, FONT, w - 48, INK, l);
    }
    h
}
