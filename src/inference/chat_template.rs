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

mod hermes;

use minijinja::{context, Environment, Error, ErrorKind};
use serde::Serialize;
use serde_json::Value;

pub use hermes::{python_json, TOOL_CALL_END, TOOL_CALL_START};

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
    ) -> Result<Self, Error> {
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
        env.add_template_owned("chat", text)?;
        let native_tools = env
            .get_template("chat")?
            .undeclared_variables(false)
            .contains("tools");
        Ok(Self {
            env,
            bos_token: bos_token.unwrap_or_default().to_string(),
            eos_token: eos_token.unwrap_or_default().to_string(),
            native_tools,
            source,
        })
    }

    /// Whether the template renders `tools` itself (else they are written in
    /// the Hermes format by us).
    pub fn supports_tools(&self) -> bool {
        self.native_tools
    }

    /// The prompt text for `messages`, ending with the assistant's turn
    /// opener, offering the model `tools` (none: `&[]`), OpenAI-shaped
    /// `{"type": "function", "function": {"name", "description", "parameters"}}`
    /// objects (the shape Hugging Face templates read too).
    pub fn render(&self, messages: &[ChatMessage], tools: &[Value]) -> Result<String, Error> {
        let template = self.env.get_template("chat")?;
        if self.native_tools {
            return template.render(context! {
                messages => messages,
                tools => (!tools.is_empty()).then_some(tools),
                add_generation_prompt => true,
                bos_token => self.bos_token,
                eos_token => self.eos_token,
            });
        }
        template.render(context! {
            messages => hermes::messages(messages, tools),
            add_generation_prompt => true,
            bos_token => self.bos_token,
            eos_token => self.eos_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            t.render(&msgs(), &[]).unwrap(),
            "<start_of_turn>user\nBe brief.\n\nHi!<end_of_turn>\n<start_of_turn>model\n"
        );
    }

    #[test]
    fn chatml_fallback_opens_the_assistant_turn() {
        let t = ChatTemplate::new(None, "llama", None, None).unwrap();
        assert_eq!(
            t.render(&msgs(), &[]).unwrap(),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn python_string_methods_work_in_gguf_templates() {
        let src = "{% for m in messages %}{{ m.content.strip().upper() }}{% endfor %}";
        let t = ChatTemplate::new(Some(src), "llama", None, None).unwrap();
        assert_eq!(t.render(&msgs(), &[]).unwrap(), "BE BRIEF.HI!");
    }

    #[test]
    fn raise_exception_in_a_template_is_an_error_not_a_panic() {
        let t = ChatTemplate::new(
            Some("{{ raise_exception('no system role') }}"),
            "llama",
            None,
            None,
        )
        .unwrap();
        assert!(t
            .render(&msgs(), &[])
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
            t.render(&[asked, result], &tools).unwrap(),
            "get_weather;assistant:get_weather(Paris)|tool:18 Cc1|"
        );
    }

    #[test]
    fn a_template_without_tools_gets_them_written_into_the_system_prompt() {
        let t = ChatTemplate::new(None, "llama", None, None).unwrap();
        assert!(!t.supports_tools());
        let tools = [serde_json::json!({"type": "function", "function": {"name": "get_weather"}})];
        let text = t.render(&msgs(), &tools).unwrap();
        assert!(
            text.starts_with("<|im_start|>system\nBe brief.\n\n# Tools"),
            "{text}"
        );
        assert!(text.contains(r#"{"type": "function", "function": {"name": "get_weather"}}"#));
    }
}
