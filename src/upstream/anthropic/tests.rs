use super::*;

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

/// Splits raw SSE text into (event name, parsed data) pairs, as Anthropic sends them.
fn sse_events(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter(|event| !event.trim().is_empty())
        .map(|event| {
            let mut name = String::new();
            let mut data = String::new();
            for line in event.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = value.trim().to_owned();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push_str(value.trim());
                }
            }
            (
                name,
                serde_json::from_str(&data).expect("event data is JSON"),
            )
        })
        .collect()
}

fn stream(sse: &str, include_usage: bool) -> Vec<Value> {
    let mut mapper = StreamMapper::new(
        "chatcmpl-1".into(),
        1_700_000_000,
        "claude/sonnet".into(),
        include_usage,
    );
    let mut chunks = Vec::new();
    for (name, data) in sse_events(sse) {
        chunks.extend(mapper.event(&name, &data).expect("event maps"));
    }
    assert!(mapper.finished());
    chunks
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

fn request_error(openai: Value) -> String {
    request(&openai, "claude-sonnet-4-5", 1024).expect_err("request is refused")
}

#[test]
fn request_with_tools_maps_to_the_documented_anthropic_body() {
    let openai = fixture(include_str!(
        "../../../tests/fixtures/anthropic/request_tools.json"
    ));
    let expected = fixture(include_str!(
        "../../../tests/fixtures/anthropic/request_tools.expected.json"
    ));
    assert_eq!(
        request(&openai, "claude-sonnet-4-5", 1024).unwrap(),
        expected
    );
}

#[test]
fn max_tokens_falls_back_to_the_default_and_prefers_max_completion_tokens() {
    let plain = json!({"messages": [user("hi")]});
    assert_eq!(request(&plain, "m", 1024).unwrap()["max_tokens"], 1024);
    let both = json!({"messages": [user("hi")], "max_tokens": 10, "max_completion_tokens": 20});
    assert_eq!(request(&both, "m", 1024).unwrap()["max_tokens"], 20);
    let old = json!({"messages": [user("hi")], "max_tokens": 10});
    assert_eq!(request(&old, "m", 1024).unwrap()["max_tokens"], 10);
}

#[test]
fn a_plain_request_has_no_system_tools_or_stop_sequences() {
    let body = request(&json!({"messages": [user("hi")], "stream": true}), "m", 64).unwrap();
    assert_eq!(
        body,
        json!({
            "model": "m",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
            "stream": true,
        })
    );
}

#[test]
fn consecutive_user_messages_merge_and_empty_ones_vanish() {
    let openai = json!({"messages": [user("a"), user(""), {"role": "user", "content": [{"type": "text", "text": "b"}]}]});
    let body = request(&openai, "m", 64).unwrap();
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}])
    );
}

#[test]
fn tool_choice_maps_each_openai_form() {
    let tools = json!([{"type": "function", "function": {"name": "f"}}]);
    let cases = [
        (json!("auto"), json!({"type": "auto"})),
        (json!("required"), json!({"type": "any"})),
        (json!("none"), json!({"type": "none"})),
        (
            json!({"type": "function", "function": {"name": "f"}}),
            json!({"type": "tool", "name": "f"}),
        ),
    ];
    for (openai_choice, anthropic_choice) in cases {
        let openai =
            json!({"messages": [user("hi")], "tools": tools, "tool_choice": openai_choice});
        assert_eq!(
            request(&openai, "m", 64).unwrap()["tool_choice"],
            anthropic_choice
        );
    }
}

#[test]
fn forbidding_parallel_tool_calls_without_a_tool_choice_sends_auto() {
    let openai = json!({
        "messages": [user("hi")],
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "parallel_tool_calls": false,
    });
    assert_eq!(
        request(&openai, "m", 64).unwrap()["tool_choice"],
        json!({"type": "auto", "disable_parallel_tool_use": true})
    );
    let without_tools = json!({"messages": [user("hi")], "parallel_tool_calls": false});
    assert!(request(&without_tools, "m", 64)
        .unwrap()
        .get("tool_choice")
        .is_none());
}

#[test]
fn a_json_schema_response_format_asks_for_json_in_the_system_prompt() {
    let schema = json!({"type": "object", "properties": {"answer": {"type": "string"}}});
    let openai = json!({
        "messages": [{"role": "system", "content": "Be brief."}, user("hi")],
        "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
    });
    let system = request(&openai, "m", 64).unwrap()["system"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        system.starts_with("Be brief.\n\nReply with only a JSON value"),
        "{system}"
    );
    assert!(system.ends_with(&schema.to_string()), "{system}");

    let text = json!({"messages": [user("hi")], "response_format": {"type": "text"}});
    assert!(request(&text, "m", 64).unwrap().get("system").is_none());
}

#[test]
fn a_stop_list_becomes_stop_sequences() {
    let openai = json!({"messages": [user("hi")], "stop": ["a", "b"]});
    assert_eq!(
        request(&openai, "m", 64).unwrap()["stop_sequences"],
        json!(["a", "b"])
    );
}

#[test]
fn bad_requests_are_refused_with_the_offending_field() {
    assert_eq!(
        request_error(json!({"messages": [user("hi")], "n": 2})),
        "Anthropic providers produce one choice; `n` must be 1"
    );
    assert_eq!(
        request_error(json!({"messages": "hi"})),
        "`messages` must be a list"
    );
    let image = json!({"type": "image_url", "image_url": {"url": "https://example.com/a.png"}});
    let error =
        request_error(json!({"messages": [user("hi"), {"role": "system", "content": [image]}]}));
    assert!(
        error.starts_with("messages[1].content[0] is a `image_url` part"),
        "{error}"
    );
    let call =
        json!({"id": "c1", "type": "function", "function": {"name": "f", "arguments": "[1, 2]"}});
    let error = request_error(
        json!({"messages": [user("hi"), {"role": "assistant", "tool_calls": [call]}]}),
    );
    assert_eq!(
        error,
        "messages[1].tool_calls[0].function.arguments is not a JSON object"
    );
    let error = request_error(json!({"messages": [{"role": "tool", "content": "x"}]}));
    assert_eq!(
        error,
        "messages[0] is a tool result without a `tool_call_id`"
    );
    let error = request_error(json!({"messages": [{"role": "robot", "content": "x"}]}));
    assert!(
        error.starts_with("messages[0].role `robot` is not one of"),
        "{error}"
    );
    let error = request_error(json!({"messages": [user("hi")], "max_tokens": 0}));
    assert_eq!(error, "`max_tokens` must be a positive integer");
    let error = request_error(json!({"messages": [user("hi")], "stop": 3}));
    assert_eq!(error, "`stop` must be a string or a list of strings");
}

#[test]
fn a_text_response_becomes_a_chat_completion() {
    let anthropic = fixture(include_str!(
        "../../../tests/fixtures/anthropic/response_text.json"
    ));
    let openai = response(&anthropic, "claude/sonnet").unwrap();
    assert_eq!(openai["id"], "chatcmpl-msg_013Zva2CMHLNnXjNJJKqJ2EF");
    assert_eq!(openai["object"], "chat.completion");
    assert_eq!(openai["model"], "claude/sonnet");
    assert!(openai["created"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(
        openai["choices"],
        json!([{
            "index": 0,
            "message": {"role": "assistant", "content": "Paris is warmer: 17 degrees against 12 in Berlin."},
            "logprobs": null,
            "finish_reason": "stop",
        }])
    );
    assert_eq!(
        openai["usage"],
        json!({"prompt_tokens": 42, "completion_tokens": 15, "total_tokens": 57})
    );
}

#[test]
fn a_tool_use_response_becomes_tool_calls() {
    let anthropic = fixture(include_str!(
        "../../../tests/fixtures/anthropic/response_tool_use.json"
    ));
    let choice = &response(&anthropic, "claude/sonnet").unwrap()["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(
        choice["message"]["content"],
        "I will check the weather in Paris."
    );
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["id"], "toolu_01A09q90qw90lq917835lq9");
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    let arguments: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(arguments, json!({"city": "Paris", "unit": "celsius"}));
}

#[test]
fn a_response_of_only_tool_calls_has_null_content() {
    let anthropic = json!({
        "id": "msg_1",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 1, "output_tokens": 2},
    });
    let message = &response(&anthropic, "m").unwrap()["choices"][0]["message"];
    assert!(message["content"].is_null());
    assert_eq!(message["tool_calls"][0]["function"]["arguments"], "{}");
}

#[test]
fn stop_reasons_map_to_openai_finish_reasons() {
    let cases = [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
    ];
    for (stop_reason, expected) in cases {
        let anthropic =
            json!({"id": "msg_1", "content": [], "stop_reason": stop_reason, "usage": {}});
        assert_eq!(
            response(&anthropic, "m").unwrap()["choices"][0]["finish_reason"],
            expected
        );
    }
}

#[test]
fn a_response_without_content_is_refused() {
    let error = response(&json!({"id": "msg_1"}), "m").unwrap_err();
    assert_eq!(error, "the Anthropic response has no `content` list");
}

#[test]
fn error_message_reads_an_anthropic_error_body() {
    let body =
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
    assert_eq!(error_message(&body).as_deref(), Some("Overloaded"));
    assert_eq!(error_message(&json!({"detail": "x"})), None);
}

#[test]
fn a_text_stream_yields_role_content_and_finish_chunks() {
    let chunks = stream(
        include_str!("../../../tests/fixtures/anthropic/stream_text.sse"),
        false,
    );
    for chunk in &chunks {
        assert_eq!(chunk["id"], "chatcmpl-1");
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["created"], 1_700_000_000);
        assert_eq!(chunk["model"], "claude/sonnet");
        assert_eq!(chunk["choices"][0]["index"], 0);
        assert!(chunk["choices"][0]["logprobs"].is_null());
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let text: String = chunks[1..]
        .iter()
        .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Paris is warmer than Berlin today.");
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(last["choices"][0]["delta"], json!({}));
    let finishes = chunks
        .iter()
        .filter(|chunk| !chunk["choices"][0]["finish_reason"].is_null());
    assert_eq!(finishes.count(), 1);
    assert!(chunks.iter().all(|chunk| chunk.get("usage").is_none()));
}

#[test]
fn a_tool_use_stream_reassembles_the_call() {
    let chunks = stream(
        include_str!("../../../tests/fixtures/anthropic/stream_tool_use.sse"),
        false,
    );
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|chunk| chunk["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert_eq!(calls[0]["index"], 0);
    assert_eq!(calls[0]["id"], "toolu_01T1x1fJ34qAmk2tNTrN7Up6");
    assert_eq!(calls[0]["type"], "function");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert!(calls.iter().all(|call| call["index"] == 0));
    let arguments: String = calls
        .iter()
        .filter_map(|call| call["function"]["arguments"].as_str())
        .collect();
    let input: Value = serde_json::from_str(&arguments).unwrap();
    assert_eq!(input, json!({"city": "Paris", "unit": "celsius"}));
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );
}

#[test]
fn include_usage_adds_a_final_usage_chunk() {
    let chunks = stream(
        include_str!("../../../tests/fixtures/anthropic/stream_tool_use.sse"),
        true,
    );
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(
        last["usage"],
        json!({"prompt_tokens": 472, "completion_tokens": 89, "total_tokens": 561})
    );
    assert_eq!(
        chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
        "tool_calls"
    );
}

#[test]
fn an_error_event_ends_the_stream_with_its_message() {
    let mut mapper = StreamMapper::new("chatcmpl-1".into(), 0, "m".into(), false);
    let error =
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
    assert_eq!(mapper.event("error", &error), Err("Overloaded".to_owned()));
    assert!(!mapper.finished());
}

#[test]
fn tool_input_for_a_block_that_is_not_a_tool_is_refused() {
    let mut mapper = StreamMapper::new("chatcmpl-1".into(), 0, "m".into(), false);
    let delta = json!({"type": "content_block_delta", "index": 3, "delta": {"type": "input_json_delta", "partial_json": "{"}});
    let error = mapper.event("content_block_delta", &delta).unwrap_err();
    assert_eq!(
        error,
        "Anthropic sent tool input for content block 3, which did not start as a `tool_use` block"
    );
}
