//! What the model reads and writes for wireframes. It does not write the
//! component tree itself: it fills a screen form — a purpose, a header, an
//! optional sidebar menu, the main content, a footer — whose blocks each
//! have a schema of their own (a form has fields and buttons, a table
//! columns and rows). The purpose picks the block the main content starts
//! with, so "a login screen" becomes a form with fields and a button rather
//! than whatever a small model drifts into. [`into_screens`] turns the
//! filled form into the component tree with per-type props.
//!
//! `schema` builds the JSON schema the model decodes under, `text` the
//! prompts, `convert` the tree from what the model wrote.
//!
//! A description that names its screen's parts does not go this way:
//! `described` places those parts itself and asks the model only for what
//! the words leave open. The screen form is the way for a description that
//! names none ("a blogging platform"), its texts limited to the
//! description's words and the generic UI words.

use serde::Deserialize;

use super::model::{Kind, Layout};

mod convert;
mod described;
mod schema;
#[cfg(test)]
mod tests;
mod text;

pub use convert::{component, into_screens};
pub use described::{described_screens, gaps_messages, gaps_schema, has_gaps, Gap, Gaps};
pub use schema::{addable, any_of, find_words, label, line, tree_schema, FIELDS, INPUT_TYPES};
pub use text::{first_purpose, tree_messages};

#[derive(Debug, Deserialize)]
pub struct GenApp {
    pub screens: Vec<GenScreen>,
}

/// What a screen is for; each purpose starts the main content with its
/// [`Purpose::lead`] block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Form,
    Table,
    List,
    Dashboard,
    Detail,
    Search,
    Message,
}

impl Purpose {
    pub const ALL: [Purpose; 7] = [
        Purpose::Form,
        Purpose::Table,
        Purpose::List,
        Purpose::Dashboard,
        Purpose::Detail,
        Purpose::Search,
        Purpose::Message,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Form => "form",
            Purpose::Table => "table",
            Purpose::List => "list",
            Purpose::Dashboard => "dashboard",
            Purpose::Detail => "detail",
            Purpose::Search => "search",
            Purpose::Message => "message",
        }
    }

    /// The block the main content starts with.
    pub fn lead(self) -> Kind {
        match self {
            Purpose::Form => Kind::Form,
            Purpose::Table => Kind::Table,
            Purpose::List => Kind::List,
            Purpose::Dashboard => Kind::Chart,
            Purpose::Detail => Kind::Card,
            Purpose::Search => Kind::Search,
            Purpose::Message => Kind::Alert,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct GenHeader {
    pub title: String,
    pub navigation: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GenScreen {
    pub id: String,
    pub title: String,
    pub purpose: Purpose,
    pub layout: Layout,
    pub header: Option<GenHeader>,
    /// The sidebar's menu items.
    pub sidebar: Option<Vec<String>>,
    pub main: Vec<GenNode>,
    pub footer: Option<String>,
}

/// One block as the model writes it; which fields it has depends on its
/// type ([`block`]).
#[derive(Debug, Clone, Deserialize)]
pub struct GenNode {
    #[serde(rename = "type")]
    pub kind: Kind,
    pub label: String,
    pub input_type: Option<String>,
    pub items: Option<Vec<String>>,
    pub options: Option<Vec<String>>,
    pub columns: Option<Vec<String>>,
    pub rows: Option<Vec<Vec<String>>>,
    pub fields: Option<Vec<GenNode>>,
    pub buttons: Option<Vec<GenNode>>,
    pub children: Option<Vec<GenNode>>,
    pub link_to: Option<String>,
    pub requirement_ids: Option<Vec<String>>,
}
