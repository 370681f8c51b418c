//! Tests of usage reports against a hand calculation on a small fixture: days in UTC and in
//! America/Los_Angeles, ISO weeks, months, sessions, the agent and date filters, dedupe,
//! corrections, recorded costs, unpriced models, bad and torn lines; and the JSON shape
//! (insta snapshot).

use std::io::Write as _;

use camino::Utf8PathBuf;
use serde_json::json;

use super::*;

fn session(id: &str, agent: &str, cwd: &str, last: &str) -> String {
    json!({"type": "session", "event_id": format!("s-{id}-{last}"), "ts": last,
        "schema_version": "1.1.0",
        "session": {"session_id": id, "repo_id": "", "branch": "main", "commit": "",
            "license_id": "", "privacy_tier": "local", "created_at": "2026-11-19T00:00:00Z",
            "metadata": {}, "agent": agent, "cwd": cwd, "cli_version": "2.0.1",
            "last_active_at": last}})
    .to_string()
}

#[allow(clippy::too_many_arguments)]
fn turn(
    id: &str,
    s: &str,
    model: &str,
    at: &str,
    tin: u64,
    out: u64,
    cw: u64,
    cw1h: u64,
    cr: u64,
) -> serde_json::Value {
    json!({"type": "turn", "event_id": id, "ts": at, "schema_version": "1.1.0",
        "turn": {"turn_id": id, "session_id": s, "model": model, "subagent": "main",
            "tokens_in": tin, "tokens_out": out, "input_kind": "text", "latency_ms": 0.0,
            "cache_creation_tokens": cw, "cache_creation_1h_tokens": cw1h,
            "cache_read_tokens": cr, "sidechain": false, "responded_at": at}})
}

/// The fixture (see the module docs of the numbers below).
fn fixture() -> String {
    let mut lines = vec![
        session("s1", "claude-code", "/home/dev/proj-a", "2026-11-20T06:30:00Z"),
        session("s2", "codex", "/home/dev/proj-b", "2026-11-21T07:59:59Z"),
        // T1: UTC 11-20, LA 11-19 22:30. 0.07125 USD (prices tests).
        turn(
            "t1",
            "s1",
            "claude-sonnet-4-5-20250929",
            "2026-11-20T06:30:00Z",
            1_000,
            2_000,
            7_000,
            4_000,
            10_000,
        )
        .to_string(),
        "{not json".to_owned(),
        // T2: 100 × 3 + 50 × 15 = 1,050 → 0.00105.
        turn("t2", "s1", "claude-sonnet-4-5-20250929", "2026-11-20T12:00:00Z", 100, 50, 0, 0, 0)
            .to_string(),
        // T3: UTC 11-21, LA 11-20 23:59:59. 1.25 + 1.0 + 0.25 = 2.5.
        turn(
            "t3",
            "s2",
            "gpt-5-codex",
            "2026-11-21T07:59:59Z",
            1_000_000,
            100_000,
            0,
            0,
            2_000_000,
        )
        .to_string(),
        // T1 again (a re-import): counted once.
        turn(
            "t1",
            "s1",
            "claude-sonnet-4-5-20250929",
            "2026-11-20T06:30:00Z",
            1_000,
            2_000,
            7_000,
            4_000,
            10_000,
        )
        .to_string(),
        // T6: a correction of T3: +10,000 output → 0.1, not a response.
        {
            let mut t = turn("t6", "s2", "gpt-5-codex", "2026-11-21T07:59:59Z", 0, 10_000, 0, 0, 0);
            t["turn"]["revises"] = json!("t3");
            t.to_string()
        },
        // T4: an unknown model, no responded_at: the envelope ts (UTC 11-21 09:00, LA 01:00).
        {
            let mut t = turn("t4", "s2", "mystery-model", "2026-11-21T09:00:00Z", 10, 20, 0, 0, 0);
            t["turn"].as_object_mut().map(|o| o.remove("responded_at"));
            t.to_string()
        },
        // T7: recorded by `session turn` style with its own cost: 0.5 wins over the table.
        json!({"type": "turn", "event_id": "t7", "ts": "2026-11-22T10:00:00Z",
            "schema_version": "1.1.0",
            "turn": {"turn_id": "t7", "session_id": "s1", "model": "claude-opus-4-1",
                "subagent": "main", "tokens_in": 5, "tokens_out": 5, "input_kind": "text",
                "latency_ms": 1200.0, "attribution": {}, "capacity_used": 0.01},
            "cost": {"provider": "anthropic", "unit_costs": {}, "estimated_usd": 0.5}})
        .to_string(),
        // T8: Monday 11-23 01:00 UTC = Sunday 11-22 17:00 in LA. 1,000 × 1.25 → 0.00125.
        turn("t8", "s2", "gpt-5-codex", "2026-11-23T01:00:00Z", 1_000, 0, 0, 0, 0).to_string(),
        session("s2", "codex", "/home/dev/proj-b", "2026-11-23T01:00:00Z"),
        // A turn whose numbers the rollup refuses: skipped here too.
        {
            let mut t = turn("t9", "s2", "gpt-5-codex", "2026-11-23T02:00:00Z", 1, 1, 0, 0, 0);
            t["turn"]["latency_ms"] = json!(-1.0);
            t.to_string()
        },
    ];
    let mut text = lines.join("\n");
    text.push('\n');
    lines.clear();
    // A torn last line.
    text.push_str(r#"{"type":"turn","event_id":"t10","ts":"2026-11-2"#);
    text
}

fn write_fixture() -> (tempfile::TempDir, Utf8PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = Utf8PathBuf::from_path_buf(dir.path().join("events.jsonl")).expect("utf-8");
    let mut f = std::fs::File::create(&path).expect("create");
    f.write_all(fixture().as_bytes()).expect("write");
    (dir, path)
}

fn report(period: Period, tz: &str) -> UsageReport {
    let (_dir, path) = write_fixture();
    let mut opts = UsageOptions::new(period);
    opts.timezone = Some(tz.to_owned());
    usage_report(&[path], &PriceBook::bundled(), &opts).expect("report")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn day_costs(r: &UsageReport) -> Vec<(String, f64)> {
    r.rows.iter().map(|row| (row.key.clone(), row.totals.total_cost)).collect()
}

fn assert_costs(got: &[(String, f64)], want: &[(&str, f64)]) {
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((gk, gc), (wk, wc)) in got.iter().zip(want) {
        assert_eq!(gk, wk, "{got:?}");
        assert!(close(*gc, *wc), "{gk}: {gc} vs {wc}");
    }
}

#[test]
fn days_in_utc_match_the_hand_calculation() {
    let r = report(Period::Daily, "UTC");
    assert_costs(
        &day_costs(&r),
        &[
            ("2026-11-20", 0.07125 + 0.00105),
            ("2026-11-21", 2.6),
            ("2026-11-22", 0.5),
            ("2026-11-23", 0.00125),
        ],
    );
    let d20 = &r.rows[0];
    assert_eq!(d20.models.len(), 1);
    let m = &d20.models[0];
    assert_eq!(m.model, "claude-sonnet-4-5-20250929");
    assert_eq!(
        (m.input_tokens, m.output_tokens, m.cache_creation_tokens, m.cache_read_tokens),
        (1_100, 2_050, 7_000, 10_000)
    );
    assert_eq!(d20.totals.total_tokens, 1_100 + 2_050 + 7_000 + 10_000);
    assert_eq!(m.responses, 2);
    let d21 = &r.rows[1];
    let codex = d21.models.iter().find(|m| m.model == "gpt-5-codex").expect("codex");
    assert_eq!(
        (codex.input_tokens, codex.output_tokens, codex.cache_read_tokens),
        (1_000_000, 110_000, 2_000_000)
    );
    assert_eq!(codex.responses, 1, "a correction is not a response");
    let mystery = d21.models.iter().find(|m| m.model == "mystery-model").expect("unpriced");
    assert_eq!(mystery.cost, None);
    assert_eq!(d21.models.last().map(|m| m.model.as_str()), Some("mystery-model"), "unpriced last");
    assert_eq!(r.unpriced_models, vec!["mystery-model".to_owned()]);
    assert_eq!(r.duplicates, 1);
    assert_eq!(
        r.skipped_lines, 3,
        "bad json, out-of-range latency, torn last line: {:?}",
        r.diagnostics
    );
    assert!(
        r.diagnostics.iter().any(|d| d.message.starts_with("torn last line")),
        "{:?}",
        r.diagnostics
    );
    assert!(close(r.totals.total_cost, 0.07125 + 0.00105 + 2.6 + 0.5 + 0.00125));
    assert_eq!(r.totals.responses, 6);
}

#[test]
fn days_in_los_angeles_move_responses_across_midnight() {
    let r = report(Period::Daily, "America/Los_Angeles");
    assert_costs(
        &day_costs(&r),
        &[
            ("2026-11-19", 0.07125),
            ("2026-11-20", 0.00105 + 2.6),
            ("2026-11-21", 0.0),
            ("2026-11-22", 0.5 + 0.00125),
        ],
    );
    assert_eq!(r.rows[2].models[0].model, "mystery-model");
    assert_eq!(r.timezone, "America/Los_Angeles");
    // The same tokens and cost in both zones.
    let (la, utc) = (r.totals, report(Period::Daily, "UTC").totals);
    assert!(close(la.total_cost, utc.total_cost));
    assert_eq!(Totals { total_cost: 0.0, ..la }, Totals { total_cost: 0.0, ..utc });
}

#[test]
fn weeks_start_on_monday_in_the_zone() {
    let utc = report(Period::Weekly, "UTC");
    assert_costs(
        &day_costs(&utc),
        &[("2026-11-16", 0.07125 + 0.00105 + 2.6 + 0.5), ("2026-11-23", 0.00125)],
    );
    let la = report(Period::Weekly, "America/Los_Angeles");
    assert_costs(&day_costs(&la), &[("2026-11-16", 0.07125 + 0.00105 + 2.6 + 0.5 + 0.00125)]);
}

#[test]
fn months_and_sessions_add_up() {
    let m = report(Period::Monthly, "UTC");
    assert_costs(&day_costs(&m), &[("2026-11", 0.07125 + 0.00105 + 2.6 + 0.5 + 0.00125)]);
    let s = report(Period::Session, "UTC");
    assert_costs(&day_costs(&s), &[("s1", 0.07125 + 0.00105 + 0.5), ("s2", 2.6 + 0.00125)]);
    let s1 = s.rows[0].session.clone().expect("session info");
    assert_eq!(s1.agent.as_deref(), Some("claude-code"));
    assert_eq!(s1.cwd.as_deref(), Some("/home/dev/proj-a"));
    assert_eq!(s1.last_activity, "2026-11-22");
    let s2 = &s.rows[1];
    assert_eq!(s2.session.as_ref().map(|i| i.last_activity.as_str()), Some("2026-11-23"));
    assert_eq!(s2.totals.input_tokens, 1_000_000 + 10 + 1_000);
}

#[test]
fn agent_and_date_filters_narrow_the_rows() {
    let (_dir, path) = write_fixture();
    let mut opts = UsageOptions::new(Period::Daily);
    opts.timezone = Some("UTC".to_owned());
    opts.agent = Some("codex".to_owned());
    let r =
        usage_report(std::slice::from_ref(&path), &PriceBook::bundled(), &opts).expect("report");
    assert_costs(&day_costs(&r), &[("2026-11-21", 2.6), ("2026-11-23", 0.00125)]);
    opts.agent = None;
    opts.since = Some("2026-11-21".to_owned());
    opts.until = Some("20261122".to_owned());
    let r = usage_report(&[path], &PriceBook::bundled(), &opts).expect("report");
    assert_costs(&day_costs(&r), &[("2026-11-21", 2.6), ("2026-11-22", 0.5)]);
}

#[test]
fn bad_options_are_typed_errors() {
    let mut opts = UsageOptions::new(Period::Daily);
    opts.timezone = Some("Mars/Olympus".to_owned());
    assert!(matches!(
        usage_report(&[], &PriceBook::bundled(), &opts),
        Err(UsageError::TimeZone { .. })
    ));
    let mut opts = UsageOptions::new(Period::Daily);
    opts.since = Some("2026-13-01".to_owned());
    assert!(matches!(
        usage_report(&[], &PriceBook::bundled(), &opts),
        Err(UsageError::Date { .. })
    ));
    opts.since = Some("2026-11-02".to_owned());
    opts.until = Some("2026-11-01".to_owned());
    assert!(matches!(
        usage_report(&[], &PriceBook::bundled(), &opts),
        Err(UsageError::EmptyRange { .. })
    ));
}

#[test]
fn an_override_file_prices_an_unknown_model_and_is_named() {
    let (dir, path) = write_fixture();
    let prices = Utf8PathBuf::from_path_buf(dir.path().join("mine.json")).expect("utf-8");
    std::fs::write(&prices, r#"{"id":"mine","date":"2026-12-01","models":{"mystery-model":{"input":1000,"output":1000}}}"#)
        .expect("write");
    let book = load_prices(None, Some(&prices)).expect("prices");
    let mut opts = UsageOptions::new(Period::Daily);
    opts.timezone = Some("UTC".to_owned());
    let r = usage_report(&[path], &book, &opts).expect("report");
    // 30 tokens × $1000 / 1M = 0.03
    assert!(close(r.rows[1].totals.total_cost, 2.6 + 0.03), "{}", r.rows[1].totals.total_cost);
    assert!(r.unpriced_models.is_empty());
    assert_eq!(r.price_tables.len(), 2);
    assert_eq!(r.price_tables[1].id, "mine");
    assert!(book.describe().contains("mine (2026-12-01, "), "{}", book.describe());
    let missing = dir.path().join("nope.json");
    let missing = Utf8PathBuf::from_path_buf(missing).expect("utf-8");
    assert!(matches!(load_prices(None, Some(&missing)), Err(UsageError::Prices { .. })));
    assert_eq!(load_prices(Some(&missing), None).expect("optional").sources.len(), 1);
}

#[test]
fn the_json_has_the_peer_tools_shape() {
    let daily = report(Period::Daily, "UTC").json();
    insta::assert_json_snapshot!("usage_daily_utc", daily);
    let sessions = report(Period::Session, "America/Los_Angeles").json();
    insta::assert_json_snapshot!("usage_session_la", sessions);
    let weekly = report(Period::Weekly, "UTC").json();
    assert_eq!(weekly["weekly"][0]["week"], "2026-11-16");
    assert_eq!(weekly["weekStart"], "monday");
    assert_eq!(report(Period::Monthly, "UTC").json()["monthly"][0]["month"], "2026-11");
}

#[test]
fn a_missing_file_is_an_empty_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = Utf8PathBuf::from_path_buf(dir.path().join("events.jsonl")).expect("utf-8");
    let r = usage_report(&[path], &PriceBook::bundled(), &UsageOptions::new(Period::Daily))
        .expect("report");
    assert!(r.rows.is_empty());
    assert_eq!(r.json()["daily"], json!([]));
    assert_eq!(r.json()["totals"]["totalCost"], json!(0.0));
}

/// A report's JSON with and without the cache of `dir`.
fn both(
    dir: &tempfile::TempDir,
    path: &Utf8PathBuf,
    book: &PriceBook,
    tz: &str,
) -> (serde_json::Value, serde_json::Value) {
    let mut opts = UsageOptions::new(Period::Daily);
    opts.timezone = Some(tz.to_owned());
    let full = usage_report(std::slice::from_ref(path), book, &opts).expect("full");
    opts.cache_dir = Some(Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).expect("utf-8"));
    let cached = usage_report(std::slice::from_ref(path), book, &opts).expect("cached");
    assert_eq!(cached.duplicates, full.duplicates);
    assert_eq!(cached.skipped_lines, full.skipped_lines);
    (full.json(), cached.json())
}

#[test]
fn the_cache_gives_the_full_reads_answer_after_appends_rewrites_and_new_prices() {
    let (dir, path) = write_fixture();
    let cache = dir.path().join("state/usage_cache.bin");
    let book = PriceBook::bundled();
    // First run builds the cache (the torn last line is not consumed).
    let (full, cached) = both(&dir, &path, &book, "UTC");
    assert_eq!(full, cached);
    assert!(cache.exists());
    // Nothing new: the cache alone, same answer, in another zone too.
    let (full, cached) = both(&dir, &path, &book, "America/Los_Angeles");
    assert_eq!(full, cached);
    // The torn line is completed and more is appended, including a repeat of t3.
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
    f.write_all(b"2T00:00:00Z\"}\n").expect("append");
    let more = [
        turn(
            "t11",
            "s1",
            "claude-haiku-4-5-20251001",
            "2026-11-24T10:00:00Z",
            1_000_000,
            0,
            0,
            0,
            0,
        )
        .to_string(),
        turn(
            "t3",
            "s2",
            "gpt-5-codex",
            "2026-11-21T07:59:59Z",
            1_000_000,
            100_000,
            0,
            0,
            2_000_000,
        )
        .to_string(),
    ];
    f.write_all((more.join("\n") + "\n").as_bytes()).expect("append");
    drop(f);
    let (full, cached) = both(&dir, &path, &book, "UTC");
    assert_eq!(full, cached);
    assert!(close(full["daily"][4]["totalCost"].as_f64().unwrap_or(0.0), 1.0), "{}", full["daily"]);
    // Rewritten shorter: detected, read again.
    let text = std::fs::read_to_string(&path).expect("read");
    let first_lines: Vec<&str> = text.lines().take(3).collect();
    std::fs::write(&path, first_lines.join("\n") + "\n").expect("rewrite");
    let (full, cached) = both(&dir, &path, &book, "UTC");
    assert_eq!(full, cached);
    assert_eq!(full["daily"].as_array().map(Vec::len), Some(1));
    // Same length, other content: detected by the fingerprints.
    let same_len =
        first_lines.join("\n").replace("claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001");
    std::fs::write(&path, same_len + "\n").expect("rewrite");
    let (full, cached) = both(&dir, &path, &book, "UTC");
    assert_eq!(full, cached);
    assert_eq!(full["daily"][0]["modelsUsed"][0], "claude-haiku-4-5-20251001");
    // Other prices: the cache is not used for them.
    let mut cheap = PriceBook::bundled();
    let over = agentos_event_schema::prices::PriceTable::parse(
        r#"{"id":"c","date":"2026-12-01","models":{"claude-haiku-4-5":{"input":0,"output":0}}}"#,
    )
    .expect("table");
    cheap.overlay(over, camino::Utf8Path::new("c.json"));
    let (full, cached) = both(&dir, &path, &cheap, "UTC");
    assert_eq!(full, cached);
    assert_eq!(full["totals"]["totalCost"], json!(0.0));
    // A damaged cache is ignored.
    std::fs::write(&cache, b"garbage").expect("write");
    let (full, cached) = both(&dir, &path, &book, "UTC");
    assert_eq!(full, cached);
}

#[test]
fn a_run_with_nothing_new_reads_the_cache_not_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = Utf8PathBuf::from_path_buf(dir.path().join("events.jsonl")).expect("utf-8");
    // 70 KiB of padding first, so the turn sits outside both fingerprinted stretches.
    let pad = json!({"type": "note", "pad": "x".repeat(70 * 1024)}).to_string();
    let t = turn("t1", "s1", "gpt-5", "2026-11-20T10:00:00Z", 1_000, 0, 0, 0, 0).to_string();
    let end = json!({"type": "note", "pad": "y".repeat(5 * 1024)}).to_string();
    std::fs::write(&path, format!("{pad}\n{t}\n{end}\n")).expect("write");
    let mut opts = UsageOptions::new(Period::Daily);
    opts.timezone = Some("UTC".to_owned());
    opts.cache_dir = Some(Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).expect("utf-8"));
    let book = PriceBook::bundled();
    let first = usage_report(std::slice::from_ref(&path), &book, &opts).expect("report");
    assert_eq!(first.totals.input_tokens, 1_000);
    // An in-place edit of the middle, same length: only a full read sees it.
    let edited = std::fs::read_to_string(&path)
        .expect("read")
        .replace("\"tokens_in\":1000", "\"tokens_in\":9000");
    std::fs::write(&path, edited).expect("write");
    let cached = usage_report(std::slice::from_ref(&path), &book, &opts).expect("report");
    assert_eq!(cached.totals.input_tokens, 1_000, "read from the cache");
    opts.cache_dir = None;
    let full = usage_report(std::slice::from_ref(&path), &book, &opts).expect("report");
    assert_eq!(full.totals.input_tokens, 9_000);
}

#[test]
fn an_estimate_made_by_a_price_table_is_priced_again_and_stands_only_for_unpriced_models() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = Utf8PathBuf::from_path_buf(dir.path().join("events.jsonl")).expect("utf-8");
    let estimated = |id: &str, model: &str, usd: f64| {
        let mut t = turn(id, "s1", model, "2026-11-20T12:00:00Z", 100_000, 0, 0, 0, 0);
        t["cost"] = json!({"provider": "anthropic", "estimated_usd": usd,
            "price_table": "an-older-table"});
        t.to_string()
    };
    let text = [
        // 100,000 uncached input tokens of sonnet-4-5 (under the 200k long-context line) at $3
        // per million: $0.30, not the 9 an older table estimated.
        estimated("e1", "claude-sonnet-4-5-20250929", 9.0),
        // No table in force prices this model: the earlier estimate is all there is.
        estimated("e2", "mystery-model", 0.25),
    ]
    .join("\n");
    std::fs::write(&path, text + "\n").expect("write");
    let mut opts = UsageOptions::new(Period::Daily);
    opts.timezone = Some("UTC".to_owned());
    let r = usage_report(&[path], &PriceBook::bundled(), &opts).expect("report");
    let cost = |m: &str| r.rows[0].models.iter().find(|x| x.model == m).and_then(|x| x.cost);
    let sonnet = cost("claude-sonnet-4-5-20250929").expect("priced");
    assert!((sonnet - 0.3).abs() < 1e-9, "{sonnet}");
    let mystery = cost("mystery-model").expect("the earlier estimate");
    assert!((mystery - 0.25).abs() < 1e-12, "{mystery}");
}

#[test]
fn session_activity_keeps_branch_and_window_through_the_cache() {
    let ev = |id: &str, s: &str, branch: &str, created: &str, last: &str| {
        json!({"type": "session", "event_id": id, "ts": last, "schema_version": "1.1.0",
            "session": {"session_id": s, "repo_id": "", "branch": branch, "commit": "",
                "license_id": "", "privacy_tier": "local", "created_at": created,
                "metadata": {}, "agent": "claude-code", "cwd": "/src/app",
                "last_active_at": last}})
        .to_string()
    };
    let lines = [
        ev("e1", "s1", "feat/x", "2026-11-20T10:00:00Z", "2026-11-20T11:00:00Z"),
        turn("t1", "s1", "claude-sonnet-4-5-20250929", "2026-11-20T10:05:00Z", 10, 0, 0, 0, 0)
            .to_string(),
        // A later import saw an earlier response: the wider span.
        ev("e2", "s1", "feat/x", "2026-11-20T09:30:00Z", "2026-11-20T12:00:00Z"),
        ev("e3", "s2", "", "2026-11-20T08:00:00Z", "2026-11-20T08:10:00Z"),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let path = Utf8PathBuf::from_path_buf(dir.path().join("events.jsonl")).expect("utf-8");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    let data = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).expect("utf-8");
    let book = PriceBook::bundled();
    let secs = |t: &str| t.parse::<jiff::Timestamp>().expect("ts").as_second();
    let (full, _) = session_activity(std::slice::from_ref(&path), &book, None).expect("full");
    assert_eq!(full.len(), 2);
    let s1 = &full[0];
    assert_eq!((s1.id.as_str(), s1.branch.as_deref()), ("s1", Some("feat/x")));
    assert_eq!(s1.cwd.as_deref(), Some("/src/app"));
    assert_eq!((s1.first, s1.last), (secs("2026-11-20T09:30:00Z"), secs("2026-11-20T12:00:00Z")));
    // 10 input tokens at $3 per million.
    let m = &s1.models["claude-sonnet-4-5-20250929"];
    assert_eq!(m.tokens, 10);
    assert!((m.cost - 0.00003).abs() < 1e-12, "{}", m.cost);
    // Its one response's quarter-hour names the model active then (and before: the first).
    let model = Some("claude-sonnet-4-5-20250929");
    assert_eq!(s1.model_at(secs("2026-11-20T10:14:59Z")), model);
    assert_eq!(s1.model_at(secs("2026-11-20T09:00:00Z")), model);
    // s2 has no response but a window; an empty branch is no branch.
    assert_eq!((full[1].branch.as_deref(), full[1].models.len()), (None, 0));
    // Built, then read back from the cache: the same.
    let (built, _) = session_activity(std::slice::from_ref(&path), &book, Some(&data)).expect("1");
    let (cached, _) = session_activity(std::slice::from_ref(&path), &book, Some(&data)).expect("2");
    assert!(dir.path().join("state/usage_cache.bin").exists());
    assert_eq!(built, full);
    assert_eq!(cached, full);
}

#[test]
fn the_ids_beside_the_cache_are_read_only_for_new_lines_and_a_lost_ids_file_is_a_full_read() {
    let (dir, path) = write_fixture();
    let cache = dir.path().join("state/usage_cache.bin");
    let ids = dir.path().join("state/usage_cache.ids.bin");
    let book = PriceBook::bundled();
    let (full, cached) = both(&dir, &path, &book, "UTC");
    assert_eq!(full, cached);
    assert!(cache.exists() && ids.exists());
    // Unchanged log: the cells alone answer; the ids are not needed.
    std::fs::remove_file(&ids).expect("remove ids");
    let (full, cached) = both(&dir, &path, &book, "UTC");
    assert_eq!(full, cached);
    // New lines, one a repeat of t3: without the ids the cache cannot dedupe them, so it is
    // not used (the full read's answer, the repeat not counted twice), and both come back.
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
    let repeat = turn(
        "t3",
        "s2",
        "gpt-5-codex",
        "2026-11-21T07:59:59Z",
        1_000_000,
        100_000,
        0,
        0,
        2_000_000,
    );
    f.write_all(format!("2T00:00:00Z\"}}\n{repeat}\n").as_bytes()).expect("append");
    drop(f);
    let (full, cached) = both(&dir, &path, &book, "UTC");
    assert_eq!(full, cached);
    assert!(full["daily"].as_array().is_some_and(|d| !d.is_empty()));
    assert!(ids.exists(), "the ids are written again");
    // A damaged ids file with new lines to read: a full read again.
    std::fs::write(&ids, b"garbage").expect("write");
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
    let t12 =
        turn("t12", "s1", "claude-haiku-4-5-20251001", "2026-11-25T10:00:00Z", 10, 0, 0, 0, 0);
    f.write_all(format!("{t12}\n").as_bytes()).expect("append");
    drop(f);
    let (full, cached) = both(&dir, &path, &book, "UTC");
    assert_eq!(full, cached);
}
