//! `progress.log.md` (one dated section per day, replaced on re-run) and `trend.json`
//! (per-day rows, idempotent). Both are written atomically.
//!
//! `progress.log.md` format:
//! ```text
//! # AgentOS progress log
//!
//! ## 2026-11-22
//! - features: 3.5 shipped (Σ feature_delta) over 1.2 capacity → 2.917 per capacity
//! …
//! ```
//! Sections are kept in date order; text before the first section is preserved.

use std::collections::BTreeMap;

use agentos_event_schema::v1::FeatureStatus;
use camino::Utf8Path;
use serde::{Deserialize, Serialize};

use crate::{Error, Rollup, Row, write_atomic};

const HEADER: &str = "# AgentOS progress log\n";

/// One day of the trendline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendRow {
    /// UTC day, `YYYY-MM-DD`.
    pub date: String,
    /// Turns that day.
    pub turns: u64,
    /// Input tokens.
    pub tokens_in: u64,
    /// Output tokens.
    pub tokens_out: u64,
    /// Σ feature_delta.
    pub features: f64,
    /// Σ capacity_used.
    pub capacity_used: f64,
    /// `features / capacity_used`; `null` when capacity is 0.
    pub features_per_capacity: Option<f64>,
    /// Estimated cost, USD.
    pub cost_usd: f64,
}

/// `trend.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// Version of the event contract that wrote the file.
    pub schema_version: String,
    /// One row per day, ascending.
    pub rows: Vec<TrendRow>,
}

fn trend_row(date: &str, r: &Row) -> TrendRow {
    TrendRow {
        date: date.to_owned(),
        turns: r.turns,
        tokens_in: r.tokens_in,
        tokens_out: r.tokens_out,
        features: r.features,
        capacity_used: r.capacity_used,
        features_per_capacity: r.features_per_capacity,
        cost_usd: r.cost_usd,
    }
}

/// Merge the rollup's days into `trend.json`: a day present in the rollup replaces the stored
/// row, other stored days are kept (their log may have been rotated away). Days the rollup
/// cannot date (`unknown`) are not trend rows. Returns the rows written.
pub fn update_trend(path: &Utf8Path, rollup: &Rollup) -> Result<Trend, Error> {
    let mut rows: BTreeMap<String, TrendRow> = BTreeMap::new();
    match std::fs::read(path) {
        Ok(bytes) => {
            let old: Trend = serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
                path: path.to_owned(),
                what: "trend.json",
                message: e.to_string(),
            })?;
            rows.extend(old.rows.into_iter().map(|r| (r.date.clone(), r)));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(Error::Read { path: path.to_owned(), source }),
    }
    for (day, row) in &rollup.days {
        if day != "unknown" {
            rows.insert(day.clone(), trend_row(day, row));
        }
    }
    let trend = Trend {
        schema_version: agentos_event_schema::v1::SCHEMA_VERSION.to_owned(),
        rows: rows.into_values().collect(),
    };
    write_atomic(path, &crate::fsio::canonical_json(&trend, "trend")?)?;
    Ok(trend)
}

fn num(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" { "0".to_owned() } else { s.to_owned() }
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".to_owned(), num)
}

/// `n` and the noun, singular for exactly one ("1 turn", "2 turns").
fn count(n: u64, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// A name from the input on one line of the log: control characters (a newline could forge
/// a line) are shown escaped.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() })
        .collect()
}

/// The day's section (without the heading): a short human summary of the day's activity,
/// and with `cumulative` (the day of the run) also the totals to date.
pub fn day_section(
    date: &str,
    rollup: &Rollup,
    previous: Option<&TrendRow>,
    cumulative: bool,
) -> String {
    let s = &rollup.summary;
    let mut out = String::new();
    let today = rollup.days.get(date);
    if let Some(r) = today {
        out.push_str(&format!(
            "- activity: {}, feature progress {} over {} capacity ({} per capacity), ${} cost\n",
            count(r.turns, "turn"),
            num(r.features),
            num(r.capacity_used),
            opt(r.features_per_capacity),
            num(r.cost_usd)
        ));
    } else {
        out.push_str("- activity: no turns recorded\n");
    }
    let mut notable = Vec::new();
    if let (Some(r), Some(p)) = (today, previous)
        && let (Some(a), Some(b)) = (r.features_per_capacity, p.features_per_capacity)
        && b != 0.0
        && ((a - b) / b).abs() >= 0.10
    {
        let dir = if a > b { "up" } else { "down" };
        notable.push(format!(
            "feature progress per capacity {dir} {}% vs {}",
            num(((a - b) / b * 100.0).abs()),
            p.date
        ));
    }
    if !cumulative {
        for n in notable {
            out.push_str(&format!("- notable: {n}\n"));
        }
        return out;
    }
    out.push_str(&format!(
        "- to date: {}, {}, feature progress {} over {} capacity ({} per capacity)\n",
        count(s.sessions, "session"),
        count(s.turns, "turn"),
        num(s.features_shipped),
        num(s.capacity_used),
        opt(s.features_per_capacity)
    ));
    out.push_str(&format!(
        "- quality: avg CLS {}, avg IMPF {}, avg churn {}\n",
        opt(s.avg_cls),
        opt(s.avg_impf),
        opt(s.avg_churn_score)
    ));
    out.push_str(&format!(
        "- cost: ${} total, {} per shipped feature ({} shipped)\n",
        num(s.cost_usd),
        s.cost_per_shipped_feature.map_or_else(|| "n/a".to_owned(), |c| format!("${}", num(c))),
        s.features_by_status.get(&FeatureStatus::Shipped).copied().unwrap_or(0)
    ));
    for a in &s.capacity_alerts {
        notable.push(format!(
            "{} at {}% of weekly capacity: {}",
            one_line(&a.provider),
            num(a.weekly_used * 100.0),
            a.advice
        ));
    }
    if let Some(health) = &s.model_health {
        notable.extend(crate::health_notes(health));
    }
    if s.diagnostics > 0 {
        notable.push(format!(
            "{} skipped (see the rollup's diagnostics)",
            count(s.diagnostics, "input line")
        ));
    }
    if notable.is_empty() {
        out.push_str("- notable: nothing\n");
    } else {
        for n in notable {
            out.push_str(&format!("- notable: {n}\n"));
        }
    }
    out
}

/// Replace (or insert, in date order) the `## <day>` sections of `progress.log.md`: one for
/// every day the rollup saw activity on (what happened that day), and one for `date`, the day
/// of the run, which also carries the cumulative picture (to date, quality, cost, alerts).
/// Re-running never duplicates a section.
pub fn update_progress_log(
    path: &Utf8Path,
    date: &str,
    rollup: &Rollup,
    trend: Option<&Trend>,
) -> Result<(), Error> {
    let existing = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => HEADER.to_owned(),
        Err(source) => return Err(Error::Read { path: path.to_owned(), source }),
    };
    let mut days: Vec<&str> =
        rollup.days.keys().map(String::as_str).filter(|d| is_date(d) && *d != date).collect();
    days.push(date);
    let mut text = existing;
    for day in days {
        let previous = trend.and_then(|t| t.rows.iter().rev().find(|r| r.date.as_str() < day));
        let body = day_section(day, rollup, previous, day == date);
        text = replace_section(&text, day, &body);
    }
    write_atomic(path, text.as_bytes())
}

/// Split a log into its preamble and `(date, body)` sections, then put `body` under `date`.
pub fn replace_section(existing: &str, date: &str, body: &str) -> String {
    let mut preamble = String::new();
    let mut sections: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in existing.split_inclusive('\n') {
        if let Some(d) = line.strip_prefix("## ").map(str::trim).filter(|d| is_date(d)) {
            current = Some(d.to_owned());
            sections.entry(d.to_owned()).or_default();
            continue;
        }
        match &current {
            Some(d) => sections.entry(d.clone()).or_default().push_str(line),
            None => preamble.push_str(line),
        }
    }
    sections.insert(date.to_owned(), body.to_owned());
    let mut out = preamble.trim_end().to_owned();
    if out.is_empty() {
        out.push_str(HEADER.trim_end());
    }
    out.push('\n');
    for (d, b) in sections {
        out.push_str(&format!("\n## {d}\n{}\n", b.trim_end()));
    }
    out
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter()
            .enumerate()
            .all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
}
