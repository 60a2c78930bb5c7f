//! Constrained decoding with llguidance: a request's JSON schema or Lark
//! grammar becomes a [`Constraint`] that masks, at every step, the tokens that
//! could not continue a valid output. Each model builds one [`Constrainer`]
//! (its vocabulary as a llguidance token trie) at load; compiling a request's
//! constraint happens before the request reaches the engine, so a bad schema
//! is refused with a 400 instead of being generated without it.

use std::sync::Arc;

use llguidance::api::TopLevelGrammar;
use llguidance::toktrie::{ApproximateTokEnv, SimpleVob, TokEnv, TokRxInfo, TokTrie};
use llguidance::{Matcher, ParserFactory};
use serde_json::{json, Value};

use super::tokenizer::GgufTokenizer;

/// What the output must be, as the request asked for it.
#[derive(Debug, Clone, PartialEq)]
pub enum ConstraintSpec {
    /// Any JSON object (`response_format: {"type": "json_object"}`).
    JsonObject,
    /// An instance of this JSON schema.
    JsonSchema(Value),
    /// A string of this Lark grammar (llguidance's dialect).
    Lark(String),
}

/// JSON is generated compact with one space after `,` and `:` (as Python's
/// `json.dumps` writes it, so small models see the spacing they were trained
/// on). Free whitespace lets a small model emit newlines until `max_tokens`.
fn json_layout() -> Value {
    json!({"whitespace_flexible": false, "item_separator": ", ", "key_separator": ": "})
}

/// `schema` as a term of a Lark grammar (`%json {...}`), prepared like a
/// `json_schema` response format ([`prepare`]).
pub fn lark_json(schema: &serde_json::Map<String, Value>) -> String {
    format!("%json {}", prepare(schema.clone()))
}

/// What every schema goes through before llguidance: our JSON layout unless
/// the schema sets its own `x-guidance`, and finite digits for its numbers
/// ([`bound_numbers`]).
fn prepare(mut schema: serde_json::Map<String, Value>) -> Value {
    schema.entry("x-guidance").or_insert_with(json_layout);
    let mut schema = Value::Object(schema);
    bound_numbers(&mut schema);
    schema
}

/// One model's vocabulary as llguidance sees it, shared by its requests.
pub struct Constrainer {
    factory: ParserFactory,
}

impl Constrainer {
    /// Builds the token trie of `tokenizer`: every id's bytes, with control
    /// tokens marked special so no grammar text can match them.
    pub fn new(tokenizer: &GgufTokenizer) -> Result<Self, String> {
        let eos = tokenizer
            .eos_id()
            .or_else(|| tokenizer.stop_ids().first().copied())
            .ok_or("the model has no end-of-sequence token")?;
        let words: Vec<Vec<u8>> = (0..tokenizer.vocab_size() as u32)
            .map(|id| trie_bytes(tokenizer, id))
            .collect();
        let info = TokRxInfo {
            tok_bos: tokenizer.bos_id(),
            ..TokRxInfo::new(words.len() as u32, eos)
        };
        let trie = TokTrie::from(&info, &words);
        // Greedy tokenization is enough: llguidance only tokenizes text itself
        // for prompts and forced tokens, neither of which we hand it.
        let env: TokEnv = Arc::new(ApproximateTokEnv::new(trie));
        let mut factory = ParserFactory::new_simple(&env).map_err(|e| e.to_string())?;
        // Grammar errors go back to the client; llguidance must not print them.
        factory.quiet();
        Ok(Self { factory })
    }

    /// Compiles `spec`; the error says what is wrong with the schema or grammar.
    pub fn compile(&self, spec: &ConstraintSpec) -> Result<Constraint, String> {
        let grammar = match spec {
            ConstraintSpec::JsonObject => TopLevelGrammar::from_json_schema(
                json!({"type": "object", "x-guidance": json_layout()}),
            ),
            ConstraintSpec::JsonSchema(schema) => {
                let Some(obj) = schema.as_object() else {
                    return Err("the JSON schema must be an object".into());
                };
                TopLevelGrammar::from_json_schema(prepare(obj.clone()))
            }
            ConstraintSpec::Lark(text) => {
                if text.trim().is_empty() {
                    return Err("the grammar is empty".into());
                }
                TopLevelGrammar::from_lark(text.clone())
            }
        };
        let parser = self
            .factory
            .create_parser(grammar)
            .map_err(|e| without_backtrace(&e.to_string()))?;
        let matcher = Matcher::new(Ok(parser));
        if let Some(e) = matcher.get_error() {
            return Err(without_backtrace(&e));
        }
        let eos = self.factory.tok_env().tok_trie().eos_token();
        Ok(Constraint { matcher, eos })
    }

    /// A vocabulary of the 256 single bytes plus an end-of-sequence token
    /// (id 256), for testing grammars byte by byte (here and in the
    /// application's prompt tests).
    pub fn bytes() -> Self {
        let words: Vec<Vec<u8>> = (0..=255u8)
            .map(|b| vec![b])
            .chain([b"\xFF<eos>".to_vec()])
            .collect();
        let info = TokRxInfo::new(words.len() as u32, 256);
        let env: TokEnv = Arc::new(ApproximateTokEnv::new(TokTrie::from(&info, &words)));
        let mut factory = ParserFactory::new_simple(&env).unwrap();
        factory.quiet();
        Constrainer { factory }
    }
}

fn trie_bytes(tokenizer: &GgufTokenizer, id: u32) -> Vec<u8> {
    let bytes = tokenizer.token_bytes(id);
    if tokenizer.is_special(id) {
        let mut marked = Vec::with_capacity(bytes.len() + 1);
        marked.push(TokTrie::SPECIAL_TOKEN_MARKER);
        marked.extend(bytes);
        marked
    } else {
        bytes
    }
}

/// What the grammar allows next.
pub enum Allowed {
    /// The output is complete: end generation.
    Finished,
    /// These tokens; `eos` says whether ending here is valid too.
    Tokens { mask: SimpleVob, eos: bool },
}

/// One request's compiled constraint, advanced token by token on the engine thread.
pub struct Constraint {
    matcher: Matcher,
    eos: u32,
}

impl Constraint {
    /// The tokens that may come next.
    pub fn allowed(&mut self) -> Result<Allowed, String> {
        if self.matcher.is_stopped() {
            return Ok(Allowed::Finished);
        }
        let mask = self
            .matcher
            .compute_mask_or_eos()
            .map_err(|e| e.to_string())?;
        let eos = mask.is_allowed(self.eos);
        if eos && mask.num_set() == 1 {
            return Ok(Allowed::Finished);
        }
        Ok(Allowed::Tokens { mask, eos })
    }

    /// Sets the logits of tokens the grammar forbids to -inf; end-of-turn
    /// tokens (`stop_ids`) are allowed exactly when the grammar may end.
    pub fn apply(logits: &mut [f32], mask: &SimpleVob, eos: bool, stop_ids: &[u32]) {
        for (id, l) in logits.iter_mut().enumerate() {
            let allowed = if stop_ids.contains(&(id as u32)) {
                eos
            } else {
                id < mask.len() && mask.is_allowed(id as u32)
            };
            if !allowed {
                *l = f32::NEG_INFINITY;
            }
        }
    }

    /// Advances past `token`, which must have been allowed.
    pub fn commit(&mut self, token: u32) -> Result<(), String> {
        self.matcher.consume_token(token).map_err(|e| e.to_string())
    }
}

/// llguidance reports a panic inside its compiler with a backtrace; the
/// client gets the first line, never our internals.
fn without_backtrace(message: &str) -> String {
    message
        .split("<backtrace>")
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// JSON's largest integer that every parser reads exactly (2^53 - 1).
const SAFE_INTEGER: i64 = 9_007_199_254_740_991;
/// Fraction digits of a number at most (as a `multipleOf`).
const NUMBER_STEP: f64 = 1e-6;

/// Gives every number and integer in `schema` finite digits: bounds of
/// ±(2^53 - 1) where it sets none, and for numbers a precision of six
/// decimal places where it sets no `multipleOf`. Without them a small model
/// at temperature 0 can write digits until `max_tokens` runs out (llama.cpp's
/// JSON grammars bound digits likewise). Every value allowed afterwards was
/// allowed before.
fn bound_numbers(schema: &mut Value) {
    match schema {
        Value::Object(obj) => {
            let types: Vec<&str> = match obj.get("type") {
                Some(Value::String(t)) => vec![t.as_str()],
                Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            let number = types.contains(&"number");
            if number || types.contains(&"integer") {
                if !obj.contains_key("maximum") && !obj.contains_key("exclusiveMaximum") {
                    obj.insert("maximum".into(), json!(SAFE_INTEGER));
                }
                if !obj.contains_key("minimum") && !obj.contains_key("exclusiveMinimum") {
                    obj.insert("minimum".into(), json!(-SAFE_INTEGER));
                }
                if number && !obj.contains_key("multipleOf") {
                    obj.insert("multipleOf".into(), json!(NUMBER_STEP));
                }
            }
            obj.values_mut().for_each(bound_numbers);
        }
        Value::Array(items) => items.iter_mut().for_each(bound_numbers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constrainer() -> Constrainer {
        Constrainer::bytes()
    }

    /// Follows the grammar, taking the first allowed byte of `prefer`, else
    /// the lowest allowed byte, and stopping as soon as it may.
    fn generate(c: &mut Constraint, prefer: &[u8]) -> String {
        let mut out = Vec::new();
        for _ in 0..64 {
            match c.allowed().unwrap() {
                Allowed::Finished => break,
                Allowed::Tokens { eos: true, .. } => break,
                Allowed::Tokens { mask, .. } => {
                    let t = prefer
                        .iter()
                        .map(|&b| b as u32)
                        .find(|&b| mask.is_allowed(b))
                        .unwrap_or_else(|| mask.first_bit_set().unwrap() as u32);
                    c.commit(t).unwrap();
                    out.push(t as u8);
                }
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_lark_grammar_admits_only_its_strings() {
        let c = constrainer();
        let mut k = c
            .compile(&ConstraintSpec::Lark(r#"start: "ab" | "ac""#.into()))
            .unwrap();
        assert_eq!(generate(&mut k, b""), "ab");
    }

    #[test]
    fn a_schema_embedded_in_lark_is_laid_out_like_other_json() {
        let schema = json!({"type": "object", "additionalProperties": false, "required": ["a", "b"],
            "properties": {"a": {"enum": ["p", "q"]}, "b": {"type": "boolean"}}});
        let lark = format!("start: \"x\" {}", lark_json(schema.as_object().unwrap()));
        let mut k = constrainer().compile(&ConstraintSpec::Lark(lark)).unwrap();
        assert_eq!(generate(&mut k, b""), r#"x{"a": "p", "b": false}"#);
    }

    #[test]
    fn json_object_output_is_an_object() {
        let mut k = constrainer().compile(&ConstraintSpec::JsonObject).unwrap();
        let text = generate(&mut k, b"}\"a");
        assert!(
            serde_json::from_str::<Value>(&text).unwrap().is_object(),
            "{text}"
        );
    }

    #[test]
    fn a_schema_with_an_unknown_type_is_refused_with_a_reason() {
        let err = constrainer()
            .compile(&ConstraintSpec::JsonSchema(
                json!({"type": "object", "properties": {"a": {"type": "nosuchtype"}}}),
            ))
            .err()
            .expect("refused");
        assert!(err.contains("nosuchtype"), "{err}");
    }

    #[test]
    fn a_broken_grammar_and_a_non_object_schema_are_refused() {
        let c = constrainer();
        assert!(c.compile(&ConstraintSpec::Lark("start: (".into())).is_err());
        assert!(c.compile(&ConstraintSpec::Lark("  ".into())).is_err());
        assert!(c
            .compile(&ConstraintSpec::JsonSchema(json!("string")))
            .is_err());
    }

    #[test]
    fn masking_keeps_allowed_tokens_and_stop_ids_only_when_the_grammar_may_end() {
        let mut mask = SimpleVob::alloc(4);
        mask.allow_token(1);
        let mut logits = [1.0, 2.0, 3.0, 4.0, 5.0];
        Constraint::apply(&mut logits, &mask, false, &[3]);
        assert_eq!(
            logits.map(|l| l.is_finite()),
            [false, true, false, false, false]
        );
        let mut logits = [1.0; 5];
        Constraint::apply(&mut logits, &mask, true, &[3]);
        assert_eq!(
            logits.map(|l| l.is_finite()),
            [false, true, false, true, false]
        );
    }

    #[test]
    fn numbers_get_finite_digits_and_explicit_bounds_are_kept() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "type": {"type": "number"},
                "n": {"type": ["integer", "null"], "minimum": 0},
                "x": {"type": "number", "multipleOf": 0.5, "exclusiveMaximum": 3},
                "s": {"type": "string"}
            }
        });
        bound_numbers(&mut schema);
        let p = &schema["properties"];
        assert_eq!(p["type"]["multipleOf"], json!(NUMBER_STEP));
        assert_eq!(p["type"]["maximum"], json!(SAFE_INTEGER));
        assert_eq!(p["n"]["minimum"], 0);
        assert_eq!(p["n"]["maximum"], json!(SAFE_INTEGER));
        assert!(p["n"].get("multipleOf").is_none());
        assert_eq!(p["x"]["multipleOf"], 0.5);
        assert!(p["x"].get("maximum").is_none());
        assert_eq!(p["s"], json!({"type": "string"}));
    }

    #[test]
    fn compiler_panics_reach_the_client_without_a_backtrace() {
        let raw = "panic: attempt to multiply with overflow\n<backtrace>\n   0: llguidance::x\n</backtrace>";
        assert_eq!(
            without_backtrace(raw),
            "panic: attempt to multiply with overflow"
        );
        assert_eq!(without_backtrace("plain error"), "plain error");
    }

    #[test]
    fn schemas_embedded_in_a_grammar_get_the_same_number_bounds() {
        let schema = json!({"type": "object", "properties": {"n": {"type": "number"}}});
        let term = lark_json(schema.as_object().unwrap());
        let embedded: Value = serde_json::from_str(term.strip_prefix("%json ").unwrap()).unwrap();
        assert_eq!(
            embedded["properties"]["n"]["multipleOf"],
            json!(NUMBER_STEP)
        );
        assert!(embedded.get("x-guidance").is_some());
    }
}
