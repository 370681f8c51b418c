//! Simulated crashes: mid-append, mid-write of an outbox file, between batching and cleanup,
//! and after a send but before its acknowledgement was recorded.

use std::collections::BTreeMap;

use agentos_testkit::{Reply, TestServer};

use crate::support::*;

fn full(env: &Env, url: &str) -> agentos_ccc_client::Recorder {
    install_pack(env, &signed_pack(&["telemetry_minimized", "telemetry_full"], FAR_FUTURE));
    recorder(env, "full", url).with_auto_flush(false)
}

#[test]
fn killed_mid_append_leaves_no_corrupt_record() {
    let env = env();
    let mut rec = recorder(&env, "local", &agentos_testkit::refused_url());
    start(&mut rec, &[]);
    rec.log_turn(turn("claude-3", 0.5, measurement(1.0, 1.0, 0.1, 1.0))).unwrap();
    // The process died halfway through writing the next turn.
    let path = env.data.join("events.jsonl");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(br#"{"type":"turn","turn":{"turn_id":"torn","sess"#);
    std::fs::write(&path, bytes).unwrap();
    // The next process goes on recording.
    let mut rec = recorder(&env, "local", &agentos_testkit::refused_url());
    rec.log_turn(turn("claude-3", 0.5, measurement(1.0, 1.0, 0.1, 1.0))).unwrap();
    let report = rec.finish_session(None).unwrap();
    assert_eq!(report.diagnostics.len(), 1, "{:?}", report.diagnostics);
    assert_eq!(report.window.providers["anthropic"].turns, 2);
    let log = agentos_ccc_client::JsonlLog::new(path);
    let (good, bad) = log.read_all().unwrap();
    assert_eq!(good.len(), 4, "session, 2 turns, end");
    assert_eq!(bad.len(), 1);
    for line in &good {
        let v = agentos_event_schema::validate::validate(
            agentos_event_schema::catalog::SchemaKind::V1Event,
            line,
        );
        assert!(v.is_empty(), "{v:?}");
    }
    assert_eq!(summary(&env)["turns"], 2);
    assert_eq!(summary(&env)["diagnostics"], 1);
}

#[test]
fn half_written_outbox_temp_files_are_ignored() {
    let server = TestServer::always(Reply::json(200, "{}"));
    let env = env();
    let mut rec = full(&env, &server.url());
    start(&mut rec, &[]);
    rec.log_turn(turn("claude-3", 0.5, None)).unwrap();
    rec.end_session(None).unwrap();
    // A crash while writing a queue item and a batch: temp files with half a JSON document.
    for dir in ["queue", "pending"] {
        let d = env.data.join("outbox").join(dir);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(".tmp-deadbeef"), br#"{"key":"half"#).unwrap();
    }
    let st = rec.outbox_status().unwrap();
    assert_eq!(st.queued_events, 3);
    assert_eq!(st.pending.len(), 1);
    let report = rec.flush(false).unwrap().unwrap();
    assert!(report.problem.is_none());
    assert_eq!(report.delivered.len(), 2);
    let st = rec.outbox_status().unwrap();
    assert!(st.pending.is_empty() && st.queued_events == 0);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn crash_between_batching_and_queue_cleanup_neither_loses_nor_duplicates() {
    let server = TestServer::always(Reply::json(200, "{}"));
    let env = env();
    let mut rec = full(&env, &server.url());
    start(&mut rec, &[]);
    for _ in 0..5 {
        rec.log_turn(turn("claude-3", 0.1, None)).unwrap();
    }
    let queue = env.data.join("outbox/queue");
    let saved: BTreeMap<String, Vec<u8>> = std::fs::read_dir(&queue)
        .unwrap()
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    assert_eq!(saved.len(), 6);
    assert_eq!(rec.outbox().seal().unwrap(), 1);
    // The crash: the batch was written but the queue files were not deleted.
    for (name, bytes) in &saved {
        std::fs::write(queue.join(name), bytes).unwrap();
    }
    rec.log_turn(turn("claude-3", 0.1, None)).unwrap();
    rec.end_session(None).unwrap();
    rec.flush(false).unwrap();
    let mut ids = Vec::new();
    for r in on(&server, "/v1/events") {
        for e in body(&r)["events"].as_array().unwrap() {
            ids.push(e["event_id"].as_str().unwrap().to_owned());
        }
    }
    let mut local: Vec<String> = lines(&env.data.join("events.jsonl"))
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), local.len(), "duplicated or lost: {ids:?}");
    ids.sort();
    local.sort();
    assert_eq!(ids, local);
}

#[test]
fn crash_after_send_before_ack_replays_with_the_same_key() {
    let server = TestServer::always(Reply::json(200, "{}"));
    let env = env();
    install_pack(&env, &signed_pack(&["telemetry_minimized"], FAR_FUTURE));
    let mut rec = recorder(&env, "minimized", &server.url()).with_auto_flush(false);
    rec.upload_minimized_metrics().unwrap();
    let pending = env.data.join("outbox/pending");
    let files: Vec<_> = std::fs::read_dir(&pending).unwrap().flatten().collect();
    assert_eq!(files.len(), 1);
    let (name, bytes) = (
        files[0].file_name().to_string_lossy().into_owned(),
        std::fs::read(files[0].path()).unwrap(),
    );
    rec.flush(false).unwrap();
    assert_eq!(server.requests().len(), 1);
    // The process died after CCC answered but before the batch file was removed.
    std::fs::write(pending.join(&name), &bytes).unwrap();
    let report = rec.flush(false).unwrap().unwrap();
    assert_eq!(report.delivered.len(), 1);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].header("idempotency-key"), reqs[1].header("idempotency-key"));
    assert_eq!(reqs[0].body, reqs[1].body);
    assert!(rec.outbox_status().unwrap().pending.is_empty());
}

#[test]
fn an_unreadable_turn_of_the_session_is_reported_not_silently_dropped() {
    let env = env();
    let mut rec = recorder(&env, "local", &agentos_testkit::refused_url());
    let sid = start(&mut rec, &[]);
    rec.log_turn(turn("claude-3", 0.5, None)).unwrap();
    // A turn line of this session that is JSON but not a v1 turn (e.g. edited by hand).
    let bad = format!(r#"{{"type":"turn","turn":{{"session_id":"{sid}","tokens_in":"many"}}}}"#);
    let at = std::fs::metadata(env.data.join("events.jsonl")).unwrap().len();
    agentos_ccc_client::JsonlLog::new(env.data.join("events.jsonl")).append_line(&bad).unwrap();
    let report = rec.finish_session(None).unwrap();
    assert_eq!(report.window.providers["anthropic"].turns, 1);
    assert_eq!(report.diagnostics.len(), 1, "{:?}", report.diagnostics);
    let d = &report.diagnostics[0];
    // The window scan starts where the session began: lines are located by byte offset.
    assert_eq!((d.line, d.offset), (0, at));
    assert!(d.to_string().contains(&format!("(at byte {at})")), "{d}");
    assert!(d.message.contains("left out of the window"), "{d}");
}

#[test]
fn stale_temp_files_from_a_crash_are_removed_and_fresh_ones_kept() {
    let server = TestServer::always(Reply::json(200, "{}"));
    let env = env();
    let mut rec = full(&env, &server.url());
    start(&mut rec, &[]);
    rec.end_session(None).unwrap();
    let outbox = env.data.join("outbox");
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let mut stale = Vec::new();
    for dir in ["", "queue", "pending", "dead"] {
        let d = outbox.join(dir);
        std::fs::create_dir_all(&d).unwrap();
        // The temp-file name `agentos_rollup::write_atomic` uses.
        let p = d.join(".x.json.tmp.123.0");
        std::fs::write(&p, b"{\"half").unwrap();
        std::fs::File::options().write(true).open(&p).unwrap().set_modified(old).unwrap();
        stale.push(p);
    }
    let fresh = outbox.join("pending/.y.json.tmp.123.1");
    std::fs::write(&fresh, b"{").unwrap();
    let report = rec.flush(false).unwrap().unwrap();
    assert_eq!(report.delivered.len(), 2);
    for p in &stale {
        assert!(!p.exists(), "{p} not cleaned");
    }
    assert!(fresh.exists(), "a temp file of a live writer was removed");
    assert!(outbox.join(".lock").exists());
}

/// Event ids in every `/v1/events` request, in order (duplicates kept).
fn sent_ids(server: &TestServer) -> Vec<String> {
    let mut ids = Vec::new();
    for r in on(server, "/v1/events") {
        for e in body(&r)["events"].as_array().unwrap() {
            ids.push(e["event_id"].as_str().unwrap().to_owned());
        }
    }
    ids
}

fn ids_of(events: &[serde_json::Value]) -> Vec<String> {
    events.iter().map(|e| e["event_id"].as_str().unwrap().to_owned()).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Append a copy of the last turn line of `events.jsonl` with a fresh event id (and, if
/// given, another session id) straight to the log, as a process that died right after its
/// append would have left it. Returns the new event id.
fn append_unqueued_turn(env: &Env, session_id: Option<&str>) -> String {
    let path = env.data.join("events.jsonl");
    let mut turn = lines(&path).into_iter().rev().find(|e| e["type"] == "turn").unwrap();
    let id = uuid_like();
    turn["event_id"] = id.clone().into();
    turn["turn"]["turn_id"] = format!("t-{id}").into();
    if let Some(sid) = session_id {
        turn["turn"]["session_id"] = sid.into();
    }
    agentos_ccc_client::JsonlLog::new(path).append_line(&turn.to_string()).unwrap();
    id
}

fn uuid_like() -> String {
    agentos_ccc_client::SessionId::random().to_string()
}

#[test]
fn a_full_tier_event_appended_but_never_queued_is_delivered_exactly_once() {
    let server = TestServer::always(Reply::json(200, "{}"));
    let env = env();
    let mut rec = full(&env, &server.url());
    start(&mut rec, &[]);
    rec.log_turn(turn("claude-3", 0.5, None)).unwrap();
    assert_eq!(rec.outbox_status().unwrap().queued_events, 2);
    // The process died between appending a turn and queueing it.
    let lost = append_unqueued_turn(&env, None);
    assert_eq!(rec.outbox_status().unwrap().queued_events, 2, "nothing queued it yet");
    // A new process: its first flush catches up before batching.
    let rec = full(&env, &server.url());
    let report = rec.flush(false).unwrap().unwrap();
    assert!(report.problem.is_none());
    let sent = sent_ids(&server);
    assert_eq!(sent.iter().filter(|i| **i == lost).count(), 1, "{sent:?}");
    assert_eq!(sorted(sent), sorted(ids_of(&lines(&env.data.join("events.jsonl")))));
    // And once only: later records and flushes do not send it again.
    let mut rec = full(&env, &server.url());
    rec.log_turn(turn("claude-3", 0.5, None)).unwrap();
    rec.end_session(None).unwrap();
    rec.flush(false).unwrap();
    let sent = sent_ids(&server);
    assert_eq!(sent.iter().filter(|i| **i == lost).count(), 1);
    assert_eq!(sorted(sent), sorted(ids_of(&lines(&env.data.join("events.jsonl")))));
    let st = rec.outbox_status().unwrap();
    assert_eq!(st.not_uploaded_tier_unknown, 0);
    assert_eq!(st.watermark, Some(std::fs::metadata(env.data.join("events.jsonl")).unwrap().len()));
}

#[test]
fn the_next_record_queues_an_event_a_crashed_process_left_unqueued() {
    let server = TestServer::always(Reply::json(200, "{}"));
    let env = env();
    let mut rec = full(&env, &server.url());
    start(&mut rec, &[]);
    let lost = append_unqueued_turn_after_first_turn(&env, &mut rec);
    let mut rec = full(&env, &server.url());
    rec.log_turn(turn("claude-3", 0.5, None)).unwrap();
    // session, turn, the lost turn, the new turn — in log order.
    let queued = rec.outbox().queued_events().unwrap();
    let queued_ids = ids_of(&queued);
    assert_eq!(queued_ids, ids_of(&lines(&env.data.join("events.jsonl"))));
    assert_eq!(queued_ids[2], lost);
}

fn append_unqueued_turn_after_first_turn(
    env: &Env,
    rec: &mut agentos_ccc_client::Recorder,
) -> String {
    rec.log_turn(turn("claude-3", 0.5, None)).unwrap();
    append_unqueued_turn(env, None)
}

#[test]
fn a_crash_between_queueing_and_the_watermark_write_uploads_no_duplicate() {
    let server = TestServer::always(Reply::json(200, "{}"));
    let env = env();
    let mut rec = full(&env, &server.url());
    start(&mut rec, &[]);
    let watermark = env.data.join("outbox/events.offset.json");
    let before = std::fs::read(&watermark).unwrap();
    rec.log_turn(turn("claude-3", 0.5, None)).unwrap();
    rec.log_turn(turn("claude-3", 0.5, None)).unwrap();
    assert_eq!(rec.outbox_status().unwrap().queued_events, 3);
    // The process died after queueing the two turns but before moving the watermark.
    std::fs::write(&watermark, &before).unwrap();
    rec.log_turn(turn("claude-3", 0.5, None)).unwrap();
    assert_eq!(rec.outbox_status().unwrap().queued_events, 4, "re-queueing rewrote the same files");
    rec.end_session(None).unwrap();
    // Again, this time with the events already batched by an earlier flush.
    let before = std::fs::read(&watermark).unwrap();
    let mut rec = full(&env, &server.url());
    start(&mut rec, &[]);
    rec.log_turn(turn("claude-3", 0.5, None)).unwrap();
    std::fs::write(&watermark, &before).unwrap();
    let report = rec.flush(false).unwrap().unwrap();
    assert!(report.problem.is_none());
    rec.end_session(None).unwrap();
    rec.flush(false).unwrap();
    let sent = sent_ids(&server);
    let local = ids_of(&lines(&env.data.join("events.jsonl")));
    assert_eq!(local.len(), 8);
    assert_eq!(sent.len(), local.len(), "duplicated or lost: {sent:?}");
    assert_eq!(sorted(sent), sorted(local));
}

#[test]
fn a_local_session_between_two_full_sessions_is_never_uploaded() {
    let server = TestServer::always(Reply::json(200, "{}"));
    let env = env();
    let record_session = |tier: &str| {
        let mut rec = recorder(&env, tier, &server.url()).with_auto_flush(false);
        start(&mut rec, &[]);
        rec.log_turn(turn("claude-3", 0.5, None)).unwrap();
        rec.end_session(Some("private notes".into())).unwrap();
        let n = lines(&env.data.join("events.jsonl")).len();
        ids_of(&lines(&env.data.join("events.jsonl"))[n - 3..])
    };
    install_pack(&env, &signed_pack(&["telemetry_minimized", "telemetry_full"], FAR_FUTURE));
    let a = record_session("full");
    let b = record_session("local");
    // A full-tier flush catches up over the local session before batching.
    full(&env, &server.url()).flush(false).unwrap().unwrap();
    let c = record_session("full");
    full(&env, &server.url()).flush(false).unwrap().unwrap();
    let sent = sent_ids(&server);
    for id in &b {
        assert!(!sent.contains(id), "local-tier event {id} was uploaded");
    }
    assert_eq!(sorted(sent), sorted([a, c].concat()));
    let st = full(&env, &server.url()).outbox_status().unwrap();
    assert_eq!(st.not_uploaded_tier_unknown, 0, "the local session's tier is known");
    assert!(st.queued_events == 0 && st.pending.is_empty());
}

#[test]
fn events_of_a_session_with_an_unknown_tier_are_not_uploaded() {
    let server = TestServer::always(Reply::json(200, "{}"));
    let env = env();
    let mut rec = full(&env, &server.url());
    start(&mut rec, &[]);
    rec.log_turn(turn("claude-3", 0.5, None)).unwrap();
    // A turn of a session whose start is nowhere the outbox can see (before the watermark,
    // not active, never seen in the full tier).
    let ghost = append_unqueued_turn(&env, Some("ghost-session"));
    rec.log_turn(turn("claude-3", 0.5, None)).unwrap();
    rec.end_session(None).unwrap();
    rec.flush(false).unwrap();
    let sent = sent_ids(&server);
    assert!(!sent.contains(&ghost), "a turn of a session of unknown tier was uploaded");
    let mut local = ids_of(&lines(&env.data.join("events.jsonl")));
    local.retain(|i| *i != ghost);
    assert_eq!(sorted(sent), sorted(local));
    assert_eq!(rec.outbox_status().unwrap().not_uploaded_tier_unknown, 1);
}

#[test]
fn a_session_started_before_the_watermark_is_judged_by_the_active_session_state() {
    let server = TestServer::always(Reply::json(200, "{}"));
    let env = env();
    // Started in the full tier while no license was installed: recorded, nothing queued.
    let mut rec = recorder(&env, "full", &server.url()).with_auto_flush(false);
    start(&mut rec, &[]);
    assert!(!env.data.join("outbox").exists());
    // The license arrives; the session's later events go out, its start (before the
    // watermark) does not.
    let mut rec = full(&env, &server.url());
    rec.log_turn(turn("claude-3", 0.5, None)).unwrap();
    rec.end_session(None).unwrap();
    rec.flush(false).unwrap();
    let local = ids_of(&lines(&env.data.join("events.jsonl")));
    assert_eq!(sorted(sent_ids(&server)), sorted(local[1..].to_vec()));
    // A session started in the local tier and continued under the full tier is not uploaded.
    let mut rec = recorder(&env, "local", &server.url());
    start(&mut rec, &[]);
    let mut rec = full(&env, &server.url());
    rec.log_turn(turn("claude-3", 0.5, None)).unwrap();
    rec.end_session(None).unwrap();
    rec.flush(false).unwrap();
    assert_eq!(sent_ids(&server).len(), 2);
    assert_eq!(rec.outbox_status().unwrap().not_uploaded_tier_unknown, 0);
}

#[test]
fn ending_a_session_again_after_a_crash_appends_no_second_end_or_window() {
    let env = env();
    let mut rec = recorder(&env, "local", &agentos_testkit::refused_url());
    let sid = start(&mut rec, &[]);
    rec.log_turn(turn("claude-3", 0.5, measurement(1.0, 1.0, 0.1, 1.0))).unwrap();
    let state = env.data.join("state/active_session.json");
    let saved = std::fs::read(&state).unwrap();
    let first = rec.finish_session(None).unwrap();
    let ends = |env: &Env| {
        lines(&env.data.join("events.jsonl")).iter().filter(|e| e["type"] == "session_end").count()
    };
    // 1. Died after appending `session_end`, before the window record.
    std::fs::write(&state, &saved).unwrap();
    std::fs::write(env.data.join("windows.jsonl"), b"").unwrap();
    let mut rec = recorder(&env, "local", &agentos_testkit::refused_url());
    let second = rec.finish_session(None).unwrap();
    assert_eq!(ends(&env), 1, "a second session_end was appended");
    let windows = lines(&env.data.join("windows.jsonl"));
    assert_eq!(windows.len(), 1, "the missing window record was written");
    assert_eq!(second.window.ended_at, first.window.ended_at, "ended_at of the recorded end");
    assert_eq!(windows[0]["providers"]["anthropic"]["turns"], 1);
    assert!(!state.exists());
    // 2. Died after the window record, before clearing the state.
    std::fs::write(&state, &saved).unwrap();
    let mut rec = recorder(&env, "local", &agentos_testkit::refused_url());
    assert_eq!(rec.active_session().map(|s| s.to_string()), Some(sid.clone()));
    let third = rec.finish_session(None).unwrap();
    assert_eq!(ends(&env), 1);
    assert_eq!(lines(&env.data.join("windows.jsonl")).len(), 1, "a second window was appended");
    assert_eq!(third.window, second.window);
    assert!(!state.exists());
    assert!(rec.active_session().is_none());
    // A new session with its own end is unaffected.
    let next = start(&mut rec, &[]);
    rec.end_session(None).unwrap();
    assert_eq!(ends(&env), 2);
    assert_eq!(lines(&env.data.join("windows.jsonl"))[1]["session_id"], next.as_str());
}

#[test]
fn a_full_tier_session_end_left_unqueued_by_a_crash_is_queued_by_ending_again() {
    let server = TestServer::always(Reply::json(200, "{}"));
    let env = env();
    let mut rec = full(&env, &server.url());
    start(&mut rec, &[]);
    let state = env.data.join("state/active_session.json");
    let saved = std::fs::read(&state).unwrap();
    rec.end_session(None).unwrap();
    // Died after appending `session_end`, before queueing it or writing anything else.
    let watermark = env.data.join("outbox/events.offset.json");
    let mut wm: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&watermark).unwrap()).unwrap();
    let queue = env.data.join("outbox/queue");
    let end_file = std::fs::read_dir(&queue).unwrap().flatten().map(|e| e.path()).max().unwrap();
    std::fs::remove_file(end_file).unwrap();
    let end_line = std::fs::read_to_string(env.data.join("events.jsonl")).unwrap();
    let end_len = end_line.lines().last().unwrap().len() as u64 + 1;
    wm["offset"] = (wm["offset"].as_u64().unwrap() - end_len).into();
    std::fs::write(&watermark, wm.to_string()).unwrap();
    std::fs::write(&state, &saved).unwrap();
    std::fs::write(env.data.join("windows.jsonl"), b"").unwrap();
    let mut rec = full(&env, &server.url());
    assert_eq!(rec.outbox_status().unwrap().queued_events, 1);
    rec.end_session(None).unwrap();
    assert_eq!(rec.outbox_status().unwrap().queued_events, 2);
    rec.flush(false).unwrap();
    let local = ids_of(&lines(&env.data.join("events.jsonl")));
    assert_eq!(local.len(), 2);
    assert_eq!(sorted(sent_ids(&server)), sorted(local));
}

#[test]
fn lowering_the_tier_during_a_full_session_keeps_the_rest_of_it_local() {
    let server = TestServer::always(Reply::json(200, "{}"));
    let env = env();
    let events = env.data.join("events.jsonl");
    let mut first = full(&env, &server.url());
    start(&mut first, &[]);
    first.log_turn(turn("claude-3", 0.5, None)).unwrap();
    let uploaded_before = ids_of(&lines(&events));
    drop(first);
    // The user switches the same session to the local tier for one turn …
    let mut local = recorder(&env, "local", &server.url()).with_auto_flush(false);
    local.log_turn(turn("claude-3", 0.25, None)).unwrap();
    drop(local);
    let local_turn = ids_of(&lines(&events)).pop().unwrap();
    // … then back to full for the rest: the session stays at the lower tier.
    let mut again = full(&env, &server.url());
    again.log_turn(turn("claude-3", 0.25, None)).unwrap();
    again.end_session(Some("private notes".into())).unwrap();
    again.flush(true).unwrap().unwrap();
    let all = ids_of(&lines(&events));
    assert_eq!(all.len(), 5, "every event is recorded locally");
    let sent = sent_ids(&server);
    assert!(!sent.contains(&local_turn), "the turn recorded in the local tier was uploaded");
    assert_eq!(sorted(sent), sorted(uploaded_before), "only what was recorded before lowering");
    let downgraded = std::fs::read_to_string(env.data.join("state/downgraded_sessions.json"))
        .expect("the lowered session is remembered");
    assert!(downgraded.contains(lines(&events)[0]["session"]["session_id"].as_str().unwrap()));
}
