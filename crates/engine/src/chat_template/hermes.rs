//! Tools for templates that know nothing of them, in the Hermes format (as
//! NousResearch's Hermes and Qwen 2.5 models were trained on it): the tools'
//! signatures in the system prompt, each call as
//! `<tool_call>{"name": ..., "arguments": {...}}</tool_call>` in the assistant's
//! turn, results as `<tool_response>` text in a user turn. Constrained output
//! (`openai::tools`) generates exactly this call syntax, so history and fresh
//! calls read the same to the model.

use serde::Serialize;
use serde_json::Value;

use super::{ChatMessage, ToolCall};

pub const TOOL_CALL_START: &str = "<tool_call>";
pub const TOOL_CALL_END: &str = "</tool_call>";

/// `messages` rewritten for a template without tool support; `tools` may be empty.
pub fn messages(messages: &[ChatMessage], tools: &[Value]) -> Vec<ChatMessage> {
    let mut out: Vec<ChatMessage> = Vec::with_capacity(messages.len() + 1);
    let mut rest = messages;
    if !tools.is_empty() {
        let section = tools_section(tools);
        let system = match messages.split_first() {
            Some((first, tail)) if first.role == "system" => {
                rest = tail;
                format!("{}\n\n{section}", first.content)
            }
            _ => section,
        };
        out.push(ChatMessage::new("system", system));
    }
    let mut after_tool = false;
    for m in rest {
        match m.role.as_str() {
            "tool" => {
                let response = format!("<tool_response>\n{}\n</tool_response>", m.content);
                match out.last_mut() {
                    // The results of one turn's calls go back together, in one user turn.
                    Some(prev) if after_tool => {
                        prev.content.push('\n');
                        prev.content.push_str(&response);
                    }
                    _ => out.push(ChatMessage::new("user", response)),
                }
            }
            "assistant" if !m.tool_calls.is_empty() => {
                let calls = m.tool_calls.iter().map(call_text);
                let lines: Vec<String> = (!m.content.is_empty())
                    .then(|| m.content.clone())
                    .into_iter()
                    .chain(calls)
                    .collect();
                out.push(ChatMessage::new("assistant", lines.join("\n")));
            }
            _ => out.push(ChatMessage::new(m.role.clone(), m.content.clone())),
        }
        after_tool = m.role == "tool";
    }
    out
}

fn tools_section(tools: &[Value]) -> String {
    let signatures: Vec<String> = tools.iter().map(python_json).collect();
    format!(
        "# Tools\n\n\
         You may call functions to answer. Their signatures are inside <tools></tools>:\n\
         <tools>\n{}\n</tools>\n\n\
         To call one, answer with its name and arguments as JSON inside {TOOL_CALL_START}{TOOL_CALL_END}:\n\
         {TOOL_CALL_START}{{\"name\": <function-name>, \"arguments\": <arguments-object>}}{TOOL_CALL_END}",
        signatures.join("\n")
    )
}

/// A past call exactly as constrained decoding would have written it.
fn call_text(call: &ToolCall) -> String {
    let arguments = match &call.function.arguments {
        // Not JSON when the client sent it: pass it on as it came.
        Value::String(text) => text.clone(),
        v => python_json(v),
    };
    format!(
        "{TOOL_CALL_START}{{\"name\": {}, \"arguments\": {arguments}}}{TOOL_CALL_END}",
        python_json(&call.function.name)
    )
}

/// JSON as Python's `json.dumps` writes it (`", "` and `": "`), the layout
/// models saw in training and the one constrained decoding generates.
pub fn python_json(value: &impl Serialize) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    // Serializing a `Value` or a string into memory cannot fail.
    value
        .serialize(&mut ser)
        .expect("JSON serialization into a Vec");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn weather() -> Value {
        json!({"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}})
    }

    fn call(id: &str, city: &str) -> ToolCall {
        ToolCall::function(id.into(), "get_weather".into(), json!({"city": city}))
    }

    #[test]
    fn python_json_puts_a_space_after_commas_and_colons() {
        assert_eq!(
            python_json(&json!({"a": [1, 2], "b": {"c": "d"}})),
            r#"{"a": [1, 2], "b": {"c": "d"}}"#
        );
    }

    #[test]
    fn tools_join_an_existing_system_prompt() {
        let out = messages(
            &[
                ChatMessage::new("system", "Be brief."),
                ChatMessage::new("user", "Hi"),
            ],
            &[weather()],
        );
        assert_eq!(out.len(), 2);
        assert!(
            out[0].content.starts_with("Be brief.\n\n# Tools"),
            "{}",
            out[0].content
        );
        assert!(out[0]
            .content
            .contains(r#""name": "get_weather", "description": "Weather in a city""#));
        assert!(out[0]
            .content
            .contains(r#"<tool_call>{"name": <function-name>"#));
        assert_eq!(out[1], ChatMessage::new("user", "Hi"));
    }

    #[test]
    fn tools_without_a_system_prompt_get_one() {
        let out = messages(&[ChatMessage::new("user", "Hi")], &[weather()]);
        assert_eq!(out[0].role, "system");
        assert!(out[0].content.starts_with("# Tools"));
        assert_eq!(out[1], ChatMessage::new("user", "Hi"));
    }

    #[test]
    fn calls_become_assistant_text_and_results_one_user_turn() {
        let mut asked = ChatMessage::new("assistant", "");
        asked.tool_calls = vec![call("a", "Paris"), call("b", "Oslo")];
        let mut r1 = ChatMessage::new("tool", "18 C");
        r1.tool_call_id = Some("a".into());
        let mut r2 = ChatMessage::new("tool", "4 C");
        r2.tool_call_id = Some("b".into());
        let out = messages(&[ChatMessage::new("user", "Weather?"), asked, r1, r2], &[]);
        assert_eq!(
            out,
            [
                ChatMessage::new("user", "Weather?"),
                ChatMessage::new(
                    "assistant",
                    "<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}</tool_call>\n\
                     <tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}</tool_call>"
                ),
                ChatMessage::new(
                    "user",
                    "<tool_response>\n18 C\n</tool_response>\n<tool_response>\n4 C\n</tool_response>"
                ),
            ]
        );
    }

    #[test]
    fn arguments_that_are_not_json_are_passed_on_as_sent() {
        let bad = ToolCall::function("a".into(), "f".into(), json!("{oops"));
        assert_eq!(
            call_text(&bad),
            r#"<tool_call>{"name": "f", "arguments": {oops}</tool_call>"#
        );
    }
}
