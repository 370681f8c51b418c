//! Compatibility both ways with the Python AgentOS v1 client: every event it wrote parses, and
//! every event written here validates against its JSON Schemas (`fixtures/agentos-py/schemas-v1`).

use std::collections::BTreeMap;

use agentos_event_schema::catalog::SchemaKind;
use agentos_event_schema::v1::{
    Cost, Decision, Envelope, Event, EventKind, Feature, FeatureStatus, InputKind, Measurement,
    Outcome, OutcomeKind, PrivacyTier, Session, SessionEndEvent, SessionEvent, Turn, TurnEvent,
    Value,
};
use agentos_event_schema::{Extra, Timestamp, validate};
use serde_json::{Value as Json, json};

use crate::{fixtures, read};

/// The Python v1 schema `name` (draft-07), compiled.
fn legacy(name: &str) -> jsonschema::Validator {
    let path = fixtures().join(format!("agentos-py/schemas-v1/{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Json = serde_json::from_str(&text).unwrap();
    jsonschema::draft7::new(&schema).unwrap_or_else(|e| panic!("{name} compiles: {e}"))
}

/// Each payload object of a serialised event, with the legacy schema it must satisfy.
fn payloads(event: &Json) -> Vec<(&'static str, &Json)> {
    let mut found = Vec::new();
    match event["type"].as_str() {
        Some("session") => found.push(("session", &event["session"])),
        Some("turn") => {
            found.push(("turn", &event["turn"]));
            for key in ["measurement", "feature", "cost", "value", "decision"] {
                if let Some(payload) = event.get(key) {
                    found.push((key, payload));
                }
            }
        }
        _ => {}
    }
    found
}

/// Assert every payload of `event` validates against its legacy schema.
fn assert_legacy_valid(label: &str, event: &Json) {
    for (name, payload) in payloads(event) {
        let errors: Vec<String> = legacy(name)
            .iter_errors(payload)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{label}: {name} breaks the Python schema: {errors:?}\n{payload}"
        );
    }
}

fn python_lines() -> Vec<(usize, String)> {
    read("agentos-py/events/python_written.jsonl")
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l.to_owned()))
        .collect()
}

#[test]
fn every_python_written_event_parses() {
    let mut kinds = Vec::new();
    for (line, text) in python_lines() {
        let event: Event =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("line {line}: {e}\n{text}"));
        assert_eq!(event.envelope(), &Envelope::default(), "line {line}: Python wrote no envelope");
        kinds.push(event.kind());
    }
    use EventKind::*;
    assert_eq!(kinds, [Session, Turn, Turn, Turn, SessionEnd, Session, Turn, Session, Turn]);
}

#[test]
fn python_written_events_keep_their_meaning() {
    let lines = python_lines();
    let parse = |i: usize| serde_json::from_str::<Event>(&lines[i].1).unwrap();
    let Event::Session(s) = parse(0) else { panic!("line 1 is a session") };
    assert_eq!(s.session.privacy_tier, PrivacyTier::Local);
    assert_eq!(s.session.created_at.to_string(), "2026-11-22T01:02:03.456789Z");
    assert_eq!(s.session.metadata.get("example"), Some(&json!(true)));
    let Event::Turn(t) = parse(1) else { panic!("line 2 is a turn") };
    assert_eq!((t.turn.tokens_in, t.turn.capacity_used, t.turn.latency_ms), (42, None, 987.0));
    let Event::Turn(t) = parse(2) else { panic!("line 3 is a turn") };
    assert_eq!(t.feature.as_ref().map(|f| f.notes.as_deref()), Some(Some("naïve résumé ✓")));
    assert_eq!(t.value.as_ref().map(|v| v.summary.as_str()), Some("Sample task — tests green"));
    assert_eq!(t.decision.as_ref().and_then(|d| d.gap_samples), Some(14.0));
    let Event::Turn(t) = parse(6) else { panic!("line 7 is a backfill turn") };
    assert_eq!(t.decision.as_ref().and_then(|d| d.preferred_attempt), Some(1));
    assert_eq!(t.turn.attribution.get("claude-haiku-4.5"), Some(&1.0));
    let Event::Session(s) = parse(7) else { panic!("line 8 is a backfill session") };
    assert_eq!(s.session.created_at.as_unix_seconds(), 0);
    let Event::SessionEnd(end) = parse(4) else { panic!("line 5 ends the session") };
    assert_eq!(
        (end.session_id.as_str(), end.notes.as_str()),
        ("3f2b8c1e-9d4a-4e6b-8f1a-2c7d5e9b0a14", "")
    );
}

#[test]
fn python_events_round_trip_and_then_satisfy_the_python_schemas() {
    for (line, text) in python_lines() {
        let event: Event = serde_json::from_str(&text).unwrap();
        let written = serde_json::to_string(&event).unwrap();
        let again: Event = serde_json::from_str(&written).unwrap();
        assert_eq!(again, event, "line {line} changed on a round trip:\n{text}\n{written}");
        let value: Json = serde_json::from_str(&written).unwrap();
        assert_legacy_valid(&format!("line {line}"), &value);
        assert_eq!(validate::validate(SchemaKind::V1Event, &value), vec![], "line {line}");
        assert_eq!(validate::unknown_fields(SchemaKind::V1Event, &value), vec![], "line {line}");
    }
}

#[test]
fn python_events_validate_against_our_event_schema_as_written() {
    for (line, text) in python_lines() {
        let value: Json = serde_json::from_str(&text).unwrap();
        assert_eq!(validate::validate(SchemaKind::V1Event, &value), vec![], "line {line}");
    }
}

#[test]
fn python_written_turns_keep_the_v1_limits() {
    // The rule the rollup reads with must not drop history the Python client wrote, such as
    // the backfill's capacity_used in tokens (line 7: 150.0, no schema_version).
    let mut turns = 0;
    for (line, text) in python_lines() {
        if let Event::Turn(t) = serde_json::from_str::<Event>(&text).unwrap() {
            let provider = t.cost.as_ref().map_or(t.turn.model.as_str(), |c| c.provider.as_str());
            let provider = provider.split_once('/').map_or(provider, |(p, _)| p);
            assert_eq!(
                agentos_event_schema::v1::limits::check_turn(&t, provider),
                Ok(()),
                "line {line}"
            );
            turns += 1;
        }
    }
    assert_eq!(turns, 5);
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Every event variant, with every optional part filled in.
fn events_we_write() -> Vec<Event> {
    let envelope = Envelope::now();
    let session = Session {
        session_id: "s-1".into(),
        repo_id: "repo".into(),
        branch: "main".into(),
        commit: "abc123".into(),
        license_id: "lic-1".into(),
        privacy_tier: PrivacyTier::Full,
        created_at: ts("2026-11-22T01:02:03.5+02:00"),
        metadata: BTreeMap::from([("team".to_owned(), json!("core")), ("n".to_owned(), json!(3))]),
        // The v1 additions for imported agent history are absent from what the recorder
        // writes, which is what keeps its lines valid under the legacy schemas.
        agent: None,
        cwd: None,
        cli_version: None,
        last_active_at: None,
        extra: Extra::new(),
    };
    let turn = Turn {
        turn_id: "t-1".into(),
        session_id: "s-1".into(),
        model: "glm/4.6".into(),
        subagent: "main".into(),
        tokens_in: 10,
        tokens_out: 20,
        input_kind: InputKind::Image,
        latency_ms: 12.5,
        attribution: BTreeMap::from([("glm/4.6".to_owned(), 0.25), ("claude".to_owned(), 0.75)]),
        capacity_used: Some(0.125),
        cache_creation_tokens: None,
        cache_creation_1h_tokens: None,
        cache_read_tokens: None,
        sidechain: None,
        responded_at: None,
        revises: None,
        extra: Extra::new(),
    };
    let full_turn = TurnEvent {
        envelope: envelope.clone(),
        turn: turn.clone(),
        measurement: Some(Measurement {
            cls: 0.5,
            impf: 2.0,
            churn_score: 0.3,
            feature_delta: 0.5,
            errors: vec!["flaky test".into()],
            extra: Extra::new(),
        }),
        feature: Some(Feature {
            feature_id: "F-1".into(),
            spec_ref: "docs/spec.md".into(),
            status: FeatureStatus::Implemented,
            notes: Some("half done".into()),
            extra: Extra::new(),
        }),
        cost: Some(Cost {
            provider: "zai".into(),
            unit_costs: BTreeMap::from([("input_per_1k".to_owned(), 0.001)]),
            estimated_usd: 0.02,
            extra: Extra::new(),
        }),
        value: Some(Value {
            summary: "tests green".into(),
            links: vec!["https://example.invalid/pr/1".into()],
            evidence_refs: vec!["run-1.log".into()],
            extra: Extra::new(),
        }),
        decision: Some(Decision {
            reroute_mode: Some("hybrid".into()),
            reroute_decision: Some("quota_pass".into()),
            preferred_attempt: Some(1),
            warn_pct_auto: Some(0.72),
            warn_pct_confidence: Some(0.35),
            gap_seconds_p50: Some(12.0),
            gap_seconds_p95: Some(48.0),
            gap_samples: Some(14.0),
            warn_pct_cfg: Some(0.8),
            extra: Extra::new(),
        }),
        outcome: Some(Outcome { kind: OutcomeKind::TestsPassed, count: 12, extra: Extra::new() }),
    };
    let bare_turn = TurnEvent {
        envelope: Envelope::default(),
        turn: Turn { capacity_used: None, attribution: BTreeMap::new(), ..turn },
        measurement: None,
        feature: None,
        cost: None,
        value: None,
        decision: Some(Decision::default()),
        outcome: None,
    };
    vec![
        Event::Session(SessionEvent { envelope: envelope.clone(), session }),
        Event::Turn(full_turn),
        Event::Turn(bare_turn),
        Event::SessionEnd(SessionEndEvent {
            envelope,
            session_id: "s-1".into(),
            ended_at: Timestamp::now(),
            notes: "done".into(),
        }),
    ]
}

#[test]
fn events_we_write_satisfy_the_python_schemas_and_ours() {
    let events = events_we_write();
    for event in &events {
        let value = serde_json::to_value(event).unwrap();
        let label = format!("{:?}", event.kind());
        assert_legacy_valid(&label, &value);
        assert_eq!(validate::validate(SchemaKind::V1Event, &value), vec![], "{label}");
        assert_eq!(validate::unknown_fields(SchemaKind::V1Event, &value), vec![], "{label}");
        let again: Event = serde_json::from_value(value).unwrap();
        assert_eq!(&again, event, "{label}: round trip");
    }
    // Every legacy payload schema was exercised with every optional part present.
    let full = serde_json::to_value(&events[1]).unwrap();
    let names: Vec<_> = payloads(&full).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["turn", "measurement", "feature", "cost", "value", "decision"]);
    for (name, payload) in payloads(&full) {
        let legacy_schema: Json =
            serde_json::from_str(&read(&format!("agentos-py/schemas-v1/{name}.json"))).unwrap();
        let declared = legacy_schema["properties"].as_object().unwrap();
        let written = payload.as_object().unwrap();
        for key in declared.keys() {
            assert!(written.contains_key(key), "{name}.{key} not written by the full event");
        }
    }
}

#[test]
fn timestamps_are_written_in_utc_with_microseconds() {
    let value = serde_json::to_value(&events_we_write()[0]).unwrap();
    assert_eq!(value["session"]["created_at"], json!("2026-11-21T23:02:03.500000Z"));
    let ts = value["ts"].as_str().unwrap();
    assert!(ts.ends_with('Z') && ts.len() == "2026-11-22T01:02:03.000000Z".len(), "{ts}");
    assert_eq!(value["schema_version"], json!(agentos_event_schema::v1::SCHEMA_VERSION));
}

#[test]
fn a_python_event_that_breaks_its_schema_is_rejected_with_a_pointer() {
    let text = r#"{"type": "turn", "turn": {"turn_id": "t", "session_id": "s", "model": "m", "subagent": "a", "tokens_in": 1.5, "tokens_out": 2, "input_kind": "text", "latency_ms": 1.0}}"#;
    let value: Json = serde_json::from_str(text).unwrap();
    assert!(serde_json::from_value::<Event>(value.clone()).is_err());
    let violations = validate::validate(SchemaKind::V1Event, &value);
    assert_eq!(
        violations.iter().map(|v| v.pointer.as_str()).collect::<Vec<_>>(),
        ["/turn/tokens_in"]
    );
    assert!(legacy("turn").iter_errors(&value["turn"]).next().is_some());
}
