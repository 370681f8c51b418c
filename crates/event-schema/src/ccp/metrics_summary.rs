//! `results/METRICS*.json`, written by CCP's `scripts/summarize-usage.js` (contract §3.5).
//! Its totals count stream placeholders as requests: recompute request counts from the log.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Extra;
use crate::nullable::or_default;

/// A `METRICS*.json` file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MetricsSummary {
    /// Non-decision lines with a numeric status.
    #[serde(default, deserialize_with = "or_default")]
    pub total: i64,
    /// Of those, `status >= 400`.
    #[serde(default, deserialize_with = "or_default")]
    pub errs: i64,
    /// Latency median, ms.
    #[serde(default)]
    pub p50: Option<f64>,
    /// Latency 95th percentile, ms.
    #[serde(default)]
    pub p95: Option<f64>,
    /// Per lane.
    #[serde(default, rename = "byLane")]
    pub by_lane: BTreeMap<String, LaneStats>,
    /// Count per error type.
    #[serde(default, rename = "byErrType")]
    pub by_err_type: BTreeMap<String, i64>,
    /// Count per lane and error type.
    #[serde(default, rename = "byLaneErrType")]
    pub by_lane_err_type: BTreeMap<String, BTreeMap<String, i64>>,
    /// Routing decisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decisions: Option<DecisionStats>,
    /// Per lane and op.
    #[serde(default)]
    pub ops: BTreeMap<String, BTreeMap<String, OpStats>>,
    /// Z.AI header modes.
    #[serde(default, rename = "headerModes")]
    pub header_modes: BTreeMap<String, OpStats>,
    /// Per lane, `h2` or `h1`.
    #[serde(default, rename = "byLaneH2")]
    pub by_lane_h2: BTreeMap<String, BTreeMap<String, OpStats>>,
    /// Legacy SSE statistics per lane.
    #[serde(default)]
    pub sse: BTreeMap<String, SseStats>,
    /// Keys this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Statistics of one lane.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LaneStats {
    /// Lines.
    #[serde(default, deserialize_with = "or_default")]
    pub count: i64,
    /// Error lines.
    #[serde(default, deserialize_with = "or_default")]
    pub errs: i64,
    /// Input tokens.
    #[serde(default, deserialize_with = "or_default", rename = "in")]
    pub tokens_in: i64,
    /// Output tokens.
    #[serde(default, deserialize_with = "or_default", rename = "out")]
    pub tokens_out: i64,
    /// Latency median, ms.
    #[serde(default)]
    pub p50: Option<f64>,
    /// Latency 95th percentile, ms.
    #[serde(default)]
    pub p95: Option<f64>,
}

/// Count and latency quantiles.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OpStats {
    /// Lines.
    #[serde(default, deserialize_with = "or_default")]
    pub count: i64,
    /// Error lines (absent for header modes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errs: Option<i64>,
    /// Latency median, ms.
    #[serde(default)]
    pub p50: Option<f64>,
    /// Latency 95th percentile, ms.
    #[serde(default)]
    pub p95: Option<f64>,
}

/// Routing decision counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DecisionStats {
    /// Decision lines.
    #[serde(default, deserialize_with = "or_default")]
    pub total: i64,
    /// Of those, to the Z.AI lane.
    #[serde(default, deserialize_with = "or_default")]
    pub to_zai: i64,
    /// Percentage (0..100, one decimal).
    #[serde(default)]
    pub pct_to_zai: Option<f64>,
}

/// Legacy SSE statistics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SseStats {
    /// Streams.
    #[serde(default, deserialize_with = "or_default")]
    pub count: i64,
    /// Mean chunks per stream.
    #[serde(default)]
    pub avg_chunks: Option<f64>,
    /// 95th percentile chunks.
    #[serde(default)]
    pub p95_chunks: Option<f64>,
    /// Mean duration, ms.
    #[serde(default)]
    pub avg_duration_ms: Option<f64>,
    /// 95th percentile duration, ms.
    #[serde(default)]
    pub p95_duration_ms: Option<f64>,
    /// Bytes streamed.
    #[serde(default)]
    pub total_bytes: Option<f64>,
}
