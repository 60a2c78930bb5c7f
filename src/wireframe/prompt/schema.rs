//! The JSON schema of the screen form: a block schema per component kind,
//! the screen form per purpose, and the whole app.

use serde_json::{json, Map, Value};

use super::Purpose;
use crate::wireframe::model::Kind;

pub const INPUT_TYPES: [&str; 6] = ["text", "email", "password", "number", "date", "time"];
pub(super) const LAYOUTS: [&str; 4] = ["stack", "centered", "sidebar-left", "sidebar-right"];

pub fn line(max: usize) -> Value {
    json!({"type": "string", "pattern": format!("^[^\"\\\\\\n\\t<>]{{1,{max}}}$")})
}

/// A short text the screen shows: a free line, or one of the words the
/// wireframe may use (the `label` definition of [`defs`]).
pub fn label() -> Value {
    json!({"$ref": "#/$defs/label"})
}

pub(super) fn lines(min: usize, max: usize) -> Value {
    json!({"type": "array", "items": label(), "minItems": min, "maxItems": max})
}

pub(super) fn screen_id() -> Value {
    json!({"type": "string", "pattern": "^[a-z][a-z0-9-]{1,30}$"})
}

/// The `$ref` of a kind's block schema.
pub(super) fn block_ref(kind: Kind) -> Value {
    json!({"$ref": format!("#/$defs/{}", kind.as_str())})
}

/// One of the kinds given, as `$ref`s to their block schemas.
pub fn any_of(kinds: &[Kind]) -> Value {
    json!({"anyOf": kinds.iter().map(|k| block_ref(*k)).collect::<Vec<_>>()})
}

/// Form fields.
pub const FIELDS: [Kind; 5] = [
    Kind::Input,
    Kind::Select,
    Kind::Checkbox,
    Kind::Radio,
    Kind::Textarea,
];

pub(super) fn is_region(k: Kind) -> bool {
    matches!(k, Kind::Header | Kind::Sidebar | Kind::Main | Kind::Footer)
}

/// What a card, grid cell or modal holds: any leaf but a menu.
pub(super) fn leaves() -> Vec<Kind> {
    Kind::ALL
        .into_iter()
        .filter(|k| !k.is_container() && *k != Kind::Navigation)
        .collect()
}

/// What the main content is made of: fields belong in forms, menus in the
/// header or sidebar, and a modal is not sketched on its own.
pub(super) fn blocks() -> Vec<Kind> {
    Kind::ALL
        .into_iter()
        .filter(|k| !is_region(*k) && !FIELDS.contains(k))
        .filter(|k| !matches!(k, Kind::Navigation | Kind::Modal))
        .collect()
}

/// Every kind but the regions: what a change request may add.
pub fn addable() -> Vec<Kind> {
    Kind::ALL.into_iter().filter(|k| !is_region(*k)).collect()
}

/// Where `phrase` stands in `text` as whole words (a plural `s` after it
/// counts: "lists", not "listing"), as byte offsets.
pub fn find_words(text: &str, phrase: &str) -> Vec<usize> {
    text.match_indices(phrase)
        .map(|(i, _)| i)
        .filter(|&i| {
            let before = text[..i].chars().next_back();
            let rest = &text[i + phrase.len()..];
            let after = rest.strip_prefix('s').unwrap_or(rest).chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
        .collect()
}

/// The schema of one kind of block: `type` and `label`, then what that kind
/// needs.
pub(super) fn block(kind: Kind, requirement_ids: &[String]) -> Value {
    let mut properties = Map::new();
    properties.insert("type".into(), json!({"const": kind.as_str()}));
    properties.insert("label".into(), label());
    let mut required = vec!["type", "label"];
    let mut need = |name: &'static str, schema: Value| {
        properties.insert(name.into(), schema);
        required.push(name);
    };
    match kind {
        Kind::Form => {
            need(
                "fields",
                json!({"type": "array", "items": any_of(&FIELDS), "minItems": 1, "maxItems": 8}),
            );
            need(
                "buttons",
                json!({"type": "array", "items": block_ref(Kind::Button), "minItems": 1, "maxItems": 3}),
            );
        }
        Kind::Table => {
            need("columns", lines(2, 6));
            need(
                "rows",
                json!({"type": "array", "items": lines(1, 6), "minItems": 1, "maxItems": 3}),
            );
        }
        Kind::Navigation | Kind::Breadcrumbs | Kind::List | Kind::Tabs => {
            need("items", lines(1, 6))
        }
        Kind::Select | Kind::Radio => need("options", lines(2, 6)),
        Kind::Input => need("input_type", json!({"enum": INPUT_TYPES})),
        Kind::Card | Kind::Grid | Kind::Modal => need(
            "children",
            json!({"type": "array", "items": any_of(&leaves()), "minItems": 1, "maxItems": 6}),
        ),
        _ => {}
    }
    if !requirement_ids.is_empty() {
        properties.insert(
            "requirement_ids".into(),
            json!({"type": "array", "items": {"enum": requirement_ids}, "minItems": 1, "maxItems": 3}),
        );
    }
    if matches!(kind, Kind::Button | Kind::Card | Kind::List | Kind::Table) {
        properties.insert("link_to".into(), screen_id());
    }
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

/// One schema per purpose: the same screen form, with the main content
/// starting with the purpose's lead block.
pub(super) fn screen(purpose: Purpose) -> Value {
    json!({
        "type": "object",
        "properties": {
            "id": screen_id(),
            "title": label(),
            "purpose": {"const": purpose.as_str()},
            "layout": {"enum": LAYOUTS},
            "header": {"$ref": "#/$defs/header"},
            "sidebar": lines(1, 8),
            "main": {
                "type": "array",
                "prefixItems": [block_ref(purpose.lead())],
                "items": any_of(&blocks()),
                "minItems": 1,
                "maxItems": 5
            },
            "footer": label()
        },
        "required": ["id", "title", "purpose", "layout", "header", "main"],
        "additionalProperties": false
    })
}

/// Definitions shared by the tree and change schemas: one per block kind,
/// the header, `screen`, and `label`: every text the screens show, one of
/// `words` when given (so no word comes from nowhere), else a free line.
pub(super) fn defs(requirement_ids: &[String], words: &[String]) -> Value {
    let mut defs = Map::new();
    defs.insert(
        "label".into(),
        if words.is_empty() {
            line(40)
        } else {
            json!({"enum": words})
        },
    );
    for kind in addable() {
        defs.insert(kind.as_str().into(), block(kind, requirement_ids));
    }
    defs.insert(
        "header".into(),
        json!({"type": "object", "properties": {"title": label(), "navigation": lines(1, 6)}, "required": ["title"], "additionalProperties": false}),
    );
    defs.insert(
        "screen".into(),
        json!({"anyOf": Purpose::ALL.iter().map(|p| screen(*p)).collect::<Vec<_>>()}),
    );
    Value::Object(defs)
}

/// The schema of a generated wireframe: one to `max_screens` screens, the
/// first of them for `first` if given, every text one of `words` unless
/// that is empty.
pub fn tree_schema(
    max_screens: usize,
    requirement_ids: &[String],
    first: Option<Purpose>,
    words: &[String],
) -> Value {
    let mut screens = json!({"type": "array", "items": {"$ref": "#/$defs/screen"}, "minItems": 1, "maxItems": max_screens.max(1)});
    if let Some(p) = first {
        screens["prefixItems"] = json!([screen(p)]);
    }
    json!({
        "$defs": defs(requirement_ids, words),
        "type": "object",
        "properties": {"screens": screens},
        "required": ["screens"],
        "additionalProperties": false
    })
}
