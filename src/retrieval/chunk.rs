//! Cutting extracted sections into chunks by token count, with overlap, so
//! every chunk fits the embedding model whole (all-MiniLM-L6-v2 reads 256
//! word pieces; the default 200 leaves room for [CLS], [SEP] and the heading
//! line that is embedded with each chunk).

use super::extract::Section;

/// One chunk of a document, before it is embedded and stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub text: String,
    pub page: Option<u32>,
    pub heading: Option<String>,
    pub tokens: usize,
}

/// Windows of at most `size` tokens over `spans` (byte ranges of the tokens of
/// one text), each starting `overlap` tokens before the previous one ended.
/// A window ends after the last sentence end in its final quarter when there
/// is one, so chunks rarely stop mid-sentence. Returns token index ranges.
pub fn windows(
    text: &str,
    spans: &[(usize, usize)],
    size: usize,
    overlap: usize,
) -> Vec<(usize, usize)> {
    let size = size.max(8);
    let overlap = overlap.min(size / 2);
    let mut out = Vec::new();
    let mut start = 0;
    while start < spans.len() {
        let mut end = (start + size).min(spans.len());
        if end < spans.len() {
            let floor = start + size * 3 / 4;
            if let Some(cut) = (floor..end).rev().find(|&i| ends_sentence(text, spans[i])) {
                end = cut + 1;
            }
        }
        out.push((start, end));
        if end == spans.len() {
            break;
        }
        start = end.saturating_sub(overlap).max(start + 1);
    }
    out
}

fn ends_sentence(text: &str, (s, e): (usize, usize)) -> bool {
    let token = text.get(s..e).unwrap_or_default();
    let next = text.get(e..).and_then(|t| t.chars().next());
    matches!(token, "." | "!" | "?" | ";" | ":") && next.is_none_or(char::is_whitespace)
}

/// Chunks of `section`, given its token spans.
pub fn pieces(
    section: &Section,
    spans: &[(usize, usize)],
    size: usize,
    overlap: usize,
) -> Vec<Piece> {
    windows(&section.text, spans, size, overlap)
        .into_iter()
        .filter_map(|(a, b)| {
            let text = section.text.get(spans[a].0..spans[b - 1].1)?.trim();
            (!text.is_empty()).then(|| Piece {
                text: text.to_string(),
                page: section.page,
                heading: section.heading.clone(),
                tokens: b - a,
            })
        })
        .collect()
}

/// The text the embedding model sees: the heading path first, since it says
/// what the passage is about when the passage itself does not.
pub fn embedding_text(piece: &Piece) -> String {
    match &piece.heading {
        Some(h) if !h.is_empty() => format!("{h}\n{}", piece.text),
        _ => piece.text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whitespace-separated words as tokens, with "." split off as its own token.
    fn spans(text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut pos = 0;
        for word in text.split(' ') {
            if let Some(stem) = word.strip_suffix('.') {
                out.push((pos, pos + stem.len()));
                out.push((pos + stem.len(), pos + word.len()));
            } else {
                out.push((pos, pos + word.len()));
            }
            pos += word.len() + 1;
        }
        out
    }

    #[test]
    fn windows_cover_every_token_with_the_requested_overlap() {
        let text = (0..100)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let s = spans(&text);
        let w = windows(&text, &s, 30, 5);
        assert_eq!(w[0], (0, 30));
        assert_eq!(w[1], (25, 55));
        assert_eq!(w.last().unwrap().1, 100);
        assert!(
            w.windows(2).all(|p| p[1].0 < p[0].1),
            "consecutive windows overlap"
        );
    }

    #[test]
    fn a_window_ends_at_a_sentence_end_in_its_last_quarter() {
        let text = format!(
            "{} end. {}",
            vec!["a"; 26].join(" "),
            vec!["b"; 40].join(" ")
        );
        let s = spans(&text);
        let w = windows(&text, &s, 30, 4);
        // Tokens 0..26 are "a", 26 is "end", 27 is "." — the window stops after it.
        assert_eq!(w[0], (0, 28));
        assert_eq!(w[1].0, 24);
    }

    #[test]
    fn a_short_section_is_one_piece_with_its_position() {
        let section = Section {
            text: "The approver signs off invoices over 500 euros.".into(),
            page: Some(3),
            heading: None,
        };
        let p = pieces(&section, &spans(&section.text), 200, 40);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].text, section.text);
        assert_eq!(p[0].page, Some(3));
    }

    #[test]
    fn embedding_text_leads_with_the_heading() {
        let piece = Piece {
            text: "Body".into(),
            page: None,
            heading: Some("Approvals > Limits".into()),
            tokens: 1,
        };
        assert_eq!(embedding_text(&piece), "Approvals > Limits\nBody");
    }
}
