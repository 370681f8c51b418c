//! Unit tests: the wire shape of the OTLP JSON and the GenAI mapping, against hand-computed
//! values.

use agentos_event_schema::Timestamp;
use agentos_event_schema::v1::Event;
use agentos_privacy::{MinimizedPayload, Tier, event_payload};
use serde_json::{Value as Json, json};

use crate::model::AnyValue;
use crate::{ExportOptions, logs_request, metrics_request, names, parse_logs, semconv as sc};

fn attr<'a>(attrs: &'a [crate::model::KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs.iter().find(|kv| kv.key == key).map(|kv| &kv.value)
}

fn redacted(line: &str) -> Json {
    let event: Event = serde_json::from_str(line).unwrap();
    event_payload(Tier::Full, &event).unwrap()
}

const TURN: &str = r#"{"type":"turn","event_id":"0b7c0c4e-1111-4222-8333-444455556666","ts":"2026-11-30T10:00:01Z","schema_version":"1.0.0","turn":{"turn_id":"t-1","session_id":"fix the login bug","model":"claude-sonnet-4-5","subagent":"main","tokens_in":12,"tokens_out":34,"input_kind":"text","latency_ms":1500.0,"cache_creation_tokens":200,"cache_creation_1h_tokens":50,"cache_read_tokens":3000,"responded_at":"2026-11-30T10:00:00.5Z"},"cost":{"provider":"anthropic","unit_costs":{},"estimated_usd":0.25}}"#;

#[test]
fn a_turn_maps_to_genai_attributes_with_cached_tokens_inside_input() {
    let batch = logs_request(&[redacted(TURN)], &ExportOptions::default());
    assert_eq!((batch.records, batch.skipped), (1, 0));
    let rec = &batch.request.resource_logs[0].scope_logs[0].log_records[0];
    let a = &rec.attributes;
    // 12 uncached + 200 written + 3000 read = 3212.
    assert_eq!(attr(a, sc::USAGE_INPUT_TOKENS), Some(&AnyValue::Int(3212)));
    assert_eq!(attr(a, sc::UNCACHED_INPUT), Some(&AnyValue::Int(12)));
    assert_eq!(attr(a, sc::USAGE_CACHE_READ), Some(&AnyValue::Int(3000)));
    assert_eq!(attr(a, sc::USAGE_CACHE_CREATION), Some(&AnyValue::Int(200)));
    assert_eq!(attr(a, sc::CACHE_CREATION_1H), Some(&AnyValue::Int(50)));
    assert_eq!(attr(a, sc::USAGE_OUTPUT_TOKENS), Some(&AnyValue::Int(34)));
    assert_eq!(attr(a, sc::REQUEST_MODEL), Some(&AnyValue::String("claude-sonnet-4-5".into())));
    assert_eq!(attr(a, sc::SYSTEM), Some(&AnyValue::String("anthropic".into())));
    assert_eq!(attr(a, sc::COST_USD), Some(&AnyValue::Double(0.25)));
    assert_eq!(
        attr(a, sc::EVENT_ID),
        Some(&AnyValue::String("0b7c0c4e-1111-4222-8333-444455556666".into()))
    );
    // The session id left hashed, as privacy decided; the clear text is nowhere.
    let sid = agentos_privacy::sha256_hex("fix the login bug");
    assert_eq!(attr(a, sc::CONVERSATION_ID), Some(&AnyValue::String(sid)));
    let body = String::from_utf8(crate::to_json(&batch.request).unwrap()).unwrap();
    assert!(!body.contains("login bug"), "{body}");
    // responded_at 2026-11-30T10:00:00.5Z = 1796032800.5 s; ts one half second later.
    assert_eq!(rec.time_unix_nano, 1_796_032_800_500_000_000);
    assert_eq!(rec.observed_time_unix_nano, 1_796_032_801_000_000_000);
}

#[test]
fn the_wire_shape_is_otlp_json() {
    let batch = logs_request(&[redacted(TURN)], &ExportOptions::default());
    let v: Json = serde_json::from_slice(&crate::to_json(&batch.request).unwrap()).unwrap();
    let rec = &v["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
    assert_eq!(rec["timeUnixNano"], json!("1796032800500000000"));
    assert_eq!(rec["severityNumber"], json!(9));
    let input = rec["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|kv| kv["key"] == sc::USAGE_INPUT_TOKENS)
        .unwrap();
    assert_eq!(input["value"], json!({"intValue": "3212"}));
    assert_eq!(
        v["resourceLogs"][0]["resource"]["attributes"][0],
        json!({"key": "service.name", "value": {"stringValue": "agentos"}})
    );
    assert_eq!(v["resourceLogs"][0]["scopeLogs"][0]["scope"]["name"], json!("agentos"));
    // And it reads back.
    assert_eq!(parse_logs(&crate::to_json(&batch.request).unwrap()).unwrap(), batch.request);
}

#[test]
fn non_turns_and_turns_before_since_are_skipped_and_sessions_lend_their_agent() {
    let session = r#"{"type":"session","event_id":"0b7c0c4e-1111-4222-8333-444455550000","ts":"2026-11-30T09:00:00Z","session":{"session_id":"fix the login bug","repo_id":"r","branch":"b","commit":"c","license_id":"l","privacy_tier":"full","created_at":"2026-11-30T09:00:00Z","metadata":{},"agent":"claude-code"}}"#;
    let old = TURN.replace("2026-11-30T10:00:00.5Z", "2026-11-29T10:00:00Z");
    let since = serde_json::from_value::<Timestamp>(json!("2026-11-30T00:00:00Z")).unwrap();
    let opts = ExportOptions { since: Some(since), ..ExportOptions::default() };
    let events = [redacted(session), redacted(&old), redacted(TURN), json!({"type": "turn"})];
    let batch = logs_request(&events, &opts);
    assert_eq!((batch.records, batch.skipped), (1, 3));
    let rec = &batch.request.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(attr(&rec.attributes, sc::AGENT), Some(&AnyValue::String("claude-code".into())));
}

#[test]
fn garbage_never_panics() {
    let junk = [
        json!(null),
        json!([1, 2]),
        json!({"type": "turn", "turn": {"model": 5}}),
        json!({"type": "turn", "ts": "nope", "turn": {"model": "m", "tokens_in": -1}}),
        json!({"type": "turn", "ts": "2026-11-30T10:00:00Z", "turn": {"model": "m",
            "tokens_in": "x", "latency_ms": "NaN"}}),
    ];
    let batch = logs_request(&junk, &ExportOptions::default());
    assert_eq!((batch.records, batch.skipped), (1, 4));
    for bad in [&b"{"[..], b"{\"resourceLogs\": 3}", b"\xff"] {
        assert!(parse_logs(bad).is_err());
    }
}

#[test]
fn summary_figures_become_cumulative_sums_and_gauges() {
    let payload: MinimizedPayload = serde_json::from_value(json!({
        "schema_version": "1.0.0", "generated_at": "2026-11-30T12:00:00Z",
        "period": {"start": "2026-11-30T10:00:00Z", "end": "2026-11-30T11:00:00Z"},
        "sessions": 2, "turns": 7, "features_shipped": 3.0, "capacity_used": 0.5,
        "features_per_capacity": 6.0, "avg_cls": null, "avg_impf": null,
        "avg_churn_score": null, "tokens_in": 1000, "tokens_out": 250, "cost_usd": 1.5,
        "cost_per_shipped_feature": 0.5}))
    .unwrap();
    let req = metrics_request(&payload, &[], Timestamp::now(), &ExportOptions::default());
    let v: Json = serde_json::from_slice(&crate::to_json(&req).unwrap()).unwrap();
    let metrics = v["resourceMetrics"][0]["scopeMetrics"][0]["metrics"].as_array().unwrap();
    let by_name = |n: &str| metrics.iter().find(|m| m["name"] == n).unwrap().clone();
    let cost = by_name(names::COST);
    assert_eq!(cost["sum"]["aggregationTemporality"], json!(2));
    assert_eq!(cost["sum"]["isMonotonic"], json!(true));
    assert_eq!(cost["sum"]["dataPoints"][0]["asDouble"], json!(1.5));
    // 2026-11-30T10:00:00Z = 1796032800 s; generated 2 h later.
    assert_eq!(cost["sum"]["dataPoints"][0]["startTimeUnixNano"], json!("1796032800000000000"));
    assert_eq!(cost["sum"]["dataPoints"][0]["timeUnixNano"], json!("1796040000000000000"));
    let tokens = by_name(names::TOKENS);
    assert_eq!(tokens["sum"]["dataPoints"][0]["asInt"], json!("1000"));
    assert_eq!(tokens["sum"]["dataPoints"][1]["asInt"], json!("250"));
    assert_eq!(
        tokens["sum"]["dataPoints"][1]["attributes"][0],
        json!({"key": "gen_ai.token.type", "value": {"stringValue": "output"}})
    );
    assert_eq!(
        by_name(names::COST_PER_SHIPPED_FEATURE)["gauge"]["dataPoints"][0]["asDouble"],
        json!(0.5)
    );
    assert_eq!(
        by_name(names::FEATURES_PER_CAPACITY)["gauge"]["dataPoints"][0]["asDouble"],
        json!(6.0)
    );
    assert_eq!(by_name(names::FEATURES_SHIPPED)["sum"]["dataPoints"][0]["asDouble"], json!(3.0));
    assert!(metrics.iter().all(|m| !m["name"].as_str().unwrap().starts_with("agentos.model.")));

    // Full tier: the per-model figures privacy allows, with model and provider attributes.
    let figures: Vec<agentos_privacy::ModelFigures> = vec![agentos_privacy::ModelFigures {
        model: "gemini-2.5-pro".into(),
        provider: "google".into(),
        turns: 4,
        tokens_in: 40,
        tokens_out: 80,
        cost_usd: 2.5,
        cost_per_shipped_feature: Some(1.25),
    }];
    let req = metrics_request(&payload, &figures, Timestamp::now(), &ExportOptions::default());
    let v: Json = serde_json::from_slice(&crate::to_json(&req).unwrap()).unwrap();
    let metrics = v["resourceMetrics"][0]["scopeMetrics"][0]["metrics"].as_array().unwrap();
    let by_name = |n: &str| metrics.iter().find(|m| m["name"] == n).unwrap().clone();
    let cost = by_name(names::MODEL_COST);
    assert_eq!(cost["sum"]["dataPoints"][0]["asDouble"], json!(2.5));
    assert_eq!(
        cost["sum"]["dataPoints"][0]["attributes"],
        json!([{"key": "gen_ai.request.model", "value": {"stringValue": "gemini-2.5-pro"}},
               {"key": "gen_ai.provider.name", "value": {"stringValue": "gcp.gemini"}}])
    );
    let tokens = by_name(names::MODEL_TOKENS)["sum"]["dataPoints"].clone();
    assert_eq!(
        (tokens[0]["asInt"].clone(), tokens[1]["asInt"].clone()),
        (json!("40"), json!("80"))
    );
    assert_eq!(by_name(names::MODEL_TURNS)["sum"]["dataPoints"][0]["asInt"], json!("4"));
    assert_eq!(
        by_name(names::MODEL_COST_PER_SHIPPED_FEATURE)["gauge"]["dataPoints"][0]["asDouble"],
        json!(1.25)
    );
}

/// Length-delimited field `n` holding `bytes`.
fn ld(n: u8, bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![(n << 3) | 2, u8::try_from(bytes.len()).unwrap()];
    v.extend_from_slice(bytes);
    v
}

#[test]
fn protobuf_logs_decode_by_hand_and_no_input_panics() {
    use crate::protobuf::{count_metrics, decode_logs};
    // KeyValue{key: "model", value: {string_value: "m1"}}, KeyValue{"n", {int_value: -2}}.
    let model = [ld(1, b"model"), ld(2, &ld(1, b"m1"))].concat();
    let neg =
        [ld(1, b"n"), ld(2, &[0x18, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]
            .concat();
    // LogRecord{time_unix_nano (fixed64) = 1000, body "b", attributes, event_name "e"}.
    let mut record = vec![0x09];
    record.extend_from_slice(&1000u64.to_le_bytes());
    record.extend([ld(5, &ld(1, b"b")), ld(6, &model), ld(6, &neg), ld(12, b"e")].concat());
    // An unknown varint field (99) is skipped.
    record.extend([0x98, 0x06, 0x01]);
    let scope_logs = [ld(1, &ld(1, b"scope")), ld(2, &record)].concat();
    let body = ld(1, &[ld(1, &ld(1, &ld(1, b"service.name"))), ld(2, &scope_logs)].concat());
    let req = decode_logs(&body).unwrap();
    let rec = &req.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(rec.time_unix_nano, 1000);
    assert_eq!(rec.body, Some(AnyValue::String("b".into())));
    assert_eq!(rec.event_name, "e");
    assert_eq!(attr(&rec.attributes, "model"), Some(&AnyValue::String("m1".into())));
    assert_eq!(attr(&rec.attributes, "n"), Some(&AnyValue::Int(-2)));
    assert_eq!(req.resource_logs[0].scope_logs[0].scope.name, "scope");
    // Every prefix and every single-byte change decodes or fails, never panics.
    for cut in 0..body.len() {
        let _ = decode_logs(&body[..cut]);
        let _ = count_metrics(&body[..cut]);
    }
    for i in 0..body.len() {
        for b in [0x00, 0x7f, 0x80, 0xff, body[i] ^ 0x07] {
            let mut m = body.clone();
            m[i] = b;
            let _ = decode_logs(&m);
            let _ = count_metrics(&m);
        }
    }
    assert!(decode_logs(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err(), "a length past the end");
    assert!(decode_logs(&[0x0b]).is_err(), "groups are refused");
}

/// The one-pass body ([`crate::LogsBody`], from the privacy tier's typed views) holds exactly
/// the records [`logs_request`] builds from the redacted JSON of the same events: sessions lend
/// their agent, `since` and time-less turns are left out, odd ids are hashed, texts escaped.
#[test]
fn the_one_pass_body_equals_the_request_built_from_redacted_json() {
    let session = r#"{"type":"session","event_id":"0b7c0c4e-1111-4222-8333-444455550000","ts":"2026-11-30T09:00:00Z","session":{"session_id":"fix the login bug","repo_id":"r","branch":"b","commit":"c","license_id":"l","privacy_tier":"full","created_at":"2026-11-30T09:00:00Z","metadata":{},"agent":"claude-code"}}"#;
    let other_agent =
        session.replace("claude-code", r#"my \"own\" agent"#).replace("login", "other");
    let old = TURN.replace("2026-11-30T10:00:00.5Z", "2026-11-29T10:00:00Z");
    let odd = TURN
        .replace("0b7c0c4e-1111-4222-8333-444455556666", "not-a-uuid")
        .replace("claude-sonnet-4-5", r#"model \"quoted\" \\ é\u0001"#)
        .replace(r#""provider":"anthropic""#, r#""provider":"zai""#)
        .replace(
            r#""cache_read_tokens":3000,"#,
            r#""sidechain":true,"capacity_used":0.5,"revises":"x y","#,
        )
        .replace("fix the login bug", "fix the other bug");
    let no_time = r#"{"type":"turn","turn":{"turn_id":"t","session_id":"s","model":"m","subagent":"a","tokens_in":1,"tokens_out":2,"input_kind":"text","latency_ms":0}}"#;
    let end = r#"{"type":"session_end","session_id":"fix the login bug","ended_at":"2026-11-30T11:00:00Z","notes":"n"}"#;
    let lines = [session, &other_agent, TURN, &old, &odd, no_time, end, TURN];
    let since = serde_json::from_value::<Timestamp>(json!("2026-11-30T00:00:00Z")).unwrap();
    for opts in [
        ExportOptions::default(),
        ExportOptions {
            since: Some(since),
            resource: vec![("team".into(), "a\"b".into())],
            ..ExportOptions::default()
        },
    ] {
        let events: Vec<Event> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
        let json: Vec<Json> =
            events.iter().map(|e| event_payload(Tier::Full, e).unwrap()).collect();
        let want = logs_request(&json, &opts);
        let mut body = crate::LogsBody::new(&opts);
        let mut agents = std::collections::HashMap::new();
        for e in &events {
            if let Event::Session(s) = e {
                let v = agentos_privacy::session_view(Tier::Full, s).unwrap();
                if let Some(a) = v.agent {
                    agents.insert(v.session_id.into_owned(), a.to_owned());
                }
            }
        }
        for e in &events {
            if let Event::Turn(t) = e {
                let v = agentos_privacy::turn_view(Tier::Full, t).unwrap();
                let agent = agents.get(v.session_id.as_ref()).map(String::as_str);
                body.push(&v, agent);
            }
        }
        assert_eq!(body.records(), want.records);
        let bytes = body.finish();
        assert_eq!(
            parse_logs(&bytes).unwrap(),
            want.request,
            "{}",
            String::from_utf8_lossy(&bytes)
        );
        // Byte for byte what serde writes for the same request.
        assert_eq!(bytes, crate::to_json(&want.request).unwrap());
    }
}

/// A received fingerprint's line reads back to the same bytes (hex written by hand for one
/// value); anything but 32 lowercase hex digits is not a fingerprint.
#[test]
fn received_fingerprint_lines_round_trip_and_junk_is_refused() {
    use crate::receive::{fingerprint_line, parse_fingerprint_line};
    let f: [u8; 16] = [0, 1, 2, 0x0f, 0x10, 0xab, 0xcd, 0xef, 0xff, 9, 10, 11, 12, 13, 14, 0x80];
    let line = fingerprint_line(&f);
    assert_eq!(line, "0001020f10abcdefff090a0b0c0d0e80\n");
    assert_eq!(parse_fingerprint_line(line.trim_end().as_bytes()), Some(f));
    for bad in [
        "",
        "0001020f10abcdefff090a0b0c0d0e8",
        "0001020F10ABCDEFFF090A0B0C0D0E80",
        "zz01020f10abcdefff090a0b0c0d0e80",
    ] {
        assert_eq!(parse_fingerprint_line(bad.as_bytes()), None, "{bad}");
    }
}
