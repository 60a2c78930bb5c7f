//! Chat templates: the Jinja template a GGUF carries in `tokenizer.chat_template`,
//! rendered with minijinja, or a built-in format when the file has none.
//!
//! Templates are written for Python's Jinja2, so Python string methods
//! (`.strip()`, `.startswith()`) come from minijinja-contrib's pycompat layer.

use minijinja::{context, Environment, Error, ErrorKind};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
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
        Ok(Self {
            env,
            bos_token: bos_token.unwrap_or_default().to_string(),
            eos_token: eos_token.unwrap_or_default().to_string(),
            source,
        })
    }

    /// The prompt text for `messages`, ending with the assistant's turn opener.
    pub fn render(&self, messages: &[ChatMessage]) -> Result<String, Error> {
        self.env.get_template("chat")?.render(context! {
            messages => messages,
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
            .map(|(r, c)| ChatMessage {
                role: r.to_string(),
                content: c.to_string(),
            })
            .collect()
    }

    #[test]
    fn gemma_fallback_folds_the_system_prompt_into_the_first_user_turn() {
        let t = ChatTemplate::new(None, "gemma3", Some("<bos>"), None).unwrap();
        assert_eq!(
            t.render(&msgs()).unwrap(),
            "<start_of_turn>user\nBe brief.\n\nHi!<end_of_turn>\n<start_of_turn>model\n"
        );
    }

    #[test]
    fn chatml_fallback_opens_the_assistant_turn() {
        let t = ChatTemplate::new(None, "llama", None, None).unwrap();
        assert_eq!(
            t.render(&msgs()).unwrap(),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn python_string_methods_work_in_gguf_templates() {
        let src = "{% for m in messages %}{{ m.content.strip().upper() }}{% endfor %}";
        let t = ChatTemplate::new(Some(src), "llama", None, None).unwrap();
        assert_eq!(t.render(&msgs()).unwrap(), "BE BRIEF.HI!");
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
            .render(&msgs())
            .unwrap_err()
            .to_string()
            .contains("no system role"));
    }
}
