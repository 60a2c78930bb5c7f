use super::*;

fn found(text: &str) -> Vec<(Kind, &str)> {
    find(text)
        .into_iter()
        .map(|s| (s.kind, &text[s.start..s.end]))
        .collect()
}

#[test]
fn each_kind_is_found_with_its_exact_extent() {
    let cases = [
        (
            "Mail jane.doe+ba@example.co.uk.",
            Kind::Email,
            "jane.doe+ba@example.co.uk",
        ),
        (
            "Call +44 20 7946 0958 today",
            Kind::Phone,
            "+44 20 7946 0958",
        ),
        ("tel:+1 (555) 010-9999.", Kind::Phone, "+1 (555) 010-9999"),
        ("Office: 020 7946 0958", Kind::Phone, "020 7946 0958"),
        ("US desk (555) 010-9999 or", Kind::Phone, "(555) 010-9999"),
        ("fax 555-010-9999", Kind::Phone, "555-010-9999"),
        (
            "Pay GB82 WEST 1234 5698 7654 32 NOW",
            Kind::Iban,
            "GB82 WEST 1234 5698 7654 32",
        ),
        (
            "IBAN DE89370400440532013000.",
            Kind::Iban,
            "DE89370400440532013000",
        ),
        (
            "Card 4111 1111 1111 1111 expires",
            Kind::Card,
            "4111 1111 1111 1111",
        ),
        (
            "card 5500-0000-0000-0004",
            Kind::Card,
            "5500-0000-0000-0004",
        ),
        ("card 4111111111111111", Kind::Card, "4111111111111111"),
        ("host 192.168.1.20:8080", Kind::Ip, "192.168.1.20"),
        (
            "v6 2001:0db8:85a3:0000:0000:8a2e:0370:7334 up",
            Kind::Ip,
            "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        ),
        (
            "at [fe80::1ff:fe23:4567:890a]",
            Kind::Ip,
            "fe80::1ff:fe23:4567:890a",
        ),
        ("loopback ::1.", Kind::Ip, "::1"),
    ];
    for (text, kind, value) in cases {
        assert_eq!(found(text), [(kind, value)], "{text}");
    }
}

#[test]
fn requirement_numbers_dates_versions_amounts_and_counts_are_left_alone() {
    for text in [
        "FR-012, NFR-0123456789 and TKT-555-010-9999",
        "due 2026-12-06, at 2026-12-06T10:30:00Z",
        "ref 2026-12-06-0001",
        "version 1.2.3, build 1.2.3.4.5",
        "costs 12,500.00 or 1 250 000.00 or 12.500.000.000",
        "within 14 days, at 12:30 or 12:30:45",
        "counted 123456789 items; scores 10 20 30 40 50 60",
        "REQ-2024-001-0042 and invoice 2024-000123",
        "created 1733443200000",
        "use std::collections::HashMap and a::b",
        "MAC 00:1A:2B:3C:4D:5E",
    ] {
        assert!(find(text).is_empty(), "{text}: {:?}", found(text));
    }
}

#[test]
fn numbers_failing_their_checksum_are_not_ibans_or_cards() {
    for text in [
        "GB82 WEST 1234 5698 7654 33",
        "DE89370400440532013001",
        "4111 1111 1111 1112",
        "5500-0000-0000-0005",
    ] {
        assert!(find(text).is_empty(), "{text}: {:?}", found(text));
    }
}

#[test]
fn a_value_keeps_its_placeholder_across_the_texts_of_a_request() {
    let mut r = Redaction::new();
    let first = r.redact("Ask jane@example.com or bob@example.com.", &[]);
    let second = r.redact("Did jane@example.com reply? Call +44 20 7946 0958.", &[]);
    assert_eq!(first, "Ask [EMAIL_1] or [EMAIL_2].");
    assert_eq!(second, "Did [EMAIL_1] reply? Call [PHONE_1].");
    assert_eq!(r.count(), 4);
}

#[test]
fn caller_spans_join_the_found_ones_and_the_earlier_then_longer_wins() {
    let text = "Project Falcon lead: jane@example.com";
    let custom = |start, end| Span {
        start,
        end,
        kind: Kind::Custom,
    };
    let mut r = Redaction::new();
    let redacted = r.redact(text, &[custom(8, 14), custom(0, 14), custom(21, 25)]);
    assert_eq!(redacted, "[REDACTED_1] lead: [EMAIL_1]");
    assert_eq!(r.count(), 2);
}

#[test]
fn restore_gives_back_the_original_text() {
    let text = "Jane (jane@example.com, +44 20 7946 0958) pays from \
                GB82 WEST 1234 5698 7654 32 with 4111 1111 1111 1111 at 10.0.0.7.";
    let mut r = Redaction::new();
    let redacted = r.redact(text, &[]);
    assert_eq!(
        redacted,
        "Jane ([EMAIL_1], [PHONE_1]) pays from [IBAN_1] with [CARD_1] at [IP_1]."
    );
    assert_eq!(r.restore(&redacted), text);
}

#[test]
fn a_placeholder_split_anywhere_across_three_deltas_is_restored() {
    let mut r = Redaction::new();
    r.redact("jane@example.com from 192.168.1.20", &[]);
    let answer = "Write to [EMAIL_1] [soon] from [IP_1]; [EMAIL_9] is unknown [";
    let expected = "Write to jane@example.com [soon] from 192.168.1.20; [EMAIL_9] is unknown [";
    assert_eq!(r.restore(answer), expected);
    for i in 0..=answer.len() {
        for j in i..=answer.len() {
            let mut s = r.restorer();
            let mut out = s.push(&answer[..i]);
            out += &s.push(&answer[i..j]);
            out += &s.push(&answer[j..]);
            out += &s.finish();
            assert_eq!(out, expected, "split at {i} and {j}");
        }
    }
}

#[test]
fn text_that_cannot_become_a_placeholder_is_not_held_back() {
    let mut r = Redaction::new();
    r.redact("jane@example.com", &[]);
    let mut s = r.restorer();
    assert_eq!(s.push("See [EM"), "See ");
    assert_eq!(s.push("AIL_1] and [a"), "jane@example.com and [a");
    assert_eq!(s.push(" [EMAIL_2"), " [EMAIL_2");
    assert_eq!(s.push(" [EMAIL_"), " ");
    assert_eq!(s.finish(), "[EMAIL_");
}

#[test]
fn an_unknown_placeholder_is_left_as_it_is() {
    let mut r = Redaction::new();
    r.redact("jane@example.com", &[]);
    assert_eq!(
        r.restore("[EMAIL_9], [PHONE_1] and [EMAIL_1]"),
        "[EMAIL_9], [PHONE_1] and jane@example.com"
    );
}

#[test]
fn offsets_in_utf8_text_fall_on_char_boundaries() {
    let text = "Zoë — zoë@example.com, Zoë's";
    let spans = find(text);
    assert_eq!(spans.len(), 1);
    let s = spans[0];
    assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
    assert_eq!(&text[s.start..s.end], "zoë@example.com");
    let mut r = Redaction::new();
    let redacted = r.redact(text, &[]);
    assert_eq!(redacted, "Zoë — [EMAIL_1], Zoë's");
    assert_eq!(r.restore(&redacted), text);
}
