//! Turns as OTLP log records. The input is what the privacy tier lets leave the machine (the
//! redacted v1 event JSON of `agentos_privacy::event_payload`), so a hashed field stays a hash
//! (its hex digest) and nothing the tier withheld can appear.

use std::collections::BTreeMap;

use agentos_event_schema::Timestamp;
use agentos_event_schema::provider::provider_of_turn;
use serde_json::Value as Json;

use crate::model::{
    AnyValue, ExportLogsServiceRequest, KeyValue, LogRecord, Resource, ResourceLogs, ScopeLogs,
};
use crate::semconv as sc;
use crate::{ExportOptions, scope};

/// `SeverityNumber` INFO.
pub(crate) const SEVERITY_INFO: i32 = 9;

/// A logs request and what went into it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogsBatch {
    /// The request body.
    pub request: ExportLogsServiceRequest,
    /// Log records in it (one per turn).
    pub records: usize,
    /// Events that are not turns (sessions, ends), turns before `since`, or turns missing a
    /// model or a readable time: not exported.
    pub skipped: usize,
}

/// Map events to one `ExportLogsServiceRequest`: one record per turn, in order. Session events
/// in the same slice lend their `agent` to their turns.
pub fn logs_request<E: std::borrow::Borrow<Json>>(events: &[E], opts: &ExportOptions) -> LogsBatch {
    let mut agents: BTreeMap<String, String> = BTreeMap::new();
    for ev in events {
        let ev = ev.borrow();
        if ev["type"] == "session"
            && let (Some(sid), Some(agent)) =
                (text(&ev["session"]["session_id"]), ev["session"]["agent"].as_str())
        {
            agents.insert(sid, agent.to_owned());
        }
    }
    let mut records = Vec::new();
    let mut skipped = 0;
    for ev in events {
        match turn_record(ev.borrow(), &agents) {
            Some((at, rec)) if opts.since.is_none_or(|s| at >= s) => records.push(rec),
            _ => skipped += 1,
        }
    }
    let n = records.len();
    let request = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(opts),
            scope_logs: vec![ScopeLogs { scope: scope(), log_records: records }],
        }],
    };
    LogsBatch { request, records: n, skipped }
}

pub(crate) fn resource(opts: &ExportOptions) -> Resource {
    let mut attributes = vec![
        KeyValue::string("service.name", opts.service_name.clone()),
        KeyValue::string("service.version", opts.service_version.clone()),
    ];
    attributes.extend(opts.resource.iter().map(|(k, v)| KeyValue::string(k, v.clone())));
    Resource { attributes }
}

/// A string field, or the hex digest of a hashed one (`{"sha256": …, "len": …}`).
fn text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Object(o) => o.get("sha256").and_then(Json::as_str).map(str::to_owned),
        _ => None,
    }
}

fn time(v: &Json) -> Option<Timestamp> {
    v.as_str().and_then(|s| serde_json::from_value(Json::String(s.to_owned())).ok())
}

/// Nanoseconds since the epoch (times before it read as 0, "unknown" in OTLP).
pub(crate) fn nanos(t: Timestamp) -> u64 {
    u64::try_from(t.as_unix_micros()).unwrap_or(0).saturating_mul(1000)
}

fn count(v: &Json) -> Option<u64> {
    v.as_u64()
}

fn finite(v: &Json) -> Option<f64> {
    v.as_f64().filter(|f| f.is_finite())
}

/// One turn's record and its time; `None` for anything else.
fn turn_record(ev: &Json, agents: &BTreeMap<String, String>) -> Option<(Timestamp, LogRecord)> {
    if ev["type"] != "turn" {
        return None;
    }
    let turn = &ev["turn"];
    let model = turn["model"].as_str()?;
    let recorded = time(&ev["ts"]);
    let at = time(&turn["responded_at"]).or(recorded)?;
    let provider = provider_of_turn(model, ev["cost"]["provider"].as_str());
    let uncached = count(&turn["tokens_in"]).unwrap_or(0);
    let cache_read = count(&turn["cache_read_tokens"]);
    let cache_write = count(&turn["cache_creation_tokens"]);
    // The conventions count cached tokens inside the input; v1 (like Anthropic) keeps them
    // apart: the sum is the conventions' input, the parts go alongside.
    let input =
        uncached.saturating_add(cache_read.unwrap_or(0)).saturating_add(cache_write.unwrap_or(0));
    let mut attrs = vec![
        KeyValue::string(sc::EVENT_NAME, sc::TURN_EVENT),
        KeyValue::string(sc::OPERATION_NAME, "chat"),
        KeyValue::string(sc::SYSTEM, sc::provider_name(provider)),
        KeyValue::string(sc::PROVIDER_NAME, sc::provider_name(provider)),
        KeyValue::string(sc::REQUEST_MODEL, model),
        KeyValue::int(sc::USAGE_INPUT_TOKENS, input),
        KeyValue::int(sc::USAGE_OUTPUT_TOKENS, count(&turn["tokens_out"]).unwrap_or(0)),
        KeyValue::int(sc::UNCACHED_INPUT, uncached),
    ];
    if let Some(n) = cache_read {
        attrs.push(KeyValue::int(sc::USAGE_CACHE_READ, n));
    }
    if let Some(n) = cache_write {
        attrs.push(KeyValue::int(sc::USAGE_CACHE_CREATION, n));
    }
    if let Some(n) = count(&turn["cache_creation_1h_tokens"]) {
        attrs.push(KeyValue::int(sc::CACHE_CREATION_1H, n));
    }
    if let Some(usd) = finite(&ev["cost"]["estimated_usd"]) {
        attrs.push(KeyValue::double(sc::COST_USD, usd));
    }
    if let Some(ms) = finite(&turn["latency_ms"]) {
        attrs.push(KeyValue::double(sc::LATENCY_MS, ms));
    }
    if let Some(c) = finite(&turn["capacity_used"]) {
        attrs.push(KeyValue::double(sc::CAPACITY_USED, c));
    }
    if let Some(sid) = text(&turn["session_id"]) {
        if let Some(agent) = agents.get(&sid) {
            attrs.push(KeyValue::string(sc::AGENT, agent.clone()));
        }
        attrs.push(KeyValue::string(sc::CONVERSATION_ID, sid));
    }
    if let Some(id) = text(&turn["turn_id"]) {
        attrs.push(KeyValue::string(sc::TURN_ID, id));
    }
    if let Some(id) = text(&ev["event_id"]) {
        attrs.push(KeyValue::string(sc::EVENT_ID, id));
    }
    if let Some(side) = turn["sidechain"].as_bool() {
        attrs.push(KeyValue::bool(sc::SIDECHAIN, side));
    }
    if let Some(id) = text(&turn["revises"]) {
        attrs.push(KeyValue::string(sc::REVISES, id));
    }
    let record = LogRecord {
        time_unix_nano: nanos(at),
        observed_time_unix_nano: recorded.map_or(nanos(at), nanos),
        severity_number: SEVERITY_INFO,
        severity_text: "INFO".to_owned(),
        body: Some(AnyValue::String(sc::TURN_EVENT.to_owned())),
        attributes: attrs,
        event_name: String::new(),
    };
    Some((at, record))
}

/// The `agentos.event_id` of every record of a logs request (what a batch carries, for the
/// outbox's crash bookkeeping).
pub fn event_ids(request: &ExportLogsServiceRequest) -> Vec<String> {
    let mut out = Vec::new();
    for rl in &request.resource_logs {
        for sl in &rl.scope_logs {
            for rec in &sl.log_records {
                for kv in &rec.attributes {
                    if let (sc::EVENT_ID, AnyValue::String(id)) = (kv.key.as_str(), &kv.value) {
                        out.push(id.clone());
                    }
                }
            }
        }
    }
    out
}
