//! The `ccp.usage.v1` per-model snapshot (CCP's `USAGE_EVENT_SCHEMA.md`; nothing in CCP emits
//! it), assembled from `/v1/usage` + `/v1/quotas` (+ `/readyz`'s `source`) as contract §5.2
//! maps it.
//!
//! Choices where the mapping is open: `in_tps_rolling`/`total_tps_rolling` are the ELR rates
//! (`in_elr_tps`, `total_elr_tps`; the dirty ones are given too); CCP has no TTFT p95, so
//! `ttft_ms_p95` is `null` and p90/p99 are given; `weekly_tokens_used` is
//! `round(weekly_pct × weekly_limit_value)` for a `tokens` limit, else `null`; the `events`
//! block is not in `/v1/usage` and is left out. `flags.weekly_buffer` is AgentOS's policy of
//! keeping 10 points of weekly headroom (`weekly_pct ≥ 0.90`), not CCP's.

use agentos_event_schema::ccp::{ModelQuota, QuotasResponse, UsageResponse};
use serde::{Deserialize, Serialize};

/// The `schema` value of a snapshot.
pub const USAGE_SNAPSHOT_SCHEMA: &str = "ccp.usage.v1";

/// Weekly use at which AgentOS stops scheduling on a model (10 points of headroom).
pub const WEEKLY_BUFFER_PCT: f64 = 0.90;

/// One model's `ccp.usage.v1` snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSnapshot {
    /// Always `ccp.usage.v1`.
    pub schema: String,
    /// `/v1/usage`'s `ts` (epoch seconds).
    pub ts: f64,
    /// The model.
    pub model: String,
    /// Provider from the quotas config (`null` when the model is not configured).
    pub provider: Option<String>,
    /// Rolling window, s.
    pub rolling_seconds: i64,
    /// Weekly window, s.
    pub weekly_seconds: i64,
    /// `rolling_in + rolling_out`.
    pub rolling_tokens_used: i64,
    /// The model's rolling token cap (`null` when none).
    pub rolling_tokens_budget: Option<i64>,
    /// Fraction of the rolling cap used.
    pub rolling_pct: f64,
    /// Fraction of the weekly limit used.
    pub weekly_pct: f64,
    /// Weekly tokens (only for a `tokens` limit).
    pub weekly_tokens_used: Option<i64>,
    /// Weekly token limit (only for a `tokens` limit).
    pub weekly_tokens_budget: Option<i64>,
    /// `tokens`, `hours` or `null` when not configured.
    pub weekly_limit_type: Option<String>,
    /// Requests in the rolling window.
    pub reqs: i64,
    /// Seconds until the oldest rolling request leaves the window.
    pub eta_rolling_sec: i64,
    /// Warn/block state.
    pub flags: Flags,
    /// Warn thresholds.
    pub warn_pct: WarnPct,
    /// Gaps between limit hits.
    pub gaps: Gaps,
    /// Speeds.
    pub speeds: SnapshotSpeeds,
    /// Where CCC's numbers come from.
    pub source: SnapshotSource,
}

/// Warn/block state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Flags {
    /// Rolling use reached `warn_pct`.
    pub warn: bool,
    /// A token cap is exhausted.
    pub block: bool,
    /// `rolling`, `weekly` or `none`.
    pub reason: String,
    /// Weekly use reached AgentOS's 10-point buffer ([`WEEKLY_BUFFER_PCT`]).
    pub weekly_buffer: bool,
}

/// Warn thresholds (absent means 0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WarnPct {
    /// Configured.
    pub cfg: f64,
    /// Calibrated.
    pub auto: f64,
    /// Calibration confidence.
    pub confidence: f64,
}

/// Gap statistics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gaps {
    /// Median, s.
    pub seconds_p50: f64,
    /// 95th percentile, s.
    pub seconds_p95: f64,
    /// Samples.
    pub samples: i64,
}

/// Speeds over the rolling window, TTFT and the hour-of-day profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotSpeeds {
    /// Output tokens per streaming second.
    pub elr_out_tps_rolling: f64,
    /// Output tokens per wall-clock second.
    pub dirty_out_tps_rolling: f64,
    /// Input tokens per streaming second (`in_elr_tps`).
    pub in_tps_rolling: f64,
    /// All tokens per streaming second (`total_elr_tps`).
    pub total_tps_rolling: f64,
    /// Input tokens per wall-clock second.
    pub in_dirty_tps_rolling: f64,
    /// All tokens per wall-clock second.
    pub total_dirty_tps_rolling: f64,
    /// TTFT median, ms.
    pub ttft_ms_p50: f64,
    /// Not exposed by CCP: always `null`.
    pub ttft_ms_p95: Option<f64>,
    /// TTFT p90, ms.
    pub ttft_ms_p90: f64,
    /// TTFT p99, ms.
    pub ttft_ms_p99: f64,
    /// 24 hour-of-day output ELR rates (`null` below 10 samples).
    pub hod_elr_out_tps: Vec<Option<f64>>,
    /// 24 hour-of-day output dirty rates (`null` below 10 samples).
    pub hod_dirty_out_tps: Vec<Option<f64>>,
    /// 24 hour-of-day sample counts.
    pub hod_samples: Vec<i64>,
}

/// Where the numbers come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotSource {
    /// Quotas file CCC loaded (`""` when none).
    pub quotas_path: String,
    /// Providers catalog (`/readyz` `source`), when asked.
    pub providers_path: Option<String>,
    /// When CCC loaded its quotas (RFC 3339).
    pub loaded_at: String,
}

/// The snapshots of every model in `usage`, sorted by model. Models only in the quotas
/// config (no traffic since CCC started) are left out: CCC has no numbers for them.
pub fn assemble(
    usage: &UsageResponse,
    quotas: &QuotasResponse,
    providers_path: Option<&str>,
) -> Vec<ModelSnapshot> {
    let windows = &quotas.config.windows;
    usage
        .models
        .iter()
        .map(|(model, view)| {
            let cfg: Option<&ModelQuota> = quotas.config.models.get(model);
            let tokens_limit = cfg.filter(|c| {
                c.weekly_limit_type.eq_ignore_ascii_case("tokens") && c.weekly_limit_value > 0
            });
            let rolling_budget = cfg.map(|c| c.rolling_tokens).filter(|t| *t > 0);
            let rolling_hit = rolling_budget.is_some() && view.rolling_pct >= 1.0;
            let reason = if rolling_hit {
                "rolling"
            } else if view.block {
                "weekly"
            } else {
                "none"
            };
            let mut hod_elr = vec![None; 24];
            let mut hod_dirty = vec![None; 24];
            let mut hod_samples = vec![0; 24];
            for bin in &view.speeds.hourly {
                let h = usize::from(bin.hour);
                if h < 24 {
                    hod_elr[h] = bin.out_elr_tps;
                    hod_dirty[h] = bin.out_dirty_tps;
                    hod_samples[h] = bin.samples;
                }
            }
            let r = &view.speeds.rolling;
            let t = &view.speeds.ttft_ms;
            ModelSnapshot {
                schema: USAGE_SNAPSHOT_SCHEMA.to_owned(),
                ts: usage.ts,
                model: model.clone(),
                provider: cfg
                    .map(|c| c.provider.clone())
                    .or_else(|| (!view.provider.is_empty()).then(|| view.provider.clone())),
                rolling_seconds: windows.rolling_seconds,
                weekly_seconds: windows.weekly_seconds,
                rolling_tokens_used: view.rolling_in.saturating_add(view.rolling_out),
                rolling_tokens_budget: rolling_budget,
                rolling_pct: view.rolling_pct,
                weekly_pct: view.weekly_pct,
                weekly_tokens_used: tokens_limit
                    .map(|c| (view.weekly_pct * c.weekly_limit_value as f64).round() as i64),
                weekly_tokens_budget: tokens_limit.map(|c| c.weekly_limit_value),
                weekly_limit_type: cfg.map(|c| c.weekly_limit_type.to_ascii_lowercase()),
                reqs: view.reqs,
                eta_rolling_sec: view.eta_rolling_sec,
                flags: Flags {
                    warn: view.warn,
                    block: view.block,
                    reason: reason.to_owned(),
                    weekly_buffer: view.weekly_pct >= WEEKLY_BUFFER_PCT,
                },
                warn_pct: WarnPct {
                    cfg: cfg.map_or(0.0, |c| c.warn_pct),
                    auto: view.warn_pct_auto,
                    confidence: view.warn_pct_confidence,
                },
                gaps: Gaps {
                    seconds_p50: view.gap_seconds_p50,
                    seconds_p95: view.gap_seconds_p95,
                    samples: view.gap_samples,
                },
                speeds: SnapshotSpeeds {
                    elr_out_tps_rolling: r.out_elr_tps,
                    dirty_out_tps_rolling: r.out_dirty_tps,
                    in_tps_rolling: r.in_elr_tps,
                    total_tps_rolling: r.total_elr_tps,
                    in_dirty_tps_rolling: r.in_dirty_tps,
                    total_dirty_tps_rolling: r.total_dirty_tps,
                    ttft_ms_p50: t.p50,
                    ttft_ms_p95: None,
                    ttft_ms_p90: t.p90,
                    ttft_ms_p99: t.p99,
                    hod_elr_out_tps: hod_elr,
                    hod_dirty_out_tps: hod_dirty,
                    hod_samples,
                },
                source: SnapshotSource {
                    quotas_path: if usage.path.is_empty() {
                        quotas.path.clone()
                    } else {
                        usage.path.clone()
                    },
                    providers_path: providers_path.map(str::to_owned),
                    loaded_at: quotas.loaded.clone(),
                },
            }
        })
        .collect()
}
