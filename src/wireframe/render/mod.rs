//! Wireframe renderers: the tree as one self-contained HTML page, one SVG per
//! screen, and a zip of both together with the tree itself.
//!
//! The tree is written by a model, so every string in it is untrusted. The
//! output must be safe to open anywhere (a browser, a preview pane, Figma):
//! no script, no event handler, no URL that leaves the file, and every piece
//! of tree text escaped. Output is a pure function of the tree, same tree,
//! same bytes, so exports can be cached, hashed and diffed.
//!
//! The look is deliberately low-fidelity (greyscale, dashed, handwritten
//! fonts) so nobody mistakes a wireframe for a finished design.

mod archive;
#[cfg(test)]
mod fixture;
mod html;
#[cfg(test)]
mod inert;
mod props;
mod svg;
mod text;

use std::collections::{BTreeMap, BTreeSet};

use super::model::{Component, Kind, Layout, Screen, Wireframe};

#[cfg(test)]
pub(crate) use fixture::sample;

/// Containers nested deeper than this are cut off with a note. serde_json
/// already stops parsing at 128 levels (about 60 components deep); this also
/// bounds trees built in code, so recursion can never exhaust the stack.
const MAX_DEPTH: usize = 32;

/// One self-contained HTML file with every screen: a section per screen
/// (`id="screen-<id>"`), components' `link_to` as in-page anchors, the
/// wireframe stylesheet inline.
pub fn html(w: &Wireframe) -> String {
    html::document(w)
}

/// The HTML of one screen only (for the preview), same stylesheet; `None`
/// when no screen has that id.
pub fn screen_html(w: &Wireframe, screen_id: &str) -> Option<String> {
    html::single(w, screen_id)
}

/// One SVG document per screen, in screen order: (screen id, svg text).
pub fn svgs(w: &Wireframe) -> Vec<(String, String)> {
    let anchors = Anchors::new(w);
    (0..w.screens.len())
        .map(|i| (w.screens[i].id.clone(), svg::screen(&anchors, i)))
        .collect()
}

/// The whole flow as a zip: `index.html`, `screens/<id>.svg` for each screen
/// (the id as sanitised for anchors) and `wireframe.json` (the tree, pretty).
/// Entries carry a fixed timestamp, so the bytes are deterministic.
pub fn zip(w: &Wireframe) -> Result<Vec<u8>, RenderError> {
    archive::build(w)
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("wireframe zip failed: {0}")]
    Zip(#[from] ::zip::result::ZipError),
    #[error("wireframe JSON failed: {0}")]
    Json(#[from] serde_json::Error),
    #[error("wireframe zip write failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Where a top-level component goes on its screen: headers across the top,
/// footers across the bottom, sidebars beside the main column in the sidebar
/// layouts (in the others they flow with the rest), everything else in the
/// main column.
#[derive(Clone, Copy, PartialEq)]
enum Region {
    Top,
    Side,
    Body,
    Bottom,
}

impl Region {
    fn of(layout: Layout, kind: Kind) -> Region {
        match kind {
            Kind::Header => Region::Top,
            Kind::Footer => Region::Bottom,
            Kind::Sidebar if matches!(layout, Layout::SidebarLeft | Layout::SidebarRight) => {
                Region::Side
            }
            _ => Region::Body,
        }
    }
}

/// The screen's top-level components that go in `region`, in tree order.
fn members(s: &Screen, region: Region) -> impl Iterator<Item = &Component> {
    s.components
        .iter()
        .filter(move |c| Region::of(s.layout, c.kind) == region)
}

/// Each screen's slug, `[a-z0-9-]` only and unique in the wireframe, so it
/// is safe as an element id, an anchor and a file name, and two ids that
/// sanitise alike (`Login`, `login`) still get their own anchors.
struct Anchors<'a> {
    screens: &'a [Screen],
    slugs: Vec<String>,
}

impl<'a> Anchors<'a> {
    fn new(w: &'a Wireframe) -> Self {
        let mut taken: BTreeSet<String> = BTreeSet::new();
        // The next suffix to try per base, so many clashing ids stay linear.
        let mut next: BTreeMap<String, usize> = BTreeMap::new();
        let mut slugs = Vec::with_capacity(w.screens.len());
        for s in &w.screens {
            let base = slug(&s.id);
            let mut n = next.get(&base).copied().unwrap_or(1);
            let mut candidate = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            while taken.contains(&candidate) {
                n += 1;
                candidate = format!("{base}-{n}");
            }
            next.insert(base, n + 1);
            taken.insert(candidate.clone());
            slugs.push(candidate);
        }
        Anchors {
            screens: &w.screens,
            slugs,
        }
    }

    fn slug(&self, index: usize) -> &str {
        &self.slugs[index]
    }

    /// The screen a `link_to` names (the first with that id) and its slug.
    fn target(&self, link: &str) -> Option<(&'a Screen, &str)> {
        let i = self.screens.iter().position(|s| s.id == link)?;
        Some((&self.screens[i], &self.slugs[i]))
    }
}

/// `[a-z0-9-]` only: ASCII letters lowercased, anything else becomes `-`.
fn slug(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-') => c,
            _ => '-',
        })
        .collect();
    if s.is_empty() {
        "screen".to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wireframe::model::Kind;

    #[test]
    fn slugs_keep_only_lowercase_letters_digits_and_dashes() {
        assert_eq!(slug("Claim List_2"), "claim-list-2");
        assert_eq!(slug("\"><script>"), "---script-");
        assert_eq!(slug("ünï"), "-n-");
        assert_eq!(slug(""), "screen");
    }

    #[test]
    fn screens_whose_ids_sanitise_alike_get_distinct_anchors() {
        let mut w = sample();
        w.screens[1].id = "Login".into();
        w.screens.push(w.screens[0].clone());
        w.screens[2].id = "login-2".into();
        let anchors = Anchors::new(&w);
        assert_eq!(anchors.slug(0), "login");
        assert_eq!(anchors.slug(1), "login-2");
        assert_eq!(anchors.slug(2), "login-2-2");
        assert_eq!(anchors.target("Login").unwrap().1, "login-2");
        assert!(anchors.target("nowhere").is_none());
    }

    #[test]
    fn rendering_twice_gives_identical_bytes() {
        let w = sample();
        assert_eq!(html(&w), html(&w));
        assert_eq!(screen_html(&w, "login"), screen_html(&w, "login"));
        assert_eq!(svgs(&w), svgs(&w));
        assert_eq!(zip(&w).unwrap(), zip(&w).unwrap());
        let hostile = fixture::hostile();
        assert_eq!(html(&hostile), html(&hostile));
        assert_eq!(svgs(&hostile), svgs(&hostile));
        assert_eq!(zip(&hostile).unwrap(), zip(&hostile).unwrap());
    }

    /// What a mail gateway or a quick test does: grep the bytes and split on
    /// `<` and whitespace, with no HTML or XML parser.
    #[test]
    fn naive_byte_scanners_find_nothing_to_flag_in_hostile_output() {
        let w = fixture::hostile();
        let mut files = vec![html(&w)];
        files.extend(w.screens.iter().filter_map(|s| screen_html(&w, &s.id)));
        files.extend(svgs(&w).into_iter().map(|(_, svg)| svg));
        for file in files {
            let lower = file
                .replacen("http://www.w3.org/2000/svg", "", 1)
                .to_lowercase();
            for bad in [
                "<script",
                "javascript:",
                "vbscript:",
                "data:",
                "http:",
                "https:",
                "src=",
                "onerror",
                "onload",
                "onmouseover",
                "<iframe",
                "<img",
                "<foreignobject",
            ] {
                assert!(!lower.contains(bad), "{bad} in the output");
            }
            for tag in lower.split('<').skip(1) {
                let inside = tag.split('>').next().unwrap_or("");
                for attr in inside.split_whitespace().skip(1) {
                    assert!(
                        !(attr.starts_with("on") && attr.contains('=')),
                        "{attr} looks like a handler"
                    );
                }
            }
        }
    }

    #[test]
    fn svgs_come_one_per_screen_in_screen_order() {
        let w = sample();
        let ids: Vec<String> = svgs(&w).into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, ["login", "dashboard"]);
    }

    #[test]
    fn deeply_nested_trees_render_without_exhausting_the_stack() {
        let mut w = sample();
        let mut deep = w.screens[0].components[0].clone();
        for _ in 0..200 {
            let mut card = fixture::node(Kind::Card, "layer", &[]);
            card.children.push(deep);
            deep = card;
        }
        w.screens[0].components.push(deep);
        assert!(html(&w).contains("wf-too-deep"));
        assert!(svgs(&w)[0].1.contains("too deep"));
    }

    #[test]
    fn every_kind_renders_in_the_narrowest_column() {
        // Grids of six columns inside grids of six: each cell ends narrower
        // than any component's natural width.
        let mut w = sample();
        let leaves: Vec<Component> = Kind::ALL
            .iter()
            .map(|k| fixture::node(*k, "A rather long label for a narrow cell", &["FR-001"]))
            .collect();
        let mut grid = fixture::node(Kind::Grid, "g", &[]);
        grid.children = leaves;
        for _ in 0..3 {
            let mut outer = fixture::node(Kind::Grid, "g", &[]);
            outer.children = vec![grid.clone(); 6];
            grid = outer;
        }
        w.screens[0].components.push(grid);
        assert!(svgs(&w)[0].1.contains("<svg"));
        assert!(html(&w).contains("wf-grid"));
    }
}
