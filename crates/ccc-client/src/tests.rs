//! Unit tests: event log appends and torn lines, concurrency, config from the environment,
//! Retry-After parsing, backoff bounds, the GLM rule.

use std::collections::BTreeMap;
use std::time::Duration;

use agentos_event_schema::v1::{Envelope, Event, InputKind, SessionEndEvent, Turn, TurnEvent};
use agentos_event_schema::{Extra, Timestamp};

use super::*;
use crate::http::parse_retry_after;
use crate::outbox::backoff;

fn tmp() -> (tempfile::TempDir, camino::Utf8PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = camino::Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap();
    (dir, path)
}

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: BTreeMap<String, String> =
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |name| map.get(name).cloned()
}

#[test]
fn torn_last_line_is_skipped_and_never_corrupts_the_next_append() {
    let (_d, dir) = tmp();
    let log = JsonlLog::new(dir.join("events.jsonl"));
    log.append_line(r#"{"a":1}"#).unwrap();
    // A writer died mid-line.
    let mut bytes = std::fs::read(log.path()).unwrap();
    bytes.extend_from_slice(br#"{"a":2,"trunc"#);
    std::fs::write(log.path(), &bytes).unwrap();
    let (lines, diags) = log.read_all().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(diags.len(), 1);
    assert!(diags[0].message.contains("torn"), "{}", diags[0]);
    log.append_line(r#"{"a":3}"#).unwrap();
    let (lines, diags) = log.read_all().unwrap();
    assert_eq!(lines, vec![serde_json::json!({"a":1}), serde_json::json!({"a":3})]);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].line, 2);
    assert!(diags[0].message.contains("not JSON"));
    assert!(std::fs::read_to_string(log.path()).unwrap().ends_with("{\"a\":3}\n"));
}

#[test]
fn appending_a_newline_is_refused_and_missing_logs_are_empty() {
    let (_d, dir) = tmp();
    let log = JsonlLog::new(dir.join("sub/x.jsonl"));
    assert_eq!(log.read_all().unwrap(), (vec![], vec![]));
    assert!(matches!(log.append_line("{}\n{}"), Err(Error::EmbeddedNewline { .. })));
    log.append_line("{}").unwrap();
    assert_eq!(std::fs::read_to_string(log.path()).unwrap(), "{}\n");
}

#[test]
fn a_batch_of_whole_lines_is_appended_after_a_torn_line() {
    let (_d, dir) = tmp();
    let log = JsonlLog::new(dir.join("events.jsonl"));
    std::fs::write(log.path(), br#"{"a":1}"#.as_slice()).unwrap();
    let mut app = log.appender().unwrap();
    for bad in ["{}", "\n{}\n", "{}\n\n{}\n"] {
        assert!(matches!(app.append_lines(bad), Err(Error::EmbeddedNewline { .. })), "{bad:?}");
    }
    app.append_lines("{\"b\":2}\n{\"c\":3}\n").unwrap();
    drop(app);
    assert_eq!(std::fs::read_to_string(log.path()).unwrap(), "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
}

#[test]
fn concurrent_threads_lose_no_line() {
    let (_d, dir) = tmp();
    let path = dir.join("events.jsonl");
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let log = JsonlLog::new(path.clone());
            std::thread::spawn(move || {
                for i in 0..300 {
                    let pad = "x".repeat((i * 37) % 900);
                    log.append_line(&format!(r#"{{"t":{t},"i":{i},"pad":"{pad}"}}"#)).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let (lines, diags) = JsonlLog::new(path).read_all().unwrap();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(lines.len(), 8 * 300);
    let mut seen = std::collections::BTreeSet::new();
    for l in &lines {
        seen.insert((l["t"].as_u64().unwrap(), l["i"].as_u64().unwrap()));
    }
    assert_eq!(seen.len(), 8 * 300);
}

#[test]
fn invalid_events_are_not_written() {
    let (_d, dir) = tmp();
    let log = JsonlLog::new(dir.join("events.jsonl"));
    let bad = Event::Turn(TurnEvent {
        envelope: Envelope::now(),
        turn: Turn {
            turn_id: "t".into(),
            session_id: "s".into(),
            model: "m".into(),
            subagent: "main".into(),
            tokens_in: 1,
            tokens_out: 1,
            input_kind: InputKind::Text,
            latency_ms: -5.0,
            attribution: BTreeMap::new(),
            capacity_used: None,
            cache_creation_tokens: None,
            cache_creation_1h_tokens: None,
            cache_read_tokens: None,
            sidechain: None,
            responded_at: None,
            revises: None,
            extra: Extra::new(),
        },
        measurement: None,
        feature: None,
        cost: None,
        value: None,
        decision: None,
        outcome: None,
    });
    let err = append_event(&log, &bad).unwrap_err();
    assert!(err.to_string().contains("latency_ms"), "{err}");
    assert!(!log.path().exists());
    let good = Event::SessionEnd(SessionEndEvent {
        envelope: Envelope::now(),
        session_id: "s".into(),
        ended_at: Timestamp::now(),
        notes: String::new(),
    });
    append_event(&log, &good).unwrap();
    assert_eq!(log.read_all().unwrap().0.len(), 1);
}

#[test]
fn config_reads_the_environment_and_flags_override() {
    let c = RecorderConfig::from_vars(None, &vars(&[("HOME", "/home/u")])).unwrap();
    assert_eq!(c.data_dir, "/home/u/.local/share/agentos");
    assert_eq!(c.tier, PrivacyTier::Local);
    assert_eq!(c.base_url, "http://127.0.0.1:8082");
    assert_eq!(c.api_key, None);
    assert_eq!(c.license.pack_path, "/home/u/.local/share/agentos/license.pack");

    let env = vars(&[
        ("XDG_DATA_HOME", "/xdg"),
        ("PRIVACY_TIER", "Full"),
        ("AGENTOS_CCC_BASE_URL", "http://127.0.0.1:9/"),
        ("CCC_API_KEY", "sk-very-secret"),
        ("LICENSE_PACK_PATH", "/lic/pack.json"),
        ("CCP_LICENSE_PUBKEY_B64", "k1=abc"),
    ]);
    let mut c = RecorderConfig::from_vars(None, &env).unwrap();
    assert_eq!(c.data_dir, "/xdg/agentos");
    assert_eq!(c.tier, PrivacyTier::Full);
    assert_eq!(c.base_url, "http://127.0.0.1:9");
    assert_eq!(c.license.pack_path, "/lic/pack.json");
    assert_eq!(c.license.env_pubkeys.as_deref(), Some("k1=abc"));
    assert!(!format!("{c:?}").contains("sk-very-secret"));
    c.set_base_url("https://ccc.example.invalid/").unwrap();
    assert_eq!(c.base_url, "https://ccc.example.invalid");
    assert!(c.set_base_url("ftp://x").is_err());
    for bad in ["http://", "https:///", "127.0.0.1:8082"] {
        let err = c.set_base_url(bad).unwrap_err();
        assert!(err.to_string().contains("followed by a host"), "{bad}: {err}");
    }
    c.set_base_url("http://h").unwrap();
    assert_eq!(c.base_url, "http://h");

    let padded = RecorderConfig::from_vars(None, &vars(&[("CCC_API_KEY", " sk-file\n")])).unwrap();
    assert_eq!(padded.api_key.as_deref(), Some("sk-file"), "a key read from a file is trimmed");

    let flag =
        RecorderConfig::from_vars(Some("/flag".into()), &vars(&[("AGENTOS_DATA_DIR", "/env")]))
            .unwrap();
    assert_eq!(flag.data_dir, "/flag");
    let env_dir = RecorderConfig::from_vars(None, &vars(&[("AGENTOS_DATA_DIR", "/env")])).unwrap();
    assert_eq!(env_dir.data_dir, "/env");
    let err = RecorderConfig::from_vars(None, &vars(&[("PRIVACY_TIER", "public")])).unwrap_err();
    assert!(err.to_string().contains("PRIVACY_TIER"), "{err}");
}

#[test]
fn sender_debug_hides_the_api_key() {
    let s = Sender::new("http://127.0.0.1:1", Some("sk-hidden".into()), Timeouts::default());
    assert!(!format!("{s:?}").contains("sk-hidden"));
}

#[test]
fn retry_after_accepts_seconds_and_http_dates() {
    assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
    assert_eq!(parse_retry_after("999999999"), Some(Duration::from_secs(24 * 3600)));
    let future = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(300);
    let date = jiff::fmt::rfc2822::to_string(&future.to_zoned(jiff::tz::TimeZone::UTC)).unwrap();
    let d = parse_retry_after(&date).unwrap();
    assert!(d >= Duration::from_secs(290) && d <= Duration::from_secs(300), "{d:?} from {date}");
    assert_eq!(parse_retry_after("soon"), None);
}

#[test]
fn backoff_grows_exponentially_with_jitter_and_a_cap() {
    for _ in 0..50 {
        let d1 = backoff(1);
        assert!(d1 >= Duration::from_secs(1) && d1 <= Duration::from_secs(2), "{d1:?}");
        let d4 = backoff(4);
        assert!(d4 >= Duration::from_secs(8) && d4 <= Duration::from_secs(16), "{d4:?}");
        assert!(backoff(200) <= Duration::from_secs(3600));
    }
    let samples: std::collections::BTreeSet<_> = (0..20).map(|_| backoff(6)).collect();
    assert!(samples.len() > 1, "no jitter");
}

#[test]
fn glm_rule_matches_the_python_client() {
    assert!(is_glm("glm/123"));
    assert!(is_glm("GLM-4.6"));
    assert!(is_glm("z.ai/glm-4.6"));
    assert!(!is_glm("claude-3"));
}

#[test]
fn tail_reads_only_complete_lines_of_the_window() {
    let (_d, dir) = tmp();
    let log = JsonlLog::new(dir.join("t.jsonl"));
    assert!(log.tail(1024).unwrap().is_empty(), "missing file is empty");
    for i in 0..100 {
        log.append_line(&format!(r#"{{"i":{i}}}"#)).unwrap();
    }
    // Each line is 9 bytes (`{"i":NN}` + newline): a 30-byte window holds 3 whole lines.
    let tail = log.tail(30).unwrap();
    let got: Vec<i64> = tail.iter().map(|v| v["i"].as_i64().unwrap()).collect();
    assert_eq!(got, vec![97, 98, 99]);
    assert_eq!(log.tail(27).unwrap().len(), 3, "a line starting exactly at the window is kept");
    assert_eq!(log.tail(10_000).unwrap().len(), 100);
    // A torn last line is left out.
    let mut bytes = std::fs::read(log.path()).unwrap();
    bytes.extend_from_slice(br#"{"i":1"#);
    std::fs::write(log.path(), bytes).unwrap();
    let got: Vec<i64> = log.tail(30).unwrap().iter().map(|v| v["i"].as_i64().unwrap()).collect();
    assert_eq!(got.last(), Some(&99));
}

#[test]
fn scan_containing_parses_only_matching_lines_but_still_reports_broken_ones() {
    let (_keep, dir) = tmp();
    let log = JsonlLog::new(dir.join("events.jsonl"));
    for line in [
        r#"{"session_id":"s-one","n":1}"#,
        r#"{"session_id":"s-two","n":2}"#,
        r#"{"session_id":"s-one","n":3}"#,
        r#"{"type":"turn","turn":{"turn_id":"torn","sess"#,
    ] {
        log.append_line(line).unwrap();
    }
    let mut seen = Vec::new();
    let diags = log.scan_containing("s-one", |n, v| seen.push((n, v["n"].as_u64()))).unwrap();
    assert_eq!(seen, [(1, Some(1)), (3, Some(3))]);
    assert_eq!(diags.iter().map(|d| d.line).collect::<Vec<_>>(), [4], "{diags:?}");
    let mut all = 0;
    assert_eq!(log.scan(|_, _| all += 1).unwrap().len(), 1);
    assert_eq!(all, 3);
}

#[test]
fn an_over_long_line_is_skipped_with_a_diagnostic_and_the_rest_is_read() {
    let (_keep, dir) = tmp();
    // A 1 KiB limit stands in for the 64 MiB default: the reader never holds more than it.
    let log = JsonlLog::new(dir.join("events.jsonl")).with_max_line(1024);
    log.append_line(r#"{"session_id":"s-one","n":1}"#).unwrap();
    let start = std::fs::metadata(log.path()).unwrap().len();
    let long = format!(r#"{{"session_id":"s-one","pad":"{}"}}"#, "x".repeat(10_000));
    log.append_line(&long).unwrap();
    log.append_line(r#"{"session_id":"s-one","n":3}"#).unwrap();
    let mut seen = Vec::new();
    let diags = log.scan_containing("s-one", |n, v| seen.push((n, v["n"].as_u64()))).unwrap();
    assert_eq!(seen, [(1, Some(1)), (3, Some(3))]);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!((diags[0].line, diags[0].offset), (2, start));
    let len = long.len() + 1;
    assert!(diags[0].message.contains(&format!("line of {len} bytes")), "{}", diags[0]);
    // From an offset: byte positions, no line numbers.
    let mut at = Vec::new();
    let diags =
        log.scan_from(start, "s-one", |offset, v| at.push((offset, v["n"].as_u64()))).unwrap();
    assert_eq!(at, [(start + len as u64, Some(3))]);
    assert_eq!((diags[0].line, diags[0].offset), (0, start));
    assert!(diags[0].to_string().contains(&format!("(at byte {start})")), "{}", diags[0]);
    // A line of exactly the limit is kept.
    let exact = format!(r#"{{"n":4,"pad":"{}"}}"#, "y".repeat(1024 - 16));
    assert_eq!(exact.len(), 1024);
    log.append_line(&exact).unwrap();
    let mut fours = 0;
    log.scan(|_, v| fours += u64::from(v["n"] == 4)).unwrap();
    assert_eq!(fours, 1);
}

#[test]
fn bounded_lines_never_hold_more_than_the_limit() {
    use crate::eventlog::{BoundedLines, LineRead};
    let input = format!("ab\n{}\ncd", "z".repeat(100));
    let mut lines = BoundedLines::new(input.as_bytes(), 10, 8);
    assert_eq!(lines.next().unwrap(), LineRead::Line { start: 10, complete: true });
    assert_eq!(lines.line(), b"ab\n");
    assert_eq!(lines.next().unwrap(), LineRead::TooLong { start: 13, len: 101, complete: true });
    assert!(lines.line().is_empty());
    assert_eq!(lines.next().unwrap(), LineRead::Line { start: 114, complete: false });
    assert_eq!(lines.line(), b"cd");
    assert_eq!(lines.next().unwrap(), LineRead::Eof);
}

#[test]
fn an_event_batched_before_a_crash_is_not_batched_again_even_when_its_id_was_hashed() {
    let (_guard, dir) = tmp();
    let outbox = crate::Outbox::new(dir.join("outbox"));
    // A caller-chosen (non-UUID) id that the full-tier redaction replaced by its hash.
    let body = serde_json::json!({"event_id": "sha256:0123abcd", "type": "turn"});
    outbox.enqueue_event(1, "retry-1", body.clone()).unwrap();
    assert_eq!(outbox.seal().unwrap(), 1);
    // A crash between writing the batch and removing the queue file leaves both behind.
    outbox.enqueue_event(1, "retry-1", body).unwrap();
    assert_eq!(outbox.seal().unwrap(), 0, "the queued copy was already batched");
    assert_eq!(outbox.pending().unwrap().len(), 1);
    assert!(outbox.queued_events().unwrap().is_empty());
}

/// The state files are typed once (`state.rs`): what the recorder writes is what the outbox
/// reads, state from older versions (no tier, no offsets) still reads, and the downgraded
/// list holds each session once.
#[test]
fn state_files_round_trip_and_read_older_state() {
    use crate::state::{ActiveSession, StateFiles};
    let (_d, dir) = tmp();
    let files = StateFiles::in_data_dir(&dir);
    assert_eq!(files.active().unwrap(), None);
    let sid = SessionId::from("s-1");
    let active = ActiveSession {
        session_id: sid.clone(),
        started_at: "2026-01-02T03:04:05Z".parse::<Timestamp>().unwrap(),
        tier: Some(PrivacyTier::Minimized),
        events_offset: Some(7),
        windows_offset: None,
        glm_offset: Some(0),
    };
    std::fs::create_dir_all(dir.join("state")).unwrap();
    files.set_active(&active).unwrap();
    assert_eq!(files.active().unwrap(), Some(active.clone()));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(files.active_path()).unwrap()).unwrap();
    assert_eq!(written["tier"], "minimized");
    assert_eq!(written["session_id"], "s-1");

    std::fs::write(
        files.active_path(),
        r#"{"session_id":"old","started_at":"2026-01-02T03:04:05Z"}"#,
    )
    .unwrap();
    let old = files.active().unwrap().unwrap();
    assert_eq!((old.session_id.as_str(), old.tier, old.events_offset), ("old", None, None));

    files.clear_active().unwrap();
    files.clear_active().unwrap();
    assert_eq!(files.active().unwrap(), None);

    files.add_downgraded(&sid).unwrap();
    files.add_downgraded(&sid).unwrap();
    let listed: Vec<String> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("state").join(crate::outbox::DOWNGRADED_SESSIONS))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(listed, ["s-1"]);
    assert_eq!(files.downgraded().unwrap().into_iter().collect::<Vec<_>>(), ["s-1"]);
}

/// `http://0x7f.1:<port>`: the resolver reaches 127.0.0.1, but the URL does not say loopback
/// literally, so it counts as another machine (a stand-in for a remote CCC in tests).
fn disguised(server: &agentos_testkit::TestServer) -> String {
    format!("http://0x7f.1:{}", server.addr().port())
}

#[test]
fn the_sender_never_sends_the_key_in_clear_to_another_machine() {
    use agentos_testkit::{Reply, TestServer};
    use agentos_transport::Cleartext;
    let server = TestServer::always(Reply::empty(202));
    let url = disguised(&server);
    for sender in [
        Sender::new(&url, Some("sk-hidden".into()), Timeouts::default()),
        Sender::otlp(&url, vec![("x-token".into(), "hdr-secret".into())], Timeouts::default()),
    ] {
        let Attempt::Failed(f) = sender.post("/v1/events", "k1", b"{}") else {
            panic!("sent in clear")
        };
        assert_eq!(f.kind, ProblemKind::Cleartext);
        assert!(f.kind.keeps_batch());
        assert!(f.message.contains("0x7f.1") && f.message.contains("unencrypted"), "{f:?}");
        assert!(!f.message.contains("sk-hidden") && !f.message.contains("hdr-secret"));
    }
    assert_eq!(server.connections(), 0, "a socket was opened");
    // Allowed explicitly, the same URL reaches the server: the refusal was the only obstacle.
    let allowed = Sender::new(&url, Some("sk-hidden".into()), Timeouts::default())
        .with_cleartext(Cleartext::Allowed);
    assert_eq!(allowed.post("/v1/events", "k1", b"{}"), Attempt::Delivered { status: 202 });
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn the_sender_does_not_follow_a_redirect() {
    use agentos_testkit::{Reply, TestServer};
    let target = TestServer::always(Reply::empty(202));
    let redirect = TestServer::always(
        Reply::empty(302).with_header("Location", &format!("{}/v1/events", target.url())),
    );
    let s = Sender::new(&redirect.url(), Some("sk-hidden".into()), Timeouts::default());
    let Attempt::Failed(f) = s.post("/v1/events", "k1", b"{}") else { panic!("delivered") };
    assert_eq!((f.kind, f.status), (ProblemKind::Redirect, Some(302)));
    assert_eq!(target.connections(), 0, "the redirect was followed");
}

#[test]
fn the_recorder_config_allows_cleartext_only_when_the_environment_says_so() {
    use agentos_transport::Cleartext;
    let (_d, dir) = tmp();
    let c = RecorderConfig::from_vars(Some(dir.clone()), &vars(&[])).unwrap();
    assert_eq!(c.cleartext, Cleartext::LoopbackOnly);
    let on = vars(&[("AGENTOS_ALLOW_INSECURE_HTTP", "1")]);
    assert_eq!(RecorderConfig::from_vars(Some(dir), &on).unwrap().cleartext, Cleartext::Allowed);
}
