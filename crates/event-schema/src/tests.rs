//! Unit tests of validation internals: union explanation, strict mode, line lookup.

use serde_json::json;

use crate::catalog::SchemaKind;
use crate::v1;
use crate::validate::{line_of_pointer, unknown_fields, validate};

fn turn_event() -> serde_json::Value {
    json!({"type": "turn", "event_id": "e1", "ts": "2026-11-22T01:02:03.000000Z",
        "schema_version": "1.1.0",
        "turn": {"turn_id": "t1", "session_id": "s1", "model": "m", "subagent": "main",
            "tokens_in": 1, "tokens_out": 2, "input_kind": "text", "latency_ms": 5.0,
            "attribution": {}, "capacity_used": null},
        "measurement": {"cls": 1.0, "impf": 0.0, "churn_score": 0.0, "feature_delta": 1.0},
        "decision": {"reroute_mode": "hybrid"}})
}

#[test]
fn a_valid_turn_event_has_no_violations_and_no_unknown_fields() {
    let event = turn_event();
    assert_eq!(validate(SchemaKind::V1Event, &event), vec![]);
    assert_eq!(unknown_fields(SchemaKind::V1Event, &event), vec![]);
}

#[test]
fn every_event_kind_is_strictly_clean_so_the_type_tag_is_never_reported() {
    let session = json!({"type": "session", "session": {"session_id": "s", "repo_id": "r",
        "branch": "b", "commit": "c", "license_id": "l", "privacy_tier": "local",
        "created_at": "2026-11-22T01:02:03+00:00", "metadata": {}}});
    let end = json!({"type": "session_end", "session_id": "s",
        "ended_at": "2026-11-22T01:02:03Z", "notes": ""});
    for event in [session, end, turn_event()] {
        assert_eq!(unknown_fields(SchemaKind::V1Event, &event), vec![], "{event}");
    }
}

#[test]
fn a_wrongly_typed_turn_field_is_reported_at_its_pointer_not_at_the_union() {
    let mut event = turn_event();
    event["turn"]["tokens_in"] = json!("many");
    let violations = validate(SchemaKind::V1Event, &event);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].pointer, "/turn/tokens_in");
    assert!(violations[0].message.contains("integer"), "{}", violations[0].message);
}

#[test]
fn a_wrongly_typed_field_inside_an_optional_object_is_reported_at_its_pointer() {
    let mut event = turn_event();
    event["measurement"]["impf"] = json!(-1.0);
    let violations = validate(SchemaKind::V1Event, &event);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].pointer, "/measurement/impf");
}

#[test]
fn an_unknown_event_type_is_reported_on_the_document() {
    let violations = validate(SchemaKind::V1Event, &json!({"type": "lunch"}));
    assert!(!violations.is_empty());
    assert!(
        violations.iter().all(|v| v.pointer.is_empty() || v.pointer == "/type"),
        "{violations:?}"
    );
}

#[test]
fn unknown_fields_name_the_key_on_the_envelope_and_inside_payloads() {
    let mut event = turn_event();
    event["brand_new"] = json!(1);
    event["turn"]["also_new"] = json!("x");
    event["measurement"]["extra~/key"] = json!(true);
    let mut pointers: Vec<_> =
        unknown_fields(SchemaKind::V1Event, &event).into_iter().map(|v| v.pointer).collect();
    pointers.sort();
    assert_eq!(pointers, ["/brand_new", "/measurement/extra~0~1key", "/turn/also_new"]);
    // …and tolerant validation accepts them (additive evolution).
    assert_eq!(validate(SchemaKind::V1Event, &event), vec![]);
}

#[test]
fn unknown_fields_in_maps_are_not_reported() {
    let mut event = turn_event();
    event["turn"]["attribution"] = json!({"any-model-name": 1.0});
    assert_eq!(unknown_fields(SchemaKind::V1Event, &event), vec![]);
}

#[test]
fn preferred_attempt_reads_booleans_as_the_python_backfill_wrote_them() {
    let d: v1::Decision = serde_json::from_value(json!({"preferred_attempt": true})).unwrap();
    assert_eq!(d.preferred_attempt, Some(1));
    let d: v1::Decision = serde_json::from_value(json!({"preferred_attempt": false})).unwrap();
    assert_eq!(d.preferred_attempt, Some(0));
    let d: v1::Decision = serde_json::from_value(json!({"preferred_attempt": null})).unwrap();
    assert_eq!(d.preferred_attempt, None);
    let d: v1::Decision = serde_json::from_value(json!({"preferred_attempt": 3})).unwrap();
    assert_eq!(serde_json::to_value(&d).unwrap(), json!({"preferred_attempt": 3}));
    assert!(serde_json::from_value::<v1::Decision>(json!({"preferred_attempt": "yes"})).is_err());
    assert!(serde_json::from_value::<v1::Decision>(json!({"preferred_attempt": -1})).is_err());
}

#[test]
fn line_of_pointer_finds_values_in_pretty_json() {
    let text = "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": [\n      10,\n      {\"d\": \"x\"}\n    ]\n  },\n  \"e/f\": {\"g~h\": null}\n}\n";
    assert_eq!(line_of_pointer(text, ""), Some(1));
    assert_eq!(line_of_pointer(text, "/a"), Some(2));
    assert_eq!(line_of_pointer(text, "/b"), Some(3));
    assert_eq!(line_of_pointer(text, "/b/c"), Some(4));
    assert_eq!(line_of_pointer(text, "/b/c/0"), Some(5));
    assert_eq!(line_of_pointer(text, "/b/c/1"), Some(6));
    assert_eq!(line_of_pointer(text, "/b/c/1/d"), Some(6));
    assert_eq!(line_of_pointer(text, "/e~1f/g~0h"), Some(9));
}

#[test]
fn line_of_pointer_skips_strings_with_brackets_quotes_and_escaped_keys() {
    let text = "{\"s\": \"}]{[\\\"\",\n \"k\\u0065y\": [\"a,b\",\n \"c\"]}";
    assert_eq!(line_of_pointer(text, "/key"), Some(2));
    assert_eq!(line_of_pointer(text, "/key/1"), Some(3));
}

#[test]
fn line_of_pointer_is_none_for_paths_that_do_not_resolve() {
    let text = "{\"a\": [1, 2], \"b\": {}}";
    for pointer in ["/missing", "/a/2", "/a/x", "/a/0/deeper", "/b/c", "no-slash", "/a/-1"] {
        assert_eq!(line_of_pointer(text, pointer), None, "{pointer}");
    }
    assert_eq!(line_of_pointer("", ""), None);
    assert_eq!(line_of_pointer("{\"a\": ", "/a"), None);
    assert_eq!(line_of_pointer("{\"a\"", "/a"), None);
    assert_eq!(line_of_pointer("[[[[[[", "/0/0/0/0/0/0"), None);
}

#[test]
fn line_of_pointer_survives_deep_nesting_without_recursion() {
    let deep = format!("{{\"x\": {}1{}, \"y\": 2}}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(line_of_pointer(&deep, "/y"), Some(1));
}

#[test]
fn timestamps_keep_microseconds_so_what_is_written_reads_back_equal() {
    use crate::Timestamp;
    let now = Timestamp::now();
    let again: Timestamp = now.to_string().parse().unwrap();
    assert_eq!(again, now);
    let fine: Timestamp = "2026-11-22T01:02:03.123456789+01:00".parse().unwrap();
    assert_eq!(fine.to_string(), "2026-11-22T00:02:03.123456Z");
    assert_eq!(fine.to_string().parse::<Timestamp>().unwrap(), fine);
    let from_f64 = Timestamp::from_unix_seconds_f64(1_795_310_558.568_518_3).unwrap();
    assert_eq!(from_f64.to_string().parse::<Timestamp>().unwrap(), from_f64);
}

/// The validator checks `date-time` and integer widths as the types read them (issue #8,
/// point 6): before, these all validated.
#[test]
fn timestamps_and_integers_are_checked_as_the_types_read_them() {
    let with = |ptr: &str, v: serde_json::Value| {
        let mut e = turn_event();
        if let Some(slot) = e.pointer_mut(ptr) {
            *slot = v;
        }
        e
    };
    for (ptr, v) in [
        ("/ts", json!("yesterday")),
        ("/ts", json!("2026-13-01T00:00:00Z")),
        ("/ts", json!("2026-11-22T01:02:03")),
        ("/turn/tokens_in", json!(1.0)),
        ("/turn/tokens_in", json!(1e2)),
        (
            "/turn/tokens_out",
            serde_json::from_str::<serde_json::Value>("18446744073709551616").unwrap_or_default(),
        ),
    ] {
        let e = with(ptr, v.clone());
        assert!(serde_json::from_value::<v1::Event>(e.clone()).is_err(), "types accept {v}");
        let found = validate(SchemaKind::V1Event, &e);
        assert_eq!(found.len(), 1, "{ptr} = {v}: {found:?}");
        assert_eq!(found.first().map(|f| f.pointer.as_str()), Some(ptr), "{found:?}");
    }
    for (ptr, v) in
        [("/ts", json!("2026-11-22T01:02:03+05:30")), ("/turn/tokens_out", json!(u64::MAX))]
    {
        let e = with(ptr, v.clone());
        assert!(serde_json::from_value::<v1::Event>(e.clone()).is_ok(), "types refuse {v}");
        assert_eq!(validate(SchemaKind::V1Event, &e), vec![], "{v}");
    }
}

#[test]
fn parse_json_refuses_invalid_utf8_instead_of_decoding_it_lossily() {
    let mut bytes = turn_event().to_string().into_bytes();
    let at = bytes.windows(3).position(|w| w == b"\"m\"").map(|p| p + 1).unwrap_or(0);
    if let Some(b) = bytes.get_mut(at) {
        *b = 0xff;
    }
    let err = crate::validate::parse_json(&bytes).err().map(|v| v.message).unwrap_or_default();
    assert!(err.starts_with("invalid utf-8"), "{err}");
    let lossy = String::from_utf8_lossy(&bytes).into_owned();
    assert!(crate::validate::parse_json(lossy.as_bytes()).is_ok());
}
