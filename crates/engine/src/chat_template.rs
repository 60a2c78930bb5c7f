//! Chat templates: the Jinja template a GGUF carries in `tokenizer.chat_template`,
//! rendered with minijinja, or a built-in format when the file has none.
//!
//! Templates are written for Python's Jinja2, so Python string methods
//! (`.strip()`, `.startswith()`) come from minijinja-contrib's pycompat layer.
//!
//! Tools follow Hugging Face's convention: a template that reads `tools`
//! (Qwen 2.5, Hermes, Llama 3.1) gets them in its context and renders calls and
//! results itself. Any other template (SmolLM2's plain ChatML, our built-ins)
//! gets the Hermes format written out as text (see [`hermes`]).
//!
//! Every string the template is given (messages, tool calls, tools) passes
//! through a `quote` function first: the tokenizer's
//! [`quote`](crate::tokenizer::GgufTokenizer::quote), so that turn
//! markers written in content stay text. A template runs under the limits of
//! [`limits`], and must render a one-message conversation to be accepted.

mod hermes;
mod limits;

use minijinja::{context, Environment, Error, ErrorKind};
use serde::Serialize;
use serde_json::Value;

pub use hermes::{python_json, TOOL_CALL_END, TOOL_CALL_START};
pub use limits::TemplateError;

/// One turn as templates see it (`message['role']`, `message['content']`, ...).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChatMessage {
    pub role: String,
    /// Empty, never null, for an assistant turn that only calls tools:
    /// templates concatenate `message['content']` with other strings.
    pub content: String,
    /// The functions an assistant turn called.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// On a `tool` turn: the call whose result this is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            role: role.into(),
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    /// This message with every string in it passed through `quote`.
    fn quoted(&self, quote: &dyn Fn(&str) -> String) -> Self {
        Self {
            role: quote(&self.role),
            content: quote(&self.content),
            tool_calls: self
                .tool_calls
                .iter()
                .map(|c| ToolCall {
                    id: quote(&c.id),
                    kind: c.kind,
                    function: FunctionCall {
                        name: quote(&c.function.name),
                        arguments: quote_value(&c.function.arguments, quote),
                    },
                })
                .collect(),
            tool_call_id: self.tool_call_id.as_deref().map(quote),
        }
    }
}

/// `value` with every string in it, keys included, passed through `quote`.
fn quote_value(value: &Value, quote: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::String(s) => Value::String(quote(s)),
        Value::Array(items) => Value::Array(items.iter().map(|v| quote_value(v, quote)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (quote(k), quote_value(v, quote)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A function call in an assistant turn. Templates expect `arguments` as a
/// JSON value (`tool_call.arguments | tojson`), not OpenAI's JSON text.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionCall,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FunctionCall {
    pub name: String,
    /// The arguments object, or the text as sent when it is not JSON.
    pub arguments: Value,
}

impl ToolCall {
    pub fn function(id: String, name: String, arguments: Value) -> Self {
        Self {
            id,
            kind: "function",
            function: FunctionCall { name, arguments },
        }
    }
}

/// Gemma's turn format (Gemma 3 GGUFs may ship without a template). Gemma has
/// no system role: the system prompt opens the first user turn.
const GEMMA_TEMPLATE: &str = "{%- set ns = namespace(system='') -%}
{%- for m in messages -%}
{%- if m.role == 'system' -%}{%- set ns.system = ns.system + m.content + '\n\n' -%}
{%- else -%}
<start_of_turn>{{ 'model' if m.role == 'assistant' else 'user' }}
{% if m.role == 'user' and ns.system %}{{ ns.system }}{% set ns.system = '' %}{% endif %}{{ m.content | trim }}<end_of_turn>
{% endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}<start_of_turn>model
{% endif -%}";

/// ChatML, used by most instruction-tuned models without their own template.
const CHATML_TEMPLATE: &str = "{%- for m in messages -%}
<|im_start|>{{ m.role }}
{{ m.content }}<|im_end|>
{% endfor -%}
{%- if add_generation_prompt -%}<|im_start|>assistant
{% endif -%}";

pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
    /// The template reads a `tools` variable, so it renders tools itself.
    native_tools: bool,
    /// Where the template came from, for `models list` and logs.
    pub source: &'static str,
}

impl ChatTemplate {
    /// Builds the template from the GGUF's own text, or picks the built-in
    /// format for the architecture when there is none.
    pub fn new(
        gguf_template: Option<&str>,
        architecture: &str,
        bos_token: Option<&str>,
        eos_token: Option<&str>,
    ) -> Result<Self, TemplateError> {
        let (text, source) = match gguf_template {
            Some(t) => (t.to_string(), "gguf"),
            None if architecture.starts_with("gemma") => {
                (GEMMA_TEMPLATE.to_string(), "builtin-gemma")
            }
            None => (CHATML_TEMPLATE.to_string(), "builtin-chatml"),
        };
        let mut env = Environment::new();
        minijinja_contrib::add_to_environment(&mut env);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |msg: String| -> Result<String, Error> {
            Err(Error::new(ErrorKind::InvalidOperation, msg))
        });
        limits::apply(&mut env);
        env.add_template_owned("chat", text)?;
        let native_tools = env
            .get_template("chat")?
            .undeclared_variables(false)
            .contains("tools");
        let template = Self {
            env,
            bos_token: bos_token.unwrap_or_default().to_string(),
            eos_token: eos_token.unwrap_or_default().to_string(),
            native_tools,
            source,
        };
        // A trial run refuses a template that cannot render the simplest
        // conversation, or only past its limits, when the model loads rather
        // than on every request.
        template.render(&[ChatMessage::new("user", "Hello")], &[], &str::to_string)?;
        Ok(template)
    }

    /// Whether the template renders `tools` itself (else they are written in
    /// the Hermes format by us).
    pub fn supports_tools(&self) -> bool {
        self.native_tools
    }

    /// The prompt text for `messages`, ending with the assistant's turn
    /// opener, offering the model `tools` (none: `&[]`), OpenAI-shaped
    /// `{"type": "function", "function": {"name", "description", "parameters"}}`
    /// objects (the shape Hugging Face templates read too). Every string of
    /// `messages` and `tools` reaches the template through `quote`. CPU work
    /// bounded by [`limits`]: call it off the async runtime.
    pub fn render(
        &self,
        messages: &[ChatMessage],
        tools: &[Value],
        quote: &dyn Fn(&str) -> String,
    ) -> Result<String, TemplateError> {
        let template = self.env.get_template("chat")?;
        // The output cap grows with what the template is given, counted as it is quoted.
        let input = std::cell::Cell::new(0usize);
        let counted = |s: &str| {
            input.set(input.get().saturating_add(s.len()));
            quote(s)
        };
        let written;
        let (messages, tools): (&[ChatMessage], &[Value]) = if self.native_tools {
            (messages, tools)
        } else {
            // Hermes writes the tools into the messages, where they are quoted with the rest.
            written = hermes::messages(messages, tools);
            (&written, &[])
        };
        let messages: Vec<ChatMessage> = messages.iter().map(|m| m.quoted(&counted)).collect();
        let tools: Vec<Value> = tools.iter().map(|t| quote_value(t, &counted)).collect();
        let mut output = limits::CappedOutput::new(
            limits::OUTPUT_BASE
                .saturating_add(input.get().saturating_mul(limits::OUTPUT_PER_INPUT_BYTE)),
        );
        let ctx = context! {
            messages => messages,
            tools => (!tools.is_empty()).then_some(tools),
            add_generation_prompt => true,
            bos_token => self.bos_token,
            eos_token => self.eos_token,
        };
        match template.render_captured_to(ctx, &mut output) {
            // minijinja writes whole `str`s and a refused write stops it, so this is UTF-8.
            Ok(_) => Ok(String::from_utf8(output.bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())),
            Err(e) => Err(TemplateError::from_render(e, &output)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn as_is(s: &str) -> String {
        s.to_string()
    }

    fn msgs() -> Vec<ChatMessage> {
        [("system", "Be brief."), ("user", "Hi!")]
            .iter()
            .map(|(r, c)| ChatMessage::new(*r, *c))
            .collect()
    }

    #[test]
    fn gemma_fallback_folds_the_system_prompt_into_the_first_user_turn() {
        let t = ChatTemplate::new(None, "gemma3", Some("<bos>"), None).unwrap();
        assert_eq!(
            t.render(&msgs(), &[], &as_is).unwrap(),
            "<start_of_turn>user\nBe brief.\n\nHi!<end_of_turn>\n<start_of_turn>model\n"
        );
    }

    #[test]
    fn chatml_fallback_opens_the_assistant_turn() {
        let t = ChatTemplate::new(None, "llama", None, None).unwrap();
        assert_eq!(
            t.render(&msgs(), &[], &as_is).unwrap(),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn python_string_methods_work_in_gguf_templates() {
        let src = "{% for m in messages %}{{ m.content.strip().upper() }}{% endfor %}";
        let t = ChatTemplate::new(Some(src), "llama", None, None).unwrap();
        assert_eq!(t.render(&msgs(), &[], &as_is).unwrap(), "BE BRIEF.HI!");
    }

    #[test]
    fn raise_exception_in_a_template_is_an_error_not_a_panic() {
        let t = ChatTemplate::new(
            Some("{% if messages[0].role == 'system' %}{{ raise_exception('no system role') }}{% endif %}"),
            "llama",
            None,
            None,
        )
        .unwrap();
        assert!(t
            .render(&msgs(), &[], &as_is)
            .unwrap_err()
            .to_string()
            .contains("no system role"));
    }

    #[test]
    fn a_template_that_reads_tools_gets_them_and_the_calls_as_values() {
        let src = "{% for t in tools %}{{ t.function.name }};{% endfor %}\
            {% for m in messages %}{{ m.role }}:{{ m.content }}\
            {% for c in m.tool_calls %}{{ c.function.name }}({{ c.function.arguments.city }}){% endfor %}\
            {{ m.tool_call_id }}|{% endfor %}";
        let t = ChatTemplate::new(Some(src), "qwen2", None, None).unwrap();
        assert!(t.supports_tools());
        let mut asked = ChatMessage::new("assistant", "");
        asked.tool_calls = vec![ToolCall::function(
            "c1".into(),
            "get_weather".into(),
            serde_json::json!({"city": "Paris"}),
        )];
        let mut result = ChatMessage::new("tool", "18 C");
        result.tool_call_id = Some("c1".into());
        let tools = [serde_json::json!({"type": "function", "function": {"name": "get_weather"}})];
        assert_eq!(
            t.render(&[asked, result], &tools, &as_is).unwrap(),
            "get_weather;assistant:get_weather(Paris)|tool:18 Cc1|"
        );
    }

    #[test]
    fn a_template_without_tools_gets_them_written_into_the_system_prompt() {
        let t = ChatTemplate::new(None, "llama", None, None).unwrap();
        assert!(!t.supports_tools());
        let tools = [serde_json::json!({"type": "function", "function": {"name": "get_weather"}})];
        let text = t.render(&msgs(), &tools, &as_is).unwrap();
        assert!(
            text.starts_with("<|im_start|>system\nBe brief.\n\n# Tools"),
            "{text}"
        );
        assert!(text.contains(r#"{"type": "function", "function": {"name": "get_weather"}}"#));
    }

    #[test]
    fn every_string_a_template_is_given_passes_through_quote_but_its_own_text_does_not() {
        let mark = |s: &str| s.replace("<x>", "[x]");
        let src = "<x>{% for t in tools %}{{ t.function.name }};{% endfor %}\
            {% for m in messages %}{{ m.role }}:{{ m.content }}:\
            {% for c in m.tool_calls %}{% for k, v in c.function.arguments|items %}{{ k }}={{ v }}{% endfor %}{% endfor %}\
            {% endfor %}";
        let t = ChatTemplate::new(Some(src), "qwen2", None, None).unwrap();
        let mut asked = ChatMessage::new("assistant", "Hi<x>!");
        asked.tool_calls = vec![ToolCall::function(
            "c1".into(),
            "get<x>weather".into(),
            serde_json::json!({"ci<x>ty": "Par<x>is"}),
        )];
        let tools =
            [serde_json::json!({"type": "function", "function": {"name": "get<x>weather"}})];
        assert_eq!(
            t.render(&[asked], &tools, &mark).unwrap(),
            "<x>get[x]weather;assistant:Hi[x]!:ci[x]ty=Par[x]is"
        );
    }

    #[test]
    fn tools_written_into_the_prompt_for_a_template_without_them_are_quoted_too() {
        let t = ChatTemplate::new(None, "llama", None, None).unwrap();
        let tools =
            [serde_json::json!({"type": "function", "function": {"name": "get<x>weather"}})];
        let text = t
            .render(&msgs(), &tools, &|s: &str| s.replace("<x>", "[x]"))
            .unwrap();
        assert!(
            text.contains("get[x]weather") && !text.contains("<x>"),
            "{text}"
        );
    }
}
