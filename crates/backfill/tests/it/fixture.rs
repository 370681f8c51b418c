//! The hand-written fixture (`fixtures/agent-history`), totals worked out by hand:
//!
//! Claude, session 1111…: msg_A1 streamed (output 2, then 50: the 50 counts) in 4, out 50,
//! cache write 100 (40 of them 1 h), read 1000; msg_A2 in 6, out 30, read 1200; msg_A3 (no
//! requestId, sidechain, haiku) in 3, out 7; the sub-agent file's msg_S1 (haiku) in 10, out 20,
//! read 500. A `<synthetic>` line is skipped; line 8 is cut off and line 9 is not JSON; line 7
//! is blank. Session 2222… (resumed) starts with copies of msg_A1 and msg_A2 (dropped), then
//! msg_B1 in 5, out 40, write 200, read 2000.
//! Codex, session 3333…: gpt-5-codex total (1000 in, 200 cached, 100 out) → in 800, read 200,
//! out 100; a re-emission (0); switch to gpt-5, last (1500, 1000 cached, 150 out) → in 500,
//! read 1000, out 150. Session 4444… writes totals only: (300, 0, 30) → in 300, out 30; the
//! same total again (0); (900, 100, 80) → delta (600, 100, 50) → in 500, read 100, out 50.

use crate::common::{Env, Totals, claude_line, totals, totals_by, write_lines};

#[test]
fn the_fixture_imports_to_the_hand_computed_totals() {
    let env = Env::with_fixture();
    let (report, events) = env.import();
    let by_session = totals_by(&events, "session_id");
    assert_eq!(
        by_session["11111111-1111-4111-8111-111111111111"],
        Totals::new(4, 4 + 6 + 3 + 10, 50 + 30 + 7 + 20, 100, 40, 1000 + 1200 + 500)
    );
    assert_eq!(
        by_session["22222222-2222-4222-8222-222222222222"],
        Totals::new(1, 5, 40, 200, 0, 2000)
    );
    assert_eq!(
        by_session["33333333-3333-4333-8333-333333333333"],
        Totals::new(2, 800 + 500, 100 + 150, 0, 0, 200 + 1000)
    );
    assert_eq!(
        by_session["44444444-4444-4444-8444-444444444444"],
        Totals::new(2, 300 + 500, 30 + 50, 0, 0, 100)
    );
    let by_model = totals_by(&events, "model");
    assert_eq!(
        by_model["claude-sonnet-4-5-20250929"],
        Totals::new(3, 4 + 6 + 5, 50 + 30 + 40, 300, 40, 1000 + 1200 + 2000)
    );
    assert_eq!(by_model["claude-haiku-4-5-20251001"], Totals::new(2, 3 + 10, 7 + 20, 0, 0, 500));
    assert_eq!(by_model["gpt-5-codex"], Totals::new(1, 800, 100, 0, 0, 200));
    assert_eq!(by_model["gpt-5"], Totals::new(3, 500 + 300 + 500, 150 + 30 + 50, 0, 0, 1000 + 100));
    assert_eq!(by_model.len(), 4, "{by_model:?}");

    assert_eq!(report.responses, 9);
    assert_eq!(report.sessions, 4);
    assert_eq!(report.events, 13);
    assert_eq!(events.len(), 13);
    assert_eq!(report.synthetic, 1);
    // msg_A1's partial line, the two copies in the resumed file, two Codex re-emissions.
    assert_eq!(report.duplicates, 5);
    assert_eq!(report.blank_lines, 1);
    assert_eq!(report.malformed_lines, 2);
    let a = "11111111-1111-4111-8111-111111111111.jsonl";
    assert!(
        report.malformed[0].ends_with(&format!("{a}:8: truncated JSON (the line ends mid-value)")),
        "{:?}",
        report.malformed
    );
    assert!(
        report.malformed[1].ends_with(&format!("{a}:9: not a JSON object")),
        "{:?}",
        report.malformed
    );
    assert_eq!((report.files_seen, report.files_new, report.files_failed), (5, 5, 0));
}

#[test]
fn sessions_carry_the_agents_facts_and_subagent_turns_are_flagged() {
    let env = Env::with_fixture();
    let (_, events) = env.import();
    let session = |id: &str| {
        events
            .iter()
            .find(|e| e["type"] == "session" && e["session"]["session_id"] == id)
            .map(|e| e["session"].clone())
            .unwrap()
    };
    let a = session("11111111-1111-4111-8111-111111111111");
    assert_eq!(a["agent"], "claude-code");
    assert_eq!(a["repo_id"], "shop");
    assert_eq!(a["cwd"], "/home/dev/shop");
    assert_eq!(a["branch"], "main");
    assert_eq!(a["cli_version"], "2.0.14");
    assert_eq!(a["license_id"], "import");
    assert_eq!(a["privacy_tier"], "local");
    assert_eq!(a["created_at"], "2026-01-10T10:00:02.000000Z");
    assert_eq!(a["last_active_at"], "2026-01-10T10:07:00.000000Z");
    let c = session("33333333-3333-4333-8333-333333333333");
    assert_eq!(c["agent"], "codex");
    assert_eq!((c["branch"].as_str(), c["commit"].as_str()), (Some("feature/x"), Some("abc123")));
    assert_eq!((c["repo_id"].as_str(), c["cli_version"].as_str()), (Some("api"), Some("0.58.0")));
    assert_eq!(c["created_at"], "2026-01-12T08:01:00.000000Z");

    let sub = events.iter().find(|e| e["turn"]["tokens_in"] == 10).unwrap();
    assert_eq!(sub["turn"]["subagent"], "abc");
    assert_eq!(sub["turn"]["sidechain"], true);
    assert_eq!(sub["turn"]["responded_at"], "2026-01-10T10:03:00.000000Z");
    assert_eq!(sub["ts"], sub["turn"]["responded_at"]);
    let main = events.iter().find(|e| e["turn"]["tokens_in"] == 6).unwrap();
    assert_eq!(
        (main["turn"]["subagent"].as_str(), main["turn"]["sidechain"].as_bool()),
        (Some("main"), Some(false))
    );
    assert!(main.get("cost").is_none(), "imported turns are priced at read time");
}

#[test]
fn a_second_run_imports_nothing_and_reads_nothing() {
    let env = Env::with_fixture();
    let (first, _) = env.import();
    let before = std::fs::read(&env.log).unwrap();
    let (second, events) = env.import();
    assert_eq!(second.events, 0);
    assert!(events.is_empty());
    assert_eq!(
        (second.files_unchanged, second.files_read, second.bytes_read),
        (first.files_seen, 0, 0)
    );
    assert_eq!(std::fs::read(&env.log).unwrap(), before, "events.jsonl changed");
    assert_eq!(totals(&env.events()).responses, 9);
}

#[test]
fn the_state_lost_after_the_append_only_repeats_ids() {
    // A crash after the events were appended but before the ledger and index were committed:
    // the next run writes the same events again, with the same ids, which readers drop.
    let env = Env::with_fixture();
    let (_, first) = env.import();
    std::fs::remove_dir_all(&env.state).unwrap();
    let (_, again) = env.import();
    let ids = |ev: &[serde_json::Value]| {
        let mut v: Vec<String> =
            ev.iter().map(|e| e["event_id"].as_str().unwrap().to_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&first), ids(&again));
    assert_eq!(first, again, "the repeated events are identical");
    assert_eq!(totals(&env.events()), totals(&first));
}

#[test]
fn a_crash_between_the_index_and_the_ledger_only_repeats_ids() {
    // Appended events and a committed index, but the ledger from before: the next run reads
    // the same bytes again and finds every response in the index.
    let env = Env::with_fixture();
    env.import();
    let s = "bbbbbbbb-0000-4000-8000-00000000000c";
    let f = env.project("-home-dev-proj").join(format!("{s}.jsonl"));
    let m = "claude-opus-4-5-20251101";
    write_lines(&f, &[claude_line(s, "2026-02-01T10:00:00Z", "m1", Some("r1"), m, 1, 2, 0, 0)]);
    let ledger = env.state.join("ledger.json");
    let old_ledger = std::fs::read(&ledger).unwrap();
    let base = std::fs::read(env.state.join("index.bin")).ok();
    let log_before = std::fs::metadata(env.state.join("index.log")).map_or(0, |m| m.len());
    let (first, events) = env.import();
    assert_eq!((first.responses, totals(&events)), (1, Totals::new(1, 1, 2, 0, 0, 0)));
    // The run appended to the index log and left the base alone.
    assert_eq!(std::fs::read(env.state.join("index.bin")).ok(), base);
    assert!(std::fs::metadata(env.state.join("index.log")).unwrap().len() > log_before);
    std::fs::write(&ledger, &old_ledger).unwrap();
    let (again, events) = env.import();
    assert_eq!((again.files_new, again.responses, again.duplicates), (1, 0, 1));
    assert!(events.is_empty(), "{events:?}");
    let (last, events) = env.import();
    assert_eq!((last.files_read, events.len()), (0, 0));
}
