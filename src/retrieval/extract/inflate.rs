//! PDF streams inflated up front, each within [`Limits::max_pdf_stream_bytes`]
//! and all together within a multiple of it. lopdf and pdf-extract inflate a
//! stream whenever they read it, with no bound: a few hundred KiB can inflate
//! to gigabytes. Once a stream is stored plain here, neither inflates it again.

use std::io::Read;

use flate2::read::ZlibDecoder;
use lopdf::{Document, Object, ObjectId};

use super::{ExtractError, Limits};

/// How many times the one-stream limit the whole document may inflate to,
/// and its pages' drawing instructions may add up to. A 2,000-page report
/// with 100 KiB of instructions a page stays well inside 16 × 16 MiB.
const DOCUMENT_FACTOR: u64 = 16;

/// Inflates every stream whose only filter is FlateDecode (nearly all of
/// them), measures the first stage of other Flate chains, and empties image
/// streams: no text is in them, and pdf-extract would parse their pixels as
/// drawing instructions.
pub(super) fn inflate_streams(doc: &mut Document, limits: &Limits) -> Result<(), ExtractError> {
    let cap = limits.max_pdf_stream_bytes;
    let mut total = 0u64;
    for object in doc.objects.values_mut() {
        let Object::Stream(stream) = object else {
            continue;
        };
        let is_image = stream
            .dict
            .get(b"Subtype")
            .and_then(Object::as_name)
            .is_ok_and(|s| s == b"Image");
        if is_image {
            stream.set_plain_content(Vec::new());
            continue;
        }
        let Ok(filters) = stream.filters() else {
            continue;
        };
        if filters.first().is_none_or(|f| *f != b"FlateDecode") {
            continue;
        }
        let only_flate = filters.len() == 1 && stream.dict.get(b"DecodeParms").is_err();
        let plain = inflate(&stream.content, cap).ok_or_else(|| stream_too_large(limits))?;
        total += plain.len() as u64;
        if total > cap * DOCUMENT_FACTOR {
            return Err(ExtractError::TooLarge(format!(
                "its streams inflate to more than {} MiB",
                (cap * DOCUMENT_FACTOR) >> 20
            )));
        }
        if only_flate {
            stream.set_plain_content(plain);
        }
    }
    Ok(())
}

/// Refuses pages whose drawing instructions are larger than the limit, alone
/// or all together: `/Contents` may name one stream many times.
pub(super) fn check_page_contents(
    doc: &Document,
    pages: &[(u32, ObjectId)],
    limits: &Limits,
) -> Result<(), ExtractError> {
    let cap = limits.max_pdf_stream_bytes;
    let mut total = 0u64;
    for &(n, id) in pages {
        let page: u64 = doc
            .get_page_contents(id)
            .iter()
            .filter_map(|c| doc.get_object(*c).and_then(Object::as_stream).ok())
            .map(|s| s.content.len() as u64)
            .sum();
        if page > cap {
            return Err(ExtractError::TooLarge(format!(
                "page {n} has more than {} MiB of drawing instructions",
                cap >> 20
            )));
        }
        total += page;
        if total > cap * DOCUMENT_FACTOR {
            return Err(ExtractError::TooLarge(format!(
                "its pages have more than {} MiB of drawing instructions",
                (cap * DOCUMENT_FACTOR) >> 20
            )));
        }
    }
    Ok(())
}

/// `data` inflated, or `None` past `cap` bytes. A damaged stream keeps what
/// inflated before the damage, as lopdf does.
fn inflate(data: &[u8], cap: u64) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let _ = ZlibDecoder::new(data)
        .take(cap.saturating_add(1))
        .read_to_end(&mut out);
    (out.len() as u64 <= cap).then_some(out)
}

fn stream_too_large(limits: &Limits) -> ExtractError {
    ExtractError::TooLarge(format!(
        "a stream in it inflates to more than {} MiB",
        limits.max_pdf_stream_bytes >> 20
    ))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::ZlibEncoder;
    use flate2::Compression;

    use super::*;

    fn deflated(data: &[u8]) -> Vec<u8> {
        let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inflation_stops_one_byte_past_the_cap() {
        let packed = deflated(&[b' '; 10_000]);
        assert_eq!(inflate(&packed, 10_000).map(|v| v.len()), Some(10_000));
        assert_eq!(inflate(&packed, 9_999), None);
    }

    #[test]
    fn a_damaged_stream_keeps_what_inflated_before_the_damage() {
        let mut packed = deflated(&b"BT (kept) Tj ET ".repeat(1000));
        packed.truncate(packed.len() / 2);
        let plain = inflate(&packed, 1 << 20).unwrap();
        assert!(plain.starts_with(b"BT (kept) Tj ET"), "{}", plain.len());
    }
}
