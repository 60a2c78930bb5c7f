//! The vocabulary: token strings and types agree, and BYTE tokens are `<0xHH>`.

use super::*;

/// Checks that the token list and its types agree and that BYTE tokens are
/// `<0xHH>`, which llama.cpp-style detokenisers parse as hex.
pub(super) fn check_tokens<R: Read + Seek>(
    src: &mut Src<R>,
    meta: &Metadata,
) -> Result<(), GgufError> {
    let (Some((first, byte_forms)), Some(byte_types)) = (&meta.tokens, &meta.byte_types) else {
        return Ok(());
    };
    if byte_forms.len != byte_types.len {
        let (tokens, types) = (byte_forms.len, byte_types.len);
        return Err(GgufError::TokenCountMismatch {
            file: src.file.clone(),
            tokens,
            types,
        });
    }
    let Some(index) = byte_types.first_without(byte_forms) else {
        return Ok(());
    };
    // Only the offending token is read again, so the vocabulary never has to stay in memory.
    src.seek_to(*first)?;
    let what = || "`tokenizer.ggml.tokens`".to_owned();
    for _ in 0..index {
        let len = src.u64(&what)?;
        src.skip(len, &what)?;
    }
    let token = src.string(MAX_STRING_LEN, 32, true, &what)?.head;
    Err(GgufError::BadByteToken {
        file: src.file.clone(),
        index,
        token: shown(&token),
    })
}

/// A growable bit set, so per-token flags cost a bit each.
#[derive(Default)]
pub(super) struct Bits {
    pub(super) words: Vec<u64>,
    pub(super) len: u64,
}

impl Bits {
    pub(super) fn push(&mut self, bit: bool) {
        if self.len.is_multiple_of(64) {
            self.words.push(0);
        }
        if let Some(word) = self.words.last_mut() {
            *word |= u64::from(bit) << (self.len % 64);
        }
        self.len += 1;
    }

    /// The first index set here but not in `other`.
    pub(super) fn first_without(&self, other: &Bits) -> Option<u64> {
        let pairs = self
            .words
            .iter()
            .zip(other.words.iter().chain(std::iter::repeat(&0)));
        pairs
            .map(|(a, b)| a & !b)
            .enumerate()
            .find(|(_, w)| *w != 0)
            .map(|(i, w)| i as u64 * 64 + u64::from(w.trailing_zeros()))
    }
}

pub(super) fn is_byte_token(token: &Text) -> bool {
    match token.head.as_bytes() {
        [b'<', b'0', b'x', hi, lo, b'>', ..] => {
            token.len == 6 && hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit()
        }
        _ => false,
    }
}
