//! `advise`: which provider to run next under weekly caps and 5-hour windows (issue 18,
//! `docs/tracker.md` "Scheduling advice" states the rule). Advice only: nothing here writes
//! anything, CCC's configuration least of all.
//!
//! Per provider (the tracker's names: `codex`, `claude`, `glm`, …):
//! * **value**: features per capacity unit with its CI and `n` (the rollup's estimator over
//!   the finalized windows, numerator fixed), passed in as [`ProviderFigures`];
//! * **capacity used**, in percentage points of the provider's meters: when CCC answers with
//!   models of the provider (same canonical provider), the most used of them (CCC is live):
//!   weekly = max `weekly_pct`, 5-hour = max `rolling_pct`, blocked if any is blocked; else
//!   the latest snapshot (greatest `captured_at`, any window or phase) whose `parsed` has a
//!   weekly reading (`codex`: `weekly_pct` / `fiveh_pct`; `claude`: `all_models_pct` /
//!   `session_pct`);
//! * **weekly room** = [`WEEKLY_BUFFER_PP`] − weekly used: the 10 points above it are kept.
//!
//! Verdict, in this order: no weekly reading → `measure`; weekly used ≥ 90 → `hold` (inside
//! the buffer); blocked, or 5-hour used ≥ 100 → `wait` (for the 5-hour window); else
//! `schedule`. Ranking: `schedule` first, then `wait`, `measure`, `hold`; within a verdict by
//! efficiency (highest first, none last), then weekly room (most first), then name.

use std::cmp::Ordering;

use agentos_event_schema::provider::canonical_provider;
use serde::Serialize;
use serde_json::Value;

use crate::preview::ProviderFigures;
use crate::py;
use crate::store::Fields;

/// Weekly use (percentage points) from which a provider is held: 10 points of headroom, the
/// same line as the rollup's weekly buffer (0.90).
pub const WEEKLY_BUFFER_PP: f64 = 90.0;

/// One CCC model's use, as CCC reports it now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CccUse {
    /// Canonical provider serving the model.
    pub provider: String,
    /// Model.
    pub model: String,
    /// Weekly use, percentage points.
    pub weekly_pp: f64,
    /// Rolling (5-hour) use, percentage points.
    pub rolling_pp: f64,
    /// CCC blocks the model now.
    pub block: bool,
}

/// Where a provider's capacity reading came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Reading {
    /// The latest snapshot.
    Snapshot {
        /// Its window.
        window: String,
        /// Its phase.
        phase: String,
        /// When it was captured (as stored).
        captured_at: String,
    },
    /// CCC, now: these models.
    Ccc {
        /// The models of the provider.
        models: Vec<String>,
    },
    /// None.
    None,
}

/// The advice's verdict for a provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Room this week and in the 5-hour window.
    Schedule,
    /// Blocked or the 5-hour window is used up.
    Wait,
    /// No capacity reading.
    Measure,
    /// Inside the 10-point weekly buffer.
    Hold,
}

impl Verdict {
    /// The word printed.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Schedule => "schedule",
            Verdict::Wait => "wait",
            Verdict::Measure => "measure",
            Verdict::Hold => "hold",
        }
    }
}

/// One provider's advice.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Advice {
    /// Provider (the tracker's name).
    pub provider: String,
    /// Features per capacity unit.
    pub efficiency: Option<f64>,
    /// Its 95 % interval.
    pub ci: Option<(f64, f64)>,
    /// Windows with usable capacity.
    pub n: u64,
    /// Capacity unit of `efficiency`.
    pub unit: String,
    /// Weekly use, pp.
    pub weekly_used_pp: Option<f64>,
    /// 5-hour use, pp.
    pub fiveh_used_pp: Option<f64>,
    /// CCC blocks it.
    pub blocked: bool,
    /// Points left before the buffer (negative inside it).
    pub weekly_room_pp: Option<f64>,
    /// Points left in the 5-hour window.
    pub fiveh_room_pp: Option<f64>,
    /// Where the use was read.
    pub reading: Reading,
    /// The verdict.
    pub verdict: Verdict,
}

/// The weekly and 5-hour fields of a provider's snapshots.
fn meter_fields(provider: &str) -> Option<(&'static str, &'static str)> {
    match provider {
        "codex" => Some(("weekly_pct", "fiveh_pct")),
        "claude" => Some(("all_models_pct", "session_pct")),
        _ => None,
    }
}

fn text<'a>(row: &'a Fields, key: &str) -> &'a str {
    row.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The latest snapshot of `provider` with a weekly reading: (weekly, 5h, reading).
fn from_snapshots(provider: &str, snapshots: &[Fields]) -> Option<(f64, Option<f64>, Reading)> {
    let (weekly, fiveh) = meter_fields(provider)?;
    let mut best: Option<(&Fields, f64)> = None;
    for r in snapshots.iter().filter(|r| text(r, "provider") == provider) {
        let Some(w) = r.get("parsed").and_then(|p| p.get(weekly)).and_then(py::float) else {
            continue;
        };
        if best.is_none_or(|(b, _)| text(r, "captured_at") >= text(b, "captured_at")) {
            best = Some((r, w));
        }
    }
    let (r, w) = best?;
    let f = r.get("parsed").and_then(|p| p.get(fiveh)).and_then(py::float);
    let reading = Reading::Snapshot {
        window: text(r, "window").to_owned(),
        phase: text(r, "phase").to_owned(),
        captured_at: text(r, "captured_at").to_owned(),
    };
    Some((w, f, reading))
}

/// Advice per provider of `figures` and of `snapshots`, ranked (see the module doc).
/// `ccc` is `None` when CCC did not answer.
pub fn advise(
    figures: &[ProviderFigures],
    snapshots: &[Fields],
    ccc: Option<&[CccUse]>,
) -> Vec<Advice> {
    let mut names: Vec<String> = figures.iter().map(|f| f.provider.clone()).collect();
    for r in snapshots {
        let p = text(r, "provider");
        if !p.is_empty() && !names.iter().any(|n| n == p) {
            names.push(p.to_owned());
        }
    }
    let mut out: Vec<Advice> = names
        .into_iter()
        .map(|provider| {
            let fig = figures.iter().find(|f| f.provider == provider);
            let canon = canonical_provider(&provider).to_ascii_lowercase();
            let models: Vec<&CccUse> = ccc
                .unwrap_or(&[])
                .iter()
                .filter(|m| m.provider.eq_ignore_ascii_case(&canon))
                .collect();
            let (weekly, fiveh, blocked, reading) = if models.is_empty() {
                match from_snapshots(&provider, snapshots) {
                    Some((w, f, r)) => (Some(w), f, false, r),
                    None => (None, None, false, Reading::None),
                }
            } else {
                let max =
                    |f: fn(&CccUse) -> f64| models.iter().map(|m| f(m)).fold(f64::MIN, f64::max);
                (
                    Some(max(|m| m.weekly_pp)),
                    Some(max(|m| m.rolling_pp)),
                    models.iter().any(|m| m.block),
                    Reading::Ccc { models: models.iter().map(|m| m.model.clone()).collect() },
                )
            };
            let verdict = match (weekly, fiveh) {
                (None, _) => Verdict::Measure,
                (Some(w), _) if w >= WEEKLY_BUFFER_PP => Verdict::Hold,
                (_, Some(f)) if f >= 100.0 => Verdict::Wait,
                _ if blocked => Verdict::Wait,
                _ => Verdict::Schedule,
            };
            Advice {
                efficiency: fig.and_then(|f| f.efficiency),
                ci: fig.and_then(|f| f.ci),
                n: fig.map_or(0, |f| f.n),
                unit: fig.map_or_else(|| "pp".to_owned(), |f| f.unit.clone()),
                weekly_used_pp: weekly,
                fiveh_used_pp: fiveh,
                blocked,
                weekly_room_pp: weekly.map(|w| WEEKLY_BUFFER_PP - w),
                fiveh_room_pp: fiveh.map(|f| 100.0 - f),
                reading,
                verdict,
                provider,
            }
        })
        .collect();
    out.sort_by(rank);
    out
}

fn rank(a: &Advice, b: &Advice) -> Ordering {
    let desc = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    a.verdict
        .cmp(&b.verdict)
        .then_with(|| desc(a.efficiency, b.efficiency))
        .then_with(|| desc(a.weekly_room_pp, b.weekly_room_pp))
        .then_with(|| a.provider.cmp(&b.provider))
}
