//! What AgentOS takes from the telemetry Claude Code emits (OTLP logs and metrics; `docs/otel.md`
//! lists the fields): each `claude_code.api_request` event is one model response and becomes a
//! v1 turn with deterministic ids. Nothing else is kept: prompts, tool details, e-mail addresses
//! and every other attribute are dropped here, so no text reaches the event log.
//!
//! Metrics (`claude_code.token.usage`, `claude_code.cost.usage`, …) are aggregates of the same
//! requests: they are checked for shape and counted, never recorded as turns (both would count
//! every request twice).

use std::collections::BTreeMap;

use agentos_event_schema::provider::provider_for_model;
use agentos_event_schema::v1::limits;
use agentos_event_schema::v1::{
    Cost, Envelope, Event, InputKind, PrivacyTier, SCHEMA_VERSION, Session, SessionEvent, Turn,
    TurnEvent,
};
use agentos_event_schema::{EventId, Extra, Timestamp};
use serde::Deserialize;

use crate::Error;
use crate::model::{AnyValue, ExportLogsServiceRequest, KeyValue};

/// The agent name AgentOS records for Claude Code (as `agentos import` does).
pub const AGENT: &str = "claude-code";
/// The event name of one API request.
pub const API_REQUEST: &str = "claude_code.api_request";

/// One API request as Claude Code reported it: numbers and identifiers only.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiRequest {
    /// `session.id`.
    pub session_id: String,
    /// `model`.
    pub model: String,
    /// `input_tokens` (uncached, as Anthropic counts).
    pub input_tokens: u64,
    /// `output_tokens`.
    pub output_tokens: u64,
    /// `cache_read_tokens`.
    pub cache_read_tokens: u64,
    /// `cache_creation_tokens`.
    pub cache_creation_tokens: u64,
    /// `cost_usd`.
    pub cost_usd: Option<f64>,
    /// `duration_ms`.
    pub duration_ms: Option<f64>,
    /// `event.timestamp`, else the record's time.
    pub at: Timestamp,
    /// `request_id`, when this Claude Code version sends one.
    pub request_id: Option<String>,
    /// `event.sequence` (orders events within a session).
    pub sequence: Option<u64>,
    /// `app.version` / `service.version`.
    pub app_version: Option<String>,
}

/// What one logs request held.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Received {
    /// API requests, in order.
    pub requests: Vec<ApiRequest>,
    /// Records of other events (prompts, tool results, …): accepted, not recorded.
    pub other: usize,
    /// API request records without a usable session, model or time: rejected (counted in the
    /// response's `partialSuccess`).
    pub rejected: usize,
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs.iter().find(|kv| kv.key == key).map(|kv| &kv.value)
}

fn text(v: Option<&AnyValue>) -> Option<String> {
    match v? {
        AnyValue::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        AnyValue::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

/// A number sent as an int, a double or a numeric string (Claude Code sends strings).
fn number(v: Option<&AnyValue>) -> Option<f64> {
    let f = match v? {
        AnyValue::Int(i) => *i as f64,
        AnyValue::Double(d) => *d,
        AnyValue::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    f.is_finite().then_some(f)
}

fn count(v: Option<&AnyValue>) -> Option<u64> {
    match v? {
        AnyValue::Int(i) => u64::try_from(*i).ok(),
        AnyValue::String(s) => s.trim().parse().ok(),
        other => number(Some(other)).filter(|f| *f >= 0.0 && f.fract() == 0.0).map(|f| f as u64),
    }
}

fn timestamp(text: &str) -> Option<Timestamp> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

fn from_nanos(n: u64) -> Option<Timestamp> {
    (n > 0).then(|| Timestamp::from_unix_micros(i64::try_from(n / 1000).ok()?)).flatten()
}

/// The Claude Code API requests in a logs request.
pub fn claude_code_requests(req: &ExportLogsServiceRequest) -> Received {
    let mut out = Received::default();
    for rl in &req.resource_logs {
        let res = &rl.resource.attributes;
        let version = text(attr(res, "service.version"));
        for sl in &rl.scope_logs {
            for rec in &sl.log_records {
                let a = &rec.attributes;
                let name = text(attr(a, "event.name"));
                let is_request = rec.event_name == API_REQUEST
                    || matches!(&rec.body, Some(AnyValue::String(b)) if b == API_REQUEST)
                    || matches!(name.as_deref(), Some("api_request" | API_REQUEST));
                if !is_request {
                    out.other += 1;
                    continue;
                }
                let at = text(attr(a, "event.timestamp"))
                    .and_then(|t| timestamp(&t))
                    .or_else(|| from_nanos(rec.time_unix_nano))
                    .or_else(|| from_nanos(rec.observed_time_unix_nano));
                let session = text(attr(a, "session.id")).or_else(|| text(attr(res, "session.id")));
                let model = text(attr(a, "model"));
                let (Some(at), Some(session_id), Some(model)) = (at, session, model) else {
                    out.rejected += 1;
                    continue;
                };
                let tokens = |k: &str| count(attr(a, k)).unwrap_or(0);
                out.requests.push(ApiRequest {
                    session_id,
                    model,
                    input_tokens: tokens("input_tokens"),
                    output_tokens: tokens("output_tokens"),
                    cache_read_tokens: tokens("cache_read_tokens"),
                    cache_creation_tokens: tokens("cache_creation_tokens"),
                    cost_usd: number(attr(a, "cost_usd")).filter(|c| *c >= 0.0),
                    duration_ms: number(attr(a, "duration_ms")).filter(|d| *d >= 0.0),
                    at,
                    request_id: text(attr(a, "request_id")),
                    sequence: count(attr(a, "event.sequence")),
                    app_version: text(attr(a, "app.version")).or_else(|| version.clone()),
                });
            }
        }
    }
    out
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetricsShape {
    #[serde(default)]
    resource_metrics: Vec<ResourceMetricsShape>,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceMetricsShape {
    #[serde(default)]
    scope_metrics: Vec<ScopeMetricsShape>,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScopeMetricsShape {
    #[serde(default)]
    metrics: Vec<MetricShape>,
}
#[derive(Deserialize)]
struct MetricShape {
    name: String,
}

/// The metric names of an OTLP/HTTP JSON metrics request (checked for shape, not recorded).
pub fn metric_names(body: &[u8]) -> Result<Vec<String>, Error> {
    let shape: MetricsShape =
        serde_json::from_slice(body).map_err(|e| crate::decode_error("metrics request", &e))?;
    Ok(shape
        .resource_metrics
        .into_iter()
        .flat_map(|r| r.scope_metrics)
        .flat_map(|s| s.metrics)
        .map(|m| m.name)
        .collect())
}

/// SHA-256 over length-prefixed parts.
fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_le_bytes());
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

fn uuid_of(parts: &[&[u8]]) -> String {
    let h = sha256(parts);
    let mut s = String::with_capacity(36);
    for (i, b) in h[..16].iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

impl ApiRequest {
    /// The source identity: `request_id` when sent, else the session's event time, sequence,
    /// model and usage. A re-sent export yields the same id, which every reader drops.
    fn identity(&self) -> Vec<Vec<u8>> {
        let mut parts = vec![AGENT.as_bytes().to_vec(), self.session_id.as_bytes().to_vec()];
        match &self.request_id {
            Some(rid) => parts.push(rid.as_bytes().to_vec()),
            None => {
                parts.push(self.at.as_unix_micros().to_le_bytes().to_vec());
                parts.push(self.sequence.unwrap_or(u64::MAX).to_le_bytes().to_vec());
                parts.extend(self.usage_parts());
            }
        }
        parts
    }

    fn usage_parts(&self) -> Vec<Vec<u8>> {
        vec![
            self.model.as_bytes().to_vec(),
            self.input_tokens.to_le_bytes().to_vec(),
            self.output_tokens.to_le_bytes().to_vec(),
            self.cache_read_tokens.to_le_bytes().to_vec(),
            self.cache_creation_tokens.to_le_bytes().to_vec(),
        ]
    }

    /// The turn's `event_id`.
    pub fn event_id(&self) -> String {
        let id = self.identity();
        let mut parts: Vec<&[u8]> = vec![b"agentos-otel/turn-event"];
        parts.extend(id.iter().map(Vec::as_slice));
        uuid_of(&parts)
    }

    /// The usage fingerprint: session, model and the four token counts. A transcript import of
    /// the same response has the same one (see [`usage_fingerprint`]).
    pub fn fingerprint(&self) -> [u8; 16] {
        usage_fingerprint(
            &self.session_id,
            &self.model,
            [
                self.input_tokens,
                self.output_tokens,
                self.cache_read_tokens,
                self.cache_creation_tokens,
            ],
        )
    }

    /// The v1 turn event (numbers within the v1 limits; cost as Claude Code computed it).
    pub fn turn_event(&self) -> Event {
        let id = self.event_id();
        let turn_id = {
            let idp = self.identity();
            let mut parts: Vec<&[u8]> = vec![b"agentos-otel/turn"];
            parts.extend(idp.iter().map(Vec::as_slice));
            uuid_of(&parts)
        };
        let cost = self.cost_usd.map(|usd| Cost {
            provider: provider_for_model(&self.model).to_owned(),
            unit_costs: BTreeMap::new(),
            estimated_usd: usd.min(limits::ESTIMATED_USD.max),
            price_table: None,
            extra: Extra::new(),
        });
        Event::Turn(TurnEvent {
            envelope: envelope(id, self.at),
            turn: Turn {
                turn_id: turn_id.into(),
                session_id: self.session_id.as_str().into(),
                model: self.model.clone(),
                subagent: "main".to_owned(),
                tokens_in: self.input_tokens,
                tokens_out: self.output_tokens,
                input_kind: InputKind::Text,
                latency_ms: self.duration_ms.unwrap_or(0.0).min(limits::LATENCY_MS.max),
                attribution: BTreeMap::new(),
                capacity_used: None,
                cache_creation_tokens: Some(self.cache_creation_tokens),
                cache_creation_1h_tokens: None,
                cache_read_tokens: Some(self.cache_read_tokens),
                sidechain: None,
                responded_at: Some(self.at),
                revises: None,
                extra: Extra::new(),
            },
            measurement: None,
            feature: None,
            cost,
            value: None,
            decision: None,
            outcome: None,
        })
    }

    /// A session event for this request's session (recorded once, when the log has none).
    pub fn session_event(&self, tier: PrivacyTier) -> Event {
        let id =
            uuid_of(&[b"agentos-otel/session-event", AGENT.as_bytes(), self.session_id.as_bytes()]);
        Event::Session(SessionEvent {
            envelope: envelope(id, self.at),
            session: Session {
                session_id: self.session_id.as_str().into(),
                repo_id: "unknown".to_owned(),
                branch: String::new(),
                commit: String::new(),
                license_id: "otel".to_owned(),
                privacy_tier: tier,
                created_at: self.at,
                metadata: BTreeMap::new(),
                agent: Some(AGENT.to_owned()),
                cwd: None,
                cli_version: self.app_version.clone(),
                last_active_at: Some(self.at),
                extra: Extra::new(),
            },
        })
    }
}

fn envelope(event_id: String, at: Timestamp) -> Envelope {
    Envelope {
        event_id: Some(EventId::from(event_id)),
        ts: Some(at),
        schema_version: Some(SCHEMA_VERSION.to_owned()),
        extra: Extra::new(),
    }
}

/// The usage fingerprint of one response: its session, model and four token counts (input,
/// output, cache read, cache creation). Within one session two responses almost never share
/// all four (the cache read grows with the conversation), so a received request and an
/// imported transcript line with the same fingerprint are the same response.
pub fn usage_fingerprint(session: &str, model: &str, tokens: [u64; 4]) -> [u8; 16] {
    let t: Vec<[u8; 8]> = tokens.iter().map(|n| n.to_le_bytes()).collect();
    let h = sha256(&[
        b"agentos-otel/usage",
        session.as_bytes(),
        model.as_bytes(),
        &t[0],
        &t[1],
        &t[2],
        &t[3],
    ]);
    let mut k = [0u8; 16];
    k.copy_from_slice(&h[..16]);
    k
}

/// The file, in AgentOS's data dir, where the receiver lists the usage fingerprint of every
/// request it recorded (one per line, 32 lowercase hex digits), so that a transcript import
/// run *after* the receiver skips the same responses (see [`fingerprint_line`]).
pub const RECEIVED_FINGERPRINTS: &str = "state/otel_received.fp";

/// One line of [`RECEIVED_FINGERPRINTS`]: the fingerprint in lowercase hex, with its newline.
pub fn fingerprint_line(f: &[u8; 16]) -> String {
    let mut s = String::with_capacity(33);
    for b in f {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s.push('\n');
    s
}

/// A fingerprint read back from one line of [`RECEIVED_FINGERPRINTS`] (without its newline);
/// `None` for anything else (a torn last line, junk).
pub fn parse_fingerprint_line(line: &[u8]) -> Option<[u8; 16]> {
    if line.len() != 32 {
        return None;
    }
    let mut f = [0u8; 16];
    for (i, pair) in line.chunks_exact(2).enumerate() {
        let hi = hex_digit(pair[0])?;
        let lo = hex_digit(pair[1])?;
        f[i] = hi << 4 | lo;
    }
    Some(f)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}
