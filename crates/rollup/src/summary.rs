//! The streaming summary's public face: options, results, the entry points, and turning the
//! merged aggregate into a [`MetricsSummary`]. Reading is `scan.rs`, accumulating `acc.rs`,
//! resuming from a checkpoint `checkpoint.rs`.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use agentos_event_schema::Timestamp;
use agentos_event_schema::v1::{
    CapacityAlert, FeatureStatus, MetricsSummary, ModelValue, OutcomeKind, Period, SCHEMA_VERSION,
    Usage,
};
use camino::{Utf8Path, Utf8PathBuf};

use crate::acc::{RowAcc, Sum, UsageAcc, day_name, day_of};
use crate::scan::{Totals, scan};
use agentos_event_schema::provider::{canonical_provider, is_prompt_counted, provider_for_model};

use crate::{CAPACITY_ADVICE, Error, WEEKLY_BUFFER_LINE};

/// At most this many diagnostics are kept in [`Rollup::diagnostics`]; all are counted in
/// `summary.diagnostics`.
pub const MAX_KEPT_DIAGNOSTICS: usize = 1000;

/// How to roll up.
#[derive(Clone, Debug, Default)]
pub struct SummaryOptions {
    /// Fail on the first malformed or schema-invalid line instead of skipping it. A torn last
    /// line (no trailing newline: a writer was interrupted) is still only reported.
    pub strict: bool,
    /// A CCC `/v1/usage` `models` map (model → model view), copied into the summary's
    /// `model_health` and read for `weekly_pct` (capacity alerts).
    pub model_health: Option<BTreeMap<String, serde_json::Value>>,
    /// Only count events of this session (reports for one session).
    pub session: Option<String>,
    /// Weekly capacity per provider, in the unit of `capacity_used` (default 1.0: capacity is
    /// a fraction of the weekly limit). Providers that count prompts (Z.ai / GLM, see
    /// `agentos_event_schema::provider::is_prompt_counted`) get no alert from events unless
    /// listed here. Keys are provider names or aliases (`glm` is `zai`).
    pub weekly_capacity: BTreeMap<String, f64>,
    /// Value of `generated_at` (default: now).
    pub generated_at: Option<Timestamp>,
    /// Leave [`Rollup::sessions`] empty: those rows cost memory per session (~150 bytes
    /// each); the summary, its session count and the days are the same without them.
    pub no_session_rows: bool,
}

/// A line that was skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file.
    pub file: Utf8PathBuf,
    /// 1-based line number.
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// Totals of a slice of the log (a session, a day).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Row {
    /// Turns.
    pub turns: u64,
    /// Input tokens.
    pub tokens_in: u64,
    /// Output tokens.
    pub tokens_out: u64,
    /// Estimated cost, USD.
    pub cost_usd: f64,
    /// Σ feature_delta.
    pub features: f64,
    /// Σ capacity_used.
    pub capacity_used: f64,
    /// `features / capacity_used`; `null` when capacity is 0.
    pub features_per_capacity: Option<f64>,
}

/// One session's totals.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SessionRow {
    /// The session id.
    pub session_id: String,
    /// When it started (its `created_at`, else its first timed event).
    pub started: Option<Timestamp>,
    /// Whether a `session_end` was seen.
    pub ended: bool,
    /// Its totals.
    #[serde(flatten)]
    pub row: Row,
}

/// The result of a rollup.
#[derive(Clone, Debug)]
pub struct Rollup {
    /// The summary (`metrics_summary.json`).
    pub summary: MetricsSummary,
    /// Skipped lines (at most [`MAX_KEPT_DIAGNOSTICS`]; `summary.diagnostics` counts all).
    pub diagnostics: Vec<Diagnostic>,
    /// Per session, ordered by start time then id.
    pub sessions: Vec<SessionRow>,
    /// Per UTC day (`YYYY-MM-DD`; `unknown` for turns with no time in sessions with no time).
    pub days: BTreeMap<String, Row>,
    /// Events skipped because an event with the same `event_id` was already counted.
    pub duplicates: u64,
    /// Per UTC day × model, by date then model (`model_trend.json`, [`crate::model_trend`]).
    pub model_days: Vec<crate::model_trend::ModelDay>,
}

/// The result of a summary refresh ([`refresh_incremental`](crate::refresh_incremental)): a
/// [`Rollup`] without its per-session and per-day breakdowns.
#[derive(Clone, Debug)]
pub struct Refresh {
    /// The summary (`metrics_summary.json`).
    pub summary: MetricsSummary,
    /// Skipped lines read by this call (at most [`MAX_KEPT_DIAGNOSTICS`]; `summary.diagnostics`
    /// counts all).
    pub diagnostics: Vec<Diagnostic>,
    /// Events skipped because an event with the same `event_id` was already counted.
    pub duplicates: u64,
}

/// Roll up everything `reader` yields, naming it `name` in diagnostics.
pub fn summarize_reader<R: Read + Send>(
    name: &Utf8Path,
    reader: R,
    opts: &SummaryOptions,
) -> Result<Rollup, Error> {
    let mut totals = Totals::default();
    scan(0, 0, name, reader, opts, 0, &mut totals)?;
    finish(totals, opts, true)
}

/// Stream one or more `events.jsonl` files (a missing file counts as empty) into a summary.
/// An event is counted once by its `event_id`, whichever files repeat it; a file named twice
/// (the same device and inode) is read once. Malformed or schema-invalid lines are skipped
/// and reported (`strict`: the first one is an [`Error::InvalidLine`]).
pub fn summarize_files(paths: &[Utf8PathBuf], opts: &SummaryOptions) -> Result<Rollup, Error> {
    let mut totals = Totals::default();
    for (i, file) in crate::checkpoint::open_distinct(paths)? {
        scan(i, 0, &paths_name(paths, i), file, opts, 0, &mut totals)?;
    }
    finish(totals, opts, true)
}

pub(crate) fn paths_name(paths: &[Utf8PathBuf], i: usize) -> Utf8PathBuf {
    paths.get(i).cloned().unwrap_or_default()
}

/// The summary and breakdowns of everything added up; the per-session rows only when `rows`
/// (they need every stored session in memory).
pub(crate) fn finish(totals: Totals, opts: &SummaryOptions, rows: bool) -> Result<Rollup, Error> {
    let rows = rows && !opts.no_session_rows;
    // The ids counted are not needed any more: free them before the rows are built.
    let Totals { mut acc, stored, kept, diagnostics, duplicates, seen } = totals;
    drop(seen);
    if rows && stored.rest().is_none() {
        return Err(Error::Internal("per-session rows without the stored sessions".to_owned()));
    }
    // Every session: the working set and the stored ones in memory (those left on disk have
    // no undated turns and are counted from the base's counts).
    let rest = stored.rest().into_iter().flat_map(|m| m.iter());
    let all = || acc.sessions.iter().chain(rest.clone());
    // Undated turns go to their session's day.
    let mut days: BTreeMap<Option<i64>, RowAcc> = BTreeMap::new();
    for (d, r) in &acc.days {
        days.entry(Some(*d)).or_default().merge(r);
    }
    let mut undated_capacity: Vec<(String, i64, Sum)> = Vec::new();
    for (_, s) in all() {
        let Some(u) = &s.undated else { continue };
        let day = s.start().map(day_of);
        days.entry(day).or_default().merge(&u.row);
        if let Some(d) = day {
            for (p, c) in &u.capacity {
                undated_capacity.push((p.clone(), d, *c));
            }
        }
    }
    let sessions_announced = stored.announced(&acc.sessions);
    let session_rows: Vec<SessionRow> = if rows {
        all()
            .map(|(id, s)| SessionRow {
                session_id: id.to_owned(),
                started: s.start().and_then(ts),
                ended: s.ended,
                row: s.row.row(),
            })
            .collect()
    } else {
        Vec::new()
    };
    for (p, d, c) in undated_capacity {
        acc.provider_days.entry(p).or_default().entry(d).or_default().merge(c);
    }

    // Weekly use: Σ capacity over the 7 UTC days ending on the period's last day.
    let mut weekly: BTreeMap<String, f64> = BTreeMap::new();
    if let Some((_, end)) = acc.period {
        let last = day_of(end);
        // Capacities are given per provider name; `glm` and `zai` name the same provider.
        let capacities: BTreeMap<&str, f64> =
            opts.weekly_capacity.iter().map(|(k, v)| (canonical_provider(k), *v)).collect();
        for (p, by_day) in &acc.provider_days {
            let cap = match capacities.get(p.as_str()) {
                Some(c) if *c > 0.0 => *c,
                Some(_) => continue,
                None if is_prompt_counted(p) => continue,
                None => 1.0,
            };
            let mut sum = Sum::default();
            for (d, c) in by_day {
                if *d > last - 7 && *d <= last {
                    sum.merge(*c);
                }
            }
            weekly.insert(p.clone(), sum.get() / cap);
        }
    }
    if let Some(health) = &opts.model_health {
        for (model, v) in health {
            let Some(pct) = v.get("weekly_pct").and_then(|x| x.as_f64()) else { continue };
            let provider = match v.get("provider").and_then(|x| x.as_str()) {
                Some(p) if !p.trim().is_empty() => canonical_provider(p),
                _ => provider_for_model(model),
            };
            let w = weekly.entry(provider.to_owned()).or_insert(pct);
            *w = w.max(pct);
        }
    }
    let capacity_alerts = weekly
        .iter()
        .filter(|(_, w)| **w >= WEEKLY_BUFFER_LINE - 1e-9)
        .map(|(p, w)| CapacityAlert {
            provider: p.clone(),
            weekly_used: *w,
            threshold: WEEKLY_BUFFER_LINE,
            advice: CAPACITY_ADVICE.to_owned(),
        })
        .collect();

    let mut features_by_status: BTreeMap<FeatureStatus, u64> =
        [FeatureStatus::Proposed, FeatureStatus::Implemented, FeatureStatus::Shipped]
            .into_iter()
            .map(|s| (s, 0))
            .collect();
    for (_, status) in acc.features.values() {
        *features_by_status.entry(*status).or_default() += 1;
    }
    let shipped = features_by_status.get(&FeatureStatus::Shipped).copied().unwrap_or(0);
    let cost_usd = acc.cost.get();

    let mut usage_by_model: BTreeMap<String, Usage> = BTreeMap::new();
    let mut usage_by_provider: BTreeMap<String, Usage> = BTreeMap::new();
    for (model, providers) in &acc.usage {
        let mut m = UsageAcc::default();
        for (p, u) in providers {
            m.merge(u);
            let mut pu = UsageAcc::default();
            if let Some(prev) = usage_by_provider.get(p) {
                pu = UsageAcc {
                    turns: prev.turns,
                    tokens_in: prev.tokens_in,
                    tokens_out: prev.tokens_out,
                    cost: Sum { s: prev.cost_usd, c: 0.0 },
                };
            }
            pu.merge(u);
            usage_by_provider.insert(p.clone(), usage(&pu));
        }
        usage_by_model.insert(model.clone(), usage(&m));
    }

    let mut value_per_model: BTreeMap<String, ModelValue> = BTreeMap::new();
    for (model, u) in &usage_by_model {
        value_per_model.insert(
            model.clone(),
            ModelValue {
                turns: u.turns,
                tokens_in: u.tokens_in,
                tokens_out: u.tokens_out,
                cost_usd: u.cost_usd,
                ..ModelValue::default()
            },
        );
    }
    let mut model_value = BTreeMap::new();
    for (model, a) in &acc.attribution {
        model_value.insert(model.clone(), a.weight.get());
        let v = value_per_model.entry(model.clone()).or_default();
        v.attribution_weight = a.weight.get();
        v.features_attributed = a.features.get();
    }
    for v in value_per_model.values_mut() {
        v.cost_per_attributed_feature =
            (v.features_attributed > 0.0).then(|| v.cost_usd / v.features_attributed);
    }

    let features_shipped = acc.features_sum.get();
    let capacity_used = acc.capacity_sum.get();
    let outcomes = OutcomeKind::ALL.iter().cloned().zip(acc.outcomes).collect();
    let summary = MetricsSummary {
        schema_version: SCHEMA_VERSION.to_owned(),
        generated_at: Some(opts.generated_at.unwrap_or_else(Timestamp::now)),
        period: acc.period.and_then(|(a, b)| Some(Period { start: ts(a)?, end: ts(b)? })),
        sessions: sessions_announced,
        turns: acc.turns,
        features_shipped,
        capacity_used,
        features_per_capacity: (capacity_used != 0.0).then(|| features_shipped / capacity_used),
        avg_cls: acc.cls.get(),
        avg_impf: acc.impf.get(),
        avg_churn_score: acc.churn.get(),
        model_value,
        model_health: opts.model_health.clone().filter(|m| !m.is_empty()),
        features_by_status,
        usage_by_model,
        usage_by_provider,
        cost_usd,
        cost_per_shipped_feature: (shipped > 0).then(|| cost_usd / shipped as f64),
        outcomes,
        value_per_model,
        capacity_alerts,
        diagnostics,
        git_features: None,
        extra: Default::default(),
    };

    let mut sessions = session_rows;
    sessions.sort_by(|a, b| (a.started, &a.session_id).cmp(&(b.started, &b.session_id)));
    let days = days
        .into_iter()
        .map(|(d, r)| (d.map_or_else(|| "unknown".to_owned(), day_name), r.row()))
        .collect();
    let model_days = if rows { acc.model_trend.rows() } else { Vec::new() };
    Ok(Rollup { summary, diagnostics: kept, sessions, days, duplicates, model_days })
}

fn usage(u: &UsageAcc) -> Usage {
    Usage {
        turns: u.turns,
        tokens_in: u.tokens_in,
        tokens_out: u.tokens_out,
        cost_usd: u.cost.get(),
    }
}

/// A `jiff` timestamp as ours (the same range: never `None` in practice).
fn ts(t: jiff::Timestamp) -> Option<Timestamp> {
    Timestamp::from_unix_micros(t.as_microsecond())
}
