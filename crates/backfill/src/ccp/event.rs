//! A reconstructed CCP request as a v1 `turn` event with ids from the request's key (the same
//! request always yields the same `event_id` and `turn_id`), the decision's routing fields as
//! the `decision` payload and what v1 has no column for (status, TTFT, fallbacks, failure)
//! under `turn.ccp`.
//!
//! [`turn_line`] builds it through the importer's event writer (`events::turn_event`, the
//! typed reference); [`Renderer`] writes the same event from flat borrowed structs with the
//! price of each model looked up once, as the backfill does for every request (a test holds
//! the two equal).

use std::collections::{BTreeMap, HashMap};

use agentos_event_schema::prices::{ModelPrice, PriceTable, Tokens};
use agentos_event_schema::provider::provider_for_model;
use agentos_event_schema::v1::{Decision, Event};
use agentos_event_schema::{EventId, Timestamp};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::join::{End, Request};
use crate::Error;
use crate::events::{self, TurnFacts};
use crate::record::Usage;

/// The session a request is filed under: one per UTC day (CCP has no sessions).
pub(crate) fn session_id(at_us: i64) -> String {
    format!("ccp-{}", day(at_us))
}

/// The UTC date (`YYYY-MM-DD`) of a time.
pub(crate) fn day(at_us: i64) -> String {
    let mut buf = [0u8; 27];
    let ts = crate::line::timestamp(&mut buf, at_us);
    ts.get(..10).unwrap_or(ts).to_owned()
}

fn decision(r: &Request) -> Option<Decision> {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_owned(), v);
        }
    };
    put("reroute_mode", r.reroute_mode.clone().map(Value::from));
    put("reroute_decision", r.reroute_decision.clone().map(Value::from));
    put("preferred_attempt", r.preferred_attempt.map(|b| Value::from(u64::from(b))));
    let finite = |v: Option<f64>| v.filter(|v| v.is_finite()).map(Value::from);
    put("warn_pct_cfg", finite(r.warn_pct_cfg));
    put("warn_pct_auto", finite(r.warn_pct_auto));
    put("warn_pct_confidence", finite(r.warn_pct_confidence));
    let nonneg = |v: Option<f64>| v.filter(|v| v.is_finite() && *v >= 0.0).map(Value::from);
    put("gap_seconds_p50", nonneg(r.gap_seconds_p50));
    put("gap_seconds_p95", nonneg(r.gap_seconds_p95));
    put("gap_samples", nonneg(r.gap_samples));
    if m.is_empty() {
        return None;
    }
    serde_json::from_value(Value::Object(m)).ok()
}

/// The request's turn event as one compact JSON line (no newline): the typed reference.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn turn_line(r: &Request, prices: Option<&PriceTable>) -> Result<String, Error> {
    let key = r.key.to_le_bytes();
    let session = session_id(r.at_us);
    let model = if r.model.is_empty() { "unknown" } else { r.model.as_str() };
    let lane = if r.lane.is_empty() { "unknown" } else { r.lane.as_str() };
    let at = if r.end == Some(End::NoCompletion) { r.at_us } else { r.end_us };
    let ev = events::turn_event(&TurnFacts {
        key: r.key,
        session: &session,
        model,
        subagent: lane,
        usage: Usage { input: r.tokens_in, output: r.tokens_out, ..Usage::default() },
        sidechain: false,
        at,
        cost: None,
        revises: None,
        prices,
    });
    let Event::Turn(mut t) = ev else {
        return Err(Error::Encode(serde::ser::Error::custom("not a turn event")));
    };
    t.envelope.event_id =
        Some(EventId::from(events::uuid_of(&[b"agentos-backfill/ccp-turn-event", &key])));
    t.turn.turn_id = events::uuid_of(&[b"agentos-backfill/ccp-turn", &key]).into();
    t.turn.latency_ms = r.latency_ms.min(agentos_event_schema::v1::limits::LATENCY_MS.max);
    t.turn.cache_creation_tokens = None;
    t.turn.cache_creation_1h_tokens = None;
    t.turn.cache_read_tokens = None;
    t.turn.sidechain = None;
    t.turn.responded_at = Timestamp::from_unix_micros(at);
    t.decision = decision(r);
    let end = match r.end {
        Some(End::Completed) | None => "completed",
        Some(End::Error) => "error",
        Some(End::NoCompletion) => "no_completion",
    };
    let mut ccp = json!({
        "source": "ccp-usage-log",
        "rid": r.rid,
        "end": end,
        "failed": matches!(r.end, Some(End::Error | End::NoCompletion)),
        "status": r.status,
        "fallbacks": r.fallbacks,
        "tokens_unknown": r.tokens_unknown,
    });
    if let Some(m) = ccp.as_object_mut() {
        let mut put = |k: &str, v: Value| {
            m.insert(k.to_owned(), v);
        };
        if let Some(s) = r.first_status {
            put("first_attempt_status", json!(s));
        }
        if !r.op.is_empty() {
            put("op", json!(r.op));
        }
        if !r.err_type.is_empty() {
            put("err_type", json!(r.err_type));
        }
        if !r.upstream.is_empty() {
            put("upstream", json!(r.upstream));
        }
        if let Some(v) = r.ttft_ms {
            put("ttft_ms", json!(v));
        }
        if let Some(v) = r.stream_ms {
            put("stream_ms", json!(v));
        }
        if r.no_decision {
            put("no_decision", json!(true));
        }
        if !r.decision.is_empty() {
            put("decision_reason", json!(r.decision));
        }
    }
    t.turn.extra.insert("ccp".to_owned(), ccp);
    Ok(serde_json::to_string(&Event::Turn(t))?)
}

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

/// Renders requests as turn event lines, the price of each model looked up once.
#[derive(Debug)]
pub(crate) struct Renderer<'a> {
    prices: Option<&'a PriceTable>,
    by_model: HashMap<String, Option<ModelPrice>>,
    empty: BTreeMap<String, f64>,
    /// The line rendered last.
    pub out: Vec<u8>,
}

impl<'a> Renderer<'a> {
    pub fn new(prices: Option<&'a PriceTable>) -> Renderer<'a> {
        Renderer { prices, by_model: HashMap::new(), empty: BTreeMap::new(), out: Vec::new() }
    }

    /// Render `r` into [`Renderer::out`] (one compact JSON line, no newline).
    pub fn render(&mut self, r: &Request) -> Result<(), Error> {
        let key = r.key.to_le_bytes();
        let event_id = events::uuid_of(&[b"agentos-backfill/ccp-turn-event", &key]);
        let turn_id = events::uuid_of(&[b"agentos-backfill/ccp-turn", &key]);
        let session = session_id(r.at_us);
        let model = if r.model.is_empty() { "unknown" } else { r.model.as_str() };
        let lane = if r.lane.is_empty() { "unknown" } else { r.lane.as_str() };
        let at = if r.end == Some(End::NoCompletion) { r.at_us } else { r.end_us };
        let mut buf = [0u8; 27];
        let ts = crate::line::timestamp(&mut buf, at).to_owned();
        let cost = match self.prices {
            None => None,
            Some(table) => {
                if !self.by_model.contains_key(model) {
                    let price = table.lookup(model).map(|(_, p)| p.clone());
                    self.by_model.insert(model.to_owned(), price);
                }
                self.by_model.get(model).and_then(Option::as_ref).map(|price| CostOut {
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
            event_id: &event_id,
            ts: &ts,
            schema_version: agentos_event_schema::v1::SCHEMA_VERSION,
            turn: TurnOut {
                turn_id: &turn_id,
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
        self.out.clear();
        serde_json::to_writer(&mut self.out, &line)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentos_testkit::agent_history::Rng;

    fn random_request(rng: &mut Rng) -> Request {
        let pick =
            |rng: &mut Rng, opts: &[&str]| opts[rng.below(opts.len() as u64) as usize].to_owned();
        let maybe = |rng: &mut Rng, v: f64| (rng.below(2) == 0).then_some(v);
        let end = [Some(End::Completed), Some(End::Error), Some(End::NoCompletion), None]
            [rng.below(4) as usize];
        Request {
            key: u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64()),
            done_key: None,
            rid: format!("{:08x}", rng.next_u64() as u32),
            at_us: 1_793_491_200_000_000 + rng.below(1 << 40) as i64,
            end_us: 1_793_491_300_000_000 + rng.below(1 << 40) as i64,
            model: pick(rng, &["claude-sonnet-4.5", "glm-4.6", "", "my/odd \"model\""]),
            lane: pick(rng, &["zai", "anthropic", ""]),
            upstream: pick(rng, &["zai", "anth", ""]),
            op: pick(rng, &["nonstream", "stream", ""]),
            tokens_in: rng.below(100_000),
            tokens_out: rng.below(10_000),
            latency_ms: rng.below(100_000) as f64 + 0.25,
            ttft_ms: maybe(rng, 120.0),
            stream_ms: maybe(rng, 50.5),
            status: (rng.below(3) > 0).then_some(200),
            first_status: maybe(rng, 429.0).map(|v| v as i64),
            err_type: pick(rng, &["", "429", "idle_timeout"]),
            fallbacks: rng.below(3) as u32,
            fallback_ts: Vec::new(),
            end,
            tokens_unknown: rng.below(2) == 0,
            no_decision: rng.below(4) == 0,
            decision: pick(rng, &["pass_through", "fallback", ""]),
            reroute_mode: (rng.below(3) > 0).then(|| pick(rng, &["hybrid", "run2cap", "new_mode"])),
            reroute_decision: (rng.below(3) > 0).then(|| pick(rng, &["quota_pass", "quota_block"])),
            preferred_attempt: (rng.below(3) > 0).then_some(rng.below(2) == 0),
            warn_pct_cfg: maybe(rng, 0.8),
            warn_pct_auto: maybe(rng, 0.72),
            warn_pct_confidence: maybe(rng, 0.5),
            gap_seconds_p50: maybe(rng, 30.0),
            gap_seconds_p95: maybe(rng, 48.0),
            gap_samples: maybe(rng, 7.0),
        }
    }

    /// The fast renderer writes the event the typed reference builds, for every shape.
    #[test]
    fn renderer_equals_the_typed_reference() {
        let table = PriceTable::bundled();
        let mut rng = Rng::new(5);
        for prices in [None, Some(&table)] {
            let mut renderer = Renderer::new(prices);
            for _ in 0..2000 {
                let r = random_request(&mut rng);
                renderer.render(&r).unwrap();
                let fast: serde_json::Value = serde_json::from_slice(&renderer.out).unwrap();
                let typed: serde_json::Value =
                    serde_json::from_str(&turn_line(&r, prices).unwrap()).unwrap();
                assert_eq!(fast, typed);
            }
        }
    }
}
