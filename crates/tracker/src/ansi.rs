//! ANSI stripping as the tracker does it (reference §7.6): CSI sequences only.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// `ESC [`, parameter bytes `[0-9;?]*`, intermediates `[ -/]*`, a final byte `[@-~]`.
static CSI: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\x1b\[[0-9;?]*[ -/]*[@-~]").expect("constant pattern"));

/// `text` without its CSI sequences (`ESC [` … final byte). Other escapes, and a CSI sequence
/// with no final byte (cut off), are left as they are, as the reference leaves them.
pub fn strip_ansi(text: &str) -> Cow<'_, str> {
    CSI.replace_all(text, "")
}
