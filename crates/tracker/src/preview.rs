//! `preview` (reference §7.3.4): the windows, anomalies, features per capacity by provider,
//! outcome and notes, churn, the sub-agent proxy, ccusage and the snapshots of the loaded rows,
//! as the Python tracker prints them — except the Providers block, whose figures the caller
//! computes with the numerator fix (reference §9.3: features of windows without usable capacity
//! are not divided by the others' capacity; they are shown apart, "not counted").
//!
//! Pure: [`preview`] takes the rows [`crate::store::read_rows`] returned (filtered by the window when
//! one is given) and the per-provider figures, and returns a [`Preview`] whose [`Preview::lines`]
//! are the text and whose JSON is the same content as values.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::py;
use crate::pyfmt::{fixed, fmtnum, fmtnum_json, pct_json};
use crate::store::Fields;

/// One provider's features per capacity (computed by the caller: the rollup's estimator).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProviderFigures {
    /// Provider.
    pub provider: String,
    /// Features of the windows with usable capacity (the numerator).
    pub features: f64,
    /// Their capacity (the denominator).
    pub capacity: f64,
    /// `pp`, `prompts`, …
    pub unit: String,
    /// `features / capacity`, when there is capacity.
    pub efficiency: Option<f64>,
    /// The 95 % interval, from 3 windows on.
    pub ci: Option<(f64, f64)>,
    /// Windows with usable capacity.
    pub n: u64,
    /// Power to see a 0.10 change, from 3 windows on.
    pub power: Option<f64>,
    /// Features of windows without usable capacity: not in `efficiency`.
    pub unmeasured_features: f64,
    /// Those windows.
    pub unmeasured_windows: u64,
}

/// What the preview is made of.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// `--window`, when given.
    pub window: Option<&'a str>,
    /// `windows.jsonl` rows (finalized windows).
    pub windows: &'a [Fields],
    /// `snapshots.jsonl` rows.
    pub snapshots: &'a [Fields],
    /// `anomalies.jsonl` rows.
    pub anomalies: &'a [Fields],
    /// `churn.jsonl` rows.
    pub churn: &'a [Fields],
    /// `proxy_telemetry.jsonl` rows.
    pub proxy: &'a [Fields],
    /// `codex_ccusage.jsonl` rows.
    pub ccusage: &'a [Fields],
    /// Features per capacity by provider, sorted by provider.
    pub providers: &'a [ProviderFigures],
}

/// A window's outcome: the last finalize row's quality and outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    /// Window.
    pub window: String,
    /// `quality_score`, else `quality`.
    pub quality: Option<f64>,
    /// `outcome`, `unknown` when unset.
    pub outcome: String,
}

/// One churn record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Churn {
    /// Provider (`unknown` when unset).
    pub provider: String,
    /// Window (`unknown` when unset).
    pub window: String,
    /// Methodology, when set.
    pub methodology: Option<String>,
    /// Files changed.
    pub files: i64,
    /// Lines added.
    pub insertions: i64,
    /// Lines deleted.
    pub deletions: i64,
    /// `insertions − deletions`.
    pub net: i64,
    /// Net lines per feature.
    pub per_feature: Option<f64>,
}

/// One provider's snapshots: the latest per phase.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Snapshots {
    /// Provider.
    pub provider: String,
    /// Phases, sorted.
    pub phases: Vec<String>,
    /// Sources of those snapshots, sorted, unique.
    pub sources: Vec<String>,
    /// Their non-empty notes, sorted, unique.
    pub notes: Vec<String>,
}

/// The preview.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Preview {
    /// Window ids, sorted, unique.
    pub windows: Vec<String>,
    /// Anomaly rows.
    pub anomalies: usize,
    /// Features per capacity by provider.
    pub providers: Vec<ProviderFigures>,
    /// Per window, sorted.
    pub outcome: Vec<Outcome>,
    /// The notes of the first finalize row (of `--window`, else of the first window).
    pub notes: Option<String>,
    /// Churn records, by window and time.
    pub churn: Vec<Churn>,
    /// The latest proxy telemetry summary's lines (`parsed`), when there is one.
    pub proxy: Option<Value>,
    /// The latest ccusage payload per scope (`weekly`, `daily`, `session`).
    pub ccusage: BTreeMap<String, Value>,
    /// Per provider, sorted.
    pub snapshots: Vec<Snapshots>,
    /// The text lines (not in the JSON: the values above are).
    #[serde(skip)]
    lines: Vec<String>,
}

impl Preview {
    /// The text, one entry per line (without `\n`).
    pub fn lines(&self) -> &[String] {
        &self.lines
    }
}

fn text<'a>(row: &'a Fields, key: &str) -> Option<&'a str> {
    row.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// `x or default` for a value printed with `str()`.
fn str_or(v: Option<&Value>, default: &str) -> String {
    match v {
        Some(v) if py::truthy(v) => py::str_of(v),
        _ => default.to_owned(),
    }
}

fn int0(v: Option<&Value>) -> i64 {
    v.and_then(py::int).unwrap_or(0)
}

/// The preview of `input`; `None` when no window is recorded (`no windows recorded`).
pub fn preview(input: &Input<'_>) -> Option<Preview> {
    if input.windows.is_empty() {
        return None;
    }
    let mut lines = Vec::new();
    let windows: Vec<String> = input
        .windows
        .iter()
        .filter_map(|r| r.get("window").map(py::str_of))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    lines.push(format!("Windows: {}", windows.join(", ")));
    lines.push(format!("Anomalies: {} (see anomalies.jsonl)", input.anomalies.len()));
    lines.push("Providers:".to_owned());
    for p in input.providers {
        lines.push(provider_line(p));
    }
    let outcome = outcomes(input.windows);
    match outcome.as_slice() {
        [one] => lines.push(format!(
            "Outcome: quality={}, outcome={}",
            quality(one.quality),
            one.outcome
        )),
        many => {
            lines.push("Outcome:".to_owned());
            for o in many {
                lines.push(format!(
                    "  - {}: quality={}, outcome={}",
                    o.window,
                    quality(o.quality),
                    o.outcome
                ));
            }
        }
    }
    let notes = notes(input);
    if outcome.len() == 1
        && let Some(n) = &notes
    {
        lines.push(format!("Notes: {n}"));
    }
    let churn = churn(input.churn);
    if !churn.is_empty() {
        lines.push("Churn:".to_owned());
        for c in &churn {
            lines.push(format!(
                "  - provider={} window={} method={}: files={}, +{}/-{} (net={}), per-feature={}",
                c.provider,
                c.window,
                c.methodology.as_deref().unwrap_or("n/a"),
                c.files,
                c.insertions,
                c.deletions,
                c.net,
                c.per_feature.map_or_else(|| "n/a".to_owned(), |x| fixed(x, 2)),
            ));
        }
    }
    let proxy = input.proxy.last().and_then(|r| r.get("parsed")).cloned();
    if let Some(p) = &proxy {
        lines.push("Subagent Proxy:".to_owned());
        lines.push(format!(
            "  - routed={} (events={}), latency={} ms p50 / {} ms p95, errors={}",
            pct_json(p.get("routed_to_glm_pct"), 1),
            int0(p.get("total")),
            fmtnum_json(p.get("latency_p50_ms"), 0),
            fmtnum_json(p.get("latency_p95_ms"), 0),
            pct_json(p.get("error_rate_pct"), 1),
        ));
    }
    let ccusage = ccusage(input.ccusage);
    if !ccusage.is_empty() {
        lines.push("ccusage:".to_owned());
        ccusage_lines(&ccusage, &mut lines);
    }
    let snapshots = snapshots(input.snapshots);
    if !snapshots.is_empty() {
        lines.push("Snapshots:".to_owned());
        for s in &snapshots {
            lines.push(format!(
                "  - {}: {} (source={}, notes={})",
                s.provider,
                s.phases.join(", "),
                s.sources.join("/"),
                if s.notes.is_empty() { "n/a".to_owned() } else { s.notes.join("; ") },
            ));
        }
    }
    Some(Preview {
        windows,
        anomalies: input.anomalies.len(),
        providers: input.providers.to_vec(),
        outcome,
        notes,
        churn,
        proxy,
        ccusage,
        snapshots,
        lines,
    })
}

fn quality(q: Option<f64>) -> String {
    q.map_or_else(|| "n/a".to_owned(), |q| fixed(q, 1))
}

fn opt2(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".to_owned(), |x| fixed(x, 2))
}

/// One provider's line; what the numerator fix leaves out is said at its end.
fn provider_line(p: &ProviderFigures) -> String {
    let ci = p.ci.map_or_else(|| "n/a".to_owned(), |(lo, hi)| format!("[{lo:.2}, {hi:.2}]"));
    let mut line = format!(
        "  - {}: features={}, capacity={} {}, efficiency={}, ci={ci}, n={}, power={}",
        p.provider,
        fmtnum(p.features, 2),
        fmtnum(p.capacity, 2),
        p.unit,
        opt2(p.efficiency),
        p.n,
        opt2(p.power),
    );
    if p.unmeasured_windows > 0 {
        let windows = if p.unmeasured_windows == 1 { "window" } else { "windows" };
        line.push_str(&format!(
            " (not counted: {} features of {} {windows} without usable capacity)",
            fmtnum(p.unmeasured_features, 2),
            p.unmeasured_windows,
        ));
    }
    line
}

/// Window → (quality, outcome), later rows overwriting earlier ones; sorted by window.
fn outcomes(windows: &[Fields]) -> Vec<Outcome> {
    let mut by: BTreeMap<String, Outcome> = BTreeMap::new();
    for r in windows {
        let Some(w) = r.get("window").map(py::str_of) else { continue };
        let q = match r.get("quality_score") {
            Some(v) if !v.is_null() => Some(v),
            _ => r.get("quality"),
        };
        by.insert(
            w.clone(),
            Outcome {
                window: w,
                quality: q.and_then(py::float),
                outcome: str_or(r.get("outcome"), "unknown"),
            },
        );
    }
    by.into_values().collect()
}

/// The notes of the first row of `--window` (else the first row), lists joined by `; `.
fn notes(input: &Input<'_>) -> Option<String> {
    let row = match input.window.filter(|w| !w.is_empty()) {
        Some(w) => input.windows.iter().find(|r| text(r, "window") == Some(w)),
        None => input.windows.first(),
    }?;
    let v = row.get("notes").filter(|v| py::truthy(v))?;
    Some(match v {
        Value::Array(items) => items.iter().map(py::str_of).collect::<Vec<_>>().join("; "),
        other => py::str_of(other),
    })
}

fn churn(rows: &[Fields]) -> Vec<Churn> {
    let mut rows: Vec<&Fields> = rows.iter().collect();
    rows.sort_by(|a, b| {
        let k =
            |r: &Fields| (r.get("window").map(py::str_of), r.get("captured_at").map(py::str_of));
        k(a).cmp(&k(b))
    });
    rows.into_iter()
        .map(|r| Churn {
            provider: str_or(r.get("provider"), "unknown"),
            window: str_or(r.get("window"), "unknown"),
            methodology: r.get("methodology").filter(|v| py::truthy(v)).map(py::str_of),
            files: int0(r.get("files_changed")),
            insertions: int0(r.get("insertions")),
            deletions: int0(r.get("deletions")),
            net: int0(r.get("net")),
            per_feature: r.get("normalized_churn").and_then(py::float),
        })
        .collect()
}

/// The latest payload per scope (`parsed.scope`, else the row's `scope`, else `session`).
fn ccusage(rows: &[Fields]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for r in rows {
        let Some(parsed) = r.get("parsed").filter(|p| p.is_object()) else { continue };
        let scope = [parsed.get("scope"), r.get("scope")]
            .into_iter()
            .flatten()
            .find(|v| py::truthy(v))
            .map_or_else(|| "session".to_owned(), py::str_of);
        out.insert(scope, parsed.clone());
    }
    out
}

fn ccusage_lines(by_scope: &BTreeMap<String, Value>, lines: &mut Vec<String>) {
    let reset = |p: &Value| str_or(p.get("reset_at"), "unknown");
    if let Some(p) = by_scope.get("weekly") {
        let week = p.get("weekly").filter(|w| w.is_object());
        lines.push(format!(
            "  - weekly: percent_used={} tokens={} reset={}",
            pct_json(week.and_then(|w| w.get("percent_used")), 1),
            fmtnum_json(week.and_then(|w| w.get("tokens_used")), 0),
            reset(p),
        ));
    }
    if let Some(p) = by_scope.get("daily") {
        let days = p.get("days").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
        // The day with the greatest `date` (the first of equals, as Python's `max`).
        let mut day: Option<&Value> = None;
        for d in days.iter().filter(|d| d.is_object()) {
            let date = |d: &Value| d.get("date").map(py::str_of).unwrap_or_default();
            if day.is_none_or(|best| date(d) > date(best)) {
                day = Some(d);
            }
        }
        lines.push(format!(
            "  - daily: latest={} tokens={} percent={} reset={}",
            str_or(day.and_then(|d| d.get("date")), "n/a"),
            fmtnum_json(day.and_then(|d| d.get("total_tokens")), 0),
            pct_json(day.and_then(|d| d.get("percent_used")), 1),
            reset(p),
        ));
    }
    if let Some(p) = by_scope.get("session") {
        let count = match p.get("session_count") {
            Some(v) if !v.is_null() => py::str_of(v),
            _ => "0".to_owned(),
        };
        lines.push(format!(
            "  - session: count={count} tokens={} latest={}",
            fmtnum_json(p.get("total_tokens"), 0),
            str_or(p.get("latest_session").and_then(|s| s.get("last_activity")), "n/a"),
        ));
    }
}

/// The latest snapshot per (provider, phase) (reference §7.4), then per provider.
fn snapshots(rows: &[Fields]) -> Vec<Snapshots> {
    let mut latest: BTreeMap<(String, String), &Fields> = BTreeMap::new();
    for r in rows {
        let (Some(p), Some(ph)) = (text(r, "provider"), text(r, "phase")) else { continue };
        let at = |r: &Fields| text(r, "captured_at").unwrap_or("").to_owned();
        let slot = latest.entry((p.to_owned(), ph.to_owned())).or_insert(r);
        if at(r) > at(slot) {
            *slot = r;
        }
    }
    let mut by: BTreeMap<String, Snapshots> = BTreeMap::new();
    for ((provider, phase), r) in latest {
        let s = by.entry(provider.clone()).or_insert_with(|| Snapshots {
            provider,
            phases: Vec::new(),
            sources: Vec::new(),
            notes: Vec::new(),
        });
        s.phases.push(phase);
        if let Some(src) = text(r, "source") {
            s.sources.push(src.to_owned());
        }
        if let Some(n) = text(r, "notes") {
            s.notes.push(n.to_owned());
        }
    }
    by.into_values()
        .map(|mut s| {
            for v in [&mut s.sources, &mut s.notes] {
                v.sort();
                v.dedup();
            }
            s
        })
        .collect()
}
