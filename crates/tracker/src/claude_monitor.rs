//! claude-monitor's realtime view (reference §7.6.3): token usage, burn and cost rates, messages.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::py::{float_str, int_of_float};
use crate::{Error, Errors, check_size};

/// What claude-monitor's realtime screen says. Serialises as the tracker's dict:
/// `{token_usage_pct, tokens_used, token_limit, burn_rate_per_min, cost_rate_per_min,
/// message_count, errors}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClaudeMonitor {
    /// `Token Usage:`'s percentage.
    pub token_usage_pct: Option<f64>,
    /// Tokens used (`Tokens: used / ~limit`).
    pub tokens_used: Option<i64>,
    /// The token limit.
    pub token_limit: Option<i64>,
    /// `Burn Rate:`, tokens a minute.
    pub burn_rate_per_min: Option<f64>,
    /// `Cost Rate:`, dollars a minute.
    pub cost_rate_per_min: Option<f64>,
    /// `Sent Messages:`.
    pub message_count: Option<i64>,
    /// `token-usage-missing`, `token-count-missing`, and `insufficient-data` whenever the usage
    /// percentage is missing.
    pub errors: Errors,
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("constant pattern")
}

static USAGE: LazyLock<Regex> = LazyLock::new(|| re(r"Token Usage:\s*\[[^\]]*\]\s*([0-9.]+)%"));
static TOKENS: LazyLock<Regex> = LazyLock::new(|| re(r"Tokens:\s*([0-9.,]+)\s*/\s*~?([0-9.,]+)"));
static BURN: LazyLock<Regex> = LazyLock::new(|| re(r"Burn Rate:\s*([0-9.]+)"));
static COST: LazyLock<Regex> = LazyLock::new(|| re(r"Cost Rate:\s*\$([0-9.]+)"));
static MESSAGES: LazyLock<Regex> = LazyLock::new(|| re(r"Sent Messages:\s*([0-9]+)"));

/// The first match's capture groups 1.. of `re` in `text`, as strings.
fn first<'t>(re: &Regex, text: &'t str) -> Option<regex::Captures<'t>> {
    re.captures(text)
}

/// `int(float(s))` of a number that may carry thousands commas.
fn count(s: &str) -> Option<i64> {
    float_str(&s.replace(',', "")).and_then(int_of_float)
}

/// Parse a capture of claude-monitor's realtime screen (searches are case-sensitive, first match
/// wins). A malformed number (`1.2.3`) reads as missing.
///
/// # Errors
/// [`Error::TooLarge`] for input past [`crate::MAX_INPUT_BYTES`].
pub fn parse_claude_monitor_realtime(text: &str) -> Result<ClaudeMonitor, Error> {
    check_size(text)?;
    let mut out = ClaudeMonitor {
        token_usage_pct: first(&USAGE, text).and_then(|c| float_str(c.get(1)?.as_str())),
        ..ClaudeMonitor::default()
    };
    if out.token_usage_pct.is_none() {
        out.errors.push("token-usage-missing");
    }
    let tokens = first(&TOKENS, text)
        .and_then(|c| Some((count(c.get(1)?.as_str())?, count(c.get(2)?.as_str())?)));
    match tokens {
        Some((used, limit)) => {
            out.tokens_used = Some(used);
            out.token_limit = Some(limit);
        }
        None => out.errors.push("token-count-missing"),
    }
    out.burn_rate_per_min = first(&BURN, text).and_then(|c| float_str(c.get(1)?.as_str()));
    out.cost_rate_per_min = first(&COST, text).and_then(|c| float_str(c.get(1)?.as_str()));
    out.message_count = first(&MESSAGES, text).and_then(|c| c.get(1)?.as_str().parse::<i64>().ok());
    if out.token_usage_pct.is_none() {
        out.errors.push("insufficient-data");
    }
    Ok(out)
}
