//! Rollups of files on disk: several files, missing files, windows.jsonl.

use agentos_rollup::efficiency::efficiency_file;
use agentos_rollup::{SummaryOptions, summarize_files};
use camino::Utf8PathBuf;

fn tmp() -> (tempfile::TempDir, Utf8PathBuf) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap_or_default();
    (dir, path)
}

const TURN: &str = r#"{"type":"turn","turn":{"turn_id":"t","session_id":"s","model":"m","subagent":"a","tokens_in":1,"tokens_out":1,"input_kind":"text","latency_ms":1,"capacity_used":0.25},"measurement":{"cls":1,"impf":1,"churn_score":0,"feature_delta":1}}"#;

#[test]
fn several_files_add_up_and_diagnostics_name_their_file() {
    let (_d, dir) = tmp();
    let a = dir.join("a.jsonl");
    let b = dir.join("b.jsonl");
    std::fs::write(&a, format!("{TURN}\n{TURN}\n")).unwrap_or_default();
    std::fs::write(&b, format!("{TURN}\nnot json\n")).unwrap_or_default();
    let r = summarize_files(&[a, b.clone(), dir.join("missing.jsonl")], &SummaryOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.summary.turns, 3);
    assert_eq!(r.summary.features_per_capacity, Some(4.0));
    assert_eq!(r.diagnostics.len(), 1);
    assert_eq!(r.diagnostics[0].to_string().split(": ").next(), Some(format!("{b}:2").as_str()));
}

#[test]
fn efficiency_from_windows_jsonl_fixes_the_numerator() {
    let (_d, dir) = tmp();
    let path = dir.join("windows.jsonl");
    let w = |id: &str, f: f64, c: Option<f64>| {
        serde_json::json!({"window_id": id, "session_id": id, "started_at": "2026-01-01T00:00:00Z",
            "ended_at": "2026-01-01T05:00:00Z", "schema_version": "1.1.0",
            "providers": {"codex": {"turns": 1, "tokens_in": 1, "tokens_out": 1,
                "capacity_used": c, "features": f, "cost_usd": 0.0}}})
        .to_string()
    };
    let text = [
        w("w1", 2.0, Some(10.0)),
        w("w2", 4.0, Some(8.0)),
        w("w3", 1.0, Some(6.0)),
        w("w4", 5.0, None),
    ]
    .join("\n")
        + "\n{\"window_id\":";
    std::fs::write(&path, text).unwrap_or_default();
    let report = efficiency_file(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.windows, 4);
    assert_eq!(report.diagnostics.len(), 1);
    let codex = &report.providers[0];
    assert_eq!(
        (codex.sample_size, codex.unmeasured_features, codex.unmeasured_windows),
        (3, 5.0, 1)
    );
    assert!(codex.efficiency.is_some_and(|e| (e - 0.2916667).abs() < 5e-8));
    assert!(codex.power.is_some_and(|p| (p - 0.3822376).abs() < 5e-8));
    assert_eq!(codex.windows, vec!["w1", "w2", "w3", "w4"]);
}

#[test]
fn efficiency_skips_windows_with_numbers_that_would_overflow() {
    let (_d, dir) = tmp();
    let path = dir.join("windows.jsonl");
    let w = |id: &str, f: f64, c: f64| {
        serde_json::json!({"window_id": id, "session_id": id, "started_at": "2026-01-01T00:00:00Z",
            "ended_at": "2026-01-01T05:00:00Z", "schema_version": "1.1.0",
            "providers": {"codex": {"turns": 1, "tokens_in": 1, "tokens_out": 1,
                "capacity_used": c, "features": f, "cost_usd": 0.0}}})
        .to_string()
    };
    let text = [w("w1", 2.0, 4.0), w("w2", 1e300, 1e300), w("w3", 2.0, 4.0), w("w4", 2.0, 4.0)]
        .join("\n")
        + "\n";
    std::fs::write(&path, text).unwrap_or_default();
    let report = efficiency_file(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.windows, 3);
    let d: Vec<String> = report.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(d.len(), 1);
    assert!(d[0].starts_with(&format!("{path}:2: codex: ")) && d[0].contains("out of range"));
    let codex = &report.providers[0];
    assert_eq!((codex.efficiency, codex.ci_high, codex.power), (Some(0.5), Some(0.5), Some(1.0)));
}

/// Issue #8 points 7 and 9: a 65 MiB line is skipped unread (before: the whole line was kept,
/// 1 GB line → 1 GB RSS) and a window read twice counts once.
#[test]
fn efficiency_skips_an_over_long_line_and_counts_a_window_once() {
    let (_d, dir) = tmp();
    let path = dir.join("windows.jsonl");
    let w = |id: &str, f: f64, c: f64| {
        serde_json::json!({"window_id": id, "session_id": id, "started_at": "2026-01-01T00:00:00Z",
            "ended_at": "2026-01-01T05:00:00Z", "schema_version": "1.1.0",
            "providers": {"codex": {"turns": 1, "tokens_in": 1, "tokens_out": 1,
                "capacity_used": c, "features": f, "cost_usd": 0.0}}})
        .to_string()
    };
    let junk = format!("{{\"window_id\":\"{}\"}}", "x".repeat(65 << 20));
    let text = [w("w1", 2.0, 4.0), junk, w("w2", 1.0, 4.0), w("w1", 2.0, 4.0)].join("\n") + "\n";
    std::fs::write(&path, text).unwrap_or_default();
    let report = efficiency_file(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.windows, 2);
    let d: Vec<String> = report.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(d[0].starts_with(&format!("{path}:2: line longer than 64 MiB")), "{d:?}");
    assert!(d[1].starts_with(&format!("{path}:4: window \"w1\" already read")), "{d:?}");
    // (2 + 1) features over (4 + 4) capacity.
    assert_eq!(report.providers[0].efficiency, Some(3.0 / 8.0));
}

/// Issue #8 point 9: `--usage-json` reads at most 16 MiB (before: a 1 GB file took 2 GB).
#[test]
fn model_health_refuses_a_file_larger_than_the_cap_and_reads_a_real_one() {
    let (_d, dir) = tmp();
    let big = dir.join("usage.json");
    let pad = "x".repeat(agentos_rollup::MAX_USAGE_JSON as usize);
    std::fs::write(&big, format!("{{\"models\":{{}},\"pad\":\"{pad}\"}}")).unwrap_or_default();
    let e = agentos_rollup::read_model_health(&big).err().map(|e| e.to_string());
    assert_eq!(
        e,
        Some(format!("{big} is not a valid CCC /v1/usage response: larger than 16 MiB, not read"))
    );
    let ok = dir.join("ok.json");
    std::fs::write(&ok, r#"{"models":{"glm/4.6":{"weekly_pct":0.5}},"ts":1}"#).unwrap_or_default();
    let m = agentos_rollup::read_model_health(&ok).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.get("glm/4.6").and_then(|v| v["weekly_pct"].as_f64()), Some(0.5));
}
