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
    assert_eq!(report.window.providers["claude-3"].turns, 2);
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
    agentos_ccc_client::JsonlLog::new(env.data.join("events.jsonl")).append_line(&bad).unwrap();
    let report = rec.finish_session(None).unwrap();
    assert_eq!(report.window.providers["claude-3"].turns, 1);
    assert_eq!(report.diagnostics.len(), 1, "{:?}", report.diagnostics);
    let d = &report.diagnostics[0];
    assert_eq!(d.line, 3);
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
