//! Codex's `/status` pane (reference §7.6.1): the 5-hour and weekly limits' percentages used and
//! their reset times.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::{Error, Errors, check_size, strip_ansi};

/// What Codex's `/status` pane says about its limits. Serialises as the tracker's dict:
/// `{fiveh_pct, fiveh_resets, weekly_pct, weekly_resets, errors}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CodexStatus {
    /// The 5-hour limit's percentage used.
    pub fiveh_pct: Option<i64>,
    /// When the 5-hour limit resets, as the pane says it (`13:01`).
    pub fiveh_resets: Option<String>,
    /// The weekly limit's percentage used.
    pub weekly_pct: Option<i64>,
    /// When the weekly limit resets (`21:29 on 19 Oct`).
    pub weekly_resets: Option<String>,
    /// `multi-pane-trimmed` (several `/status` blocks, the last one read), `insufficient-data`
    /// (neither percentage found).
    pub errors: Errors,
}

/// A line that begins with `/status`, at the start of the text or after a newline.
static MARKER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^/status").expect("constant pattern"));

/// The label, `:`, the bar, `N%`, `used` with any whitespace between its letters, then
/// (optionally, lazily, across lines) `(reset[s] …)`. As in the reference, a 5h line without
/// its `(resets …)` takes the next one found, the weekly line's.
static LIMIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?is)(5h\s*limit|weekly\s*limit)\s*:\s*\[[^\]]*\]\s*([0-9]+)%\s*u\s*s\s*e\s*d(?:.*?\(\s*resets?\s*([^)]*)\))?",
    )
    .expect("constant pattern")
});

/// Parse a capture of Codex's `/status` pane (ANSI sequences allowed). When the capture holds
/// several `/status` blocks, only the last is read and `multi-pane-trimmed` is noted.
///
/// # Errors
/// [`Error::TooLarge`] for input past [`crate::MAX_INPUT_BYTES`].
pub fn parse_codex_status(text: &str) -> Result<CodexStatus, Error> {
    check_size(text)?;
    let clean = strip_ansi(text);
    let mut out = CodexStatus::default();
    let starts: Vec<usize> = MARKER.find_iter(&clean).map(|m| m.start()).collect();
    let block = match starts.as_slice() {
        [] => &clean[..],
        [.., last] => {
            if starts.len() > 1 {
                out.errors.push("multi-pane-trimmed");
            }
            &clean[*last..]
        }
    };
    for caps in LIMIT.captures_iter(block) {
        let label = caps.get(1).map_or("", |m| m.as_str()).to_lowercase();
        let pct = caps.get(2).and_then(|m| m.as_str().parse::<i64>().ok());
        let resets = caps.get(3).map(|m| m.as_str().trim().to_owned()).filter(|s| !s.is_empty());
        if label.starts_with("5h") {
            out.fiveh_pct = pct;
            out.fiveh_resets = resets;
        } else {
            out.weekly_pct = pct;
            out.weekly_resets = resets;
        }
    }
    if out.fiveh_pct.is_none() && out.weekly_pct.is_none() {
        out.errors.push("insufficient-data");
    }
    Ok(out)
}
