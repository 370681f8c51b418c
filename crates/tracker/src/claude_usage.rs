//! Claude Code's `/usage` pane (reference §7.6.2): the current session's and the current week's
//! percentages used and reset times, and the week's Opus share.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::{Error, Errors, check_size, strip_ansi};

/// What Claude's `/usage` pane says. Serialises as the tracker's dict: `{session_pct,
/// session_resets, all_models_pct, all_models_resets, opus_pct, errors}` (Opus has no reset).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClaudeUsage {
    /// The current session's percentage used.
    pub session_pct: Option<i64>,
    /// When the session resets, the rest of the `Resets …` line (`8:59pm (Asia/Irkutsk)`).
    pub session_resets: Option<String>,
    /// The current week's percentage used, all models.
    pub all_models_pct: Option<i64>,
    /// When the week resets.
    pub all_models_resets: Option<String>,
    /// The current week's Opus percentage used.
    pub opus_pct: Option<i64>,
    /// `usage-not-loaded` (the pane shows an error or was dismissed), `section-missing-week` (a
    /// week section without a percentage), `section-missing-session` (a session mentioned but no
    /// percentage found).
    pub errors: Errors,
}

/// A section header: at a line start, optional whitespace, `Current session|week`, optionally
/// a parenthesised qualifier (`(all models)`, `(Opus)`).
static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)^\s*current\s+(?:session|week)(?:\s*\([^)]*\))?").expect("constant pattern")
});

/// `N%` then `used`, any whitespace between the letters.
static PCT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)([0-9]+)%\s*u\s*s\s*e\s*d").expect("constant pattern"));

/// `Resets ` and the rest of its line only (a wrapped continuation is lost, as in the reference).
static RESETS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"Resets ([^\n]*)").expect("constant pattern"));

/// Parse a capture of Claude Code's `/usage` pane (ANSI sequences allowed).
///
/// # Errors
/// [`Error::TooLarge`] for input past [`crate::MAX_INPUT_BYTES`].
pub fn parse_claude_usage(text: &str) -> Result<ClaudeUsage, Error> {
    check_size(text)?;
    let clean = strip_ansi(text);
    let mut out = ClaudeUsage::default();
    let lower = clean.to_lowercase();
    if lower.contains("failed to load usage data") || lower.contains("status dialog dismissed") {
        out.errors.push("usage-not-loaded");
        return Ok(out);
    }
    let headers: Vec<(usize, usize)> =
        HEADER.find_iter(&clean).map(|m| (m.start(), m.end())).collect();
    for (i, &(start, end)) in headers.iter().enumerate() {
        let stop = headers.get(i + 1).map_or(clean.len(), |next| next.0);
        let section = &clean[start..stop];
        let header = clean[start..end].to_lowercase();
        let pct = PCT.captures(section).and_then(|c| c.get(1)?.as_str().parse::<i64>().ok());
        let resets = RESETS
            .captures(section)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().trim().to_owned())
            .filter(|s| !s.is_empty());
        if header.contains("session") {
            out.session_pct = pct;
            out.session_resets = resets;
        } else {
            if header.contains("opus") {
                out.opus_pct = pct;
            } else {
                out.all_models_pct = pct;
                out.all_models_resets = resets;
            }
            if pct.is_none() {
                out.errors.push("section-missing-week");
            }
        }
    }
    if out.session_pct.is_none() && lower.contains("current session") {
        out.errors.push("section-missing-session");
    }
    Ok(out)
}
