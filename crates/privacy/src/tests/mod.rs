//! Unit tests: tier permissions, full-tier redaction (no free text, allow-list kept, unknown
//! containers hashed whole), the aggregate-only minimized payload, generated docs.

use std::collections::BTreeMap;

use agentos_event_schema::v1::{
    Cost, Envelope, Event, Feature, FeatureStatus, InputKind, Measurement, MetricsSummary, Outcome,
    OutcomeKind, PrivacyTier, Session, SessionEndEvent, SessionEvent, Turn, TurnEvent, Usage,
    Value,
};
use agentos_event_schema::{Extra, Timestamp};
use serde_json::json;

use super::*;

mod leaks;
mod turn_view;

const SECRETS: &[&str] = &[
    "acme/secret-repo",
    "feature/top-secret",
    "deadbeefcafe",
    "lic-customer-42",
    "window W0-01 secret",
    "reviewer-bob",
    "docs/specs/secret.md",
    "feat-secret",
    "needs legal review",
    "Passed the secret audit",
    "https://git.acme/pr/7",
    "evidence://local/1",
    "wrap-up notes secret",
    "my-session-fix-login",
];

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|_| Timestamp::now())
}

fn events() -> Vec<Event> {
    let sid = "my-session-fix-login";
    let mut metadata = BTreeMap::new();
    metadata.insert("window".to_owned(), json!("window W0-01 secret"));
    let session = Event::Session(SessionEvent {
        envelope: Envelope::now(),
        session: Session {
            session_id: sid.into(),
            repo_id: "acme/secret-repo".into(),
            branch: "feature/top-secret".into(),
            commit: "deadbeefcafe".into(),
            license_id: "lic-customer-42".into(),
            privacy_tier: PrivacyTier::Full,
            created_at: ts("2026-01-02T03:04:05Z"),
            metadata,
            agent: Some("claude-code".into()),
            cwd: Some("/home/alice/top-secret-project".into()),
            cli_version: Some("2.0.14".into()),
            last_active_at: Some(ts("2026-01-02T04:05:06Z")),
            extra: Extra::new(),
        },
    });
    let mut attribution = BTreeMap::new();
    attribution.insert("claude-3".to_owned(), 1.0);
    let mut extra = Extra::new();
    extra.insert("unknown_field".into(), json!("reviewer-bob"));
    let turn = Event::Turn(TurnEvent {
        envelope: Envelope::now(),
        turn: Turn {
            turn_id: "t-1".into(),
            session_id: sid.into(),
            model: "anthropic/claude-3".into(),
            subagent: "reviewer-bob".into(),
            tokens_in: 100,
            tokens_out: 200,
            input_kind: InputKind::Text,
            latency_ms: 1200.0,
            attribution,
            capacity_used: Some(0.75),
            cache_creation_tokens: Some(300),
            cache_creation_1h_tokens: Some(100),
            cache_read_tokens: Some(4000),
            sidechain: Some(false),
            responded_at: Some(ts("2026-01-02T03:04:07Z")),
            revises: Some("0b9e3f4c-1d2a-4b5c-8d7e-6f5a4b3c2d1e".into()),
            extra,
        },
        measurement: Some(Measurement {
            cls: 1.1,
            impf: 5.0,
            churn_score: 0.2,
            feature_delta: 1.0,
            errors: vec!["needs legal review".into()],
            extra: Extra::new(),
        }),
        feature: Some(Feature {
            feature_id: "feat-secret".into(),
            spec_ref: "docs/specs/secret.md".into(),
            status: FeatureStatus::Shipped,
            notes: Some("needs legal review".into()),
            extra: Extra::new(),
        }),
        cost: Some(Cost {
            provider: "anthropic".into(),
            unit_costs: BTreeMap::new(),
            estimated_usd: 1.23,
            price_table: Some("agentos-2026-11-30".into()),
            extra: Extra::new(),
        }),
        value: Some(Value {
            summary: "Passed the secret audit".into(),
            links: vec!["https://git.acme/pr/7".into()],
            evidence_refs: vec!["evidence://local/1".into()],
            extra: Extra::new(),
        }),
        decision: None,
        outcome: Some(Outcome { kind: OutcomeKind::TestsPassed, count: 3, extra: Extra::new() }),
    });
    let end = Event::SessionEnd(SessionEndEvent {
        envelope: Envelope::now(),
        session_id: sid.into(),
        ended_at: ts("2026-01-02T04:00:00Z"),
        notes: "wrap-up notes secret".into(),
    });
    vec![session, turn, end]
}

#[test]
fn tiers_name_their_entitlements_and_permissions() {
    assert_eq!(Tier::Local.required_entitlement(), None);
    assert_eq!(required_entitlement(Tier::Minimized), Some("telemetry_minimized"));
    assert_eq!(Tier::Full.required_entitlement(), Some("telemetry_full"));
    assert!(!Tier::Local.uses_network());
    assert!(Tier::Minimized.uploads_summary() && !Tier::Minimized.uploads_events());
    assert!(Tier::Full.uploads_summary() && Tier::Full.uploads_events());
    let e = &events()[0];
    assert!(event_payload(Tier::Local, e).is_none());
    assert!(event_payload(Tier::Minimized, e).is_none());
    assert!(event_payload(Tier::Full, e).is_some());
    assert!(summary_payload(Tier::Local, &MetricsSummary::default()).is_none());
}

/// "At least as private as" is the order of what leaves the machine: `a` is at least as
/// private as `b` exactly when everything `a` uploads, `b` uploads too (computed here from
/// the permissions, not from the rank the method uses).
#[test]
fn at_least_as_private_as_follows_what_leaves_the_machine() {
    let sends = |t: Tier| [t.uploads_summary(), t.uploads_events()];
    for a in Tier::ALL {
        for b in Tier::ALL {
            let subset = sends(a).iter().zip(sends(b)).all(|(x, y)| !*x || y);
            assert_eq!(a.is_at_least_as_private_as(&b), subset, "{a} vs {b}");
        }
    }
    assert!(Tier::Local.is_at_least_as_private_as(&Tier::Full));
    assert!(!Tier::Full.is_at_least_as_private_as(&Tier::Minimized));
}

#[test]
fn full_redaction_leaves_no_free_text_anywhere() {
    for event in events() {
        let text = redact_event(&event).to_string();
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret:?} leaked in {text}");
        }
    }
}

#[test]
fn full_redaction_keeps_numbers_enums_models_and_timestamps() {
    let all = events();
    let turn = redact_event(&all[1]);
    assert_eq!(turn["turn"]["model"], "anthropic/claude-3");
    assert_eq!(turn["turn"]["tokens_in"], 100);
    assert_eq!(turn["turn"]["capacity_used"], 0.75);
    assert_eq!(turn["turn"]["input_kind"], "text");
    assert_eq!(turn["turn"]["attribution"]["claude-3"], 1.0);
    assert_eq!(turn["measurement"]["feature_delta"], 1.0);
    assert_eq!(turn["feature"]["status"], "shipped");
    assert_eq!(turn["cost"]["provider"], "anthropic");
    assert_eq!(turn["outcome"]["kind"], "tests_passed");
    assert_eq!(turn["type"], "turn");
    assert!(turn["event_id"].is_string());
    // value keeps only summary + links, both hashed
    let value_keys: Vec<&String> = turn["value"].as_object().map(|m| m.keys().collect()).unwrap();
    assert_eq!(value_keys, ["links", "summary"]);
    assert_eq!(turn["value"]["summary"], content_hash("Passed the secret audit"));
    assert_eq!(turn["value"]["links"][0]["len"], "https://git.acme/pr/7".len());
    // unknown field hashed, its name too
    assert_eq!(turn["turn"][sha256_hex("unknown_field")], content_hash("reviewer-bob"));
    assert!(turn["turn"].get("unknown_field").is_none());
    let session = redact_event(&all[0]);
    assert_eq!(session["session"]["created_at"], "2026-01-02T03:04:05.000000Z");
    assert_eq!(session["session"]["privacy_tier"], "full");
    assert!(session["session"]["metadata"]["window"]["sha256"].is_string());
    // the same session id hashes the same everywhere
    assert_eq!(session["session"]["session_id"], turn["turn"]["session_id"]);
    let end = redact_event(&all[2]);
    assert_eq!(end["ended_at"], "2026-01-02T04:00:00.000000Z");
    assert_eq!(end["session_id"], turn["turn"]["session_id"]);
}

#[test]
fn unknown_containers_are_hashed_whole_keys_included() {
    let v = redact_value(&json!({
        "type": "turn",
        "turn": {"model": "m", "custom": {"customer acme": {"deal": "secret"}}, "tags": ["x"]},
        "extension": {"acme-internal-key": 1},
        "list_of_maps": [{"acme-key": 2}],
    }));
    let text = v.to_string();
    for leaked in ["customer acme", "deal", "acme-internal-key", "acme-key", "secret"] {
        assert!(!text.contains(leaked), "{leaked:?} leaked in {text}");
    }
    assert_eq!(v["turn"]["model"], "m");
    let custom = content_hash(r#"{"customer acme":{"deal":"secret"}}"#);
    assert_eq!(v["turn"][sha256_hex("custom")], custom);
    assert_eq!(v["turn"][sha256_hex("tags")], content_hash(r#"["x"]"#));
    assert!(v[sha256_hex("extension")]["sha256"].is_string());
    assert!(v[sha256_hex("list_of_maps")]["sha256"].is_string());
    // Known containers are still walked: map keys the allow-list names pass, values follow it.
    let v = redact_value(&json!({"turn": {"attribution": {"claude-3": 0.5}}}));
    assert_eq!(v["turn"]["attribution"]["claude-3"], 0.5);
}

#[test]
fn content_hash_is_sha256_hex_with_byte_length() {
    let h = content_hash("abc");
    assert_eq!(h["sha256"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(h["len"], 3);
}

#[test]
fn containers_where_scalars_pass_are_hashed() {
    let v = redact_value(&json!({"type": {"nested": "secret"}, "turn": {"model": ["x"]}}));
    assert_eq!(v["type"], OTHER);
    assert!(v["turn"]["model"]["sha256"].is_string());
    assert!(redact_value(&json!("secret"))["sha256"].is_string());
}

fn summary() -> MetricsSummary {
    let mut s = MetricsSummary {
        schema_version: "1.1.0".into(),
        generated_at: Some(ts("2026-01-02T03:04:05Z")),
        sessions: 2,
        turns: 3,
        features_shipped: 1.0,
        capacity_used: 0.5,
        features_per_capacity: Some(2.0),
        avg_cls: Some(1.2),
        avg_impf: Some(4.5),
        avg_churn_score: Some(0.1),
        cost_usd: 1.5,
        ..MetricsSummary::default()
    };
    s.model_value.insert("secret-model-name".into(), 1.0);
    s.git_features = Some(agentos_event_schema::v1::GitFeatures {
        computed_at: ts("2026-01-02T03:04:05Z"),
        repos: 1,
        shipped: 7,
        in_progress: 0,
        prototype: 0,
        attributed_cost_usd: 123.25,
        unattributed_cost_usd: 0.0,
        cost_per_shipped_feature_usd: Some(17.607),
        per_model: [("git-secret-model".to_owned(), 17.607)].into(),
        lines_added: 0,
        agent_lines_added: 0,
        churn_14d_agent: None,
        churn_14d_human: None,
        churn_14d_agent_by_model: Default::default(),
    });
    s.usage_by_model
        .insert("m1".into(), Usage { turns: 2, tokens_in: 10, tokens_out: 20, cost_usd: 1.0 });
    s.usage_by_model
        .insert("m2".into(), Usage { turns: 1, tokens_in: 5, tokens_out: 7, cost_usd: 0.5 });
    s
}

#[test]
fn minimized_payload_holds_only_aggregate_keys() {
    let p = MinimizedPayload::from_summary(&summary());
    assert_eq!(p.tokens_in, 15);
    assert_eq!(p.tokens_out, 27);
    assert_eq!(p.features_per_capacity, Some(2.0));
    let v = serde_json::to_value(&p).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected: Vec<&str> = MinimizedPayload::field_names().collect();
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(v["schema_version"], "1.1.0");
    let text = v.to_string();
    assert!(!text.contains("secret-model-name") && !text.contains("m1"));
    // The git figures stay local.
    assert!(!text.contains("git-secret-model") && !text.contains("17.607"), "{text}");
    // round trip; unknown keys rejected
    let back: MinimizedPayload = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(back, p);
    let mut bad = v;
    bad["model"] = json!("x");
    assert!(serde_json::from_value::<MinimizedPayload>(bad).is_err());
}

#[test]
fn schema_version_parses_and_falls_back() {
    assert_eq!("2.3.4".parse::<SchemaVersion>().unwrap().to_string(), "2.3.4");
    assert_eq!("1".parse::<SchemaVersion>().unwrap().to_string(), "1.0.0");
    assert!("1.x".parse::<SchemaVersion>().is_err());
    assert!("free text".parse::<SchemaVersion>().is_err());
    let s = MetricsSummary { schema_version: "nonsense".into(), ..MetricsSummary::default() };
    assert_eq!(
        MinimizedPayload::from_summary(&s).schema_version.to_string(),
        agentos_event_schema::v1::SCHEMA_VERSION
    );
}

#[test]
fn every_rule_path_names_a_field_of_the_event_model() {
    // Each rule must match a field that a fully populated event actually has, so a renamed
    // field cannot silently fall back to "hash" while its rule rots.
    let mut seen = std::collections::BTreeSet::new();
    fn walk(path: &str, v: &serde_json::Value, seen: &mut std::collections::BTreeSet<String>) {
        if !path.is_empty() {
            seen.insert(path.to_owned());
        }
        match v {
            serde_json::Value::Object(m) => {
                for (k, c) in m {
                    let p = if path.is_empty() {
                        k.clone()
                    } else if redact::MAP_PATHS.contains(&path) {
                        format!("{path}.*")
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(&p, c, seen);
                }
            }
            serde_json::Value::Array(items) => {
                for i in items {
                    walk(&format!("{path}[]"), i, seen);
                }
            }
            _ => {}
        }
    }
    for e in events() {
        walk("", &serde_json::to_value(e).unwrap(), &mut seen);
    }
    let decision = json!({"decision": {"reroute_mode": "hybrid", "reroute_decision": "x",
        "preferred_attempt": 1, "warn_pct_auto": 0.1, "warn_pct_confidence": 0.5,
        "gap_seconds_p50": 1.0, "gap_seconds_p95": 2.0, "gap_samples": 3.0, "warn_pct_cfg": 0.9},
        "cost": {"unit_costs": {"in": 1.0}}});
    walk("", &decision, &mut seen);
    for (path, _, _) in RULES {
        assert!(seen.contains(*path), "rule {path} matches no field of the event model");
    }
}

#[test]
fn docs_privacy_md_is_generated_from_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/privacy.md");
    let expected = render_markdown();
    if std::env::var("AGENTOS_UPDATE_DOCS").as_deref() == Ok("1") {
        std::fs::write(path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/privacy.md is out of date with crates/privacy: regenerate it with \
         `AGENTOS_UPDATE_DOCS=1 cargo test -p agentos-privacy`"
    );
    for (path, _, _) in RULES {
        assert!(expected.contains(&format!("`{path}`")));
    }
    for name in MinimizedPayload::field_names() {
        assert!(expected.contains(&format!("`{name}`")));
    }
}

/// An event type this version does not know is never uploaded, even shaped like a turn whose
/// fields the full tier would let through; redacted anyway, nothing of it is in clear.
#[test]
fn unknown_event_types_are_never_uploaded_and_redact_to_a_hash() {
    let line = json!({"type": "turn_v2", "turn": {"model": "unknown-model-secret",
        "tokens_in": 424_242}, "notes": "unknown-free-text"});
    let event: Event = serde_json::from_value(line).unwrap_or_else(|e| panic!("{e}"));
    for tier in [Tier::Local, Tier::Minimized, Tier::Full] {
        assert!(event_payload(tier, &event).is_none(), "{tier:?}");
    }
    let text = redact_event(&event).to_string();
    for secret in ["unknown-model-secret", "424242", "unknown-free-text", "turn_v2"] {
        assert!(!text.contains(secret), "{secret:?} in {text}");
    }
}

#[test]
fn per_model_figures_leave_only_in_the_full_tier() {
    let mut s = summary();
    s.usage_by_model.insert(
        "claude-sonnet-4-5".into(),
        Usage { turns: 4, tokens_in: 40, tokens_out: 80, cost_usd: 2.5 },
    );
    s.git_features.as_mut().unwrap().per_model.insert("claude-sonnet-4-5".into(), 1.25);
    assert_eq!(crate::per_model_payload(Tier::Local, &s), None);
    assert_eq!(crate::per_model_payload(Tier::Minimized, &s), None);
    let figures = crate::per_model_payload(Tier::Full, &s).unwrap();
    assert_eq!(figures.len(), 3);
    let sonnet = figures.iter().find(|f| f.model == "claude-sonnet-4-5").unwrap();
    assert_eq!(
        (sonnet.provider.as_str(), sonnet.turns, sonnet.tokens_in, sonnet.tokens_out),
        ("anthropic", 4, 40, 80)
    );
    assert_eq!((sonnet.cost_usd, sonnet.cost_per_shipped_feature), (2.5, Some(1.25)));
    let m1 = figures.iter().find(|f| f.model == "m1").unwrap();
    assert_eq!((m1.turns, m1.cost_per_shipped_feature), (2, None));
}
