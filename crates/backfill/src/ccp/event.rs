//! A reconstructed CCP request as a v1 `turn` event with ids from the request's key (the same
//! request always yields the same `event_id` and `turn_id`), the decision's routing fields as
//! the `decision` payload and what v1 has no column for (status, TTFT, fallbacks, failure)
//! under `turn.ccp`.
//!
//! [`turn_line`] builds it through the importer's event writer (`events::turn_event`, the
//! typed reference); [`Renderer`] writes the same event by hand with the price of each model
//! looked up once, as the backfill does for every request (a test holds it equal to the typed
//! reference, and byte for byte to serde's rendering of derived structs, `event_serde.rs`).

#[cfg(test)]
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use agentos_event_schema::facts::{self, CcpFacts, CostFacts};
use agentos_event_schema::prices::{ModelPrice, PriceTable, Tokens};
use agentos_event_schema::provider::provider_for_model;
use agentos_event_schema::v1::{Decision, Event};
use agentos_event_schema::{EventId, Timestamp};
use serde_json::{Map, Value, json};

use super::join::{End, FxHasher, Request};
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
    put("reroute_mode", r.reroute_mode.as_deref().map(Value::from));
    put("reroute_decision", r.reroute_decision.as_deref().map(Value::from));
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

/// A request's `event_id` and `turn_id`: the two halves of one SHA-256 of its key (one
/// block: two digests cost a tenth of a backfill's CPU).
pub(crate) fn turn_ids(key: u128) -> (events::Uuid, events::Uuid) {
    events::uuid_pair(&[b"agentos-backfill/ccp", &key.to_le_bytes()])
}

/// The request's turn event as one compact JSON line (no newline): the typed reference.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn turn_line(r: &Request, prices: Option<&PriceTable>) -> Result<String, Error> {
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
    let (event_id, turn_id) = turn_ids(r.key);
    t.envelope.event_id = Some(EventId::from(event_id.as_str()));
    t.turn.turn_id = turn_id.as_str().into();
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

fn raw(out: &mut String, s: &str) {
    out.push_str(s);
}

/// A JSON string: as is when nothing in it needs escaping (serde_json escapes only `"`, `\\`
/// and control characters), else through serde_json.
fn string(out: &mut String, s: &str) -> Result<(), Error> {
    // Nothing to escape (no quote, backslash or control character), eight bytes at a time.
    if agentos_event_schema::scan::string_run_end(s.as_bytes(), 0) == s.len() {
        out.push('"');
        raw(out, s);
        out.push('"');
        return Ok(());
    }
    out.push_str(&serde_json::to_string(s)?);
    Ok(())
}

/// An integer in decimal (what `Display` and serde_json write).
fn int(out: &mut String, n: impl Into<i64>) {
    out.push_str(itoa::Buffer::new().format(n.into()));
}

/// A token count (`u64`) in decimal.
fn count(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// A number as serde_json writes it: the shortest form that reads back the same (`zmij`,
/// serde_json's own float formatter), `null` for a NaN or an infinity.
fn float(out: &mut String, v: f64) {
    if v.is_finite() {
        out.push_str(zmij::Buffer::new().format_finite(v));
    } else {
        out.push_str("null");
    }
}

/// Per model: its price (when the table has one) and its provider.
type ByModel = HashMap<String, (Option<ModelPrice>, String), BuildHasherDefault<FxHasher>>;

/// Renders requests as turn event lines, the price of each model looked up once.
#[derive(Debug)]
pub(crate) struct Renderer<'a> {
    prices: Option<&'a PriceTable>,
    /// Per model: its price (when the table has one) and its provider, worked out once.
    by_model: ByModel,
    session: SessionOfDay,
    #[cfg(test)]
    empty: BTreeMap<String, f64>,
}

/// The price of `model` (with a price table) and its provider, looked up once per model in
/// `known`.
fn model_facts<'m>(
    known: &'m mut ByModel,
    prices: Option<&PriceTable>,
    model: &'m str,
) -> (Option<&'m ModelPrice>, &'m str) {
    if !known.contains_key(model) {
        let price = prices.and_then(|t| t.lookup(model)).map(|(_, p)| p.clone());
        known.insert(model.to_owned(), (price, provider_for_model(model).to_owned()));
    }
    match known.get(model) {
        Some((price, provider)) => (price.as_ref(), provider.as_str()),
        None => (None, provider_for_model(model)),
    }
}

impl<'a> Renderer<'a> {
    pub fn new(prices: Option<&'a PriceTable>) -> Renderer<'a> {
        Renderer {
            prices,
            by_model: ByModel::default(),
            session: SessionOfDay::default(),
            #[cfg(test)]
            empty: BTreeMap::new(),
        }
    }

    /// Append `r` to `o` as one compact JSON line (no newline), written by hand: the bytes
    /// serde writes for the same event (a test holds them equal), without its per-byte
    /// escaping of the ids and times this module makes. `tell` is told what the line says
    /// (when it was written). On an error `o` is as it was.
    pub fn render(
        &mut self,
        r: &Request,
        o: &mut String,
        tell: &mut dyn FnMut(&facts::TurnFacts<'_>),
    ) -> Result<(), Error> {
        let at = o.len();
        let written = self.write(r, o, tell);
        if written.is_err() {
            o.truncate(at);
        }
        written
    }

    fn write(
        &mut self,
        r: &Request,
        o: &mut String,
        tell: &mut dyn FnMut(&facts::TurnFacts<'_>),
    ) -> Result<(), Error> {
        let (event_id, turn_id) = turn_ids(r.key);
        let model = if r.model.is_empty() { "unknown" } else { r.model.as_str() };
        let lane = if r.lane.is_empty() { "unknown" } else { r.lane.as_str() };
        let at = if r.end == Some(End::NoCompletion) { r.at_us } else { r.end_us };
        let mut buf = [0u8; 27];
        let ts = crate::line::timestamp(&mut buf, at);
        let (price, provider) = model_facts(&mut self.by_model, self.prices, model);
        let cost = price.map(|price| {
            price
                .cost(&Tokens {
                    input: r.tokens_in,
                    output: r.tokens_out,
                    cache_write: 0,
                    cache_write_1h: 0,
                    cache_read: 0,
                })
                .min(agentos_event_schema::v1::limits::ESTIMATED_USD.max)
        });
        raw(o, r#"{"type":"turn","event_id":""#);
        raw(o, event_id.as_str());
        raw(o, r#"","ts":""#);
        raw(o, ts);
        raw(o, r#"","schema_version":""#);
        raw(o, agentos_event_schema::v1::SCHEMA_VERSION);
        raw(o, r#"","turn":{"turn_id":""#);
        raw(o, turn_id.as_str());
        raw(o, r#"","session_id":""#);
        // The session is the decision's UTC day.
        let session_id = self.session.of(r.at_us);
        raw(o, session_id);
        raw(o, r#"","model":"#);
        string(o, model)?;
        raw(o, r#","subagent":"#);
        string(o, lane)?;
        raw(o, r#","tokens_in":"#);
        count(o, r.tokens_in);
        raw(o, r#","tokens_out":"#);
        count(o, r.tokens_out);
        raw(o, r#","input_kind":"text","latency_ms":"#);
        let latency_ms = r.latency_ms.min(agentos_event_schema::v1::limits::LATENCY_MS.max);
        float(o, latency_ms);
        raw(o, r#","attribution":{},"capacity_used":null,"responded_at":""#);
        raw(o, ts);
        raw(o, r#"","ccp":{"source":"ccp-usage-log","rid":"#);
        string(o, &r.rid)?;
        raw(o, r#","end":""#);
        let end = match r.end {
            Some(End::Completed) | None => "completed",
            Some(End::Error) => "error",
            Some(End::NoCompletion) => "no_completion",
        };
        raw(o, end);
        raw(o, r#"","failed":"#);
        let failed = matches!(r.end, Some(End::Error | End::NoCompletion));
        raw(o, if failed { "true" } else { "false" });
        raw(o, r#","status":"#);
        match r.status {
            Some(v) => int(o, v),
            None => raw(o, "null"),
        }
        raw(o, r#","fallbacks":"#);
        int(o, r.fallbacks);
        raw(o, r#","tokens_unknown":"#);
        raw(o, if r.tokens_unknown { "true" } else { "false" });
        if let Some(v) = r.first_status {
            raw(o, r#","first_attempt_status":"#);
            int(o, v);
        }
        for (k, v) in
            [(",\"op\":", &r.op), (",\"err_type\":", &r.err_type), (",\"upstream\":", &r.upstream)]
        {
            if !v.is_empty() {
                raw(o, k);
                string(o, v)?;
            }
        }
        for (k, v) in [(",\"ttft_ms\":", r.ttft_ms), (",\"stream_ms\":", r.stream_ms)] {
            if let Some(v) = v {
                raw(o, k);
                float(o, v);
            }
        }
        if r.no_decision {
            raw(o, r#","no_decision":true"#);
        }
        if !r.decision.is_empty() {
            raw(o, r#","decision_reason":"#);
            string(o, &r.decision)?;
        }
        raw(o, "}}");
        if let (Some(usd), Some(table)) = (cost, self.prices) {
            raw(o, r#","cost":{"provider":"#);
            string(o, provider)?;
            raw(o, r#","estimated_usd":"#);
            float(o, usd);
            raw(o, r#","price_table":"#);
            string(o, &table.id)?;
            raw(o, "}");
        }
        let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
        let nonneg = |v: Option<f64>| v.filter(|v| v.is_finite() && *v >= 0.0);
        let mut first = true;
        let mut open = |o: &mut String, key: &str| {
            raw(o, if first { r#","decision":{""# } else { r#",""# });
            first = false;
            raw(o, key);
            raw(o, r#"":"#);
        };
        for (k, v) in [("reroute_mode", &r.reroute_mode), ("reroute_decision", &r.reroute_decision)]
        {
            if let Some(v) = v {
                open(o, k);
                string(o, v)?;
            }
        }
        if let Some(p) = r.preferred_attempt {
            open(o, "preferred_attempt");
            int(o, i64::from(p));
        }
        for (k, v) in [
            ("warn_pct_auto", finite(r.warn_pct_auto)),
            ("warn_pct_confidence", finite(r.warn_pct_confidence)),
            ("gap_seconds_p50", nonneg(r.gap_seconds_p50)),
            ("gap_seconds_p95", nonneg(r.gap_seconds_p95)),
            ("gap_samples", nonneg(r.gap_samples)),
            ("warn_pct_cfg", finite(r.warn_pct_cfg)),
        ] {
            if let Some(v) = v {
                open(o, k);
                float(o, v);
            }
        }
        if !first {
            raw(o, "}");
        }
        raw(o, "}");
        tell(&facts::TurnFacts {
            event_id: event_id.as_str(),
            ts_us: at,
            session_id,
            model,
            tokens_in: r.tokens_in,
            tokens_out: r.tokens_out,
            latency_ms,
            responded_at_us: Some(at),
            ccp: Some(CcpFacts {
                end,
                failed,
                status: r.status,
                fallbacks: u64::from(r.fallbacks),
                first_attempt_status: r.first_status,
                err_type: &r.err_type,
                ttft_ms: r.ttft_ms,
                stream_ms: r.stream_ms,
            }),
            cost: cost.map(|estimated_usd| CostFacts { provider, estimated_usd }),
            reroute_decision: r.reroute_decision.as_deref(),
        });
        Ok(())
    }
}

/// The session of a decision's UTC day ([`session_id`]), worked out again only when the day
/// changes (most requests follow one of the same day).
#[derive(Debug, Default)]
struct SessionOfDay {
    /// The day number it holds (`None`: none yet, or a time outside the fast timestamps').
    day: Option<i64>,
    id: String,
}

impl SessionOfDay {
    fn of(&mut self, at_us: i64) -> &str {
        let fast = (0..=crate::line::LAST_FAST).contains(&at_us);
        let day = fast.then(|| at_us.div_euclid(super::seenfile::DAY_US));
        if day.is_none() || day != self.day {
            self.id = session_id(at_us);
            self.day = day;
        }
        &self.id
    }
}

#[cfg(test)]
#[path = "event_serde.rs"]
mod reference;

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
            rid: format!("{:08x}", rng.next_u64() as u32).into(),
            at_us: 1_793_491_200_000_000 + rng.below(1 << 40) as i64,
            end_us: 1_793_491_300_000_000 + rng.below(1 << 40) as i64,
            model: pick(
                rng,
                &[
                    "claude-sonnet-4.5",
                    "glm-4.6",
                    "",
                    "my/odd \"model\"",
                    "tab\tmodel",
                    // To escape past the first eight bytes, in a whole word and in the tail.
                    "a-longer-model\\x",
                    "claude-3\u{1}",
                ],
            )
            .into(),
            lane: pick(rng, &["zai", "anthropic", ""]).into(),
            upstream: pick(rng, &["zai", "anth", ""]).into(),
            op: pick(rng, &["nonstream", "stream", ""]).into(),
            // Integers at their extremes too: written by hand, they must read as serde's.
            tokens_in: [rng.below(100_000), 0, u64::MAX, i64::MAX as u64 + 1]
                [rng.below(4) as usize],
            tokens_out: rng.below(10_000),
            latency_ms: [rng.below(100_000) as f64 + 0.25, f64::MAX, 5e-324, 1e21]
                [rng.below(4) as usize],
            ttft_ms: maybe(rng, 120.0),
            stream_ms: maybe(rng, 50.5),
            status: (rng.below(3) > 0)
                .then(|| [200, -1, 0, i64::MIN, i64::MAX][rng.below(5) as usize]),
            first_status: maybe(rng, 429.0).map(|v| v as i64),
            err_type: pick(rng, &["", "429", "idle_timeout"]).into(),
            fallbacks: rng.below(3) as u32,
            fallback_ts: Vec::new(),
            end,
            tokens_unknown: rng.below(2) == 0,
            no_decision: rng.below(4) == 0,
            decision: pick(rng, &["pass_through", "fallback", ""]).into(),
            reroute_mode: (rng.below(3) > 0)
                .then(|| pick(rng, &["hybrid", "run2cap", "new_mode"]).into()),
            reroute_decision: (rng.below(3) > 0)
                .then(|| pick(rng, &["quota_pass", "quota_block"]).into()),
            preferred_attempt: (rng.below(3) > 0).then_some(rng.below(2) == 0),
            warn_pct_cfg: maybe(rng, 0.8),
            warn_pct_auto: {
                let v = [0.72, -f64::MAX, -2.5e-308][rng.below(3) as usize];
                maybe(rng, v)
            },
            warn_pct_confidence: maybe(rng, 0.5),
            gap_seconds_p50: maybe(rng, 30.0),
            gap_seconds_p95: maybe(rng, 48.0),
            gap_samples: maybe(rng, 7.0),
        }
    }

    /// The facts read from the line itself (the independent side of the comparison).
    fn facts_of_line(v: &Value) -> facts::TurnFacts<'_> {
        fn s(v: &Value) -> &str {
            v.as_str().unwrap_or_default()
        }
        let us = |v: &Value| v.as_str().map(|t| t.parse::<Timestamp>().unwrap().as_unix_micros());
        let (t, c) = (&v["turn"], &v["turn"]["ccp"]);
        facts::TurnFacts {
            event_id: s(&v["event_id"]),
            ts_us: us(&v["ts"]).unwrap(),
            session_id: s(&t["session_id"]),
            model: s(&t["model"]),
            tokens_in: t["tokens_in"].as_u64().unwrap(),
            tokens_out: t["tokens_out"].as_u64().unwrap(),
            latency_ms: t["latency_ms"].as_f64().unwrap(),
            responded_at_us: us(&t["responded_at"]),
            ccp: Some(CcpFacts {
                end: s(&c["end"]),
                failed: c["failed"].as_bool().unwrap(),
                status: c["status"].as_i64(),
                fallbacks: c["fallbacks"].as_u64().unwrap(),
                first_attempt_status: c["first_attempt_status"].as_i64(),
                err_type: s(&c["err_type"]),
                ttft_ms: c["ttft_ms"].as_f64(),
                stream_ms: c["stream_ms"].as_f64(),
            }),
            cost: v.get("cost").map(|c| CostFacts {
                provider: s(&c["provider"]),
                estimated_usd: c["estimated_usd"].as_f64().unwrap(),
            }),
            reroute_decision: v.get("decision").and_then(|d| d.get("reroute_decision")).map(s),
        }
    }

    /// A request's two ids are the halves of one SHA-256 of its framed key, worked out here
    /// with ring and the UUID's dashes put in by hand; they differ from each other and from
    /// another key's.
    #[test]
    fn turn_ids_are_the_halves_of_one_digest() {
        let uuid = |half: &[u8]| {
            let hex: String = half.iter().map(|b| format!("{b:02x}")).collect();
            format!(
                "{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..]
            )
        };
        let mut seen = std::collections::HashSet::new();
        for key in [0u128, 1, u128::MAX, 0x0123_4567_89ab_cdef_0011_2233_4455_6677] {
            let mut framed = 20u64.to_le_bytes().to_vec();
            framed.extend_from_slice(b"agentos-backfill/ccp");
            framed.extend_from_slice(&16u64.to_le_bytes());
            framed.extend_from_slice(&key.to_le_bytes());
            let digest = ring::digest::digest(&ring::digest::SHA256, &framed);
            let (event_id, turn_id) = turn_ids(key);
            assert_eq!(event_id.as_str(), uuid(&digest.as_ref()[..16]));
            assert_eq!(turn_id.as_str(), uuid(&digest.as_ref()[16..]));
            assert!(seen.insert(event_id.as_str().to_owned()));
            assert!(seen.insert(turn_id.as_str().to_owned()));
        }
    }

    /// Times at and past the ends of what a timestamp holds still make a JSON line, and the
    /// session the facts name is the line's.
    #[test]
    fn extreme_times_render_a_line_and_its_session() {
        let mut rng = Rng::new(6);
        let mut renderer = Renderer::new(None);
        for at in [i64::MIN, -1, 0, 253_402_300_799_999_999, i64::MAX] {
            let r = Request { at_us: at, end_us: at, ..random_request(&mut rng) };
            let mut out = String::new();
            let mut told = Vec::new();
            renderer.render(&r, &mut out, &mut |f| told.push(f.session_id.to_owned())).unwrap();
            let line: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
            let session = line["turn"]["session_id"].as_str().unwrap();
            assert!(session.starts_with("ccp-") && !session.contains('\0'), "{session}");
            assert_eq!(told, [session]);
        }
    }

    /// The fast renderer writes the event the typed reference builds, for every shape, and
    /// tells the facts its line says.
    #[test]
    fn renderer_equals_the_typed_reference() {
        let table = PriceTable::bundled();
        let mut rng = Rng::new(5);
        for prices in [None, Some(&table)] {
            let mut renderer = Renderer::new(prices);
            for _ in 0..2000 {
                let r = random_request(&mut rng);
                let derived = renderer.render_serde(&r).unwrap();
                // Appended after what the buffer holds.
                let mut out = String::from("{}\n");
                let mut told = Vec::new();
                renderer.render(&r, &mut out, &mut |f| told.push(format!("{f:?}"))).unwrap();
                let line = out.strip_prefix("{}\n").unwrap();
                assert_eq!(line, derived, "the hand-written line is serde's, byte for byte");
                let fast: serde_json::Value = serde_json::from_str(line).unwrap();
                assert_eq!(
                    told,
                    [format!("{:?}", facts_of_line(&fast))],
                    "the facts told are the line's"
                );
                let typed: serde_json::Value =
                    serde_json::from_str(&turn_line(&r, prices).unwrap()).unwrap();
                assert_eq!(fast, typed);
            }
        }
    }
}
