//! What the full tier must never send (issue #8): text typed into any free-text field, enum
//! fields holding values CCP's contract does not list, unknown field names; a property test
//! over arbitrary strings, plus the form checks of the allow-list.

use std::collections::BTreeMap;

use agentos_event_schema::v1::{
    Cost, Decision, Envelope, Event, Feature, FeatureStatus, InputKind, Measurement, Outcome,
    OutcomeKind, PrivacyTier, RerouteDecision, RerouteMode, SCHEMA_VERSION, Session,
    SessionEndEvent, SessionEvent, Turn, TurnEvent, Value,
};
use agentos_event_schema::{EventId, Extra};
use proptest::prelude::*;
use proptest::strategy::ValueTree as _;
use serde_json::{Value as Json, json};

use super::*;

/// Characters a redacted body can contain outside the user's text: JSON punctuation, digits,
/// lower-case field names and enum values, lower-case hex, timestamps (`T`, `Z`, `:`, `.`,
/// `-`), the fixed model and provider names below. A generated string has at least one
/// character outside this set, so finding it in a body can only mean it leaked (a string made
/// only of these characters could occur by chance, e.g. inside a hex hash).
const BODY_ALPHABET: &str = "0123456789abcdefghijklmnopqrstuvwxyz_.:-TZ{}[],\"/+";

/// Arbitrary text (any Unicode, control characters included) of 4 to 24 characters, with at
/// least one character that no redacted body has on its own.
fn typed() -> impl Strategy<Value = String> {
    "\\PC{0,12}[^0-9a-z_.:\\-TZ{}\\[\\],\"/+]\\PC{0,11}"
        .prop_map(|s| s.chars().take(24).collect::<String>())
        .prop_filter("at least 4 characters", |s| s.chars().count() >= 4)
}

/// Every string the user typed, and every unknown key, for one generated event set.
struct Typed {
    texts: Vec<String>,
    keys: Vec<String>,
}

fn extra(keys: &[String], texts: &[String], nested: bool) -> Extra {
    let mut m = Extra::new();
    for (i, k) in keys.iter().enumerate() {
        let text = texts[i % texts.len()].clone();
        let value = if nested && i == 0 { json!({ k.clone(): [text] }) } else { json!(text) };
        m.insert(k.clone(), value);
    }
    m
}

/// A session, a turn with every optional part, and a session end, with text `t[i]` in every
/// free-text field and the unknown keys `k` (values from `t`) in every object that keeps them.
fn events_with(t: &[String], k: &[String]) -> Vec<Event> {
    let text = |i: usize| t[i % t.len()].clone();
    let envelope = |i: usize| Envelope {
        event_id: Some(EventId::from(text(i))),
        ts: Some(
            "2026-01-02T03:04:05Z"
                .parse()
                .unwrap_or_else(|_| agentos_event_schema::Timestamp::now()),
        ),
        schema_version: Some(text(i + 1)),
        extra: extra(k, t, true),
    };
    let mut metadata = BTreeMap::new();
    metadata.insert("label".to_owned(), json!(text(2)));
    metadata.insert("nested".to_owned(), json!({"deep": [text(3)]}));
    let session = Event::Session(SessionEvent {
        envelope: envelope(0),
        session: Session {
            session_id: text(4).into(),
            repo_id: text(5),
            branch: text(6),
            commit: text(7),
            license_id: text(8),
            privacy_tier: PrivacyTier::Full,
            created_at: agentos_event_schema::Timestamp::now(),
            metadata,
            agent: Some(text(26)),
            cwd: Some(text(27)),
            cli_version: Some(text(28)),
            last_active_at: Some(agentos_event_schema::Timestamp::now()),
            extra: extra(k, t, true),
        },
    });
    let turn = Event::Turn(TurnEvent {
        envelope: envelope(9),
        turn: Turn {
            turn_id: text(10).into(),
            session_id: text(4).into(),
            model: "claude-x".into(),
            subagent: text(11),
            tokens_in: 1,
            tokens_out: 2,
            // A kind this version does not know is a writer's free text too.
            input_kind: InputKind::from(text(24)),
            latency_ms: 3.0,
            attribution: BTreeMap::from([("claude-x".to_owned(), 1.0)]),
            capacity_used: Some(0.5),
            cache_creation_tokens: Some(4),
            cache_creation_1h_tokens: Some(1),
            cache_read_tokens: Some(5),
            sidechain: Some(true),
            responded_at: Some(agentos_event_schema::Timestamp::now()),
            revises: None,
            extra: extra(k, t, false),
        },
        measurement: Some(Measurement {
            cls: 1.0,
            impf: 2.0,
            churn_score: 0.1,
            feature_delta: 1.0,
            errors: vec![text(12), text(13)],
            extra: extra(k, t, true),
        }),
        feature: Some(Feature {
            feature_id: text(14).into(),
            spec_ref: text(15),
            status: FeatureStatus::Implemented,
            notes: Some(text(16)),
            extra: extra(k, t, false),
        }),
        cost: Some(Cost {
            provider: "anthropic".into(),
            unit_costs: BTreeMap::from([("input".to_owned(), 0.5)]),
            estimated_usd: 0.25,
            extra: extra(k, t, true),
        }),
        value: Some(Value {
            summary: text(17),
            links: vec![text(18)],
            evidence_refs: vec![text(19)],
            extra: extra(k, t, false),
        }),
        decision: Some(Decision {
            reroute_mode: Some(RerouteMode::from(text(20))),
            reroute_decision: Some(RerouteDecision::from(text(21))),
            preferred_attempt: Some(1),
            warn_pct_auto: Some(0.8),
            extra: extra(k, t, true),
            ..Decision::default()
        }),
        outcome: Some(Outcome {
            kind: OutcomeKind::from(text(25)),
            count: 1,
            extra: extra(k, t, false),
        }),
    });
    let end = Event::SessionEnd(SessionEndEvent {
        envelope: envelope(22),
        session_id: text(4).into(),
        ended_at: agentos_event_schema::Timestamp::now(),
        notes: text(23),
    });
    vec![session, turn, end]
}

/// The request body of `POST /v1/events` for these events, each first written as an
/// `events.jsonl` line and read back (the outbox's path), then redacted for the full tier.
fn events_body(events: &[Event]) -> String {
    let redacted: Vec<Json> = events
        .iter()
        .map(|e| {
            let line = serde_json::to_string(e).unwrap_or_default();
            let back: Event = serde_json::from_str(&line).unwrap_or_else(|err| panic!("{err}"));
            event_payload(Tier::Full, &back).unwrap_or_default()
        })
        .collect();
    json!({"idempotency_key": "evb-1", "schema_version": SCHEMA_VERSION, "events": redacted})
        .to_string()
}

fn leaked<'a>(body: &str, typed: &'a Typed) -> Option<&'a str> {
    typed.texts.iter().chain(&typed.keys).map(String::as_str).find(|s| {
        let escaped = serde_json::to_string(s).unwrap_or_default();
        body.contains(s) || body.contains(escaped.trim_matches('"'))
    })
}

#[test]
fn the_generator_only_makes_strings_a_body_cannot_contain_by_chance() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..200 {
        let s = typed().new_tree(&mut runner).map(|t| t.current()).unwrap_or_default();
        assert!(s.chars().count() >= 4, "{s:?}");
        assert!(s.chars().any(|c| !BODY_ALPHABET.contains(c)), "{s:?}");
    }
}

#[test]
fn the_leak_check_finds_text_that_is_sent() {
    // The check itself can fail: a body that carries the text verbatim, or JSON-escaped.
    let typed = Typed { texts: vec!["Secret \"plan\"\n".into()], keys: vec![] };
    assert!(leaked(&json!({"x": "Secret \"plan\"\n"}).to_string(), &typed).is_some());
    assert!(leaked("{}", &typed).is_none());
}

proptest! {
    #[test]
    fn no_typed_text_and_no_unknown_key_appears_in_a_full_tier_body(
        texts in proptest::collection::vec(typed(), 29),
        keys in proptest::collection::vec(typed(), 1..4),
    ) {
        let typed = Typed { texts, keys };
        let body = events_body(&events_with(&typed.texts, &typed.keys));
        prop_assert!(leaked(&body, &typed).is_none(), "{:?} leaked in {}", leaked(&body, &typed), body);
    }
}

#[test]
fn input_and_outcome_kinds_pass_only_when_known() {
    let kinds = |input: &str, outcome: &str| {
        let e =
            json!({"type": "turn", "turn": {"input_kind": input}, "outcome": {"kind": outcome}});
        let r = redact_value(&e);
        (r["turn"]["input_kind"].clone(), r["outcome"]["kind"].clone())
    };
    for (input, outcome) in [("text", "tests_passed"), ("image", "docs_written")] {
        assert_eq!(kinds(input, outcome), (json!(input), json!(outcome)));
    }
    // An unknown kind reads (as `Unknown`) but leaves only as the bucket `other`.
    assert_eq!(kinds("my secret kind", "secret outcome"), (json!("other"), json!("other")));
    let line = json!({"type": "turn", "session_id": "s", "turn": {"turn_id": "t", "session_id": "s",
        "model": "m", "subagent": "a", "tokens_in": 1, "tokens_out": 1,
        "input_kind": "my secret kind", "latency_ms": 1.0},
        "outcome": {"kind": "secret outcome", "count": 2}});
    let event: Event = serde_json::from_value(line).unwrap_or_else(|e| panic!("{e}"));
    let body = event_payload(Tier::Full, &event).unwrap_or_default().to_string();
    assert!(!body.contains("secret"), "{body}");
    assert!(
        body.contains(r#""input_kind":"other""#) && body.contains(r#""kind":"other""#),
        "{body}"
    );
}

#[test]
fn reroute_values_pass_only_when_ccp_lists_them() {
    let decision = |mode: &str, decision: &str| {
        let e = json!({"type": "turn", "decision": {"reroute_mode": mode, "reroute_decision": decision}});
        redact_value(&e)["decision"].clone()
    };
    for (mode, dec) in [("hybrid", "quota_pass"), ("run2cap", "net_fallback")] {
        assert_eq!(decision(mode, dec), json!({"reroute_mode": mode, "reroute_decision": dec}));
    }
    let d = decision("my secret mode", "quota_pass but secret");
    assert_eq!(d, json!({"reroute_mode": "other", "reroute_decision": "other"}));
    // Every value CCP's contract lists (§3.2) passes.
    for v in [
        "quota_pass",
        "quota_warn_attempt",
        "quota_cooldown",
        "quota_block",
        "quota_preemptive_warn",
        "quota_preemptive_pass",
        "quota_run_to_limit",
        "fallback",
        "quota_overshoot",
        "net_fallback",
    ] {
        assert_eq!(decision("hybrid", v)["reroute_decision"], v);
    }
    for v in ["hybrid", "preemptive", "run2cap"] {
        assert_eq!(decision(v, "quota_pass")["reroute_mode"], v);
    }
}

#[test]
fn values_of_the_wrong_form_are_hashed_or_bucketed() {
    let v = redact_value(&json!({
        "type": "my secret type",
        "event_id": "my-secret-id",
        "ts": "not a time, secret",
        "schema_version": "secret version",
        "turn": {"tokens_in": "secret count", "input_kind": "secret kind", "model": "m"},
        "session": {"privacy_tier": "secret tier"},
    }));
    assert_eq!(v["type"], OTHER);
    assert_eq!(v["event_id"], content_hash("my-secret-id"));
    assert_eq!(v["ts"], content_hash("not a time, secret"));
    assert_eq!(v["schema_version"], content_hash("secret version"));
    assert_eq!(v["turn"]["tokens_in"], content_hash("secret count"));
    assert_eq!(v["turn"]["input_kind"], OTHER);
    assert_eq!(v["session"]["privacy_tier"], OTHER);
    // The right forms pass unchanged.
    let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let ok = json!({"type": "turn", "event_id": id, "ts": "2026-01-02T03:04:05.000000Z",
        "schema_version": "1.1.0", "turn": {"tokens_in": 5, "input_kind": "image"}});
    assert_eq!(redact_value(&ok), ok);
}

#[test]
fn enum_rules_list_exactly_the_values_of_the_event_model() {
    let names = |values: Vec<Json>| -> Vec<String> {
        values.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
    };
    assert_eq!(
        names(PrivacyTier::ALL.iter().map(|t| json!(t)).collect()),
        crate::redact::TIERS.to_vec()
    );
    assert_eq!(
        names(OutcomeKind::ALL.iter().map(|k| json!(k)).collect()),
        crate::redact::OUTCOME_KINDS.to_vec()
    );
    assert_eq!(
        names(
            [InputKind::Text, InputKind::Image, InputKind::Other]
                .iter()
                .map(|k| json!(k))
                .collect()
        ),
        crate::redact::INPUT_KINDS.to_vec()
    );
    assert_eq!(
        names(
            [FeatureStatus::Proposed, FeatureStatus::Implemented, FeatureStatus::Shipped]
                .iter()
                .map(|k| json!(k))
                .collect()
        ),
        crate::redact::FEATURE_STATUSES.to_vec()
    );
    // Each event kind keeps its `type`.
    for e in events_with(&["Xtext".into()], &["Xkey".into()]) {
        let kind = serde_json::to_value(&e).unwrap_or_default()["type"].clone();
        assert_eq!(redact_event(&e)["type"], kind);
    }
}
