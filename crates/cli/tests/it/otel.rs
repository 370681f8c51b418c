//! `agentos otel export` through the built binary against a fake collector on 127.0.0.1.

use std::path::Path;
use std::process::Command;

use agentos_testkit::{Reply, TestServer};

use crate::session::{agentos_at, ok, run};

/// `agentos` on `data` at `tier`, with no CCC key and CCC unreachable.
fn agentos(data: &Path, tier: &str) -> Command {
    let mut c = agentos_at(data, tier, &agentos_testkit::refused_url(), "ok.pack");
    c.env_remove("CCC_API_KEY");
    c
}

fn session(data: &Path) {
    ok(
        agentos(data, "local"),
        &["session", "start", "--repo-id", "acme/secret", "--branch", "b", "--commit", "c"],
    );
    for _ in 0..2 {
        ok(
            agentos(data, "local"),
            &[
                "session",
                "turn",
                "--model",
                "claude-sonnet-4-5",
                "--tokens-in",
                "100",
                "--tokens-out",
                "7",
            ],
        );
    }
    ok(agentos(data, "local"), &["session", "end"]);
}

#[test]
fn local_tier_exports_nothing_and_connects_nowhere() {
    let collector = TestServer::always(Reply::json(200, "{}"));
    let dir = tempfile::tempdir().unwrap();
    session(dir.path());
    let out = ok(agentos(dir.path(), "local"), &["otel", "export", "--endpoint", &collector.url()]);
    assert!(out.contains("local tier: nothing exported"), "{out}");
    let json = ok(
        agentos(dir.path(), "local"),
        &["otel", "export", "--json", "--endpoint", &collector.url()],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!((v["tier"].as_str(), v["exported"].as_bool()), (Some("local"), Some(false)));
    assert_eq!(collector.connections(), 0);
    assert!(!dir.path().join("otel-outbox").exists());
}

#[test]
fn minimized_export_honours_the_otel_environment_and_sends_metrics_only() {
    let collector = TestServer::always(Reply::json(200, "{}"));
    let dir = tempfile::tempdir().unwrap();
    session(dir.path());
    let mut c = agentos(dir.path(), "minimized");
    c.env("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url())
        .env("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20otel-secret-token");
    let out = ok(c, &["otel", "export", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((v["delivered"].as_u64(), v["pending"].as_u64()), (Some(1), Some(0)), "{v}");
    let requests = collector.requests();
    assert_eq!(requests.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(), ["/v1/metrics"]);
    assert_eq!(requests[0].header("authorization"), Some("Bearer otel-secret-token"));
    let body = requests[0].body_text();
    assert!(body.contains(r#""name":"agentos.turns""#) && !body.contains("acme"), "{body}");
    assert!(!out.contains("otel-secret-token"));
}

#[test]
fn a_collector_that_is_down_keeps_the_batch_and_a_bad_header_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    session(dir.path());
    let out = run(
        agentos(dir.path(), "minimized"),
        &["otel", "export", "--endpoint", &agentos_testkit::refused_url()],
    );
    assert_eq!(out.status.code(), Some(1), "nothing delivered is a negative answer");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("OTLP collector at") && err.contains("unreachable"), "{err}");
    assert!(err.contains("1 batch pending"), "{err}");
    let mut c = agentos(dir.path(), "minimized");
    c.env("OTEL_EXPORTER_OTLP_HEADERS", "no-equals-sign-secret");
    let out = run(c, &["otel", "export"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("OTEL_EXPORTER_OTLP_HEADERS") && !err.contains("secret"), "{err}");
}

/// `agentos otel receive --listen 127.0.0.1:0 --json` running; its address and its stdout lines.
struct Receiving {
    child: std::process::Child,
    addr: std::net::SocketAddr,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Receiving {
    fn start(data: &Path) -> Receiving {
        use std::io::BufRead;
        let mut child = agentos(data, "local")
            .args(["otel", "receive", "--listen", "127.0.0.1:0", "--json"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut r = Receiving { child, addr: "127.0.0.1:1".parse().unwrap(), lines };
        let first: serde_json::Value = serde_json::from_str(&r.next()).unwrap();
        r.addr = first["listening"].as_str().unwrap().parse().unwrap();
        r
    }

    fn next(&self) -> String {
        self.lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("a line from the receiver")
    }

    /// POST a JSON body; the receiver's report line for it.
    fn post(&self, body: &[u8]) -> serde_json::Value {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let head = format!(
            "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        serde_json::from_str(&self.next()).unwrap()
    }
}

impl Drop for Receiving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Claude Code-shaped logs body: one api_request per (session, model, tokens).
fn api_requests(requests: &[(String, String, [u64; 4])]) -> Vec<u8> {
    let s = |k: &str, v: &str| serde_json::json!({"key": k, "value": {"stringValue": v}});
    let records: Vec<serde_json::Value> = requests
        .iter()
        .map(|(session, model, t)| {
            serde_json::json!({
                "timeUnixNano": "1796032800000000000",
                "body": {"stringValue": "claude_code.api_request"},
                "attributes": [s("event.name", "api_request"), s("session.id", session),
                    s("model", model), s("input_tokens", &t[0].to_string()),
                    s("output_tokens", &t[1].to_string()), s("cache_read_tokens", &t[2].to_string()),
                    s("cache_creation_tokens", &t[3].to_string()), s("cost_usd", "0.01")]
            })
        })
        .collect();
    serde_json::to_vec(
        &serde_json::json!({"resourceLogs": [{"scopeLogs": [{"logRecords": records}]}]}),
    )
    .unwrap()
}

#[test]
fn received_requests_already_imported_from_transcripts_are_not_recorded_twice() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_fixture(dir.path(), &data);
    let read = || events_of(&data);
    let imported = read();
    let same = final_usages(&imported);
    assert!(same.len() >= 3, "the fixture has Claude Code responses: {same:?}");
    let rx = Receiving::start(&data);
    let report = rx.post(&api_requests(&same));
    assert_eq!(
        (report["recorded"].as_u64(), report["duplicates"].as_u64()),
        (Some(0), Some(same.len() as u64)),
        "{report}"
    );
    assert_eq!(read().len(), imported.len(), "nothing appended");
    // A response the transcripts do not have is recorded, once.
    let new = vec![(same[0].0.clone(), same[0].1.clone(), [1, 2, 3, 4])];
    assert_eq!(rx.post(&api_requests(&new))["recorded"], 1);
    assert_eq!(rx.post(&api_requests(&new))["duplicates"], 1);
    assert_eq!(read().len(), imported.len() + 1);
}

/// What Claude Code reported for each imported response: (session, model, final usage), a
/// correction's increase added to the turn it revises.
fn final_usages(events: &[serde_json::Value]) -> Vec<(String, String, [u64; 4])> {
    let mut usage: Vec<(String, String, String, [u64; 4])> = Vec::new();
    for e in events.iter().filter(|e| e["type"] == "turn") {
        let t = &e["turn"];
        let n = |k: &str| t[k].as_u64().unwrap_or(0);
        let u =
            [n("tokens_in"), n("tokens_out"), n("cache_read_tokens"), n("cache_creation_tokens")];
        match t["revises"].as_str() {
            Some(id) => {
                let orig = usage.iter_mut().find(|x| x.0 == id).unwrap();
                for (total, more) in orig.3.iter_mut().zip(u) {
                    *total += more;
                }
            }
            None => usage.push((
                e["event_id"].as_str().unwrap().to_owned(),
                t["session_id"].as_str().unwrap().to_owned(),
                t["model"].as_str().unwrap().to_owned(),
                u,
            )),
        }
    }
    usage.into_iter().map(|(_, s, m, u)| (s, m, u)).collect()
}

/// `agentos import` of the Claude Code fixture into `data` (`--json`), returning its report.
fn import_fixture(home: &Path, data: &Path) -> serde_json::Value {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/agent-history/claude");
    std::fs::create_dir_all(home.join("none")).unwrap();
    let mut import = agentos(data, "local");
    import.env("HOME", home).env_remove("CLAUDE_CONFIG_DIR").env_remove("CODEX_HOME");
    let out = ok(
        import,
        &[
            "import",
            "--json",
            "--claude-dir",
            fixture.to_str().unwrap(),
            "--codex-home",
            home.join("none").to_str().unwrap(),
        ],
    );
    serde_json::from_str(&out).unwrap()
}

fn events_of(data: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(data.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The other order: the receiver records Claude Code's requests first, then the transcripts
/// of the same responses are imported: each response is one turn, not two, and a re-import
/// adds nothing.
#[test]
fn transcripts_imported_after_the_receiver_recorded_them_are_not_written_twice() {
    let dir = tempfile::tempdir().unwrap();
    // What the fixture's responses are (imported into a scratch data dir).
    let scratch = dir.path().join("scratch");
    import_fixture(dir.path(), &scratch);
    let same = final_usages(&events_of(&scratch));
    assert!(same.len() >= 3, "the fixture has Claude Code responses: {same:?}");
    let data = dir.path().join("data");
    {
        let rx = Receiving::start(&data);
        let report = rx.post(&api_requests(&same));
        assert_eq!(report["recorded"].as_u64(), Some(same.len() as u64), "{report}");
    }
    let turns = |data: &Path| events_of(data).iter().filter(|e| e["type"] == "turn").count();
    assert_eq!(turns(&data), same.len());
    let report = import_fixture(dir.path(), &data);
    assert_eq!(report["already_received"].as_u64(), Some(same.len() as u64), "{report}");
    assert_eq!(report["responses"].as_u64(), Some(0), "{report}");
    assert_eq!(turns(&data), same.len(), "each response once");
    let again = import_fixture(dir.path(), &data);
    assert_eq!(again["events"].as_u64(), Some(0), "{again}");
    assert_eq!(turns(&data), same.len());
}

#[test]
fn follow_keeps_exporting_until_stopped() {
    let collector = TestServer::always(Reply::json(200, "{}"));
    let dir = tempfile::tempdir().unwrap();
    session(dir.path());
    let mut child = agentos(dir.path(), "minimized")
        .args([
            "otel",
            "export",
            "--follow",
            "--interval",
            "100ms",
            "--json",
            "--endpoint",
            &collector.url(),
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Each round sends the current figures; wait (bounded) for a second round.
    let mut waited = 0;
    while collector.requests().len() < 2 && waited < 300 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
    }
    let _ = child.kill();
    let _ = child.wait();
    let requests = collector.requests();
    assert!(requests.len() >= 2, "only {} export(s) while following", requests.len());
    assert!(requests.iter().all(|r| r.path == "/v1/metrics"));
    let keys: std::collections::BTreeSet<_> =
        requests.iter().map(|r| r.header("idempotency-key").unwrap().to_owned()).collect();
    assert_eq!(keys.len(), requests.len(), "each round is a new snapshot with its own key");
}

#[test]
fn a_collector_on_another_machine_over_plain_http_needs_the_flag() {
    let collector = TestServer::always(Reply::json(200, "{}"));
    let dir = tempfile::tempdir().unwrap();
    session(dir.path());
    // 0x7f.1 resolves to 127.0.0.1 but is not loopback written literally: "another machine".
    let endpoint = format!("http://0x7f.1:{}", collector.addr().port());
    let mut c = agentos(dir.path(), "minimized");
    c.env_remove("AGENTOS_ALLOW_INSECURE_HTTP")
        .env("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20otel-secret-token");
    let out = run(c, &["otel", "export", "--json", "--endpoint", &endpoint]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["delivered"].as_u64(), v["pending"].as_u64()), (Some(0), Some(1)), "{v}");
    let problem = v["problem"].as_str().unwrap_or_default();
    assert!(problem.contains("unencrypted") && problem.contains("--allow-insecure-http"), "{v}");
    assert!(!problem.contains("otel-secret-token"));
    assert_eq!(collector.connections(), 0, "the headers went out in clear");
    let mut c = agentos(dir.path(), "minimized");
    c.env("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20otel-secret-token");
    let out = ok(
        c,
        &["--allow-insecure-http", "otel", "export", "--json", "--force", "--endpoint", &endpoint],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((v["delivered"].as_u64(), v["pending"].as_u64()), (Some(1), Some(0)), "{v}");
}
