use super::*;

const POLICY: &str = "# Laptop loans\n\n\
## Borrowing\n\n\
Each member may borrow at most 2 laptops at a time. Loans last 14 days. \
Only library staff may extend a loan, and only once.\n\n\
## Returns\n\n\
- Laptops must be returned to the front desk by 18:00 on the due date.\n\
- Members cannot borrow while they have an overdue loan.\n\
- If a laptop is returned late, the member pays a fee of 2 euros per day.\n\n\
## Records\n\n\
Loan records are kept for three years. The system must export the monthly loan report to the \
city finance system as CSV. The catalogue page should respond within 2 seconds. \
The library opened in 1998 and is well loved by the town.\n";

fn find<'a>(list: &'a [Candidate], start: &str) -> &'a Candidate {
    list.iter()
        .find(|c| c.sentence.starts_with(start))
        .unwrap_or_else(|| panic!("no candidate for {start:?} in {list:#?}"))
}

#[test]
fn rule_sentences_are_found_and_narrative_and_headings_are_not() {
    let list = candidates(POLICY);
    let found: Vec<&str> = list.iter().map(|c| c.sentence.as_str()).collect();
    assert_eq!(list.len(), 9, "{found:#?}");
    assert!(!found.iter().any(|s| s.contains("1998")), "{found:#?}");
    assert!(!found
        .iter()
        .any(|s| s.starts_with('#') || s.starts_with('-')));
    // Quotes are verbatim pieces of the text, list markers left out.
    for c in &list {
        assert_eq!(&POLICY[c.range.clone()], c.sentence);
    }
    assert_eq!(
        find(&list, "Laptops must").heading.as_deref(),
        Some("Returns")
    );
    let none = candidates(
        "Date: 12 March 2024. Attendees: Ana, Ben and Chloe. We discussed the new website.",
    );
    assert!(none.is_empty(), "{none:#?}");
}

#[test]
fn each_rule_is_read_into_its_parts() {
    let list = candidates(POLICY);
    let borrow = find(&list, "Each member");
    assert_eq!(borrow.kind, Kind::Permission);
    assert_eq!(borrow.actor, "Each member");
    assert_eq!(borrow.limits, ["at most 2 laptops at a time"]);
    assert_eq!(borrow.numbers, ["2"]);
    let extend = find(&list, "Only library staff");
    assert_eq!(
        (extend.kind, extend.actor.as_str()),
        (Kind::Restriction, "library staff")
    );
    let overdue = find(&list, "Members cannot");
    assert_eq!(overdue.kind, Kind::Prohibition);
    assert_eq!(
        overdue.condition,
        Some(("while".into(), "they have an overdue loan".into()))
    );
    assert_eq!(find(&list, "Laptops must").limits, ["by 18:00"]);
    assert_eq!(find(&list, "Loan records").limits, ["for three years"]);
    assert_eq!(find(&list, "The catalogue").priority, Priority::Should);
}

#[test]
fn rules_land_in_the_outline_area_their_words_name() {
    let list = candidates(POLICY);
    let area = |s| find(&list, s).area;
    assert_eq!(area("Each member"), Area::Functional);
    assert_eq!(area("Only library staff"), Area::Security);
    assert_eq!(area("Loan records"), Area::Data);
    assert_eq!(area("The system must export"), Area::Interface);
    assert_eq!(area("The catalogue page"), Area::Performance);
    assert_eq!(
        classify(
            "Staff sign in with a password of at least 12 characters.",
            Kind::Obligation
        ),
        Area::Security
    );
    assert_eq!(
        classify(
            "The service must be available 99.5% of the time.",
            Kind::System
        ),
        Area::Reliability
    );
}

#[test]
fn statements_keep_every_number_name_and_key_term_of_their_source() {
    let expected = [
        ("Each member", "The system shall allow each member to borrow at most 2 laptops at a time."),
        ("Loans last", "The system shall ensure that loans last 14 days."),
        ("Only library", "The system shall allow only library staff to extend a loan, and only once."),
        ("Laptops must", "The system shall ensure that laptops are returned to the front desk by 18:00 on the due date."),
        ("Members cannot", "While they have an overdue loan, the system shall not allow members to borrow."),
        ("If a laptop", "If a laptop is returned late, then the system shall ensure that the member pays a fee of 2 euros per day."),
        ("The system must", "The system shall export the monthly loan report to the city finance system as CSV."),
        ("The catalogue", "The system shall ensure that the catalogue page responds within 2 seconds."),
    ];
    let list = candidates(POLICY);
    for (start, want) in expected {
        assert_eq!(statement(find(&list, start)), want);
    }
    for c in &list {
        let s = statement(c);
        assert!(
            s.starts_with("The system shall ")
                || s.contains(", the system shall ")
                || s.contains(", then the system shall "),
            "{s}"
        );
        assert!(s.ends_with('.'), "{s}");
        assert_eq!(check_rephrasing(&c.sentence, &s), Ok(()), "{s}");
    }
}

#[test]
fn criteria_are_built_from_the_parts_and_never_repeat_each_other() {
    let list = candidates(POLICY);
    let (g, w, t) = criterion(find(&list, "Each member"));
    assert_eq!(g, "each member");
    assert!(w.contains("borrow at most 2 laptops"), "{w}");
    assert!(t.contains("at most 2 laptops"), "{t}");
    let (g, _, _) = criterion(find(&list, "If a laptop"));
    assert_eq!(g, "a laptop is returned late");
    for c in &list {
        let (g, w, t) = criterion(c);
        let title = title(c);
        assert!(g != w && w != t && g != t, "{g} | {w} | {t}");
        assert!(!g.is_empty() && !w.is_empty() && !t.is_empty());
        assert_ne!(title, statement(c));
        assert!(
            title.chars().count() <= 80 && !title.starts_with("The system shall"),
            "{title}"
        );
    }
}

#[test]
fn a_rephrasing_that_loses_or_invents_a_fact_is_rejected() {
    let source = "Each member may borrow at most 2 laptops at a time.";
    assert_eq!(
        check_rephrasing(
            source,
            "The system shall let each member borrow no more than 2 laptops at a time."
        ),
        Ok(())
    );
    for (bad, why) in [
        (
            "The system shall let each member borrow laptops at a time.",
            "number 2",
        ),
        (
            "The system shall let each member borrow at most 2 laptops for 10 days.",
            "number 10",
        ),
        (
            "The system shall let each IOLW member borrow at most 2 laptops at a time.",
            "name IOLW",
        ),
        (
            "The system shall let each member borrow at most 2 devices at a time.",
            "term \"laptops\"",
        ),
        (
            "The system shall be functional and user-friendly.",
            "number 2",
        ),
    ] {
        let err = check_rephrasing(source, bad).unwrap_err();
        assert!(err.contains(why), "{bad}: {err}");
    }
    assert!(check_rephrasing(
        source,
        "The S. The S. The S. The S. The S. 2 laptops member borrow time"
    )
    .is_err());
}

#[test]
fn a_rule_is_captured_only_with_all_its_terms_and_numbers() {
    let terms = vec!["borrow".to_string(), "laptops".to_string()];
    let numbers = vec!["2".to_string()];
    assert!(captures(
        "The system shall allow each member to borrow at most two laptops.",
        &terms,
        &numbers
    ));
    assert!(!captures(
        "The system shall allow each member to borrow laptops.",
        &terms,
        &numbers
    ));
    assert!(!captures(
        "The system shall allow 2 loans.",
        &terms,
        &numbers
    ));
}

#[test]
fn list_items_that_lost_their_markers_are_rules_of_their_own() {
    let text = "Decisions:\n\nMembers can book up to 7 days ahead\nOnly trainers can cancel a class\nThe policy was\nwritten by the board.";
    let found: Vec<String> = candidates(text).into_iter().map(|c| c.sentence).collect();
    assert_eq!(
        found,
        [
            "Members can book up to 7 days ahead",
            "Only trainers can cancel a class"
        ]
    );
}

#[test]
fn a_line_wrapped_inside_a_rule_stays_one_rule() {
    // PDF text wraps at a fixed width: "up to" ends one line, "30 days" starts the next.
    let text = "A booking can be made up to\n30 days in advance.\nOnly reception staff may book the boardroom.";
    let found = candidates(text);
    let advance = find(&found, "A booking can be made up to");
    assert!(
        advance.sentence.contains("30 days in advance"),
        "{:?}",
        advance.sentence
    );
    assert!(
        !found.iter().any(|c| c.sentence.starts_with("30 days")),
        "{found:?}"
    );
}

#[test]
fn a_rephrasing_that_adds_a_sentence_is_refused() {
    let source = "Only reception staff may book the boardroom.";
    assert!(check_rephrasing(
        source,
        "The system shall allow only reception staff to book the boardroom."
    )
    .is_ok());
    let added = "The system shall allow only reception staff to book the boardroom. \
                 The document must include a section that allows only reception staff to do this.";
    assert_eq!(
        check_rephrasing(source, added).unwrap_err(),
        "it is more than one sentence"
    );
}

#[test]
fn an_actor_doing_something_in_the_present_states_a_rule_and_minutes_do_not() {
    let text = "A buyer registers a new supplier with its VAT number. \
        Rooms with video equipment show a camera icon. \
        A safety defect reported by a driver takes the vehicle off the road. \
        These rules apply to all branches of the library. \
        The team did not agree whether exchanges are handled by the portal. \
        Lars reported that the portal shows the labels.";
    let found: Vec<String> = candidates(text).into_iter().map(|c| c.sentence).collect();
    assert_eq!(
        found,
        [
            "A buyer registers a new supplier with its VAT number.",
            "Rooms with video equipment show a camera icon.",
            "A safety defect reported by a driver takes the vehicle off the road."
        ]
    );
}

#[test]
fn a_label_before_a_colon_is_left_out_of_the_rule() {
    let text = "Expense tool for 200 staff: employees submit claims with receipts from the web or a phone.";
    let list = candidates(text);
    assert_eq!(list.len(), 1, "{list:#?}");
    assert_eq!(
        list[0].sentence,
        "employees submit claims with receipts from the web or a phone."
    );
    assert_eq!(&text[list[0].range.clone()], list[0].sentence);
}

#[test]
fn a_common_word_starting_the_sentence_is_lower_cased_and_a_name_is_kept() {
    let text = "Payment terms are 60 days. Tom Becker approves refunds above 500 euros. \
        Refunds are paid by ServiceDesk. ServiceDesk logs every request within 1 hour.";
    let statements: Vec<String> = candidates(text).iter().map(statement).collect();
    assert!(
        statements.contains(&"The system shall ensure that payment terms are 60 days.".to_string()),
        "{statements:#?}"
    );
    assert!(
        statements
            .iter()
            .any(|s| s.contains("that Tom Becker approves")),
        "{statements:#?}"
    );
    assert!(
        statements
            .iter()
            .any(|s| s.contains("that ServiceDesk logs")),
        "{statements:#?}"
    );
}

#[test]
fn a_comparison_ends_the_subject_and_a_verb_ends_a_limit() {
    let text = "Groups larger than 10 people must be announced to security 48 hours in advance. \
        Contractors working for more than 5 days receive a temporary access card. \
        Every visitor signs in at reception with a photo ID.";
    let list = candidates(text);
    let statements: Vec<String> = list.iter().map(statement).collect();
    assert!(
        statements[0].contains("groups larger than 10 people are announced"),
        "{statements:#?}"
    );
    assert_eq!(list[1].limits, ["for more than 5 days"], "{list:#?}");
    assert_eq!(list.len(), 3, "{statements:#?}");
}
