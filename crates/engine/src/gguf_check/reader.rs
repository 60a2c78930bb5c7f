//! The bounded reader: every declared length is checked against the bytes
//! left in the file before it is read.

use super::*;

/// A buffered reader that knows how many bytes the file has left, so every
/// declared length is checked before it is trusted.
pub(super) struct Src<R> {
    pub(super) inner: BufReader<R>,
    pub(super) pos: u64,
    pub(super) size: u64,
    pub(super) file: String,
    /// Reused for streaming strings, so a vocabulary costs no allocation per token.
    pub(super) scratch: Vec<u8>,
}

/// A string as far as the validator keeps it: its first bytes and its length.
pub(super) struct Text {
    pub(super) head: String,
    /// Length without trailing NULs, which some writers append and candle strips.
    pub(super) len: u64,
}

impl<R: Read + Seek> Src<R> {
    pub(super) fn new(file: String, mut reader: R, size: u64) -> Result<Self, GgufError> {
        if let Err(source) = reader.seek(SeekFrom::Start(0)) {
            return Err(GgufError::Io { file, source });
        }
        let inner = BufReader::with_capacity(64 << 10, reader);
        Ok(Self {
            inner,
            pos: 0,
            size,
            file,
            scratch: vec![0; 4096],
        })
    }

    pub(super) fn remaining(&self) -> u64 {
        self.size.saturating_sub(self.pos)
    }

    pub(super) fn ensure(&self, needed: u64, what: What) -> Result<(), GgufError> {
        if needed <= self.remaining() {
            return Ok(());
        }
        Err(GgufError::Truncated {
            file: self.file.clone(),
            what: what(),
            needed,
            offset: self.pos,
            file_size: self.size,
        })
    }

    pub(super) fn fill(&mut self, buf: &mut [u8], what: What) -> Result<(), GgufError> {
        self.ensure(buf.len() as u64, what)?;
        match self.inner.read_exact(buf) {
            Ok(()) => {
                self.pos += buf.len() as u64;
                Ok(())
            }
            // The stream is shorter than the size we were told.
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                self.size = self.pos;
                self.ensure(buf.len() as u64, what)
            }
            Err(source) => Err(GgufError::Io {
                file: self.file.clone(),
                source,
            }),
        }
    }

    pub(super) fn u32(&mut self, what: What) -> Result<u32, GgufError> {
        let mut b = [0; 4];
        self.fill(&mut b, what)?;
        Ok(u32::from_le_bytes(b))
    }

    pub(super) fn u64(&mut self, what: What) -> Result<u64, GgufError> {
        let mut b = [0; 8];
        self.fill(&mut b, what)?;
        Ok(u64::from_le_bytes(b))
    }

    pub(super) fn skip(&mut self, n: u64, what: What) -> Result<(), GgufError> {
        self.ensure(n, what)?;
        // n <= remaining <= size, and no real file is 2^63 bytes long.
        let step = i64::try_from(n).unwrap_or(i64::MAX);
        self.inner
            .seek_relative(step)
            .map_err(|source| GgufError::Io {
                file: self.file.clone(),
                source,
            })?;
        self.pos += n;
        Ok(())
    }

    pub(super) fn bad_value(&self, key: &str, problem: &'static str) -> GgufError {
        GgufError::BadMetadataValue {
            file: self.file.clone(),
            key: shown(key),
            problem,
        }
    }

    pub(super) fn seek_to(&mut self, pos: u64) -> Result<(), GgufError> {
        self.inner
            .seek(SeekFrom::Start(pos))
            .map_err(|source| GgufError::Io {
                file: self.file.clone(),
                source,
            })?;
        self.pos = pos;
        Ok(())
    }

    /// Reads the integer metadata value of type `vtype`; `None` (nothing read)
    /// when `vtype` is not an integer type.
    pub(super) fn int(&mut self, vtype: u32, what: What) -> Result<Option<i128>, GgufError> {
        let mut b = [0u8; 8];
        let Some(width) = int_width(vtype) else {
            return Ok(None);
        };
        self.fill(&mut b[..width], what)?;
        let unsigned = u64::from_le_bytes(b);
        let value = match vtype {
            0 | 2 | 4 | 10 => i128::from(unsigned),
            1 => i128::from(b[0] as i8),
            3 => i128::from(i16::from_le_bytes([b[0], b[1]])),
            5 => i128::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            _ => i128::from(unsigned as i64),
        };
        Ok(Some(value))
    }

    /// Reads a length-prefixed string of at most `limit` bytes, keeping only
    /// its first `keep` bytes; `utf8` checks the whole string while streaming.
    pub(super) fn string(
        &mut self,
        limit: u64,
        keep: usize,
        utf8: bool,
        what: What,
    ) -> Result<Text, GgufError> {
        let len = self.u64(&|| format!("length of {}", what()))?;
        if len > limit {
            return Err(GgufError::StringTooLong {
                file: self.file.clone(),
                what: what(),
                len,
                limit,
            });
        }
        self.ensure(len, what)?;
        if !utf8 && keep == 0 {
            self.skip(len, what)?;
            return Ok(Text {
                head: String::new(),
                len,
            });
        }
        // The scratch buffer goes back even when streaming fails.
        let mut chunk = std::mem::take(&mut self.scratch);
        let text = self.stream_string(&mut chunk, len, keep, utf8, what);
        self.scratch = chunk;
        text
    }

    /// Streams `len` bytes through `chunk`, validating UTF-8 across chunk
    /// boundaries when asked and keeping the first `keep` bytes.
    pub(super) fn stream_string(
        &mut self,
        chunk: &mut [u8],
        len: u64,
        keep: usize,
        utf8: bool,
        what: What,
    ) -> Result<Text, GgufError> {
        let (mut left, mut carry, mut trailing_nuls) = (len, 0usize, 0u64);
        let mut head = Vec::new();
        while left > 0 {
            // `carry` holds the start of a character split across chunks (< 4 bytes).
            let n = (chunk.len() - carry).min(usize::try_from(left).unwrap_or(usize::MAX));
            let filled = carry + n;
            self.fill(&mut chunk[carry..filled], what)?;
            left -= n as u64;
            let fresh = &chunk[carry..filled];
            head.extend_from_slice(&fresh[..keep.saturating_sub(head.len()).min(n)]);
            trailing_nuls = match fresh.iter().rposition(|&b| b != 0) {
                Some(p) => (n - 1 - p) as u64,
                None => trailing_nuls + n as u64,
            };
            carry = 0;
            if utf8 {
                match std::str::from_utf8(&chunk[..filled]) {
                    Ok(_) => {}
                    Err(e) if e.error_len().is_none() => {
                        chunk.copy_within(e.valid_up_to()..filled, 0);
                        carry = filled - e.valid_up_to();
                    }
                    Err(_) => carry = usize::MAX,
                }
            }
            // An invalid byte, or a character cut off by the end of the string.
            if carry == usize::MAX || (left == 0 && carry != 0) {
                return Err(GgufError::InvalidUtf8 {
                    file: self.file.clone(),
                    what: what(),
                });
            }
        }
        let valid = std::str::from_utf8(&head).map_or_else(|e| e.valid_up_to(), str::len);
        head.truncate(valid);
        let head = String::from_utf8(head).unwrap_or_default();
        Ok(Text {
            head,
            len: len - trailing_nuls,
        })
    }
}
