//! A logs request written in one pass: each turn's record goes straight from the privacy tier's
//! typed view ([`agentos_privacy::TurnView`]) to OTLP/HTTP JSON bytes, with no JSON tree or
//! model value per record. The records are those [`crate::logs_request`] builds from the
//! redacted JSON of the same events (a test holds them equal).

use agentos_event_schema::Timestamp;
use agentos_event_schema::provider::provider_of_turn;
use agentos_privacy::TurnView;

use crate::logs::{SEVERITY_INFO, nanos, resource};
use crate::model::{ExportLogsServiceRequest, ResourceLogs, ScopeLogs};
use crate::semconv as sc;
use crate::{ExportOptions, scope};

/// An `ExportLogsServiceRequest` body being written, record by record.
#[derive(Clone, Debug)]
pub struct LogsBody {
    buf: Vec<u8>,
    suffix: Vec<u8>,
    records: usize,
    since: Option<Timestamp>,
    prelude: Option<Prelude>,
}

/// The part of a record after its times that depends only on the model and its provider:
/// severity, body, and the first attributes (event name, operation, provider, model).
#[derive(Clone, Debug)]
struct Prelude {
    model: String,
    cost_provider: Option<String>,
    bytes: Vec<u8>,
}

impl Prelude {
    fn new(model: &str, cost_provider: Option<&str>) -> Self {
        let provider = sc::provider_name(provider_of_turn(model, cost_provider));
        let mut b = Vec::new();
        b.extend_from_slice(b",\"severityNumber\":");
        let _ = serde_json::to_writer(&mut b, &SEVERITY_INFO);
        b.extend_from_slice(b",\"severityText\":\"INFO\",\"body\":{\"stringValue\":");
        json_str(&mut b, sc::TURN_EVENT);
        b.extend_from_slice(b"},\"attributes\":[");
        let mut a = Attrs { b: &mut b, first: true };
        a.string(sc::EVENT_NAME, sc::TURN_EVENT);
        a.string(sc::OPERATION_NAME, "chat");
        a.string(sc::SYSTEM, provider);
        a.string(sc::PROVIDER_NAME, provider);
        a.string(sc::REQUEST_MODEL, model);
        Prelude {
            model: model.to_owned(),
            cost_provider: cost_provider.map(str::to_owned),
            bytes: b,
        }
    }
}

impl LogsBody {
    /// An empty request with the resource and scope of `opts`.
    pub fn new(opts: &ExportOptions) -> Self {
        Self::with_capacity(opts, 0)
    }

    /// [`LogsBody::new`] with room for `bytes` of records before the buffer grows.
    pub fn with_capacity(opts: &ExportOptions, bytes: usize) -> Self {
        let empty = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: resource(opts),
                scope_logs: vec![ScopeLogs { scope: scope(), log_records: Vec::new() }],
            }],
        };
        // The model types write the frame; records go between `"logRecords":[` and `]`.
        let frame = serde_json::to_vec(&empty).unwrap_or_default();
        let marker = b"\"logRecords\":[";
        let at =
            frame.windows(marker.len()).rposition(|w| w == marker).map_or(0, |i| i + marker.len());
        let (head, tail) = frame.split_at(at);
        let mut buf = Vec::with_capacity(head.len() + bytes + tail.len());
        buf.extend_from_slice(head);
        LogsBody { buf, suffix: tail.to_vec(), records: 0, since: opts.since, prelude: None }
    }

    /// Records written so far.
    pub fn records(&self) -> usize {
        self.records
    }

    /// Bytes written so far (the body is a few bytes longer when finished).
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether no record was written.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Append the record of one turn, with its session's `agent` when known. Returns `false`
    /// (nothing written) for a turn before `since` or without a time.
    pub fn push(&mut self, turn: &TurnView<'_>, agent: Option<&str>) -> bool {
        let Some(at) = turn.responded_at.or(turn.ts) else { return false };
        if self.since.is_some_and(|s| at < s) {
            return false;
        }
        let cache_read = turn.cache_read_tokens;
        let cache_write = turn.cache_creation_tokens;
        // The conventions count cached tokens inside the input (see `logs::turn_record`).
        let input = turn
            .tokens_in
            .saturating_add(cache_read.unwrap_or(0))
            .saturating_add(cache_write.unwrap_or(0));
        let b = &mut self.buf;
        if self.records > 0 {
            b.push(b',');
        }
        b.extend_from_slice(b"{\"timeUnixNano\":");
        quoted_int(b, nanos(at));
        b.extend_from_slice(b",\"observedTimeUnixNano\":");
        quoted_int(b, turn.ts.map_or(nanos(at), nanos));
        // What depends only on the model and its provider, rendered once per model.
        let cost_provider = turn.cost_provider.as_deref();
        let prelude = match &self.prelude {
            Some(p) if p.model == *turn.model && p.cost_provider.as_deref() == cost_provider => p,
            _ => self.prelude.insert(Prelude::new(&turn.model, cost_provider)),
        };
        b.extend_from_slice(&prelude.bytes);
        let mut a = Attrs { b, first: false };
        a.int(sc::USAGE_INPUT_TOKENS, input);
        a.int(sc::USAGE_OUTPUT_TOKENS, turn.tokens_out);
        a.int(sc::UNCACHED_INPUT, turn.tokens_in);
        if let Some(n) = cache_read {
            a.int(sc::USAGE_CACHE_READ, n);
        }
        if let Some(n) = cache_write {
            a.int(sc::USAGE_CACHE_CREATION, n);
        }
        if let Some(n) = turn.cache_creation_1h_tokens {
            a.int(sc::CACHE_CREATION_1H, n);
        }
        if let Some(usd) = turn.cost_usd.filter(|f| f.is_finite()) {
            a.double(sc::COST_USD, usd);
        }
        if turn.latency_ms.is_finite() {
            a.double(sc::LATENCY_MS, turn.latency_ms);
        }
        if let Some(c) = turn.capacity_used.filter(|f| f.is_finite()) {
            a.double(sc::CAPACITY_USED, c);
        }
        if let Some(agent) = agent {
            a.string(sc::AGENT, agent);
        }
        a.string(sc::CONVERSATION_ID, &turn.session_id);
        a.string(sc::TURN_ID, &turn.turn_id);
        if let Some(id) = &turn.event_id {
            a.string(sc::EVENT_ID, id);
        }
        if let Some(side) = turn.sidechain {
            a.bool(sc::SIDECHAIN, side);
        }
        if let Some(id) = &turn.revises {
            a.string(sc::REVISES, id);
        }
        self.buf.extend_from_slice(b"]}");
        self.records += 1;
        true
    }

    /// The finished body (JSON bytes).
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&self.suffix);
        self.buf
    }
}

/// The attribute list of one record.
struct Attrs<'a> {
    b: &'a mut Vec<u8>,
    first: bool,
}

impl Attrs<'_> {
    /// `key` is one of [`sc`]'s names: none holds a character JSON escapes.
    fn key(&mut self, key: &'static str) {
        self.b.extend_from_slice(if self.first { b"{\"key\":\"" } else { b",{\"key\":\"" });
        self.first = false;
        self.b.extend_from_slice(key.as_bytes());
        self.b.extend_from_slice(b"\",\"value\":{");
    }

    fn string(&mut self, key: &'static str, value: &str) {
        self.key(key);
        self.b.extend_from_slice(b"\"stringValue\":");
        json_str(self.b, value);
        self.b.extend_from_slice(b"}}");
    }

    fn int(&mut self, key: &'static str, value: u64) {
        self.key(key);
        self.b.extend_from_slice(b"\"intValue\":");
        quoted_int(self.b, value.min(i64::MAX.unsigned_abs()));
        self.b.extend_from_slice(b"}}");
    }

    fn double(&mut self, key: &'static str, value: f64) {
        self.key(key);
        self.b.extend_from_slice(b"\"doubleValue\":");
        let _ = serde_json::to_writer(&mut *self.b, &value);
        self.b.extend_from_slice(b"}}");
    }

    fn bool(&mut self, key: &'static str, value: bool) {
        self.key(key);
        self.b.extend_from_slice(if value {
            b"\"boolValue\":true}}"
        } else {
            b"\"boolValue\":false}}"
        });
    }
}

/// A 64-bit integer as OTLP JSON writes it: a decimal string.
fn quoted_int(b: &mut Vec<u8>, n: u64) {
    b.push(b'"');
    let _ = serde_json::to_writer(&mut *b, &n);
    b.push(b'"');
}

/// `s` as a JSON string (escaped as serde_json escapes it). Most texts here (names, hex
/// digests, UUIDs) need no escape and are copied as they are.
fn json_str(b: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|c| c >= 0x20 && c != b'"' && c != b'\\' && c != 0x7f) {
        b.push(b'"');
        b.extend_from_slice(s.as_bytes());
        b.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *b, s);
    }
}
