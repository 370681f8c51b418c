//! `agentos window preview|advise|churn` through the built binary on a tracker directory
//! written here the way the tracker's commands write it (reference §7.3.1, §7.3.3, §7.3.5),
//! from the Python tracker's fixtures; expected text from the reference (§7.3.4's observed
//! preview) and hand calculations, never from the code under test. `advise.rs` and `churn.rs`
//! hold those commands' tests.

mod advise;
mod churn;
mod commands;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use agentos_tracker::ccusage::CcusageScope;
use serde_json::{Value, json};

use crate::rollup::{Scratch, text};

pub const W: &str = "W0-01";

fn fixture(rel: &str) -> String {
    let path = format!("{}/../../fixtures/tracker/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn to_value(v: impl serde::Serialize) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| panic!("{e}"))
}

/// Append rows to `dir/file` as the tracker does: the record, then the two stamps.
pub fn append(dir: &Path, file: &str, rows: &[Value]) {
    use std::io::Write as _;
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(file))
        .unwrap_or_else(|e| panic!("{e}"));
    for r in rows {
        let mut r = r.clone();
        r["schema_version"] = json!("1.0.0");
        r["tool_version"] = json!("0.1.0");
        writeln!(f, "{r}").unwrap_or_else(|e| panic!("{e}"));
    }
}

/// `ingest codex|claude --phase P`: a snapshot row.
fn snapshot(provider: &str, phase: &str, at: &str, notes: &str, parsed: Value) -> Value {
    json!({"window": W, "provider": provider, "phase": phase, "captured_at": at, "notes": notes,
        "raw_text": "(pane)", "parsed": parsed, "source": "ingest"})
}

/// The reference's observed sequence (§7.3.4): codex 64/0→82/1, claude wide→narrow with note
/// `hello`, glm 118, proxy sample, claude-monitor, ccusage ×3, complete (codex 3, claude 2,
/// glm 1, quality 4, outcome pass, notes n1, methodology m1), churn HEAD..HEAD.
fn observed_store(dir: &Path) {
    let parse_codex = |f: &str| to_value(agentos_tracker::parse_codex_status(&fixture(f)).unwrap());
    let parse_claude =
        |f: &str| to_value(agentos_tracker::parse_claude_usage(&fixture(f)).unwrap());
    let (cb, ca) =
        (parse_codex("codex/alt_reset_64_0.txt"), parse_codex("codex/wide_status_82_1.txt"));
    let (lb, la) = (
        parse_claude("claude/usage_wide_90_1_0.txt"),
        parse_claude("claude/usage_narrow_90_1_0.txt"),
    );
    append(
        dir,
        "snapshots.jsonl",
        &[
            snapshot("codex", "before", "2025-10-19T10:00:00.000001+00:00", "", cb.clone()),
            snapshot("codex", "after", "2025-10-19T10:00:01.000001+00:00", "", ca.clone()),
            snapshot("claude", "before", "2025-10-19T10:00:02.000001+00:00", "", lb.clone()),
            snapshot("claude", "after", "2025-10-19T10:00:03.000001+00:00", "hello", la.clone()),
        ],
    );
    let glm = agentos_tracker::parse_ccusage_counts(&fixture("glm/ccusage_sample.json")).unwrap();
    let prompts = glm.prompts_used;
    append(
        dir,
        "glm_counts.jsonl",
        &[json!({"window": W, "provider": "glm",
        "captured_at": "2025-10-19T10:00:04.000001+00:00", "notes": "", "raw_text": "{}",
        "parsed": to_value(&glm), "source": "ingest", "prompts_used": prompts})],
    );
    let proxy =
        agentos_tracker::parse_proxy_telemetry_stream(&fixture("proxy/telemetry_sample.jsonl"))
            .unwrap();
    append(
        dir,
        "proxy_telemetry.jsonl",
        &[json!({"window": W, "provider": "proxy-telemetry",
        "captured_at": "2025-10-19T10:00:05.000001+00:00", "notes": "", "raw_text": "",
        "parsed": to_value(proxy), "source": "ingest"})],
    );
    let monitor = agentos_tracker::parse_claude_monitor_realtime(&fixture(
        "claude_monitor/realtime_sample.txt",
    ))
    .unwrap();
    append(
        dir,
        "claude_monitor.jsonl",
        &[json!({"window": W, "provider": "claude-monitor",
        "captured_at": "2025-10-19T10:00:06.000001+00:00", "notes": "", "raw_text": "",
        "parsed": to_value(monitor), "source": "ingest"})],
    );
    let cc = |f: &str, scope: CcusageScope, name: &str, at: &str| {
        let parsed = to_value(agentos_tracker::parse_codex_ccusage(&fixture(f), scope).unwrap());
        json!({"window": W, "provider": "codex-ccusage", "scope": name, "captured_at": at,
            "notes": "", "raw_text": "", "parsed": parsed, "source": "ingest"})
    };
    append(
        dir,
        "codex_ccusage.jsonl",
        &[
            cc(
                "ccusage/codex_sessions_sample.json",
                CcusageScope::Session,
                "session",
                "2025-10-19T10:00:07+00:00",
            ),
            cc(
                "ccusage/codex_daily_sample.json",
                CcusageScope::Daily,
                "daily",
                "2025-10-19T10:00:08+00:00",
            ),
            cc(
                "ccusage/codex_weekly_sample.json",
                CcusageScope::Weekly,
                "weekly",
                "2025-10-19T10:00:09+00:00",
            ),
        ],
    );
    // complete: deltas by §3.5 by hand: codex 5h 0→1 = 1, weekly 64→82 = 18; claude session
    // 1→1 = 0, all models 90→90 = 0.
    append(
        dir,
        "windows.jsonl",
        &[json!({"window": W,
        "finalized_at": "2025-10-19T10:00:10.000001+00:00",
        "features": {"codex": 3, "claude": 2, "glm": 1}, "quality_score": 4.0, "quality": 4.0,
        "outcome": "pass", "notes": "n1",
        "providers": {
            "codex": {"before": cb, "after": ca, "delta": {"fiveh_pct": 1, "weekly_pct": 18},
                "captured_at": {"before": "2025-10-19T10:00:00.000001+00:00",
                                "after": "2025-10-19T10:00:01.000001+00:00"},
                "notes": [], "errors": []},
            "claude": {"before": lb, "after": la, "delta": {"session_pct": 0, "all_models_pct": 0},
                "captured_at": {"before": "2025-10-19T10:00:02.000001+00:00",
                                "after": "2025-10-19T10:00:03.000001+00:00"},
                "notes": ["hello"], "errors": []}},
        "methodology": "m1"})],
    );
    // churn HEAD..HEAD: nothing changed; features 3 + 2 + 1 = 6, per feature 0 / 6 = 0.
    append(
        dir,
        "churn.jsonl",
        &[json!({"window": W, "provider": "multi", "methodology": "m1",
        "commit_start": "abc", "commit_end": "abc", "files_changed": 0, "insertions": 0,
        "deletions": 0, "net": 0, "features": 6, "normalized_churn": 0.0,
        "captured_at": "2025-10-19T10:00:11.000001+00:00", "notes": "", "source": "churn"})],
    );
}

pub fn agentos(dir: &Path, ccc: &str, args: &[&str]) -> Output {
    let data = dir.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    Command::new(env!("CARGO_BIN_EXE_agentos"))
        .args(["window", "--data-dir"])
        .arg(dir)
        .args(args)
        .env_remove("CCC_API_KEY")
        .env("AGENTOS_DATA_DIR", data)
        .env("AGENTOS_CCC_BASE_URL", ccc)
        .output()
        .unwrap_or_else(|e| panic!("agentos: {e}"))
}

/// The reference's observed preview; only the claude Providers line differs, by the numerator
/// fix: claude's one window has features 2 and capacity Δall-models 0 (not usable), so its
/// features leave the numerator (0, not 2) and are shown apart. codex 3 / 18 pp = 0.1667 →
/// 0.17 and glm 1 / 118 prompts = 0.0085 → 0.01 have no window without capacity: unchanged.
const OBSERVED: &str = "\
Windows: W0-01
Anomalies: 0 (see anomalies.jsonl)
Providers:
  - claude: features=0, capacity=0 pp, efficiency=n/a, ci=n/a, n=0, power=n/a (not counted: 2 features of 1 window without usable capacity)
  - codex: features=3, capacity=18 pp, efficiency=0.17, ci=n/a, n=1, power=n/a
  - glm: features=1, capacity=118 prompts, efficiency=0.01, ci=n/a, n=1, power=n/a
Outcome: quality=4.0, outcome=pass
Notes: n1
Churn:
  - provider=multi window=W0-01 method=m1: files=0, +0/-0 (net=0), per-feature=0.00
Subagent Proxy:
  - routed=50% (events=8), latency=320 ms p50 / 537 ms p95, errors=12.5%
ccusage:
  - weekly: percent_used=9.2% tokens=987654321 reset=2025-10-25T21:11:00Z
  - daily: latest=2025-10-19 tokens=123456 percent=12.5% reset=2025-10-20T21:11:00Z
  - session: count=51 tokens=7372723263 latest=2025-10-19T06:32:52.714Z
Snapshots:
  - claude: after, before (source=ingest, notes=hello)
  - codex: after, before (source=ingest, notes=n/a)
";

#[test]
fn preview_prints_the_reference_observed_preview_with_the_numerator_fix() {
    let s = Scratch::new();
    let dir = s.path().join("live");
    observed_store(&dir);
    let out = agentos(&dir, &agentos_testkit::refused_url(), &["preview", "--no-ccc"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), OBSERVED);
    assert_eq!(text(&out.stderr), "");
    // The same with --window W0-01.
    let out =
        agentos(&dir, &agentos_testkit::refused_url(), &["preview", "--no-ccc", "--window", W]);
    assert_eq!(text(&out.stdout), OBSERVED);
}

#[test]
fn preview_without_windows_says_so_even_with_snapshots() {
    let s = Scratch::new();
    let dir = s.path().join("live");
    observed_store(&dir);
    let out = agentos(&dir, &agentos_testkit::refused_url(), &["preview", "--window", "W0-02"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "no windows recorded\n");
    std::fs::remove_file(dir.join("windows.jsonl")).unwrap_or_else(|e| panic!("{e}"));
    let out = agentos(&dir, &agentos_testkit::refused_url(), &["preview"]);
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), "no windows recorded\n".to_owned())
    );
}

#[test]
fn preview_with_ccc_down_says_so_in_one_line_and_prints_the_rest() {
    let s = Scratch::new();
    let dir = s.path().join("live");
    observed_store(&dir);
    let url = agentos_testkit::refused_url();
    let out = agentos(&dir, &url, &["preview"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let rest = stdout.strip_prefix(OBSERVED).unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(rest.lines().count(), 1, "{rest}");
    assert!(rest.starts_with(&format!("CCC at {url}: not reachable (")), "{rest}");
    assert!(rest.ends_with("), showing local data only\n"), "{rest}");
}

#[test]
fn preview_with_ccc_up_adds_a_line_per_provider_and_model() {
    let s = Scratch::new();
    let dir = s.path().join("live");
    observed_store(&dir);
    let ccc = agentos_testkit::FakeCcc::from_captures();
    let out = agentos(&dir, &ccc.url(), &["preview"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let rest = stdout.strip_prefix(OBSERVED).unwrap_or_else(|| panic!("{stdout}"));
    assert!(rest.starts_with(&format!("CCC at {} (asked ", ccc.url())), "{rest}");
    let capture = |name: &str| -> Value {
        serde_json::from_slice(&agentos_testkit::fake_ccc::capture(name))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let (usage, quotas) = (capture("v1_usage.json"), capture("v1_quotas.json"));
    let models = usage["models"].as_object().cloned().unwrap_or_default();
    assert_eq!(rest.lines().count(), 1 + models.len(), "{rest}");
    for (model, v) in &models {
        // The provider is the quotas config's; a model it does not configure is "unknown".
        let provider =
            quotas["config"]["models"][model.as_str()]["provider"].as_str().unwrap_or("unknown");
        let line = rest
            .lines()
            .find(|l| l.starts_with(&format!("  - {provider}/{model}: ")))
            .unwrap_or_else(|| panic!("{provider}/{model}: {rest}"));
        let f = |p: &[&str]| p.iter().fold(&v.clone(), |v, k| &v[*k]).as_f64().unwrap_or(0.0);
        for want in [
            format!("rolling {:.1}%", 100.0 * f(&["rolling_pct"])),
            format!("weekly {:.1}%", 100.0 * f(&["weekly_pct"])),
            format!("ELR {:.1} tok/s", f(&["speeds", "rolling", "out_elr_tps"])),
            format!("dirty {:.1} tok/s", f(&["speeds", "rolling", "out_dirty_tps"])),
            format!(
                "TTFT p50 {:.0} ms / p90 {:.0} ms",
                f(&["speeds", "ttft_ms", "p50"]),
                f(&["speeds", "ttft_ms", "p90"])
            ),
            "fallbacks=n/a (no ccc watch file)".to_owned(),
        ] {
            assert!(line.contains(&want), "{want}: {line}");
        }
        let block = v["block"].as_bool().unwrap_or(false);
        assert_eq!(line.contains("state=block"), block, "{line}");
    }
    // The tokens-limited model's weekly use is against its token quota.
    let haiku = rest.lines().find(|l| l.contains("/claude-haiku-4.5:")).unwrap_or_default();
    assert!(haiku.contains("tokens)") && haiku.contains("rolling 15.0% (150 of "), "{haiku}");
}

#[test]
fn preview_json_carries_the_same_content() {
    let s = Scratch::new();
    let dir = s.path().join("live");
    observed_store(&dir);
    let url = agentos_testkit::refused_url();
    let out = agentos(&dir, &url, &["preview", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let p = &v["preview"];
    assert_eq!(p["windows"], json!([W]));
    assert_eq!(p["providers"][0]["provider"], "claude");
    assert_eq!(p["providers"][0]["unmeasured_features"], 2.0);
    assert_eq!(p["providers"][1]["features"], 3.0);
    assert_eq!(p["providers"][1]["capacity"], 18.0);
    assert_eq!(p["outcome"], json!([{"window": W, "quality": 4.0, "outcome": "pass"}]));
    assert_eq!(p["notes"], "n1");
    assert_eq!(p["snapshots"][0]["notes"], json!(["hello"]));
    assert!(v["ccc"]["error"].is_string(), "{v}");
}

#[test]
fn the_tracker_dir_is_data_dir_tracker_unless_window_names_one() {
    let s = Scratch::new();
    observed_store(&s.path().join("tracker"));
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_agentos"))
            .args(args)
            .env_remove("AGENTOS_DATA_DIR")
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        text(&out.stdout)
    };
    let data = s.path().to_str().unwrap_or_default().to_owned();
    let tracker = format!("{data}/tracker");
    // `--data-dir` before `window` is AgentOS's data dir: its tracker/ holds the files.
    assert_eq!(run(&["--data-dir", &data, "window", "preview", "--no-ccc"]), OBSERVED);
    // After `window` it is the tracker's own directory (the Python layout), as it is.
    assert_eq!(run(&["window", "--data-dir", &tracker, "preview", "--no-ccc"]), OBSERVED);
    assert_eq!(
        run(&["window", "--data-dir", &data, "preview", "--no-ccc"]),
        "no windows recorded\n"
    );
}

/// The reference's observed preview reproduced from the command sequence itself (§7.3.4: the
/// same ingests, `complete`, `churn HEAD..HEAD`), written by the real commands rather than by
/// hand: the same text as [`OBSERVED`].
#[test]
fn the_observed_command_sequence_previews_as_the_reference() {
    let s = Scratch::new();
    let dir = s.path().join("live");
    let repo = agentos_testkit::git_repo::Repo::new();
    repo.commit_text(1_760_000_000, "init", "a.txt", "a\n");
    let ledger = s.path().join("ledger.csv");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_agentos"))
            .args(["window", "--data-dir"])
            .arg(&dir)
            .args(args)
            .current_dir(repo.root())
            .env_remove("CCC_API_KEY")
            .env("AGENTOS_DATA_DIR", s.path())
            .env("AGENTOS_CCC_BASE_URL", agentos_testkit::refused_url())
            .output()
            .unwrap_or_else(|e| panic!("agentos: {e}"));
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    let file = |rel: &str| format!("{}/../../fixtures/tracker/{rel}", env!("CARGO_MANIFEST_DIR"));
    let ingest = |source: &str, extra: &[&str], rel: &str| {
        let f = file(rel);
        let mut args = vec!["ingest", source, "--window", W];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--file", &f]);
        run(&args);
    };
    ingest("codex", &["--phase", "before"], "codex/alt_reset_64_0.txt");
    ingest("codex", &["--phase", "after"], "codex/wide_status_82_1.txt");
    ingest("claude", &["--phase", "before"], "claude/usage_wide_90_1_0.txt");
    ingest("claude", &["--phase", "after", "--notes", "hello"], "claude/usage_narrow_90_1_0.txt");
    ingest("glm", &[], "glm/ccusage_sample.json");
    ingest("proxy-telemetry", &[], "proxy/telemetry_sample.jsonl");
    ingest("claude-monitor", &[], "claude_monitor/realtime_sample.txt");
    ingest("codex-ccusage", &["--scope", "session"], "ccusage/codex_sessions_sample.json");
    ingest("codex-ccusage", &["--scope", "daily"], "ccusage/codex_daily_sample.json");
    ingest("codex-ccusage", &["--scope", "weekly"], "ccusage/codex_weekly_sample.json");
    run(&[
        "complete",
        "--window",
        W,
        "--codex-features",
        "3",
        "--claude-features",
        "2",
        "--glm-features",
        "1",
        "--quality",
        "4",
        "--outcome",
        "pass",
        "--notes",
        "n1",
        "--methodology",
        "m1",
    ]);
    let ledger_arg = ledger.to_str().unwrap_or_default();
    run(&[
        "churn",
        "--window",
        W,
        "--commit-start",
        "HEAD",
        "--commit-end",
        "HEAD",
        "--ledger-path",
        ledger_arg,
    ]);
    assert_eq!(run(&["preview", "--no-ccc"]), OBSERVED);
}
