//! The OTLP receiver (`Receiver`): Claude Code's `api_request` events become v1 turns once;
//! bad requests get a 4xx with a reason and the receiver goes on. Real sockets on 127.0.0.1.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use agentos_ccc_client::{PrivacyTier, Receiver};
use serde_json::{Value as Json, json};

use crate::support::*;

/// An OTLP/HTTP JSON logs body shaped like Claude Code's: string-valued numbers, a resource
/// naming the service, an api_request per `(session, model, [in, out, read, write], cost)` and
/// one user_prompt record carrying text that must never be recorded.
pub fn claude_logs(requests: &[(&str, &str, [u64; 4], f64)]) -> Vec<u8> {
    let s = |k: &str, v: &str| json!({"key": k, "value": {"stringValue": v}});
    let mut records: Vec<Json> = requests
        .iter()
        .enumerate()
        .map(|(i, (session, model, t, cost))| {
            json!({
                "timeUnixNano": "1796032800000000000",
                "body": {"stringValue": "claude_code.api_request"},
                "attributes": [
                    s("event.name", "api_request"),
                    s("event.timestamp", &format!("2026-11-30T10:00:{:02}.000Z", i % 60)),
                    {"key": "event.sequence", "value": {"intValue": i.to_string()}},
                    s("session.id", session),
                    s("user.email", "someone-secret@example.com"),
                    s("model", model),
                    s("input_tokens", &t[0].to_string()),
                    s("output_tokens", &t[1].to_string()),
                    s("cache_read_tokens", &t[2].to_string()),
                    s("cache_creation_tokens", &t[3].to_string()),
                    s("cost_usd", &cost.to_string()),
                    s("duration_ms", "1500"),
                ]
            })
        })
        .collect();
    records.push(json!({
        "timeUnixNano": "1796032800000000000",
        "body": {"stringValue": "claude_code.user_prompt"},
        "attributes": [s("event.name", "user_prompt"), s("prompt", "my very secret prompt")]
    }));
    serde_json::to_vec(&json!({"resourceLogs": [{
        "resource": {"attributes": [s("service.name", "claude-code"), s("service.version", "2.0.14")]},
        "scopeLogs": [{"scope": {"name": "com.anthropic.claude_code.events"}, "logRecords": records}]
    }]}))
    .unwrap()
}

/// POST over a fresh connection; (status, body).
fn post(addr: std::net::SocketAddr, path: &str, content_type: &str, body: &[u8]) -> (u16, Json) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Json::Null))
}

/// Serve `n` requests on a thread while `client` runs.
fn serving<T>(rx: Receiver, n: usize, client: impl FnOnce(std::net::SocketAddr) -> T) -> T {
    let addr = rx.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let mut rx = rx;
        (0..n).map(|_| rx.serve_one().unwrap()).collect::<Vec<_>>()
    });
    let out = client(addr);
    server.join().unwrap();
    out
}

#[test]
fn claude_code_api_requests_become_turns_once_and_no_text_is_kept() {
    let env = env();
    let rx = Receiver::bind("127.0.0.1:0".parse().unwrap(), &env.data, PrivacyTier::Local).unwrap();
    let body = claude_logs(&[
        (
            "0f6c1a9e-2c3b-4d5e-8f90-123456789abc",
            "claude-sonnet-4-5-20250929",
            [12, 340, 5000, 200],
            0.0421,
        ),
        ("0f6c1a9e-2c3b-4d5e-8f90-123456789abc", "claude-haiku-4-5", [80, 9, 0, 0], 0.0001),
    ]);
    let (first, again) = serving(rx, 2, |addr| {
        (
            post(addr, "/v1/logs", "application/json", &body),
            post(addr, "/v1/logs", "application/json", &body),
        )
    });
    assert_eq!(first, (200, json!({"partialSuccess": {}})));
    assert_eq!(again.0, 200);
    let events = lines(&env.data.join("events.jsonl"));
    assert_eq!(events.len(), 3, "one session event and two turns, once: {events:#?}");
    assert_eq!(events[0]["type"], "session");
    assert_eq!(events[0]["session"]["agent"], "claude-code");
    assert_eq!(events[0]["session"]["cli_version"], "2.0.14");
    let t = &events[1];
    assert_eq!(t["turn"]["model"], "claude-sonnet-4-5-20250929");
    assert_eq!(
        [
            &t["turn"]["tokens_in"],
            &t["turn"]["tokens_out"],
            &t["turn"]["cache_read_tokens"],
            &t["turn"]["cache_creation_tokens"]
        ],
        [&json!(12), &json!(340), &json!(5000), &json!(200)]
    );
    assert!(close(&t["cost"]["estimated_usd"], 0.0421));
    assert_eq!(t["cost"]["provider"], "anthropic");
    assert!(close(&t["turn"]["latency_ms"], 1500.0));
    assert_eq!(t["turn"]["responded_at"], "2026-11-30T10:00:00.000000Z");
    let log = std::fs::read_to_string(env.data.join("events.jsonl")).unwrap();
    assert!(!log.contains("secret"), "text from the telemetry reached the log");
    // A new receiver over the same log (a restart) still drops the repeats.
    let rx = Receiver::bind("127.0.0.1:0".parse().unwrap(), &env.data, PrivacyTier::Local).unwrap();
    serving(rx, 1, |addr| post(addr, "/v1/logs", "application/json", &body));
    assert_eq!(lines(&env.data.join("events.jsonl")).len(), 3);
}

#[test]
fn bad_requests_get_a_reason_and_the_receiver_goes_on() {
    let env = env();
    let rx = Receiver::bind("127.0.0.1:0".parse().unwrap(), &env.data, PrivacyTier::Local)
        .unwrap()
        .with_max_body(4096);
    let good = claude_logs(&[("s-1", "claude-sonnet-4-5", [1, 2, 3, 4], 0.5)]);
    let answers = serving(rx, 8, |addr| {
        let mut a = vec![
            post(addr, "/v1/logs", "application/json", b"{\"resourceLogs\": [{\"scopeLogs\": \"my secret prompt\"}]}"),
            post(addr, "/v1/logs", "application/json", b"{not json"),
            post(addr, "/v1/logs", "application/x-protobuf", b"\x0a\xff\x01secret"),
            post(addr, "/v1/traces", "application/json", b"{}"),
            post(addr, "/v1/logs", "application/json", &vec![b' '; 5000]),
            post(addr, "/v1/metrics", "application/json", b"{\"resourceMetrics\": [{\"scopeMetrics\": [{\"metrics\": [{\"name\": \"claude_code.token.usage\", \"sum\": {}}]}]}]}"),
        ];
        // A client that hangs up mid-request costs only its connection.
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"POST /v1/logs HTTP/1.1\r\nContent-Length: 100\r\n\r\n{").unwrap();
        drop(s);
        a.push(post(addr, "/v1/logs", "application/json", &good));
        a
    });
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, [400, 400, 400, 404, 413, 200, 200]);
    for (status, body) in &answers[..5] {
        let reason = body["message"].as_str().unwrap_or_else(|| panic!("{status}: {body}"));
        assert!(!reason.contains("secret") && !reason.contains('\n'), "{reason}");
    }
    assert!(answers[2].1["message"].as_str().unwrap().contains("protobuf"), "{:?}", answers[2]);
    assert_eq!(lines(&env.data.join("events.jsonl")).len(), 2, "the good request was recorded");
}

#[test]
fn a_response_imported_mid_stream_and_corrected_is_matched_by_its_final_usage() {
    let env = env();
    std::fs::create_dir_all(&env.data).unwrap();
    // As `agentos import` writes them: the response seen mid-stream (10 output tokens), then a
    // correction carrying the increase (+290) once the transcript was complete.
    let turn = |id: &str, out: u64, revises: Option<&str>| {
        let mut t = json!({"type": "turn", "event_id": id, "ts": "2026-11-30T10:00:00Z",
            "schema_version": "1.0.0", "turn": {"turn_id": id, "session_id": "s-9",
            "model": "claude-opus-4-1", "subagent": "main", "tokens_in": if revises.is_some() { 0 } else { 7 },
            "tokens_out": out, "input_kind": "text", "latency_ms": 0.0,
            "cache_read_tokens": 0, "cache_creation_tokens": 0}});
        if let Some(r) = revises {
            t["turn"]["revises"] = json!(r);
        }
        t.to_string()
    };
    let original = "aaaaaaaa-0000-4000-8000-000000000001";
    let log = format!(
        "{}\n{}\n",
        turn(original, 10, None),
        turn("aaaaaaaa-0000-4000-8000-000000000002", 290, Some(original))
    );
    std::fs::write(env.data.join("events.jsonl"), &log).unwrap();
    let mut rx =
        Receiver::bind("127.0.0.1:0".parse().unwrap(), &env.data, PrivacyTier::Local).unwrap();
    // Claude Code reports the final usage: 7 in, 300 out.
    let h = rx
        .handle(
            "POST",
            "/v1/logs",
            "application/json",
            &claude_logs(&[("s-9", "claude-opus-4-1", [7, 300, 0, 0], 0.1)]),
        )
        .unwrap();
    assert_eq!((h.recorded, h.duplicates), (0, 1));
    // The mid-stream usage alone is not what Claude Code reports; a different response is new.
    let h = rx
        .handle(
            "POST",
            "/v1/logs",
            "application/json",
            &claude_logs(&[("s-9", "claude-opus-4-1", [7, 301, 0, 0], 0.1)]),
        )
        .unwrap();
    assert_eq!((h.recorded, h.duplicates), (1, 0));
}

/// The Python OpenTelemetry SDK's OTLP/HTTP exporter (protobuf: the Python exporter has no JSON
/// encoding) sends Claude Code-shaped events to the receiver. Skipped with a message when the
/// packages are missing, unless `AGENTOS_REQUIRE_TEST_TOOLS` is set.
#[test]
#[allow(clippy::print_stderr)] // the skip message
fn the_python_sdk_exporter_sends_to_the_receiver() {
    const SCRIPT: &str = r#"
import sys
from opentelemetry._logs import LogRecord
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk.resources import Resource
provider = LoggerProvider(resource=Resource.create({"service.name": "claude-code", "service.version": "2.0.14"}))
provider.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(endpoint=sys.argv[1] + "/v1/logs", timeout=10)))
log = provider.get_logger("com.anthropic.claude_code.events")
base = 1796032800 * 10**9
for i, (model, t) in enumerate([("claude-sonnet-4-5", (12, 340, 5000, 200)), ("claude-haiku-4-5", (80, 9, 0, 0))]):
    log.emit(LogRecord(timestamp=base + i * 10**9, body="claude_code.api_request", attributes={
        "event.name": "api_request", "session.id": "sdk-session-1", "model": model,
        "input_tokens": str(t[0]), "output_tokens": str(t[1]), "cache_read_tokens": str(t[2]),
        "cache_creation_tokens": str(t[3]), "cost_usd": "0.25", "duration_ms": 900,
        "event.sequence": i, "user.email": "someone-secret@example.com"}))
log.emit(LogRecord(timestamp=base, body="claude_code.user_prompt", attributes={"event.name": "user_prompt", "prompt": "a secret prompt"}))
provider.shutdown()
"#;
    let probe = std::process::Command::new("python3")
        .args(["-c", "import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http"])
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("AGENTOS_REQUIRE_TEST_TOOLS").is_none(),
            "python3 with opentelemetry-sdk and opentelemetry-exporter-otlp-proto-http is required"
        );
        eprintln!("skipped: pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http");
        return;
    }
    let env = env();
    let rx = Receiver::bind("127.0.0.1:0".parse().unwrap(), &env.data, PrivacyTier::Local).unwrap();
    let addr = rx.local_addr().unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopping = stop.clone();
    let server = std::thread::spawn(move || {
        let mut rx = rx;
        let mut handled = Vec::new();
        // Bounded: the client sends three requests; the test's own wake-up ends it.
        for _ in 0..20 {
            let h = rx.serve_one().unwrap();
            if stopping.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            handled.push(h);
        }
        handled
    });
    let out = std::process::Command::new("python3")
        .args(["-c", SCRIPT, &format!("http://{addr}")])
        .output()
        .unwrap();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = TcpStream::connect(addr); // wake the accept
    let handled = server.join().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("Failed to export"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(handled.iter().all(|h| h.status == 200 && h.protobuf), "{handled:?}");
    assert_eq!(handled.iter().map(|h| h.recorded).sum::<usize>(), 2, "{handled:?}");
    let events = lines(&env.data.join("events.jsonl"));
    let turns: Vec<_> = events.iter().filter(|e| e["type"] == "turn").collect();
    assert_eq!(turns.len(), 2);
    assert_eq!(turns[0]["turn"]["model"], "claude-sonnet-4-5");
    assert_eq!(
        [
            &turns[0]["turn"]["tokens_in"],
            &turns[0]["turn"]["tokens_out"],
            &turns[0]["turn"]["cache_read_tokens"],
            &turns[0]["turn"]["cache_creation_tokens"]
        ],
        [&json!(12), &json!(340), &json!(5000), &json!(200)]
    );
    assert!(close(&turns[1]["turn"]["latency_ms"], 900.0), "an int attribute read as a number");
    // The record's own time (no event.timestamp attribute): 2026-11-30T10:00:01Z.
    assert_eq!(turns[1]["turn"]["responded_at"], "2026-11-30T10:00:01.000000Z");
    assert!(!std::fs::read_to_string(env.data.join("events.jsonl")).unwrap().contains("secret"));
}
