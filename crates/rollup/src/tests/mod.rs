//! Unit tests: reference scenarios, the fast path against the v1 contract, diagnostics, torn lines,
//! capacity alerts, efficiency vectors, progress log and trend idempotency, generated logs.

use std::collections::BTreeMap;

use agentos_event_schema::v1::{Event, FeatureStatus, OutcomeKind};
use agentos_event_schema::{Timestamp, catalog::SchemaKind, validate};
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::{Value as Json, json};

use crate::efficiency::{Observation, estimate};
use crate::progress::{replace_section, update_progress_log, update_trend};
use crate::*;

mod appending;
mod dedupe;
mod features;
mod merge_props;
mod model_trend;
mod progress;
mod sessfile;
mod turnscan;
mod watch_health;

fn roll(text: &str) -> Rollup {
    roll_opts(text, &SummaryOptions::default())
}

fn roll_opts(text: &str, opts: &SummaryOptions) -> Rollup {
    match summarize_reader(Utf8Path::new("events.jsonl"), text.as_bytes(), opts) {
        Ok(r) => r,
        Err(e) => panic!("rollup failed: {e}"),
    }
}

fn turn(session: &str, model: &str, extra: Json) -> Json {
    let mut ev = json!({"type": "turn", "turn": {
        "turn_id": "t", "session_id": session, "model": model, "subagent": "main",
        "tokens_in": 10, "tokens_out": 20, "input_kind": "text", "latency_ms": 5.0,
        "attribution": {}, "capacity_used": null}});
    if let (Some(obj), Json::Object(more)) = (ev.as_object_mut(), extra) {
        for (k, v) in more {
            if k == "turn" {
                if let (Some(t), Json::Object(tm)) =
                    (obj.get_mut("turn").and_then(Json::as_object_mut), v)
                {
                    t.extend(tm);
                }
            } else {
                obj.insert(k, v);
            }
        }
    }
    ev
}

fn session(id: &str, created: &str) -> Json {
    json!({"type": "session", "session": {"session_id": id, "repo_id": "r", "branch": "main",
        "commit": "abc", "license_id": "local", "privacy_tier": "local", "created_at": created}})
}

fn lines(events: &[Json]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

// Python reference §3.1 worked acceptance values.
#[test]
fn reference_scenarios_match_python() {
    let cases = [(0.5, 1.0, 2.0), (0.25, 0.5, 2.0), (0.75, 1.0, 4.0 / 3.0), (0.25, 1.0, 4.0)];
    for (capacity, delta, ratio) in cases {
        let ev = turn(
            "s1",
            "claude-3",
            json!({"turn": {"capacity_used": capacity, "attribution": {"claude-3": 1.0}},
                   "measurement": {"cls": 1.2, "impf": 4.5, "churn_score": 0.1, "feature_delta": delta}}),
        );
        let r = roll(&lines(&[session("s1", "2026-01-05T10:00:00+00:00"), ev]));
        let s = &r.summary;
        assert_eq!((s.sessions, s.turns), (1, 1));
        assert!(close(s.features_shipped, delta));
        assert!(close(s.capacity_used, capacity));
        assert!(s.features_per_capacity.is_some_and(|v| close(v, ratio)), "{capacity} {delta}");
        assert_eq!(s.avg_cls, Some(1.2));
        assert_eq!(s.avg_impf, Some(4.5));
        assert_eq!(s.avg_churn_score, Some(0.1));
        assert_eq!(s.model_value.get("claude-3"), Some(&1.0));
        assert!(r.diagnostics.is_empty());
    }
}

#[test]
fn empty_and_missing_logs_give_a_valid_summary_with_nulls() {
    let r = roll("");
    let s = &r.summary;
    assert_eq!((s.sessions, s.turns, s.diagnostics), (0, 0, 0));
    assert_eq!((s.features_shipped, s.capacity_used), (0.0, 0.0));
    assert_eq!(
        (s.features_per_capacity, s.avg_cls, s.avg_impf, s.avg_churn_score),
        (None, None, None, None)
    );
    assert!(s.period.is_none() && s.model_value.is_empty() && s.model_health.is_none());
    let json = serde_json::to_value(s).unwrap_or_default();
    assert_eq!(json["features_per_capacity"], Json::Null);
    assert!(validate::validate(SchemaKind::V1MetricsSummary, &json).is_empty());

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let missing = Utf8PathBuf::from_path_buf(dir.path().join("nope.jsonl")).unwrap_or_default();
    let r = summarize_files(&[missing], &SummaryOptions::default());
    assert!(r.is_ok_and(|r| r.summary.turns == 0));
}

#[test]
fn python_written_lines_without_envelope_are_accepted() {
    // Python json.dumps default separators; `type` first; no envelope fields.
    let text = concat!(
        "{\"type\": \"session\", \"session\": {\"session_id\": \"s\", \"repo_id\": \"r\", \"branch\": \"b\", \"commit\": \"c\", \"license_id\": \"l\", \"privacy_tier\": \"minimized\", \"created_at\": \"2026-01-05T10:00:00.123456+00:00\", \"metadata\": {\"k\": 1}}}\n",
        "{\"type\": \"turn\", \"turn\": {\"turn_id\": \"t\", \"session_id\": \"s\", \"model\": \"m\", \"subagent\": \"a\", \"tokens_in\": 1, \"tokens_out\": 2, \"input_kind\": \"image\", \"latency_ms\": 3, \"attribution\": {\"m\": 0.5}, \"capacity_used\": 1}, \"cost\": {\"provider\": \"p\", \"unit_costs\": {\"in\": 0.1}, \"estimated_usd\": 0.5}}\n",
        "{\"session_id\": \"s\", \"type\": \"session_end\", \"ended_at\": \"2026-01-05T11:00:00+00:00\", \"notes\": \"\"}\n",
    );
    let r = roll(text);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert_eq!((r.summary.sessions, r.summary.turns), (1, 1));
    assert_eq!(r.summary.usage_by_provider.get("p").map(|u| u.cost_usd), Some(0.5));
    assert_eq!(r.sessions.first().map(|s| s.ended), Some(true));
    // The untimed turn counts on its session's start day.
    assert_eq!(r.days.get("2026-01-05").map(|d| d.turns), Some(1));
    assert_eq!(r.days.len(), 1);
}

/// Every line the fast path accepts is exactly a line the typed v1 `Event` accepts and the
/// v1 schema validates.
#[test]
fn fast_path_accepts_exactly_what_the_v1_contract_accepts() {
    let base = turn("s", "m", json!({}));
    let mut variants: Vec<Json> = vec![base.clone()];
    let edits: Vec<(&str, Json)> = vec![
        ("/turn/tokens_in", json!(-1)),
        ("/turn/tokens_in", json!(1.5)),
        ("/turn/tokens_in", json!("1")),
        ("/turn/input_kind", json!("video")),
        ("/turn/latency_ms", json!(-0.5)),
        ("/turn/capacity_used", json!(-1)),
        ("/turn/capacity_used", json!(0.3)),
        ("/turn/attribution", json!({"a": "x"})),
        ("/turn/attribution", json!({"a": 0.5, "b": 0.5})),
        ("/turn/attribution", Json::Null),
        ("/turn/model", json!(3)),
        ("/turn/subagent", json!(null)),
        ("/turn/extra_field", json!("tolerated")),
        ("/measurement", json!({"cls": 1, "impf": 2, "churn_score": 0, "feature_delta": 1})),
        ("/measurement", json!({"cls": 1, "impf": -2, "churn_score": 0, "feature_delta": 1})),
        ("/measurement", json!({"cls": 1, "impf": 2, "churn_score": 0})),
        (
            "/measurement",
            json!({"cls": 1, "impf": 2, "churn_score": 0, "feature_delta": 1, "errors": [1]}),
        ),
        ("/measurement", json!({})),
        ("/measurement", Json::Null),
        ("/feature", json!({"feature_id": "f", "spec_ref": "s", "status": "shipped"})),
        ("/feature", json!({"feature_id": "f", "spec_ref": "s", "status": "done"})),
        ("/cost", json!({"provider": "p", "estimated_usd": -1})),
        ("/cost", json!({"provider": "p", "estimated_usd": 1, "unit_costs": {"a": "x"}})),
        ("/value", json!({"summary": "ok", "links": ["a"]})),
        ("/value", json!({"links": ["a"]})),
        ("/value", json!({"summary": "ok", "evidence_refs": [3]})),
        ("/decision", json!({"preferred_attempt": -1})),
        ("/decision", json!({"gap_seconds_p50": 2.5, "reroute_mode": "hybrid"})),
        ("/outcome", json!({"kind": "tests_passed", "count": 3})),
        ("/outcome", json!({"kind": "nope"})),
        ("/ts", json!("2026-01-05T10:00:00Z")),
        ("/ts", json!("yesterday")),
        ("/event_id", json!(7)),
        ("/unknown_top", json!({"x": 1})),
        // Legacy writers: `preferred_attempt` as a boolean is read as 1/0 by the v1 types.
        ("/decision", json!({"preferred_attempt": true})),
        ("/decision", json!({"preferred_attempt": null, "warn_pct_auto": null})),
        ("/decision", json!({"warn_pct_auto": "x"})),
        (
            "/feature",
            json!({"feature_id": "f", "spec_ref": "s", "status": "shipped", "notes": null}),
        ),
        (
            "/measurement",
            json!({"cls": 1, "impf": 2, "churn_score": 0, "feature_delta": 1, "errors": null}),
        ),
        ("/turn/tokens_in", json!(true)),
        ("/turn/latency_ms", json!(null)),
        ("/cost", json!({"provider": "p", "estimated_usd": 1, "unit_costs": null})),
        ("/outcome", json!({"kind": "pr_merged", "count": null})),
    ];
    for (ptr, v) in edits {
        let mut e = base.clone();
        let (parent, key) = ptr.rsplit_once('/').unwrap_or(("", ptr));
        if let Some(Json::Object(o)) = e.pointer_mut(parent) {
            o.insert(key.to_owned(), v);
        }
        variants.push(e);
    }
    variants.push(session("s", "2026-01-05T10:00:00Z"));
    let mut bad_session = session("s", "2026-01-05T10:00:00Z");
    bad_session["session"]["privacy_tier"] = json!("public");
    variants.push(bad_session);
    let mut no_commit = session("s", "2026-01-05T10:00:00Z");
    if let Some(o) = no_commit["session"].as_object_mut() {
        o.remove("commit");
    }
    variants.push(no_commit);
    variants.push(
        json!({"type": "session_end", "session_id": "s", "ended_at": "2026-01-05T10:00:00Z"}),
    );
    variants.push(json!({"type": "session_end", "session_id": "s"}));
    variants.push(
        json!({"type": "session_end", "session_id": "s", "ended_at": "2026-01-05T10:00:00Z", "notes": null}),
    );
    let mut null_metadata = session("s", "2026-01-05T10:00:00Z");
    null_metadata["session"]["metadata"] = Json::Null;
    variants.push(null_metadata);
    variants.push(json!({"type": "weird"}));
    variants.push(json!([1, 2]));
    let mut accepted = 0;
    for v in &variants {
        let text = format!("{v}\n");
        let contract = serde_json::from_value::<Event>(v.clone()).is_ok()
            && validate::validate(SchemaKind::V1Event, v).is_empty();
        let r = roll(&text);
        let fast = r.diagnostics.is_empty();
        assert_eq!(fast, contract, "disagreement on {v}: {:?}", r.diagnostics);
        accepted += usize::from(fast);
    }
    // Both outcomes are exercised.
    assert!(accepted > 5 && accepted < variants.len() - 5, "{accepted}");
}

#[test]
fn invalid_lines_are_skipped_with_file_line_diagnostics_and_strict_fails() {
    let good = turn("s", "m", json!({"turn": {"capacity_used": 0.5}}));
    let negative = turn("s", "m", json!({"turn": {"tokens_in": -3}}));
    // An unknown `input_kind` text is tolerated (issue #9); a non-string is not.
    let kind = turn("s", "m", json!({"turn": {"input_kind": 7}}));
    let text = format!("{good}\n{{not json\n\n{negative}\n{kind}\n42\n{good}\n");
    let r = roll(&text);
    assert_eq!(r.summary.turns, 2);
    assert_eq!(r.summary.diagnostics, 4);
    let got: Vec<u64> = r.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(got, vec![2, 4, 5, 6]);
    let first = r.diagnostics.first().map(ToString::to_string).unwrap_or_default();
    assert!(first.starts_with("events.jsonl:2: malformed json"), "{first}");
    let neg = r.diagnostics.get(1).map(ToString::to_string).unwrap_or_default();
    assert!(neg.contains("tokens_in"), "{neg}");
    let strict = SummaryOptions { strict: true, ..SummaryOptions::default() };
    match summarize_reader(Utf8Path::new("e.jsonl"), text.as_bytes(), &strict) {
        Err(Error::InvalidLine { line, .. }) => assert_eq!(line, 2),
        other => panic!("expected InvalidLine, got {other:?}"),
    }
}

#[test]
fn torn_last_line_is_tolerated_even_in_strict_mode() {
    let good = turn("s", "m", json!({}));
    let text = format!("{good}\n{good}\n{{\"type\": \"turn\", \"turn\": {{\"turn_id");
    let strict = SummaryOptions { strict: true, ..SummaryOptions::default() };
    let r = roll_opts(&text, &strict);
    assert_eq!(r.summary.turns, 2);
    assert_eq!(r.diagnostics.len(), 1);
    assert!(
        r.diagnostics
            .first()
            .is_some_and(|d| d.line == 3 && d.message.starts_with("torn last line"))
    );
    // A complete last line without newline counts.
    let r = roll(&format!("{good}\n{good}"));
    assert_eq!((r.summary.turns, r.summary.diagnostics), (2, 0));
}

#[test]
fn value_per_model_usage_outcomes_and_features() {
    let events = vec![
        session("s1", "2026-01-05T10:00:00Z"),
        turn(
            "s1",
            "claude-sonnet",
            json!({
            "turn": {"attribution": {"claude-sonnet": 0.75, "glm/4.6": 0.25}, "capacity_used": 0.1},
            "measurement": {"cls": 1.0, "impf": 2.0, "churn_score": 0.2, "feature_delta": 2.0},
            "feature": {"feature_id": "F1", "spec_ref": "s", "status": "implemented"},
            "cost": {"provider": "anthropic", "estimated_usd": 0.3},
            "outcome": {"kind": "tests_passed", "count": 12}}),
        ),
        turn(
            "s1",
            "glm/4.6",
            json!({
            "turn": {"attribution": {"glm/4.6": 1.0}},
            "measurement": {"cls": 3.0, "impf": 0.0, "churn_score": 0.4, "feature_delta": 1.0},
            "feature": {"feature_id": "F1", "spec_ref": "s", "status": "shipped"},
            "outcome": {"kind": "pr_merged"}}),
        ),
        turn(
            "s2",
            "glm/4.6",
            json!({
            "feature": {"feature_id": "F2", "spec_ref": "s", "status": "proposed"},
            "cost": {"provider": "zai", "estimated_usd": 0.1}}),
        ),
    ];
    let r = roll(&lines(&events));
    let s = &r.summary;
    assert_eq!((s.sessions, s.turns), (1, 3));
    assert_eq!(s.features_shipped, 3.0);
    assert!(s.avg_cls.is_some_and(|v| close(v, 2.0)));
    let claude = &s.value_per_model["claude-sonnet"];
    assert_eq!((claude.turns, claude.tokens_in, claude.tokens_out), (1, 10, 20));
    assert!(close(claude.attribution_weight, 0.75) && close(claude.features_attributed, 1.5));
    assert!(claude.cost_per_attributed_feature.is_some_and(|c| close(c, 0.2)));
    let glm = &s.value_per_model["glm/4.6"];
    assert_eq!(glm.turns, 2);
    assert!(close(glm.attribution_weight, 1.25) && close(glm.features_attributed, 1.5));
    assert!(close(glm.cost_usd, 0.1));
    assert_eq!(s.model_value["glm/4.6"], 1.25);
    // Provider: cost.provider, else the model table's (glm/4.6 → zai).
    assert_eq!(s.usage_by_provider["anthropic"].turns, 1);
    assert_eq!(s.usage_by_provider["zai"].turns, 2);
    assert_eq!(s.features_by_status[&FeatureStatus::Shipped], 1);
    assert_eq!(s.features_by_status[&FeatureStatus::Proposed], 1);
    assert_eq!(s.features_by_status[&FeatureStatus::Implemented], 0);
    assert!(s.cost_per_shipped_feature.is_some_and(|c| close(c, 0.4)));
    assert_eq!(s.outcomes[&OutcomeKind::TestsPassed], 12);
    assert_eq!(s.outcomes[&OutcomeKind::PrMerged], 1);
    // Session filter.
    let one = roll_opts(
        &lines(&events),
        &SummaryOptions { session: Some("s2".into()), ..Default::default() },
    );
    assert_eq!((one.summary.turns, one.summary.sessions), (1, 0));
    assert!(close(one.summary.cost_usd, 0.1));
}

#[test]
fn a_correction_turn_adds_tokens_but_is_not_another_turn() {
    let original = "0b9e3f4c-1d2a-4b5c-8d7e-6f5a4b3c2d1e";
    let mut first = turn("s1", "claude-sonnet", json!({"turn": {"tokens_out": 2}}));
    first["event_id"] = original.into();
    let mut fix = turn(
        "s1",
        "claude-sonnet",
        json!({"turn": {"tokens_in": 0, "tokens_out": 39, "revises": original}}),
    );
    fix["event_id"] = "1c0f4e5d-2e3b-4c6d-9e8f-7a6b5c4d3e2f".into();
    let r = roll(&lines(&[session("s1", "2026-01-05T10:00:00Z"), first, fix]));
    let s = &r.summary;
    assert_eq!(s.turns, 1);
    let u = &s.usage_by_model["claude-sonnet"];
    assert_eq!((u.turns, u.tokens_in, u.tokens_out), (1, 10, 2 + 39));
    assert_eq!(s.usage_by_provider["anthropic"].turns, 1);
}

#[test]
fn usage_by_provider_uses_the_model_table_and_canonical_names() {
    // Hand-grouped: claude-* → anthropic (2 turns); glm/4.6, glm-4.6 and cost provider
    // "z.ai" → zai (3 turns); an explicit cost provider wins over the model.
    let cost = |p: &str| json!({"cost": {"provider": p, "estimated_usd": 0.5}});
    let events = [
        turn("s", "claude-sonnet-4.5", json!({})),
        turn("s", "claude-opus-4", json!({})),
        turn("s", "glm/4.6", json!({})),
        turn("s", "GLM-4.6", json!({})),
        turn("s", "glm/4.6", cost("z.ai")),
        turn("s", "claude-sonnet-4.5", cost("bedrock")),
    ];
    let s = roll(&lines(&events)).summary;
    let turns: BTreeMap<&str, u64> =
        s.usage_by_provider.iter().map(|(p, u)| (p.as_str(), u.turns)).collect();
    assert_eq!(turns, BTreeMap::from([("anthropic", 2), ("bedrock", 1), ("zai", 3)]));
}

#[test]
fn capacity_alerts_use_the_trailing_seven_days_and_model_health() {
    let t = |day: &str, cap: f64, model: &str| {
        turn(
            "s",
            model,
            json!({"ts": format!("2026-03-{day}T12:00:00Z"), "turn": {"capacity_used": cap}}),
        )
    };
    // provider anthropic (claude/…): 0.5 eight days before the end (outside), 0.3+0.3+0.3 inside.
    let events = vec![
        t("01", 0.5, "claude/opus"),
        t("03", 0.3, "claude/opus"),
        t("06", 0.3, "claude/opus"),
        t("09", 0.3, "claude/opus"),
        t("09", 0.5, "codex/gpt"),
        t("09", 40.0, "glm/4.6"),
    ];
    let r = roll(&lines(&events));
    let alerts: Vec<(&str, f64)> =
        r.summary.capacity_alerts.iter().map(|a| (a.provider.as_str(), a.weekly_used)).collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts.first().is_some_and(|(p, w)| *p == "anthropic" && close(*w, 0.9)));
    // GLM counts prompts: alert only with a configured weekly capacity.
    let mut weekly = BTreeMap::new();
    weekly.insert("glm".to_owned(), 40.0);
    let mut health = BTreeMap::new();
    health.insert("gpt-5".to_owned(), json!({"provider": "codex", "weekly_pct": 0.95}));
    let opts = SummaryOptions {
        weekly_capacity: weekly,
        model_health: Some(health),
        ..Default::default()
    };
    let r = roll_opts(&lines(&events), &opts);
    let names: Vec<&str> = r.summary.capacity_alerts.iter().map(|a| a.provider.as_str()).collect();
    // `glm` (capacity) and `codex` (health) are the zai and openai providers.
    assert_eq!(names, vec!["anthropic", "openai", "zai"]);
    assert!(r.summary.model_health.is_some());
}

#[test]
fn efficiency_vectors_of_reference_3_3() {
    let obs = |v: &[(f64, Option<f64>)]| -> Vec<Observation> {
        v.iter()
            .enumerate()
            .map(|(i, (f, c))| Observation {
                window_id: format!("w{i}"),
                features: *f,
                capacity: *c,
                quality: None,
            })
            .collect()
    };
    let e = estimate("codex", &obs(&[(2.0, Some(10.0)), (4.0, Some(8.0)), (1.0, Some(6.0))]));
    assert_eq!(e.sample_size, 3);
    assert!(e.efficiency.is_some_and(|v| (v - 0.2916667).abs() < 5e-8), "{e:?}");
    assert!(e.ci_low.is_some_and(|v| (v - 0.1735947).abs() < 5e-8), "{e:?}");
    assert!(e.ci_high.is_some_and(|v| (v - 0.4097386).abs() < 5e-8), "{e:?}");
    assert!(e.power.is_some_and(|v| (v - 0.3822376).abs() < 5e-8), "{e:?}");
    let e = estimate("codex", &obs(&[(2.0, Some(10.0)), (3.0, Some(12.0))]));
    assert_eq!((e.sample_size, e.ci_low, e.ci_high, e.power), (2, None, None, None));
    assert!(e.efficiency.is_some_and(|v| close(v, 5.0 / 22.0)));
    let e = estimate("claude", &obs(&[(2.0, Some(4.0)), (2.0, Some(4.0)), (2.0, Some(4.0))]));
    assert_eq!((e.ci_low, e.ci_high, e.power), (Some(0.5), Some(0.5), Some(1.0)));
    let e = estimate("glm", &obs(&[(2.0, Some(40.0))]));
    assert!(e.efficiency.is_some_and(|v| close(v, 0.05)));
    assert_eq!(e.capacity_unit, "prompts");
    // Numerator quirk fixed: (2 f, 10) + (5 f, 0) → E 0.2, 5 features unmeasured.
    let e = estimate("codex", &obs(&[(2.0, Some(10.0)), (5.0, Some(0.0)), (1.0, None)]));
    assert!(e.efficiency.is_some_and(|v| close(v, 0.2)));
    assert_eq!((e.unmeasured_features, e.unmeasured_windows, e.sample_size), (6.0, 2, 1));
    let e = estimate("codex", &obs(&[(5.0, None)]));
    assert_eq!(e.efficiency, None);
}

#[test]
fn diagnostics_line_numbers_are_exact_across_chunks() {
    let good = format!("{}\n", turn("s", "m", json!({"pad": "y".repeat(500)})));
    let n = (3 << 20) / good.len() + 10;
    let mut text = String::new();
    for i in 1..=n {
        if i == n - 3 {
            text.push_str("garbage\n");
        } else {
            text.push_str(&good);
        }
    }
    let r = roll(&text);
    assert_eq!(r.diagnostics.iter().map(|d| d.line).collect::<Vec<_>>(), vec![(n - 3) as u64]);
    assert_eq!(r.summary.turns, (n - 1) as u64);
}

#[test]
fn a_line_longer_than_a_chunk_is_read_whole() {
    let long = turn("s", "m", json!({"pad": "z".repeat(3 << 20)}));
    let text = format!("{long}\n{long}\nbad\n");
    let r = roll(&text);
    assert_eq!(r.summary.turns, 2);
    assert_eq!(r.diagnostics.iter().map(|d| d.line).collect::<Vec<_>>(), vec![3]);
}

/// Values near f64::MAX are valid JSON numbers but would overflow the totals to inf/NaN, which
/// serde_json writes as `null` into fields that are never null: such lines are skipped.
#[test]
fn huge_numbers_are_skipped_so_the_summary_stays_finite() {
    let good = turn(
        "s",
        "m",
        json!({"turn": {"capacity_used": 0.5, "attribution": {"m": 1.0}},
        "measurement": {"cls": 1, "impf": 2, "churn_score": 0, "feature_delta": 1}}),
    );
    let huge_capacity = turn("s", "m", json!({"turn": {"capacity_used": 1e308}}));
    let huge_product = turn(
        "s",
        "m",
        json!({"turn": {"attribution": {"m": 1e200}},
        "measurement": {"cls": 1, "impf": 2, "churn_score": 0, "feature_delta": 1e200}}),
    );
    let huge_cost = turn("s", "m", json!({"cost": {"provider": "p", "estimated_usd": 1.7e308}}));
    let r = roll(&lines(&[good, huge_capacity.clone(), huge_capacity, huge_product, huge_cost]));
    assert_eq!((r.summary.turns, r.summary.diagnostics), (1, 4));
    assert!(
        r.diagnostics.iter().all(|d| d.message.contains("out of range")),
        "{:?}",
        r.diagnostics
    );
    assert_eq!(r.summary.features_per_capacity, Some(2.0));
    // The written summary reads back as the typed summary (no inf/NaN turned into null).
    let text =
        String::from_utf8(crate::fsio::canonical_json(&r.summary, "summary").unwrap_or_default())
            .unwrap_or_default();
    let back = serde_json::from_str::<MetricsSummary>(&text);
    assert!(back.is_ok_and(|b| b.capacity_used == 0.5 && b.cost_usd == 0.0), "{text}");
    let strict = SummaryOptions { strict: true, ..SummaryOptions::default() };
    let one = format!("{}\n", turn("s", "m", json!({"turn": {"capacity_used": 1e300}})));
    assert!(matches!(
        summarize_reader(Utf8Path::new("e.jsonl"), one.as_bytes(), &strict),
        Err(Error::InvalidLine { line: 1, .. })
    ));
}

#[test]
fn an_over_long_line_is_dropped_and_reported_with_bounded_memory() {
    let t = turn("s", "m", json!({})).to_string();
    let junk = "x".repeat(65 << 20);
    for tail in ["\n", ""] {
        let text = format!("{t}\n{junk}{tail}{}", if tail.is_empty() { "" } else { t.as_str() });
        let r = roll(&text);
        let expected_turns = if tail.is_empty() { 1 } else { 2 };
        assert_eq!(r.summary.turns, expected_turns, "the lines around it still count");
        assert_eq!(r.summary.diagnostics, 1);
        let d = r.diagnostics.first().map(ToString::to_string).unwrap_or_default();
        assert!(d.starts_with("events.jsonl:2: line longer than 64 MiB"), "{d}");
    }
}

/// The v1 evolution rule: an event type this version does not know is tolerated and ignored,
/// never a skipped bad line, and the validator agrees (issue #9, Boundaries).
#[test]
fn unknown_event_types_are_tolerated_and_counted_nowhere() {
    let known = [session("s", "2026-01-05T09:00:00Z"), turn("s", "claude-sonnet-4.5", json!({}))];
    let unknown = [
        json!({"type": "something_new", "payload": {"anything": [1, 2]}}),
        json!({"payload": 1, "type": "later_first_key", "event_id": 7}),
    ];
    for line in &unknown {
        assert!(validate::is_valid(SchemaKind::V1Event, line), "{line}");
    }
    let plain = roll(&lines(&known));
    let mut mixed = vec![unknown[0].clone()];
    mixed.extend(known.iter().cloned());
    mixed.push(unknown[1].clone());
    let with_unknown = roll(&lines(&mixed));
    assert!(with_unknown.diagnostics.is_empty(), "{:?}", with_unknown.diagnostics);
    assert_eq!(with_unknown.summary.diagnostics, 0);
    assert_eq!(with_unknown.summary.turns, 1);
    assert_eq!(with_unknown.summary.sessions, plain.summary.sessions);
    let strict = SummaryOptions { strict: true, ..SummaryOptions::default() };
    assert_eq!(roll_opts(&lines(&mixed), &strict).summary.turns, 1);
    // A `type` that is not a string is still a bad line.
    let bad = roll(&lines(&[json!({"type": 5})]));
    assert_eq!(bad.diagnostics.len(), 1);
}
