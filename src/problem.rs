//! A refused input, described so that a client can say it in the person's own language: a
//! stable code, the field it concerns and the numbers the sentence needs. The English sentence
//! is for the CLI, the log and API users reading raw responses; the web UI never shows it to
//! someone who reads Russian.

use std::fmt;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Stable kebab-case code; clients key their translations on it.
    pub code: &'static str,
    /// The request field at fault, when there is one.
    pub field: Option<&'static str>,
    /// Values the translated sentence needs (a limit, a count).
    pub params: Vec<(&'static str, Value)>,
    pub message: String,
}

impl Problem {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Problem {
            code,
            field: None,
            params: Vec::new(),
            message: message.into(),
        }
    }

    pub fn field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    pub fn param(mut self, name: &'static str, value: impl Into<Value>) -> Self {
        self.params.push((name, value.into()));
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
