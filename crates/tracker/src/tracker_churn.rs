//! The tracker's churn of one window (reference §3.4, §7.3.5): the window's latest finalize
//! row, its commit range, `git diff --numstat` read into files / insertions / deletions, the
//! features it is divided by, the provider it is credited to, the `churn.jsonl` record, the
//! ledger's CSV row (Python's csv dialect: minimal quoting, CRLF) and the stdout line. Pure:
//! the caller runs git and writes the files.

use serde::Serialize;
use serde_json::Value;

use crate::py;
use crate::store::Fields;

/// The ledger's header (written when the file is missing or empty).
pub const LEDGER_HEADER: &str = "date,window,provider,methodology,commit_start,commit_end,files_changed,insertions,deletions,net,features,normalized_churn,notes";

/// What `git diff --numstat` counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Numstat {
    /// Files listed (binary ones too).
    pub files_changed: i64,
    /// Lines added (`-` for a binary file counts 0).
    pub insertions: i64,
    /// Lines deleted.
    pub deletions: i64,
}

/// Read `added\tdeleted\tpath` lines; `-` counts 0 but the file counts; other lines are skipped.
pub fn parse_numstat(text: &str) -> Numstat {
    let mut s = Numstat::default();
    for line in text.lines() {
        let mut parts = line.splitn(3, '\t');
        let (Some(a), Some(d), Some(_path)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let num = |x: &str| if x == "-" { Some(0) } else { x.trim().parse::<i64>().ok() };
        let (Some(a), Some(d)) = (num(a), num(d)) else { continue };
        s.files_changed += 1;
        s.insertions = s.insertions.saturating_add(a);
        s.deletions = s.deletions.saturating_add(d);
    }
    s
}

/// The window's finalize row with the greatest `finalized_at` (the last of equals).
pub fn latest_window_row(rows: &[Fields]) -> Option<&Fields> {
    let at = |r: &Fields| r.get("finalized_at").and_then(Value::as_str).unwrap_or("").to_owned();
    rows.iter().fold(None, |best: Option<&Fields>, r| match best {
        Some(b) if at(b) > at(r) => Some(b),
        _ => Some(r),
    })
}

/// A text field by `or`: the first truthy of `keys`, as `str()`.
fn first(row: &Fields, keys: &[&str]) -> Option<String> {
    keys.iter().filter_map(|k| row.get(*k)).find(|v| py::truthy(v)).map(py::str_of)
}

/// start = flag, else `commit_start`, else `commit_start_sha`; end likewise.
pub fn commit_range(
    row: &Fields,
    start: Option<&str>,
    end: Option<&str>,
) -> (Option<String>, Option<String>) {
    let flag = |f: Option<&str>| f.filter(|s| !s.is_empty()).map(str::to_owned);
    (
        flag(start).or_else(|| first(row, &["commit_start", "commit_start_sha"])),
        flag(end).or_else(|| first(row, &["commit_end", "commit_end_sha"])),
    )
}

/// The window's features: Σ of its `features` values that are integers (as `int()`), floored
/// at 0.
pub fn window_features(row: &Fields) -> i64 {
    let Some(Value::Object(f)) = row.get("features") else { return 0 };
    f.values().filter_map(py::int).fold(0i64, i64::saturating_add).max(0)
}

/// The single provider with features, `unknown` when none, `multi` when several.
pub fn auto_provider(row: &Fields) -> String {
    let Some(Value::Object(f)) = row.get("features") else { return "unknown".to_owned() };
    let with: Vec<&String> =
        f.iter().filter(|(_, v)| py::int(v).is_some_and(|n| n > 0)).map(|(k, _)| k).collect();
    match with.as_slice() {
        [] => "unknown".to_owned(),
        [one] => (*one).clone(),
        _ => "multi".to_owned(),
    }
}

/// The `churn.jsonl` record, keys in the tracker's order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChurnRecord {
    /// Window.
    pub window: String,
    /// Provider credited.
    pub provider: String,
    /// Methodology (`null` when none).
    pub methodology: Option<String>,
    /// Resolved start commit (`""` when skipped).
    pub commit_start: String,
    /// Resolved end commit (the raw value or `""` when skipped).
    pub commit_end: String,
    /// Files changed.
    pub files_changed: i64,
    /// Lines added.
    pub insertions: i64,
    /// Lines deleted.
    pub deletions: i64,
    /// `insertions − deletions`.
    pub net: i64,
    /// Features divided by.
    pub features: i64,
    /// `net / features` when features > 0.
    pub normalized_churn: Option<f64>,
    /// UTC time of the record.
    pub captured_at: String,
    /// Notes.
    pub notes: String,
    /// Always `churn`.
    pub source: &'static str,
    /// `--paths`, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<String>>,
}

/// What the churn command was asked.
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    /// Window.
    pub window: &'a str,
    /// `--provider`.
    pub provider: Option<&'a str>,
    /// `--methodology`.
    pub methodology: Option<&'a str>,
    /// `--features`.
    pub features: Option<i64>,
    /// `--notes`.
    pub notes: Option<&'a str>,
    /// `--paths`.
    pub paths: Vec<String>,
}

/// The record of `req` over `row` with `stats` (`None`: no start commit, skipped) between the
/// resolved `start` and `end`.
pub fn record(
    req: &Request<'_>,
    row: &Fields,
    range: (String, String),
    stats: Option<Numstat>,
    captured_at: String,
) -> ChurnRecord {
    let features = req.features.unwrap_or_else(|| window_features(row));
    let s = stats.unwrap_or_default();
    let net = s.insertions.saturating_sub(s.deletions);
    let mut notes: Vec<String> = Vec::new();
    if let Some(n) = req.notes.map(str::trim).filter(|n| !n.is_empty()) {
        notes.push(n.to_owned());
    }
    if stats.is_none() {
        notes.push("decision=missing-commit-range(commit_start)".to_owned());
    }
    ChurnRecord {
        window: req.window.to_owned(),
        provider: req
            .provider
            .filter(|p| !p.is_empty())
            .map_or_else(|| auto_provider(row), str::to_owned),
        methodology: req
            .methodology
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .or_else(|| first(row, &["methodology"])),
        commit_start: range.0,
        commit_end: range.1,
        files_changed: s.files_changed,
        insertions: s.insertions,
        deletions: s.deletions,
        net,
        features,
        normalized_churn: (features > 0).then(|| net as f64 / features as f64),
        captured_at,
        notes: notes.join("; "),
        source: "churn",
        paths: (!req.paths.is_empty()).then(|| req.paths.clone()),
    }
}

/// One CSV field, quoted only when it must be (Python's `QUOTE_MINIMAL`).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The ledger row for `r` on `date` (`YYYY-MM-DD`), with its CRLF.
pub fn ledger_row(r: &ChurnRecord, date: &str) -> String {
    let mut notes = r.notes.clone();
    if let Some(p) = &r.paths {
        let paths = format!("paths={}", p.join(","));
        notes = if notes.is_empty() { paths } else { format!("{notes}; {paths}") };
    }
    let fields = [
        date.to_owned(),
        r.window.clone(),
        r.provider.clone(),
        r.methodology.clone().unwrap_or_default(),
        r.commit_start.clone(),
        r.commit_end.clone(),
        r.files_changed.to_string(),
        r.insertions.to_string(),
        r.deletions.to_string(),
        r.net.to_string(),
        r.features.to_string(),
        r.normalized_churn.map(|x| format!("{x:.2}")).unwrap_or_default(),
        notes,
    ];
    let mut line = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// The stdout line.
pub fn summary_line(r: &ChurnRecord, skipped: bool) -> String {
    if skipped {
        return format!("churn {}: skipped (decision=missing-commit-range)", r.window);
    }
    format!(
        "churn {}: files={} +{}/-{} net={} per-feature={}",
        r.window,
        r.files_changed,
        r.insertions,
        r.deletions,
        r.net,
        r.normalized_churn.map_or_else(|| "n/a".to_owned(), |x| format!("{x:.2}"))
    )
}
