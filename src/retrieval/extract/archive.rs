//! One part of a zip archive (a DOCX), read within [`Limits`]: the sizes its
//! directory declares, its number of entries, and what the part really
//! inflates to.

use std::io::{Cursor, Read};

use super::{ExtractError, Limits};

/// The part `name`, refusing archives whose declared sizes or entry count
/// exceed the limits, and stopping a lying entry as soon as it passes the
/// limit while it inflates.
pub(super) fn read_part(
    bytes: &[u8],
    name: &str,
    limits: &Limits,
) -> Result<Vec<u8>, ExtractError> {
    let corrupt = |e: zip::result::ZipError| {
        ExtractError::Corrupt(format!("the DOCX archive could not be read ({e})"))
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(corrupt)?;
    if archive.len() > limits.max_zip_entries {
        return Err(ExtractError::TooLarge(format!(
            "the archive holds {} files; at most {} are accepted",
            archive.len(),
            limits.max_zip_entries
        )));
    }
    let mut declared = 0u64;
    for i in 0..archive.len() {
        declared = declared.saturating_add(archive.by_index_data(i).map_err(corrupt)?.size());
    }
    if declared > limits.max_unpacked_bytes {
        return Err(too_large(limits, Some(declared)));
    }
    let entry = archive.by_name(name).map_err(corrupt)?;
    let declared = entry.size();
    // Capacity from the header is a hint only: it may lie, and is bounded.
    let mut xml = Vec::with_capacity(declared.min(16 << 20) as usize);
    let read = entry
        .take(limits.max_unpacked_bytes.saturating_add(1))
        .read_to_end(&mut xml);
    if let Err(e) = read {
        // The zip reader stops an entry that inflates past its declared size;
        // an archive that lies about its size is treated as a bomb.
        if xml.len() as u64 >= declared {
            return Err(ExtractError::TooLarge(format!(
                "{name} unpacks to more than the {declared} bytes its header declares"
            )));
        }
        return Err(ExtractError::Corrupt(format!(
            "{name} could not be unpacked ({e})"
        )));
    }
    if xml.len() as u64 > limits.max_unpacked_bytes {
        return Err(too_large(limits, None));
    }
    Ok(xml)
}

fn too_large(limits: &Limits, declared: Option<u64>) -> ExtractError {
    let limit_mib = limits.max_unpacked_bytes >> 20;
    ExtractError::TooLarge(match declared {
        Some(bytes) => format!(
            "the archive unpacks to {} MiB; the limit is {limit_mib} MiB",
            bytes >> 20
        ),
        None => format!("the document unpacks to more than {limit_mib} MiB"),
    })
}
