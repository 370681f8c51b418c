//! `agentos window …` run as the real binary: which directory `--data-dir` names, the
//! reference's output lines and error messages with the project's exit codes, concurrent
//! ingest processes, a Python tracker directory, corrupt lines reported as `file:line`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::rollup::{Scratch, text};

fn fixture(rel: &str) -> String {
    format!("{}/../../fixtures/tracker/{rel}", env!("CARGO_MANIFEST_DIR"))
}

/// Run `agentos ARGS` with `AGENTOS_DATA_DIR` set to `data` (when given) and `stdin`.
fn run(args: &[&str], data: Option<&Path>, stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentos"));
    cmd.args(args)
        .env_remove("AGENTOS_DATA_DIR")
        .env("AGENTOS_CCC_BASE_URL", "http://127.0.0.1:9")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(d) = data {
        cmd.env("AGENTOS_DATA_DIR", d);
    }
    let mut child = cmd.spawn().expect("spawn agentos");
    if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
        // A command that rejects its arguments exits without reading standard input, so the
        // pipe may already be closed: that is an outcome the caller asserts on, not a failure.
        match input.write_all(text.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("write stdin: {e}"),
            _ => {}
        }
    }
    child.wait_with_output().expect("wait")
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}\n{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

/// Exit code and stderr of a failed run.
fn failed(out: &Output) -> (i32, String) {
    assert!(!out.status.success(), "{}", text(&out.stdout));
    (out.status.code().unwrap_or(-1), text(&out.stderr))
}

fn lines(p: &Path) -> Vec<Value> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

#[test]
fn data_dir_after_window_is_the_tracker_dir_before_it_the_agentos_data_dir() {
    let s = Scratch::new();
    let codex = fixture("codex/alt_reset_64_0.txt");
    let live = s.path().join("data/week0/live");
    let live_s = live.to_str().unwrap();
    let args = ["ingest", "codex", "--window", "W0-01", "--phase", "before", "--file", &codex];
    // `agentos window --data-dir DIR ingest …`
    let mut a = vec!["window", "--data-dir", live_s];
    a.extend_from_slice(&args);
    assert_eq!(ok(&run(&a, None, None)), "stored codex before snapshot for W0-01 (errors=[])\n");
    // `agentos window ingest … --data-dir DIR`
    let mut b = vec!["window"];
    b.extend_from_slice(&args);
    b.extend_from_slice(&["--data-dir", live_s]);
    ok(&run(&b, None, None));
    assert_eq!(lines(&live.join("snapshots.jsonl")).len(), 2);
    assert!(!live.join("tracker").exists());
    // `agentos --data-dir D window …` → D/tracker
    let d = s.path().join("agentos");
    let mut c = vec!["--data-dir", d.to_str().unwrap(), "window"];
    c.extend_from_slice(&args);
    ok(&run(&c, None, None));
    assert_eq!(lines(&d.join("tracker/snapshots.jsonl")).len(), 1);
    assert!(!d.join("snapshots.jsonl").exists());
    // AGENTOS_DATA_DIR → <it>/tracker
    let env_dir = s.path().join("env");
    let mut e = vec!["window"];
    e.extend_from_slice(&args);
    ok(&run(&e, Some(&env_dir), None));
    assert_eq!(lines(&env_dir.join("tracker/snapshots.jsonl")).len(), 1);
    // Both: the one after `window` wins.
    let both = s.path().join("both");
    let mut f =
        vec!["--data-dir", d.to_str().unwrap(), "window", "--data-dir", both.to_str().unwrap()];
    f.extend_from_slice(&args);
    ok(&run(&f, None, None));
    assert_eq!(lines(&both.join("snapshots.jsonl")).len(), 1);
    assert_eq!(lines(&d.join("tracker/snapshots.jsonl")).len(), 1);
}

#[test]
fn the_observed_sequence_finalizes_and_audits_as_the_reference_says() {
    let s = Scratch::new();
    let dir = s.path().join("live");
    let w = |args: &[&str], stdin: Option<&str>| {
        let mut all = vec!["window", "--data-dir", dir.to_str().unwrap()];
        all.extend_from_slice(args);
        run(&all, None, stdin)
    };
    let pane = |rel: &str| std::fs::read_to_string(fixture(rel)).unwrap();
    ok(&w(
        &["ingest", "codex", "--window", "W0-01", "--phase", "before", "--stdin"],
        Some(&pane("codex/alt_reset_64_0.txt")),
    ));
    ok(&w(
        &[
            "ingest",
            "codex",
            "--window",
            "W0-01",
            "--phase",
            "after",
            "--file",
            &fixture("codex/wide_status_82_1.txt"),
        ],
        None,
    ));
    ok(&w(
        &[
            "ingest",
            "claude",
            "--window",
            "W0-01",
            "--phase",
            "before",
            "--notes",
            "hello",
            "--file",
            &fixture("claude/usage_wide_90_1_0.txt"),
        ],
        None,
    ));
    ok(&w(
        &[
            "ingest",
            "claude",
            "--window",
            "W0-01",
            "--phase",
            "after",
            "--file",
            &fixture("claude/usage_narrow_90_1_0.txt"),
        ],
        None,
    ));
    assert_eq!(
        ok(&w(
            &["ingest", "glm", "--window", "W0-01", "--file", &fixture("glm/ccusage_sample.json")],
            None
        )),
        "stored glm prompts for W0-01 (prompts=118)\n"
    );
    assert_eq!(
        ok(&w(
            &[
                "ingest",
                "proxy-telemetry",
                "--window",
                "W0-01",
                "--file",
                &fixture("proxy/telemetry_sample.jsonl")
            ],
            None
        )),
        "stored proxy telemetry for W0-01 (events=8, routed=50%)\n"
    );
    assert_eq!(
        ok(&w(
            &[
                "ingest",
                "codex-ccusage",
                "--window",
                "W0-01",
                "--scope",
                "daily",
                "--file",
                &fixture("ccusage/codex_daily_sample.json")
            ],
            None
        )),
        "stored codex ccusage daily summary for W0-01 (tokens=777777)\n"
    );
    assert_eq!(
        ok(&w(
            &[
                "complete",
                "W0-01",
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
                "m1"
            ],
            None
        )),
        "finalized window W0-01 with providers: codex, claude\n"
    );
    ok(&w(&["window-finalize", "--window", "W0-01", "--quality-score", "2.5"], None));
    let rows = lines(&dir.join("windows.jsonl"));
    assert_eq!(
        rows[0]["providers"]["codex"]["delta"],
        serde_json::json!({"fiveh_pct": 1, "weekly_pct": 18})
    );
    assert_eq!(
        (rows[1]["quality_score"].as_f64(), rows[1]["quality"].as_f64()),
        (Some(2.5), Some(2.5))
    );
    let audit = ok(&w(&["window-audit", "--window", "W0-01"], None));
    assert!(
        audit.starts_with(
            "Window Audit: W0-01\nSnapshots:\n  - claude/after: entries=1, duplicates=0, canonical="
        ),
        "{audit}"
    );
    assert!(audit.contains("\nFinalize rows: entries=2, duplicates=1, canonical="), "{audit}");
    assert!(audit.ends_with("\nAnomalies: 0\nChurn rows: 0\n"), "{audit}");
    let doc: Value =
        serde_json::from_str(&ok(&w(&["audit", "--window", "W0-01", "--format", "json"], None)))
            .unwrap();
    let same: Value = serde_json::from_str(&ok(&w(
        &["audit", "--window", "W0-01", "--format", "text", "--json"],
        None,
    )))
    .unwrap();
    assert_eq!(doc, same, "--json overrides --format");
    assert_eq!(doc["finalize"]["entries"], 2);
    assert_eq!(doc["anomalies"], serde_json::json!({"count": 0}));
    assert_eq!(doc["snapshots"].as_array().unwrap().len(), 4);
    assert_eq!(ok(&w(&["audit", "--window", "W0-NONE"], None)), "no records found for W0-NONE\n");
}

#[test]
fn errors_are_one_line_with_the_project_exit_codes() {
    let s = Scratch::new();
    let dir = s.path().join("live");
    let d = dir.to_str().unwrap();
    let w = |args: &[&str], stdin: Option<&str>| {
        let mut all = vec!["window", "--data-dir", d];
        all.extend_from_slice(args);
        run(&all, None, stdin)
    };
    let codex = fixture("codex/alt_reset_64_0.txt");
    let cases: Vec<(Vec<&str>, Option<&str>, i32, &str)> = vec![
        (
            vec!["ingest", "codex", "--window", "W", "--phase", "before"],
            None,
            2,
            "error: provide --stdin or --file\n",
        ),
        (
            vec!["ingest", "codex", "--window", "W", "--stdin", "--file", &codex],
            Some("x"),
            2,
            "error: choose one input source\n",
        ),
        (
            vec!["ingest", "codex", "--window", "W", "--stdin"],
            Some(" \n\t "),
            2,
            "error: no content received\n",
        ),
        (
            vec!["ingest", "codex", "--window", "W", "--file", &codex],
            None,
            1,
            "error: codex/claude ingest requires --phase\n",
        ),
        (
            vec!["override", "codex", "--window", "W", "--phase", "before", "--session-pct", "3"],
            None,
            1,
            "error: codex override requires --fiveh-pct and/or --weekly-pct\n",
        ),
        (
            vec!["override", "claude", "--window", "W", "--phase", "before", "--weekly-pct", "82"],
            None,
            1,
            "error: claude override requires at least one percentage flag\n",
        ),
        (
            vec!["finalize", "--window", "W0-09"],
            None,
            1,
            "error: no snapshots found for window W0-09\n",
        ),
        (
            vec!["alias", "end", "codex", "--file", &codex],
            None,
            1,
            "error: no BEFORE snapshot found for codex in W0-01; run start first\n",
        ),
        (
            vec!["alias", "end", "glm", "--stdin"],
            Some("{}"),
            1,
            "error: glm alias end missing baseline; run zs before ze or provide --window\n",
        ),
        (
            vec!["alias", "cross", "glm", "--stdin"],
            Some("{}"),
            1,
            "error: glm alias cross missing baseline; run zs before zx or provide --window\n",
        ),
        (vec!["alias", "delete", "codex", "--index", "0"], None, 1, "error: index must be >= 1\n"),
        (
            vec!["alias", "delete", "codex", "--index", "2"],
            None,
            1,
            "error: no matching snapshots to delete\n",
        ),
        (vec!["alias", "delete", "glm"], None, 1, "error: no matching snapshots to delete\n"),
    ];
    for (args, stdin, code, stderr) in cases {
        let (got, err) = failed(&w(&args, stdin));
        assert_eq!((got, err.as_str()), (code, stderr), "{args:?}");
    }
    ok(&w(
        &["override", "codex", "--window", "W0-09", "--phase", "before", "--weekly-pct", "3"],
        None,
    ));
    let (code, err) = failed(&w(&["finalize", "--window", "W0-09"], None));
    assert_eq!(
        (code, err.as_str()),
        (1, "error: missing before/after snapshots for providers: codex\n")
    );
    // A bad flag value is clap's usage error.
    let (code, _) = failed(&w(&["ingest", "nope", "--window", "W", "--stdin"], Some("x")));
    assert_eq!(code, 2);
    assert!(!dir.join("windows.jsonl").exists());
}

#[test]
fn alias_runs_the_state_machine_from_the_command_line() {
    let s = Scratch::new();
    let dir = s.path().join("live");
    let d = dir.to_str().unwrap();
    let w = |args: &[&str], stdin: Option<&str>| {
        let mut all = vec!["window", "--data-dir", d];
        all.extend_from_slice(args);
        run(&all, None, stdin)
    };
    let before = fixture("codex/alt_reset_64_0.txt");
    let after = fixture("codex/wide_status_82_1.txt");
    assert_eq!(
        ok(&w(&["alias", "start", "codex", "--file", &before], None)),
        "stored codex before snapshot for W0-01 (awaiting end)\n"
    );
    assert_eq!(
        ok(&w(&["alias", "cross", "codex", "--file", &after], None)),
        "stored codex after snapshot for W0-01 and seeded before snapshot for W0-02\n"
    );
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("state/codex.json")).unwrap())
            .unwrap();
    assert_eq!(
        (&state["current_window"], &state["last_phase"]),
        (&Value::from("W0-02"), &Value::from("before"))
    );
    // --state-dir keeps another agent apart.
    let other = s.path().join("agent2");
    ok(&w(
        &[
            "alias",
            "start",
            "codex",
            "--file",
            &before,
            "--state-dir",
            other.to_str().unwrap(),
            "--notes",
            "AGENT_ID=2",
        ],
        None,
    ));
    assert!(other.join("codex.json").exists());
    let out = ok(&w(
        &["alias", "delete", "codex", "--phase", "before", "--window", "W0-02", "--index", "2"],
        None,
    ));
    assert!(out.starts_with("removed codex before snapshot for W0-02 (captured_at="), "{out}");
    let left: Vec<String> = lines(&dir.join("snapshots.jsonl"))
        .iter()
        .map(|r| {
            format!(
                "{}/{}/{}",
                r["window"].as_str().unwrap(),
                r["phase"].as_str().unwrap(),
                r["notes"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        left,
        ["W0-01/before/alias:start", "W0-01/after/alias:cross-end", "W0-02/before/AGENT_ID=2"]
    );
    assert_eq!(
        ok(&w(
            &["alias", "start", "glm", "--stdin"],
            Some("{\"blocks\": [{\"prompts_used\": 10}]}")
        )),
        "stored glm baseline for W0-01 (prompts=10)\n"
    );
    assert_eq!(
        ok(&w(&["alias", "end", "glm", "--stdin"], Some("{\"blocks\": [{\"prompts_used\": 25}]}"))),
        "stored glm delta for W0-01 (baseline=10, prompts=15)\n"
    );
}

#[test]
fn concurrent_ingest_processes_lose_and_tear_nothing() {
    let s = Scratch::new();
    let dir = s.path().join("live");
    let d = dir.to_str().unwrap().to_owned();
    let pane = fixture("codex/wide_status_82_1.txt");
    let workers: Vec<_> = (0..8)
        .map(|p| {
            let d = d.clone();
            let pane = pane.clone();
            std::thread::spawn(move || {
                for i in 0..12 {
                    let notes = format!("p{p}-{i}");
                    let args = [
                        "window",
                        "--data-dir",
                        &d,
                        "ingest",
                        "codex",
                        "--window",
                        "W0-01",
                        "--phase",
                        "after",
                        "--notes",
                        &notes,
                        "--file",
                        &pane,
                    ];
                    ok(&run(&args, None, None));
                }
            })
        })
        .collect();
    for t in workers {
        t.join().unwrap();
    }
    let rows = lines(&dir.join("snapshots.jsonl"));
    let mut notes: Vec<String> =
        rows.iter().map(|r| r["notes"].as_str().unwrap().to_owned()).collect();
    notes.sort();
    notes.dedup();
    assert_eq!(notes.len(), 96);
    let audit = ok(&run(&["window", "--data-dir", &d, "audit", "--window", "W0-01"], None, None));
    assert!(audit.contains("codex/after: entries=96, duplicates=95"), "{audit}");
}

#[test]
fn a_corrupt_store_line_is_reported_as_file_and_line_and_skipped() {
    let s = Scratch::new();
    let dir = s.path().join("live");
    std::fs::create_dir_all(&dir).unwrap();
    let snaps = dir.join("snapshots.jsonl");
    std::fs::write(&snaps, "{\"window\": \"W0-01\", \"provider\": \"codex\", \"phase\": \"before\", \"captured_at\": \"2025-10-19T01:30:16+00:00\", \"parsed\": {\"weekly_pct\": 10}}\n{broken\n").unwrap();
    let d = dir.to_str().unwrap();
    let out = run(
        &[
            "window",
            "--data-dir",
            d,
            "alias",
            "end",
            "codex",
            "--window",
            "W0-01",
            "--file",
            &fixture("codex/wide_status_82_1.txt"),
        ],
        None,
        None,
    );
    assert_eq!(ok(&out), "stored codex after snapshot for W0-01 (ready to finalize)\n");
    assert_eq!(
        text(&out.stderr),
        format!("warning: {}:2: not valid JSON (syntax error); line skipped\n", snaps.display())
    );
    let out = run(&["window", "--data-dir", d, "finalize", "--window", "W0-01"], None, None);
    assert_eq!(ok(&out), "finalized window W0-01 with providers: codex\n");
    assert!(text(&out.stderr).contains(":2: not valid JSON"));
    let row = &lines(&dir.join("windows.jsonl"))[0];
    assert_eq!(row["providers"]["codex"]["delta"]["weekly_pct"], 72);
}
