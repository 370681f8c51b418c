//! The dated trendline per UTC day × model (`model_trend.json`): requests, failures, tokens,
//! cost, latency p50/p95, TTFT p50/p90, ELR and dirty output TPS, fallbacks, 429s, idle
//! timeouts and quota warn/block decisions, from any turn event (recorded live or backfilled
//! from CCP's logs, whose `turn.ccp` and `decision` carry what v1 has no column for).
//!
//! Memory is bounded per day × model: the percentiles come from a `Sketch`, a log-bucketed
//! histogram with relative accuracy [`ALPHA`] (at most ≈ 2,100 buckets, whatever the count),
//! mergeable exactly, so the two-worker scan and a resumed rollup give the same numbers as a
//! sequential read. Definitions are in `docs/metrics.md` ("Trend per day and model").

use std::collections::BTreeMap;
use std::fmt;

use camino::Utf8Path;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::acc::{HashMap, Sum, day_name, day_of, slot};
use crate::{Error, Rollup, view, write_atomic};

/// Relative accuracy of the percentiles: a reported p-quantile `q` and the exact nearest-rank
/// value `x` satisfy `|q − x| ≤ ALPHA · x` (values under [`MIN_TRACKED`] ms: `|q − x| <
/// MIN_TRACKED`).
pub const ALPHA: f64 = 0.01;
/// Values below this (ms) share one bucket (reported as the smallest value seen).
pub const MIN_TRACKED: f64 = 1e-3;
const GAMMA: f64 = (1.0 + ALPHA) / (1.0 - ALPHA);

/// A quantile sketch of non-negative values (DDSketch's log buckets, dense from the lowest
/// bucket used): bucket `i` holds `(γ^(i−1), γ^i]` and stands for `2γ^i/(γ+1)`, within
/// [`ALPHA`] of every value in it; estimates are clamped to the exact min and max.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Sketch {
    n: u64,
    /// Values under [`MIN_TRACKED`].
    low: u64,
    min: f64,
    max: f64,
    /// Bucket index of `counts[0]`.
    offset: i32,
    counts: Vec<u64>,
}

fn bucket(x: f64) -> i32 {
    (x.ln() / GAMMA.ln()).ceil() as i32
}

impl Sketch {
    pub(crate) fn add(&mut self, x: f64) {
        if !(x.is_finite() && x >= 0.0) {
            return;
        }
        if self.n == 0 {
            (self.min, self.max) = (x, x);
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        self.n += 1;
        if x < MIN_TRACKED {
            self.low += 1;
            return;
        }
        self.bump(bucket(x), 1);
    }

    fn bump(&mut self, i: i32, by: u64) {
        if self.counts.is_empty() {
            self.offset = i;
        }
        if i < self.offset {
            let grow = (self.offset - i) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.offset = i;
        }
        let at = (i - self.offset) as usize;
        if at >= self.counts.len() {
            self.counts.resize(at + 1, 0);
        }
        if let Some(c) = self.counts.get_mut(at) {
            *c += by;
        }
    }

    pub(crate) fn merge(&mut self, o: &Sketch) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            (self.min, self.max) = (o.min, o.max);
        } else {
            self.min = self.min.min(o.min);
            self.max = self.max.max(o.max);
        }
        self.n += o.n;
        self.low += o.low;
        for (k, c) in o.counts.iter().enumerate() {
            if *c > 0 {
                self.bump(o.offset + k as i32, *c);
            }
        }
    }

    /// The `pct`-th percentile by nearest rank (the value of rank ⌈pct·n/100⌉ in ascending
    /// order), within [`ALPHA`]; `None` without values.
    pub(crate) fn percentile(&self, pct: u64) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        let rank = (pct.min(100) * self.n).div_ceil(100).max(1);
        if rank <= self.low {
            return Some(self.min);
        }
        let mut seen = self.low;
        for (k, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let i = self.offset + k as i32;
                let v = 2.0 * GAMMA.powi(i) / (GAMMA + 1.0);
                return Some(v.clamp(self.min, self.max));
            }
        }
        Some(self.max)
    }
}

/// What `turn.ccp` says (the backfill's own key; any shape is tolerated, what is not of the
/// expected type is ignored: v1 lets a turn carry extra keys).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CcpView {
    no_completion: bool,
    failed: bool,
    saw_429: bool,
    idle_timeout: bool,
    fallbacks: u64,
    ttft_ms: Option<f64>,
    stream_ms: Option<f64>,
}

#[derive(Clone, Copy)]
pub(crate) enum CcpKey {
    End,
    Failed,
    Status,
    FirstStatus,
    ErrType,
    Fallbacks,
    Ttft,
    Stream,
    Other,
}

impl CcpKey {
    /// The key `s` names.
    pub(crate) fn of(s: &str) -> CcpKey {
        match s {
            "end" => CcpKey::End,
            "failed" => CcpKey::Failed,
            "status" => CcpKey::Status,
            "first_attempt_status" => CcpKey::FirstStatus,
            "err_type" => CcpKey::ErrType,
            "fallbacks" => CcpKey::Fallbacks,
            "ttft_ms" => CcpKey::Ttft,
            "stream_ms" => CcpKey::Stream,
            _ => CcpKey::Other,
        }
    }
}

impl<'de> Deserialize<'de> for CcpKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = CcpKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<CcpKey, E> {
                Ok(CcpKey::of(s))
            }
        }
        d.deserialize_str(V)
    }
}

/// Any JSON value, read for what it may tell: a boolean, a number or one of the strings the
/// trend looks for. Never an error.
#[derive(Clone, Copy, Default)]
pub(crate) struct Loose {
    flag: Option<bool>,
    num: Option<f64>,
    word: Word,
}

#[derive(Clone, Copy, Default, PartialEq)]
enum Word {
    #[default]
    None,
    NoCompletion,
    Status429,
    IdleTimeout,
}

impl Loose {
    pub(crate) fn flag(v: bool) -> Loose {
        Loose { flag: Some(v), ..Loose::default() }
    }
    pub(crate) fn num(v: f64) -> Loose {
        Loose { num: Some(v), ..Loose::default() }
    }
    pub(crate) fn word(s: &str) -> Loose {
        let word = match s {
            "no_completion" => Word::NoCompletion,
            "429" => Word::Status429,
            "idle_timeout" => Word::IdleTimeout,
            _ => Word::None,
        };
        Loose { word, ..Loose::default() }
    }
}

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Loose;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Loose, E> {
                Ok(Loose::flag(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Loose, E> {
                Ok(Loose { num: Some(v as f64), ..Loose::default() })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Loose, E> {
                Ok(Loose { num: Some(v as f64), ..Loose::default() })
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Loose, E> {
                Ok(Loose::num(v))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Loose, E> {
                Ok(Loose::word(s))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Loose, E> {
                Ok(Loose::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Loose, E> {
                Ok(Loose::default())
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Loose, D2::Error> {
                Loose::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Loose::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Loose, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Loose::default())
            }
        }
        d.deserialize_any(V)
    }
}

impl CcpView {
    /// Read one key of the object (in order: a repeated key counts again, as it reads).
    pub(crate) fn take(&mut self, k: CcpKey, v: Loose) {
        let nonneg = |v: Option<f64>| v.filter(|v| v.is_finite() && *v >= 0.0);
        match k {
            CcpKey::End => self.no_completion = v.word == Word::NoCompletion,
            CcpKey::Failed => self.failed = v.flag == Some(true),
            CcpKey::Status | CcpKey::FirstStatus => self.saw_429 |= v.num == Some(429.0),
            CcpKey::ErrType => {
                self.saw_429 |= v.word == Word::Status429;
                self.idle_timeout = v.word == Word::IdleTimeout;
            }
            CcpKey::Fallbacks => {
                self.fallbacks = nonneg(v.num).map_or(0, |n| n.min(u32::MAX as f64) as u64)
            }
            CcpKey::Ttft => self.ttft_ms = nonneg(v.num),
            CcpKey::Stream => self.stream_ms = nonneg(v.num),
            CcpKey::Other => {}
        }
    }
}

impl<'de> Deserialize<'de> for CcpView {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CcpView;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CcpView, A::Error> {
                let mut c = CcpView::default();
                while let Some(k) = map.next_key::<CcpKey>()? {
                    c.take(k, map.next_value()?);
                }
                Ok(c)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<CcpView, E> {
                Ok(CcpView::default())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<CcpView, E> {
                Ok(CcpView::default())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<CcpView, E> {
                Ok(CcpView::default())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<CcpView, E> {
                Ok(CcpView::default())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<CcpView, E> {
                Ok(CcpView::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<CcpView, E> {
                Ok(CcpView::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CcpView, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(CcpView::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// `decision.reroute_decision`: a string (type-checked like the v1 schema), kept as what the
/// trend counts.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) enum Reroute {
    #[default]
    Other,
    /// `quota_warn_attempt`, `quota_preemptive_warn`: the model was over its warning line.
    Warn,
    /// `quota_block`: the model was blocked, the request went to the fallback lane.
    Block,
}

impl Reroute {
    /// What the decision string `s` counts as.
    pub(crate) fn of(s: &str) -> Reroute {
        match s {
            "quota_warn_attempt" | "quota_preemptive_warn" => Reroute::Warn,
            "quota_block" => Reroute::Block,
            _ => Reroute::Other,
        }
    }
}

impl<'de> Deserialize<'de> for Reroute {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Reroute;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Reroute, E> {
                Ok(Reroute::of(s))
            }
        }
        d.deserialize_str(V)
    }
}

/// One day × model being added up.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Cell {
    requests: u64,
    failed: u64,
    tokens_in: u64,
    tokens_out: u64,
    cost: Sum,
    latency: Sketch,
    ttft: Sketch,
    /// Σ effective seconds (stream time, else latency) and Σ latency seconds, for the TPS.
    elr_s: Sum,
    dirty_s: Sum,
    fallbacks: u64,
    status_429: u64,
    idle_timeouts: u64,
    quota_warn: u64,
    quota_block: u64,
}

impl Cell {
    fn merge(&mut self, o: &Cell) {
        self.requests += o.requests;
        self.failed += o.failed;
        self.tokens_in = self.tokens_in.saturating_add(o.tokens_in);
        self.tokens_out = self.tokens_out.saturating_add(o.tokens_out);
        self.cost.merge(o.cost);
        self.latency.merge(&o.latency);
        self.ttft.merge(&o.ttft);
        self.elr_s.merge(o.elr_s);
        self.dirty_s.merge(o.dirty_s);
        self.fallbacks += o.fallbacks;
        self.status_429 += o.status_429;
        self.idle_timeouts += o.idle_timeouts;
        self.quota_warn += o.quota_warn;
        self.quota_block += o.quota_block;
    }
}

/// UTC day number → model → cell: one worker's share, merged, and carried by the checkpoint.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct ModelTrendAcc {
    days: HashMap<i64, HashMap<String, Cell>>,
}

impl ModelTrendAcc {
    /// Add one counted turn (`counted`: 0 for a correction, which adds tokens, not a turn).
    /// Turns without a time are not dated, so not in the trend.
    pub(crate) fn add(&mut self, t: &view::TurnLine<'_>, cost_usd: f64, counted: u64) {
        let Some(ts) = t.ts else { return };
        let turn = &t.turn;
        let Some(c) = slot(self.days.entry(day_of(ts.0)).or_default(), &turn.model) else {
            return;
        };
        let ccp = turn.ccp.unwrap_or_default();
        c.requests += counted;
        c.tokens_in = c.tokens_in.saturating_add(turn.tokens_in);
        c.tokens_out = c.tokens_out.saturating_add(turn.tokens_out);
        c.cost.add(cost_usd);
        if counted == 0 {
            return;
        }
        let latency = turn.latency_ms.0;
        // A request without a completion has no latency (the client got a 502).
        if !ccp.no_completion {
            c.latency.add(latency);
        }
        if let Some(v) = ccp.ttft_ms {
            c.ttft.add(v);
        }
        let effective = ccp.stream_ms.filter(|s| *s > 0.0).unwrap_or(latency);
        c.elr_s.add(effective / 1000.0);
        c.dirty_s.add(latency / 1000.0);
        c.failed += u64::from(ccp.failed);
        c.fallbacks += ccp.fallbacks;
        c.status_429 += u64::from(ccp.saw_429);
        c.idle_timeouts += u64::from(ccp.idle_timeout);
        match t.decision.as_ref().and_then(|d| d.reroute_decision) {
            Some(Reroute::Warn) => c.quota_warn += 1,
            Some(Reroute::Block) => c.quota_block += 1,
            _ => {}
        }
    }

    pub(crate) fn merge(&mut self, o: ModelTrendAcc) {
        for (d, models) in o.days {
            let mine = self.days.entry(d).or_default();
            for (m, c) in models {
                mine.entry(m).or_default().merge(&c);
            }
        }
    }

    /// The rows, by date then model.
    pub(crate) fn rows(&self) -> Vec<ModelDay> {
        let mut out: Vec<ModelDay> = Vec::new();
        for (d, models) in &self.days {
            let date = day_name(*d);
            for (m, c) in models {
                out.push(row(&date, m, c));
            }
        }
        out.sort_by(|a, b| (&a.date, &a.model).cmp(&(&b.date, &b.model)));
        out
    }
}

fn row(date: &str, model: &str, c: &Cell) -> ModelDay {
    let out = c.tokens_out as f64;
    let tps = |secs: f64| (secs > 0.0).then(|| out / secs);
    ModelDay {
        date: date.to_owned(),
        model: model.to_owned(),
        requests: c.requests,
        failed: c.failed,
        tokens_in: c.tokens_in,
        tokens_out: c.tokens_out,
        cost_usd: c.cost.get(),
        latency_ms_p50: c.latency.percentile(50),
        latency_ms_p95: c.latency.percentile(95),
        latency_samples: c.latency.n,
        ttft_ms_p50: c.ttft.percentile(50),
        ttft_ms_p90: c.ttft.percentile(90),
        ttft_samples: c.ttft.n,
        out_elr_tps: tps(c.elr_s.get()),
        out_dirty_tps: tps(c.dirty_s.get()),
        fallbacks: c.fallbacks,
        status_429: c.status_429,
        idle_timeouts: c.idle_timeouts,
        quota_warn: c.quota_warn,
        quota_block: c.quota_block,
    }
}

/// One UTC day × model of the trendline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelDay {
    /// UTC day of the turns' `ts`, `YYYY-MM-DD`.
    pub date: String,
    /// The model as recorded.
    pub model: String,
    /// Requests (turns; a correction adds tokens, not a request).
    pub requests: u64,
    /// Failed requests (`turn.ccp.failed`: no completion, an error status, a stream error).
    pub failed: u64,
    /// Input tokens.
    pub tokens_in: u64,
    /// Output tokens.
    pub tokens_out: u64,
    /// Estimated cost, USD (the events' `cost`, priced from the price table when written).
    pub cost_usd: f64,
    /// Latency percentiles, ms (nearest rank, within [`ALPHA`]); requests without a
    /// completion are left out. `null` without samples.
    pub latency_ms_p50: Option<f64>,
    /// See `latency_ms_p50`.
    pub latency_ms_p95: Option<f64>,
    /// Requests in the latency percentiles.
    pub latency_samples: u64,
    /// Time to first token, ms, over the requests that logged one (streams).
    pub ttft_ms_p50: Option<f64>,
    /// See `ttft_ms_p50`.
    pub ttft_ms_p90: Option<f64>,
    /// Requests in the TTFT percentiles.
    pub ttft_samples: u64,
    /// Σ output tokens / Σ effective seconds (stream time, else latency); `null` when 0 s.
    pub out_elr_tps: Option<f64>,
    /// Σ output tokens / Σ latency seconds; `null` when 0 s.
    pub out_dirty_tps: Option<f64>,
    /// Fallback attempts (`turn.ccp.fallbacks`).
    pub fallbacks: u64,
    /// Requests that met a 429 (status, first attempt's status or `err_type`).
    pub status_429: u64,
    /// Streams ended by CCP's idle timeout (`err_type` `idle_timeout`).
    pub idle_timeouts: u64,
    /// Requests whose quota decision was a warning (`quota_warn_attempt`,
    /// `quota_preemptive_warn`).
    pub quota_warn: u64,
    /// Requests whose quota decision was a block (`quota_block`).
    pub quota_block: u64,
}

/// `model_trend.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelTrend {
    /// Version of the event contract that wrote the file.
    pub schema_version: String,
    /// One row per UTC day × model, by date then model.
    pub rows: Vec<ModelDay>,
}

/// Largest `model_trend.json` read back.
const MAX_MODEL_TREND: u64 = 256 << 20;

/// Merge the rollup's days into `model_trend.json` (written atomically, keys sorted): every
/// row of a day the rollup has turns on replaces the stored rows of that day; other stored
/// days are kept (their log may have been rotated away). Re-running gives identical bytes.
pub fn update_model_trend(path: &Utf8Path, rollup: &Rollup) -> Result<ModelTrend, Error> {
    let mut rows: BTreeMap<(String, String), ModelDay> = BTreeMap::new();
    let stored = agentos_fsio::read_bounded(path, MAX_MODEL_TREND).map_err(|e| match e {
        agentos_fsio::Error::Io { source, .. } => Error::Read { path: path.to_owned(), source },
        other => Error::Corrupt {
            path: path.to_owned(),
            what: "model_trend.json",
            message: other.to_string(),
        },
    })?;
    if let Some(bytes) = stored {
        let old: ModelTrend = serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
            path: path.to_owned(),
            what: "model_trend.json",
            message: e.to_string(),
        })?;
        let fresh: std::collections::BTreeSet<&str> =
            rollup.model_days.iter().map(|r| r.date.as_str()).collect();
        rows.extend(
            old.rows
                .into_iter()
                .filter(|r| !fresh.contains(r.date.as_str()))
                .map(|r| ((r.date.clone(), r.model.clone()), r)),
        );
    }
    for r in &rollup.model_days {
        rows.insert((r.date.clone(), r.model.clone()), r.clone());
    }
    let trend = ModelTrend {
        schema_version: agentos_event_schema::v1::SCHEMA_VERSION.to_owned(),
        rows: rows.into_values().collect(),
    };
    write_atomic(path, &crate::fsio::canonical_json(&trend, "model trend")?)?;
    Ok(trend)
}
