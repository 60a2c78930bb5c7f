//! One screen as a standalone SVG, for Figma, draw.io and documents.
//!
//! Only the plainest SVG (`g`, `rect`, `line`, `path`, `circle`, `text`,
//! presentation attributes, no CSS, no `href`) so every importer keeps the
//! drawing editable. SVG has no flow layout, so this file computes one: a
//! title band, the header regions across the top, sidebar and main columns
//! side by side, footers below; containers stack their children inside an
//! inset, grids and headers lay them side by side. Text is cut to fit by an
//! estimate of its width from its length.

use std::fmt::Write as _;

use super::text::{esc, fit};
use super::{members, Anchors, Region};
use crate::wireframe::model::{Component, Layout};

mod containers;
mod data;
mod leaves;

/// The SVG namespace: the one URL the output contains (it is a name, never
/// fetched).
const XMLNS: &str = "http://www.w3.org/2000/svg";
const FONTS: &str = "'Comic Neue', 'Comic Sans MS', 'Segoe Print', cursive, sans-serif";

/// A desktop frame; the HTML export is the responsive one.
const WIDTH: i32 = 960;
const TITLE_BAND: i32 = 56;
const PAD: i32 = 16;
const GAP: i32 = 12;
const INSET: i32 = 10;
const SIDEBAR_W: i32 = 220;
const CENTERED_W: i32 = 400;
/// Room above a component for its requirement tags and link note.
const TAG_ROW: i32 = 16;
const MIN_W: i32 = 48;
const FONT: i32 = 14;
const LINE: i32 = 20;

/// Stroke and fill sets, greyscale throughout.
const BOX: &str = "fill=\"#ffffff\" stroke=\"#555555\" stroke-width=\"1.5\"";
const DASHED: &str =
    "fill=\"none\" stroke=\"#999999\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"";
const INK: &str = "fill=\"#222222\"";
const MUTED: &str = "fill=\"#777777\"";

/// Characters of a `size`-pixel font that fit in `w` pixels, at 0.55em a
/// character: the usual half-em estimate overflows with the wide fallback
/// fonts (DejaVu Sans) that many machines draw the handwriting stack with.
fn chars(w: i32, size: i32) -> usize {
    (w.max(0) * 100 / (size * 55).max(1)) as usize
}

/// The same for bold text, which runs about an eighth wider.
fn bold_chars(w: i32, size: i32) -> usize {
    (w.max(0) * 100 / (size * 62).max(1)) as usize
}

/// The SVG being written, with a counter for component ids.
struct Canvas<'a> {
    out: String,
    anchors: &'a Anchors<'a>,
    next_id: usize,
}

impl Canvas<'_> {
    fn rect(&mut self, x: i32, y: i32, w: i32, h: i32, attrs: &str) {
        let _ = writeln!(
            self.out,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{}\" rx=\"4\" {attrs}/>",
            w.max(1),
            h.max(1)
        );
    }

    fn line(&mut self, x1: i32, y1: i32, x2: i32, y2: i32, attrs: &str) {
        let _ = writeln!(
            self.out,
            "<line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" {attrs}/>"
        );
    }

    fn circle(&mut self, cx: i32, cy: i32, r: i32, attrs: &str) {
        let _ = writeln!(
            self.out,
            "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"{r}\" {attrs}/>"
        );
    }

    fn path(&mut self, d: &str, attrs: &str) {
        let _ = writeln!(self.out, "<path d=\"{d}\" {attrs}/>");
    }

    /// Text with its baseline at `y`, cut to `w` pixels; tree text is escaped here.
    fn text(&mut self, x: i32, y: i32, size: i32, w: i32, attrs: &str, text: &str) {
        let max = if attrs.contains("bold") {
            bold_chars(w, size)
        } else {
            chars(w, size)
        };
        let shown = fit(text, max);
        if shown.is_empty() {
            return;
        }
        let _ = writeln!(
            self.out,
            "<text x=\"{x}\" y=\"{y}\" font-size=\"{size}\" {attrs}>{}</text>",
            esc(&shown)
        );
    }

    /// A grey bar standing in for text the model left out.
    fn scribble(&mut self, x: i32, y: i32, w: i32) {
        self.line(
            x,
            y,
            x + w.max(4),
            y,
            "stroke=\"#cccccc\" stroke-width=\"6\" stroke-linecap=\"round\"",
        );
    }
}

pub(super) fn screen(anchors: &Anchors, index: usize) -> String {
    let s = &anchors.screens[index];
    let mut c = Canvas {
        out: String::with_capacity(16 * 1024),
        anchors,
        next_id: 0,
    };
    c.text(
        PAD,
        34,
        22,
        WIDTH - 2 * PAD - 200,
        "font-weight=\"bold\" fill=\"#222222\"",
        &s.title,
    );
    c.text(
        WIDTH - PAD - 200,
        34,
        12,
        200,
        "fill=\"#777777\"",
        &format!("screen: {}", s.id),
    );

    let frame_top = TITLE_BAND;
    let inner_w = WIDTH - 2 * PAD - 2 * INSET;
    let left = PAD + INSET;
    let mut y = frame_top + INSET;
    for k in members(s, Region::Top) {
        y += draw(&mut c, k, left, y, inner_w, 0) + GAP;
    }
    let has_side = members(s, Region::Side).next().is_some();
    let (side_x, body_x, body_w) = match s.layout {
        Layout::Centered => (0, left + (inner_w - CENTERED_W) / 2, CENTERED_W),
        Layout::SidebarLeft if has_side => {
            (left, left + SIDEBAR_W + GAP, inner_w - SIDEBAR_W - GAP)
        }
        Layout::SidebarRight if has_side => {
            (left + inner_w - SIDEBAR_W, left, inner_w - SIDEBAR_W - GAP)
        }
        _ => (0, left, inner_w),
    };
    let mut side_y = y;
    for k in members(s, Region::Side) {
        side_y += draw(&mut c, k, side_x, side_y, SIDEBAR_W, 0) + GAP;
    }
    let mut body_y = y;
    for k in members(s, Region::Body) {
        body_y += draw(&mut c, k, body_x, body_y, body_w, 0) + GAP;
    }
    y = side_y.max(body_y);
    for k in members(s, Region::Bottom) {
        y += draw(&mut c, k, left, y, inner_w, 0) + GAP;
    }
    let frame_h = (y - GAP + INSET - frame_top).max(2 * INSET);
    let height = frame_top + frame_h + PAD;

    let mut svg = String::with_capacity(c.out.len() + 1024);
    svg.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        svg,
        "<svg xmlns=\"{XMLNS}\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" \
         font-family=\"{FONTS}\" font-size=\"{FONT}\">"
    );
    let _ = writeln!(svg, "<g id=\"screen-{}\">", esc(anchors.slug(index)));
    let _ = writeln!(
        svg,
        "<rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{height}\" fill=\"#f3f3f3\"/>"
    );
    let _ = writeln!(
        svg,
        "<rect x=\"{PAD}\" y=\"{frame_top}\" width=\"{}\" height=\"{frame_h}\" rx=\"10\" \
         fill=\"#ffffff\" stroke=\"#333333\" stroke-width=\"2\"/>",
        WIDTH - 2 * PAD
    );
    svg.push_str(&c.out);
    svg.push_str("</g>\n</svg>\n");
    svg
}

/// Draws `k` with its top-left corner at (`x`, `y`) in a column `w` wide;
/// returns the height used.
fn draw(c: &mut Canvas, k: &Component, x: i32, y: i32, w: i32, depth: usize) -> i32 {
    let w = w.max(MIN_W);
    c.next_id += 1;
    let _ = writeln!(c.out, "<g id=\"c{}-{}\">", c.next_id, k.kind.as_str());
    let top = annotations(c, k, x, y, w);
    let h = if k.kind.is_container() {
        containers::container(c, k, x, y + top, w, depth)
    } else {
        leaves::leaf(c, k, x, y + top, w)
    };
    c.out.push_str("</g>\n");
    top + h
}

/// Requirement tags (right) and where the component leads (left), in a
/// row above it; returns the row's height, 0 when there is nothing to note.
fn annotations(c: &mut Canvas, k: &Component, x: i32, y: i32, w: i32) -> i32 {
    if k.requirement_ids.is_empty() && k.link_to.is_none() {
        return 0;
    }
    let mut right = x + w;
    let mut shown = 0;
    for r in &k.requirement_ids {
        let text = fit(r, 16);
        let tag_w = text.chars().count() as i32 * 6 + 8;
        if right - tag_w < x + w / 2 {
            break;
        }
        right -= tag_w;
        c.rect(
            right,
            y,
            tag_w,
            13,
            "fill=\"#ffffff\" stroke=\"#888888\" stroke-width=\"1\"",
        );
        c.text(right + 4, y + 10, 10, tag_w, "fill=\"#555555\"", &text);
        right -= 4;
        shown += 1;
    }
    if shown < k.requirement_ids.len() {
        c.text(
            right - 24,
            y + 10,
            10,
            24,
            MUTED,
            &format!("+{}", k.requirement_ids.len() - shown),
        );
        right -= 28;
    }
    if let Some(link) = &k.link_to {
        let note = match c.anchors.target(link) {
            Some((target, _)) => format!("→ {}", target.title),
            None => format!("→ {link} (missing)"),
        };
        c.text(x, y + 10, 11, right - x - 4, MUTED, &note);
    }
    TAG_ROW
}

#[cfg(test)]
mod tests;
