//! OpenAI tool calling on `/v1/chat/completions`: the request's `tools`,
//! `tool_choice` and `parallel_tool_calls`, checked with 400s naming the field;
//! the grammar under which every call names one of the tools and its
//! `arguments` are an instance of that tool's `parameters` ([`grammar`]); and
//! reading the calls back out of the generated text ([`output`]).
//!
//! Whatever the model, calls are generated in the Hermes format,
//! `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`; the prompt side
//! is `inference::chat_template`.

mod grammar;
pub mod output;
mod request;

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::generation::Generator;
use crate::http::AppError;
use crate::inference::chat_model::ChatModel;
use crate::inference::constraint::{Constraint, ConstraintSpec};

/// The text around a call's name and arguments:
/// `<tool_call>` NAME_START name ARGUMENTS_START arguments CALL_CLOSE `</tool_call>`.
const NAME_START: &str = "{\"name\": \"";
const ARGUMENTS_START: &str = "\", \"arguments\": ";
const CALL_CLOSE: &str = "}";
/// Between parallel calls, as Hermes models write them.
const CALL_SEPARATOR: &str = "\n";

/// What the request offered and asked for.
#[derive(Debug)]
pub struct Tools {
    /// The tools as `{"type": "function", "function": {...}}` objects, for the chat template.
    pub definitions: Vec<Value>,
    functions: Vec<Function>,
    pub choice: Choice,
    /// One or more calls per answer, when `parallel_tool_calls` is true; else
    /// exactly one. Off unless asked for (OpenAI defaults it on, llama.cpp's
    /// server off): small models repeat a call they just made, and a client
    /// would run it twice.
    parallel: bool,
}

#[derive(Debug, Clone)]
struct Function {
    name: String,
    /// Always an object schema: `"type": "object"` is added when absent, since
    /// OpenAI's `arguments` are always an object.
    parameters: Map<String, Value>,
}

/// `tool_choice`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Answer in text; the tools are not even shown.
    None,
    /// Text or calls, as the model likes.
    Auto,
    /// Calls only.
    Required,
    /// Calls to this function (an index into the tools) only.
    Named(usize),
}

impl Tools {
    /// Reads the request's fields; `None` when it offers no tools.
    pub fn parse(
        tools: Option<&Value>,
        tool_choice: Option<&Value>,
        parallel: Option<bool>,
    ) -> Result<Option<Tools>, AppError> {
        let tool_choice = tool_choice.filter(|c| !c.is_null());
        let functions = match tools.filter(|t| !t.is_null()) {
            Some(t) => request::parse_functions(t)?,
            None => Vec::new(),
        };
        let choice = request::parse_choice(tool_choice, &functions)?;
        if functions.is_empty() {
            return Ok(None);
        }
        let definitions = functions
            .iter()
            .map(|(definition, _)| definition.clone())
            .collect();
        Ok(Some(Tools {
            definitions,
            functions: functions.into_iter().map(|(_, f)| f).collect(),
            choice,
            parallel: parallel.unwrap_or(false),
        }))
    }

    /// Whether the model may call tools (any `tool_choice` but `none`).
    pub fn active(&self) -> bool {
        self.choice != Choice::None
    }

    /// Compiles the grammar of the choice; `None` for `tool_choice: "none"`.
    /// A `parameters` schema llguidance refuses is a 400 naming its tool,
    /// whatever `tool_choice` says: each tool is compiled alone only where
    /// the grammar leaves some out (`none`, a named function), and to find the
    /// culprit when the grammar fails. CPU work, on a blocking thread.
    pub async fn constraint(&self, model: &Arc<ChatModel>) -> Result<Option<Constraint>, AppError> {
        let functions = self.functions.clone();
        let spec = self.grammar();
        let covers_all = matches!(self.choice, Choice::Auto | Choice::Required);
        Generator::off_runtime(model, move |model| {
            let check_each = || {
                functions.iter().enumerate().try_for_each(|(i, f)| {
                    let schema = ConstraintSpec::JsonSchema(Value::Object(f.parameters.clone()));
                    model.compile_constraint(&schema).map(drop).map_err(|e| {
                        AppError::invalid(
                            &format!("tools[{i}].function.parameters"),
                            format!("Invalid `parameters` schema of tool `{}`: {e}", f.name),
                        )
                    })
                })
            };
            if !covers_all {
                check_each()?;
            }
            let Some(spec) = spec else {
                return Ok(None);
            };
            match model.compile_constraint(&spec) {
                Ok(c) => Ok(Some(c)),
                Err(e) => {
                    check_each()?;
                    Err(AppError::invalid(
                        "tools",
                        format!("The tools cannot be compiled: {e}"),
                    ))
                }
            }
        })
        .await?
    }

    /// The grammar the output is generated under; `None` when calls are off.
    fn grammar(&self) -> Option<ConstraintSpec> {
        let callable: Vec<(&str, &Map<String, Value>)> = match self.choice {
            Choice::None => return None,
            Choice::Auto | Choice::Required => self
                .functions
                .iter()
                .map(|f| (f.name.as_str(), &f.parameters))
                .collect(),
            Choice::Named(i) => vec![(&self.functions[i].name, &self.functions[i].parameters)],
        };
        let text_allowed = self.choice == Choice::Auto;
        Some(ConstraintSpec::Lark(grammar::lark(
            &callable,
            self.parallel,
            text_allowed,
        )))
    }
}

/// A call's id, `call_` and 24 hex digits like OpenAI's.
pub fn call_id() -> String {
    format!("call_{:024x}", rand::random::<u128>() >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn weather() -> Value {
        json!({"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}})
    }

    #[test]
    fn only_auto_and_the_forced_choices_have_a_grammar() {
        let tools = json!([weather()]);
        let none = Tools::parse(Some(&tools), Some(&json!("none")), None)
            .unwrap()
            .unwrap();
        assert!(!none.active() && none.grammar().is_none());
        let required = Tools::parse(Some(&tools), Some(&json!("required")), None)
            .unwrap()
            .unwrap();
        assert!(matches!(required.grammar(), Some(ConstraintSpec::Lark(_))));
    }
}
