//! Descriptions from several domains, read into their parts. The last
//! group (`held_out_*`) was written apart from the parser's cues, as a check
//! that it reads prose it was not tuned on.

use super::*;

fn kinds(s: &Screen) -> Vec<(&str, &str)> {
    s.fields
        .iter()
        .map(|f| (f.label.as_str(), f.kind.as_str()))
        .collect()
}

fn columns(s: &Screen) -> Vec<(&str, Vec<&str>)> {
    s.tables
        .iter()
        .map(|t| {
            (
                t.label.as_str(),
                t.columns.iter().map(String::as_str).collect(),
            )
        })
        .collect()
}

#[test]
fn a_booking_screen_gets_its_fields_table_actions_and_link() {
    let s = parse("A booking screen where a member picks a room, a date and a time slot, sees a table of their upcoming bookings with room, date and status columns, and can cancel a booking or go back to the home page.");
    assert_eq!(s.title, "Booking");
    assert_eq!(
        kinds(&s),
        [
            ("Room", "select"),
            ("Date", "date"),
            ("Time Slot", "select")
        ]
    );
    assert_eq!(
        columns(&s),
        [("Upcoming Bookings", vec!["Room", "Date", "Status"])]
    );
    assert_eq!(s.actions, ["Cancel Booking"]);
    assert_eq!(s.links, ["Home"]);
}

#[test]
fn fields_for_a_list_and_buttons_to_verbs() {
    let s = parse("A leave request form with fields for employee name, start date, end date and leave type, and a comment box for the reason. Buttons to submit the request and save a draft. A link to the leave policy.");
    assert_eq!(s.title, "Leave Request Form");
    assert_eq!(
        kinds(&s),
        [
            ("Employee Name", "text"),
            ("Start Date", "date"),
            ("End Date", "date"),
            ("Leave Type", "text"),
            ("Reason", "textarea")
        ]
    );
    assert_eq!(s.actions, ["Submit Request", "Save Draft"]);
    assert_eq!(s.links, ["Leave Policy"]);
}

#[test]
fn a_table_showing_columns_and_modal_verbs_with_a_filter() {
    let s = parse("An invoice approval screen showing a table of pending invoices with supplier, invoice number, amount and due date columns. The approver can filter by supplier, approve or reject an invoice, and export the list.");
    assert_eq!(s.title, "Invoice Approval");
    assert_eq!(
        columns(&s),
        [(
            "Pending Invoices",
            vec!["Supplier", "Invoice Number", "Amount", "Due Date"]
        )]
    );
    assert_eq!(kinds(&s), [("Filter By Supplier", "select")]);
    assert_eq!(s.actions, ["Approve", "Reject Invoice", "Export List"]);
}

#[test]
fn enters_ticks_and_clicks_make_fields_a_checkbox_and_a_button() {
    let s = parse("A patient registration form where the receptionist enters the patient's full name, date of birth, phone number, email address and insurance provider, ticks a consent checkbox, and clicks register. There is a link back to the patient search.");
    assert_eq!(s.title, "Patient Registration Form");
    assert_eq!(
        kinds(&s),
        [
            ("Patient's Full Name", "text"),
            ("Date of Birth", "date"),
            ("Phone Number", "text"),
            ("Email Address", "email"),
            ("Insurance Provider", "text"),
            ("Consent", "checkbox")
        ]
    );
    assert_eq!(s.actions, ["Register"]);
    assert_eq!(s.links, ["Patient Search"]);
}

#[test]
fn a_search_a_list_showing_columns_and_links_to_two_places() {
    let s = parse("A shipment tracking page where a dispatcher searches by tracking number and sees a list of shipments showing carrier, origin, destination and estimated arrival. The dispatcher can mark a shipment as delivered. Links to the depot map and to reports.");
    assert_eq!(s.title, "Shipment Tracking");
    assert_eq!(kinds(&s), [("Search By Tracking Number", "search")]);
    assert_eq!(
        columns(&s),
        [(
            "Shipments",
            vec!["Carrier", "Origin", "Destination", "Estimated Arrival"]
        )]
    );
    assert_eq!(s.actions, ["Mark Shipment as Delivered"]);
    assert_eq!(s.links, ["Depot Map", "Reports"]);
}

#[test]
fn a_table_named_before_in_a_table_and_acronyms_keep_their_case() {
    let s = parse("A book loan screen for librarians: scan or enter the member ID and the book barcode, see the member's current loans in a table with title, due date and renewals, and buttons to issue the loan, renew a book or return a book.");
    assert_eq!(s.title, "Book Loan");
    assert_eq!(kinds(&s), [("Member ID", "text"), ("Book Barcode", "text")]);
    assert_eq!(
        columns(&s),
        [(
            "Member's Current Loans",
            vec!["Title", "Due Date", "Renewals"]
        )]
    );
    assert_eq!(s.actions, ["Issue Loan", "Renew Book", "Return Book"]);
}

#[test]
fn a_directory_with_a_search_box_a_filter_and_a_list() {
    let s = parse("An employee directory with a search box, a filter by department, and a list of employees showing name, job title, department and office phone. Selecting an employee opens their profile.");
    assert_eq!(s.title, "Employee Directory");
    assert_eq!(
        kinds(&s),
        [("Search", "search"), ("Filter By Department", "select")]
    );
    assert_eq!(
        columns(&s),
        [(
            "Employees",
            vec!["Name", "Job Title", "Department", "Office Phone"]
        )]
    );
    assert_eq!(s.links, ["Profile"]);
}

#[test]
fn chooses_and_enters_then_a_table_then_can_save_or_submit() {
    let s = parse("A budget planning screen where the finance manager chooses a fiscal year and a department, enters the planned headcount and the travel budget, sees a table of cost centres with owner, budget and spent so far, and can save the plan or submit it for review.");
    assert_eq!(s.title, "Budget Planning");
    assert_eq!(
        kinds(&s),
        [
            ("Fiscal Year", "select"),
            ("Department", "select"),
            ("Planned Headcount", "number"),
            ("Travel Budget", "number")
        ]
    );
    assert_eq!(
        columns(&s),
        [("Cost Centres", vec!["Owner", "Budget", "Spent so Far"])]
    );
    assert_eq!(s.actions, ["Save Plan", "Submit for Review"]);
}

#[test]
fn kind_nouns_at_the_end_name_fields_and_buttons() {
    let s = parse("A login screen with an email field, a password field and a sign-in button.");
    assert_eq!(s.title, "Login");
    assert_eq!(kinds(&s), [("Email", "email"), ("Password", "password")]);
    assert_eq!(s.actions, ["Sign-In"]);
    let s = parse("A contact screen with name, email and phone fields.");
    assert_eq!(
        kinds(&s),
        [("Name", "text"), ("Email", "email"), ("Phone", "text")],
        "the bare nouns before `fields` are fields too"
    );
}

#[test]
fn a_drop_down_a_columns_list_and_a_view_verb() {
    let s = parse("The claims page lets the user select a claim type from a drop-down and enter an amount. A table with columns claim number, status and amount. The user can view the history.");
    assert_eq!(s.title, "Claims");
    assert_eq!(kinds(&s), [("Claim Type", "select"), ("Amount", "number")]);
    assert_eq!(
        columns(&s),
        [("Results", vec!["Claim Number", "Status", "Amount"])]
    );
    assert_eq!(s.actions, ["View History"]);
}

#[test]
fn headings_before_colons_start_runs_of_their_kind() {
    let s = parse("Claim review page. Fields: claimant, claim amount, incident date. Columns: reference, status. Actions: approve, escalate to a manager.");
    assert_eq!(s.title, "Claim Review");
    assert_eq!(
        kinds(&s),
        [
            ("Claimant", "text"),
            ("Claim Amount", "number"),
            ("Incident Date", "date")
        ]
    );
    assert_eq!(columns(&s), [("List", vec!["Reference", "Status"])]);
    assert_eq!(s.actions, ["Approve", "Escalate to Manager"]);
}

#[test]
fn a_description_with_no_cue_has_a_title_and_no_parts() {
    let s = parse("A blogging platform.");
    assert!(s.is_empty());
    assert_eq!(s.title, "Blogging Platform");
}

#[test]
fn a_sentence_opening_a_new_screen_starts_the_next_one() {
    let s = parse_screens("A search page with a search box and a list of books showing title and author. A second screen shows the book details with buttons to reserve the book or go back.");
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].title, "Search");
    assert_eq!(columns(&s[0]), [("Books", vec!["Title", "Author"])]);
    assert_eq!(s[1].actions, ["Reserve Book", "Go Back"]);
}

#[test]
fn every_label_is_made_of_the_descriptions_words() {
    let descriptions = [
        "A booking screen where a member picks a room, a date and a time slot, sees a table of their upcoming bookings with room, date and status columns, and can cancel a booking or go back to the home page.",
        "An invoice approval screen showing a table of pending invoices with supplier, invoice number, amount and due date columns. The approver can filter by supplier, approve or reject an invoice, and export the list.",
        "An employee directory with a search box, a filter by department, and a list of employees showing name, job title, department and office phone.",
        "A blogging platform.",
    ];
    for d in descriptions {
        for s in parse_screens(d) {
            for l in s.labels() {
                assert_eq!(
                    words_from_nowhere(&l, d),
                    Vec::<String>::new(),
                    "{l} in {d}"
                );
            }
        }
    }
}

#[test]
fn words_from_nowhere_folds_plurals_and_admits_generic_words() {
    let d = "A table of bookings with room and date.";
    assert!(words_from_nowhere("Booking Rooms", d).is_empty());
    assert!(words_from_nowhere("Save, Cancel, Sign-in", d).is_empty());
    assert_eq!(
        words_from_nowhere("Expenses Claims Room", d),
        ["expense", "claim"]
    );
}

#[test]
fn the_vocabulary_starts_with_the_parsed_labels_and_is_bounded() {
    let d = "A leave request form with fields for employee name and start date. Buttons to submit the request.";
    let v = vocabulary(d, 200);
    assert_eq!(
        &v[..4],
        [
            "Leave Request Form",
            "Employee Name",
            "Start Date",
            "Submit Request"
        ]
    );
    assert!(v.iter().any(|l| l == "Cancel"));
    assert!(v.iter().any(|l| l == "Employee"));
    for l in &v {
        assert!(words_from_nowhere(l, d).is_empty(), "{l}");
    }
    assert_eq!(vocabulary(d, 3).len(), 3);
}

#[test]
fn held_out_appointments_from_healthcare() {
    let s = parse("An appointment scheduling page where the nurse selects a doctor and a clinic, picks an appointment date and time, and types notes. It shows a table of today's appointments with patient, time and room. Buttons to book the appointment or clear the form, and a link to the waiting list.");
    assert_eq!(s.title, "Appointment Scheduling");
    assert_eq!(
        kinds(&s),
        [
            ("Doctor", "select"),
            ("Clinic", "select"),
            ("Appointment Date", "date"),
            ("Time", "time"),
            ("Notes", "textarea")
        ]
    );
    assert_eq!(
        columns(&s),
        [("Today's Appointments", vec!["Patient", "Time", "Room"])]
    );
    assert_eq!(s.actions, ["Book Appointment", "Clear Form"]);
    assert_eq!(s.links, ["Waiting List"]);
}

#[test]
fn held_out_goods_receipt_from_a_warehouse() {
    let s = parse("A goods receipt screen with fields for purchase order number, supplier, delivery date and quantity received, a checkbox for damaged goods, and a list of received items with SKU, description and bin location. The clerk can confirm the receipt or print a label, and can go back to the inbound dashboard.");
    assert_eq!(s.title, "Goods Receipt");
    assert_eq!(
        kinds(&s),
        [
            ("Purchase Order Number", "text"),
            ("Supplier", "text"),
            ("Delivery Date", "date"),
            ("Quantity Received", "number"),
            ("Damaged Goods", "checkbox")
        ]
    );
    assert_eq!(
        columns(&s),
        [("Received Items", vec!["SKU", "Description", "Bin Location"])]
    );
    assert_eq!(s.actions, ["Confirm Receipt", "Print Label"]);
    assert_eq!(s.links, ["Inbound Dashboard"]);
}

#[test]
fn held_out_course_enrolment_from_a_university() {
    let s = parse("A course enrolment page where a student chooses a semester, selects a course from a drop-down and enters their student number. Below, a table of enrolled courses shows course code, credits and lecturer. The student can enrol, withdraw from a course, or view the timetable.");
    assert_eq!(s.title, "Course Enrolment");
    assert_eq!(
        kinds(&s),
        [
            ("Semester", "select"),
            ("Course", "select"),
            ("Student Number", "text")
        ]
    );
    assert_eq!(
        columns(&s),
        [(
            "Enrolled Courses",
            vec!["Course Code", "Credits", "Lecturer"]
        )]
    );
    assert_eq!(
        s.actions,
        ["Enrol", "Withdraw from Course", "View Timetable"]
    );
}

#[test]
fn third_person_verbs_become_buttons_in_the_base_form() {
    let s = parse(
        "A timesheet form where the consultant enters the hours and the project, \
         attaches the approval email, then submits the timesheet or cancels it.",
    );
    assert_eq!(s.actions, ["Submit Timesheet", "Cancel"], "{s:#?}");
    assert!(
        s.fields.iter().any(|f| f.label == "Approval Email"),
        "{s:#?}"
    );
    // A title that opens with a verb-like noun is no button.
    let s = parse("Returns overview: the clerk enters the order number.");
    assert!(s.actions.is_empty(), "{s:#?}");
}

#[test]
fn switches_are_checkboxes_and_asides_are_left_out() {
    let s = parse(
        "A privacy page where the member switches marketing emails and partner offers \
         on or off with toggles, sets the retention period, then saves the settings.",
    );
    let labels: Vec<(&str, FieldKind)> = s
        .fields
        .iter()
        .map(|f| (f.label.as_str(), f.kind))
        .collect();
    assert_eq!(
        labels[..2],
        [
            ("Marketing Emails", FieldKind::Checkbox),
            ("Partner Offers", FieldKind::Checkbox)
        ],
        "{s:#?}"
    );
    assert!(
        labels.iter().any(|(l, _)| *l == "Retention Period"),
        "{s:#?}"
    );
    assert_eq!(s.actions, ["Save Settings"]);
}

#[test]
fn listings_rows_tabs_and_what_a_person_sees_are_read() {
    let s = parse(
        "An orders dashboard listing late deliveries; the planner filters the list by depot \
         and carrier, and each row shows the delivery date.",
    );
    assert_eq!(s.tables[0].label, "Late Deliveries", "{s:#?}");
    assert_eq!(s.tables[0].columns, ["Delivery Date"], "{s:#?}");
    assert!(
        s.fields.iter().any(|f| f.label == "Filter By Depot"),
        "{s:#?}"
    );
    let s = parse(
        "A patient page where the nurse sees the patient's ward and bed at the top, \
         switches between tabs for medication and allergies, and can print the chart.",
    );
    let fields: Vec<&str> = s.fields.iter().map(|f| f.label.as_str()).collect();
    assert_eq!(fields, ["Patient's Ward", "Bed"], "{s:#?}");
    assert_eq!(s.links, ["Medication", "Allergies"], "{s:#?}");
    assert_eq!(s.actions, ["Print Chart"], "{s:#?}");
}
