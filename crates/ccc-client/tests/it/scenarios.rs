//! Reference §8.1 / §8.5 scenarios, tier switching and the license gate.

use agentos_ccc_client::{Cost, Feature, FeatureStatus, UploadGate, UploadOutcome, Value};
use agentos_privacy::MinimizedPayload;
use agentos_testkit::{Reply, TestServer};

use crate::support::*;

const SAFE_TOP: [&str; 2] = ["idempotency_key", "summary"];

fn ok_server() -> TestServer {
    TestServer::always(Reply::json(202, r#"{"ok":true}"#))
}

fn assert_safe_metrics(req: &agentos_testkit::RecordedRequest) -> serde_json::Value {
    assert_eq!(req.method, "POST");
    let b = body(req);
    let keys: Vec<&str> = b.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, SAFE_TOP);
    let allowed: Vec<&str> = MinimizedPayload::field_names().collect();
    for k in b["summary"].as_object().unwrap().keys() {
        assert!(allowed.contains(&k.as_str()), "unsafe key {k} in metrics upload");
    }
    assert_eq!(req.header("idempotency-key"), b["idempotency_key"].as_str());
    assert_eq!(req.header("authorization"), Some("Bearer sk-test-secret"));
    b["summary"].clone()
}

#[test]
fn local_tier_keeps_everything_offline_with_zero_connections() {
    // §8.1 test 1: local tier, license with both entitlements installed anyway.
    let server = ok_server();
    let env = env();
    install_pack(&env, &signed_pack(&["telemetry_minimized", "telemetry_full"], FAR_FUTURE));
    let mut rec = recorder(&env, "local", &server.url());
    start(&mut rec, &[("window", "W0-01")]);
    let mut t = turn("anthropic/claude-3", 0.5, measurement(1.2, 4.5, 0.1, 1.0));
    t.attribution.insert("claude-3".into(), 1.0);
    t.feature = Some(Feature {
        feature_id: "feat-1".into(),
        spec_ref: "docs/specs/feat1.md".into(),
        status: FeatureStatus::Implemented,
        notes: None,
        extra: Default::default(),
    });
    t.cost = Some(Cost {
        provider: "anthropic".into(),
        unit_costs: Default::default(),
        estimated_usd: 1.23,
        price_table: None,
        extra: Default::default(),
    });
    t.value = Some(Value {
        summary: "Passed".into(),
        links: vec!["https://example.invalid/pr/1".into()],
        evidence_refs: vec![],
        extra: Default::default(),
    });
    rec.log_turn(t).unwrap();
    assert_eq!(rec.license_handshake().unwrap().map(|_| ()), None);
    rec.upload_minimized_metrics().unwrap();
    let report = rec.finish_session(None).unwrap();
    assert_eq!(report.upload, UploadOutcome::LocalOnly);
    assert_eq!(rec.flush(true).unwrap(), None);

    assert_eq!(server.connections(), 0, "local tier opened a socket");
    assert!(!env.data.join("outbox").exists(), "local tier wrote an outbox");
    let events = lines(&env.data.join("events.jsonl"));
    assert_eq!(events.len(), 3);
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["session", "turn", "session_end"]);
    let s = summary(&env);
    assert!(close(&s["features_shipped"], 1.0));
    assert!(close(&s["features_per_capacity"], 2.0));
    assert!(close(&s["avg_cls"], 1.2));
    assert!(close(&s["avg_impf"], 4.5));
    let windows = lines(&env.data.join("windows.jsonl"));
    assert_eq!(windows.len(), 1);
    let w = &windows[0]["providers"]["anthropic"];
    assert_eq!(w["turns"], 1);
    assert!(close(&w["capacity_used"], 0.5));
    assert!(close(&w["cost_usd"], 1.23));
    assert!(close(&w["features"], 1.0));
    assert!(!env.data.join("state/active_session.json").exists());
}

#[test]
fn minimized_tier_uploads_exactly_one_safe_summary_per_call() {
    // §8.1 test 2.
    let server = ok_server();
    let env = env();
    install_pack(&env, &signed_pack(&["telemetry_minimized"], FAR_FUTURE));
    let mut rec = recorder(&env, "minimized", &server.url());
    assert!(matches!(
        rec.upload_gate(),
        UploadGate::Allowed { entitlement: "telemetry_minimized", .. }
    ));
    start(&mut rec, &[("window", "secret window label")]);
    let mut t = turn("glm/123", 0.25, measurement(0.8, 2.0, 0.05, 0.5));
    t.attribution.insert("glm".into(), 1.0);
    rec.log_turn(t).unwrap();
    assert!(server.requests().is_empty(), "log_turn must not upload inline");

    rec.upload_minimized_metrics().unwrap();
    let metrics = on(&server, "/v1/metrics");
    assert_eq!(metrics.len(), 1);
    assert_eq!(server.requests().len(), 1);
    let s = assert_safe_metrics(&metrics[0]);
    assert!(close(&s["avg_cls"], 0.8));
    assert!(close(&s["avg_impf"], 2.0));
    assert!(close(&s["avg_churn_score"], 0.05));
    assert!(close(&s["features_shipped"], 0.5));
    assert!(close(&s["features_per_capacity"], 2.0));
    assert!(close(&s["capacity_used"], 0.25));
    assert_eq!(s["generated_at"], summary(&env)["generated_at"]);
    let text = metrics[0].body_text();
    for secret in ["glm/123", "secret", "acme", "main"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }

    let glm = lines(&env.data.join("glm_counts.jsonl"));
    assert_eq!(glm.len(), 1);
    assert!(glm[0]["model"].as_str().unwrap().starts_with("glm"));
    assert_eq!(glm[0]["count_source"], "trace");

    rec.end_session(Some("done".into())).unwrap();
    assert_eq!(on(&server, "/v1/metrics").len(), 2, "session end queues one more summary");
    assert!(on(&server, "/v1/events").is_empty(), "minimized tier sent events");
    let keys: std::collections::BTreeSet<_> =
        server.requests().iter().map(|r| r.header("idempotency-key").unwrap().to_owned()).collect();
    assert_eq!(keys.len(), 2);
}

#[test]
fn full_tier_uploads_redacted_events_and_metrics() {
    // §8.1 test 3 / §8.5 scenario 3.
    let server = ok_server();
    let env = env();
    install_pack(&env, &signed_pack(&["telemetry_minimized", "telemetry_full"], FAR_FUTURE));
    let mut rec = recorder(&env, "full", &server.url());
    let sid = start(&mut rec, &[("window", "secret window label")]);
    let mut t = turn("glm/behave", 0.75, measurement(1.2, 4.8, 0.1, 1.0));
    t.subagent = "secret-subagent".into();
    t.value = Some(Value {
        summary: "BDD sample secret summary".into(),
        links: vec!["https://secret.example.invalid/pr/9".into()],
        evidence_refs: vec!["secret-evidence-ref".into()],
        extra: Default::default(),
    });
    t.feature = Some(Feature {
        feature_id: "feat-secret-login".into(),
        spec_ref: "docs/specs/secret-login.md".into(),
        status: FeatureStatus::Shipped,
        notes: Some("secret feature notes".into()),
        extra: Default::default(),
    });
    rec.log_turn(t).unwrap();
    assert!(server.requests().is_empty(), "log_turn must not upload inline");
    rec.upload_minimized_metrics().unwrap();
    rec.end_session(Some("secret closing notes".into())).unwrap();

    let secrets = [
        "acme/secret-repo",
        "feature/secret-branch",
        "c0ffee1234",
        "secret window label",
        "secret-subagent",
        "BDD sample secret summary",
        "https://secret.example.invalid/pr/9",
        "secret-evidence-ref",
        "feat-secret-login",
        "docs/specs/secret-login.md",
        "secret feature notes",
        "secret closing notes",
        "sk-test-secret",
        sid.as_str(),
    ];
    for req in server.requests() {
        let text = req.body_text();
        for s in secrets {
            assert!(!text.contains(s), "{s:?} leaked to {}: {text}", req.path);
        }
    }
    let event_reqs = on(&server, "/v1/events");
    assert!(!event_reqs.is_empty());
    let mut events = Vec::new();
    for r in &event_reqs {
        let b = body(r);
        assert_eq!(r.header("idempotency-key"), b["idempotency_key"].as_str());
        events.extend(b["events"].as_array().unwrap().iter().cloned());
    }
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["session", "turn", "session_end"]);
    let local: Vec<String> = lines(&env.data.join("events.jsonl"))
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect();
    let sent: Vec<String> =
        events.iter().map(|e| e["event_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(local, sent);
    let turn = &events[1];
    let value_keys: Vec<&String> = turn["value"].as_object().unwrap().keys().collect();
    assert!(value_keys.iter().all(|k| *k == "summary" || *k == "links"), "{value_keys:?}");
    assert!(turn["value"]["summary"]["sha256"].is_string());
    assert_eq!(turn["turn"]["model"], "glm/behave");
    assert_eq!(turn["turn"]["tokens_in"], 100);

    let metrics = on(&server, "/v1/metrics");
    assert_eq!(metrics.len(), 2);
    let s = assert_safe_metrics(&metrics[0]);
    let fpc = s["features_per_capacity"].as_f64().unwrap();
    assert_eq!((fpc * 10000.0).round() / 10000.0, 1.3333);
    assert!(close(&summary(&env)["features_per_capacity"], 1.0 / 0.75));
    let st = rec.outbox_status().unwrap();
    assert!(st.pending.is_empty() && st.queued_events == 0 && st.dead_lettered == 0);
    assert_eq!(st.delivered_batches as usize, server.requests().len());
}

#[test]
fn bdd_scenarios_have_their_reference_numbers() {
    // §8.5: local 0.5 → 2.0; minimized 0.25 → 4.0.
    for (tier, model, capacity, expected) in
        [("local", "anthropic/behave", 0.5, 2.0), ("minimized", "glm/behave", 0.25, 4.0)]
    {
        let server = ok_server();
        let env = env();
        install_pack(&env, &signed_pack(&["telemetry_minimized", "telemetry_full"], FAR_FUTURE));
        let mut rec = recorder(&env, tier, &server.url());
        start(&mut rec, &[]);
        let mut t = turn(model, capacity, measurement(1.2, 4.8, 0.1, 1.0));
        t.latency_ms = 1000.0;
        rec.log_turn(t).unwrap();
        rec.upload_minimized_metrics().unwrap();
        let after_upload = on(&server, "/v1/metrics").len();
        rec.end_session(None).unwrap();
        assert!(close(&summary(&env)["features_per_capacity"], expected), "{tier}");
        if tier == "local" {
            assert_eq!(server.connections(), 0);
        } else {
            assert_eq!(after_upload, 1);
            let s = assert_safe_metrics(&on(&server, "/v1/metrics")[0]);
            assert!(close(&s["features_per_capacity"], expected));
            assert!(on(&server, "/v1/events").is_empty());
        }
    }
}

#[test]
fn switching_privacy_tier_alone_flips_behaviour() {
    let server = ok_server();
    let env = env();
    install_pack(&env, &signed_pack(&["telemetry_minimized", "telemetry_full"], FAR_FUTURE));
    let mut seen = Vec::new();
    for tier_name in ["local", "minimized", "full", "local"] {
        let mut rec = recorder(&env, tier_name, &server.url());
        assert_eq!(rec.config().tier, tier(tier_name));
        start(&mut rec, &[]);
        rec.log_turn(turn("claude-3", 0.5, measurement(1.0, 1.0, 0.1, 1.0))).unwrap();
        rec.end_session(None).unwrap();
        seen.push((on(&server, "/v1/metrics").len(), on(&server, "/v1/events").len()));
    }
    assert_eq!(seen[0], (0, 0), "local sent something");
    assert_eq!(seen[1], (1, 0), "minimized sends one summary, no events");
    assert_eq!(seen[2].0, 2);
    assert!(seen[2].1 >= 1, "full sends events");
    assert_eq!(seen[3], seen[2], "back to local: nothing more");
    // Only the full-tier session's events left the machine.
    let sent: usize =
        on(&server, "/v1/events").iter().map(|r| body(r)["events"].as_array().unwrap().len()).sum();
    assert_eq!(sent, 3);
    assert_eq!(lines(&env.data.join("events.jsonl")).len(), 12);
}

#[test]
fn missing_invalid_or_expired_license_sends_nothing_and_records_everything() {
    let expired = signed_pack(&["telemetry_minimized", "telemetry_full"], 1_000_000_000);
    let wrong_entitlement = signed_pack(&["something_else"], FAR_FUTURE);
    let tampered = signed_pack(&["telemetry_minimized"], FAR_FUTURE).replace("\"pro\"", "\"max\"");
    let cases: [(&str, Option<&str>, &str); 4] = [
        ("missing", None, "full"),
        ("expired", Some(&expired), "minimized"),
        ("entitlement", Some(&wrong_entitlement), "full"),
        ("tampered", Some(&tampered), "minimized"),
    ];
    for (name, pack, tier_name) in cases {
        let server = ok_server();
        let env = env();
        if let Some(p) = pack {
            install_pack(&env, p);
        }
        let mut rec = recorder(&env, tier_name, &server.url());
        assert!(rec.license_handshake().is_err(), "{name}");
        let UploadGate::Denied { message } = rec.upload_gate().clone() else {
            panic!("{name}: gate not denied")
        };
        assert!(message.starts_with("uploads denied"), "{message}");
        assert!(!message.contains('\n'));
        start(&mut rec, &[]);
        rec.log_turn(turn("glm/x", 0.5, measurement(1.0, 1.0, 0.1, 1.0))).unwrap();
        let (outcome, _) = rec.upload_metrics_report().unwrap();
        assert!(matches!(outcome, UploadOutcome::Denied(_)), "{name}: {outcome:?}");
        let report = rec.finish_session(None).unwrap();
        assert!(matches!(report.upload, UploadOutcome::Denied(_)));
        assert_eq!(rec.flush(true).unwrap(), None);
        assert_eq!(server.connections(), 0, "{name}: something was sent");
        let st = rec.outbox_status().unwrap();
        assert!(st.pending.is_empty() && st.queued_events == 0, "{name}: queued {st:?}");
        assert_eq!(lines(&env.data.join("events.jsonl")).len(), 3, "{name}");
        assert_eq!(lines(&env.data.join("windows.jsonl")).len(), 1, "{name}");
        assert_eq!(lines(&env.data.join("glm_counts.jsonl")).len(), 1, "{name}");
        let session = &lines(&env.data.join("events.jsonl"))[0];
        assert_eq!(session["session"]["license_id"], "unlicensed");
    }
}

#[test]
fn active_session_survives_reopening_and_guards_misuse() {
    let env = env();
    let url = agentos_testkit::refused_url();
    let mut rec = recorder(&env, "local", &url);
    assert!(matches!(
        rec.log_turn(turn("m", 0.1, None)),
        Err(agentos_ccc_client::Error::NoActiveSession)
    ));
    let sid = start(&mut rec, &[]);
    drop(rec);
    let mut rec = recorder(&env, "local", &url);
    assert_eq!(rec.active_session().map(|s| s.to_string()), Some(sid.clone()));
    let err = rec.start_session(agentos_ccc_client::SessionStart::default()).unwrap_err();
    assert!(err.to_string().contains(&sid));
    rec.log_turn(turn("m", 0.1, None)).unwrap();
    drop(rec);
    let mut rec = recorder(&env, "local", &url);
    let report = rec.finish_session(None).unwrap();
    assert_eq!(report.session_id.to_string(), sid);
    assert_eq!(report.window.providers["unknown"].turns, 1);
    assert!(matches!(rec.end_session(None), Err(agentos_ccc_client::Error::NoActiveSession)));
}

#[test]
fn non_finite_numbers_are_refused_naming_the_field_and_nothing_is_written() {
    let env = env();
    let mut rec = recorder(&env, "local", &agentos_testkit::refused_url());
    start(&mut rec, &[]);
    let before = lines(&env.data.join("events.jsonl")).len();
    use agentos_event_schema::v1::limits::Field;
    for (capacity, latency, field) in
        [(Some(f64::NAN), 1.0, Field::CapacityUsed), (Some(0.5), f64::INFINITY, Field::LatencyMs)]
    {
        let mut t = turn("claude-3", 0.5, None);
        t.capacity_used = capacity;
        t.latency_ms = latency;
        match rec.log_turn(t).expect_err("a non-finite number must be refused") {
            agentos_ccc_client::Error::OutOfRange(v) => assert_eq!(v.field, field),
            other => panic!("{other}"),
        }
    }
    assert_eq!(lines(&env.data.join("events.jsonl")).len(), before, "nothing was appended");
}
