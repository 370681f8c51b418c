//! `agentos import`, run as the real binary against `fixtures/agent-history` (totals worked
//! out by hand in `crates/backfill/tests/it/fixture.rs`: 9 responses in 4 sessions, 5
//! duplicates, 2 malformed lines).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value as Json;

use crate::rollup::{Scratch, text};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/agent-history")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// The binary with a clean environment: no agent dirs from the machine running the tests.
fn cmd(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_agentos"));
    c.env_remove("AGENTOS_DATA_DIR")
        .env_remove("PRIVACY_TIER")
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("CODEX_HOME")
        .env("HOME", home)
        .env("AGENTOS_CCC_BASE_URL", "http://127.0.0.1:9");
    c
}

fn import(data: &Path, sources: &Path, extra: &[&str]) -> Output {
    let mut c = cmd(data);
    c.arg("--data-dir").arg(data).arg("import");
    c.arg("--claude-dir").arg(sources.join("claude"));
    c.arg("--codex-home").arg(sources.join("codex"));
    c.args(extra).output().unwrap()
}

fn json_of(out: &Output) -> Json {
    assert!(out.status.success(), "exit {:?}: {}", out.status, text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

#[test]
fn import_reports_in_json_and_a_rerun_changes_nothing() {
    let s = Scratch::new();
    let data = s.path().join("data");
    let r = json_of(&import(&data, &fixture(), &["--json"]));
    assert_eq!(r["responses"], 9);
    assert_eq!(r["sessions"], 4);
    assert_eq!(r["events"], 13);
    assert_eq!(r["duplicates"], 5);
    assert_eq!(r["files_read"], 5);
    assert_eq!(r["malformed_lines"], 2);
    assert_eq!(r["dry_run"], false);
    let m = r["malformed"].as_array().unwrap();
    assert!(
        m[0].as_str().unwrap().ends_with(
            "11111111-1111-4111-8111-111111111111.jsonl:8: truncated JSON (the line ends mid-value)"
        ),
        "{m:?}"
    );
    let log = data.join("events.jsonl");
    let before = std::fs::read(&log).unwrap();
    assert_eq!(before.iter().filter(|b| **b == b'\n').count(), 13);

    let r = json_of(&import(&data, &fixture(), &["--json"]));
    assert_eq!((r["responses"].as_u64(), r["events"].as_u64()), (Some(0), Some(0)));
    assert_eq!((r["files_unchanged"].as_u64(), r["files_read"].as_u64()), (Some(5), Some(0)));
    assert_eq!(std::fs::read(&log).unwrap(), before, "events.jsonl is byte-identical");

    // The readers see the imported sessions: the rollup's per-model numbers are the fixture's.
    let out = cmd(s.path()).arg("--data-dir").arg(&data).arg("rollup").output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: Json =
        serde_json::from_slice(&std::fs::read(data.join("metrics_summary.json")).unwrap()).unwrap();
    assert_eq!(summary["turns"], 9);
    assert_eq!(summary["usage_by_model"]["gpt-5"]["tokens_in"], 500 + 300 + 500);
    assert_eq!(summary["usage_by_model"]["claude-sonnet-4-5-20250929"]["tokens_out"], 50 + 30 + 40);
}

#[test]
fn a_dry_run_writes_nothing() {
    let s = Scratch::new();
    let data = s.path().join("data");
    let r = json_of(&import(&data, &fixture(), &["--dry-run", "--json"]));
    assert_eq!((r["responses"].as_u64(), r["dry_run"].as_bool()), (Some(9), Some(true)));
    assert!(!data.join("events.jsonl").exists());
    assert!(!data.join("import/ledger.json").exists());
    let r = json_of(&import(&data, &fixture(), &["--json"]));
    assert_eq!(r["responses"], 9, "the dry run remembered nothing");
}

#[test]
fn quiet_prints_nothing_and_text_mode_summarises() {
    let s = Scratch::new();
    let data = s.path().join("data");
    let out = import(&data, &fixture(), &["--quiet"]);
    assert!(out.status.success());
    assert_eq!((text(&out.stdout), text(&out.stderr)), (String::new(), String::new()));
    let out = import(&s.path().join("other"), &fixture(), &[]);
    let t = text(&out.stdout);
    assert!(t.starts_with("imported 9 responses and 4 session updates (13 events written)"), "{t}");
    assert!(t.contains(":9: not a JSON object"), "{t}");
}

#[test]
fn an_unreadable_file_is_reported_and_the_rest_imported() {
    let s = Scratch::new();
    let src = s.path().join("src");
    copy_dir(&fixture(), &src);
    let project = src.join("claude/projects/-home-dev-shop");
    std::os::unix::fs::symlink(s.path().join("nowhere"), project.join("gone.jsonl")).unwrap();
    let r = json_of(&import(&s.path().join("data"), &src, &["--json"]));
    assert_eq!((r["responses"].as_u64(), r["files_failed"].as_u64()), (Some(9), Some(1)));
    let u = r["unreadable"][0].as_str().unwrap();
    assert!(u.contains("gone.jsonl: cannot read: No such file"), "{u}");
}

#[test]
fn a_missing_source_dir_is_a_usage_error() {
    let s = Scratch::new();
    let out = cmd(s.path())
        .arg("--data-dir")
        .arg(s.path())
        .args(["import", "claude-code", "--claude-dir", "/nonexistent/claude"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(
            "error: --claude-dir: cannot read the source directory /nonexistent/claude"
        ),
        "{err}"
    );
    assert!(err.contains("; --claude-dir names a Claude Code config dir"), "a hint: {err}");
}

#[test]
fn a_crash_between_append_and_commit_only_repeats_event_ids() {
    let s = Scratch::new();
    let src = s.path().join("src");
    copy_dir(&fixture(), &src);
    let data = s.path().join("data");
    json_of(&import(&data, &src, &["--json"]));
    let saved = s.path().join("saved-state");
    copy_dir(&data.join("import"), &saved);
    // New responses appended to a session, imported: events appended, then state committed…
    let b = src.join("claude/projects/-home-dev-shop/22222222-2222-4222-8222-222222222222.jsonl");
    let mut line: Json =
        serde_json::from_str(std::fs::read_to_string(&b).unwrap().lines().nth(2).unwrap()).unwrap();
    line["message"]["id"] = "msg_B2".into();
    line["requestId"] = "req_B2".into();
    line["timestamp"] = "2026-01-11T09:30:00.000Z".into();
    line["message"]["usage"]["output_tokens"] = 60.into();
    use std::io::Write;
    writeln!(std::fs::OpenOptions::new().append(true).open(&b).unwrap(), "{line}").unwrap();
    let r = json_of(&import(&data, &src, &["--json"]));
    assert_eq!((r["responses"].as_u64(), r["sessions"].as_u64()), (Some(1), Some(1)));
    // …but the crash came before the commit: the old state is back.
    std::fs::remove_dir_all(data.join("import")).unwrap();
    copy_dir(&saved, &data.join("import"));
    let r = json_of(&import(&data, &src, &["--json"]));
    assert_eq!(r["responses"], 1, "the same response is written again");

    let lines: Vec<Json> = std::fs::read_to_string(data.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 13 + 2 + 2);
    let (last, prev) = (&lines[15..], &lines[13..15]);
    assert_eq!(last, prev, "the repeated events are identical, ids included");
    // Every reader drops the repeats: the rollup counts 10 responses, as one clean import does.
    let out = cmd(s.path()).arg("--data-dir").arg(&data).arg("rollup").output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: Json =
        serde_json::from_slice(&std::fs::read(data.join("metrics_summary.json")).unwrap()).unwrap();
    let clean = s.path().join("clean");
    json_of(&import(&clean, &src, &["--json"]));
    let out = cmd(s.path()).arg("--data-dir").arg(&clean).arg("rollup").output().unwrap();
    assert!(out.status.success());
    let expected: Json =
        serde_json::from_slice(&std::fs::read(clean.join("metrics_summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["turns"], 10);
    assert_eq!(summary["usage_by_model"], expected["usage_by_model"]);
}

/// The fenced block of `docs/import.md` whose info string is `lang` and that contains `needle`.
fn doc_block(lang: &str, needle: &str) -> String {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/import.md"))
            .unwrap();
    let fence = format!("```{lang}\n");
    doc.split(&fence)
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .find(|b| b.contains(needle))
        .unwrap_or_else(|| panic!("no {lang} block with {needle} in docs/import.md"))
        .to_owned()
}

/// Run a documented command line (`agentos …`) with the fixture as the agents' default dirs.
fn run_documented(command: &str, data: &Path) -> Output {
    let mut words = command.split_whitespace();
    assert_eq!(words.next(), Some("agentos"), "{command}");
    cmd(data)
        .args(words)
        .env("AGENTOS_DATA_DIR", data)
        .env("CLAUDE_CONFIG_DIR", fixture().join("claude"))
        .env("CODEX_HOME", fixture().join("codex"))
        .output()
        .unwrap()
}

#[test]
fn the_documented_session_end_hook_and_cron_line_work() {
    let hook: Json = serde_json::from_str(&doc_block("json", "SessionEnd")).unwrap();
    let command = hook["hooks"]["SessionEnd"][0]["hooks"][0]["command"].as_str().unwrap();
    assert_eq!(hook["hooks"]["SessionEnd"][0]["hooks"][0]["type"], "command");
    let s = Scratch::new();
    let data = s.path().join("data");
    let out = run_documented(command, &data);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "quiet: {}", text(&out.stdout));
    let log = std::fs::read_to_string(data.join("events.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 13);

    let cron = doc_block("cron", "agentos import");
    let line = cron.lines().find(|l| l.contains("agentos import")).unwrap();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields.len(), 5 + 3, "five time fields, then the command: {line}");
    let out = run_documented(&fields[5..].join(" "), &data);
    assert!(out.status.success() && out.stdout.is_empty(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(data.join("events.jsonl")).unwrap(), log, "nothing new");

    let unit = doc_block("ini", "ExecStart");
    let exec = unit.lines().find_map(|l| l.strip_prefix("ExecStart=")).unwrap();
    assert_eq!(exec, command, "the timer runs the same command as the hook");
}

#[test]
fn imported_turns_carry_cost_estimates_from_the_tables_in_force_so_report_counts_them() {
    let s = Scratch::new();
    let data = s.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // Every fixture model at $1 per 1M tokens of every kind: the cost is the fixture's
    // 8,905 tokens (2,128 in, 477 out, 300 cache writes, 6,000 cache reads) per million.
    let flat = serde_json::json!({"input": 1, "output": 1, "cache_write_5m": 1,
        "cache_write_1h": 1, "cache_read": 1});
    let table = serde_json::json!({"id": "flat", "date": "2026-11-30", "models": {
        "claude-sonnet-4-5": flat, "claude-haiku-4-5": flat, "gpt-5": flat,
        "gpt-5-codex": flat}});
    std::fs::write(data.join("prices.json"), table.to_string()).unwrap();
    let r = json_of(&import(&data, &fixture(), &["--json"]));
    let names = r["priceTable"].as_str().unwrap_or_default();
    assert!(names.contains("bundled") && names.contains("flat"), "{names}");
    let out = cmd(s.path()).arg("--data-dir").arg(&data).args(["report", "--json"]).output();
    let report = json_of(&out.unwrap());
    let usd = report["summary"]["cost_usd"].as_f64().unwrap_or(-1.0);
    assert!((usd - 8_905e-6).abs() < 1e-12, "{usd}");
    let events = std::fs::read_to_string(data.join("events.jsonl")).unwrap();
    let tables: Vec<Json> = events
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).unwrap())
        .filter(|e| e["type"] == "turn")
        .map(|e| e["cost"]["price_table"].clone())
        .collect();
    assert_eq!(tables.len(), 9);
    assert!(tables.iter().all(|t| t == "agentos-2026-11-30+flat"), "{tables:?}");
}

#[test]
fn an_import_that_wrote_events_leaves_the_usage_cache_current() {
    let s = Scratch::new();
    let data = s.path().join("data");
    let cache = data.join("state").join("usage_cache.bin");
    json_of(&import(&data, &fixture(), &["--json"]));
    let warmed = std::fs::read(&cache).expect("the import wrote the usage cache");
    // A report right after reads nothing new: the cache it leaves is the one the import wrote.
    let mut usage = cmd(s.path());
    usage.arg("--data-dir").arg(&data).args(["usage", "daily", "--json"]);
    let report = json_of(&usage.output().unwrap());
    assert_eq!(report["totals"]["totalTokens"], 8_905);
    assert_eq!(std::fs::read(&cache).unwrap(), warmed);
}
