//! `ingest`, `override`, `finalize` and `audit` on a scratch tracker directory: records and
//! their key order, output lines, the codex fixture pair's deltas, errors, the anomaly guard.
//! Expected values come from the reference (§7.3, §7.4) and the fixtures.

use agentos_tracker::CcusageScope;
use agentos_tracker::WindowError;
use agentos_tracker::audit::audit;
use agentos_tracker::finalize::{FinalizeRequest, finalize};
use agentos_tracker::ingest::{IngestRequest, IngestSource, ingest};
use agentos_tracker::manual::{ManualValues, record_override};
use agentos_tracker::snapshot::{MeterProvider, Phase};
use agentos_tracker::store::{OrderedValue, TrackerDir, TrackerFile};
use serde_json::{Value, json};

use crate::fixture;
use crate::store::scratch;

fn put(
    dir: &TrackerDir,
    source: IngestSource,
    w: &str,
    phase: Option<Phase>,
    text: &str,
) -> String {
    let req =
        IngestRequest { source, window: w, phase, text, notes: "", scope: CcusageScope::Session };
    ingest(dir, &req).unwrap().message
}

/// The keys of each line of `file`, in order.
fn keys(dir: &TrackerDir, file: TrackerFile) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(dir.path(file)).unwrap();
    text.lines()
        .map(|l| match OrderedValue::parse(l).unwrap() {
            OrderedValue::Object(e) => e.into_iter().map(|(k, _)| k).collect(),
            _ => panic!("not an object"),
        })
        .collect()
}

fn rows(dir: &TrackerDir, file: TrackerFile) -> Vec<Value> {
    dir.load(file, None).unwrap().rows.into_iter().map(|r| Value::Object(r.value)).collect()
}

#[test]
fn ingest_writes_each_source_with_the_reference_keys_and_lines() {
    let (_t, root) = scratch();
    let dir = TrackerDir::new(root.clone());
    let codex = fixture("codex/alt_reset_64_0.txt");
    assert_eq!(
        put(&dir, IngestSource::Codex, "W0-01", Some(Phase::Before), &codex),
        "stored codex before snapshot for W0-01 (errors=[])"
    );
    assert_eq!(
        put(
            &dir,
            IngestSource::Codex,
            "W0-01",
            Some(Phase::After),
            &fixture("codex/too_narrow_missing_numbers.txt")
        ),
        "stored codex after snapshot for W0-01 (errors=['insufficient-data'])"
    );
    let snap_keys = [
        "window",
        "provider",
        "phase",
        "captured_at",
        "notes",
        "raw_text",
        "parsed",
        "source",
        "snapshot_id",
        "schema_version",
        "tool_version",
    ];
    for k in keys(&dir, TrackerFile::Snapshots) {
        assert_eq!(k, snap_keys);
    }
    let snaps = rows(&dir, TrackerFile::Snapshots);
    assert_eq!(snaps[0]["raw_text"], codex.trim_end());
    assert_eq!(snaps[0]["parsed"]["weekly_pct"], 64);
    assert_eq!(snaps[0]["source"], "ingest");
    assert_eq!(snaps[0]["snapshot_id"].as_str().unwrap().len(), 64);

    assert_eq!(
        put(&dir, IngestSource::Glm, "W0-CC", None, &fixture("glm/ccusage_sample.json")),
        "stored glm prompts for W0-CC (prompts=118)"
    );
    assert_eq!(
        keys(&dir, TrackerFile::GlmCounts)[0],
        [
            "window",
            "provider",
            "captured_at",
            "notes",
            "raw_text",
            "parsed",
            "source",
            "prompts_used",
            "schema_version",
            "tool_version"
        ]
    );
    let glm = &rows(&dir, TrackerFile::GlmCounts)[0];
    assert_eq!((glm["prompts_used"].as_f64(), &glm["parsed"]["errors"]), (Some(118.0), &json!([])));
    let line = std::fs::read_to_string(dir.path(TrackerFile::GlmCounts)).unwrap();
    assert!(
        line.contains("\"prompts_used\": 118.0, \"schema_version\""),
        "float as Python writes it"
    );

    assert_eq!(
        put(
            &dir,
            IngestSource::ProxyTelemetry,
            "W0-01",
            Some(Phase::Before),
            &fixture("proxy/telemetry_sample.jsonl")
        ),
        "stored proxy telemetry for W0-01 (events=8, routed=50%)"
    );
    assert_eq!(
        put(
            &dir,
            IngestSource::ClaudeMonitor,
            "W0-CM",
            None,
            &fixture("claude_monitor/realtime_sample.txt")
        ),
        "stored claude monitor summary for W0-CM (usage=0%)"
    );
    let summary_keys = [
        "window",
        "provider",
        "captured_at",
        "notes",
        "raw_text",
        "parsed",
        "source",
        "schema_version",
        "tool_version",
    ];
    assert_eq!(keys(&dir, TrackerFile::ProxyTelemetry)[0], summary_keys);
    assert_eq!(keys(&dir, TrackerFile::ClaudeMonitor)[0], summary_keys);
    assert_eq!(rows(&dir, TrackerFile::ClaudeMonitor)[0]["provider"], "claude-monitor");

    for (scope, file, tokens) in [
        (CcusageScope::Session, "ccusage/codex_sessions_sample.json", "7372723263"),
        (CcusageScope::Weekly, "ccusage/codex_weekly_sample.json", "987654321"),
    ] {
        let req = IngestRequest {
            source: IngestSource::CodexCcusage,
            window: "W0-CC",
            phase: None,
            text: &fixture(file),
            notes: "n",
            scope,
        };
        let name = agentos_tracker::ingest::scope_name(scope);
        assert_eq!(
            ingest(&dir, &req).unwrap().message,
            format!("stored codex ccusage {name} summary for W0-CC (tokens={tokens})")
        );
    }
    assert_eq!(
        keys(&dir, TrackerFile::CodexCcusage)[0],
        [
            "window",
            "provider",
            "scope",
            "captured_at",
            "notes",
            "raw_text",
            "parsed",
            "source",
            "schema_version",
            "tool_version"
        ]
    );
    let cc = rows(&dir, TrackerFile::CodexCcusage);
    assert_eq!((&cc[1]["scope"], &cc[1]["parsed"]["scope"]), (&json!("weekly"), &json!("weekly")));
}

#[test]
fn a_snapshot_without_a_phase_is_refused_and_nothing_is_written() {
    let (_t, root) = scratch();
    let dir = TrackerDir::new(root);
    let req = IngestRequest {
        source: IngestSource::Claude,
        window: "W",
        phase: None,
        text: "x",
        notes: "",
        scope: CcusageScope::Session,
    };
    assert!(matches!(ingest(&dir, &req), Err(WindowError::PhaseRequired)));
    assert!(!dir.path(TrackerFile::Snapshots).exists());
}

#[test]
fn override_stores_a_manual_snapshot() {
    let (_t, root) = scratch();
    let dir = TrackerDir::new(root);
    let values = ManualValues { weekly_pct: Some(82), fiveh_pct: Some(1), ..Default::default() };
    let line =
        record_override(&dir, MeterProvider::Codex, "W0-OVR", Phase::Before, &values, "manual")
            .unwrap();
    assert_eq!(line, "recorded manual codex before snapshot for W0-OVR");
    let row = &rows(&dir, TrackerFile::Snapshots)[0];
    assert_eq!(
        row["parsed"],
        json!({"errors": ["manual-override"], "fiveh_pct": 1, "fiveh_resets": null, "weekly_pct": 82, "weekly_resets": null})
    );
    assert_eq!(
        (&row["raw_text"], &row["source"], &row["schema_version"]),
        (&json!(""), &json!("override"), &json!("1.0.0"))
    );
    let text = std::fs::read_to_string(dir.path(TrackerFile::Snapshots)).unwrap();
    assert!(text.contains("\"parsed\": {\"errors\": [\"manual-override\"], \"fiveh_pct\": 1,"));
    // Claude flags on a Codex override are ignored: still refused.
    let claude_only = ManualValues { session_pct: Some(3), ..Default::default() };
    let e = record_override(&dir, MeterProvider::Codex, "W", Phase::After, &claude_only, "")
        .unwrap_err();
    assert!(matches!(e, WindowError::CodexOverrideEmpty));
    let codex_only = ManualValues { weekly_pct: Some(82), ..Default::default() };
    let e = record_override(&dir, MeterProvider::Claude, "W", Phase::After, &codex_only, "")
        .unwrap_err();
    assert!(matches!(e, WindowError::ClaudeOverrideEmpty));
    let claude = ManualValues { all_models_pct: Some(40), ..Default::default() };
    record_override(&dir, MeterProvider::Claude, "W", Phase::After, &claude, "").unwrap();
    assert_eq!(
        rows(&dir, TrackerFile::Snapshots)[1]["parsed"],
        json!({"errors": ["manual-override"], "session_pct": null, "session_resets": null, "all_models_pct": 40, "all_models_resets": null})
    );
}

fn observed_window(dir: &TrackerDir) {
    put(
        dir,
        IngestSource::Codex,
        "W0-01",
        Some(Phase::Before),
        &fixture("codex/alt_reset_64_0.txt"),
    );
    put(
        dir,
        IngestSource::Codex,
        "W0-01",
        Some(Phase::After),
        &fixture("codex/wide_status_82_1.txt"),
    );
    let req = IngestRequest {
        source: IngestSource::Claude,
        window: "W0-01",
        phase: Some(Phase::Before),
        text: &fixture("claude/usage_wide_90_1_0.txt"),
        notes: "hello",
        scope: CcusageScope::Session,
    };
    ingest(dir, &req).unwrap();
    put(
        dir,
        IngestSource::Claude,
        "W0-01",
        Some(Phase::After),
        &fixture("claude/usage_narrow_90_1_0.txt"),
    );
}

#[test]
fn finalize_the_codex_fixture_pair_gives_the_reference_deltas() {
    let (_t, root) = scratch();
    let dir = TrackerDir::new(root);
    observed_window(&dir);
    let mut req = FinalizeRequest::new("W0-01");
    req.codex_features = 3;
    req.claude_features = 2;
    req.glm_features = 1;
    req.quality = 4.0;
    req.outcome = "pass".into();
    req.notes = "n1".into();
    req.methodology = Some("m1".into());
    req.commit_start = Some("HEAD".into());
    req.commit_end = Some("HEAD".into());
    req.spec_id = Some(String::new());
    let done = finalize(&dir, &req).unwrap();
    assert_eq!(done.to_string(), "finalized window W0-01 with providers: codex, claude");
    assert!(done.anomalies.is_empty());
    assert_eq!(
        keys(&dir, TrackerFile::Windows)[0],
        [
            "window",
            "finalized_at",
            "features",
            "quality_score",
            "quality",
            "outcome",
            "notes",
            "providers",
            "methodology",
            "commit_start",
            "commit_end",
            "schema_version",
            "tool_version"
        ]
    );
    let row = &rows(&dir, TrackerFile::Windows)[0];
    // §7.4: before alt_reset_64_0 (5h 0, weekly 64), after wide_status_82_1 (5h 1, weekly 82).
    assert_eq!(row["providers"]["codex"]["delta"], json!({"fiveh_pct": 1, "weekly_pct": 18}));
    assert_eq!(row["providers"]["codex"]["before"]["weekly_pct"], 64);
    assert_eq!(row["providers"]["codex"]["after"]["weekly_pct"], 82);
    // Claude: session 1 → 1, week 90 → 90.
    assert_eq!(row["providers"]["claude"]["delta"], json!({"session_pct": 0, "all_models_pct": 0}));
    assert_eq!(row["providers"]["claude"]["notes"], json!(["hello"]));
    assert_eq!(row["features"], json!({"codex": 3, "claude": 2, "glm": 1}));
    assert_eq!((row["quality_score"].as_f64(), row["quality"].as_f64()), (Some(4.0), Some(4.0)));
    let text = std::fs::read_to_string(dir.path(TrackerFile::Windows)).unwrap();
    assert!(text.contains("\"quality_score\": 4.0, \"quality\": 4.0, \"outcome\": \"pass\""));
    let pkeys: Vec<String> = match OrderedValue::parse(text.trim()).unwrap() {
        OrderedValue::Object(e) => match &e[7].1 {
            OrderedValue::Object(p) => match &p[0].1 {
                OrderedValue::Object(c) => c.iter().map(|(k, _)| k.clone()).collect(),
                _ => panic!(),
            },
            _ => panic!(),
        },
        _ => panic!(),
    };
    assert_eq!(pkeys, ["before", "after", "delta", "captured_at", "notes", "errors"]);
    // The parsed payloads keep the parser's key order.
    assert!(text.contains(
        "\"before\": {\"fiveh_pct\": 0, \"fiveh_resets\": \"21:22\", \"weekly_pct\": 64,"
    ));
    // Re-finalizing appends another row.
    finalize(&dir, &req).unwrap();
    assert_eq!(rows(&dir, TrackerFile::Windows).len(), 2);
}

#[test]
fn finalize_uses_the_latest_snapshot_per_phase() {
    let (_t, root) = scratch();
    let dir = TrackerDir::new(root);
    let v = |w| ManualValues { weekly_pct: Some(w), ..Default::default() };
    record_override(&dir, MeterProvider::Codex, "W", Phase::Before, &v(10), "").unwrap();
    record_override(&dir, MeterProvider::Codex, "W", Phase::Before, &v(20), "").unwrap();
    record_override(&dir, MeterProvider::Codex, "W", Phase::After, &v(25), "").unwrap();
    finalize(&dir, &FinalizeRequest::new("W")).unwrap();
    let row = &rows(&dir, TrackerFile::Windows)[0];
    assert_eq!(row["providers"]["codex"]["delta"], json!({"fiveh_pct": null, "weekly_pct": 5}));
    assert_eq!(row["providers"]["codex"]["errors"], json!(["manual-override"]));
    assert_eq!((&row["outcome"], row["quality"].as_f64()), (&json!("unknown"), Some(1.0)));
    assert!(row.get("methodology").is_none());
}

#[test]
fn finalize_refuses_without_snapshots_or_with_one_phase_and_writes_nothing() {
    let (_t, root) = scratch();
    let dir = TrackerDir::new(root);
    let e = finalize(&dir, &FinalizeRequest::new("W0-09")).unwrap_err();
    assert_eq!(e.to_string(), "no snapshots found for window W0-09");
    assert!(e.is_refusal());
    let v = ManualValues { weekly_pct: Some(1), ..Default::default() };
    record_override(&dir, MeterProvider::Codex, "W0-09", Phase::Before, &v, "").unwrap();
    let c = ManualValues { session_pct: Some(1), ..Default::default() };
    record_override(&dir, MeterProvider::Claude, "W0-09", Phase::After, &c, "").unwrap();
    let e = finalize(&dir, &FinalizeRequest::new("W0-09")).unwrap_err();
    assert_eq!(e.to_string(), "missing before/after snapshots for providers: claude, codex");
    assert!(!dir.path(TrackerFile::Windows).exists());
}

#[test]
fn a_negative_delta_is_recorded_as_an_anomaly() {
    let (_t, root) = scratch();
    let dir = TrackerDir::new(root);
    // A before reading over 100 (hand-typed): (100 − 120) + 10 = −10.
    let v = |w| ManualValues { weekly_pct: Some(w), ..Default::default() };
    record_override(&dir, MeterProvider::Codex, "W0-A", Phase::Before, &v(120), "").unwrap();
    record_override(&dir, MeterProvider::Codex, "W0-A", Phase::After, &v(10), "").unwrap();
    let done = finalize(&dir, &FinalizeRequest::new("W0-A")).unwrap();
    assert_eq!(done.anomalies, ["codex"]);
    let a = &rows(&dir, TrackerFile::Anomalies)[0];
    assert_eq!(
        keys(&dir, TrackerFile::Anomalies)[0],
        [
            "window",
            "provider",
            "captured_at",
            "notes",
            "delta",
            "before",
            "after",
            "source",
            "schema_version",
            "tool_version"
        ]
    );
    assert_eq!(a["delta"], json!({"fiveh_pct": null, "weekly_pct": -10}));
    assert_eq!(
        (&a["notes"], &a["source"]),
        (&json!("negative-delta-detected"), &json!("finalize"))
    );
    let report = audit(&dir, "W0-A").unwrap().unwrap();
    assert_eq!(report.anomalies.count, 1);
}

#[test]
fn audit_reports_duplicates_canonical_rows_and_counts() {
    let (_t, root) = scratch();
    let dir = TrackerDir::new(root);
    assert!(audit(&dir, "W0-AUD").unwrap().is_none());
    observed_window(&dir);
    let v = ManualValues { weekly_pct: Some(82), ..Default::default() };
    std::fs::create_dir_all(dir.root()).unwrap();
    // Copy W0-01's rows to W0-AUD through the public API: a duplicate codex after.
    for (phase, w) in [(Phase::Before, 64), (Phase::After, 80), (Phase::After, 82)] {
        let v = ManualValues { weekly_pct: Some(w), ..v.clone() };
        record_override(&dir, MeterProvider::Codex, "W0-AUD", phase, &v, "dup").unwrap();
    }
    let mut req = FinalizeRequest::new("W0-AUD");
    req.methodology = Some("m1".into());
    finalize(&dir, &req).unwrap();
    finalize(&dir, &req).unwrap();
    let report = audit(&dir, "W0-AUD").unwrap().unwrap();
    let text = report.to_text();
    let snaps = rows(&dir, TrackerFile::Snapshots);
    let latest_after = snaps
        .iter()
        .filter(|r| r["window"] == "W0-AUD" && r["phase"] == "after")
        .map(|r| r["captured_at"].as_str().unwrap())
        .max()
        .unwrap();
    let latest_before = snaps
        .iter()
        .find(|r| r["window"] == "W0-AUD" && r["phase"] == "before")
        .map(|r| r["captured_at"].as_str().unwrap())
        .unwrap();
    let fin = rows(&dir, TrackerFile::Windows);
    let last_fin = fin.iter().map(|r| r["finalized_at"].as_str().unwrap()).max().unwrap();
    assert_eq!(
        text,
        format!(
            "Window Audit: W0-AUD\nSnapshots:\n  - codex/after: entries=2, duplicates=1, canonical={latest_after}, source=override, notes=dup\n  - codex/before: entries=1, duplicates=0, canonical={latest_before}, source=override, notes=dup\nFinalize rows: entries=2, duplicates=1, canonical={last_fin}, methodology=m1\nAnomalies: 0\nChurn rows: 0\n"
        )
    );
    let doc: Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
    assert_eq!(
        doc,
        json!({
            "window": "W0-AUD",
            "snapshots": [
                {"provider": "codex", "phase": "after", "entries": 2, "duplicates": 1,
                 "canonical_captured_at": latest_after, "source": "override", "notes": "dup"},
                {"provider": "codex", "phase": "before", "entries": 1, "duplicates": 0,
                 "canonical_captured_at": latest_before, "source": "override", "notes": "dup"}
            ],
            "finalize": {"entries": 2, "duplicates": 1, "canonical_finalized_at": last_fin, "methodology": "m1"},
            "anomalies": {"count": 0},
            "churn": {"count": 0}
        })
    );
    assert!(
        report.to_json().unwrap().starts_with("{\n  \"window\": \"W0-AUD\",\n  \"snapshots\": [\n")
    );
}

#[test]
fn audit_lists_churn_records_in_their_key_order_and_reports_corrupt_lines() {
    let (_t, root) = scratch();
    let dir = TrackerDir::new(root);
    std::fs::create_dir_all(dir.root()).unwrap();
    std::fs::write(
        dir.path(TrackerFile::Churn),
        "{\"window\": \"W0-C\", \"provider\": \"codex\", \"net\": 2, \"captured_at\": \"t\"}\n{oops\n",
    )
    .unwrap();
    let report = audit(&dir, "W0-C").unwrap().unwrap();
    assert_eq!(report.to_text(), "Window Audit: W0-C\nAnomalies: 0\nChurn rows: 1\n");
    let json = report.to_json().unwrap();
    assert!(json.contains("\"records\": [\n      {\n        \"window\": \"W0-C\",\n        \"provider\": \"codex\",\n        \"net\": 2,"), "{json}");
    assert_eq!(report.corrupt.len(), 1);
    assert_eq!(report.corrupt[0].line, 2);
    let doc: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["finalize"], Value::Null);
}

#[test]
fn a_provider_with_only_another_phase_is_missing_its_pair() {
    let (_t, root) = scratch();
    let dir = TrackerDir::new(root);
    let v = ManualValues { weekly_pct: Some(1), ..Default::default() };
    record_override(&dir, MeterProvider::Codex, "W", Phase::Before, &v, "").unwrap();
    record_override(&dir, MeterProvider::Codex, "W", Phase::After, &v, "").unwrap();
    let mut text = std::fs::read_to_string(dir.path(TrackerFile::Snapshots)).unwrap();
    text.push_str("{\"window\": \"W\", \"provider\": \"claude\", \"phase\": \"during\", \"captured_at\": \"z\"}\n");
    std::fs::write(dir.path(TrackerFile::Snapshots), text).unwrap();
    let e = finalize(&dir, &FinalizeRequest::new("W")).unwrap_err();
    assert_eq!(e.to_string(), "missing before/after snapshots for providers: claude");
}
