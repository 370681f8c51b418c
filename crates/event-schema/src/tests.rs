//! Unit tests of the types, the limits rule and (with the `validate` feature) validation
//! internals: union explanation, strict mode, line lookup.

use serde_json::json;

use crate::catalog::SchemaKind;
use crate::v1;
#[cfg(feature = "validate")]
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

#[cfg(feature = "validate")]
#[test]
fn a_valid_turn_event_has_no_violations_and_no_unknown_fields() {
    let event = turn_event();
    assert_eq!(validate(SchemaKind::V1Event, &event), vec![]);
    assert_eq!(unknown_fields(SchemaKind::V1Event, &event), vec![]);
}

#[cfg(feature = "validate")]
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

#[cfg(feature = "validate")]
#[test]
fn a_wrongly_typed_turn_field_is_reported_at_its_pointer_not_at_the_union() {
    let mut event = turn_event();
    event["turn"]["tokens_in"] = json!("many");
    let violations = validate(SchemaKind::V1Event, &event);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].pointer, "/turn/tokens_in");
    assert!(violations[0].message.contains("integer"), "{}", violations[0].message);
}

#[cfg(feature = "validate")]
#[test]
fn a_wrongly_typed_field_inside_an_optional_object_is_reported_at_its_pointer() {
    let mut event = turn_event();
    event["measurement"]["impf"] = json!(-1.0);
    let violations = validate(SchemaKind::V1Event, &event);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].pointer, "/measurement/impf");
}

#[cfg(feature = "validate")]
#[test]
fn an_event_type_that_is_not_a_string_is_reported_on_the_document() {
    // An unknown type *name* is tolerated (see `unknown_event_types_read_as_unknown…`); a
    // `type` that is no string, or none, is not an event.
    for doc in [json!({"type": 5}), json!({"session_id": "s"})] {
        let violations = validate(SchemaKind::V1Event, &doc);
        assert!(!violations.is_empty(), "{doc}");
        assert!(
            violations.iter().all(|v| v.pointer.is_empty() || v.pointer == "/type"),
            "{violations:?}"
        );
    }
}

#[cfg(feature = "validate")]
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

#[cfg(feature = "validate")]
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

#[cfg(feature = "validate")]
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

#[cfg(feature = "validate")]
#[test]
fn line_of_pointer_skips_strings_with_brackets_quotes_and_escaped_keys() {
    let text = "{\"s\": \"}]{[\\\"\",\n \"k\\u0065y\": [\"a,b\",\n \"c\"]}";
    assert_eq!(line_of_pointer(text, "/key"), Some(2));
    assert_eq!(line_of_pointer(text, "/key/1"), Some(3));
}

#[cfg(feature = "validate")]
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

#[cfg(feature = "validate")]
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

#[test]
fn timestamps_convert_to_and_from_unix_microseconds() {
    use crate::Timestamp;
    // 2026-11-22T00:02:03.123456Z = 1_795_305_723 s (hand-computed: 20_779 days × 86_400
    // + 123 s) and 123_456 µs.
    let t: Timestamp = "2026-11-22T00:02:03.123456Z".parse().unwrap();
    assert_eq!(t.as_unix_micros(), 1_795_305_723_123_456);
    assert_eq!(Timestamp::from_unix_micros(1_795_305_723_123_456), Some(t));
    assert_eq!(Timestamp::from_unix_micros(i64::MAX), None);
}

#[cfg(feature = "validate")]
#[test]
fn unknown_input_and_outcome_kinds_read_validate_and_round_trip() {
    let mut e = turn_event();
    e["turn"]["input_kind"] = json!("audio/v2");
    e["outcome"] = json!({"kind": "release_cut", "count": 3});
    assert_eq!(validate(SchemaKind::V1Event, &e), vec![]);
    let parsed: v1::Event = serde_json::from_value(e.clone()).unwrap_or_else(|e| panic!("{e}"));
    let v1::Event::Turn(t) = &parsed else { panic!("not a turn") };
    assert_eq!(t.turn.input_kind, v1::InputKind::Unknown("audio/v2".into()));
    let o = t.outcome.clone().unwrap_or_else(|| panic!("no outcome"));
    assert_eq!((o.kind.clone(), o.count), (v1::OutcomeKind::Unknown("release_cut".into()), 3));
    assert!(!o.kind.is_known() && o.kind.counted_as() == &v1::OutcomeKind::Other);
    let back = serde_json::to_value(&parsed).unwrap_or_default();
    assert_eq!((&back["turn"], &back["outcome"]), (&e["turn"], &e["outcome"]));
    // The wire value `other` is the known bucket, not an unknown kind.
    e["turn"]["input_kind"] = json!("other");
    e["outcome"] = json!({"kind": "other"});
    let parsed: v1::Event = serde_json::from_value(e).unwrap_or_else(|e| panic!("{e}"));
    let v1::Event::Turn(t) = &parsed else { panic!("not a turn") };
    assert_eq!(t.turn.input_kind, v1::InputKind::Other);
    assert_eq!(t.outcome.as_ref().map(|o| &o.kind), Some(&v1::OutcomeKind::Other));
    // A non-string is still a type error, for the types and the schema alike.
    let mut bad = turn_event();
    bad["turn"]["input_kind"] = json!(3);
    assert!(serde_json::from_value::<v1::Event>(bad.clone()).is_err());
    assert_ne!(validate(SchemaKind::V1Event, &bad), vec![]);
}

#[cfg(feature = "validate")]
#[test]
fn reroute_values_ccp_does_not_list_still_read_and_round_trip() {
    let event = |mode: &str, decision: &str| {
        let mut e = turn_event();
        e["decision"] = json!({"reroute_mode": mode, "reroute_decision": decision});
        e
    };
    let known = event("preemptive", "quota_cooldown");
    let parsed: v1::Event = serde_json::from_value(known.clone()).unwrap_or_else(|e| panic!("{e}"));
    let v1::Event::Turn(t) = &parsed else { panic!("not a turn") };
    let d = t.decision.clone().unwrap_or_default();
    assert_eq!(d.reroute_mode, Some(v1::RerouteMode::Preemptive));
    assert_eq!(d.reroute_decision, Some(v1::RerouteDecision::QuotaCooldown));
    // An unknown value is kept as written (never a parse error), and written back unchanged.
    let unknown = event("future-mode", "quota_something_new");
    assert_eq!(validate(SchemaKind::V1Event, &unknown), vec![]);
    let parsed: v1::Event =
        serde_json::from_value(unknown.clone()).unwrap_or_else(|e| panic!("{e}"));
    let v1::Event::Turn(t) = &parsed else { panic!("not a turn") };
    let d = t.decision.clone().unwrap_or_default();
    assert_eq!(d.reroute_mode, Some(v1::RerouteMode::Other("future-mode".into())));
    assert!(!d.reroute_decision.as_ref().is_some_and(v1::RerouteDecision::is_known));
    let back = serde_json::to_value(&parsed).unwrap_or_default();
    assert_eq!(back["decision"], unknown["decision"]);
    // A non-string is still a type error, as in the Python schema.
    assert!(serde_json::from_value::<v1::Event>(event("x", "y")).is_ok());
    let mut bad = turn_event();
    bad["decision"] = json!({"reroute_mode": 3});
    assert!(serde_json::from_value::<v1::Event>(bad).is_err());
}

#[cfg(feature = "validate")]
/// `turn_event()` with `set` applied, as a typed event, checked by the limits rule; and the
/// schema's verdict on the same JSON.
fn limits_and_schema(
    set: impl FnOnce(&mut serde_json::Value),
) -> (Result<(), v1::limits::Violation>, usize) {
    let mut event = turn_event();
    event["cost"] = json!({"provider": "p", "estimated_usd": 0.5});
    set(&mut event);
    let schema_violations = validate(SchemaKind::V1Event, &event).len();
    let typed: v1::TurnEvent = serde_json::from_value(event).unwrap();
    let provider = typed.cost.as_ref().map_or("p", |c| c.provider.as_str()).to_owned();
    (v1::limits::check_turn(&typed, &provider), schema_violations)
}

#[cfg(feature = "validate")]
#[test]
fn the_limits_rule_and_the_schema_agree_at_every_bound() {
    use v1::limits::Field;
    // (pointer into the event, value just inside, value just outside, field named); the
    // share bound of capacity_used is the rule's alone (see the next test).
    let cases: Vec<(&str, f64, f64, Field)> = vec![
        ("/turn/capacity_used", 0.0, -1e-9, Field::CapacityUsed),
        ("/turn/latency_ms", 1e15, 2e15, Field::LatencyMs),
        ("/turn/attribution/m", 1.0, 1.5, Field::AttributionWeight("m".into())),
        ("/turn/attribution/m", 0.0, -0.1, Field::AttributionWeight("m".into())),
        ("/measurement/cls", -1e15, -2e15, Field::Cls),
        ("/measurement/impf", 1e15, 1e300, Field::Impf),
        ("/measurement/churn_score", 1e15, 1e16, Field::ChurnScore),
        ("/measurement/feature_delta", 1e15, 1e300, Field::FeatureDelta),
        ("/cost/estimated_usd", 1e15, 2e15, Field::EstimatedUsd),
    ];
    for (pointer, inside, outside, field) in cases {
        let put = |v: f64| {
            move |e: &mut serde_json::Value| {
                let (parent, key) = pointer.rsplit_once('/').unwrap();
                e.pointer_mut(parent).unwrap()[key] = json!(v);
            }
        };
        assert_eq!(limits_and_schema(put(inside)), (Ok(()), 0), "{pointer} = {inside}");
        let (rule, schema) = limits_and_schema(put(outside));
        let violation = rule.expect_err(pointer);
        assert_eq!(violation.field, field);
        assert_eq!(violation.value, outside);
        assert_eq!(schema, 1, "the schema also refuses {pointer} = {outside}");
    }
}

#[cfg(feature = "validate")]
#[test]
fn capacity_is_a_share_of_one_except_for_providers_that_count_prompts() {
    use crate::provider::is_prompt_counted as counts_prompts;
    use v1::limits::Field;
    let with = |provider: &'static str, cap: f64| {
        limits_and_schema(move |e| {
            e["cost"]["provider"] = json!(provider);
            e["turn"]["capacity_used"] = json!(cap);
        })
    };
    assert_eq!(with("anthropic", 1.0), (Ok(()), 0));
    let (rule, schema) = with("anthropic", 1.5);
    assert_eq!(rule.unwrap_err().field, Field::CapacityUsed);
    // JSON Schema cannot see the provider; the validator applies the rule after the schema.
    assert_eq!(schema, 1, "the validator refuses what the rule refuses");
    let found = validate(SchemaKind::V1Event, &{
        let mut e = turn_event();
        e["cost"] = json!({"provider": "anthropic", "estimated_usd": 0.5});
        e["turn"]["capacity_used"] = json!(1.5);
        e
    });
    assert_eq!(found.first().map(|v| v.pointer.as_str()), Some("/turn/capacity_used"));
    assert_eq!(with("glm", 40.0), (Ok(()), 0), "40 prompts");
    // A legacy line (no schema_version: the Python client; its backfill wrote token counts)
    // keeps counting as it always did; everything AgentOS writes is versioned.
    let legacy = limits_and_schema(|e| {
        e.as_object_mut().unwrap().remove("schema_version");
        e["turn"]["capacity_used"] = json!(150.0);
    });
    assert_eq!(legacy, (Ok(()), 0));
    let (rule, schema) = with("zai", 1e300);
    assert_eq!(rule.unwrap_err().field, Field::CapacityUsed);
    assert_eq!(schema, 1);
    for p in ["glm", "GLM", "zai", "Z.AI", " zhipu "] {
        assert!(counts_prompts(p), "{p}");
    }
    for p in ["anthropic", "openai", "z", "zaa", "gl", "glm-4.6"] {
        assert!(!counts_prompts(p), "{p}");
    }
}

#[cfg(feature = "validate")]
#[test]
fn attribution_weights_may_sum_to_one_but_not_more() {
    use v1::limits::Field;
    let with = |weights: serde_json::Value| {
        limits_and_schema(move |e| e["turn"]["attribution"] = weights).0
    };
    // 0.1 + 0.2 + 0.7 is 1.0000000000000002 in f64: rounding, not a second model's share.
    assert_eq!(with(json!({"a": 0.1, "b": 0.2, "c": 0.7})), Ok(()));
    assert_eq!(with(json!({"a": 1.0})), Ok(()));
    let v = with(json!({"a": 0.6, "b": 0.5})).unwrap_err();
    assert_eq!(v.field, Field::AttributionSum);
    assert!((v.value - 1.1).abs() < 1e-12);
    assert_eq!(
        v.to_string(),
        "the sum of the turn.attribution weights must be ≥ 0 and ≤ 1 (got 1.1)"
    );
}

#[cfg(feature = "validate")]
#[test]
fn a_violation_says_the_range_and_the_value_as_people_write_them() {
    let (rule, _) = limits_and_schema(|e| e["cost"]["estimated_usd"] = json!(2e15));
    let v = rule.unwrap_err();
    assert_eq!(v.to_string(), "cost.estimated_usd must be ≥ 0 and ≤ 1e15 (got 2e15)");
    assert_eq!(v.requirement(), "must be ≥ 0 and ≤ 1e15 (got 2e15)");
    let (rule, _) = limits_and_schema(|e| e["turn"]["capacity_used"] = json!(2.0));
    assert_eq!(rule.unwrap_err().to_string(), "turn.capacity_used must be ≥ 0 and ≤ 1 (got 2)");
}

#[test]
fn non_finite_numbers_are_refused_everywhere() {
    use v1::limits::{Field, check_turn};
    let mut typed: v1::TurnEvent = serde_json::from_value(turn_event()).unwrap();
    typed.turn.capacity_used = Some(f64::NAN);
    assert_eq!(check_turn(&typed, "p").unwrap_err().field, Field::CapacityUsed);
    typed.turn.capacity_used = None;
    typed.decision.as_mut().unwrap().warn_pct_auto = Some(f64::INFINITY);
    let v = check_turn(&typed, "p").unwrap_err();
    assert_eq!(v.field, Field::Decision("warn_pct_auto"));
    assert_eq!(v.to_string(), "decision.warn_pct_auto must be a finite number (got inf)");
}

#[test]
fn the_schema_says_tokens_fit_an_unsigned_64_bit_integer() {
    let schema = SchemaKind::V1Turn.schema();
    for field in ["tokens_in", "tokens_out"] {
        assert_eq!(schema["properties"][field]["maximum"], json!(u64::MAX), "{field}");
        assert_eq!(schema["properties"][field]["minimum"], json!(0), "{field}");
    }
}

#[test]
fn session_ids_are_refused_outside_the_safe_alphabet() {
    use v1::limits::{BadSessionId, SESSION_ID_MAX_LEN, check_session_id};
    for ok in [
        "s1",
        "3f2b8c1e-9d4a-4e6b-8f1a-2c7d5e9b0a14",
        "ci:run_42.a",
        &"a".repeat(SESSION_ID_MAX_LEN),
    ] {
        assert_eq!(check_session_id(ok), Ok(()), "{ok}");
    }
    assert_eq!(check_session_id(""), Err(BadSessionId::Empty));
    for (bad, ch, position) in [
        ("a\"b", '"', 2),
        ("a\\b", '\\', 2),
        ("\tx", '\t', 1),
        ("x\n", '\n', 2),
        ("a b", ' ', 2),
        ("café", 'é', 4),
        ("a/b", '/', 2),
    ] {
        assert_eq!(check_session_id(bad), Err(BadSessionId::Char { ch, position }), "{bad:?}");
    }
    for c in (0u8..128).map(char::from) {
        let id = c.to_string();
        let json_text = serde_json::to_string(&id).unwrap();
        if check_session_id(&id).is_ok() {
            assert_eq!(
                json_text,
                format!("\"{id}\""),
                "{c:?} is accepted, so JSON must not escape it"
            );
        }
    }
    assert_eq!(
        check_session_id(&"a".repeat(SESSION_ID_MAX_LEN + 1)),
        Err(BadSessionId::TooLong(SESSION_ID_MAX_LEN + 1))
    );
}

#[test]
fn one_table_names_the_provider_of_every_model() {
    use crate::provider::{
        ANTHROPIC, OPENAI, UNKNOWN, ZAI, canonical_provider, is_glm_model, is_prompt_counted,
        provider_for_model, provider_of_turn,
    };
    // The issue's cases, written out by hand.
    for (model, provider) in [
        ("claude-sonnet-4.5", ANTHROPIC),
        ("Claude-3-Opus", ANTHROPIC),
        ("anthropic/claude-3", ANTHROPIC),
        ("openrouter/anthropic/claude-3", ANTHROPIC),
        ("gpt-5", OPENAI),
        ("o1", OPENAI),
        ("o3-mini", OPENAI),
        ("o4-mini", OPENAI),
        ("codex-mini", OPENAI),
        ("glm/4.6", ZAI),
        ("GLM-4.6", ZAI),
        ("glm-4.5-air", ZAI),
        ("z.ai/glm-4.6", ZAI),
        ("gemini-2.5-pro", "google"),
        ("acme/coder-7b", "acme"),
        ("omni-model", UNKNOWN),
        ("my-local-model", UNKNOWN),
        ("", UNKNOWN),
        ("/odd", UNKNOWN),
    ] {
        assert_eq!(provider_for_model(model), provider, "{model}");
    }
    // cost.provider (what --provider records) wins, under its canonical name.
    assert_eq!(provider_of_turn("claude-sonnet-4.5", Some("bedrock")), "bedrock");
    assert_eq!(provider_of_turn("glm/4.6", Some("z.ai")), ZAI);
    assert_eq!(provider_of_turn("claude-sonnet-4.5", Some(" ")), ANTHROPIC);
    assert_eq!(provider_of_turn("claude-sonnet-4.5", None), ANTHROPIC);
    assert_eq!(canonical_provider("GLM"), ZAI);
    assert_eq!(canonical_provider("claude"), ANTHROPIC);
    // One GLM rule: the model's provider is Z.ai.
    for (model, glm) in
        [("glm/123", true), ("GLM-4.6", true), ("z.ai/glm-4.6", true), ("claude-3", false)]
    {
        assert_eq!(is_glm_model(model), glm, "{model}");
    }
    for (provider, counted) in
        [("glm", true), ("zai", true), ("Z.ai", true), ("anthropic", false), ("glmx", false)]
    {
        assert_eq!(is_prompt_counted(provider), counted, "{provider}");
    }
}

/// The validator checks `date-time` and integer widths as the types read them (issue #8,
/// point 6): before, these all validated.
#[cfg(feature = "validate")]
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
        // At least one violation, each at the field (2^64 breaks both `maximum` and `format`).
        assert!(!found.is_empty(), "{ptr} = {v}: {found:?}");
        assert!(found.iter().all(|f| f.pointer == ptr), "{found:?}");
    }
    for (ptr, v) in
        [("/ts", json!("2026-11-22T01:02:03+05:30")), ("/turn/tokens_out", json!(u64::MAX))]
    {
        let e = with(ptr, v.clone());
        assert!(serde_json::from_value::<v1::Event>(e.clone()).is_ok(), "types refuse {v}");
        assert_eq!(validate(SchemaKind::V1Event, &e), vec![], "{v}");
    }
}

#[cfg(feature = "validate")]
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

/// An event type this version does not know reads as `Event::Unknown`, keeps every field and
/// writes back as it was read (issue #9: unknown is tolerated, never a hard error).
#[test]
fn unknown_event_types_read_as_unknown_and_round_trip() {
    let line = json!({"type": "something_new", "event_id": "2f1e0d4c-3b2a-4190-8776-5544332211aa",
        "payload": {"nested": [1, "two"]}});
    let event: v1::Event = serde_json::from_value(line.clone()).unwrap_or_else(|e| panic!("{e}"));
    let v1::Event::Unknown(unknown) = &event else { panic!("not unknown: {event:?}") };
    assert_eq!(unknown.event_type(), "something_new");
    assert_eq!(event.kind(), v1::EventKind::Unknown);
    assert_eq!(event.session_id(), None);
    assert_eq!(
        event.envelope().event_id.as_ref().map(ToString::to_string).as_deref(),
        Some("2f1e0d4c-3b2a-4190-8776-5544332211aa")
    );
    assert_eq!(serde_json::to_value(&event).unwrap(), line);
    // Known types still fail on bad payloads, and `type` must be a string.
    assert!(serde_json::from_value::<v1::Event>(json!({"type": "turn"})).is_err());
    assert!(serde_json::from_value::<v1::Event>(json!({"type": 5})).is_err());
    assert!(serde_json::from_value::<v1::Event>(json!({"session_id": "s"})).is_err());
}

#[cfg(feature = "validate")]
#[test]
fn the_v1_event_schema_accepts_unknown_types_and_still_explains_known_ones() {
    use crate::{catalog::SchemaKind, validate};
    assert!(validate::validate(SchemaKind::V1Event, &json!({"type": "something_new"})).is_empty());
    assert!(!validate::validate(SchemaKind::V1Event, &json!({"type": 5})).is_empty());
    let mut bad = turn_event();
    bad["turn"]["tokens_in"] = json!(-1);
    let violations = validate::validate(SchemaKind::V1Event, &bad);
    assert!(
        violations.iter().any(|v| v.pointer == "/turn/tokens_in"),
        "the turn branch is still the one explained: {violations:?}"
    );
}
