//! Bounds on running a chat template. The template comes from the model file,
//! which is as untrusted as any upload: a loop over `range(100000)` nested in
//! another, a macro that calls itself, or a few lines that print megabytes
//! must end in an error, not in a worker that never answers.

use std::io;

use minijinja::{Environment, Error, ErrorKind};

/// Instructions one rendering may execute. A ChatML or Gemma template spends
/// a few dozen per message, so this covers conversations of thousands of
/// turns, while a nested loop runs out within a fraction of a second.
pub const FUEL: u64 = 2_000_000;

/// Nesting allowed in templates, in minijinja's units (a loop or an `if`
/// costs 1, a macro call 4 plus its frames): room for a schema-rendering
/// macro calling itself a couple of dozen levels deep, while minijinja's own
/// default (500) assumes a larger stack than the 2 MiB of a blocking worker.
pub const RECURSION_LIMIT: usize = 200;

/// Output allowed beyond [`OUTPUT_PER_INPUT_BYTE`] per byte of input: the
/// turn markers, a system prompt and tool instructions a template adds.
pub const OUTPUT_BASE: usize = 1 << 20;

/// A template repeats a message at most a few times (once is the norm).
pub const OUTPUT_PER_INPUT_BYTE: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{0}")]
    Invalid(Error),
    #[error("the chat template ran past its budget of {} steps", FUEL)]
    OutOfFuel,
    #[error("the chat template nests deeper than {} levels", RECURSION_LIMIT)]
    TooDeep,
    #[error("the chat template wrote more than {0} bytes")]
    TooLong(usize),
}

impl TemplateError {
    pub(super) fn from_render(e: Error, output: &CappedOutput) -> Self {
        if output.full {
            return Self::TooLong(output.cap);
        }
        match e.kind() {
            ErrorKind::OutOfFuel => Self::OutOfFuel,
            ErrorKind::InvalidOperation if e.detail() == Some("recursion limit exceeded") => {
                Self::TooDeep
            }
            _ => Self::Invalid(e),
        }
    }
}

impl From<Error> for TemplateError {
    fn from(e: Error) -> Self {
        Self::Invalid(e)
    }
}

/// Puts the step and nesting limits on `env`.
pub(super) fn apply(env: &mut Environment<'_>) {
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(RECURSION_LIMIT);
}

/// An output buffer that refuses to grow past `cap` bytes, which stops the
/// rendering with a write error.
pub(super) struct CappedOutput {
    pub bytes: Vec<u8>,
    pub cap: usize,
    pub full: bool,
}

impl CappedOutput {
    pub fn new(cap: usize) -> Self {
        Self {
            bytes: Vec::new(),
            cap,
            full: false,
        }
    }
}

impl io::Write for &mut CappedOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bytes.len() + buf.len() > self.cap {
            self.full = true;
            return Err(io::Error::other("chat template output cap reached"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ChatMessage, ChatTemplate};
    use super::TemplateError;

    fn load(template: &str) -> Result<ChatTemplate, TemplateError> {
        ChatTemplate::new(Some(template), "llama", None, None)
    }

    fn as_is(s: &str) -> String {
        s.to_string()
    }

    #[test]
    fn a_template_that_loops_ten_billion_times_is_refused_at_load() {
        let err = load(
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        )
        .err()
        .expect("refused");
        assert!(matches!(err, TemplateError::OutOfFuel), "{err}");
    }

    #[test]
    fn a_template_that_recurses_without_end_is_refused_at_load() {
        let err = load("{% for m in messages recursive %}{{ loop(messages) }}{% endfor %}")
            .err()
            .expect("refused");
        assert!(matches!(err, TemplateError::TooDeep), "{err}");
    }

    #[test]
    fn a_macro_that_calls_itself_without_end_is_refused_at_load() {
        let err = load("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
            .err()
            .expect("refused");
        assert!(matches!(err, TemplateError::TooDeep), "{err}");
    }

    #[test]
    fn a_template_that_prints_gigabytes_is_cut_off_at_its_output_cap() {
        let err = load("{% for i in range(100000) %}{{ 'x' * 100000 }}{% endfor %}")
            .err()
            .expect("refused");
        assert!(
            matches!(err, TemplateError::TooLong(cap) if cap < 2 << 20),
            "{err}"
        );
    }

    #[test]
    fn a_template_whose_work_grows_with_the_conversation_is_cut_off_at_render() {
        let t = load("{% for m in messages %}{% for i in range(100000) %}{% endfor %}{{ m.content }}{% endfor %}")
            .expect("one message fits the budget");
        let long: Vec<ChatMessage> = (0..50).map(|_| ChatMessage::new("user", "hi")).collect();
        let err = t.render(&long, &[], &as_is).unwrap_err();
        assert!(matches!(err, TemplateError::OutOfFuel), "{err}");
        assert!(err.to_string().contains("budget"), "{err}");
    }

    #[test]
    fn a_long_ordinary_conversation_renders_within_the_limits() {
        let t = ChatTemplate::new(None, "llama", None, None).unwrap();
        let text = "word ".repeat(2_000);
        let long: Vec<ChatMessage> = (0..2_000)
            .map(|i| ChatMessage::new(if i % 2 == 0 { "user" } else { "assistant" }, &text))
            .collect();
        let out = t.render(&long, &[], &as_is).expect("renders");
        assert!(out.len() > 2_000 * text.len());
    }
}
