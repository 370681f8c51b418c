//! `agentos usage daily|weekly|monthly|session` run as the real binary on imported-style
//! events, and the existing `report` / `rollup` counting the same imported turns.

use serde_json::{Value as Json, json};

use crate::rollup::{Scratch, agentos, read_json, text};

fn session(id: &str, agent: &str, last: &str) -> String {
    json!({"type": "session", "event_id": format!("{id}-{last}"), "ts": last,
        "schema_version": "1.1.0",
        "session": {"session_id": id, "repo_id": "", "branch": "main", "commit": "",
            "license_id": "", "privacy_tier": "local", "created_at": "2026-11-19T00:00:00Z",
            "metadata": {}, "agent": agent, "cwd": format!("/src/{id}"), "cli_version": "2.0.1",
            "last_active_at": last}})
    .to_string()
}

/// An imported turn as the importer writes it: latency 0, no capacity, no cost, cache
/// fields, sidechain, responded_at.
#[allow(clippy::too_many_arguments)]
fn turn(id: &str, s: &str, model: &str, at: &str, tin: u64, out: u64, cw: u64, cr: u64) -> String {
    json!({"type": "turn", "event_id": id, "ts": at, "schema_version": "1.1.0",
        "turn": {"turn_id": id, "session_id": s, "model": model, "subagent": "main",
            "tokens_in": tin, "tokens_out": out, "input_kind": "text", "latency_ms": 0,
            "cache_creation_tokens": cw, "cache_creation_1h_tokens": 0,
            "cache_read_tokens": cr, "sidechain": true, "responded_at": at}})
    .to_string()
}

/// Two sessions; the 07:30Z response is on 11-20 in UTC and on 11-19 in Los Angeles.
fn write_history(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let lines = [
        session("c1", "claude-code", "2026-11-20T07:30:00Z"),
        // 1,000 × 3 + 1,000 × 15 + 2,000 × 3.75 + 10,000 × 0.3 = 28,500 → $0.0285
        turn(
            "a1",
            "c1",
            "claude-sonnet-4-5-20250929",
            "2026-11-20T07:30:00Z",
            1_000,
            1_000,
            2_000,
            10_000,
        ),
        session("x1", "codex", "2026-11-20T20:00:00Z"),
        // 100,000 × 1.25 + 10,000 × 10 + 400,000 × 0.125 = 275,000 → $0.275
        turn("b1", "x1", "gpt-5-codex", "2026-11-20T20:00:00Z", 100_000, 10_000, 0, 400_000),
    ];
    std::fs::write(dir.join("events.jsonl"), lines.join("\n") + "\n").expect("write");
}

fn usage(dir: &str, args: &[&str]) -> Json {
    let mut all = vec!["--data-dir", dir, "usage"];
    all.extend_from_slice(args);
    let out = agentos(&all);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

fn close(a: &Json, b: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn usage_daily_json_buckets_responses_in_the_chosen_zone() {
    let scratch = Scratch::new();
    write_history(scratch.path());
    let dir = scratch.path().to_string_lossy().into_owned();
    let utc = usage(&dir, &["daily", "--json", "--timezone", "UTC"]);
    let days = utc["daily"].as_array().expect("daily");
    assert_eq!(days.len(), 1, "{utc}");
    assert_eq!(days[0]["date"], "2026-11-20");
    assert!(close(&days[0]["totalCost"], 0.0285 + 0.275), "{}", days[0]);
    assert_eq!(
        days[0]["totalTokens"],
        json!(1_000 + 1_000 + 2_000 + 10_000 + 100_000 + 10_000 + 400_000)
    );
    assert_eq!(utc["priceTable"]["id"], "agentos-2026-11-30");

    let la = usage(&dir, &["daily", "--json", "--timezone", "America/Los_Angeles"]);
    let dates: Vec<&str> =
        la["daily"].as_array().expect("daily").iter().filter_map(|d| d["date"].as_str()).collect();
    assert_eq!(dates, ["2026-11-19", "2026-11-20"]);
    assert!(close(&la["daily"][0]["totalCost"], 0.0285));
    // TZ is honoured when no --timezone is given.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_agentos"))
        .args(["--data-dir", &dir, "usage", "daily", "--json"])
        .env_remove("AGENTOS_DATA_DIR")
        .env("TZ", "America/Los_Angeles")
        .output()
        .expect("run agentos");
    let v: Json = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["daily"].as_array().map(Vec::len), Some(2), "{v}");

    let codex = usage(&dir, &["session", "--json", "--agent", "codex", "--timezone", "UTC"]);
    let sessions = codex["sessions"].as_array().expect("sessions");
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["sessionId"], "x1");
    assert_eq!(sessions[0]["projectPath"], "/src/x1");
    assert_eq!(sessions[0]["lastActivity"], "2026-11-20");
    assert!(close(&sessions[0]["totalCost"], 0.275));
}

#[test]
fn usage_table_names_the_price_table_and_flags_unpriced_models() {
    let scratch = Scratch::new();
    write_history(scratch.path());
    let mut events = std::fs::read_to_string(scratch.path().join("events.jsonl")).expect("read");
    events.push_str(&turn("m1", "x1", "my-local-llm", "2026-11-20T21:00:00Z", 5, 5, 0, 0));
    events.push('\n');
    std::fs::write(scratch.path().join("events.jsonl"), events).expect("write");
    let dir = scratch.path().to_string_lossy().into_owned();
    let out =
        agentos(&["--data-dir", &dir, "usage", "monthly", "--breakdown", "--timezone", "UTC"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("Prices: agentos-2026-11-30 (2026-11-30, bundled)"), "{stdout}");
    assert!(stdout.contains("unpriced"), "{stdout}");
    assert!(stdout.contains("no price for my-local-llm"), "{stdout}");
    assert!(stdout.contains("$0.30*"), "{stdout}");
    // A price file in the data dir prices it, and is named.
    std::fs::write(
        scratch.path().join("prices.json"),
        r#"{"id":"team","date":"2026-11-29","models":{"my-local-llm":{"input":100000,"output":100000}}}"#,
    )
    .expect("write");
    let v = usage(&dir, &["monthly", "--json", "--timezone", "UTC"]);
    assert_eq!(v["unpricedModels"], json!([]));
    // 10 tokens × $100,000 / 1M = $1
    assert!(close(&v["monthly"][0]["totalCost"], 0.0285 + 0.275 + 1.0), "{v}");
    assert_eq!(v["priceTable"]["overrides"][0]["id"], "team");
}

#[test]
fn usage_rejects_bad_options_with_exit_2_and_a_hint() {
    let scratch = Scratch::new();
    write_history(scratch.path());
    let dir = scratch.path().to_string_lossy().into_owned();
    for (args, needle) in [
        (vec!["daily", "--timezone", "Mars/Base"], "--timezone"),
        (vec!["daily", "--since", "2026-02-30"], "--since"),
        (vec!["daily", "--prices", "/nonexistent/prices.json"], "/nonexistent/prices.json"),
    ] {
        let mut all = vec!["--data-dir", dir.as_str(), "usage"];
        all.extend_from_slice(&args);
        let out = agentos(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains(needle), "{args:?}: {}", text(&out.stderr));
    }
}

#[test]
fn report_and_rollup_count_imported_turns() {
    let scratch = Scratch::new();
    write_history(scratch.path());
    let dir = scratch.path().to_string_lossy().into_owned();
    let out = agentos(&["--data-dir", &dir, "report", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Json = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["summary"]["turns"], 2, "{}", v["summary"]);
    assert_eq!(v["summary"]["diagnostics"], 0, "{}", v["summary"]);
    let out = agentos(&["--data-dir", &dir, "rollup"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("warning"), "{}", text(&out.stderr));
    let summary = read_json(&scratch.path().join("metrics_summary.json"));
    assert_eq!(summary["turns"], 2);
    assert_eq!(summary["sessions"], 2);
}
