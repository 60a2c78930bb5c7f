//! The prompts: the role, the requirements to satisfy, and the purpose the
//! description's own words ask for. There is no worked example: a small
//! model copied its screen ("Expenses", "Claims") into every wireframe.

use super::schema::find_words;
use super::Purpose;

/// Words that say what the first screen described is for.
pub(super) const CUES: [(&str, Purpose); 16] = [
    ("login", Purpose::Form),
    ("log in", Purpose::Form),
    ("sign in", Purpose::Form),
    ("sign-in", Purpose::Form),
    ("sign up", Purpose::Form),
    ("sign-up", Purpose::Form),
    ("register", Purpose::Form),
    ("registration", Purpose::Form),
    ("form", Purpose::Form),
    ("field", Purpose::Form),
    ("dashboard", Purpose::Dashboard),
    ("table", Purpose::Table),
    ("search results", Purpose::Search),
    ("list of", Purpose::List),
    ("confirmation", Purpose::Message),
    ("profile", Purpose::Detail),
];

/// The purpose of the first screen, from the earliest cue in the
/// description's own words (whole words; plurals count); `None` leaves the
/// model free.
pub fn first_purpose(description: &str) -> Option<Purpose> {
    let text = description.to_lowercase();
    CUES.iter()
        .filter_map(|(cue, purpose)| Some((*find_words(&text, cue).first()?, *purpose)))
        .min_by_key(|(i, _)| *i)
        .map(|(_, p)| p)
}

pub(super) const ROLE: &str =
    "You are BA Copilot, a business analyst sketching low-fidelity wireframes. \
You describe screens as JSON; you never write HTML.";

/// System and user prompts for a new wireframe.
pub fn tree_messages(description: &str, requirements: &[(String, String)]) -> (String, String) {
    let mut system = format!(
        "{ROLE} Each screen has a purpose, a header, an optional sidebar menu, the main content and an optional footer. \
         Purposes: form (sign-in, sign-up, data entry: main starts with a form of fields and buttons), \
         table (records: starts with a table), list (starts with a list), dashboard (starts with a chart), \
         detail (one record: starts with a card), search (starts with a search box), \
         message (a confirmation or error: starts with an alert). \
         Field types: input (text, email, password, number or date), select, checkbox, radio, textarea. \
         link_to names the screen a button leads to. Use the description's own words for every label."
    );
    if !requirements.is_empty() {
        system
            .push_str("\n\nRequirements the screens must satisfy (tag components with their ids):");
        for (id, statement) in requirements {
            system.push_str(&format!("\n{id}: {statement}"));
        }
    }
    let user = format!("Sketch the screens for: {}", description.trim());
    (system, user)
}
