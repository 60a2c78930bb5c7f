//! `response_format` on chat and text completions: `text`, `json_object`,
//! `json_schema` (OpenAI's shape) and `grammar` (our extension: a Lark grammar
//! in llguidance's dialect). Anything wrong with it is a 400 naming
//! `response_format`, decided before the request is queued.

use std::sync::Arc;

use serde_json::Value;

use crate::generation::{Error as GenError, Generator};
use crate::http::AppError;
use crate::inference::chat_model::ChatModel;
use crate::inference::constraint::{Constraint, ConstraintSpec};

const PARAM: &str = "response_format";

/// Reads the request's `response_format`; `None` is free text.
pub fn parse(format: Option<&Value>) -> Result<Option<ConstraintSpec>, AppError> {
    let invalid = |msg: String| AppError::invalid(PARAM, msg);
    let Some(format) = format.filter(|f| !f.is_null()) else {
        return Ok(None);
    };
    let kind = format.get("type").and_then(Value::as_str).ok_or_else(|| {
        invalid("`response_format` must be an object with a string `type`".into())
    })?;
    match kind {
        "text" => Ok(None),
        "json_object" => Ok(Some(ConstraintSpec::JsonObject)),
        "json_schema" => {
            let schema = format
                .get("json_schema")
                .and_then(|j| j.get("schema"))
                .ok_or_else(|| {
                    invalid("`response_format.json_schema.schema` is required for type `json_schema`".into())
                })?;
            if !schema.is_object() {
                return Err(invalid(
                    "`response_format.json_schema.schema` must be a JSON schema object".into(),
                ));
            }
            let mut schema = schema.clone();
            let strict = format["json_schema"].get("strict");
            if strict.is_some_and(|s| !s.is_boolean() && !s.is_null()) {
                return Err(invalid(
                    "`response_format.json_schema.strict` must be a boolean".into(),
                ));
            }
            if strict == Some(&Value::Bool(true)) {
                close_objects(&mut schema);
            }
            Ok(Some(ConstraintSpec::JsonSchema(schema)))
        }
        "grammar" => match format.get("grammar").and_then(Value::as_str) {
            Some(g) => Ok(Some(ConstraintSpec::Lark(g.to_string()))),
            None => Err(invalid(
                "`response_format.grammar` must be a string holding a Lark grammar".into(),
            )),
        },
        other => Err(invalid(format!(
            "Unknown `response_format` type `{other}`; expected text, json_object, json_schema or grammar"
        ))),
    }
}

/// OpenAI's strict structured outputs: an object schema that does not say
/// `additionalProperties` allows no property it does not name. Applied to
/// every object schema inside `schema` (properties, items, combinators,
/// definitions), leaving any explicit `additionalProperties` as written.
pub fn close_objects(schema: &mut Value) {
    let Value::Object(map) = schema else {
        return;
    };
    let is_object = match map.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(types)) => types.iter().any(|t| t == "object"),
        _ => map.contains_key("properties"),
    };
    if is_object && !map.contains_key("additionalProperties") {
        map.insert("additionalProperties".into(), Value::Bool(false));
    }
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            // Schemas keyed by name.
            "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas" => {
                if let Value::Object(named) = value {
                    named.values_mut().for_each(close_objects);
                }
            }
            // Lists of schemas.
            "anyOf" | "oneOf" | "allOf" | "prefixItems" => {
                if let Value::Array(list) = value {
                    list.iter_mut().for_each(close_objects);
                }
            }
            // One schema (`items` may also be a list in older drafts).
            "items" | "additionalProperties" | "not" | "if" | "then" | "else" | "contains" => {
                match value {
                    Value::Array(list) => list.iter_mut().for_each(close_objects),
                    other => close_objects(other),
                }
            }
            _ => {}
        }
    }
}

/// Parses and compiles `format` for `model`; compiling a schema is CPU work,
/// so it runs on a blocking thread.
pub async fn constraint(
    model: &Arc<ChatModel>,
    format: Option<&Value>,
) -> Result<Option<Constraint>, AppError> {
    let Some(spec) = parse(format)? else {
        return Ok(None);
    };
    match Generator::compile(model, spec).await {
        Ok(c) => Ok(Some(c)),
        Err(GenError::Constraint(e)) => Err(AppError::invalid(
            PARAM,
            format!("Invalid `response_format`: {e}"),
        )),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(v: Value) -> String {
        match parse(Some(&v)) {
            Err(AppError::BadRequest { param, message }) => {
                assert_eq!(param.as_deref(), Some(PARAM));
                message
            }
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn text_and_absent_formats_are_unconstrained() {
        assert_eq!(parse(None).unwrap(), None);
        assert_eq!(parse(Some(&Value::Null)).unwrap(), None);
        assert_eq!(parse(Some(&json!({"type": "text"}))).unwrap(), None);
    }

    #[test]
    fn json_schema_and_grammar_formats_carry_their_text() {
        let schema = json!({"type": "object"});
        assert_eq!(
            parse(Some(&json!({"type": "json_schema", "json_schema": {"name": "x", "schema": schema, "strict": false}})))
                .unwrap(),
            Some(ConstraintSpec::JsonSchema(schema))
        );
        assert_eq!(
            parse(Some(&json!({"type": "grammar", "grammar": "start: \"a\""}))).unwrap(),
            Some(ConstraintSpec::Lark("start: \"a\"".into()))
        );
    }

    fn strict(schema: Value) -> Value {
        let format = json!({"type": "json_schema", "json_schema": {"name": "x", "schema": schema, "strict": true}});
        match parse(Some(&format)).unwrap() {
            Some(ConstraintSpec::JsonSchema(s)) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_strict_schema_closes_every_object_that_does_not_say_otherwise() {
        let schema = json!({
            "type": "object",
            "properties": {
                "a": {"type": "object", "properties": {"b": {"type": "string"}}},
                "list": {"type": "array", "items": {"properties": {"c": {"type": "integer"}}}},
                "open": {"type": "object", "additionalProperties": true},
                "either": {"anyOf": [{"type": ["object", "null"]}, {"$ref": "#/$defs/d"}]},
            },
            "$defs": {"d": {"type": "object"}},
        });
        let closed = strict(schema.clone());
        for pointer in [
            "",
            "/properties/a",
            "/properties/list/items",
            "/properties/either/anyOf/0",
            "/$defs/d",
        ] {
            assert_eq!(
                closed.pointer(&format!("{pointer}/additionalProperties")),
                Some(&json!(false)),
                "{pointer}"
            );
        }
        assert_eq!(
            closed["properties"]["open"]["additionalProperties"],
            json!(true)
        );
        assert!(closed["properties"]["a"]["properties"]["b"]
            .get("additionalProperties")
            .is_none());
        // Without `strict` the schema is passed on as written.
        let format = json!({"type": "json_schema", "json_schema": {"name": "x", "schema": schema}});
        assert_eq!(
            parse(Some(&format)).unwrap(),
            Some(ConstraintSpec::JsonSchema(schema))
        );
    }

    #[test]
    fn malformed_formats_say_what_is_missing() {
        assert!(message(json!({"type": "xml"})).contains("`xml`"));
        assert!(
            message(json!({"type": "json_schema", "json_schema": {"name": "x"}}))
                .contains("schema` is required")
        );
        assert!(message(json!({"type": "grammar"})).contains("Lark"));
        assert!(message(json!("json")).contains("`type`"));
        assert!(message(
            json!({"type": "json_schema", "json_schema": {"schema": {}, "strict": "yes"}})
        )
        .contains("boolean"));
    }
}
