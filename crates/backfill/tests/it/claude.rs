//! Claude Code counting rules on generated transcripts: streaming snapshots, copies in
//! resumed sessions, corrections across runs, sub-agent files.

use crate::common::{Env, Totals, append_lines, claude_line, totals, totals_by, write_lines};

const SONNET: &str = "claude-sonnet-4-5-20250929";

#[test]
fn streaming_snapshots_keep_the_largest_usage() {
    let env = Env::new();
    let p = env.project("-home-dev-proj");
    let s = "aaaaaaaa-0000-4000-8000-000000000001";
    write_lines(
        &p.join(format!("{s}.jsonl")),
        &[
            claude_line(s, "2026-02-01T10:00:00Z", "msg_1", Some("req_1"), SONNET, 3, 1, 10, 100),
            claude_line(s, "2026-02-01T10:00:01Z", "msg_2", Some("req_2"), SONNET, 7, 2, 0, 50),
            claude_line(s, "2026-02-01T10:00:02Z", "msg_1", Some("req_1"), SONNET, 3, 5, 10, 100),
            claude_line(s, "2026-02-01T10:00:03Z", "msg_1", Some("req_1"), SONNET, 3, 12, 10, 100),
            claude_line(s, "2026-02-01T10:00:04Z", "msg_2", Some("req_2"), SONNET, 7, 9, 0, 50),
            // An earlier snapshot written late (out of order) does not lower the count.
            claude_line(s, "2026-02-01T10:00:05Z", "msg_1", Some("req_1"), SONNET, 3, 4, 10, 100),
        ],
    );
    let (report, events) = env.import();
    assert_eq!(totals(&events), Totals::new(2, 3 + 7, 12 + 9, 10, 0, 100 + 50));
    assert_eq!((report.responses, report.duplicates), (2, 4));
    let msg1 = events.iter().find(|e| e["turn"]["tokens_out"] == 12).unwrap();
    assert_eq!(msg1["turn"]["responded_at"], "2026-02-01T10:00:03.000000Z", "the kept line's time");
}

#[test]
fn a_response_seen_mid_stream_is_completed_by_a_correction() {
    let env = Env::new();
    let p = env.project("-home-dev-proj");
    let s = "aaaaaaaa-0000-4000-8000-000000000002";
    let f = p.join(format!("{s}.jsonl"));
    write_lines(
        &f,
        &[claude_line(s, "2026-02-01T10:00:00Z", "msg_1", Some("r1"), SONNET, 3, 2, 10, 100)],
    );
    let (_, first) = env.import();
    assert_eq!(totals(&first), Totals::new(1, 3, 2, 10, 0, 100));
    append_lines(
        &f,
        &[
            claude_line(s, "2026-02-01T10:00:01Z", "msg_1", Some("r1"), SONNET, 3, 40, 10, 100),
            claude_line(s, "2026-02-01T10:00:02Z", "msg_1", Some("r1"), SONNET, 3, 41, 10, 100),
        ],
    );
    let (report, second) = env.import();
    assert_eq!((report.responses, report.corrections), (0, 1));
    assert_eq!(second.len(), 2, "a correction and the session's new span: {second:?}");
    let fix = second.iter().find(|e| e["type"] == "turn").unwrap();
    assert_eq!(fix["turn"]["tokens_out"], 41 - 2, "only the increase");
    assert_eq!(
        (fix["turn"]["tokens_in"].as_u64(), fix["turn"]["cache_read_tokens"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        fix["turn"]["revises"],
        first.iter().find(|e| e["type"] == "turn").unwrap()["event_id"]
    );
    // The total is exact and the response is counted once.
    assert_eq!(totals(&env.events()), Totals::new(1, 3, 41, 10, 0, 100));
    // A third run with the same final line changes nothing.
    append_lines(
        &f,
        &[claude_line(s, "2026-02-01T10:00:03Z", "msg_1", Some("r1"), SONNET, 3, 41, 10, 100)],
    );
    let (report, third) = env.import();
    assert_eq!((report.events, report.duplicates), (0, 1));
    assert!(third.is_empty());
}

#[test]
fn a_copied_response_belongs_to_the_first_file_by_its_time() {
    let env = Env::new();
    let p = env.project("-home-dev-proj");
    let (x, y) = ("aaaaaaaa-0000-4000-8000-00000000000a", "aaaaaaaa-0000-4000-8000-00000000000b");
    // The resumed file copies msg_1 (here even under its own session id) before going on.
    write_lines(
        &p.join(format!("{y}.jsonl")),
        &[
            claude_line(y, "2026-02-01T10:00:00Z", "msg_1", Some("r1"), SONNET, 1, 10, 0, 0),
            claude_line(y, "2026-02-02T09:00:00Z", "msg_2", Some("r2"), SONNET, 2, 20, 0, 0),
        ],
    );
    write_lines(
        &p.join(format!("{x}.jsonl")),
        &[
            claude_line(x, "2026-02-01T09:59:00Z", "msg_0", Some("r0"), SONNET, 4, 40, 0, 0),
            claude_line(x, "2026-02-01T10:00:00Z", "msg_1", Some("r1"), SONNET, 1, 10, 0, 0),
        ],
    );
    let (report, events) = env.import();
    let by = totals_by(&events, "session_id");
    assert_eq!(by[x], Totals::new(2, 4 + 1, 40 + 10, 0, 0, 0));
    assert_eq!(by[y], Totals::new(1, 2, 20, 0, 0, 0));
    assert_eq!(report.duplicates, 1);
}

#[test]
fn a_copy_in_a_later_run_is_dropped() {
    let env = Env::new();
    let p = env.project("-home-dev-proj");
    let (x, y) = ("aaaaaaaa-0000-4000-8000-00000000000c", "aaaaaaaa-0000-4000-8000-00000000000d");
    let copied = claude_line(x, "2026-02-01T10:00:00Z", "msg_1", Some("r1"), SONNET, 1, 10, 0, 0);
    write_lines(&p.join(format!("{x}.jsonl")), std::slice::from_ref(&copied));
    env.import();
    write_lines(
        &p.join(format!("{y}.jsonl")),
        &[copied, claude_line(y, "2026-02-02T09:00:00Z", "msg_2", Some("r2"), SONNET, 2, 20, 0, 0)],
    );
    let (report, _) = env.import();
    assert_eq!((report.responses, report.duplicates), (1, 1));
    let by = totals_by(&env.events(), "session_id");
    assert_eq!((by[x].responses, by[y].responses), (1, 1));
}

#[test]
fn message_id_alone_is_the_key_without_request_id_and_sub_agent_files_count() {
    let env = Env::new();
    let p = env.project("-home-dev-proj");
    let s = "aaaaaaaa-0000-4000-8000-00000000000e";
    write_lines(
        &p.join(format!("{s}.jsonl")),
        &[
            claude_line(s, "2026-02-01T10:00:00Z", "msg_1", None, SONNET, 1, 1, 0, 0),
            claude_line(s, "2026-02-01T10:00:01Z", "msg_1", None, SONNET, 1, 3, 0, 0),
        ],
    );
    let sub = p.join(s).join("subagents");
    std::fs::create_dir_all(&sub).unwrap();
    // A sub-agent line without sessionId belongs to the session its directory names.
    let mut line: serde_json::Value = serde_json::from_str(&claude_line(
        s,
        "2026-02-01T10:00:02Z",
        "msg_9",
        Some("r9"),
        "claude-haiku-4-5",
        5,
        6,
        0,
        0,
    ))
    .unwrap();
    line.as_object_mut().unwrap().remove("sessionId");
    line["agentId"] = "a1b2".into();
    line["isSidechain"] = true.into();
    write_lines(&sub.join("agent-a1b2.jsonl"), &[line.to_string()]);
    let (_, events) = env.import();
    let by = totals_by(&events, "session_id");
    assert_eq!(by[s], Totals::new(2, 1 + 5, 3 + 6, 0, 0, 0));
    let t = events.iter().find(|e| e["turn"]["model"] == "claude-haiku-4-5").unwrap();
    assert_eq!(
        (t["turn"]["subagent"].as_str(), t["turn"]["sidechain"].as_bool()),
        (Some("a1b2"), Some(true))
    );
}

#[test]
fn a_legacy_cost_usd_is_carried_and_synthetic_lines_are_not_responses() {
    let env = Env::new();
    let p = env.project("-home-dev-proj");
    let s = "aaaaaaaa-0000-4000-8000-00000000000f";
    let mut priced: serde_json::Value = serde_json::from_str(&claude_line(
        s,
        "2026-02-01T10:00:00Z",
        "m1",
        Some("r1"),
        SONNET,
        1,
        2,
        0,
        0,
    ))
    .unwrap();
    priced["costUSD"] = 0.25.into();
    let mut null_cost: serde_json::Value = serde_json::from_str(&claude_line(
        s,
        "2026-02-01T10:00:01Z",
        "m2",
        Some("r2"),
        SONNET,
        3,
        4,
        0,
        0,
    ))
    .unwrap();
    null_cost["costUSD"] = serde_json::Value::Null;
    null_cost["cwd"] = serde_json::Value::Null;
    null_cost["version"] = "not-semver".into();
    let synthetic =
        claude_line(s, "2026-02-01T10:00:02Z", "m3", Some("r3"), "<synthetic>", 0, 0, 0, 0);
    write_lines(
        &p.join(format!("{s}.jsonl")),
        &[priced.to_string(), null_cost.to_string(), synthetic],
    );
    let (report, events) = env.import();
    assert_eq!((report.responses, report.synthetic, report.malformed_lines), (2, 1, 0));
    let t = events.iter().find(|e| e["turn"]["tokens_in"] == 1).unwrap();
    assert_eq!(t["cost"]["estimated_usd"], 0.25);
    assert_eq!(t["cost"]["provider"], "anthropic");
    let t = events.iter().find(|e| e["turn"]["tokens_in"] == 3).unwrap();
    assert!(t.get("cost").is_none());
    assert_eq!(totals(&events), Totals::new(2, 4, 6, 0, 0, 0));
}

#[test]
fn a_message_of_another_shape_is_an_error_only_in_an_assistant_line() {
    let env = Env::new();
    let p = env.project("-home-dev-proj");
    let s = "aaaaaaaa-0000-4000-8000-000000000010";
    let lines = [
        r#"{"type":"user","message":"what is the usage of this flag?"}"#.to_owned(),
        r#"{"type":"system","message":["usage"]}"#.to_owned(),
        r#"{"type":"assistant","message":"usage"}"#.to_owned(),
        claude_line(s, "2026-02-01T10:00:00Z", "m1", Some("r1"), SONNET, 1, 2, 0, 0),
    ];
    write_lines(&p.join(format!("{s}.jsonl")), &lines);
    let (report, events) = env.import();
    assert_eq!(totals(&events), Totals::new(1, 1, 2, 0, 0, 0));
    assert_eq!(report.malformed_lines, 1, "{:?}", report.malformed);
    assert!(
        report.malformed[0].contains(&format!("{s}.jsonl:3: unexpected JSON shape")),
        "{:?}",
        report.malformed
    );
}

#[test]
fn a_price_table_estimates_each_response_and_each_correction_and_never_prices_unknown_models() {
    let env = Env::new();
    let p = env.project("-home-dev-proj");
    let s = "aaaaaaaa-0000-4000-8000-0000000000e1";
    let f = p.join(format!("{s}.jsonl"));
    let t0 = "2026-02-01T10:00:00Z";
    write_lines(
        &f,
        &[
            claude_line(s, t0, "msg_1", Some("r1"), SONNET, 1_000, 2_000, 4_000, 10_000),
            claude_line(s, t0, "msg_2", Some("r2"), "mystery-model-7", 5, 5, 0, 0),
            // Seen mid-stream: 2 output tokens so far.
            claude_line(s, t0, "msg_3", Some("r3"), SONNET, 0, 2, 0, 0),
        ],
    );
    let mut options = env.options();
    options.prices = Some(agentos_event_schema::prices::PriceTable::bundled());
    let id = options.prices.as_ref().map(|t| t.id.clone());
    let (_, events) = env.import_with(&options);
    let cost_of = |events: &[serde_json::Value], model: &str, out: u64| {
        let e = events
            .iter()
            .find(|e| e["turn"]["model"] == model && e["turn"]["tokens_out"] == out)
            .unwrap_or_else(|| panic!("a turn of {model} with {out} output tokens"));
        e.get("cost").cloned()
    };
    // Sonnet 4.5 per 1M: input 3, output 15, 5-minute cache write 3.75, cache read 0.30:
    // 1,000×3 + 2,000×15 + 4,000×3.75 + 10,000×0.30 = 51,000 per 1M = $0.051.
    let c = cost_of(&events, SONNET, 2_000).expect("priced");
    assert!((c["estimated_usd"].as_f64().unwrap_or(-1.0) - 0.051).abs() < 1e-12, "{c}");
    assert_eq!(c["price_table"].as_str().map(str::to_owned), id);
    assert_eq!(c["provider"], "anthropic");
    assert_eq!(cost_of(&events, "mystery-model-7", 5), None, "unpriced, never $0");
    // The response completes (12 output tokens): the correction carries +10 output tokens,
    // 10×15 per 1M = $0.00015.
    append_lines(&f, &[claude_line(s, t0, "msg_3", Some("r3"), SONNET, 0, 12, 0, 0)]);
    let (_, events) = env.import_with(&options);
    let c = cost_of(&events, SONNET, 10).expect("the correction is priced");
    assert!((c["estimated_usd"].as_f64().unwrap_or(-1.0) - 0.000_15).abs() < 1e-15, "{c}");
}
