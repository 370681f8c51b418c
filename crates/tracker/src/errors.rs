//! The `errors` list every parser returns: strings in the order first met, without repeats.

use serde::Serialize;

/// A parser's `errors`: machine-readable codes (`insufficient-data`, `invalid-json`, …) in the
/// order they were first added; adding one already present changes nothing. Serialises as a
/// JSON array of strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Errors(Vec<String>);

impl Errors {
    /// Add `code` unless it is already listed.
    pub(crate) fn push(&mut self, code: impl Into<String>) {
        let code = code.into();
        if !self.0.contains(&code) {
            self.0.push(code);
        }
    }

    /// The codes, in order.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many codes there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl<const N: usize> PartialEq<[&str; N]> for Errors {
    fn eq(&self, other: &[&str; N]) -> bool {
        self.0.iter().map(String::as_str).eq(other.iter().copied())
    }
}
