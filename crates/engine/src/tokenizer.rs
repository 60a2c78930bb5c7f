//! Tokenizer rebuilt from a GGUF file's `tokenizer.ggml.*` metadata alone,
//! giving the token ids llama.cpp (`llama-vocab.cpp`) gives, so a prompt is
//! the same tokens here as in `llama-server`:
//!
//! - special and user-defined tokens written in the text are cut out first
//!   ([`special`]), except control tokens the caller marked as content
//!   ([`GgufTokenizer::quote`]) or asked to leave as text
//!   ([`GgufTokenizer::encode_plain`]);
//! - `gpt2` vocabularies run byte-level BPE from the `tokenizers` crate after
//!   llama.cpp's pre-tokenizer regexes for `tokenizer.ggml.pre` ([`bpe`]);
//! - `llama` vocabularies run a port of llama.cpp's SentencePiece merging
//!   with `<0xHH>` byte fallback ([`spm`]).

mod bpe;
mod quote;
mod special;
mod spm;

use candle_core::quantized::gguf_file::{Content, Value};
use tokenizers::Tokenizer;

use special::{Controls, Fragment, SpecialMatcher};
use spm::Spm;

#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("GGUF metadata has no `{0}`")]
    MissingKey(&'static str),
    #[error("GGUF metadata `{key}` is malformed: {reason}")]
    BadValue { key: &'static str, reason: String },
    #[error("tokenizer model `{0}` is not supported (only `gpt2` BPE and `llama` SentencePiece)")]
    UnsupportedModel(String),
    #[error("could not build the tokenizer: {0}")]
    Build(String),
    #[error("could not tokenize the text: {0}")]
    Encode(String),
    #[error("token id {id} is outside the vocabulary of {vocab_size} tokens")]
    UnknownId { id: u32, vocab_size: usize },
}

/// `llama_token_type` values stored in `tokenizer.ggml.token_type`.
const TYPE_NORMAL: i32 = 1;
const TYPE_UNKNOWN: i32 = 2;
const TYPE_CONTROL: i32 = 3;
const TYPE_USER_DEFINED: i32 = 4;
const TYPE_UNUSED: i32 = 5;
const TYPE_BYTE: i32 = 6;

/// Token texts that end a turn in the chat formats we serve, whatever the
/// GGUF's `eos_token_id` says (SmolLM2's EOS is `<|im_end|>`, Gemma's is `<eos>`
/// but its turns end with `<end_of_turn>`).
const TURN_END_TOKENS: [&str; 5] = [
    "<|im_end|>",
    "<end_of_turn>",
    "<|eot_id|>",
    "<|end|>",
    "<|endoftext|>",
];

enum Model {
    /// Byte-level BPE; boxed because `Tokenizer` is large.
    Bpe(Box<Tokenizer>),
    Spm(Spm),
}

pub struct GgufTokenizer {
    tokens: Vec<String>,
    types: Vec<i32>,
    model: Model,
    specials: SpecialMatcher,
    bos_id: Option<u32>,
    eos_id: Option<u32>,
    add_bos: bool,
    /// SentencePiece only: a space is put before text that starts the prompt
    /// or follows a special token.
    add_space_prefix: bool,
    stop_ids: Vec<u32>,
}

impl GgufTokenizer {
    pub fn from_gguf(ct: &Content) -> Result<Self, TokenizerError> {
        let kind = required(ct, "tokenizer.ggml.model")?
            .to_string()
            .map_err(|e| bad("tokenizer.ggml.model", e))?
            .clone();
        let tokens = string_array(ct, "tokenizer.ggml.tokens")?;
        let n = tokens.len();
        let bos_id = optional_id(ct, "tokenizer.ggml.bos_token_id", n)?;
        let eos_id = optional_id(ct, "tokenizer.ggml.eos_token_id", n)?;

        let mut types = match ct.metadata.get("tokenizer.ggml.token_type") {
            Some(v) => number_array(v, "tokenizer.ggml.token_type")?,
            None => vec![TYPE_NORMAL; n],
        };
        if types.len() != n {
            return Err(bad(
                "tokenizer.ggml.token_type",
                "length differs from tokens",
            ));
        }
        if !ct.metadata.contains_key("tokenizer.ggml.token_type") {
            // Without types nothing would be parsed as special; at least the
            // ids the metadata names are control tokens.
            for id in [bos_id, eos_id].into_iter().flatten() {
                types[id as usize] = TYPE_CONTROL;
            }
        }

        let (model, default_add_bos, add_space_prefix) = match kind.as_str() {
            "gpt2" => {
                let pre = match ct.metadata.get("tokenizer.ggml.pre") {
                    Some(v) => v.to_string().map_err(|e| bad("tokenizer.ggml.pre", e))?,
                    None => {
                        tracing::warn!("GGUF has no tokenizer.ggml.pre, using llama.cpp's default");
                        "default"
                    }
                };
                let spec = bpe::pre_tokenizer_spec(pre);
                let merges = string_array(ct, "tokenizer.ggml.merges")?;
                let bpe = bpe::build(&tokens, &merges, &spec)?;
                (Model::Bpe(Box::new(bpe)), spec.add_bos, false)
            }
            "llama" => {
                let key = "tokenizer.ggml.scores";
                let scores = required(ct, key)?
                    .to_vec()
                    .map_err(|e| bad(key, e))?
                    .iter()
                    .map(|v| v.to_f32().map_err(|e| bad(key, e)))
                    .collect::<Result<Vec<_>, _>>()?;
                if scores.len() != n {
                    return Err(bad(key, "length differs from tokens"));
                }
                let unk_id = optional_id(ct, "tokenizer.ggml.unknown_token_id", n)?;
                let spm = Spm::new(&tokens, scores, unk_id);
                let prefix = optional_bool(ct, "tokenizer.ggml.add_space_prefix")?.unwrap_or(true);
                (Model::Spm(spm), true, prefix)
            }
            other => return Err(TokenizerError::UnsupportedModel(other.to_string())),
        };
        let add_bos = optional_bool(ct, "tokenizer.ggml.add_bos_token")?.unwrap_or(default_add_bos);

        let mut stop_ids: Vec<u32> = eos_id.into_iter().collect();
        for key in ["tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            stop_ids.extend(optional_id(ct, key, n)?);
        }
        stop_ids.extend(
            tokens
                .iter()
                .enumerate()
                .filter(|(_, t)| TURN_END_TOKENS.contains(&t.as_str()))
                .map(|(id, _)| id as u32),
        );
        stop_ids.sort_unstable();
        stop_ids.dedup();

        // llama.cpp parses these in text (`cache_special_tokens`).
        let specials = SpecialMatcher::new(
            tokens
                .iter()
                .zip(&types)
                .enumerate()
                .filter(|(_, (_, &ty))| {
                    matches!(ty, TYPE_CONTROL | TYPE_USER_DEFINED | TYPE_UNKNOWN)
                })
                .map(|(id, (text, &ty))| (id as u32, text.as_str(), ty != TYPE_USER_DEFINED)),
        );
        Ok(Self {
            tokens,
            types,
            model,
            specials,
            bos_id,
            eos_id,
            add_bos,
            add_space_prefix,
            stop_ids,
        })
    }

    /// Tokens for `text`; special tokens written in the text are parsed as
    /// single tokens, except control tokens [`Self::quote`] marked as content;
    /// BOS prepended when `add_bos` is true and the model's metadata asks for it.
    /// For a rendered chat template (and a raw completion prompt, whose
    /// author writes the turn markers themselves, as llama.cpp's
    /// `/completion` lets them).
    pub fn encode(&self, text: &str, add_bos: bool) -> Result<Vec<u32>, TokenizerError> {
        let (text, quoted) = quote::unquote(text);
        self.encode_with(&text, add_bos, Controls::TextWithin(&quoted))
    }

    /// Tokens for `text` with control tokens written in it left as text, as
    /// llama.cpp's `parse_special = false` does (user-defined tokens are
    /// still single tokens): the tokens a message's content becomes.
    pub fn encode_plain(&self, text: &str, add_bos: bool) -> Result<Vec<u32>, TokenizerError> {
        self.encode_with(&quote::without_marks(text), add_bos, Controls::Text)
    }

    /// `text` (content from a user, a document or a client) marked so that
    /// [`Self::encode`] reads the control tokens in it as text even after a
    /// chat template has placed it among the template's own tokens: a
    /// document holding `<|im_start|>system` cannot open a turn.
    pub fn quote(&self, text: &str) -> String {
        let text = quote::without_marks(text);
        let mut out = String::with_capacity(text.len());
        // `pos` walks the fragments; `copied` is how much of `text` is in `out`.
        let (mut pos, mut copied) = (0, 0);
        for fragment in self.specials.partition(&text, Controls::Parsed) {
            match fragment {
                Fragment::Text(piece) => pos += piece.len(),
                Fragment::Token(id) => {
                    let end = pos + self.tokens[id as usize].len();
                    if self.is_special(id) {
                        out.push_str(&text[copied..pos]);
                        out.push(quote::OPEN);
                        out.push_str(&text[pos..end]);
                        out.push(quote::CLOSE);
                        copied = end;
                    }
                    pos = end;
                }
            }
        }
        out.push_str(&text[copied..]);
        out
    }

    fn encode_with(
        &self,
        text: &str,
        add_bos: bool,
        controls: Controls<'_>,
    ) -> Result<Vec<u32>, TokenizerError> {
        let mut ids = Vec::with_capacity(text.len() / 3 + 2);
        if add_bos && self.add_bos {
            ids.extend(self.bos_id);
        }
        let mut after_special = true;
        for fragment in self.specials.partition(text, controls) {
            match fragment {
                Fragment::Token(id) => {
                    ids.push(id);
                    after_special = true;
                }
                Fragment::Text(piece) => {
                    match &self.model {
                        Model::Bpe(tokenizer) => {
                            let encoding = tokenizer
                                .encode_fast(piece, false)
                                .map_err(|e| TokenizerError::Encode(e.to_string()))?;
                            ids.extend_from_slice(encoding.get_ids());
                        }
                        Model::Spm(spm) => {
                            let prefix = if self.add_space_prefix && after_special {
                                " "
                            } else {
                                ""
                            };
                            let escaped = format!("{prefix}{piece}").replace(' ', "\u{2581}");
                            spm.encode(&escaped, &mut ids);
                        }
                    }
                    after_special = false;
                }
            }
        }
        Ok(ids)
    }

    /// Text for ids; special tokens are rendered as their text unless skip_special.
    ///
    /// Bytes are joined before UTF-8 decoding, so byte-fallback tokens and
    /// byte-level pieces reassemble; an incomplete trailing character (a
    /// prefix cut mid-character while streaming) comes out as U+FFFD.
    pub fn decode(&self, ids: &[u32], skip_special: bool) -> Result<String, TokenizerError> {
        let mut bytes = Vec::with_capacity(ids.len() * 4);
        // llama.cpp drops the space SentencePiece added before the first word
        // of a prompt, which it recognises by the leading BOS.
        let mut strip_space =
            self.add_space_prefix && self.bos_id.is_some() && ids.first() == self.bos_id.as_ref();
        for &id in ids {
            let text = self
                .tokens
                .get(id as usize)
                .ok_or(TokenizerError::UnknownId {
                    id,
                    vocab_size: self.tokens.len(),
                })?;
            let start = bytes.len();
            match self.types[id as usize] {
                TYPE_CONTROL | TYPE_UNKNOWN | TYPE_UNUSED => {
                    if !skip_special {
                        bytes.extend_from_slice(text.as_bytes());
                    }
                    continue;
                }
                TYPE_USER_DEFINED => bytes.extend_from_slice(text.as_bytes()),
                TYPE_BYTE => match parse_byte_token(text) {
                    Some(b) => bytes.push(b),
                    None => bytes.extend_from_slice(text.as_bytes()),
                },
                _ => match &self.model {
                    Model::Bpe(_) => bpe::byte_level_decode(text, &mut bytes),
                    Model::Spm(_) => {
                        bytes.extend_from_slice(text.replace(spm::SPACE, " ").as_bytes());
                    }
                },
            }
            if strip_space && bytes.get(start) == Some(&b' ') {
                bytes.remove(start);
            }
            strip_space = false;
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The bytes token `id` adds to generated text: byte-level BPE pieces
    /// mapped back to their bytes, SentencePiece `▁` as a space, `<0xHH>` as
    /// that byte; control tokens as their text (callers check [`Self::is_special`]).
    /// Empty for an id outside the vocabulary.
    pub fn token_bytes(&self, id: u32) -> Vec<u8> {
        let Some(text) = self.tokens.get(id as usize) else {
            return Vec::new();
        };
        match self.types[id as usize] {
            TYPE_CONTROL | TYPE_UNKNOWN | TYPE_UNUSED | TYPE_USER_DEFINED => {
                text.as_bytes().to_vec()
            }
            TYPE_BYTE => match parse_byte_token(text) {
                Some(b) => vec![b],
                None => text.as_bytes().to_vec(),
            },
            _ => match &self.model {
                Model::Bpe(_) => {
                    let mut bytes = Vec::with_capacity(text.len());
                    bpe::byte_level_decode(text, &mut bytes);
                    bytes
                }
                Model::Spm(_) => text.replace(spm::SPACE, " ").into_bytes(),
            },
        }
    }

    pub fn eos_id(&self) -> Option<u32> {
        self.eos_id
    }

    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    pub fn bos_token(&self) -> Option<&str> {
        self.bos_id.map(|id| self.tokens[id as usize].as_str())
    }

    pub fn eos_token(&self) -> Option<&str> {
        self.eos_id.map(|id| self.tokens[id as usize].as_str())
    }

    pub fn bos_id(&self) -> Option<u32> {
        self.bos_id
    }

    /// Every id that ends generation: EOS, EOT/EOM when the metadata names
    /// them, and the turn-end tokens of common chat formats present in the vocab.
    pub fn stop_ids(&self) -> &[u32] {
        &self.stop_ids
    }

    /// Control, unknown and unused tokens; user-defined tokens (Gemma's "\n",
    /// runs of spaces, HTML tags) are ordinary text even though they are
    /// parsed like specials.
    pub fn is_special(&self, id: u32) -> bool {
        matches!(
            self.types.get(id as usize),
            Some(&(TYPE_CONTROL | TYPE_UNKNOWN | TYPE_UNUSED))
        )
    }

    /// `tokenizer.ggml.add_bos_token`, or llama.cpp's default for the vocabulary.
    pub fn add_bos_default(&self) -> bool {
        self.add_bos
    }
}

fn parse_byte_token(text: &str) -> Option<u8> {
    let hex = text.strip_prefix("<0x")?.strip_suffix('>')?;
    (hex.len() == 2)
        .then(|| u8::from_str_radix(hex, 16).ok())
        .flatten()
}

fn bad(key: &'static str, reason: impl ToString) -> TokenizerError {
    TokenizerError::BadValue {
        key,
        reason: reason.to_string(),
    }
}

fn required<'a>(ct: &'a Content, key: &'static str) -> Result<&'a Value, TokenizerError> {
    ct.metadata.get(key).ok_or(TokenizerError::MissingKey(key))
}

fn string_array(ct: &Content, key: &'static str) -> Result<Vec<String>, TokenizerError> {
    let values = required(ct, key)?.to_vec().map_err(|e| bad(key, e))?;
    values
        .iter()
        .map(|v| v.to_string().cloned().map_err(|e| bad(key, e)))
        .collect()
}

fn as_i64(v: &Value) -> Option<i64> {
    Some(match v {
        Value::U8(x) => *x as i64,
        Value::I8(x) => *x as i64,
        Value::U16(x) => *x as i64,
        Value::I16(x) => *x as i64,
        Value::U32(x) => *x as i64,
        Value::I32(x) => *x as i64,
        Value::U64(x) => i64::try_from(*x).ok()?,
        Value::I64(x) => *x,
        _ => return None,
    })
}

fn number_array(v: &Value, key: &'static str) -> Result<Vec<i32>, TokenizerError> {
    v.to_vec()
        .map_err(|e| bad(key, e))?
        .iter()
        .map(|x| {
            as_i64(x)
                .map(|n| n as i32)
                .ok_or_else(|| bad(key, "not an integer"))
        })
        .collect()
}

/// A token id from the metadata; ids outside the vocabulary (some converters
/// write -1 for "none") count as absent.
fn optional_id(
    ct: &Content,
    key: &'static str,
    vocab_size: usize,
) -> Result<Option<u32>, TokenizerError> {
    let Some(v) = ct.metadata.get(key) else {
        return Ok(None);
    };
    let id = as_i64(v).ok_or_else(|| bad(key, "not an integer"))?;
    Ok(u32::try_from(id)
        .ok()
        .filter(|&id| (id as usize) < vocab_size))
}

fn optional_bool(ct: &Content, key: &'static str) -> Result<Option<bool>, TokenizerError> {
    ct.metadata
        .get(key)
        .map(|v| v.to_bool().map_err(|e| bad(key, e)))
        .transpose()
}

#[cfg(test)]
mod tests;
