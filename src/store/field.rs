//! What the record refuses before a query runs: a text field out of its
//! bounds. Every feature's error wraps [`Invalid`]; `http/error.rs` maps it
//! to a 400 naming the field.

/// A value refused: which field (`param`), and a sentence for the client.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    pub param: String,
    pub message: String,
}

impl Invalid {
    pub fn new(param: &str, message: impl Into<String>) -> Self {
        Self {
            param: param.to_string(),
            message: message.into(),
        }
    }
}

/// Trims `value` and checks it against the field's bounds.
pub fn text_field(
    name: &str,
    value: &str,
    required: bool,
    max_chars: usize,
) -> Result<String, Invalid> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(Invalid::new(name, format!("`{name}` must not be empty")));
    }
    if v.chars().count() > max_chars {
        return Err(Invalid::new(
            name,
            format!("`{name}` is longer than {max_chars} characters"),
        ));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Invalid::new(
            name,
            format!("`{name}` contains control characters"),
        ));
    }
    Ok(v.to_string())
}
