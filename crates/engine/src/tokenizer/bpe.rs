//! Byte-level BPE (`tokenizer.ggml.model = gpt2`) on the `tokenizers` crate,
//! pre-tokenized with the regexes llama.cpp picks for `tokenizer.ggml.pre`
//! (`llm_tokenizer_bpe` in llama.cpp's `llama-vocab.cpp`).

use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{PreTokenizerWrapper, SplitDelimiterBehavior, Tokenizer};

use super::TokenizerError;

// llama.cpp's pre-tokenizer regexes (llama-vocab.cpp, `llm_tokenizer_bpe`).
// Each regex splits the pieces left by the previous one; the text between
// matches is kept as pieces too, which is what `Isolated` does.
const GPT2_RE: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";
const LLAMA3_RE: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const QWEN2_RE: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// How llama.cpp pre-tokenizes a `gpt2` vocabulary with this `pre` name.
pub(super) struct PreTokenizerSpec {
    pub(super) regexes: Vec<&'static str>,
    /// Whole words already in the vocabulary skip the merges (Llama 3).
    pub(super) ignore_merges: bool,
    /// llama.cpp's BOS default when `add_bos_token` is absent.
    pub(super) add_bos: bool,
}

pub(super) fn pre_tokenizer_spec(pre: &str) -> PreTokenizerSpec {
    let spec = |regexes: Vec<&'static str>| PreTokenizerSpec {
        regexes,
        ignore_merges: false,
        add_bos: false,
    };
    match pre {
        "llama3" | "llama-v3" | "llama-bpe" | "falcon3" | "falcon-h1" | "pixtral" | "midm-2.0"
        | "lfm2" => PreTokenizerSpec {
            regexes: vec![LLAMA3_RE],
            ignore_merges: true,
            add_bos: true,
        },
        "dbrx" | "smaug-bpe" => spec(vec![LLAMA3_RE]),
        "qwen2" | "deepseek-r1-qwen" | "megrez" | "stablelm2" | "hunyuan" => spec(vec![QWEN2_RE]),
        "smollm" | "starcoder" | "refact" | "command-r" | "codeshell" | "exaone" | "minerva-7b" => {
            spec(vec![r"\p{N}", GPT2_RE])
        }
        "gpt-2" | "gpt2" | "phi-2" | "mpt" | "olmo" | "jais" | "jina-es" | "jina-de"
        | "jina-v2-es" | "jina-v2-de" | "gigachat" | "roberta-bpe" => spec(vec![GPT2_RE]),
        "falcon" => spec(vec![r"[\p{P}\$\+<=>\^~\|`]+", GPT2_RE, "[0-9][0-9][0-9]"]),
        "deepseek-coder" => spec(vec![
            r"[\r\n]",
            r"\s?\p{L}+",
            r"\s?\p{P}+",
            "[一-龥ࠀ-一가-퟿]+",
            r"\p{N}",
        ]),
        "default" => spec(vec![
            r"[\p{P}\$\+<=>\^~\|]+",
            GPT2_RE,
            r"\p{N}+",
            "[0-9][0-9][0-9]",
        ]),
        other => {
            tracing::warn!(
                pre = other,
                "unknown BPE pre-tokenizer, falling back to GPT-2's"
            );
            spec(vec![GPT2_RE])
        }
    }
}

/// A `tokenizers` BPE over the GGUF vocabulary and `"left right"` merges.
pub(super) fn build(
    tokens: &[String],
    merges: &[String],
    spec: &PreTokenizerSpec,
) -> Result<Tokenizer, TokenizerError> {
    let vocab: Vocab = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();
    let mut pairs = Vec::with_capacity(merges.len());
    for merge in merges {
        let (a, b) = merge
            .split_once(' ')
            .ok_or_else(|| TokenizerError::BadValue {
                key: "tokenizer.ggml.merges",
                reason: format!("entry `{merge}` has no space"),
            })?;
        // llama.cpp ignores a merge whose result is not a token; `tokenizers`
        // would refuse to build, so such merges are dropped.
        if vocab.contains_key(a) && vocab.contains_key(b) && vocab.contains_key(&format!("{a}{b}"))
        {
            pairs.push((a.to_string(), b.to_string()));
        }
    }
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, pairs)
        .ignore_merges(spec.ignore_merges)
        .build()
        .map_err(|e| TokenizerError::Build(e.to_string()))?;

    let mut tokenizer = Tokenizer::new(bpe);
    tokenizer.with_pre_tokenizer(Some(pre_tokenizer(spec)?));
    Ok(tokenizer)
}

fn pre_tokenizer(spec: &PreTokenizerSpec) -> Result<Sequence, TokenizerError> {
    let mut steps = Vec::with_capacity(spec.regexes.len() + 1);
    for regex in &spec.regexes {
        let split = Split::new(
            SplitPattern::Regex(regex.to_string()),
            SplitDelimiterBehavior::Isolated,
            false,
        )
        .map_err(|e| TokenizerError::Build(e.to_string()))?;
        steps.push(PreTokenizerWrapper::Split(split));
    }
    // The regexes already split the text; ByteLevel only maps bytes to chars.
    steps.push(PreTokenizerWrapper::ByteLevel(ByteLevel::new(
        false, false, false,
    )));
    Ok(Sequence::new(steps))
}

/// GPT-2's `bytes_to_unicode` inverted, indexed by char code: printable
/// bytes stand for themselves, the other 68 were moved to U+0100.. in byte
/// order. `u16::MAX` marks codes that are no byte.
const BYTE_LEVEL_DECODER: [u16; 324] = {
    let mut table = [u16::MAX; 324];
    let mut shifted = 0;
    let mut b = 0;
    while b < 256 {
        if matches!(b, 0x21..=0x7E | 0xA1..=0xAC | 0xAE..=0xFF) {
            table[b] = b as u16;
        } else {
            table[256 + shifted] = b as u16;
            shifted += 1;
        }
        b += 1;
    }
    table
};

/// Appends the bytes a byte-level token's text stands for.
pub(super) fn byte_level_decode(text: &str, out: &mut Vec<u8>) {
    for c in text.chars() {
        match BYTE_LEVEL_DECODER.get(c as usize) {
            Some(&b) if b != u16::MAX => out.push(b as u8),
            _ => out.extend_from_slice(c.encode_utf8(&mut [0u8; 4]).as_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenizers::{OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer};

    fn splits(pre: &str, text: &str) -> Vec<String> {
        let mut pretokenized = PreTokenizedString::from(text);
        pre_tokenizer(&pre_tokenizer_spec(pre))
            .unwrap()
            .pre_tokenize(&mut pretokenized)
            .unwrap();
        pretokenized
            .get_splits(OffsetReferential::Original, OffsetType::Byte)
            .into_iter()
            .map(|(s, _, _)| s.replace('\u{120}', " "))
            .collect()
    }

    #[test]
    fn smollm_pre_tokenizer_isolates_every_digit() {
        assert_eq!(
            splits("smollm", "ab 123  x"),
            ["ab", " ", "1", "2", "3", " ", " x"]
        );
    }

    #[test]
    fn llama3_pre_tokenizer_groups_digits_by_three_and_qwen2_by_one() {
        assert_eq!(splits("llama-bpe", "x 12345"), ["x", " ", "123", "45"]);
        assert_eq!(splits("qwen2", "x 123"), ["x", " ", "1", "2", "3"]);
    }

    #[test]
    fn unknown_bpe_pre_tokenizer_falls_back_to_gpt2() {
        assert_eq!(splits("no-such-pre", "it's 123"), ["it", "'s", " 123"]);
    }

    #[test]
    fn byte_level_chars_decode_to_their_bytes() {
        let mut out = Vec::new();
        byte_level_decode("\u{120}hi\u{10A}\u{e9}", &mut out);
        assert_eq!(out, b" hi\n\xe9");
    }
}
