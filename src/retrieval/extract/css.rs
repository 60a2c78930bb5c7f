//! Just enough CSS to tell when text is hidden from a reader: declarations
//! that hide an element (`display:none`, `visibility:hidden`, a zero font
//! size or opacity, white text on a white page) and the selectors of the
//! page's own style sheets that apply them. Hidden text is a way to slip
//! instructions past the person who uploads a page, so it is not indexed.

/// Most hiding rules taken from a page's style sheets. Each one is matched
/// against every element, so this bounds the cost; real pages have a few
/// (`.hidden`, `.d-none`).
const MAX_HIDING_RULES: usize = 64;

/// `(property, value)` pairs of a declaration block, lowercased, with the
/// whitespace and `!important` removed.
pub(super) fn declarations(block: &str) -> Vec<(String, String)> {
    block
        .split(';')
        .filter_map(|d| {
            let (property, value) = d.split_once(':')?;
            let value: String = value
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_ascii_lowercase();
            let value = value.trim_end_matches("!important").to_string();
            Some((property.trim().to_ascii_lowercase(), value))
        })
        .collect()
}

/// What a declaration block says about visibility.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(super) struct Look {
    /// Hidden whatever is around it.
    pub hidden: bool,
    /// The text colour is white.
    pub white_text: bool,
    /// The background, if one is set: `Some(true)` when it is white.
    pub white_background: Option<bool>,
}

impl Look {
    pub fn of(declarations: &[(String, String)]) -> Look {
        let mut look = Look::default();
        for (property, value) in declarations {
            match property.as_str() {
                "display" if value == "none" => look.hidden = true,
                "visibility" if value == "hidden" || value == "collapse" => look.hidden = true,
                "font-size" | "opacity" if is_zero(value) => look.hidden = true,
                "color" => look.white_text = is_white(value),
                // A see-through background shows the one behind it; any
                // other value (a colour, an image) counts as not white.
                "background" | "background-color" if value != "transparent" && value != "none" => {
                    look.white_background = Some(is_white(value));
                }
                _ => {}
            }
        }
        look
    }

    /// Hidden on a background that is white when `page_is_white`.
    pub fn hides(self, page_is_white: bool) -> bool {
        let white_behind = self.white_background.unwrap_or(page_is_white);
        self.hidden || (self.white_text && white_behind)
    }
}

/// `0`, `0px`, `0.0em`, `0%`...: a number that is zero, in any unit.
fn is_zero(value: &str) -> bool {
    let number = value.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '%');
    number.parse::<f64>().is_ok_and(|n| n == 0.0)
}

/// White in the notations pages use for it.
pub(super) fn is_white(value: &str) -> bool {
    matches!(
        value,
        "white" | "#fff" | "#ffff" | "#ffffff" | "#ffffffff" | "rgb(255,255,255)"
    ) || value.starts_with("rgba(255,255,255,")
}

/// Selectors of the style sheet `css` whose rules hide what they select.
/// Rules inside at-rules (`@media print { … }`) are skipped: they apply only
/// in some conditions.
pub(super) fn hiding_selectors(css: &str) -> Vec<String> {
    let css = strip_comments(css);
    let mut selectors = Vec::new();
    let mut rest = css.as_str();
    while let Some(open) = rest.find('{') {
        let prelude = rest[..open].trim();
        let body_start = open + 1;
        if prelude.starts_with('@') {
            rest = &rest[block_end(rest, body_start)..];
            continue;
        }
        let close = rest[body_start..]
            .find('}')
            .map_or(rest.len(), |i| body_start + i);
        let look = Look::of(&declarations(&rest[body_start..close]));
        if look.hides(true) && !prelude.is_empty() {
            selectors.push(prelude.to_string());
            if selectors.len() == MAX_HIDING_RULES {
                break;
            }
        }
        rest = &rest[(close + 1).min(rest.len())..];
    }
    selectors
}

/// The index just past the `}` that closes the block opened before `start`.
fn block_end(css: &str, start: usize) -> usize {
    let mut depth = 1;
    for (i, c) in css[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return start + i + 1;
                }
            }
            _ => {}
        }
    }
    css.len()
}

fn strip_comments(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = match rest[start + 2..].find("*/") {
            Some(end) => &rest[start + 2 + end + 2..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hides(style: &str) -> bool {
        Look::of(&declarations(style)).hides(true)
    }

    #[test]
    fn hiding_declarations_are_recognised_in_any_spelling() {
        assert!(hides("display: NONE !important"));
        assert!(hides("visibility:hidden"));
        assert!(hides("font-size: 0px"));
        assert!(hides("font-size:0"));
        assert!(hides("opacity: 0.0"));
        assert!(hides("color: #FFF"));
        assert!(hides("color: rgb(255, 255, 255); background: white"));
        assert!(!hides("font-size: 0.8em"));
        assert!(!hides("color: #ffffff; background-color: #003366"));
        assert!(!hides("color: red"));
    }

    #[test]
    fn white_text_is_hidden_only_where_the_background_behind_it_is_white() {
        let look = Look::of(&declarations("color: white"));
        assert!(look.hides(true));
        assert!(!look.hides(false));
    }

    #[test]
    fn style_sheets_yield_the_selectors_of_hiding_rules_outside_at_rules() {
        let css = "/* .c{display:none} */ .x { display: none } p.y, .z{visibility:hidden}\n\
                   @media print { .w { display: none } } .shown { color: red } .s{font-size:0}";
        assert_eq!(hiding_selectors(css), [".x", "p.y, .z", ".s"]);
    }
}
