//! Export to an OpenTelemetry collector through the outbox (`Recorder::export_otlp`), against a
//! fake collector on 127.0.0.1; every body is also parsed by the Python `opentelemetry-proto`
//! package, a real OTLP implementation.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use agentos_ccc_client::outbox::{OTLP_BATCH_MAX_EVENTS, Target};
use agentos_ccc_client::{
    JsonlLog, OtlpConfig, OtlpExport, OtlpReport, Outbox, Recorder, config::parse_otlp_headers,
};
use agentos_otel::ExportOptions;
use agentos_testkit::{RecordedRequest, Reply, TestServer};

use crate::support::*;

const HEADER_SECRET: &str = "otlp-header-secret-value";

fn otlp(url: &str) -> OtlpConfig {
    let vars: BTreeMap<&str, String> = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", url.to_owned()),
        ("OTEL_EXPORTER_OTLP_HEADERS", format!("x-api-key={HEADER_SECRET},x-team=a%20b")),
    ]
    .into_iter()
    .collect();
    OtlpConfig::from_vars(None, &|k| vars.get(k).cloned()).unwrap()
}

fn licensed(env: &Env, tier: &str) -> Recorder {
    install_pack(env, &signed_pack(&["telemetry_minimized", "telemetry_full"], FAR_FUTURE));
    recorder(env, tier, &agentos_testkit::refused_url()).with_auto_flush(false)
}

fn record(rec: &mut Recorder, sessions: usize, turns: usize) {
    for _ in 0..sessions {
        start(rec, &[("note", "secret-metadata-value")]);
        for _ in 0..turns {
            rec.log_turn(turn("claude-sonnet-4-5", 0.01, measurement(1.0, 1.0, 0.1, 1.0))).unwrap();
        }
        rec.end_session(None).unwrap();
    }
}

fn export(rec: &Recorder, url: &str) -> OtlpReport {
    match rec.export_otlp(&otlp(url), ExportOptions::default(), true).unwrap() {
        OtlpExport::Done(r) => r,
        other => panic!("{other:?}"),
    }
}

/// The `agentos.event_id` of every log record in a logs request.
fn record_ids(r: &RecordedRequest) -> Vec<String> {
    agentos_otel::event_ids(&agentos_otel::parse_logs(&r.body).unwrap())
}

fn turn_ids(env: &Env) -> BTreeSet<String> {
    lines(&env.data.join("events.jsonl"))
        .iter()
        .filter(|e| e["type"] == "turn")
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Python's `opentelemetry-proto` parses every body into its protobuf message (`json_format.Parse`
/// refuses unknown fields and wrong shapes). Skipped with a message when python3 or the package
/// is missing, unless `AGENTOS_REQUIRE_TEST_TOOLS` is set.
#[allow(clippy::print_stderr)] // the skip message
fn python_parses(requests: &[RecordedRequest]) {
    const SCRIPT: &str = r#"
import json, sys
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
kinds = {"/v1/logs": ExportLogsServiceRequest, "/v1/metrics": ExportMetricsServiceRequest}
counts = {"/v1/logs": 0, "/v1/metrics": 0}
for path, name in zip(sys.argv[1::2], sys.argv[2::2]):
    msg = json_format.Parse(open(name).read(), kinds[path]())
    if path == "/v1/logs":
        counts[path] += sum(len(s.log_records) for r in msg.resource_logs for s in r.scope_logs)
    else:
        counts[path] += sum(len(s.metrics) for r in msg.resource_metrics for s in r.scope_metrics)
print(json.dumps(counts))
"#;
    let probe = std::process::Command::new("python3")
        .args(["-c", "import opentelemetry.proto, google.protobuf"])
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("AGENTOS_REQUIRE_TEST_TOOLS").is_none(),
            "python3 with opentelemetry-proto is required (pip install opentelemetry-proto)"
        );
        eprintln!(
            "skipped: python3 with opentelemetry-proto not found (pip install opentelemetry-proto)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["-c".to_owned(), SCRIPT.to_owned()];
    let (mut records, mut metrics) = (0, 0);
    for (i, r) in requests.iter().enumerate() {
        let file = dir.path().join(format!("{i}.json"));
        std::fs::write(&file, &r.body).unwrap();
        args.push(r.path.clone());
        args.push(file.to_string_lossy().into_owned());
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        records +=
            v["resourceLogs"][0]["scopeLogs"][0]["logRecords"].as_array().map_or(0, Vec::len);
        metrics +=
            v["resourceMetrics"][0]["scopeMetrics"][0]["metrics"].as_array().map_or(0, Vec::len);
    }
    let out = std::process::Command::new("python3").args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "python refused a body: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Python read as many records and metrics as the JSON holds: nothing silently dropped.
    assert_eq!(counts["/v1/logs"], records);
    assert_eq!(counts["/v1/metrics"], metrics);
}

#[test]
fn collector_down_then_up_delivers_every_turn_once_by_key_and_python_parses_it() {
    const FAILURES: usize = 3;
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let collector = TestServer::start(move |_| match c.fetch_add(1, Ordering::SeqCst) {
        0 => Reply::Drop,
        1 => Reply::text(503, "unavailable"),
        2 => Reply::text(429, "slow down").with_header("Retry-After", "1"),
        _ => Reply::json(200, "{}"),
    });
    let env = env();
    let mut rec = licensed(&env, "full");
    record(&mut rec, 2, 30);
    // The collector is not even listening yet: everything waits in the outbox.
    let down = export(&rec, &agentos_testkit::refused_url());
    assert_eq!(down.events_queued, 2 * 32, "sessions, turns and ends are dispositioned");
    assert!(down.flush.delivered.is_empty() && down.flush.remaining >= 2);
    // More turns while it is down.
    record(&mut rec, 1, 5);
    let mut rounds = 0;
    loop {
        let r = export(&rec, &collector.url());
        if r.flush.remaining == 0 {
            break;
        }
        rounds += 1;
        assert!(rounds < 20, "the outbox never drained: {r:?}");
    }
    let requests = collector.requests();
    let delivered = &requests[FAILURES..];
    let mut keys = BTreeSet::new();
    let mut sent = Vec::new();
    for r in delivered {
        assert!(keys.insert(r.header("idempotency-key").unwrap().to_owned()), "a key twice");
        assert_eq!(r.header("x-api-key"), Some(HEADER_SECRET));
        assert_eq!(r.header("x-team"), Some("a b"));
        assert_eq!(r.header("content-type"), Some("application/json"));
        if r.path == "/v1/logs" {
            sent.extend(record_ids(r));
        }
    }
    for failed in &requests[..FAILURES] {
        assert!(
            keys.contains(failed.header("idempotency-key").unwrap()),
            "a failed batch was lost"
        );
    }
    let mut unique = sent.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), sent.len(), "a turn was delivered twice");
    assert_eq!(unique.into_iter().collect::<BTreeSet<_>>(), turn_ids(&env), "a turn was lost");
    assert_eq!(sent.len(), 2 * 30 + 5);
    // Full tier: the per-model figures too, with the model and its provider.
    let metrics: Vec<String> = delivered
        .iter()
        .filter(|r| r.path == "/v1/metrics")
        .map(RecordedRequest::body_text)
        .collect();
    assert!(!metrics.is_empty());
    assert!(metrics.iter().all(|b| b.contains(r#""name":"agentos.model.turns""#)
        && b.contains(
            r#"{"key":"gen_ai.request.model","value":{"stringValue":"claude-sonnet-4-5"}}"#
        )
        && b.contains(r#"{"key":"gen_ai.provider.name","value":{"stringValue":"anthropic"}}"#)));
    // Privacy: nothing identifying in clear, and the header secret is on no disk file.
    for r in &requests {
        let body = r.body_text();
        for secret in ["acme/secret-repo", "secret-branch", "secret-metadata-value", HEADER_SECRET]
        {
            assert!(!body.contains(secret), "{secret} left the machine");
        }
    }
    for entry in walk(env.data.as_std_path()) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
        assert!(!text.contains(HEADER_SECRET), "{} holds the header secret", entry.display());
    }
    python_parses(delivered);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

#[test]
fn minimized_exports_metrics_only_and_local_nothing() {
    let collector = TestServer::always(Reply::json(200, "{}"));
    let env = env();
    let mut rec = licensed(&env, "minimized");
    record(&mut rec, 1, 3);
    let r = export(&rec, &collector.url());
    assert_eq!((r.events_queued, r.flush.delivered.len()), (0, 1));
    let requests = collector.requests();
    assert_eq!(requests.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(), ["/v1/metrics"]);
    let body: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
    let metrics = body["resourceMetrics"][0]["scopeMetrics"][0]["metrics"].as_array().unwrap();
    let turns = metrics.iter().find(|m| m["name"] == "agentos.turns").unwrap();
    assert_eq!(turns["sum"]["dataPoints"][0]["asInt"], "3");
    // Minimized: no name leaves, so no per-model figures.
    assert!(!requests[0].body_text().contains("claude-sonnet"), "a model name left in minimized");
    let tokens = metrics.iter().find(|m| m["name"] == "agentos.tokens").unwrap();
    // 3 turns × 100 input tokens, 3 × 200 output.
    assert_eq!(tokens["sum"]["dataPoints"][0]["asInt"], "300");
    assert_eq!(tokens["sum"]["dataPoints"][1]["asInt"], "600");
    python_parses(&requests);

    let local = TestServer::always(Reply::json(200, "{}"));
    let env = crate::support::env();
    let mut rec = recorder(&env, "local", &agentos_testkit::refused_url());
    record(&mut rec, 1, 2);
    let out = rec.export_otlp(&otlp(&local.url()), ExportOptions::default(), true).unwrap();
    assert_eq!(out, OtlpExport::LocalOnly);
    assert_eq!(local.connections(), 0, "the local tier opened a socket");
    assert!(!env.data.join("otel-outbox").exists());
}

#[test]
fn a_collector_that_rejects_dead_letters_and_denied_licenses_send_nothing() {
    let collector = TestServer::always(Reply::text(400, "bad payload"));
    let env = env();
    let mut rec = licensed(&env, "minimized");
    record(&mut rec, 1, 1);
    let r = export(&rec, &collector.url());
    assert_eq!(r.flush.dead_lettered.len(), 1);
    assert!(r.flush.problem.is_none() || r.flush.dead_lettered.len() == 1);
    assert_eq!(std::fs::read_dir(env.data.join("otel-outbox/dead")).unwrap().count(), 1);

    let env = crate::support::env();
    install_pack(&env, &signed_pack(&["telemetry_minimized"], FAR_FUTURE));
    let mut rec = recorder(&env, "full", &agentos_testkit::refused_url()).with_auto_flush(false);
    record(&mut rec, 1, 1);
    let server = TestServer::always(Reply::json(200, "{}"));
    let out = rec.export_otlp(&otlp(&server.url()), ExportOptions::default(), true).unwrap();
    assert!(matches!(out, OtlpExport::Denied(ref m) if m.contains("denied")), "{out:?}");
    assert_eq!(server.connections(), 0);
}

#[test]
fn otlp_headers_parse_and_bad_ones_name_no_secret() {
    assert_eq!(
        parse_otlp_headers(" a = 1 ,b=x%3Dy,, ").unwrap(),
        [("a".to_owned(), "1".to_owned()), ("b".to_owned(), "x=y".to_owned())]
    );
    for bad in ["novalue-secret", "=secret", "k=%zz-secret", "k=%0asecret"] {
        let e = parse_otlp_headers(bad).unwrap_err().to_string();
        assert!(e.contains("entry 1") && !e.contains("secret"), "{e}");
    }
}

/// A full-tier session of `turns` turns written straight to `events.jsonl` (faster than
/// recording them), and the OTLP outbox that reads it.
fn logged_session(env: &Env, turns: usize) -> Outbox {
    use std::fmt::Write as _;
    let mut log = String::from(
        r#"{"type":"session","event_id":"00000000-0000-4000-8000-000000000000","ts":"2026-11-30T09:00:00Z","schema_version":"1.0.0","session":{"session_id":"s-1","repo_id":"r","branch":"main","commit":"c","license_id":"l","privacy_tier":"full","created_at":"2026-11-30T09:00:00Z","metadata":{},"agent":"claude-code"}}"#,
    );
    log.push('\n');
    for i in 0..turns {
        writeln!(
            log,
            r#"{{"type":"turn","event_id":"00000000-0000-4000-8000-{i:012}","ts":"2026-11-30T10:00:00Z","turn":{{"turn_id":"t-{i}","session_id":"s-1","model":"claude-sonnet-4-5","subagent":"main","tokens_in":{i},"tokens_out":2,"input_kind":"text","latency_ms":1.5,"cache_read_tokens":7}}}}"#
        )
        .unwrap();
    }
    log.push_str(r#"{"type":"session_end","session_id":"s-1","ended_at":"2026-11-30T11:00:00Z","notes":"n"}"#);
    log.push('\n');
    std::fs::create_dir_all(&env.data).unwrap();
    std::fs::write(env.data.join("events.jsonl"), log).unwrap();
    Outbox::new(env.data.join("otel-outbox"))
        .with_event_log(
            JsonlLog::new(env.data.join("events.jsonl")),
            env.data.join("state/active_session.json"),
        )
        .with_target(Target::Otlp(ExportOptions::default()))
}

#[test]
fn otlp_batches_come_straight_from_the_log_and_a_crash_before_the_watermark_repeats_none() {
    const TURNS: usize = 9000;
    let env = env();
    let outbox = logged_session(&env, TURNS);
    outbox.ensure_watermark_at_start().unwrap();
    let watermark = env.data.join("otel-outbox/events.offset.json");
    let before = std::fs::read(&watermark).unwrap();
    assert_eq!(outbox.catch_up().unwrap(), TURNS + 2, "session, turns and end dispositioned");
    let first = outbox.pending_info().unwrap();
    // Batches of at most OTLP_BATCH_MAX_EVENTS events and about OTLP_BATCH_MAX_BYTES: more
    // than one for 9 002 events, every turn in exactly one, no queue files.
    assert!(first.len() >= TURNS.div_ceil(OTLP_BATCH_MAX_EVENTS), "{first:?}");
    assert!(first.iter().all(|b| b.items as usize <= OTLP_BATCH_MAX_EVENTS));
    assert_eq!(first.iter().map(|b| b.items).sum::<u64>(), TURNS as u64);
    assert!(!env.data.join("otel-outbox/queue").exists());
    let bodies = outbox.pending().unwrap();
    for b in &bodies {
        let bytes = serde_json::to_vec(&b.body).unwrap();
        assert!(bytes.len() <= 4 * 1024 * 1024, "a body of {} bytes", bytes.len());
    }
    let ids = |batches: &[agentos_ccc_client::Batch]| -> Vec<String> {
        batches
            .iter()
            .flat_map(|b| {
                agentos_otel::event_ids(
                    &agentos_otel::parse_logs(&serde_json::to_vec(&b.body).unwrap()).unwrap(),
                )
            })
            .collect()
    };
    let sent = ids(&bodies);
    assert_eq!(sent.len(), TURNS);
    assert_eq!(sent.iter().collect::<BTreeSet<_>>().len(), TURNS, "a turn in two batches");
    // A crash after the batches were written but before the watermark moved: the catch-up
    // runs again over the same stretch and rewrites nothing twice.
    std::fs::write(&watermark, before).unwrap();
    outbox.catch_up().unwrap();
    let again = outbox.pending_info().unwrap();
    assert_eq!(
        again.iter().map(|b| &b.key).collect::<Vec<_>>(),
        first.iter().map(|b| &b.key).collect::<Vec<_>>()
    );
    assert_eq!(ids(&outbox.pending().unwrap()), sent);
}

/// Versions before the raw batch form wrote OTLP batches as JSON (`pending/*.json`, the body a
/// JSON value): such a batch left on disk is still delivered, under its key, with its body,
/// and a failed attempt keeps it in its form.
#[test]
fn an_otlp_batch_pending_in_the_older_json_form_is_still_delivered() {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let collector = TestServer::start(move |_| match c.fetch_add(1, Ordering::SeqCst) {
        0 => Reply::text(503, "unavailable"),
        _ => Reply::json(200, "{}"),
    });
    let env = env();
    let body = serde_json::json!({"resourceLogs": [{"resource": {"attributes": []}, "scopeLogs": [{
        "scope": {"name": "agentos"}, "logRecords": [{"timeUnixNano": "1", "observedTimeUnixNano": "1",
        "severityNumber": 9, "attributes": [{"key": "agentos.event_id", "value": {"stringValue": "e-1"}}]}]}]}]});
    // The file exactly as the JSON form is written: pretty JSON, the ids beside the body.
    let old = format!(
        "{}\n",
        serde_json::to_string_pretty(&serde_json::json!({
            "key": "otl-00000000000000000042", "kind": "otlp_logs",
            "created_at": "2026-11-30T10:00:00Z", "items": 1, "attempts": 0,
            "next_attempt_at": null, "last_error": null, "body": body, "event_ids": ["e-1"]}))
        .unwrap()
    );
    let pending = env.data.join("otel-outbox/pending");
    std::fs::create_dir_all(&pending).unwrap();
    let file = pending.join("00001796032800000000-otl-00000000000000000042.json");
    std::fs::write(&file, old).unwrap();
    let outbox = Outbox::new(env.data.join("otel-outbox"))
        .with_target(Target::Otlp(ExportOptions::default()));
    assert_eq!(outbox.pending_info().unwrap()[0].key, "otl-00000000000000000042");
    let sender = agentos_ccc_client::Sender::otlp(&collector.url(), Vec::new(), Default::default());
    let opts = agentos_ccc_client::outbox::FlushOptions {
        allow_events: true,
        allow_metrics: true,
        force: true,
        budget: std::time::Duration::from_secs(30),
    };
    let failed = outbox.flush(&sender, &opts).unwrap();
    assert_eq!(failed.remaining, 1);
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        (kept["attempts"].clone(), kept["body"].clone()),
        (serde_json::json!(1), body.clone())
    );
    let done = outbox.flush(&sender, &opts).unwrap();
    assert_eq!((done.delivered.len(), done.remaining), (1, 0));
    let requests = collector.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.path, "/v1/logs");
        assert_eq!(r.header("idempotency-key"), Some("otl-00000000000000000042"));
        assert_eq!(serde_json::from_slice::<serde_json::Value>(&r.body).unwrap(), body);
    }
    assert!(!file.exists());
    python_parses(&requests[1..]);
}

#[test]
fn since_leaves_out_earlier_turns() {
    let collector = TestServer::always(Reply::json(200, "{}"));
    let env = env();
    let mut rec = licensed(&env, "full");
    record(&mut rec, 1, 3);
    let tomorrow = agentos_event_schema::Timestamp::from_unix_seconds(
        agentos_event_schema::Timestamp::now().as_unix_seconds() + 86_400,
    );
    let later = ExportOptions { since: tomorrow, ..ExportOptions::default() };
    let OtlpExport::Done(r) = rec.export_otlp(&otlp(&collector.url()), later, true).unwrap() else {
        panic!("not exported")
    };
    assert_eq!(r.events_queued, 5, "dispositioned");
    let paths: Vec<String> = collector.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/v1/metrics"], "every turn is before --since: no logs batch");

    let env = crate::support::env();
    let mut rec = licensed(&env, "full");
    record(&mut rec, 1, 3);
    let collector = TestServer::always(Reply::json(200, "{}"));
    let yesterday = agentos_event_schema::Timestamp::from_unix_seconds(
        agentos_event_schema::Timestamp::now().as_unix_seconds() - 86_400,
    );
    let earlier = ExportOptions { since: yesterday, ..ExportOptions::default() };
    rec.export_otlp(&otlp(&collector.url()), earlier, true).unwrap();
    let logs = on(&collector, "/v1/logs");
    assert_eq!(logs.iter().map(|r| record_ids(r).len()).sum::<usize>(), 3);
}

/// One flush catches up and delivers at once (the catch-up on its own thread hands over each
/// batch once the watermark is past it): a collector failing mid-way stops the sending, not the
/// catch-up; the next flush sends the rest; every turn arrives once, batches in log order.
#[test]
fn a_flush_delivers_while_it_catches_up_and_a_failure_mid_way_loses_nothing() {
    const TURNS: usize = 9000;
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let collector = TestServer::start(move |_| match c.fetch_add(1, Ordering::SeqCst) {
        1 => Reply::text(503, "unavailable"),
        _ => Reply::json(200, "{}"),
    });
    let env = env();
    let outbox = logged_session(&env, TURNS);
    outbox.ensure_watermark_at_start().unwrap();
    let sender = agentos_ccc_client::Sender::otlp(&collector.url(), Vec::new(), Default::default());
    let opts = agentos_ccc_client::outbox::FlushOptions {
        allow_events: true,
        allow_metrics: true,
        force: true,
        budget: std::time::Duration::from_secs(60),
    };
    let first = outbox.flush(&sender, &opts).unwrap();
    assert_eq!(first.events_queued, TURNS + 2);
    assert_eq!(first.delivered.len(), 1, "{first:?}");
    assert!(first.problem.is_some() && first.remaining >= 2, "{first:?}");
    // The catch-up went to the end of the log all the same.
    let log_len = std::fs::metadata(env.data.join("events.jsonl")).unwrap().len();
    assert_eq!(outbox.status().unwrap().watermark, Some(log_len));
    assert_eq!(outbox.pending_info().unwrap().len(), first.remaining);
    let second = outbox.flush(&sender, &opts).unwrap();
    assert_eq!((second.remaining, second.events_queued), (0, 0), "{second:?}");
    let requests = collector.requests();
    let keys: Vec<&str> = requests.iter().map(|r| r.header("idempotency-key").unwrap()).collect();
    let mut in_order = keys.clone();
    in_order.dedup();
    let mut sorted = in_order.clone();
    sorted.sort();
    assert_eq!(in_order, sorted, "batches out of log order");
    assert_eq!(keys[1], keys[2], "the failed batch is retried first, under its key");
    // Every request but the second was answered 200.
    let sent: Vec<String> = requests
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .flat_map(|(_, r)| record_ids(r))
        .collect();
    assert_eq!(sent.len(), TURNS);
    assert_eq!(sent.iter().collect::<BTreeSet<_>>().len(), TURNS, "a turn delivered twice");
}
