//! What AgentOS reads from CCP's `/metrics` ([`CcpMetrics`]), and what it refuses to read.
//!
//! Totals come only from families CCP increments once per event:
//! `ccp_requests_total{lane,op,status}` (requests, 429s, 5xx), the `_count`/`_sum` of the
//! `ccp_request_duration_seconds{lane,op}` histogram (requests and latency),
//! `ccp_partial_writes_total`, `ccp_rerouted_on_limit_total{mode,model}`,
//! `ccp_preferred_attempt_total{lane,model}`, `ccp_wasted_retry_ms_total{model}`,
//! `ccp_store_writes_total`, `ccp_store_write_errors_total`, the gauges
//! `ccp_upstream_ready{lane}` and `ccp_store_size_bytes`.
//!
//! Never read for totals (contract B2): `ccp_input_tokens_total`, `ccp_output_tokens_total`,
//! `ccp_stream_seconds_total` and `ccp_dirty_seconds_total`. CCP adds to them once per
//! histogram bucket below the request's latency (0× under 100 ms, up to 8× past 30 s), so
//! their values are not token or second counts. Tokens and speeds come from `/v1/usage`,
//! `/v1/usage/samples` and `/v1/usage/rollups` instead. [`CcpMetrics::inflated_families`]
//! only says which of them were present.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::prometheus::{Exposition, MetricKind};

/// Families whose values CCP inflates inside its bucket loop (contract B2).
pub const INFLATED_FAMILIES: [&str; 4] = [
    "ccp_input_tokens_total",
    "ccp_output_tokens_total",
    "ccp_stream_seconds_total",
    "ccp_dirty_seconds_total",
];

/// Requests and latency of one `(lane, op)`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LaneOp {
    /// Lane (`anthropic`, `zai`, a catalog provider …).
    pub lane: String,
    /// `nonstream` or `stream`.
    pub op: String,
    /// Requests by the status CCP logged (the first attempt's, after a fallback: B1).
    pub by_status: BTreeMap<String, f64>,
    /// Requests (`ccp_request_duration_seconds_count`).
    pub count: f64,
    /// Seconds (`ccp_request_duration_seconds_sum`).
    pub seconds: f64,
}

impl LaneOp {
    /// Mean latency in seconds, `None` without requests.
    pub fn mean_seconds(&self) -> Option<f64> {
        (self.count > 0.0).then(|| self.seconds / self.count)
    }
}

/// The numbers AgentOS takes from `/metrics`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CcpMetrics {
    /// Per `(lane, op)`, sorted.
    pub lanes: Vec<LaneOp>,
    /// All requests (`ccp_requests_total` summed).
    pub requests: f64,
    /// Requests logged with status 429.
    pub status_429: f64,
    /// Requests logged with a 5xx status.
    pub status_5xx: f64,
    /// Streams that ended with an error or idle timeout.
    pub partial_writes: f64,
    /// Reroutes by `(mode, model)`.
    pub rerouted: BTreeMap<String, BTreeMap<String, f64>>,
    /// Preferred-lane attempts by `(lane, model)`.
    pub preferred_attempts: BTreeMap<String, BTreeMap<String, f64>>,
    /// Milliseconds wasted on overshooting retries, by model.
    pub wasted_retry_ms: BTreeMap<String, f64>,
    /// `ccp_upstream_ready` by lane (set only after `/readyz` ran).
    pub upstream_ready: BTreeMap<String, f64>,
    /// Store writes.
    pub store_writes: Option<f64>,
    /// Store write errors.
    pub store_write_errors: Option<f64>,
    /// Store file size, bytes.
    pub store_size_bytes: Option<f64>,
    /// Inflated families present in the body (listed, never summed).
    pub inflated_families: Vec<String>,
    /// Families this version does not know (CCP grew a metric).
    pub unknown_families: Vec<String>,
}

/// Every family CCP emits: name, type, label names (histograms without `le`) — contract §2.8.
pub const CCP_FAMILIES: [(&str, MetricKind, &[&str]); 15] = [
    ("ccp_requests_total", MetricKind::Counter, &["lane", "op", "status"]),
    ("ccp_request_duration_seconds", MetricKind::Histogram, &["lane", "op"]),
    ("ccp_partial_writes_total", MetricKind::Counter, &[]),
    ("ccp_upstream_ready", MetricKind::Gauge, &["lane"]),
    ("ccp_output_tokens_total", MetricKind::Counter, &["lane", "model"]),
    ("ccp_input_tokens_total", MetricKind::Counter, &["lane", "model"]),
    ("ccp_stream_seconds_total", MetricKind::Counter, &["lane", "model"]),
    ("ccp_dirty_seconds_total", MetricKind::Counter, &["lane", "model"]),
    ("ccp_preferred_attempt_total", MetricKind::Counter, &["lane", "model"]),
    ("ccp_rerouted_on_limit_total", MetricKind::Counter, &["mode", "model"]),
    ("ccp_wasted_retry_ms_total", MetricKind::Counter, &["model"]),
    ("ccp_store_writes_total", MetricKind::Counter, &[]),
    ("ccp_store_write_errors_total", MetricKind::Counter, &[]),
    ("ccp_rollup_duration_seconds", MetricKind::Histogram, &["granularity"]),
    ("ccp_store_size_bytes", MetricKind::Gauge, &[]),
];

/// How a `/metrics` body differs from what CCP is known to emit ([`CCP_FAMILIES`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricsDrift {
    /// A family CCP did not emit before.
    NewFamily {
        /// Its name.
        family: String,
    },
    /// A known family with another type.
    KindChanged {
        /// Its name.
        family: String,
        /// The type CCP used to declare.
        expected: MetricKind,
        /// The type it declares now.
        found: MetricKind,
    },
    /// A known family with a label name it did not have.
    NewLabel {
        /// The family.
        family: String,
        /// The label name.
        label: String,
    },
}

impl std::fmt::Display for MetricsDrift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetricsDrift::NewFamily { family } => write!(f, "family {family} is new"),
            MetricsDrift::KindChanged { family, expected, found } => {
                write!(f, "family {family} is a {found:?}, it was a {expected:?}")
            }
            MetricsDrift::NewLabel { family, label } => {
                write!(f, "family {family} has a new label {label:?}")
            }
        }
    }
}

/// Families, types and label names of `e` that CCP is not known to emit. Missing families
/// are no drift (CCP prints some only once observed).
pub fn metrics_drift(e: &Exposition) -> Vec<MetricsDrift> {
    let mut out = Vec::new();
    for (name, family) in &e.families {
        let Some((_, kind, labels)) = CCP_FAMILIES.iter().find(|(n, _, _)| n == name) else {
            out.push(MetricsDrift::NewFamily { family: name.clone() });
            continue;
        };
        if family.kind != *kind && family.kind != MetricKind::Untyped {
            out.push(MetricsDrift::KindChanged {
                family: name.clone(),
                expected: *kind,
                found: family.kind,
            });
        }
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for s in &family.samples {
            seen.extend(s.labels.keys().map(String::as_str));
        }
        for label in seen {
            let histogram_le = *kind == MetricKind::Histogram && label == "le";
            if !histogram_le && !labels.contains(&label) {
                out.push(MetricsDrift::NewLabel { family: name.clone(), label: label.to_owned() });
            }
        }
    }
    out
}

fn label<'a>(s: &'a super::prometheus::Sample, name: &str) -> &'a str {
    s.labels.get(name).map_or("", String::as_str)
}

fn by_two(
    e: &Exposition,
    family: &str,
    a: &str,
    b: &str,
) -> BTreeMap<String, BTreeMap<String, f64>> {
    let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for s in e.series(family) {
        *out.entry(label(s, a).to_owned())
            .or_default()
            .entry(label(s, b).to_owned())
            .or_default() += s.value;
    }
    out
}

fn single(e: &Exposition, family: &str) -> Option<f64> {
    e.family(family).map(|f| f.samples.iter().map(|s| s.value).sum())
}

impl CcpMetrics {
    /// Read the numbers from a parsed body; absent families read as empty.
    pub fn from_exposition(e: &Exposition) -> CcpMetrics {
        let mut lanes: BTreeMap<(String, String), LaneOp> = BTreeMap::new();
        let mut m = CcpMetrics::default();
        for s in e.series("ccp_requests_total") {
            let (lane, op, status) = (label(s, "lane"), label(s, "op"), label(s, "status"));
            let entry = lanes.entry((lane.to_owned(), op.to_owned())).or_insert_with(|| LaneOp {
                lane: lane.to_owned(),
                op: op.to_owned(),
                ..LaneOp::default()
            });
            *entry.by_status.entry(status.to_owned()).or_default() += s.value;
            m.requests += s.value;
            if status == "429" {
                m.status_429 += s.value;
            }
            if status.len() == 3 && status.starts_with('5') {
                m.status_5xx += s.value;
            }
        }
        for h in e.histograms("ccp_request_duration_seconds") {
            let (lane, op) = (
                h.labels.get("lane").cloned().unwrap_or_default(),
                h.labels.get("op").cloned().unwrap_or_default(),
            );
            let entry = lanes.entry((lane.clone(), op.clone())).or_insert_with(|| LaneOp {
                lane,
                op,
                ..LaneOp::default()
            });
            entry.count += h.count;
            entry.seconds += h.sum;
        }
        m.lanes = lanes.into_values().collect();
        m.partial_writes = single(e, "ccp_partial_writes_total").unwrap_or(0.0);
        m.rerouted = by_two(e, "ccp_rerouted_on_limit_total", "mode", "model");
        m.preferred_attempts = by_two(e, "ccp_preferred_attempt_total", "lane", "model");
        for s in e.series("ccp_wasted_retry_ms_total") {
            *m.wasted_retry_ms.entry(label(s, "model").to_owned()).or_default() += s.value;
        }
        for s in e.series("ccp_upstream_ready") {
            m.upstream_ready.insert(label(s, "lane").to_owned(), s.value);
        }
        m.store_writes = single(e, "ccp_store_writes_total");
        m.store_write_errors = single(e, "ccp_store_write_errors_total");
        m.store_size_bytes = single(e, "ccp_store_size_bytes");
        m.inflated_families = INFLATED_FAMILIES
            .iter()
            .filter(|f| e.family(f).is_some())
            .map(|f| (*f).to_owned())
            .collect();
        m.unknown_families = e
            .families
            .keys()
            .filter(|f| !CCP_FAMILIES.iter().any(|(n, _, _)| n == f))
            .cloned()
            .collect();
        m
    }

    /// Requests per series key `lane|op|status`: what a restart detector compares (a value
    /// that went down means the counters restarted).
    pub fn request_counters(&self) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for l in &self.lanes {
            for (status, n) in &l.by_status {
                out.insert(format!("{}|{}|{}", l.lane, l.op, status), *n);
            }
        }
        out
    }
}
