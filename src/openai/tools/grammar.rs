//! The Lark grammar (llguidance's dialect) tool calls are generated under.
//!
//! Each function gets a rule of its own, with its name as a literal and its
//! `parameters` embedded with `%json`, rather than one JSON schema whose
//! `anyOf` pairs a `name` const with `arguments`: a `$ref` such as
//! `#/$defs/...` inside `parameters` then resolves against `parameters` as
//! its author wrote it, and the fixed text between name and arguments is what
//! [`super::output`] reads back.

use std::fmt::Write;

use serde_json::{Map, Value};

use super::{ARGUMENTS_START, CALL_CLOSE, CALL_SEPARATOR, NAME_START};
use crate::inference::chat_template::{TOOL_CALL_END, TOOL_CALL_START};
use crate::inference::constraint::lark_json;

/// Calls to `functions` (name, parameters): one, or one or more when
/// `parallel`; or, when `text_allowed`, any text that does not start with
/// `<tool_call>` instead.
pub fn lark(
    functions: &[(&str, &Map<String, Value>)],
    parallel: bool,
    text_allowed: bool,
) -> String {
    let calls = if parallel {
        format!("call ({} call)*", literal(CALL_SEPARATOR))
    } else {
        "call".to_string()
    };
    let mut g = String::new();
    if text_allowed {
        // The empty answer is text too: a model may end its turn at once.
        let _ = writeln!(g, "start: {calls} | TEXT?");
        let _ = writeln!(
            g,
            "TEXT: /(?s:.+)/ & ~({} /(?s:.*)/)",
            literal(TOOL_CALL_START)
        );
    } else {
        let _ = writeln!(g, "start: {calls}");
    }
    let rules: Vec<String> = (0..functions.len()).map(|i| format!("fn_{i}")).collect();
    let _ = writeln!(
        g,
        "call: {} ({}) {}",
        literal(TOOL_CALL_START),
        rules.join(" | "),
        literal(&format!("{CALL_CLOSE}{TOOL_CALL_END}"))
    );
    for (rule, (name, parameters)) in rules.iter().zip(functions) {
        let _ = writeln!(
            g,
            "{rule}: {} {}",
            literal(&format!("{NAME_START}{name}{ARGUMENTS_START}")),
            lark_json(parameters)
        );
    }
    g
}

/// A Lark string literal (JSON string syntax).
fn literal(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::constraint::{Allowed, Constrainer, ConstraintSpec};
    use serde_json::json;

    fn weather() -> Map<String, Value> {
        json!({"type": "object", "additionalProperties": false, "required": ["city"],
            "properties": {"city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}}})
        .as_object()
        .unwrap()
        .clone()
    }

    fn no_parameters() -> Map<String, Value> {
        json!({"type": "object", "additionalProperties": false, "properties": {}})
            .as_object()
            .unwrap()
            .clone()
    }

    /// Whether the grammar generates exactly `text` (byte by byte) and may end there.
    fn accepts(grammar: &str, text: &str) -> bool {
        let mut c = Constrainer::bytes()
            .compile(&ConstraintSpec::Lark(grammar.to_string()))
            .unwrap_or_else(|e| panic!("{e}\n{grammar}"));
        for b in text.bytes() {
            match c.allowed().unwrap() {
                Allowed::Tokens { mask, .. } if mask.is_allowed(b as u32) => {
                    c.commit(b as u32).unwrap()
                }
                _ => return false,
            }
        }
        match c.allowed().unwrap() {
            Allowed::Finished => true,
            Allowed::Tokens { eos, .. } => eos,
        }
    }

    const PARIS: &str =
        r#"<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>"#;
    const NOW: &str = r#"<tool_call>{"name": "now", "arguments": {}}</tool_call>"#;

    #[test]
    fn a_required_call_names_a_tool_and_its_arguments_follow_the_schema() {
        let (w, n) = (weather(), no_parameters());
        let g = lark(&[("get_weather", &w), ("now", &n)], false, false);
        assert!(accepts(&g, PARIS), "{g}");
        assert!(accepts(&g, NOW));
        assert!(accepts(
            &g,
            r#"<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}}</tool_call>"#
        ));
        for wrong in [
            r#"<tool_call>{"name": "get_time", "arguments": {}}</tool_call>"#,
            r#"<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>"#,
            r#"<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "kelvin"}}</tool_call>"#,
            r#"<tool_call>{"name":"now","arguments":{}}</tool_call>"#,
            "Sunny",
            "",
        ] {
            assert!(!accepts(&g, wrong), "{wrong}");
        }
    }

    #[test]
    fn parallel_calls_are_separated_by_newlines_and_single_calls_stand_alone() {
        let (w, n) = (weather(), no_parameters());
        let two = format!("{PARIS}\n{NOW}");
        assert!(accepts(
            &lark(&[("get_weather", &w), ("now", &n)], true, false),
            &two
        ));
        assert!(!accepts(
            &lark(&[("get_weather", &w), ("now", &n)], false, false),
            &two
        ));
    }

    #[test]
    fn auto_allows_text_that_does_not_open_a_call() {
        let w = weather();
        let g = lark(&[("get_weather", &w)], false, true);
        assert!(accepts(&g, PARIS), "{g}");
        for text in [
            "It is sunny.",
            "",
            "<tool",
            "A <tool_call> later",
            " <tool_call>",
        ] {
            assert!(accepts(&g, text), "{text:?}");
        }
        assert!(!accepts(
            &g,
            r#"<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>"#
        ));
        assert!(!accepts(&g, "<tool_call>hello"));
    }

    #[test]
    fn a_local_ref_resolves_inside_the_tools_own_parameters() {
        let p = json!({"type": "object", "required": ["a"], "additionalProperties": false,
            "properties": {"a": {"$ref": "#/$defs/level"}}, "$defs": {"level": {"enum": ["must"]}}});
        let g = lark(&[("f", p.as_object().unwrap())], false, false);
        assert!(
            accepts(
                &g,
                r#"<tool_call>{"name": "f", "arguments": {"a": "must"}}</tool_call>"#
            ),
            "{g}"
        );
    }
}
