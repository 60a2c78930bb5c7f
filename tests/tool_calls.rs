//! Tool calling over a real socket with the real 135M chat model: every call
//! names one of the tools and its arguments validate against that tool's
//! parameters, whatever the model would rather have said.

mod common;

use std::sync::OnceLock;

use common::{sse_data, TestServer, MINILM, SMOL};
use serde_json::{json, Value};

fn server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = common::models_dir("tools", &[SMOL, MINILM]);
        common::start(&dir, |_| {})
    })
}

// The strings are bounded, as a real schema's would be: inside a free string
// the 135M model can run on until `max_tokens` (at temperature 1 especially),
// and `maxLength` lets the grammar close it.
fn weather_tool() -> Value {
    json!({"type": "function", "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "maxLength": 40},
                "unit": {"enum": ["celsius", "fahrenheit"]}
            },
            "required": ["city"],
            "additionalProperties": false
        }
    }})
}

fn requirement_tool() -> Value {
    json!({"type": "function", "function": {
        "name": "create_requirement",
        "description": "Record a functional requirement",
        "parameters": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "pattern": "^FR-[0-9]{3}$"},
                "priority": {"enum": ["must", "should", "could"]},
                "title": {"type": "string", "maxLength": 80}
            },
            "required": ["id", "priority", "title"],
            "additionalProperties": false
        }
    }})
}

/// A greedy request offering both tools, then `extra`'s fields.
fn chat(content: &str, extra: Value) -> Value {
    let mut body = common::chat_body(
        "You are a business analyst's assistant.",
        content,
        200,
        json!({"tools": [weather_tool(), requirement_tool()]}),
    );
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

/// The checks each tool's parameters schema makes, written out; returns the name.
fn assert_valid_call(call: &Value) -> String {
    assert_eq!(call["type"], "function", "{call}");
    let id = call["id"].as_str().unwrap_or_default();
    assert!(id.starts_with("call_") && id.len() > 5, "{call}");
    let text = call["function"]["arguments"]
        .as_str()
        .unwrap_or_else(|| panic!("arguments is not a string: {call}"));
    let args: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let name = call["function"]["name"].as_str().unwrap_or_default();
    match name {
        "get_weather" => {
            let k = keys(&args);
            assert!(k == ["city"] || k == ["city", "unit"], "{args}");
            assert!(
                args["city"]
                    .as_str()
                    .is_some_and(|c| c.chars().count() <= 40),
                "{args}"
            );
            if let Some(unit) = args.get("unit") {
                assert!(
                    ["celsius", "fahrenheit"].contains(&unit.as_str().unwrap_or_default()),
                    "{args}"
                );
            }
        }
        "create_requirement" => {
            assert_eq!(keys(&args), ["id", "priority", "title"], "{args}");
            let id = args["id"].as_str().unwrap_or_default();
            assert!(
                id.len() == 6
                    && id.starts_with("FR-")
                    && id[3..].bytes().all(|b| b.is_ascii_digit()),
                "{args}"
            );
            assert!(
                ["must", "should", "could"]
                    .contains(&args["priority"].as_str().unwrap_or_default()),
                "{args}"
            );
            assert!(
                args["title"]
                    .as_str()
                    .is_some_and(|t| t.chars().count() <= 80),
                "{args}"
            );
        }
        other => panic!("unknown tool `{other}`: {call}"),
    }
    name.to_string()
}

async fn choice(body: Value) -> Value {
    let (status, resp) = server().post("/v1/chat/completions", body).await;
    assert_eq!(status, 200, "{resp}");
    resp["choices"][0].clone()
}

/// Asserts a finished tool-call answer and returns the names called.
fn assert_calls(choice: &Value) -> Vec<String> {
    assert_eq!(choice["finish_reason"], "tool_calls", "{choice}");
    assert_eq!(choice["message"]["role"], "assistant");
    assert!(choice["message"]["content"].is_null(), "{choice}");
    let calls = choice["message"]["tool_calls"]
        .as_array()
        .unwrap_or_else(|| panic!("no tool_calls: {choice}"));
    assert!(!calls.is_empty(), "{choice}");
    calls.iter().map(assert_valid_call).collect()
}

#[tokio::test]
async fn required_tool_choice_calls_known_tools_with_valid_arguments_at_temperature_zero_and_one() {
    for extra in [
        json!({"tool_choice": "required"}),
        json!({"tool_choice": "required", "temperature": 1.0, "seed": 11}),
    ] {
        let c = choice(chat(
            "Record a must-have requirement: members can renew a loan online.",
            extra,
        ))
        .await;
        assert_eq!(assert_calls(&c).len(), 1, "{c}");
    }
}

#[tokio::test]
async fn parallel_tool_calls_allow_several_calls_each_valid() {
    let c = choice(chat(
        "Record a must-have requirement: members can renew a loan online.",
        json!({"tool_choice": "required", "parallel_tool_calls": true, "max_tokens": 400}),
    ))
    .await;
    assert!(!assert_calls(&c).is_empty());
}

#[tokio::test]
async fn a_named_tool_choice_calls_exactly_that_function() {
    let c = choice(chat(
        "Members can renew a loan online.",
        json!({"tool_choice": {"type": "function", "function": {"name": "create_requirement"}},
               "parallel_tool_calls": false}),
    ))
    .await;
    assert_eq!(assert_calls(&c), ["create_requirement"]);

    let c = choice(chat(
        "Tell me a joke.",
        json!({"tool_choice": {"type": "function", "function": {"name": "get_weather"}}}),
    ))
    .await;
    assert!(assert_calls(&c).iter().all(|n| n == "get_weather"), "{c}");
}

#[tokio::test]
async fn tool_choice_none_answers_in_text_with_no_tools_in_the_prompt() {
    let ask = "What is the weather in Paris?";
    let (status, none) = server()
        .post(
            "/v1/chat/completions",
            chat(ask, json!({"tool_choice": "none"})),
        )
        .await;
    assert_eq!(status, 200, "{none}");
    let message = &none["choices"][0]["message"];
    assert!(
        !message["content"].as_str().unwrap_or_default().is_empty(),
        "{none}"
    );
    assert!(message.get("tool_calls").is_none(), "{none}");
    assert_ne!(none["choices"][0]["finish_reason"], "tool_calls");

    let (_, auto) = server()
        .post("/v1/chat/completions", chat(ask, json!({"max_tokens": 1})))
        .await;
    let tokens = |r: &Value| r["usage"]["prompt_tokens"].as_u64().unwrap();
    assert!(tokens(&auto) > tokens(&none) + 50, "{auto} vs {none}");
}

#[tokio::test]
async fn auto_answers_with_text_or_a_valid_call() {
    for (ask, extra) in [
        ("What is the weather in Paris?", json!({})),
        (
            "What is the weather in Oslo?",
            json!({"tool_choice": "auto", "temperature": 1.0, "seed": 5}),
        ),
    ] {
        let c = choice(chat(ask, extra)).await;
        if c["message"]["tool_calls"].is_array() {
            assert_calls(&c);
        } else {
            let text = c["message"]["content"]
                .as_str()
                .unwrap_or_else(|| panic!("{c}"));
            assert!(!text.starts_with("<tool_call>"), "{c}");
            assert!(
                ["stop", "length"].contains(&c["finish_reason"].as_str().unwrap()),
                "{c}"
            );
        }
    }
}

#[tokio::test]
async fn a_streamed_required_call_assembles_from_its_deltas() {
    let mut body = chat(
        "Record a should-have requirement: librarians can export loans.",
        json!({"tool_choice": "required", "stream": true, "parallel_tool_calls": false,
               "stream_options": {"include_usage": true}}),
    );
    body["temperature"] = json!(0);
    let text = server().post_text("/v1/chat/completions", &body).await;
    let events = sse_data(&text);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"), "{text}");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let deltas: Vec<&Value> = chunks.iter().filter_map(|c| c["choices"].get(0)).collect();
    assert_eq!(deltas[0]["delta"]["role"], "assistant", "{text}");
    assert!(
        deltas
            .iter()
            .all(|d| d["delta"].get("content").is_none_or(Value::is_null)),
        "{text}"
    );

    let mut call = json!({"type": "function", "function": {"arguments": ""}});
    let mut arguments = String::new();
    for d in &deltas {
        for tc in d["delta"]["tool_calls"].as_array().into_iter().flatten() {
            assert_eq!(tc["index"], 0, "{text}");
            if let Some(id) = tc.get("id") {
                assert!(call.get("id").is_none(), "a second id: {text}");
                call["id"] = id.clone();
                call["function"]["name"] = tc["function"]["name"].clone();
                assert_eq!(tc["type"], "function");
            }
            arguments.push_str(tc["function"]["arguments"].as_str().unwrap());
        }
    }
    call["function"]["arguments"] = json!(arguments);
    assert_eq!(assert_valid_call(&call), "create_requirement", "{text}");

    let finishes: Vec<&Value> = deltas
        .iter()
        .map(|d| &d["finish_reason"])
        .filter(|f| !f.is_null())
        .collect();
    assert_eq!(finishes, [&json!("tool_calls")], "{text}");
    assert!(
        chunks.last().unwrap()["usage"]["completion_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[tokio::test]
async fn a_call_cut_short_by_max_tokens_comes_back_as_text_with_length() {
    let c = choice(chat(
        "Weather in Paris?",
        json!({"tool_choice": "required", "max_tokens": 8}),
    ))
    .await;
    assert_eq!(c["finish_reason"], "length", "{c}");
    assert!(c["message"].get("tool_calls").is_none(), "{c}");
    let text = c["message"]["content"].as_str().unwrap_or_default();
    assert!(text.starts_with("<tool_call>"), "{c}");
}

/// The conversation after the model asked for the weather, with `result`.
fn follow_up(result: &str) -> Value {
    json!({
        "model": common::SMOL_ID,
        "temperature": 0,
        "max_tokens": 24,
        "tools": [weather_tool()],
        "tool_choice": "none",
        "messages": [
            {"role": "user", "content": "What is the weather in Paris?"},
            {"role": "assistant", "content": null, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": result}
        ]
    })
}

#[tokio::test]
async fn a_follow_up_turn_with_the_calls_and_their_results_is_answered() {
    let (status, short) = server()
        .post("/v1/chat/completions", follow_up("18 C, sunny"))
        .await;
    assert_eq!(status, 200, "{short}");
    let text = short["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default();
    assert!(!text.is_empty(), "{short}");
    // The result is in the prompt: a longer one makes a longer prompt.
    let (_, long) = server()
        .post(
            "/v1/chat/completions",
            follow_up("18 C, sunny, light wind from the west, no rain expected until the evening"),
        )
        .await;
    let tokens = |r: &Value| r["usage"]["prompt_tokens"].as_u64().unwrap();
    assert!(tokens(&long) > tokens(&short) + 10, "{long} vs {short}");
}

async fn refused(body: Value) -> (String, String) {
    let (status, resp) = server().post("/v1/chat/completions", body).await;
    assert_eq!(status, 400, "{resp}");
    (
        resp["error"]["param"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        resp["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

#[tokio::test]
async fn a_parameters_schema_llguidance_cannot_compile_is_a_400_naming_the_tool() {
    let mut bad = requirement_tool();
    bad["function"]["parameters"]["properties"]["title"] = json!({"type": "nosuchtype"});
    let (param, message) = refused(chat("Hi", json!({"tools": [weather_tool(), bad]}))).await;
    assert_eq!(param, "tools[1].function.parameters");
    assert!(message.contains("nosuchtype"), "{message}");
}

#[tokio::test]
async fn a_named_tool_choice_that_is_not_among_the_tools_is_a_400() {
    let (param, message) = refused(chat(
        "Hi",
        json!({"tool_choice": {"type": "function", "function": {"name": "delete_everything"}}}),
    ))
    .await;
    assert_eq!(param, "tool_choice");
    assert!(message.contains("delete_everything"), "{message}");
}

#[tokio::test]
async fn required_tool_choice_without_tools_is_a_400() {
    let body = common::chat_body("Be brief.", "Hi", 16, json!({"tool_choice": "required"}));
    let (param, message) = refused(body).await;
    assert_eq!(param, "tool_choice");
    assert!(message.contains("no `tools`"), "{message}");
}

#[tokio::test]
async fn a_malformed_tools_list_is_a_400_naming_the_field() {
    for (tools, field) in [
        (json!({"type": "function"}), "tools"),
        (json!([{"type": "retrieval"}]), "tools[0].type"),
        (
            json!([{"type": "function", "function": {"name": "get weather"}}]),
            "tools[0].function.name",
        ),
        (
            json!([weather_tool(), weather_tool()]),
            "tools[1].function.name",
        ),
        (
            json!([{"type": "function", "function": {"name": "f", "parameters": [1]}}]),
            "tools[0].function.parameters",
        ),
    ] {
        let (param, _) = refused(chat("Hi", json!({"tools": tools}))).await;
        assert_eq!(param, field, "{tools}");
    }
}

#[tokio::test]
async fn response_format_with_tools_is_refused_unless_tool_choice_is_none() {
    let format = json!({"type": "json_object"});
    let (param, message) = refused(chat("Hi", json!({"response_format": format}))).await;
    assert_eq!(param, "response_format");
    assert!(message.contains("tool_choice"), "{message}");
    let c = choice(chat(
        "Describe Paris as JSON.",
        json!({"response_format": format, "tool_choice": "none", "max_tokens": 40}),
    ))
    .await;
    assert!(
        c["message"]["content"].as_str().unwrap().starts_with('{'),
        "{c}"
    );
}
