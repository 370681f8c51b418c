//! Watching CCC over time without double counting ([`Watcher`]): what one poll saw
//! ([`Observation`]), how a restart shows ([`RestartSignal`], contract §6.6), and the dedupe
//! key of one request ([`sample_key`]). The lines of `ccc_usage.jsonl` are [`WatchLine`]s.
//!
//! Counting rules:
//! - CCP's request counters (`ccp_requests_total`) are counted by their increase between
//!   polls. A series that went down restarted from 0: its whole value is new (Prometheus reset
//!   semantics). When a restart is certain (a counter went down, or a model CCC had listed is
//!   gone: CCC never forgets a model while it runs) every series counts from 0.
//! - `/v1/quotas` `loaded` changing alone is reported, but counted as a reload (per-series
//!   increase): a reload by someone else changes it too, and counting from 0 then would
//!   count twice. A restart can then only be under-counted, never double counted.
//! - Requests from `/v1/usage/samples` (persisted by CCC, served again after a restart) are
//!   written once: keyed by `(rid, ts)`, or by a hash of `(model, ts second)` without a rid.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use agentos_event_schema::ccp::{SamplesResponse, UsageSample};
use serde::{Deserialize, Serialize};

use super::snapshot::ModelSnapshot;

/// Request keys remembered for dedupe (oldest forgotten first). Only the newest matter: each
/// poll asks for samples since a few seconds before the newest one written.
pub const DEFAULT_KEY_CAP: usize = 200_000;
/// Seconds of overlap when asking for samples since the newest one seen.
const SAMPLE_OVERLAP_S: f64 = 5.0;

/// What one poll saw, as far as restarts go.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// `/v1/quotas` `loaded`.
    pub loaded: String,
    /// Models in `/v1/usage`.
    pub models: BTreeSet<String>,
    /// Request counters by `lane|op|status`.
    pub counters: BTreeMap<String, f64>,
    /// `/metrics` was read (`counters` mean something); a poll without it compares and
    /// counts no counters.
    #[serde(default)]
    pub counters_read: bool,
}

/// Why the watcher thinks CCC restarted between two polls.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "signal", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RestartSignal {
    /// A counter went down.
    CounterDown {
        /// The series (`lane|op|status`).
        series: String,
        /// Value at the previous poll.
        before: f64,
        /// Value now.
        after: f64,
    },
    /// Models CCC listed before are gone.
    ModelsDisappeared {
        /// The models.
        models: Vec<String>,
    },
    /// `/v1/quotas` `loaded` changed (a restart, or a reload by someone).
    LoadedChanged {
        /// Before.
        before: String,
        /// Now.
        after: String,
    },
}

impl RestartSignal {
    /// Whether this signal alone proves a restart.
    pub fn is_certain(&self) -> bool {
        !matches!(self, RestartSignal::LoadedChanged { .. })
    }
}

/// The signals between two observations.
pub fn restart_signals(prev: &Observation, cur: &Observation) -> Vec<RestartSignal> {
    let mut out = Vec::new();
    let counters =
        if prev.counters_read && cur.counters_read { &prev.counters } else { &BTreeMap::new() };
    for (series, before) in counters {
        // A series that vanished from /metrics went to 0 (CCP prints only observed ones).
        let after = cur.counters.get(series).copied().unwrap_or(0.0);
        if after < *before {
            out.push(RestartSignal::CounterDown { series: series.clone(), before: *before, after });
        }
    }
    let gone: Vec<String> = prev.models.difference(&cur.models).cloned().collect();
    if !gone.is_empty() {
        out.push(RestartSignal::ModelsDisappeared { models: gone });
    }
    if !prev.loaded.is_empty() && prev.loaded != cur.loaded {
        out.push(RestartSignal::LoadedChanged {
            before: prev.loaded.clone(),
            after: cur.loaded.clone(),
        });
    }
    out
}

/// The dedupe key of one request: `rid@<ts bits>` (identical `ts` text ⇒ identical f64), or
/// `h:<fnv-1a of model and ts second>` without a rid.
pub type SampleKey = String;

/// See [`SampleKey`].
pub fn sample_key(s: &UsageSample) -> SampleKey {
    if s.rid.is_empty() {
        let bucket = s.ts.floor() as i64;
        format!("h:{:016x}", fnv1a(format!("{}\u{0}{bucket}", s.model).as_bytes()))
    } else {
        format!("{}@{:016x}", s.rid, s.ts.to_bits())
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// One line of `ccc_usage.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum WatchLine {
    /// One poll.
    Snapshot(Box<SnapshotLine>),
    /// One request CCC persisted, written once.
    Request(Box<RequestLine>),
}

/// One poll: the per-model snapshots and what changed since the previous poll.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotLine {
    /// `/v1/usage` `ts`.
    pub ts: f64,
    /// CCC's base URL.
    pub base_url: String,
    /// A restart is certain.
    pub restart: bool,
    /// Every signal seen.
    pub signals: Vec<RestartSignal>,
    /// Requests since the previous poll, from CCP's request counters.
    pub requests_delta: f64,
    /// Requests counted over every poll in this file.
    pub requests_watched: f64,
    /// Request lines written for this poll.
    pub new_requests: usize,
    /// `false` when CCC keeps no per-request history (`/v1/usage/samples` 404).
    pub persistence: bool,
    /// What restart detection compares at the next poll.
    pub observation: Observation,
    /// `ccp.usage.v1` per model.
    pub models: Vec<ModelSnapshot>,
}

/// One request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestLine {
    /// [`sample_key`].
    pub key: SampleKey,
    /// The sample as CCC served it.
    pub sample: UsageSample,
}

/// The outcome of comparing a poll with the previous one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PollDelta {
    /// Every signal.
    pub signals: Vec<RestartSignal>,
    /// A restart is certain.
    pub restart: bool,
    /// Requests since the previous poll.
    pub requests: f64,
}

/// The state of a watch: the previous observation, the request keys already written, the
/// running request count. Restored from an existing file with [`Watcher::restore`].
#[derive(Debug)]
pub struct Watcher {
    prev: Option<Observation>,
    seen: HashSet<SampleKey>,
    order: VecDeque<SampleKey>,
    cap: usize,
    requests_watched: f64,
    newest_sample: Option<f64>,
}

impl Default for Watcher {
    fn default() -> Self {
        Watcher::new(DEFAULT_KEY_CAP)
    }
}

impl Watcher {
    /// A fresh watch remembering at most `cap` request keys.
    pub fn new(cap: usize) -> Watcher {
        Watcher {
            prev: None,
            seen: HashSet::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
            requests_watched: 0.0,
            newest_sample: None,
        }
    }

    /// Take in one line already in the file (in file order).
    pub fn restore(&mut self, line: &WatchLine) {
        match line {
            WatchLine::Snapshot(s) => {
                self.prev = Some(s.observation.clone());
                self.requests_watched = s.requests_watched;
            }
            WatchLine::Request(r) => {
                self.remember(r.key.clone());
                self.note_ts(r.sample.ts);
            }
        }
    }

    /// Requests counted so far.
    pub fn requests_watched(&self) -> f64 {
        self.requests_watched
    }

    /// `since` for the next `/v1/usage/samples` (a few seconds before the newest sample
    /// written; `None` before any: CCC's default hour).
    pub fn samples_since(&self) -> Option<f64> {
        self.newest_sample.map(|t| t - SAMPLE_OVERLAP_S)
    }

    /// Compare a poll with the previous one and count its requests.
    pub fn observe(&mut self, cur: &Observation) -> PollDelta {
        let Some(prev) = self.prev.replace(cur.clone()) else {
            // The first poll: its counters are the past, not new traffic.
            return PollDelta::default();
        };
        let signals = restart_signals(&prev, cur);
        let restart = signals.iter().any(RestartSignal::is_certain);
        let requests = if prev.counters_read && cur.counters_read {
            cur.counters
                .iter()
                .map(|(series, now)| match prev.counters.get(series) {
                    Some(before) if !restart && now >= before => now - before,
                    _ => *now,
                })
                .sum()
        } else {
            0.0
        };
        self.requests_watched += requests;
        PollDelta { signals, restart, requests }
    }

    /// The requests of `resp` not written before, each with its key, in `ts` order; they
    /// are remembered as written.
    pub fn new_requests(&mut self, resp: &SamplesResponse) -> Vec<RequestLine> {
        let mut all: Vec<&UsageSample> = resp.models.values().flatten().collect();
        all.sort_by(|a, b| a.ts.total_cmp(&b.ts));
        let mut out = Vec::new();
        for s in all {
            let key = sample_key(s);
            if self.seen.contains(&key) {
                continue;
            }
            self.remember(key.clone());
            self.note_ts(s.ts);
            out.push(RequestLine { key, sample: s.clone() });
        }
        out
    }

    fn remember(&mut self, key: SampleKey) {
        if self.seen.insert(key.clone()) {
            self.order.push_back(key);
            while self.order.len() > self.cap {
                if let Some(old) = self.order.pop_front() {
                    self.seen.remove(&old);
                }
            }
        }
    }

    fn note_ts(&mut self, ts: f64) {
        if ts.is_finite() && self.newest_sample.is_none_or(|n| ts > n) {
            self.newest_sample = Some(ts);
        }
    }
}
