//! `agentos rollup`, `report`, `efficiency`, `churn` and `demo`, run as the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value as Json;

static N: AtomicU32 = AtomicU32::new(0);

/// A scratch directory removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new() -> Scratch {
        let p = std::env::temp_dir().join(format!(
            "agentos-cli-rollup-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        Scratch(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn agentos(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_agentos"))
        .args(args)
        .env_remove("AGENTOS_DATA_DIR")
        .env_remove("PRIVACY_TIER")
        .env("AGENTOS_CCC_BASE_URL", "http://127.0.0.1:9")
        .output()
        .unwrap_or_else(|e| panic!("cannot run agentos: {e}"))
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Run `git ARGS` in `repo` as a fixed author, optionally at `date` (author and committer);
/// panics when git fails.
pub fn git_in(repo: &Path, args: &[&str], date: Option<&str>) {
    let mut cmd = Command::new("git");
    cmd.args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid");
    if let Some(date) = date {
        cmd.env("GIT_AUTHOR_DATE", date).env("GIT_COMMITTER_DATE", date);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("git: {e}"));
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

pub fn read_json(p: &Path) -> Json {
    let s = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const TURN: &str = r#"{"type":"turn","ts":"2026-03-02T10:00:00Z","turn":{"turn_id":"t","session_id":"s1","model":"glm/4.6","subagent":"a","tokens_in":100,"tokens_out":50,"input_kind":"text","latency_ms":1,"attribution":{"glm/4.6":1},"capacity_used":0.25},"measurement":{"cls":1,"impf":2,"churn_score":0.1,"feature_delta":1},"cost":{"provider":"zai","estimated_usd":0.5}}"#;
const SESSION: &str = r#"{"type":"session","session":{"session_id":"s1","repo_id":"r","branch":"b","commit":"c","license_id":"local","privacy_tier":"local","created_at":"2026-03-02T09:00:00Z"}}"#;

#[test]
fn demo_records_rolls_up_and_reports_end_to_end() {
    let scratch = Scratch::new();
    let dir = scratch.path().join("data");
    let dir_s = dir.to_string_lossy().into_owned();
    let out = agentos(&["demo", "--data-dir", &dir_s]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {}", text(&out.stderr));
    assert!(stdout.contains(&format!("Files are in {dir_s}")), "{stdout}");
    assert!(stdout.contains("ALERT anthropic") && stdout.contains("stop scheduling new windows"));
    assert!(stdout.contains("claude-sonnet-4.5") && stdout.contains("Efficiency"));

    // Expected numbers computed from the bundled sample data itself.
    let sample =
        read_json(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src/demo_sessions.json")));
    let sessions = sample["sessions"].as_array().cloned().unwrap_or_default();
    let turns: Vec<Json> =
        sessions.iter().flat_map(|s| s["turns"].as_array().cloned().unwrap_or_default()).collect();
    let features: f64 =
        turns.iter().filter_map(|t| t["measurement"]["feature_delta"].as_f64()).sum();
    let cost: f64 = turns.iter().filter_map(|t| t["cost"]["estimated_usd"].as_f64()).sum();

    for f in [
        "events.jsonl",
        "windows.jsonl",
        "glm_counts.jsonl",
        "metrics_summary.json",
        "progress.log.md",
        "trend.json",
    ] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
    let summary = read_json(&dir.join("metrics_summary.json"));
    assert_eq!(summary["sessions"].as_u64(), Some(sessions.len() as u64));
    assert_eq!(summary["turns"].as_u64(), Some(turns.len() as u64));
    assert!((summary["features_shipped"].as_f64().unwrap_or(-1.0) - features).abs() < 1e-9);
    assert!((summary["cost_usd"].as_f64().unwrap_or(-1.0) - cost).abs() < 1e-9);
    assert_eq!(summary["diagnostics"].as_u64(), Some(0));
    let windows = std::fs::read_to_string(dir.join("windows.jsonl")).unwrap_or_default();
    assert_eq!(windows.lines().count(), sessions.len());
    // The samples span several days (each session `days_ago` apart by more than a day), so
    // the trend and the progress log have a row / section per day of activity.
    let trend = read_json(&dir.join("trend.json"));
    let rows = trend["rows"].as_array().map_or(0, Vec::len);
    assert!(rows >= sessions.len(), "{trend}");
    let log = std::fs::read_to_string(dir.join("progress.log.md")).unwrap_or_default();
    // One section per day of activity, plus one for the run day when nothing happened on it
    // (the newest sample session may or may not cross midnight, depending on the time now).
    let today = agentos_event_schema::Timestamp::now().utc_date();
    let active_today = trend["rows"]
        .as_array()
        .is_some_and(|r| r.iter().any(|row| row["date"].as_str() == Some(today.as_str())));
    let expected = rows + usize::from(!active_today);
    assert_eq!(log.matches("- activity: ").count(), expected, "{log}");
    // Local tier: nothing queued for upload.
    let queued = std::fs::read_dir(dir.join("outbox"))
        .map(|d| d.filter_map(Result::ok).filter(|e| e.path().is_file()).count())
        .unwrap_or(0);
    assert_eq!(queued, 0);

    // A second demo replaces the first one's files in the same directory (no pile-up).
    let names = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into()).collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let (before, entries) =
        (std::fs::read_to_string(dir.join("events.jsonl")).unwrap_or_default(), names());
    let again = agentos(&["demo", "--data-dir", &dir_s]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let after = std::fs::read_to_string(dir.join("events.jsonl")).unwrap_or_default();
    assert_eq!(after.lines().count(), before.lines().count());
    assert_eq!(names(), entries);

    // The report reads the demo's files.
    let rep = agentos(&["--data-dir", &dir_s, "report", "--by", "session", "--json"]);
    assert!(rep.status.success(), "{}", text(&rep.stderr));
    let rep: Json = serde_json::from_slice(&rep.stdout).unwrap_or_default();
    assert_eq!(rep["schema_version"].as_str(), Some(agentos_event_schema::v1::SCHEMA_VERSION));
    assert_eq!(rep["rows"].as_array().map(Vec::len), Some(sessions.len()));
}

#[test]
fn rollup_writes_summary_log_and_trend_and_strict_fails_on_bad_lines() {
    let scratch = Scratch::new();
    let dir = scratch.path();
    std::fs::create_dir_all(dir).unwrap_or_default();
    let events = dir.join("events.jsonl");
    std::fs::write(&events, format!("{SESSION}\n{TURN}\n{TURN}\n{{\"type\":\"turn\"}}\n"))
        .unwrap_or_default();
    let ev = events.to_string_lossy().into_owned();
    let out_path = dir.join("out/metrics_summary.json");
    let out_s = out_path.to_string_lossy().into_owned();

    let out = agentos(&["rollup", "--events", &ev, "--out", &out_s]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("{ev}:4: ")), "{stderr}");
    let s = read_json(&out_path);
    assert_eq!((s["turns"].as_u64(), s["diagnostics"].as_u64()), (Some(2), Some(1)));
    assert_eq!(s["features_per_capacity"].as_f64(), Some(4.0));
    let log = std::fs::read_to_string(dir.join("out/progress.log.md")).unwrap_or_default();
    let trend = std::fs::read_to_string(dir.join("out/trend.json")).unwrap_or_default();
    // One section for the day of the turns, one for the day of the run (the same when the
    // test runs on that day).
    let run_day = agentos_event_schema::Timestamp::now().utc_date();
    let sections = if run_day == "2026-03-02" { 1 } else { 2 };
    assert_eq!(log.matches("\n## ").count(), sections, "{log}");
    assert_eq!(log.matches("\n## 2026-03-02\n").count(), 1, "{log}");
    // Re-running is idempotent.
    let out = agentos(&["rollup", "--events", &ev, "--out", &out_s]);
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(dir.join("out/progress.log.md")).unwrap_or_default(), log);
    assert_eq!(std::fs::read_to_string(dir.join("out/trend.json")).unwrap_or_default(), trend);

    let strict = agentos(&["rollup", "--strict", "--events", &ev, "--out", &out_s]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(text(&strict.stderr).contains(&format!("{ev}:4: ")));
    assert!(text(&strict.stderr).contains("; run without --strict"), "{strict:?}");

    let report = agentos(&["report", "--events", &ev, "--by", "model"]);
    let table = text(&report.stdout);
    assert!(report.status.success());
    assert!(table.lines().any(|l| l.starts_with("glm/4.6") && l.contains(" 2 ")), "{table}");
    // --json keeps stdout machine-readable and still names the skipped line on stderr.
    let json_report = agentos(&["report", "--events", &ev, "--json"]);
    assert!(json_report.status.success());
    let v: Json = serde_json::from_slice(&json_report.stdout).unwrap_or_default();
    assert_eq!(v["summary"]["diagnostics"].as_u64(), Some(1));
    let stderr = text(&json_report.stderr);
    assert!(stderr.contains(&format!("{ev}:4: ")), "{stderr}");
    let missing = agentos(&["report", "--events", &ev, "--session", "nope"]);
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn efficiency_and_churn_commands() {
    let scratch = Scratch::new();
    let dir = scratch.path();
    std::fs::create_dir_all(dir).unwrap_or_default();
    let windows = dir.join("windows.jsonl");
    let line = |id: &str, f: f64, c: f64| {
        format!(
            r#"{{"window_id":"{id}","session_id":"{id}","started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T01:00:00Z","schema_version":"1.1.0","providers":{{"codex":{{"turns":1,"tokens_in":1,"tokens_out":1,"capacity_used":{c},"features":{f},"cost_usd":0}}}}}}"#
        )
    };
    std::fs::write(
        &windows,
        [line("a", 2.0, 4.0), line("b", 2.0, 4.0), line("c", 2.0, 4.0)].join("\n") + "\n",
    )
    .unwrap_or_default();
    let w = windows.to_string_lossy().into_owned();
    let out = agentos(&["efficiency", "--windows", &w, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Json = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let codex = &v["providers"][0];
    assert_eq!((codex["efficiency"].as_f64(), codex["power"].as_f64()), (Some(0.5), Some(1.0)));

    let d = dir.to_string_lossy().into_owned();
    let churn = agentos(&["churn", "--repo", &d]);
    assert_eq!(churn.status.code(), Some(2));
    assert!(text(&churn.stderr).contains("git failed"), "{}", text(&churn.stderr));
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let scratch = Scratch::new();
    let dir = scratch.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_agentos"))
        .args(["demo", "--data-dir", &dir.to_string_lossy()])
        .env_remove("AGENTOS_DATA_DIR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    // The reader goes away before the report is printed (like `agentos demo | head -0`).
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

/// A turn line of session `s1` served by `model`.
fn turn_of(model: &str) -> String {
    let mut v: Json = serde_json::from_str(TURN).unwrap_or_default();
    v["turn"]["model"] = Json::from(model);
    v["turn"]["attribution"] = serde_json::json!({});
    v["cost"]["provider"] = Json::from(model);
    v.to_string()
}

/// No byte of `out` may be ESC, and every line of the model table must be one table row.
fn assert_safe(stdout: &str) {
    assert!(!stdout.contains('\u{1b}'), "raw ESC on stdout: {stdout:?}");
    assert!(!stdout.lines().any(|l| l.trim_start().starts_with("ALERT fake")), "{stdout}");
}

#[test]
fn hostile_names_never_panic_and_are_shown_escaped() {
    let scratch = Scratch::new();
    let dir = scratch.path();
    std::fs::create_dir_all(dir).unwrap_or_default();
    let huge = "m".repeat(70_000);
    let evil = "evil\n ALERT fake: 99% of weekly capacity \u{1b}[31mred\u{1b}[0m\u{202e}";
    let events = dir.join("events.jsonl");
    std::fs::write(&events, format!("{SESSION}\n{}\n{}\n", turn_of(&huge), turn_of(evil)))
        .unwrap_or_default();
    let ev = events.to_string_lossy().into_owned();
    for by in ["model", "session", "day"] {
        let out = agentos(&["report", "--events", &ev, "--by", by]);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_safe(&stdout);
        if by == "model" {
            // The evil name is one row, escaped; the huge one is cut with an ellipsis.
            let row = stdout.lines().find(|l| l.starts_with("evil")).unwrap_or_default();
            assert!(row.contains("evil\\n ALERT fake") && row.contains("\\u{1b}[31m"), "{row}");
            assert!(row.ends_with("n/a"), "the row goes on after the name: {row}");
            let cut = stdout.lines().find(|l| l.starts_with("mmm")).unwrap_or_default();
            assert!(cut.contains("m…") && cut.len() < 200, "{cut}");
        }
    }
    // The provider table and the alert lines carry the same names.
    let roll =
        agentos(&["rollup", "--events", &ev, "--out", &dir.join("o/s.json").to_string_lossy()]);
    assert_eq!(roll.status.code(), Some(0), "{}", text(&roll.stderr));
    assert_safe(&text(&roll.stdout));

    // efficiency: provider names from windows.jsonl.
    let windows = dir.join("windows.jsonl");
    let w = |p: &str| {
        serde_json::json!({"window_id":"a","session_id":"a","started_at":"2026-01-01T00:00:00Z",
            "ended_at":"2026-01-01T01:00:00Z","schema_version":"1.1.0",
            "providers":{p:{"turns":1,"tokens_in":1,"tokens_out":1,"capacity_used":1.0,"features":1.0,"cost_usd":0}}})
        .to_string()
    };
    std::fs::write(&windows, format!("{}\n{}\n", w(&huge), w(evil))).unwrap_or_default();
    let out = agentos(&["efficiency", "--windows", &windows.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_safe(&text(&out.stdout));
    assert!(text(&out.stdout).contains("m…"));
}

#[test]
fn churn_survives_huge_and_escaping_commit_subjects() {
    let scratch = Scratch::new();
    let repo = scratch.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap_or_default();
    let git = |args: &[&str]| git_in(&repo, args, None);
    git(&["init", "-q"]);
    let huge = format!("xfeat::{}::w1::impl", "F".repeat(70_000));
    let evil = "xfeat::E\u{1b}[2J\u{1b}[31m::w2::impl";
    for (i, subject) in [huge.as_str(), evil].iter().enumerate() {
        std::fs::write(repo.join(format!("f{i}.txt")), "a\nb\n").unwrap_or_default();
        git(&["add", "."]);
        git(&["commit", "-q", "-m", subject]);
    }
    let out = agentos(&["churn", "--repo", &repo.to_string_lossy()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_safe(&stdout);
    assert!(stdout.contains("F…") && stdout.contains("E\\u{1b}[2J"), "{stdout}");
}
