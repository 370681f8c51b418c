//! One line of CCP's `usage.jsonl` (Go `usageEntry`, contract §3.1–§3.2).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Extra;
use crate::nullable::or_default;

fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}
fn is_zero_f64(v: &f64) -> bool {
    *v == 0.0
}
fn is_false(v: &bool) -> bool {
    !*v
}

/// One line of `usage.jsonl`. Every key of the Go struct is modelled; keys Go marks
/// `omitempty` read as zero/false/empty when absent or `null`, and are written back only when
/// non-zero, as Go does.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UsageLine {
    /// Epoch seconds at write time.
    pub ts: f64,
    /// Per-request id (8 hex chars; not globally unique).
    pub rid: String,
    /// `zai`, `anthropic` or a catalog provider name; final lane on completions.
    pub lane: String,
    /// Body `model` as sent.
    pub model: String,
    /// Input tokens (0 on decision/placeholder lines and for streams).
    #[serde(default, deserialize_with = "or_default")]
    pub input_tokens: i64,
    /// Output tokens.
    #[serde(default, deserialize_with = "or_default")]
    pub output_tokens: i64,
    /// −1 on decision lines, else the upstream HTTP status.
    pub status: i64,
    /// `""`, `ok`, `streaming` or `stream_timeout`.
    #[serde(default, deserialize_with = "or_default")]
    pub reason: String,
    /// `""` (decision), `nonstream` or `stream`.
    #[serde(default, deserialize_with = "or_default")]
    pub op: String,
    /// Handler start to completion, ms.
    #[serde(default, deserialize_with = "or_default")]
    pub latency_ms: i64,
    /// First to last upstream chunk (streams) or start to body relayed, ms.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_zero_i64")]
    pub stream_ms: i64,
    /// Time to first upstream line (streams only), ms.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_zero_i64")]
    pub ttft_ms: i64,
    /// `idle_timeout`, `stream_error`, `401`, `429`, `5xx`, `4xx` or `""`.
    #[serde(default, deserialize_with = "or_default")]
    pub err_type: String,
    /// `anth` or `zai`.
    #[serde(default, deserialize_with = "or_default")]
    pub upstream: String,
    /// Configured HTTP/2 flag (not the negotiated protocol).
    #[serde(default, deserialize_with = "or_default")]
    pub h2: bool,
    /// Z.AI header mode.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "String::is_empty")]
    pub header_mode: String,
    /// Z.AI 401 header-mode flip retry happened.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_false")]
    pub retry: bool,
    /// Backoff slept before retrying, ms.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_zero_i64")]
    pub backoff_ms: i64,
    /// `decision` on decision lines.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "String::is_empty")]
    pub event: String,
    /// Decision lines: the routing decision.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "String::is_empty")]
    pub decision: String,
    /// Routing reason (decision and completion lines).
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "String::is_empty")]
    pub decision_reason: String,
    /// Tokens in the rolling window before the request.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_zero_i64")]
    pub rolling_used_tokens: i64,
    /// Rolling window capacity.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_zero_i64")]
    pub rolling_capacity_tokens: i64,
    /// Tokens in the weekly window.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_zero_i64")]
    pub weekly_used_tokens: i64,
    /// Weekly capacity (token-type limits only).
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_zero_i64")]
    pub weekly_capacity_tokens: i64,
    /// `max(0, 1 − rolling_pct)`; absent means 0 (exhausted).
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_zero_f64")]
    pub headroom_pct_rolling: f64,
    /// `max(0, 1 − weekly_pct)`; absent means 0 (exhausted).
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_zero_f64")]
    pub headroom_pct_weekly: f64,
    /// Configured warn threshold.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_zero_f64")]
    pub warn_pct_cfg: f64,
    /// Calibrated warn threshold.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_zero_f64")]
    pub warn_pct_auto: f64,
    /// Calibration confidence.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_zero_f64")]
    pub warn_pct_confidence: f64,
    /// Median gap between limit hits, s.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_zero_f64")]
    pub gap_seconds_p50: f64,
    /// 95th percentile gap, s.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_zero_f64")]
    pub gap_seconds_p95: f64,
    /// Samples behind the gap statistics.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_zero_i64")]
    pub gap_samples: i64,
    /// `hybrid`, `preemptive` or `run2cap`.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "String::is_empty")]
    pub reroute_mode: String,
    /// Quota decision.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "String::is_empty")]
    pub reroute_decision: String,
    /// The preferred lane was used; absent means false.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_false")]
    pub preferred_attempt: bool,
    /// Quota cooldown in force for the model.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_false")]
    pub cooldown_active: bool,
    /// Cooldown expiry, epoch seconds.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_zero_f64")]
    pub cooldown_next_ts: f64,
    /// Time spent before a fallback, ms.
    #[serde(default, deserialize_with = "or_default", skip_serializing_if = "is_zero_i64")]
    pub wasted_retry_ms: i64,
    /// Legacy Node/Python proxies: SSE chunk count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse_chunks: Option<i64>,
    /// Legacy proxies: SSE bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse_bytes: Option<i64>,
    /// Legacy proxies: SSE duration, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse_duration_ms: Option<f64>,
    /// Keys this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What a `usage.jsonl` line records (contract §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LineKind {
    /// The routing decision, written before dialing (`event:"decision"`).
    Decision,
    /// A fallback decision (`fallback`, `quota_overshoot`, `net_fallback`).
    FallbackDecision,
    /// The placeholder written when a stream's headers arrive (not a request of its own).
    StreamPlaceholder,
    /// The request's final line.
    Completion,
    /// `ccp-lite` and legacy proxies: a completion without `decision_reason`.
    LegacyCompletion,
}

impl UsageLine {
    /// Classify the line (contract §3.1).
    pub fn kind(&self) -> LineKind {
        if self.event == "decision" {
            return match self.decision.as_str() {
                "fallback" | "quota_overshoot" | "net_fallback" => LineKind::FallbackDecision,
                _ => LineKind::Decision,
            };
        }
        if !self.decision_reason.is_empty() || !self.reroute_mode.is_empty() {
            return LineKind::Completion;
        }
        if self.op == "stream" && self.reason == "streaming" && self.stream_ms == 0 {
            return LineKind::StreamPlaceholder;
        }
        LineKind::LegacyCompletion
    }
}
