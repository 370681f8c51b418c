//! The reference the hand-written [`super::Renderer::render`] is held to: the same turn event
//! through serde's derived structs (tests only).

use std::collections::BTreeMap;

use agentos_event_schema::prices::Tokens;
use agentos_event_schema::provider::provider_for_model;
use serde::Serialize;

use super::{End, Renderer, Request, session_id, turn_ids};
use crate::Error;

#[derive(Serialize)]
struct LineOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    event_id: &'a str,
    ts: &'a str,
    schema_version: &'static str,
    turn: TurnOut<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost: Option<CostOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<DecisionOut<'a>>,
}

#[derive(Serialize)]
struct TurnOut<'a> {
    turn_id: &'a str,
    session_id: &'a str,
    model: &'a str,
    subagent: &'a str,
    tokens_in: u64,
    tokens_out: u64,
    input_kind: &'static str,
    latency_ms: f64,
    attribution: &'a BTreeMap<String, f64>,
    capacity_used: Option<f64>,
    responded_at: &'a str,
    ccp: CcpOut<'a>,
}

#[derive(Serialize)]
struct CcpOut<'a> {
    source: &'static str,
    rid: &'a str,
    end: &'static str,
    failed: bool,
    status: Option<i64>,
    fallbacks: u32,
    tokens_unknown: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_attempt_status: Option<i64>,
    #[serde(skip_serializing_if = "str::is_empty")]
    op: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    err_type: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    upstream: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttft_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_ms: Option<f64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    no_decision: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    decision_reason: &'a str,
}

#[derive(Serialize)]
struct CostOut<'a> {
    provider: &'a str,
    estimated_usd: f64,
    price_table: &'a str,
}

#[derive(Serialize)]
struct DecisionOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    reroute_mode: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reroute_decision: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    preferred_attempt: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warn_pct_auto: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warn_pct_confidence: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gap_seconds_p50: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gap_seconds_p95: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gap_samples: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warn_pct_cfg: Option<f64>,
}

impl Renderer<'_> {
    /// [`Renderer::render`] through serde's derived structs: the reference it is held to.
    pub fn render_serde(&mut self, r: &Request) -> Result<String, Error> {
        let (event_id, turn_id) = turn_ids(r.key);
        let session = session_id(r.at_us);
        let model = if r.model.is_empty() { "unknown" } else { r.model.as_str() };
        let lane = if r.lane.is_empty() { "unknown" } else { r.lane.as_str() };
        let at = if r.end == Some(End::NoCompletion) { r.at_us } else { r.end_us };
        let mut buf = [0u8; 27];
        let ts = crate::line::timestamp(&mut buf, at).to_owned();
        let cost = match self.prices {
            None => None,
            Some(table) => {
                // Looked up each time: the reference keeps no cache of its own.
                table.lookup(model).map(|(_, price)| CostOut {
                    provider: provider_for_model(model),
                    estimated_usd: price
                        .cost(&Tokens {
                            input: r.tokens_in,
                            output: r.tokens_out,
                            cache_write: 0,
                            cache_write_1h: 0,
                            cache_read: 0,
                        })
                        .min(agentos_event_schema::v1::limits::ESTIMATED_USD.max),
                    price_table: table.id.as_str(),
                })
            }
        };
        let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
        let nonneg = |v: Option<f64>| v.filter(|v| v.is_finite() && *v >= 0.0);
        let decision = DecisionOut {
            reroute_mode: r.reroute_mode.as_deref(),
            reroute_decision: r.reroute_decision.as_deref(),
            preferred_attempt: r.preferred_attempt.map(u64::from),
            warn_pct_auto: finite(r.warn_pct_auto),
            warn_pct_confidence: finite(r.warn_pct_confidence),
            gap_seconds_p50: nonneg(r.gap_seconds_p50),
            gap_seconds_p95: nonneg(r.gap_seconds_p95),
            gap_samples: nonneg(r.gap_samples),
            warn_pct_cfg: finite(r.warn_pct_cfg),
        };
        let has_decision = decision.reroute_mode.is_some()
            || decision.reroute_decision.is_some()
            || decision.preferred_attempt.is_some()
            || decision.warn_pct_auto.is_some()
            || decision.warn_pct_confidence.is_some()
            || decision.gap_seconds_p50.is_some()
            || decision.gap_seconds_p95.is_some()
            || decision.gap_samples.is_some()
            || decision.warn_pct_cfg.is_some();
        let line = LineOut {
            kind: "turn",
            event_id: event_id.as_str(),
            ts: &ts,
            schema_version: agentos_event_schema::v1::SCHEMA_VERSION,
            turn: TurnOut {
                turn_id: turn_id.as_str(),
                session_id: &session,
                model,
                subagent: lane,
                tokens_in: r.tokens_in,
                tokens_out: r.tokens_out,
                input_kind: "text",
                latency_ms: r.latency_ms.min(agentos_event_schema::v1::limits::LATENCY_MS.max),
                attribution: &self.empty,
                capacity_used: None,
                responded_at: &ts,
                ccp: CcpOut {
                    source: "ccp-usage-log",
                    rid: &r.rid,
                    end: match r.end {
                        Some(End::Completed) | None => "completed",
                        Some(End::Error) => "error",
                        Some(End::NoCompletion) => "no_completion",
                    },
                    failed: matches!(r.end, Some(End::Error | End::NoCompletion)),
                    status: r.status,
                    fallbacks: r.fallbacks,
                    tokens_unknown: r.tokens_unknown,
                    first_attempt_status: r.first_status,
                    op: &r.op,
                    err_type: &r.err_type,
                    upstream: &r.upstream,
                    ttft_ms: r.ttft_ms,
                    stream_ms: r.stream_ms,
                    no_decision: r.no_decision,
                    decision_reason: &r.decision,
                },
            },
            cost,
            decision: has_decision.then_some(decision),
        };
        Ok(serde_json::to_string(&line)?)
    }
}
