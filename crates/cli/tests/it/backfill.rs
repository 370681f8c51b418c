//! `agentos backfill --ccp-root`, run as the real binary against a generated CCP log tree
//! (expected numbers from the generator's own bookkeeping, `agentos_testkit::ccp_logs`).

use std::path::Path;
use std::process::{Command, Output};

use agentos_testkit::ccp_logs::CcpTree;
use serde_json::Value as Json;

use crate::rollup::{Scratch, text};

fn backfill(data: &Path, root: &Path, extra: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_agentos"));
    c.env_remove("AGENTOS_DATA_DIR").env("HOME", data);
    c.arg("--data-dir").arg(data).arg("backfill").arg("--ccp-root").arg(root);
    c.args(extra).output().unwrap()
}

fn json_of(out: &Output) -> Json {
    assert!(out.status.success(), "exit {:?}: {}", out.status, text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

#[test]
fn backfill_json_matches_the_generated_truth_and_a_rerun_writes_nothing() {
    let s = Scratch::new();
    let root = s.path().join("ccp");
    let tree = CcpTree::generate(&root, 250, 21).unwrap();
    let t = &tree.truth;
    let data = s.path().join("data");

    let dry = json_of(&backfill(&data, &root, &["--json", "--dry-run"]));
    assert_eq!(dry["requests"], t.requests);
    assert_eq!(dry["dry_run"], true);
    assert!(!data.join("events.jsonl").exists());

    let r = json_of(&backfill(&data, &root, &["--json"]));
    for (key, want) in [
        ("requests", t.requests),
        ("completed", t.completed),
        ("failed", t.failed),
        ("fallbacks", t.fallbacks),
        ("input_tokens", t.input_tokens),
        ("output_tokens", t.output_tokens),
        ("bad_lines", t.bad_lines),
        ("duplicate_files", t.duplicate_files),
        ("tokens_unknown", t.tokens_unknown),
    ] {
        assert_eq!(r[key], want, "{key}");
    }
    for (model, [req, failed, inp, out]) in &t.by_model {
        let m = &r["by_model"][model];
        assert_eq!(
            [&m["requests"], &m["failed"], &m["input_tokens"], &m["output_tokens"]],
            [req, failed, inp, out].map(|v| Json::from(*v)).each_ref(),
            "{model}"
        );
    }
    let days: std::collections::BTreeMap<String, u64> =
        serde_json::from_value(r["by_day"].clone()).unwrap();
    assert_eq!(&days, &t.by_day);
    assert!(r["files"].as_array().unwrap().iter().any(|f| f["action"] == "new"));
    assert!(r["bad"][0].as_str().unwrap().contains(".jsonl"));

    // The summary follows: one turn per request.
    let summary: Json =
        serde_json::from_slice(&std::fs::read(data.join("metrics_summary.json")).unwrap()).unwrap();
    assert_eq!(summary["turns"], t.requests);
    assert!(data.join("progress.log.md").exists() && data.join("trend.json").exists());

    let events = std::fs::read(data.join("events.jsonl")).unwrap();
    let again = json_of(&backfill(&data, &root, &["--json"]));
    assert_eq!(again["requests"], 0);
    assert_eq!(again["files_read"], 0);
    assert_eq!(std::fs::read(data.join("events.jsonl")).unwrap(), events);

    // The text report says the same numbers.
    let out = backfill(&data, &root, &[]);
    assert!(out.status.success());
    assert!(text(&out.stdout).starts_with("wrote 0 requests"), "{}", text(&out.stdout));
}

#[test]
fn usage_errors_exit_2_with_a_hint() {
    let s = Scratch::new();
    let data = s.path().join("data");
    let out = backfill(&data, &s.path().join("nowhere"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("is not a directory") && err.contains("--ccp-root names"), "{err}");

    let root = s.path().join("ccp");
    CcpTree::generate(&root, 30, 2).unwrap();
    let out = backfill(&data, &root, &["--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--since 2026-11-01"), "{}", text(&out.stderr));

    let out = backfill(&data, &root, &["--strict"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains(".jsonl.1:2: ") && err.contains("without --strict"), "{err}");
    assert!(!data.join("events.jsonl").exists());
}

#[test]
fn agentos_py_imports_the_python_event_log_and_rolls_it_up() {
    let s = Scratch::new();
    let py = s.path().join("py");
    std::fs::create_dir_all(&py).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/agentos-py/events/python_written.jsonl");
    std::fs::copy(fixture, py.join("windows.jsonl")).unwrap();
    let data = s.path().join("data");
    let mut c = Command::new(env!("CARGO_BIN_EXE_agentos"));
    c.env_remove("AGENTOS_DATA_DIR").env("HOME", &data);
    c.arg("--data-dir").arg(&data).args(["backfill", "--json", "--agentos-py"]).arg(&py);
    let r = json_of(&c.output().unwrap());
    // 9 events in the fixture: 3 sessions, 5 turns, 1 session_end (counted by hand).
    assert_eq!(r["agentos_py"]["events"], 9);
    assert!(r.get("requests").is_none(), "no CCP root given");
    let summary: Json =
        serde_json::from_slice(&std::fs::read(data.join("metrics_summary.json")).unwrap()).unwrap();
    assert_eq!(summary["turns"], 5);
    let again = json_of(&c.output().unwrap());
    assert_eq!(again["agentos_py"]["events"], 0);

    // Neither source named: a usage error.
    let mut c = Command::new(env!("CARGO_BIN_EXE_agentos"));
    c.arg("--data-dir").arg(&data).arg("backfill");
    assert_eq!(c.output().unwrap().status.code(), Some(2));
}

#[test]
fn a_saved_usage_snapshot_gives_the_summary_its_model_health() {
    let s = Scratch::new();
    let root = s.path().join("ccp");
    CcpTree::generate(&root, 20, 4).unwrap();
    let saved = root.join("results/usage");
    std::fs::create_dir_all(&saved).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ccp");
    std::fs::copy(fixtures.join("v1_usage.json"), saved.join("2026-11-20.json")).unwrap();
    let data = s.path().join("data");
    let r = json_of(&backfill(&data, &root, &["--json"]));
    let snaps = r["results"]["usage_snapshots"].as_array().unwrap();
    assert_eq!(snaps.len(), 1);
    let summary: Json =
        serde_json::from_slice(&std::fs::read(data.join("metrics_summary.json")).unwrap()).unwrap();
    assert!(summary["model_health"]["claude-haiku-4.5"].is_object(), "{summary}");
}
