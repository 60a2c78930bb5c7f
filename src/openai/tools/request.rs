//! Checking `tools` and `tool_choice`: each problem is a 400 naming the
//! field, in OpenAI's terms (`tools[1].function.name`).

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use super::{Choice, Function};
use crate::http::AppError;

/// The tools list, each checked, as (definition for the template, function).
pub(super) fn parse_functions(tools: &Value) -> Result<Vec<(Value, Function)>, AppError> {
    let list = tools.as_array().ok_or_else(|| {
        AppError::invalid(
            "tools",
            "`tools` must be a list of {\"type\": \"function\", \"function\": {...}} objects",
        )
    })?;
    let mut names = HashSet::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, tool) in list.iter().enumerate() {
        let field = |f: &str| format!("tools[{i}]{f}");
        let invalid = |f: &str, message: String| AppError::invalid(&field(f), message);
        let tool = tool.as_object().ok_or_else(|| {
            invalid(
                "",
                format!("`tools[{i}]` must be an object with `type` and `function`"),
            )
        })?;
        match tool.get("type") {
            Some(Value::String(t)) if t == "function" => {}
            other => {
                return Err(invalid(
                    ".type",
                    format!("`tools[{i}].type` must be `function`, got {}", shown(other)),
                ))
            }
        }
        let function = tool
            .get("function")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                invalid(
                    ".function",
                    format!("`tools[{i}].function` must be an object"),
                )
            })?;
        let name = match function.get("name") {
            Some(Value::String(n)) if valid_name(n) => n.clone(),
            other => {
                return Err(invalid(
                    ".function.name",
                    format!(
                        "`tools[{i}].function.name` must be 1 to 64 letters, digits, `_` or `-`, got {}",
                        shown(other)
                    ),
                ))
            }
        };
        if !names.insert(name.clone()) {
            return Err(invalid(
                ".function.name",
                format!("Two tools are named `{name}`; names must be unique"),
            ));
        }
        let description = match function.get("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(d)) => Some(d.clone()),
            Some(_) => {
                return Err(invalid(
                    ".function.description",
                    format!("`tools[{i}].function.description` must be a string"),
                ))
            }
        };
        if function
            .get("strict")
            .is_some_and(|s| !s.is_boolean() && !s.is_null())
        {
            return Err(invalid(
                ".function.strict",
                format!("`tools[{i}].function.strict` must be a boolean"),
            ));
        }
        let mut parameters = parse_parameters(function.get("parameters")).map_err(|message| {
            invalid(
                ".function.parameters",
                format!("`tools[{i}].function.parameters` {message}"),
            )
        })?;
        if function.get("strict") == Some(&Value::Bool(true)) {
            let mut schema = Value::Object(parameters);
            crate::openai::response_format::close_objects(&mut schema);
            let Value::Object(closed) = schema else {
                unreachable!("closing objects keeps an object an object")
            };
            parameters = closed;
        }
        let mut definition = json!({"name": name});
        if let Some(d) = description {
            definition["description"] = Value::String(d);
        }
        definition["parameters"] = Value::Object(parameters.clone());
        out.push((
            json!({"type": "function", "function": definition}),
            Function { name, parameters },
        ));
    }
    Ok(out)
}

/// A tool's parameters schema, made an object schema; the error completes
/// "`tools[i].function.parameters` ...".
fn parse_parameters(parameters: Option<&Value>) -> Result<Map<String, Value>, String> {
    let mut schema = match parameters {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => return Err("must be a JSON schema object".into()),
    };
    match schema.get("type") {
        None => {
            schema.insert("type".into(), json!("object"));
        }
        Some(Value::String(t)) if t == "object" => {}
        Some(other) => {
            return Err(format!(
                "must describe an object (`\"type\": \"object\"`), got type {other}"
            ))
        }
    }
    Ok(schema)
}

pub(super) fn parse_choice(
    choice: Option<&Value>,
    functions: &[(Value, Function)],
) -> Result<Choice, AppError> {
    let invalid = |message: String| AppError::invalid("tool_choice", message);
    let choice = match choice {
        None => return Ok(if functions.is_empty() { Choice::None } else { Choice::Auto }),
        Some(Value::String(s)) if s == "none" => Choice::None,
        Some(Value::String(s)) if s == "auto" => Choice::Auto,
        Some(Value::String(s)) if s == "required" => Choice::Required,
        Some(Value::Object(o)) if o.get("type").and_then(Value::as_str) == Some("function") => {
            let name = o
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    invalid("`tool_choice.function.name` must name one of the tools".into())
                })?;
            let index = functions.iter().position(|(_, f)| f.name == name);
            match index {
                Some(i) => Choice::Named(i),
                None if functions.is_empty() => {
                    return Err(invalid(format!(
                        "`tool_choice` names function `{name}` but the request has no `tools`"
                    )))
                }
                None => {
                    return Err(invalid(format!(
                        "`tool_choice` names function `{name}`, which is not among the `tools`"
                    )))
                }
            }
        }
        Some(other) => {
            return Err(invalid(format!(
                "`tool_choice` must be `none`, `auto`, `required` or {{\"type\": \"function\", \"function\": {{\"name\": ...}}}}, got {other}"
            )))
        }
    };
    if choice == Choice::Required && functions.is_empty() {
        return Err(invalid(
            "`tool_choice` is `required` but the request has no `tools`".into(),
        ));
    }
    Ok(choice)
}

/// OpenAI's rule for function names: `^[a-zA-Z0-9_-]{1,64}$`.
fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn shown(v: Option<&Value>) -> String {
    v.map_or("nothing".into(), Value::to_string)
}

#[cfg(test)]
mod tests {
    use super::super::Tools;
    use super::*;

    fn weather() -> Value {
        json!({"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}})
    }

    fn refused(tools: Value, choice: Value) -> (String, String) {
        let choice = (!choice.is_null()).then_some(choice);
        match Tools::parse(Some(&tools), choice.as_ref(), None) {
            Err(AppError::BadRequest { param, message }) => (param.unwrap(), message),
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn tools_default_to_auto_with_one_call_per_answer() {
        let t = Tools::parse(Some(&json!([weather()])), None, None)
            .unwrap()
            .unwrap();
        assert_eq!(t.choice, Choice::Auto);
        assert!(!t.parallel && t.active());
        let t = Tools::parse(Some(&json!([weather()])), None, Some(true))
            .unwrap()
            .unwrap();
        assert!(t.parallel);
        assert_eq!(t.definitions, [weather()]);
    }

    #[test]
    fn no_tools_is_no_tools_unless_the_choice_needs_them() {
        assert!(Tools::parse(None, None, None).unwrap().is_none());
        assert!(Tools::parse(Some(&json!([])), Some(&json!("auto")), None)
            .unwrap()
            .is_none());
        let (param, message) = refused(json!([]), json!("required"));
        assert_eq!(param, "tool_choice");
        assert!(message.contains("no `tools`"), "{message}");
        let (param, _) = refused(
            json!([]),
            json!({"type": "function", "function": {"name": "f"}}),
        );
        assert_eq!(param, "tool_choice");
    }

    #[test]
    fn a_named_choice_must_be_one_of_the_tools() {
        let t = Tools::parse(
            Some(&json!([weather()])),
            Some(&json!({"type": "function", "function": {"name": "get_weather"}})),
            Some(false),
        )
        .unwrap()
        .unwrap();
        assert_eq!(t.choice, Choice::Named(0));
        let (param, message) = refused(
            json!([weather()]),
            json!({"type": "function", "function": {"name": "get_time"}}),
        );
        assert_eq!(param, "tool_choice");
        assert!(message.contains("`get_time`"), "{message}");
        assert_eq!(
            refused(json!([weather()]), json!("sometimes")).0,
            "tool_choice"
        );
    }

    #[test]
    fn malformed_tools_are_refused_naming_the_field() {
        let mut duplicate = weather();
        duplicate["function"]["description"] = json!("again");
        let cases = [
            (json!({"name": "f"}), "tools"),
            (json!(["f"]), "tools[0]"),
            (
                json!([{"type": "retrieval", "function": {"name": "f"}}]),
                "tools[0].type",
            ),
            (json!([{"type": "function"}]), "tools[0].function"),
            (
                json!([{"type": "function", "function": {"name": "a b"}}]),
                "tools[0].function.name",
            ),
            (
                json!([{"type": "function", "function": {"name": "x".repeat(65)}}]),
                "tools[0].function.name",
            ),
            (json!([weather(), duplicate]), "tools[1].function.name"),
            (
                json!([{"type": "function", "function": {"name": "f", "parameters": "city"}}]),
                "tools[0].function.parameters",
            ),
            (
                json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "string"}}}]),
                "tools[0].function.parameters",
            ),
            (
                json!([{"type": "function", "function": {"name": "f", "description": 3}}]),
                "tools[0].function.description",
            ),
        ];
        for (tools, field) in cases {
            assert_eq!(refused(tools.clone(), Value::Null).0, field, "{tools}");
        }
    }

    #[test]
    fn a_strict_function_accepts_no_argument_its_schema_does_not_name() {
        let params = json!({"properties": {"city": {"type": "object", "properties": {"name": {"type": "string"}}}}});
        let t = Tools::parse(
            Some(&json!([{"type": "function", "function": {"name": "f", "strict": true, "parameters": params}},
                         {"type": "function", "function": {"name": "g", "parameters": params}}])),
            None,
            None,
        )
        .unwrap()
        .unwrap();
        let strict = &t.definitions[0]["function"]["parameters"];
        assert_eq!(strict["additionalProperties"], json!(false));
        assert_eq!(
            strict["properties"]["city"]["additionalProperties"],
            json!(false)
        );
        let loose = &t.definitions[1]["function"]["parameters"];
        assert!(loose.get("additionalProperties").is_none());
    }

    #[test]
    fn parameters_default_to_any_object_and_are_always_object_schemas() {
        let t = Tools::parse(
            Some(&json!([{"type": "function", "function": {"name": "now"}},
                         {"type": "function", "function": {"name": "f", "parameters": {"properties": {}}}}])),
            None,
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            t.definitions[0]["function"]["parameters"],
            json!({"type": "object"})
        );
        assert_eq!(
            t.definitions[1]["function"]["parameters"],
            json!({"properties": {}, "type": "object"})
        );
    }
}
