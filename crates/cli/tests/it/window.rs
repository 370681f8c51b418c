//! `agentos window preview|advise|churn` through the built binary on a tracker directory
//! written here the way the tracker's commands write it (reference §7.3.1, §7.3.3, §7.3.5),
//! from the Python tracker's fixtures; expected text from the reference (§7.3.4's observed
//! preview) and hand calculations, never from the code under test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use agentos_tracker::ccusage::CcusageScope;
use serde_json::{Value, json};

use crate::rollup::{Scratch, text};

const W: &str = "W0-01";

fn fixture(rel: &str) -> String {
    let path = format!("{}/../../fixtures/tracker/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn to_value(v: impl serde::Serialize) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| panic!("{e}"))
}

/// Append rows to `dir/file` as the tracker does: the record, then the two stamps.
fn append(dir: &Path, file: &str, rows: &[Value]) {
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

fn agentos(dir: &Path, ccc: &str, args: &[&str]) -> Output {
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

/// Three finalized windows: codex (f, Δweekly) = (2, 10), (4, 8), (1, 6) — the reference's
/// §3.3 vector: E = 7/24 = 0.29, CI [0.17, 0.41]; claude (1, 5), (3, 5), (0, 2): E = 4/12 =
/// 0.33, residuals −2/3, 4/3, −2/3, var = (8/3)/2, SE = √(4/3)/12 = 0.0962, CI 0.33 ± 0.189 =
/// [0.14, 0.52]. Snapshots: codex latest weekly 52 / 5h 10 (an older one 30), claude latest
/// all-models 93 / session 20.
fn advise_store(dir: &Path) {
    let window = |w: &str, at: &str, f: (i64, i64), d: (i64, i64)| {
        json!({"window": w, "finalized_at": at, "features": {"codex": f.0, "claude": f.1},
            "quality_score": 1.0, "quality": 1.0, "outcome": "pass", "notes": "",
            "providers": {"codex": {"delta": {"fiveh_pct": null, "weekly_pct": d.0}},
                          "claude": {"delta": {"session_pct": null, "all_models_pct": d.1}}}})
    };
    append(
        dir,
        "windows.jsonl",
        &[
            window("W1", "2025-10-19T09:00:00+00:00", (2, 1), (10, 5)),
            window("W2", "2025-10-19T11:00:00+00:00", (4, 3), (8, 5)),
            window("W3", "2025-10-19T13:00:00+00:00", (1, 0), (6, 2)),
        ],
    );
    let snap = |p: &str, at: &str, parsed: Value| {
        json!({"window": "W3", "provider": p, "phase": "after", "captured_at": at, "notes": "",
            "raw_text": "", "parsed": parsed, "source": "ingest"})
    };
    append(
        dir,
        "snapshots.jsonl",
        &[
            snap(
                "codex",
                "2025-10-19T12:00:00+00:00",
                json!({"fiveh_pct": 10, "weekly_pct": 52, "errors": []}),
            ),
            snap(
                "codex",
                "2025-10-19T08:00:00+00:00",
                json!({"fiveh_pct": 0, "weekly_pct": 30, "errors": []}),
            ),
            snap(
                "claude",
                "2025-10-19T11:00:00+00:00",
                json!({"session_pct": 20, "all_models_pct": 93, "errors": []}),
            ),
        ],
    );
}

#[test]
fn advise_ranks_by_room_before_the_buffer_then_efficiency() {
    let s = Scratch::new();
    let dir = s.path().join("live");
    advise_store(&dir);
    let url = agentos_testkit::refused_url();
    let out = agentos(&dir, &url, &["advise", "--no-ccc", "--now", "2025-10-19T15:30:00Z"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // claude is the more efficient (0.33 > 0.29) but at 93 pp it is inside the buffer: hold;
    // codex has 90 − 52 = 38 pp before the buffer and 100 − 10 = 90 pp in its 5-hour window.
    assert_eq!(
        text(&out.stdout),
        "\
Inputs (as of 2025-10-19T15:30:00Z):
  - windows: 3 finalized, latest 2025-10-19T13:00:00+00:00 (2h 30m ago)
  - codex: snapshot W3 after of 2025-10-19T12:00:00+00:00 (3h 30m ago): weekly 52 pp, 5h 10 pp
  - claude: snapshot W3 after of 2025-10-19T11:00:00+00:00 (4h 30m ago): weekly 93 pp, 5h 20 pp
  - CCC: not asked
Advice (10-point weekly buffer from 90 pp; advice only, CCC's configuration is not changed):
  1. codex: 0.29 features/pp (ci [0.17, 0.41], n=3), 38 pp left before the buffer, 5h: 90 pp left — schedule
  2. claude: 0.33 features/pp (ci [0.14, 0.52], n=3), weekly 93 pp used: inside the buffer — hold
"
    );
    let out = agentos(&dir, &url, &["advise", "--no-ccc", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["advice"][0]["provider"], "codex");
    assert_eq!(v["advice"][0]["verdict"], "schedule");
    assert_eq!(v["advice"][0]["weekly_room_pp"], 38.0);
    assert_eq!(v["advice"][1]["verdict"], "hold");
}

#[test]
fn advise_takes_ccc_use_over_snapshots_when_ccc_answers() {
    let s = Scratch::new();
    let dir = s.path().join("live");
    advise_store(&dir);
    // CCC's claude-haiku-force429 (no quotas entry: anthropic by its name) at 50 % weekly and
    // 30 % rolling, above the captured claude-sonnet-4.5 (quotas provider `anth`, not a known
    // name: anthropic by its name; 0.0001 % weekly, 0.06 % rolling): the most used counts.
    // claude-haiku-4.5 is configured under zai (glm's provider, not advised here).
    let mut usage: Value =
        serde_json::from_slice(&agentos_testkit::fake_ccc::capture("v1_usage.json"))
            .unwrap_or_else(|e| panic!("{e}"));
    usage["models"]["claude-haiku-force429"]["weekly_pct"] = json!(0.5);
    usage["models"]["claude-haiku-force429"]["rolling_pct"] = json!(0.3);
    let ccc = agentos_testkit::FakeCcc::from_captures();
    ccc.set("/v1/usage", agentos_testkit::fake_ccc::ccp_json(200, usage.to_string().as_bytes()));
    let out = agentos(&dir, &ccc.url(), &["advise", "--now", "2025-10-19T15:30:00Z"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // claude: 90 − 50 = 40 pp before the buffer, 100 − 30 = 70 pp in 5 h: schedule, and it
    // ranks first (0.33 > 0.29); codex keeps its snapshot (no openai model in CCC).
    let advice: Vec<&str> =
        stdout.lines().skip_while(|l| !l.starts_with("Advice")).skip(1).collect();
    assert_eq!(
        advice,
        [
            "  1. claude: 0.33 features/pp (ci [0.14, 0.52], n=3), 40 pp left before the buffer, 5h: 70 pp left — schedule",
            "  2. codex: 0.29 features/pp (ci [0.17, 0.41], n=3), 38 pp left before the buffer, 5h: 90 pp left — schedule",
        ],
        "{stdout}"
    );
    assert!(stdout.contains("  - claude: CCC now (claude-haiku-force429, claude-sonnet-4.5): weekly 50 pp, 5h 30 pp\n"), "{stdout}");
    assert!(stdout.contains(&format!("  - CCC at {}: 3 models, asked ", ccc.url())), "{stdout}");
}

/// `git rev-parse REF` in `repo`.
fn sha(repo: &agentos_testkit::git_repo::Repo, r: &str) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo.root().as_std_path())
        .args(["rev-parse", r])
        .output()
        .unwrap_or_else(|e| panic!("git: {e}"));
    text(&out.stdout).trim().to_owned()
}

/// `agentos window --data-dir dir args…` run in `cwd`.
fn agentos_in(cwd: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_agentos"))
        .current_dir(cwd)
        .args(["window", "--data-dir"])
        .arg(dir)
        .args(args)
        .env("AGENTOS_DATA_DIR", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap_or_else(|e| panic!("agentos: {e}"))
}

fn churn_window(dir: &Path, start: Option<&str>, end: Option<&str>) {
    append(
        dir,
        "windows.jsonl",
        &[json!({"window": W, "finalized_at": "2025-10-19T10:00:00+00:00",
        "features": {"codex": 3, "claude": 1, "glm": 0}, "quality_score": 1.0, "quality": 1.0,
        "outcome": "pass", "notes": "", "providers": {}, "methodology": "m1",
        "commit_start": start, "commit_end": end})],
    );
}

#[test]
fn churn_counts_the_window_range_and_appends_the_record_and_the_ledger() {
    let repo = agentos_testkit::git_repo::Repo::new();
    repo.commit_text(1_000, "base", "a.txt", "1\n2\n3\n");
    let first = sha(&repo, "HEAD");
    repo.commit_text(2_000, "edit", "a.txt", "1\nX\n3\n4\n");
    repo.commit_text(3_000, "add", "b.txt", "b\n");
    repo.commit_text(4_000, "other", "c.txt", "c\nc\n");
    let last = sha(&repo, "HEAD");
    let s = Scratch::new();
    let dir = s.path().join("live");
    churn_window(&dir, Some(&first), Some(&last));
    let ledger = s.path().join("ledger.csv");
    let root = repo.root().as_std_path();
    let out = agentos_in(
        root,
        &dir,
        &["churn", "--window", W, "--notes", " n,1 ", "--paths", "a.txt", "b.txt", "--ledger-path"],
    );
    // `--ledger-path` needs its value: a usage error, nothing written.
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let ledger_arg = ledger.to_str().unwrap_or_default();
    let out = agentos_in(
        root,
        &dir,
        &[
            "churn",
            "--window",
            W,
            "--notes",
            " n,1 ",
            "--ledger-path",
            ledger_arg,
            "--paths",
            "a.txt",
            "b.txt",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // a.txt: 2 → X and + 4 (+2/−1), b.txt +1; c.txt is outside --paths: 2 files, +3/−1,
    // net 2; features 3 + 1 + 0 = 4, per feature 0.50; codex and claude have features: multi.
    assert_eq!(
        text(&out.stdout),
        "churn W0-01: files=2 +3/-1 net=2 per-feature=0.50\nsee also: agentos churn (the share of feature-tagged commits' lines rewritten within 7/14/28 days)\n"
    );
    let rec = std::fs::read_to_string(dir.join("churn.jsonl")).unwrap_or_default();
    let want_prefix = format!(
        "{{\"window\":\"W0-01\",\"provider\":\"multi\",\"methodology\":\"m1\",\"commit_start\":\"{first}\",\"commit_end\":\"{last}\",\"files_changed\":2,\"insertions\":3,\"deletions\":1,\"net\":2,\"features\":4,\"normalized_churn\":0.5,\"captured_at\":\""
    );
    assert!(rec.starts_with(&want_prefix), "{rec}");
    assert!(
        rec.ends_with("\"notes\":\"n,1\",\"source\":\"churn\",\"paths\":[\"a.txt\",\"b.txt\"],\"schema_version\":\"1.0.0\",\"tool_version\":\"0.1.0\"}\n"),
        "{rec}"
    );
    let v: Value = serde_json::from_str(&rec).unwrap_or_else(|e| panic!("{e}"));
    let date = v["captured_at"].as_str().unwrap_or_default()[..10].to_owned();
    assert_eq!(
        std::fs::read_to_string(&ledger).unwrap_or_default(),
        format!(
            "date,window,provider,methodology,commit_start,commit_end,files_changed,insertions,deletions,net,features,normalized_churn,notes\r\n{date},W0-01,multi,m1,{first},{last},2,3,1,2,4,0.50,\"n,1; paths=a.txt,b.txt\"\r\n"
        )
    );
}

#[test]
fn churn_without_a_start_commit_is_skipped_and_says_why() {
    let repo = agentos_testkit::git_repo::Repo::new();
    repo.commit_text(1_000, "base", "a.txt", "1\n");
    let s = Scratch::new();
    let dir = s.path().join("live");
    churn_window(&dir, None, Some("HEAD"));
    let out = agentos_in(
        repo.root().as_std_path(),
        &dir,
        &["churn", "--window", W, "--provider", "codex"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("warn: missing commit_start \u{2014} skipping git diff\nchurn W0-01: skipped (decision=missing-commit-range)\n"),
        "{stdout}"
    );
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("churn.jsonl")).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (&v["commit_start"], &v["commit_end"], &v["provider"], &v["net"], &v["notes"]),
        (
            &json!(""),
            &json!("HEAD"),
            &json!("codex"),
            &json!(0),
            &json!("decision=missing-commit-range(commit_start)")
        )
    );
    let ledger = repo.root().join("docs/Ledgers/Churn_Ledger.csv");
    let csv = std::fs::read_to_string(ledger).unwrap_or_default();
    assert_eq!(csv.matches("\r\n").count(), 2, "{csv}");
    assert!(
        csv.ends_with(
            ",W0-01,codex,m1,,HEAD,0,0,0,0,4,0.00,decision=missing-commit-range(commit_start)\r\n"
        ),
        "{csv}"
    );
}

#[test]
fn churn_errors_are_one_line_each() {
    let repo = agentos_testkit::git_repo::Repo::new();
    repo.commit_text(1_000, "base", "a.txt", "1\n");
    let s = Scratch::new();
    let dir = s.path().join("live");
    churn_window(&dir, Some("nope"), None);
    let root = repo.root().as_std_path();
    let out = agentos_in(root, &dir, &["churn", "--window", "W0-09"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("error: no window summary found for W0-09"),
        "{}",
        text(&out.stderr)
    );
    let out = agentos_in(root, &dir, &["churn", "--window", W]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr), "error: unable to resolve commit 'nope'\n");
    let elsewhere = s.path().join("not-a-repo");
    std::fs::create_dir_all(&elsewhere).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_agentos"))
        .current_dir(&elsewhere)
        .args(["window", "--data-dir"])
        .arg(&dir)
        .args(["churn", "--window", W])
        .env("GIT_CEILING_DIRECTORIES", s.path())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("error: not inside a git repository"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.join("churn.jsonl").exists(), "nothing appended on an error");
}
