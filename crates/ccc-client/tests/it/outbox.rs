//! Outbox delivery against a fake CCC that fails on demand.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agentos_ccc_client::{ProblemKind, Recorder, Timeouts};
use agentos_testkit::{Reply, TestServer};

use crate::support::*;

fn full_recorder(env: &Env, url: &str) -> Recorder {
    install_pack(env, &signed_pack(&["telemetry_minimized", "telemetry_full"], FAR_FUTURE));
    recorder(env, "full", url).with_auto_flush(false)
}

/// `sessions` sessions of `turns` turns each, plus one summary per session.
fn record(rec: &mut Recorder, sessions: usize, turns: usize) {
    for _ in 0..sessions {
        start(rec, &[]);
        for _ in 0..turns {
            rec.log_turn(turn("claude-3", 0.01, measurement(1.0, 1.0, 0.1, 0.1))).unwrap();
        }
        rec.end_session(None).unwrap();
    }
}

fn local_event_ids(env: &Env) -> Vec<String> {
    lines(&env.data.join("events.jsonl"))
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn ccc_down_then_up_delivers_every_event_exactly_once_by_key() {
    const FAILURES: usize = 4;
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    // Fails the first requests in every way a CCC can be down, then accepts.
    let server = TestServer::start(move |_| match c.fetch_add(1, Ordering::SeqCst) {
        0 => Reply::Drop,
        1 => Reply::text(500, "boom"),
        2 => Reply::text(503, "unavailable"),
        3 => Reply::text(429, "slow down").with_header("Retry-After", "1"),
        _ => Reply::json(200, "{}"),
    });
    let env = env();
    // First the CCC is not even listening.
    let mut rec = full_recorder(&env, &agentos_testkit::refused_url());
    record(&mut rec, 3, 80);
    let report = rec.flush(true).unwrap().unwrap();
    assert!(report.delivered.is_empty());
    assert_eq!(report.problem.as_ref().unwrap().kind, ProblemKind::Unreachable);
    let status = rec.outbox_status().unwrap();
    assert!(status.pending.len() >= 4, "events batched + 3 summaries: {}", status.pending.len());
    assert_eq!(status.last_error.unwrap().kind, ProblemKind::Unreachable);

    let rec = full_recorder(&env, &server.url());
    let mut rounds = 0;
    while !rec.outbox_status().unwrap().pending.is_empty() {
        rounds += 1;
        assert!(rounds < 20, "outbox never drained");
        rec.flush(true).unwrap();
    }
    let requests = server.requests();
    assert!(requests.len() > FAILURES);
    let delivered = &requests[FAILURES..];
    let mut keys = std::collections::BTreeSet::new();
    let mut sent_ids = Vec::new();
    for r in delivered {
        assert!(
            keys.insert(r.header("idempotency-key").unwrap().to_owned()),
            "key delivered twice"
        );
        if r.path == "/v1/events" {
            for e in body(r)["events"].as_array().unwrap() {
                sent_ids.push(e["event_id"].as_str().unwrap().to_owned());
            }
        }
    }
    let local = local_event_ids(&env);
    assert_eq!(local.len(), 3 * 82);
    let mut sorted_sent = sent_ids.clone();
    sorted_sent.sort();
    sorted_sent.dedup();
    assert_eq!(sorted_sent.len(), sent_ids.len(), "an event was delivered twice");
    let mut sorted_local = local.clone();
    sorted_local.sort();
    assert_eq!(sorted_sent, sorted_local, "an event was lost");
    assert_eq!(delivered.iter().filter(|r| r.path == "/v1/metrics").count(), 3);
    // Every failed request was retried with its own key later (at-least-once, same key).
    for failed in &requests[..FAILURES] {
        let key = failed.header("idempotency-key").unwrap();
        assert!(keys.contains(key), "failed batch {key} never redelivered");
    }
    let sent_log = lines(&env.data.join("outbox/sent.jsonl"));
    assert_eq!(sent_log.len(), keys.len());
}

#[test]
fn server_errors_back_off_and_retry_after_is_honoured() {
    let server = TestServer::always(Reply::text(429, "busy").with_header("Retry-After", "120"));
    let env = env();
    let mut rec = full_recorder(&env, &server.url());
    record(&mut rec, 1, 1);
    let report = rec.flush(false).unwrap().unwrap();
    let problem = report.problem.unwrap();
    assert_eq!(problem.kind, ProblemKind::RateLimited);
    assert_eq!(problem.retry_after, Some(Duration::from_secs(120)));
    assert_eq!(server.requests().len(), 1, "stops at the first unhealthy answer");
    let pending = rec.outbox_status().unwrap().pending;
    let retried = pending.iter().find(|b| b.attempts == 1).unwrap();
    let wait =
        retried.next_attempt_at.unwrap().as_unix_seconds() - jiff::Timestamp::now().as_second();
    assert!((110..=121).contains(&wait), "next attempt in {wait}s");
    // A normal flush respects the schedule: no request for the waiting batch.
    let report = rec.flush(false).unwrap().unwrap();
    assert!(report.waiting >= 1);
    assert_eq!(server.requests().len(), 2, "only the never-tried batch was attempted");
    // force ignores it.
    rec.flush(true).unwrap();
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn server_errors_schedule_exponential_backoff() {
    let server = TestServer::always(Reply::text(500, "internal"));
    let env = env();
    let mut rec = full_recorder(&env, &server.url());
    record(&mut rec, 1, 1);
    let report = rec.flush(false).unwrap().unwrap();
    assert_eq!(report.problem.unwrap().kind, ProblemKind::ServerError);
    let b = rec.outbox_status().unwrap().pending.into_iter().find(|b| b.attempts == 1).unwrap();
    let wait = b.next_attempt_at.unwrap().as_unix_seconds() - jiff::Timestamp::now().as_second();
    assert!((0..=2).contains(&wait), "first backoff within 1-2 s, got {wait}");
    assert!(b.last_error.unwrap().contains("HTTP 500"));
}

#[test]
fn slow_and_dropped_connections_are_kept_and_replayed_with_the_same_key() {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let server = TestServer::start(move |_| match c.fetch_add(1, Ordering::SeqCst) {
        0 => Reply::Delay(Duration::from_millis(1500), Box::new(Reply::json(200, "{}"))),
        1 => Reply::Drop,
        _ => Reply::json(200, "{}"),
    });
    let env = env();
    install_pack(&env, &signed_pack(&["telemetry_minimized"], FAR_FUTURE));
    let mut rec =
        recorder(&env, "minimized", &server.url()).with_auto_flush(false).with_timeouts(Timeouts {
            connect: Duration::from_millis(500),
            total: Duration::from_millis(300),
        });
    rec.upload_minimized_metrics().unwrap();
    let r1 = rec.flush(false).unwrap().unwrap();
    let p = r1.problem.unwrap();
    assert_eq!(p.kind, ProblemKind::Unreachable);
    assert!(p.message.contains("timed out"), "{}", p.message);
    let r2 = rec.flush(true).unwrap().unwrap();
    assert_eq!(r2.problem.unwrap().kind, ProblemKind::Unreachable);
    let r3 = rec.flush(true).unwrap().unwrap();
    assert_eq!(r3.delivered.len(), 1);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    let key = reqs[0].header("idempotency-key").unwrap();
    assert!(reqs.iter().all(|r| r.header("idempotency-key") == Some(key)));
    assert!(reqs.iter().all(|r| r.body == reqs[0].body), "replay changed the body");
}

#[test]
fn auth_and_missing_endpoint_are_kept_and_reported() {
    for (status, kind, words) in [
        (401, ProblemKind::Auth, "CCC_API_KEY"),
        (403, ProblemKind::Auth, "credentials"),
        (404, ProblemKind::NotAccepting, "this CCC does not accept uploads"),
        (405, ProblemKind::NotAccepting, "this CCC does not accept uploads"),
    ] {
        let server = TestServer::always(Reply::text(status, "404 page not found"));
        let env = env();
        let mut rec = full_recorder(&env, &server.url());
        record(&mut rec, 1, 2);
        let report = rec.flush(true).unwrap().unwrap();
        let p = report.problem.unwrap();
        assert_eq!(p.kind, kind, "{status}");
        assert!(p.message.contains(words), "{status}: {}", p.message);
        assert!(!p.message.contains("sk-test-secret"));
        let st = rec.outbox_status().unwrap();
        assert_eq!(st.pending.len(), 2, "{status}: batches must be kept");
        assert_eq!(st.dead_lettered, 0);
        assert_eq!(st.last_error.unwrap().kind, kind);
    }
}

#[test]
fn other_client_errors_go_to_the_dead_letter_directory_with_the_response() {
    let server = TestServer::always(Reply::json(422, r#"{"error":"schema mismatch"}"#));
    let env = env();
    let mut rec = full_recorder(&env, &server.url());
    record(&mut rec, 1, 1);
    let report = rec.flush(true).unwrap().unwrap();
    assert_eq!(report.dead_lettered.len(), 2, "a rejection does not stop other batches");
    assert!(report.problem.is_none());
    let st = rec.outbox_status().unwrap();
    assert!(st.pending.is_empty());
    assert_eq!(st.dead_lettered, 2);
    assert_eq!(st.last_error.unwrap().kind, ProblemKind::Rejected);
    let dead: Vec<_> = std::fs::read_dir(env.data.join("outbox/dead")).unwrap().flatten().collect();
    for d in dead {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.path()).unwrap()).unwrap();
        assert_eq!(v["response"]["status"], 422);
        assert!(v["response"]["body"].as_str().unwrap().contains("schema mismatch"));
        assert!(v["batch"]["body"]["idempotency_key"].is_string());
    }
}

#[test]
fn a_server_echoing_the_api_key_never_gets_it_written_to_disk() {
    // Echoes the Authorization header back: first as a 500, then as a 422 (dead letter).
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let server = TestServer::start(move |req| {
        let echo = format!("you sent {}", req.header("authorization").unwrap_or("nothing"));
        match c.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::text(500, &echo),
            _ => Reply::text(422, &echo),
        }
    });
    let env = env();
    install_pack(&env, &signed_pack(&["telemetry_minimized"], FAR_FUTURE));
    let mut rec = recorder(&env, "minimized", &server.url()).with_auto_flush(false);
    rec.upload_minimized_metrics().unwrap();
    let first = rec.flush(true).unwrap().unwrap().problem.unwrap();
    assert_eq!(first.kind, ProblemKind::ServerError);
    assert!(first.message.contains("you sent Bearer <redacted>"), "{}", first.message);
    let second = rec.flush(true).unwrap().unwrap();
    assert_eq!(second.dead_lettered.len(), 1);
    assert_eq!(server.requests().len(), 2);
    assert_eq!(server.requests()[0].header("authorization"), Some("Bearer sk-test-secret"));
    let mut files = 0;
    let mut stack = vec![env.data.clone().into_std_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            files += 1;
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            assert!(!text.contains("sk-test-secret"), "API key written to {}", path.display());
        }
    }
    assert!(lines(&env.data.join("outbox/sent.jsonl")).is_empty());
    let dead: Vec<_> = std::fs::read_dir(env.data.join("outbox/dead")).unwrap().flatten().collect();
    assert_eq!(dead.len(), 1);
    let letter: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dead[0].path()).unwrap()).unwrap();
    assert_eq!(letter["response"]["body"], "you sent Bearer <redacted>");
    assert!(files >= 4, "dead letter, state, summary, events: {files} files");
}

/// Every file under `dir`, with its bytes as (lossy) text.
fn all_files(dir: &camino::Utf8PathBuf) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.clone().into_std_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                out.push((path, text));
            }
        }
    }
    out
}

#[test]
fn an_api_key_cut_by_the_response_limit_is_not_written_in_part() {
    // The sender keeps 64 KiB (65536 bytes) of a response body. The echo puts the key so it
    // straddles that limit: its first 10 characters fall inside.
    const LIMIT: usize = 64 * 1024;
    const KEY: &str = "sk-test-secret";
    let server = TestServer::start(move |_| {
        let body = format!("{}{KEY} and more", "x".repeat(LIMIT - 10));
        Reply::text(422, &body)
    });
    let env = env();
    install_pack(&env, &signed_pack(&["telemetry_minimized"], FAR_FUTURE));
    let mut rec = recorder(&env, "minimized", &server.url()).with_auto_flush(false);
    rec.upload_minimized_metrics().unwrap();
    let report = rec.flush(true).unwrap().unwrap();
    assert_eq!(report.dead_lettered.len(), 1);
    let files = all_files(&env.data);
    assert!(files.iter().any(|(p, _)| p.to_string_lossy().contains("dead")), "a dead letter");
    for (path, text) in files {
        for n in 8..=KEY.len() {
            let prefix = &KEY[..n];
            assert!(!text.contains(prefix), "{prefix:?} written to {}", path.display());
        }
    }
}

#[test]
fn a_successful_delivery_clears_the_last_error() {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let server = TestServer::start(move |_| match c.fetch_add(1, Ordering::SeqCst) {
        0 => Reply::text(500, "boom"),
        _ => Reply::json(200, "{}"),
    });
    let env = env();
    install_pack(&env, &signed_pack(&["telemetry_minimized"], FAR_FUTURE));
    let mut rec = recorder(&env, "minimized", &server.url()).with_auto_flush(false);
    rec.upload_minimized_metrics().unwrap();
    assert!(rec.flush(true).unwrap().unwrap().problem.is_some());
    assert_eq!(rec.outbox_status().unwrap().last_error.unwrap().kind, ProblemKind::ServerError);
    let report = rec.flush(true).unwrap().unwrap();
    assert_eq!(report.delivered.len(), 1);
    let st = rec.outbox_status().unwrap();
    assert!(st.pending.is_empty());
    assert!(st.last_success_at.is_some());
    assert_eq!(st.last_error, None, "the error was resolved by the delivery");
}
