//! A reconstructed CCP request as a v1 `turn` event, built by the importer's event writer
//! (`events::turn_event`) with ids from the request's key (the same request always yields the
//! same `event_id` and `turn_id`), the decision's routing fields as the `decision` payload and
//! what v1 has no column for (status, TTFT, fallbacks, failure) under `turn.ccp`.

use agentos_event_schema::prices::PriceTable;
use agentos_event_schema::v1::{Decision, Event};
use agentos_event_schema::{EventId, Timestamp};
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
    crate::line::timestamp(&mut buf, at_us)[..10].to_owned()
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

/// The request's turn event as one compact JSON line (no newline).
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
