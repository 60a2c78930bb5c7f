//! Body mapping between OpenAI Chat Completions and Anthropic's Messages API
//! (`POST {base_url}/messages`, `anthropic-version: 2023-06-01`), so that a
//! provider of kind `anthropic` answers our `/v1/chat/completions` in the
//! shapes OpenAI clients expect. The caller sends the request and sets the
//! headers; this module only turns one JSON shape into the other.

use serde_json::{json, Map, Value};
use std::time::{SystemTime, UNIX_EPOCH};

/// OpenAI chat request body -> Anthropic Messages body for `model`.
/// `max_tokens` is required by Anthropic: use the request's `max_completion_tokens` or `max_tokens`, else `default_max_tokens`.
pub fn request(openai: &Value, model: &str, default_max_tokens: u64) -> Result<Value, String> {
    if present(openai, "n").is_some_and(|n| n.as_u64() != Some(1)) {
        return Err("Anthropic providers produce one choice; `n` must be 1".into());
    }
    let messages = openai
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("`messages` must be a list")?;

    let mut system: Vec<&str> = Vec::new();
    // Anthropic rejects two turns of the same role in a row, so blocks of
    // consecutive same-role messages (tool results included) share one turn.
    let mut turns: Vec<(&str, Vec<Value>)> = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let role = message.get("role").and_then(Value::as_str).unwrap_or("");
        let (role, blocks) = match role {
            "system" | "developer" => {
                system.extend(texts(message, i)?);
                continue;
            }
            "user" => ("user", text_blocks(message, i)?),
            "assistant" => {
                let mut blocks = text_blocks(message, i)?;
                blocks.extend(tool_uses(message, i)?);
                ("assistant", blocks)
            }
            "tool" => ("user", vec![tool_result(message, i)?]),
            other => {
                return Err(format!(
                    "messages[{i}].role `{other}` is not one of system, developer, user, assistant or tool"
                ))
            }
        };
        match turns.last_mut() {
            Some((last, earlier)) if *last == role => earlier.extend(blocks),
            // Anthropic rejects empty content, and an empty message says nothing.
            _ if blocks.is_empty() => {}
            _ => turns.push((role, blocks)),
        }
    }

    let json_instruction = json_instruction(openai)?;
    if let Some(instruction) = &json_instruction {
        system.push(instruction);
    }

    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert(
        "max_tokens".into(),
        json!(max_tokens(openai, default_max_tokens)?),
    );
    if !system.is_empty() {
        body.insert("system".into(), json!(system.join("\n\n")));
    }
    let turns = turns
        .into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}));
    body.insert("messages".into(), turns.collect());
    let tools = tools(openai)?;
    if let Some(choice) = tool_choice(openai, !tools.is_empty())? {
        body.insert("tool_choice".into(), choice);
    }
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
    }
    for key in ["temperature", "top_p", "top_k", "stream"] {
        if let Some(value) = present(openai, key) {
            body.insert(key.into(), value.clone());
        }
    }
    match present(openai, "stop") {
        None => {}
        Some(Value::String(stop)) => {
            body.insert("stop_sequences".into(), json!([stop]));
        }
        Some(Value::Array(stops)) if stops.iter().all(Value::is_string) => {
            body.insert("stop_sequences".into(), json!(stops));
        }
        Some(_) => return Err("`stop` must be a string or a list of strings".into()),
    }
    Ok(Value::Object(body))
}

/// Anthropic Messages response -> OpenAI `chat.completion` body whose `model` is `model_id` (our `provider/model` id).
pub fn response(anthropic: &Value, model_id: &str) -> Result<Value, String> {
    let id = anthropic
        .get("id")
        .and_then(Value::as_str)
        .ok_or("the Anthropic response has no `id`")?;
    let blocks = anthropic
        .get("content")
        .and_then(Value::as_array)
        .ok_or("the Anthropic response has no `content` list")?;

    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for block in blocks {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(block["text"].as_str().unwrap_or("")),
            Some("tool_use") => tool_calls.push(json!({
                "id": block["id"],
                "type": "function",
                "function": {"name": block["name"], "arguments": block["input"].to_string()},
            })),
            // Thinking and server-tool blocks have no Chat Completions counterpart.
            _ => {}
        }
    }

    let mut message = json!({"role": "assistant", "content": text});
    if !tool_calls.is_empty() {
        if text.is_empty() {
            message["content"] = Value::Null;
        }
        message["tool_calls"] = Value::Array(tool_calls);
    }
    let usage = &anthropic["usage"];
    Ok(json!({
        "id": format!("chatcmpl-{id}"),
        "object": "chat.completion",
        "created": unix_now(),
        "model": model_id,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(anthropic["stop_reason"].as_str()),
        }],
        "usage": openai_usage(prompt_tokens(usage), usage["output_tokens"].as_u64().unwrap_or(0)),
    }))
}

/// An Anthropic error body ({"type":"error","error":{"type","message"}}) -> its message, for our error replies.
pub fn error_message(body: &Value) -> Option<String> {
    body.pointer("/error/message")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Turns Anthropic stream events into OpenAI `chat.completion.chunk` objects.
pub struct StreamMapper {
    id: String,
    created: u64,
    model_id: String,
    include_usage: bool,
    /// Anthropic content-block indexes of the `tool_use` blocks seen so far;
    /// a block's position here is its OpenAI `tool_calls[].index`.
    tool_blocks: Vec<u64>,
    prompt_tokens: u64,
    completion_tokens: u64,
    finished: bool,
}

impl StreamMapper {
    pub fn new(id: String, created: u64, model_id: String, include_usage: bool) -> Self {
        StreamMapper {
            id,
            created,
            model_id,
            include_usage,
            tool_blocks: Vec::new(),
            prompt_tokens: 0,
            completion_tokens: 0,
            finished: false,
        }
    }

    /// One server-sent event (its `event:` name and parsed `data:`). Returns the chunks to send now, in order;
    /// Err(message) for an `error` event, or for an event that lacks the fields Anthropic documents for it.
    pub fn event(&mut self, name: &str, data: &Value) -> Result<Vec<Value>, String> {
        match name {
            "message_start" => {
                self.prompt_tokens = prompt_tokens(&data["message"]["usage"]);
                Ok(vec![
                    self.chunk(json!({"role": "assistant", "content": ""}), None)
                ])
            }
            "content_block_start" => {
                let block = &data["content_block"];
                if block["type"] != "tool_use" {
                    return Ok(Vec::new());
                }
                let index = self.tool_blocks.len();
                self.tool_blocks.push(block_index(name, data)?);
                let call = json!({
                    "index": index,
                    "id": block["id"],
                    "type": "function",
                    "function": {"name": block["name"], "arguments": ""},
                });
                Ok(vec![self.chunk(json!({"tool_calls": [call]}), None)])
            }
            "content_block_delta" => {
                let delta = &data["delta"];
                match delta["type"].as_str() {
                    Some("text_delta") => {
                        let text = delta["text"]
                            .as_str()
                            .ok_or("an Anthropic `text_delta` has no `text`")?;
                        Ok(vec![self.chunk(json!({"content": text}), None)])
                    }
                    Some("input_json_delta") => {
                        let block = block_index(name, data)?;
                        let index = self.tool_blocks.iter().position(|&b| b == block).ok_or_else(|| {
                            format!("Anthropic sent tool input for content block {block}, which did not start as a `tool_use` block")
                        })?;
                        let arguments = delta["partial_json"]
                            .as_str()
                            .ok_or("an Anthropic `input_json_delta` has no `partial_json`")?;
                        let call = json!({"index": index, "function": {"arguments": arguments}});
                        Ok(vec![self.chunk(json!({"tool_calls": [call]}), None)])
                    }
                    // Thinking and signature deltas have no Chat Completions counterpart.
                    _ => Ok(Vec::new()),
                }
            }
            "message_delta" => {
                // Anthropic's `output_tokens` here is the running total, not an increment.
                if let Some(output_tokens) = data["usage"]["output_tokens"].as_u64() {
                    self.completion_tokens = output_tokens;
                }
                Ok(match data["delta"]["stop_reason"].as_str() {
                    Some(reason) => vec![self.chunk(json!({}), Some(finish_reason(Some(reason))))],
                    None => Vec::new(),
                })
            }
            "message_stop" => {
                self.finished = true;
                if !self.include_usage {
                    return Ok(Vec::new());
                }
                let mut chunk = self.chunk(json!({}), None);
                chunk["choices"] = json!([]);
                chunk["usage"] = openai_usage(self.prompt_tokens, self.completion_tokens);
                Ok(vec![chunk])
            }
            "error" => Err(error_message(data).unwrap_or_else(|| {
                "the Anthropic stream reported an error without a message".into()
            })),
            // `ping`, `content_block_stop` and event types Anthropic adds later
            // (its versioning policy allows new ones) carry nothing to forward.
            _ => Ok(Vec::new()),
        }
    }

    /// True once `message_stop` was seen.
    pub fn finished(&self) -> bool {
        self.finished
    }

    fn chunk(&self, delta: Value, finish_reason: Option<&str>) -> Value {
        json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model_id,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
        })
    }
}

/// The content-block `index` of a `content_block_*` event named `name`.
fn block_index(name: &str, data: &Value) -> Result<u64, String> {
    data["index"]
        .as_u64()
        .ok_or_else(|| format!("an Anthropic `{name}` event has no content block `index`"))
}

/// The field `key` of `body`, treating an explicit `null` as absent, as OpenAI does.
fn present<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    body.get(key).filter(|value| !value.is_null())
}

/// The non-empty texts of a message's `content`, which OpenAI allows as a
/// string or as a list of parts; only text parts can be sent on.
fn texts(message: &Value, i: usize) -> Result<Vec<&str>, String> {
    let texts = match present(message, "content") {
        None => Vec::new(),
        Some(Value::String(text)) => vec![text.as_str()],
        Some(Value::Array(parts)) => parts
            .iter()
            .enumerate()
            .map(|(j, part)| match (part["type"].as_str(), part["text"].as_str()) {
                (Some("text"), Some(text)) => Ok(text),
                (kind, _) => Err(format!(
                    "messages[{i}].content[{j}] is a `{}` part; only text parts can be sent to an Anthropic provider",
                    kind.unwrap_or("untyped")
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(format!("messages[{i}].content must be a string or a list of parts")),
    };
    Ok(texts.into_iter().filter(|text| !text.is_empty()).collect())
}

fn text_blocks(message: &Value, i: usize) -> Result<Vec<Value>, String> {
    let texts = texts(message, i)?;
    Ok(texts
        .into_iter()
        .map(|text| json!({"type": "text", "text": text}))
        .collect())
}

/// An assistant message's `tool_calls` as Anthropic `tool_use` blocks, whose
/// `input` is the object OpenAI carries as a JSON-encoded string.
fn tool_uses(message: &Value, i: usize) -> Result<Vec<Value>, String> {
    let Some(calls) = present(message, "tool_calls") else {
        return Ok(Vec::new());
    };
    let calls = calls
        .as_array()
        .ok_or_else(|| format!("messages[{i}].tool_calls must be a list"))?;
    calls
        .iter()
        .enumerate()
        .map(|(j, call)| {
            let (Some(id), Some(name)) = (call["id"].as_str(), call["function"]["name"].as_str())
            else {
                return Err(format!(
                    "messages[{i}].tool_calls[{j}] needs an `id` and a `function.name`"
                ));
            };
            let arguments = call["function"]["arguments"].as_str().unwrap_or("");
            // Some clients send "" for a call without arguments; Anthropic needs an object.
            let input = if arguments.trim().is_empty() {
                json!({})
            } else {
                serde_json::from_str::<Value>(arguments)
                    .ok()
                    .filter(Value::is_object)
                    .ok_or_else(|| {
                        format!(
                            "messages[{i}].tool_calls[{j}].function.arguments is not a JSON object"
                        )
                    })?
            };
            Ok(json!({"type": "tool_use", "id": id, "name": name, "input": input}))
        })
        .collect()
}

fn tool_result(message: &Value, i: usize) -> Result<Value, String> {
    let id = message["tool_call_id"]
        .as_str()
        .ok_or_else(|| format!("messages[{i}] is a tool result without a `tool_call_id`"))?;
    let content = texts(message, i)?.join("\n");
    Ok(json!({"type": "tool_result", "tool_use_id": id, "content": content}))
}

fn max_tokens(openai: &Value, default_max_tokens: u64) -> Result<u64, String> {
    for key in ["max_completion_tokens", "max_tokens"] {
        if let Some(value) = present(openai, key) {
            return value
                .as_u64()
                .filter(|&tokens| tokens > 0)
                .ok_or_else(|| format!("`{key}` must be a positive integer"));
        }
    }
    Ok(default_max_tokens)
}

/// Anthropic's Messages API has no `response_format`, so a request for JSON
/// becomes an instruction in the system prompt.
fn json_instruction(openai: &Value) -> Result<Option<String>, String> {
    let Some(format) = present(openai, "response_format") else {
        return Ok(None);
    };
    match format["type"].as_str() {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(
            "Reply with only a JSON object, with no text before or after it.".into(),
        )),
        Some("json_schema") => {
            let schema = present(&format["json_schema"], "schema")
                .ok_or("`response_format.json_schema.schema` is missing")?;
            Ok(Some(format!(
                "Reply with only a JSON value that matches this JSON Schema, with no text before or after it: {schema}"
            )))
        }
        _ => Err("`response_format.type` must be text, json_object or json_schema".into()),
    }
}

fn tools(openai: &Value) -> Result<Vec<Value>, String> {
    let Some(tools) = present(openai, "tools") else {
        return Ok(Vec::new());
    };
    let tools = tools.as_array().ok_or("`tools` must be a list")?;
    tools
        .iter()
        .enumerate()
        .map(|(i, tool)| {
            let function = &tool["function"];
            let name = function["name"]
                .as_str()
                .filter(|_| tool["type"] == "function")
                .ok_or_else(|| {
                    format!("tools[{i}] must be a `function` tool with a `function.name`")
                })?;
            let mut out = json!({"name": name});
            if let Some(description) = present(function, "description") {
                out["description"] = description.clone();
            }
            // Anthropic requires a schema even for a tool without parameters.
            out["input_schema"] = present(function, "parameters")
                .cloned()
                .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
            Ok(out)
        })
        .collect()
}

fn tool_choice(openai: &Value, has_tools: bool) -> Result<Option<Value>, String> {
    let parallel = openai["parallel_tool_calls"].as_bool() != Some(false);
    let mut choice = match present(openai, "tool_choice") {
        // Only a request with tools that forbids parallel calls needs an explicit choice;
        // Anthropic refuses `tool_choice` without `tools`.
        None if parallel || !has_tools => return Ok(None),
        None => json!({"type": "auto"}),
        Some(Value::String(choice)) => match choice.as_str() {
            "auto" => json!({"type": "auto"}),
            "required" => json!({"type": "any"}),
            "none" => json!({"type": "none"}),
            other => {
                return Err(format!(
                    "`tool_choice` `{other}` is not one of auto, required or none"
                ))
            }
        },
        Some(choice) => {
            let name = choice["function"]["name"]
                .as_str()
                .filter(|_| choice["type"] == "function")
                .ok_or(
                    "`tool_choice` must be auto, required, none or a `function` with a `name`",
                )?;
            json!({"type": "tool", "name": name})
        }
    };
    if !parallel && choice["type"] != "none" {
        choice["disable_parallel_tool_use"] = json!(true);
    }
    Ok(Some(choice))
}

fn finish_reason(stop_reason: Option<&str>) -> &'static str {
    match stop_reason {
        Some("max_tokens") => "length",
        Some("tool_use") => "tool_calls",
        Some("refusal") => "content_filter",
        // end_turn, stop_sequence and reasons Anthropic may add later.
        _ => "stop",
    }
}

/// Anthropic counts cache reads and writes apart from `input_tokens`;
/// OpenAI's `prompt_tokens` includes them.
fn prompt_tokens(usage: &Value) -> u64 {
    [
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ]
    .iter()
    .filter_map(|key| usage[key].as_u64())
    .sum()
}

fn openai_usage(prompt_tokens: u64, completion_tokens: u64) -> Value {
    json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    })
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

#[cfg(test)]
mod tests;
