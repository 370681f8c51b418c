//! The persistence endpoints: `GET /v1/usage/samples` and `GET /v1/usage/rollups`
//! (contract §2.6–§2.7), also the shape of `ccp-agg` rollup files.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Extra;
use crate::nullable::or_default;

/// The response of `GET /v1/usage/samples`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SamplesResponse {
    /// Samples per model, ascending by `ts`.
    #[serde(default)]
    pub models: BTreeMap<String, Vec<UsageSample>>,
    /// Epoch seconds.
    pub ts: f64,
    /// Keys this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One completed request as stored in CCP's SQLite `usage_sample` table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UsageSample {
    /// Epoch seconds (differs from the log line's by µs).
    pub ts: f64,
    /// Request id.
    pub rid: String,
    /// Model.
    pub model: String,
    /// Lane.
    #[serde(default, deserialize_with = "or_default")]
    pub lane: String,
    /// `nonstream` or `stream`.
    #[serde(default, deserialize_with = "or_default")]
    pub op: String,
    /// Input tokens.
    #[serde(default, deserialize_with = "or_default")]
    pub input_tokens: i64,
    /// Output tokens.
    #[serde(default, deserialize_with = "or_default")]
    pub output_tokens: i64,
    /// Wall-clock seconds.
    #[serde(default, deserialize_with = "or_default")]
    pub dirty_s: f64,
    /// Streaming seconds.
    #[serde(default, deserialize_with = "or_default")]
    pub stream_s: f64,
    /// Time to first token, ms.
    #[serde(default, deserialize_with = "or_default")]
    pub ttft_ms: i64,
    /// HTTP status.
    #[serde(default, deserialize_with = "or_default")]
    pub status: i64,
    /// Stream error only (`idle_timeout`/`stream_error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub err_type: Option<String>,
    /// Routing decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// Reroute mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reroute_mode: Option<String>,
    /// Calibrated warn threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_pct_auto: Option<f64>,
    /// Median gap, s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap_seconds_p50: Option<f64>,
    /// 95th percentile gap, s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap_seconds_p95: Option<f64>,
    /// Gap samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap_samples: Option<i64>,
    /// `anth` or `zai`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// Configured HTTP/2 flag.
    #[serde(default, deserialize_with = "or_default")]
    pub h2: bool,
    /// Z.AI header mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_mode: Option<String>,
    /// Keys this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The response of `GET /v1/usage/rollups` (and `ccp-agg` output files).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RollupsResponse {
    /// `hour`, or the string given (any other value serves day rows).
    pub granularity: String,
    /// Rows per model.
    #[serde(default)]
    pub models: BTreeMap<String, Vec<RollupRow>>,
    /// Epoch seconds.
    pub ts: f64,
    /// Keys this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One hour or day of one model.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RollupRow {
    /// UTC epoch of the hour or day start.
    pub window_start: f64,
    /// Input tokens.
    #[serde(default, deserialize_with = "or_default")]
    pub in_tokens: i64,
    /// Output tokens.
    #[serde(default, deserialize_with = "or_default")]
    pub out_tokens: i64,
    /// Output tokens per streaming second.
    #[serde(default, deserialize_with = "or_default")]
    pub out_elr_tps: f64,
    /// Output tokens per wall-clock second.
    #[serde(default, deserialize_with = "or_default")]
    pub out_dirty_tps: f64,
    /// Requests.
    #[serde(default, deserialize_with = "or_default")]
    pub count: i64,
    /// Estimated cost (absent in `ccp-agg` files).
    #[serde(default, deserialize_with = "or_default")]
    pub cost_usd: f64,
}
