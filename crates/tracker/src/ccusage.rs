//! Codex usage from `ccusage` (reference §7.6.5): sessions, daily or weekly JSON, by scope.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::py;
use crate::{Error, Errors, check_size};

/// Which `ccusage` report the text is: the scope is lower-cased, `daily` and `weekly` name
/// theirs, anything else is the sessions report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CcusageScope {
    /// `ccusage codex sessions --json`.
    Session,
    /// The daily report.
    Daily,
    /// The weekly report.
    Weekly,
}

impl CcusageScope {
    /// The scope a `--scope` value names (`daily`, `weekly`, anything else: sessions).
    pub fn from_name(name: &str) -> Self {
        match name.to_lowercase().as_str() {
            "daily" => Self::Daily,
            "weekly" => Self::Weekly,
            _ => Self::Session,
        }
    }
}

/// A parsed `ccusage` report; serialises as the tracker's dict of that scope (with its `scope`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CodexCcusage {
    /// The sessions report.
    Sessions(Sessions),
    /// The daily report.
    Daily(Daily),
    /// The weekly report.
    Weekly(Weekly),
}

impl CodexCcusage {
    /// The result's `errors`.
    pub fn errors(&self) -> &Errors {
        match self {
            Self::Sessions(s) => &s.errors,
            Self::Daily(d) => &d.errors,
            Self::Weekly(w) => &w.errors,
        }
    }
}

/// `{scope:"session", session_count, total_tokens, cost_usd, latest_session, sessions, errors}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sessions {
    /// Always [`CcusageScope::Session`].
    pub scope: CcusageScope,
    /// How many sessions were read.
    pub session_count: usize,
    /// `totals.totalTokens` when given, else the sessions' sum.
    pub total_tokens: i64,
    /// `totals.costUSD` when given, else the sessions' sum.
    pub cost_usd: f64,
    /// The session with the latest non-empty `last_activity` (a tie goes to the later one).
    pub latest_session: Option<Session>,
    /// The sessions that are objects, in input order.
    pub sessions: Vec<Session>,
    /// `invalid-json`, `invalid-sessions`, `no-sessions`.
    pub errors: Errors,
}

/// One session of the sessions report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    /// `sessionId` as given.
    pub session_id: Value,
    /// `totalTokens`, as an integer.
    pub total_tokens: Option<i64>,
    /// `costUSD` (0.0 when missing or not a number).
    pub cost_usd: f64,
    /// `lastActivity` (`""` when missing).
    pub last_activity: String,
}

/// `{scope:"daily", generated_at, reset_at, days, total_tokens, cost_usd, errors}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Daily {
    /// Always [`CcusageScope::Daily`].
    pub scope: CcusageScope,
    /// `generated_at`, or `generatedAt`.
    pub generated_at: Value,
    /// `resetAt`, or `reset_at`.
    pub reset_at: Value,
    /// The days that are objects, in input order.
    pub days: Vec<Day>,
    /// `totals.totalTokens` when given, else the days' sum.
    pub total_tokens: i64,
    /// `totals.costUSD` when given, else the days' sum.
    pub cost_usd: f64,
    /// `invalid-json`, `invalid-days`, `no-days`.
    pub errors: Errors,
}

/// One day of the daily report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Day {
    /// `date` (`""` when missing).
    pub date: String,
    /// `totalTokens`, or (when that is missing or 0) `tokens`.
    pub total_tokens: Option<i64>,
    /// `percentUsed`, or (when missing or 0) `percent`.
    pub percent_used: Option<f64>,
    /// `costUSD`, or (when missing or 0) `cost`.
    pub cost_usd: Option<f64>,
}

/// `{scope:"weekly", generated_at, reset_at, weekly, total_tokens, errors}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Weekly {
    /// Always [`CcusageScope::Weekly`].
    pub scope: CcusageScope,
    /// `generated_at`, or `generatedAt`.
    pub generated_at: Value,
    /// `resetAt`, or `reset_at`.
    pub reset_at: Value,
    /// The current week (`currentWeek`, else `week`); null when neither is an object.
    pub weekly: Option<Week>,
    /// The week's `tokens_used`, 0 when unknown.
    pub total_tokens: i64,
    /// `invalid-json`, `invalid-week`.
    pub errors: Errors,
}

/// The week of the weekly report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Week {
    /// `startDate`, or `start`.
    pub start_date: Value,
    /// `endDate`, or `end`.
    pub end_date: Value,
    /// `percentUsed`, or `percent`.
    pub percent_used: Option<f64>,
    /// `tokensUsed`, or `totalTokens`.
    pub tokens_used: Option<i64>,
    /// `tokensRemaining`.
    pub tokens_remaining: Option<i64>,
    /// `costUSD`, or `cost`.
    pub cost_usd: Option<f64>,
}

/// Parse a Codex `ccusage` JSON report of `scope` (see [`CcusageScope::from_name`]).
///
/// # Errors
/// [`Error::TooLarge`] for input past [`crate::MAX_INPUT_BYTES`].
pub fn parse_codex_ccusage(text: &str, scope: CcusageScope) -> Result<CodexCcusage, Error> {
    check_size(text)?;
    let doc = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(doc)) => Some(doc),
        _ => None,
    };
    Ok(match scope {
        CcusageScope::Session => CodexCcusage::Sessions(sessions(doc.as_ref())),
        CcusageScope::Daily => CodexCcusage::Daily(daily(doc.as_ref())),
        CcusageScope::Weekly => CodexCcusage::Weekly(weekly(doc.as_ref())),
    })
}

fn get<'a>(obj: &'a Map<String, Value>, key: &str) -> &'a Value {
    obj.get(key).unwrap_or(&Value::Null)
}

/// `totals.totalTokens` and `totals.costUSD`, each when present and convertible.
fn totals(doc: &Map<String, Value>) -> (Option<i64>, Option<f64>) {
    match doc.get("totals") {
        Some(Value::Object(t)) => (py::int(get(t, "totalTokens")), py::float(get(t, "costUSD"))),
        _ => (None, None),
    }
}

fn sessions(doc: Option<&Map<String, Value>>) -> Sessions {
    let mut out = Sessions {
        scope: CcusageScope::Session,
        session_count: 0,
        total_tokens: 0,
        cost_usd: 0.0,
        latest_session: None,
        sessions: Vec::new(),
        errors: Errors::default(),
    };
    let Some(doc) = doc else {
        out.errors.push("invalid-json");
        return out;
    };
    let Some(Value::Array(list)) = doc.get("sessions") else {
        out.errors.push("invalid-sessions");
        return out;
    };
    for s in list {
        let Value::Object(s) = s else { continue };
        out.sessions.push(Session {
            session_id: get(s, "sessionId").clone(),
            total_tokens: py::int(get(s, "totalTokens")),
            cost_usd: py::float(get(s, "costUSD")).unwrap_or(0.0),
            last_activity: py::string_or_empty(s.get("lastActivity")),
        });
    }
    if out.sessions.is_empty() {
        out.errors.push("no-sessions");
    }
    out.session_count = out.sessions.len();
    out.latest_session = out
        .sessions
        .iter()
        .filter(|s| !s.last_activity.is_empty())
        .fold(None::<&Session>, |best, s| match best {
            Some(b) if b.last_activity > s.last_activity => Some(b),
            _ => Some(s),
        })
        .cloned();
    let sum_tokens =
        out.sessions.iter().filter_map(|s| s.total_tokens).fold(0i64, i64::saturating_add);
    let sum_cost = out.sessions.iter().map(|s| s.cost_usd).sum();
    let (tokens, cost) = totals(doc);
    out.total_tokens = tokens.unwrap_or(sum_tokens);
    out.cost_usd = cost.unwrap_or(sum_cost);
    out
}

fn daily(doc: Option<&Map<String, Value>>) -> Daily {
    let mut out = Daily {
        scope: CcusageScope::Daily,
        generated_at: Value::Null,
        reset_at: Value::Null,
        days: Vec::new(),
        total_tokens: 0,
        cost_usd: 0.0,
        errors: Errors::default(),
    };
    let Some(doc) = doc else {
        out.errors.push("invalid-json");
        return out;
    };
    out.generated_at = py::get_or(doc, "generated_at", "generatedAt").clone();
    out.reset_at = py::get_or(doc, "resetAt", "reset_at").clone();
    let list = match (doc.get("days"), doc.get("daily")) {
        (Some(Value::Array(days)), _) | (_, Some(Value::Array(days))) => days,
        _ => {
            out.errors.push("invalid-days");
            return out;
        }
    };
    for d in list {
        let Value::Object(d) = d else { continue };
        out.days.push(Day {
            date: py::string_or_empty(d.get("date")),
            total_tokens: py::int(py::get_or(d, "totalTokens", "tokens")),
            percent_used: py::float(py::get_or(d, "percentUsed", "percent")),
            cost_usd: py::float(py::get_or(d, "costUSD", "cost")),
        });
    }
    if out.days.is_empty() {
        out.errors.push("no-days");
    }
    let sum_tokens = out.days.iter().filter_map(|d| d.total_tokens).fold(0i64, i64::saturating_add);
    let sum_cost = out.days.iter().filter_map(|d| d.cost_usd).sum();
    let (tokens, cost) = totals(doc);
    out.total_tokens = tokens.unwrap_or(sum_tokens);
    out.cost_usd = cost.unwrap_or(sum_cost);
    out
}

fn weekly(doc: Option<&Map<String, Value>>) -> Weekly {
    let mut out = Weekly {
        scope: CcusageScope::Weekly,
        generated_at: Value::Null,
        reset_at: Value::Null,
        weekly: None,
        total_tokens: 0,
        errors: Errors::default(),
    };
    let Some(doc) = doc else {
        out.errors.push("invalid-json");
        return out;
    };
    out.generated_at = py::get_or(doc, "generated_at", "generatedAt").clone();
    out.reset_at = py::get_or(doc, "resetAt", "reset_at").clone();
    let w = match (doc.get("currentWeek"), doc.get("week")) {
        (Some(Value::Object(w)), _) | (_, Some(Value::Object(w))) => w,
        _ => {
            out.errors.push("invalid-week");
            return out;
        }
    };
    let week = Week {
        start_date: py::get_or(w, "startDate", "start").clone(),
        end_date: py::get_or(w, "endDate", "end").clone(),
        percent_used: py::float(py::get_or(w, "percentUsed", "percent")),
        tokens_used: py::int(py::get_or(w, "tokensUsed", "totalTokens")),
        tokens_remaining: py::int(get(w, "tokensRemaining")),
        cost_usd: py::float(py::get_or(w, "costUSD", "cost")),
    };
    out.total_tokens = week.tokens_used.unwrap_or(0);
    out.weekly = Some(week);
    out
}
