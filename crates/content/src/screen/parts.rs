//! What a screen holds: fields, tables and lists, actions and links.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Date,
    Time,
    Number,
    Email,
    Password,
    Select,
    Checkbox,
    Textarea,
    /// A search box.
    Search,
}

impl FieldKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Date => "date",
            FieldKind::Time => "time",
            FieldKind::Number => "number",
            FieldKind::Email => "email",
            FieldKind::Password => "password",
            FieldKind::Select => "select",
            FieldKind::Checkbox => "checkbox",
            FieldKind::Textarea => "textarea",
            FieldKind::Search => "search",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: String,
    pub kind: FieldKind,
}

/// A table, or a list when the description says "list" and names no columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub label: String,
    pub columns: Vec<String>,
    pub list: bool,
}

/// What a description says one screen holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Screen {
    pub title: String,
    pub fields: Vec<Field>,
    pub tables: Vec<Table>,
    /// Buttons, from the description's verbs ("Cancel Booking", "Approve").
    pub actions: Vec<String>,
    /// Where the screen leads ("Home", "Leave Policy").
    pub links: Vec<String>,
}

impl Screen {
    /// Whether the description named any part at all.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
            && self.tables.is_empty()
            && self.actions.is_empty()
            && self.links.is_empty()
    }

    /// Every label of the screen, title first.
    pub fn labels(&self) -> Vec<String> {
        let mut out = vec![self.title.clone()];
        out.extend(self.fields.iter().map(|f| f.label.clone()));
        for t in &self.tables {
            out.push(t.label.clone());
            out.extend(t.columns.iter().cloned());
        }
        out.extend(self.actions.iter().cloned());
        out.extend(self.links.iter().cloned());
        out
    }
}
