//! `efficiency` over the Python tracker's own `windows.jsonl` rows (reference §7.3.3 fields),
//! with E, CI and power from the reference's acceptance vectors (§3.3) and the reference
//! formulas computed here.

use agentos_rollup::efficiency::efficiency_file;
use camino::Utf8PathBuf;
use serde_json::json;

fn dir() -> (tempfile::TempDir, Utf8PathBuf) {
    let d = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let p = Utf8PathBuf::from_path_buf(d.path().to_path_buf()).unwrap_or_default();
    (d, p)
}

/// A finalized tracker window: codex `features`, codex weekly delta `weekly` (pp).
fn row(window: &str, features: u64, weekly: Option<f64>) -> String {
    json!({"window": window, "finalized_at": "2026-01-02T00:00:00+00:00",
        "features": {"codex": features, "claude": 0, "glm": 0}, "quality_score": 1.0,
        "quality": 1.0, "outcome": "pass", "notes": "",
        "providers": {"codex": {"before": {"weekly_pct": 10}, "after": {"weekly_pct": 20},
            "delta": {"fiveh_pct": 99, "weekly_pct": weekly},
            "captured_at": {"before": "a", "after": "b"}, "notes": [], "errors": []}},
        "schema_version": "1", "tool_version": "0.3.0"})
    .to_string()
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 5e-7)
}

#[test]
fn the_tracker_rows_give_the_reference_vectors() {
    let (_d, dir) = dir();
    let path = dir.join("windows.jsonl");
    let lines = [row("W1", 2, Some(10.0)), row("W2", 4, Some(8.0)), row("W3", 1, Some(6.0))];
    std::fs::write(&path, lines.join("\n") + "\n").unwrap_or_else(|e| panic!("write: {e}"));
    let r = efficiency_file(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert_eq!(r.windows, 3);
    let codex =
        r.providers.iter().find(|p| p.provider == "codex").unwrap_or_else(|| panic!("{r:?}"));
    // Reference §3.3: E = 7 / 24, CI [0.1735947, 0.4097386], power 0.3822376, n 3.
    assert_eq!(codex.sample_size, 3);
    assert!(close(codex.efficiency, 7.0 / 24.0), "{codex:?}");
    assert!(close(codex.ci_low, 0.1735947) && close(codex.ci_high, 0.4097386), "{codex:?}");
    assert!(close(codex.power, 0.3822376), "{codex:?}");
    assert_eq!(codex.capacity_unit, "pp");
    // `features.glm` is in every row: a glm observation each, no capacity.
    let glm = r.providers.iter().find(|p| p.provider == "glm").unwrap_or_else(|| panic!("{r:?}"));
    assert_eq!((glm.windows.len(), glm.efficiency), (3, None));
}

#[test]
fn the_numerator_fix_and_glm_counts() {
    let (_d, dir) = dir();
    let path = dir.join("windows.jsonl");
    // W2 has 5 features but a 0 delta: usable capacity none.
    let mut glm_row: serde_json::Value =
        serde_json::from_str(&row("W3", 0, Some(1.0))).unwrap_or_default();
    glm_row["features"]["glm"] = json!(2);
    let lines = [row("W1", 2, Some(10.0)), row("W2", 5, Some(0.0)), glm_row.to_string()];
    std::fs::write(&path, lines.join("\n") + "\n").unwrap_or_else(|e| panic!("write: {e}"));
    let counts =
        [json!({"window": "W3", "prompts_used": 30}), json!({"window": "W3", "prompts_used": 10})];
    let counts: Vec<String> = counts.iter().map(|c| c.to_string()).collect();
    std::fs::write(dir.join("glm_counts.jsonl"), counts.join("\n") + "\n")
        .unwrap_or_else(|e| panic!("write: {e}"));
    let r = efficiency_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let codex =
        r.providers.iter().find(|p| p.provider == "codex").unwrap_or_else(|| panic!("{r:?}"));
    // The tracker's E = (2 + 5 + 0) / (10 + 1) (all features over usable capacity); ours
    // leaves W2's 5 features out of the numerator: (2 + 0) / 11, with 5 unmeasured.
    let reference = (2.0 + 5.0 + 0.0) / (10.0 + 1.0);
    assert!(close(codex.efficiency, 2.0 / 11.0), "{codex:?}");
    assert!((codex.efficiency.unwrap_or(0.0) - reference).abs() > 0.1);
    assert_eq!((codex.unmeasured_features, codex.unmeasured_windows), (5.0, 1));
    // GLM: window W3's 2 features over its 40 counted prompts.
    let glm = r.providers.iter().find(|p| p.provider == "glm").unwrap_or_else(|| panic!("{r:?}"));
    assert!(close(glm.efficiency, 0.05), "{glm:?}");
    assert_eq!(glm.capacity_unit, "prompts");
}

#[test]
fn a_file_of_neither_shape_is_an_error_and_empty_sums_are_plain_zeros() {
    let (_d, dir) = dir();
    let path = dir.join("windows.jsonl");
    std::fs::write(&path, "{\"foo\": 1}\n{\"bar\": 2}\n").unwrap_or_else(|e| panic!("write: {e}"));
    let e = efficiency_file(&path).map(|_| ()).unwrap_err().to_string();
    assert!(e.contains("tracker window row") && e.contains("line 1"), "{e}");
    // A window whose only provider has no usable capacity: sums are 0.0, never -0.0.
    std::fs::write(&path, row("W1", 0, None) + "\n").unwrap_or_else(|e| panic!("write: {e}"));
    let r = efficiency_file(&path).unwrap_or_else(|e| panic!("{e}"));
    let text = serde_json::to_string(&r.providers).unwrap_or_default();
    assert!(!text.contains("-0.0"), "{text}");
    assert!(text.contains("\"total_features\":0.0"), "{text}");
}
