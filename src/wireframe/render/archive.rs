//! The whole flow as one zip: the HTML page, one SVG per screen and the
//! tree as JSON, so it can be opened, imported into a design tool, or
//! loaded back.

use std::io::{Cursor, Write};

use ::zip::write::SimpleFileOptions;
use ::zip::{CompressionMethod, DateTime, ZipWriter};

use super::{html, svg, Anchors, RenderError};
use crate::wireframe::model::Wireframe;

pub(super) fn build(w: &Wireframe) -> Result<Vec<u8>, RenderError> {
    // A fixed timestamp (the zip epoch, 1980-01-01) keeps the bytes stable.
    let options = SimpleFileOptions::DEFAULT
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::DEFAULT)
        .unix_permissions(0o644);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("index.html", options)?;
    zip.write_all(html::document(w).as_bytes())?;
    // File names come from the anchor slugs: `[a-z0-9-]`, unique, and so
    // never a path out of the folder (`../`) or a clash.
    let anchors = Anchors::new(w);
    for i in 0..w.screens.len() {
        zip.start_file(format!("screens/{}.svg", anchors.slug(i)), options)?;
        zip.write_all(svg::screen(&anchors, i).as_bytes())?;
    }
    zip.start_file("wireframe.json", options)?;
    zip.write_all(&serde_json::to_vec_pretty(w)?)?;
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use super::super::fixture::{hostile, sample};
    use super::super::{html, zip};
    use crate::wireframe::model::Wireframe;

    fn entry(archive: &mut ::zip::ZipArchive<Cursor<Vec<u8>>>, name: &str) -> String {
        let mut s = String::new();
        archive
            .by_name(name)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        s
    }

    fn names(archive: &::zip::ZipArchive<Cursor<Vec<u8>>>) -> Vec<String> {
        archive
            .file_names()
            .map(|n| n.unwrap().into_owned())
            .collect()
    }

    #[test]
    fn the_zip_holds_the_page_every_screen_and_the_tree() {
        let w = sample();
        let mut archive = ::zip::ZipArchive::new(Cursor::new(zip(&w).unwrap())).unwrap();
        assert_eq!(names(&archive).len(), 4);
        assert_eq!(entry(&mut archive, "index.html"), html(&w));
        for s in &w.screens {
            let svg = entry(&mut archive, &format!("screens/{}.svg", s.id));
            assert!(svg.contains(&s.title));
        }
        let back: Wireframe = serde_json::from_str(&entry(&mut archive, "wireframe.json")).unwrap();
        assert_eq!(back, w);
    }

    #[test]
    fn hostile_screen_ids_become_safe_distinct_file_names_and_the_tree_round_trips() {
        let w = hostile();
        let mut archive = ::zip::ZipArchive::new(Cursor::new(zip(&w).unwrap())).unwrap();
        let names = names(&archive);
        let svgs: Vec<&String> = names.iter().filter(|n| n.starts_with("screens/")).collect();
        assert_eq!(svgs.len(), w.screens.len());
        for name in &svgs {
            let stem = name
                .strip_prefix("screens/")
                .unwrap()
                .strip_suffix(".svg")
                .unwrap();
            assert!(
                stem.bytes()
                    .all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'-')),
                "{name}"
            );
        }
        let back: Wireframe = serde_json::from_str(&entry(&mut archive, "wireframe.json")).unwrap();
        assert_eq!(back, w);
    }
}
