//! `GET /v1/usage` (contract §2.3).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Extra;
use crate::nullable::or_default;

/// The response of `GET /v1/usage`: per-model quota use and speeds, in memory since the
/// process started.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UsageResponse {
    /// Every model the engine has touched since start.
    #[serde(default)]
    pub models: BTreeMap<String, ModelView>,
    /// Epoch seconds (CCP always sends it; hand-written expectations in the CCP repo omit it,
    /// so absent reads as 0).
    #[serde(default)]
    pub ts: f64,
    /// Quotas config path actually loaded (`""` if none).
    #[serde(default, deserialize_with = "or_default")]
    pub path: String,
    /// Present only when a license verified at startup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<LicenseBlock>,
    /// Keys this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `license` block of `/v1/usage` and `/readyz`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LicenseBlock {
    /// Always true when present.
    pub ok: bool,
    /// License plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// Entitlements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
    /// Keys this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One model's quota state and speeds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModelView {
    /// Provider from the quotas config; empty when the model is not configured.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "String::is_empty")]
    pub provider: String,
    /// Input tokens in the rolling window.
    #[serde(default, deserialize_with = "or_default")]
    pub rolling_in: i64,
    /// Output tokens in the rolling window.
    #[serde(default, deserialize_with = "or_default")]
    pub rolling_out: i64,
    /// `(rolling_in + rolling_out) / rolling_tokens` (fraction; 0 without a cap).
    #[serde(default, deserialize_with = "or_default")]
    pub rolling_pct: f64,
    /// Weekly use as a fraction of the weekly limit.
    #[serde(default, deserialize_with = "or_default")]
    pub weekly_pct: f64,
    /// Samples in the rolling window.
    #[serde(default, deserialize_with = "or_default")]
    pub reqs: i64,
    /// Seconds until the oldest rolling sample leaves the window.
    #[serde(default, deserialize_with = "or_default")]
    pub eta_rolling_sec: i64,
    /// Rolling use reached the warn threshold.
    #[serde(default, deserialize_with = "or_default")]
    pub warn: bool,
    /// A token cap is exhausted.
    #[serde(default, deserialize_with = "or_default")]
    pub block: bool,
    /// Calibrated warn threshold (absent means 0).
    #[serde(default, deserialize_with = "or_default")]
    pub warn_pct_auto: f64,
    /// Calibration confidence.
    #[serde(default, deserialize_with = "or_default")]
    pub warn_pct_confidence: f64,
    /// Median gap between limit hits, s.
    #[serde(default, deserialize_with = "or_default")]
    pub gap_seconds_p50: f64,
    /// 95th percentile gap, s.
    #[serde(default, deserialize_with = "or_default")]
    pub gap_seconds_p95: f64,
    /// Samples behind the gap statistics.
    #[serde(default, deserialize_with = "or_default")]
    pub gap_samples: i64,
    /// Throughput and latency.
    #[serde(default, deserialize_with = "or_default")]
    pub speeds: Speeds,
    /// Keys this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Speeds of one model.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Speeds {
    /// Over the rolling window.
    #[serde(default, deserialize_with = "or_default")]
    pub rolling: Speed,
    /// Since process start.
    #[serde(default, deserialize_with = "or_default")]
    pub session: Speed,
    /// Time-to-first-token quantiles over rolling samples, ms.
    #[serde(default, deserialize_with = "or_default")]
    pub ttft_ms: TtftQuantiles,
    /// 24 hour-of-day bins (server-local hour), hour 0..23 ascending.
    #[serde(default, deserialize_with = "or_default")]
    pub hourly: Vec<HourlyBin>,
    /// Samples in the rolling window.
    #[serde(default, deserialize_with = "or_default")]
    pub rolling_samples: i64,
    /// Samples in the weekly window.
    #[serde(default, deserialize_with = "or_default")]
    pub weekly_samples: i64,
    /// Keys this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Token rates: `elr` over streaming time, `dirty` over wall-clock time (contract §6.2).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Speed {
    /// Output tokens per streaming second.
    #[serde(default, deserialize_with = "or_default")]
    pub out_elr_tps: f64,
    /// Output tokens per wall-clock second.
    #[serde(default, deserialize_with = "or_default")]
    pub out_dirty_tps: f64,
    /// Input tokens per streaming second.
    #[serde(default, deserialize_with = "or_default")]
    pub in_elr_tps: f64,
    /// Input tokens per wall-clock second.
    #[serde(default, deserialize_with = "or_default")]
    pub in_dirty_tps: f64,
    /// All tokens per streaming second.
    #[serde(default, deserialize_with = "or_default")]
    pub total_elr_tps: f64,
    /// All tokens per wall-clock second.
    #[serde(default, deserialize_with = "or_default")]
    pub total_dirty_tps: f64,
}

/// TTFT quantiles, ms (non-stream zeros included, as CCP computes them).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TtftQuantiles {
    /// Median.
    #[serde(default, deserialize_with = "or_default")]
    pub p50: f64,
    /// 90th percentile.
    #[serde(default, deserialize_with = "or_default")]
    pub p90: f64,
    /// 99th percentile.
    #[serde(default, deserialize_with = "or_default")]
    pub p99: f64,
}

/// One hour-of-day bin. Rates are absent until the bin has at least 10 samples.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HourlyBin {
    /// Hour of day, 0..23.
    #[schemars(range(max = 23))]
    pub hour: u8,
    /// Samples in the bin.
    #[serde(default, deserialize_with = "or_default")]
    pub samples: i64,
    /// Output tokens per streaming second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_elr_tps: Option<f64>,
    /// Output tokens per wall-clock second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_dirty_tps: Option<f64>,
}
