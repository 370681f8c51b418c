//! `agentos session …`, `upload-metrics`, `outbox …`, `privacy preview` through the built
//! binary, against a fake CCC on 127.0.0.1. Configuration only through env vars and flags.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use agentos_testkit::{Reply, TestServer};

/// A license fixture's path.
pub(crate) fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/licensing/packs")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

/// A scratch data dir removed on drop.
struct Data(PathBuf);

impl Data {
    fn new(name: &str) -> Data {
        let dir =
            std::env::temp_dir().join(format!("agentos-cli-session-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        Data(dir)
    }
    fn file(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
    fn lines(&self, rel: &str) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.file(rel))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

impl Drop for Data {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `agentos` with a clean environment: data dir, tier, CCC URL, API key, license.
fn agentos(data: &Data, tier: &str, url: &str, pack: &str) -> Command {
    agentos_at(&data.0, tier, url, pack)
}

/// `agentos` with the data dir, tier, CCC URL (and a key) and license pack given, nothing
/// inherited from the environment that names them (the OTLP endpoint included).
pub(crate) fn agentos_at(dir: &Path, tier: &str, url: &str, pack: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_agentos"));
    for var in [
        "PRIVACY_TIER",
        "AGENTOS_CCC_BASE_URL",
        "CCC_API_KEY",
        "LICENSE_PACK_PATH",
        "AGENTOS_PUBKEYS",
        "CCP_LICENSE_PUBKEY_B64",
        "AGENTOS_DATA_DIR",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_HEADERS",
    ] {
        c.env_remove(var);
    }
    c.env("AGENTOS_DATA_DIR", dir)
        .env("PRIVACY_TIER", tier)
        .env("AGENTOS_CCC_BASE_URL", url)
        .env("CCC_API_KEY", "sk-cli-secret-key")
        .env("LICENSE_PACK_PATH", fixture(pack))
        .env("AGENTOS_PUBKEYS", fixture("test_pubkeys.json"));
    c
}

/// Run `c` with `args`.
pub(crate) fn run(mut c: Command, args: &[&str]) -> Output {
    c.args(args).output().unwrap_or_else(|e| panic!("{e}"))
}

/// Run `c` with `args`; it must succeed: its stdout.
pub(crate) fn ok(c: Command, args: &[&str]) -> String {
    let out = run(c, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const START: &[&str] = &[
    "session",
    "start",
    "--repo-id",
    "acme/secret",
    "--branch",
    "main",
    "--commit",
    "abc123",
    "--meta",
    "window=W0-01",
];
const TURN: &[&str] = &[
    "session",
    "turn",
    "--model",
    "glm/behave",
    "--subagent",
    "main",
    "--tokens-in",
    "100",
    "--tokens-out",
    "200",
    "--latency-ms",
    "1000",
    "--capacity",
    "0.5",
    "--cls",
    "1.2",
    "--impf",
    "4.8",
    "--churn",
    "0.1",
    "--feature-delta",
    "1.0",
    "--feature-id",
    "feat-1",
    "--feature-status",
    "shipped",
    "--attribution",
    "glm=1.0",
    "--cost-usd",
    "0.5",
    "--provider",
    "zai",
    "--value-kind",
    "tests_passed",
    "--value-summary",
    "BDD sample",
];

fn session(data: &Data, tier: &str, url: &str, pack: &str) -> String {
    let id = ok(agentos(data, tier, url, pack), START).trim().to_owned();
    ok(agentos(data, tier, url, pack), TURN);
    ok(agentos(data, tier, url, pack), &["session", "end", "--notes", "done"]);
    id
}

fn no_secret_on_disk(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{e}")).flatten() {
        let p = entry.path();
        if p.is_dir() {
            no_secret_on_disk(&p);
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap_or_default()).into_owned();
            assert!(!text.contains("sk-cli-secret-key"), "API key written to {}", p.display());
        }
    }
}

#[test]
fn local_session_across_invocations_opens_no_socket() {
    let server = TestServer::always(Reply::json(200, "{}"));
    let data = Data::new("local");
    let id = session(&data, "local", &server.url(), "ok.pack");
    assert_eq!(id.len(), 36, "prints the session id: {id}");
    ok(agentos(&data, "local", &server.url(), "ok.pack"), &["upload-metrics"]);
    ok(agentos(&data, "local", &server.url(), "ok.pack"), &["outbox", "flush"]);
    let preview = ok(agentos(&data, "local", &server.url(), "ok.pack"), &["privacy", "preview"]);
    assert!(preview.contains("nothing would be sent"), "{preview}");
    assert_eq!(server.connections(), 0);
    assert!(!data.file("outbox").exists());
    let events = data.lines("events.jsonl");
    assert_eq!(events.len(), 3);
    assert_eq!(events[1]["turn"]["session_id"], id.as_str());
    assert_eq!(events[1]["outcome"]["kind"], "tests_passed");
    assert_eq!(events[1]["cost"]["provider"], "zai");
    assert_eq!(data.lines("windows.jsonl")[0]["providers"]["zai"]["turns"], 1);
    assert_eq!(data.lines("glm_counts.jsonl").len(), 1);
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data.file("metrics_summary.json")).unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary["features_per_capacity"], 2.0);
    // No active session any more.
    let out = run(agentos(&data, "local", &server.url(), "ok.pack"), &["session", "end"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no active session"));
}

#[test]
fn privacy_tier_env_alone_flips_uploads() {
    let server = TestServer::always(Reply::json(200, "{}"));
    let data = Data::new("flip");
    session(&data, "local", &server.url(), "ok.pack");
    assert_eq!(server.connections(), 0);
    session(&data, "minimized", &server.url(), "ok.pack");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/v1/metrics");
    assert_eq!(reqs[0].header("authorization"), Some("Bearer sk-cli-secret-key"));
    let body = reqs[0].body_text();
    assert!(!body.contains("acme") && !body.contains("BDD sample") && !body.contains("glm"));
    let out = ok(agentos(&data, "minimized", &server.url(), "ok.pack"), &["upload-metrics"]);
    assert!(out.contains("delivered 1 batch"), "{out}");
    assert_eq!(server.requests().len(), 2);
    // --tier overrides the env: back to local, nothing sent.
    ok(
        agentos(&data, "minimized", &server.url(), "ok.pack"),
        &["upload-metrics", "--tier", "local"],
    );
    assert_eq!(server.requests().len(), 2);
    let status =
        ok(agentos(&data, "minimized", &server.url(), "ok.pack"), &["outbox", "status", "--json"]);
    let st: serde_json::Value = serde_json::from_str(&status).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(st["delivered_batches"], 2);
    assert_eq!(st["pending_batches"], 0);
    no_secret_on_disk(&data.0);
}

#[test]
fn expired_or_missing_entitlement_denies_uploads_but_records() {
    let server = TestServer::always(Reply::json(200, "{}"));
    for (tier, pack) in [("minimized", "expired.pack"), ("full", "ok.pack")] {
        let data = Data::new(&format!("denied-{tier}"));
        session(&data, tier, &server.url(), pack);
        let out = run(agentos(&data, tier, &server.url(), pack), &["upload-metrics"]);
        assert_eq!(out.status.code(), Some(1), "{tier}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("uploads denied"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
        assert_eq!(data.lines("events.jsonl").len(), 3);
        let flush = run(agentos(&data, tier, &server.url(), pack), &["outbox", "flush"]);
        assert_eq!(flush.status.code(), Some(1));
    }
    assert_eq!(server.connections(), 0);
}

#[test]
fn outbox_keeps_uploads_while_ccc_has_no_ingest_endpoint() {
    let missing = TestServer::always(Reply::text(404, "404 page not found"));
    let data = Data::new("outbox");
    session(&data, "minimized", &missing.url(), "ok.pack");
    assert_eq!(missing.requests().len(), 1);
    let status = ok(agentos(&data, "minimized", &missing.url(), "ok.pack"), &["outbox", "status"]);
    assert!(status.contains("pending: 1 batch"), "{status}");
    assert!(status.contains("this CCC does not accept uploads"), "{status}");
    let out = run(
        agentos(&data, "minimized", &missing.url(), "ok.pack"),
        &["outbox", "flush", "--force"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("this CCC does not accept uploads"));
    let good = TestServer::always(Reply::json(200, "{}"));
    let out =
        ok(agentos(&data, "minimized", &good.url(), "ok.pack"), &["outbox", "flush", "--force"]);
    assert!(out.contains("delivered 1 batch"), "{out}");
    assert_eq!(
        good.requests()[0].header("idempotency-key"),
        missing.requests()[1].header("idempotency-key"),
        "replayed with the same key"
    );
}

#[test]
fn privacy_preview_prints_payloads_and_sends_nothing() {
    let server = TestServer::always(Reply::json(200, "{}"));
    let data = Data::new("preview");
    ok(agentos(&data, "local", &server.url(), "ok.pack"), START);
    ok(agentos(&data, "local", &server.url(), "ok.pack"), TURN);
    let out = ok(agentos(&data, "minimized", &server.url(), "ok.pack"), &["privacy", "preview"]);
    assert!(out.contains("POST http://127.0.0.1:"), "{out}");
    assert!(out.contains("/v1/metrics"));
    assert!(out.contains("\"features_per_capacity\": 2.0"), "{out}");
    assert!(!out.contains("acme") && !out.contains("BDD sample"));
    assert_eq!(server.connections(), 0);
    assert!(!data.file("outbox").exists());
}

#[test]
fn concurrent_processes_lose_no_event() {
    let data = Data::new("concurrent");
    let url = agentos_testkit::refused_url();
    ok(agentos(&data, "local", &url, "ok.pack"), START);
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let dir = data.0.clone();
            let url = url.clone();
            std::thread::spawn(move || {
                for _ in 0..12 {
                    ok(agentos_at(&dir, "local", &url, "ok.pack"), TURN);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap_or_else(|_| panic!("thread"));
    }
    ok(agentos(&data, "local", &url, "ok.pack"), &["session", "end"]);
    let events = data.lines("events.jsonl");
    assert_eq!(events.len(), 1 + 24 + 1);
    assert_eq!(data.lines("glm_counts.jsonl").len(), 24);
    assert_eq!(data.lines("windows.jsonl")[0]["providers"]["zai"]["turns"], 24);
}

#[test]
fn flags_override_the_environment() {
    let server = TestServer::always(Reply::json(200, "{}"));
    let env_dir = Data::new("flags-env");
    let flag_dir = Data::new("flags-flag");
    let refused = agentos_testkit::refused_url();
    // Env: local tier, a CCC that is not listening, data in env_dir. Flags win over all three.
    let flags = [
        "--data-dir",
        flag_dir.0.to_str().unwrap_or_default(),
        "upload-metrics",
        "--tier",
        "minimized",
        "--base-url",
        &server.url(),
    ];
    let out = ok(agentos(&env_dir, "local", &refused, "ok.pack"), &flags);
    assert!(out.contains("delivered 1 batch"), "{out}");
    assert_eq!(on_path(&server, "/v1/metrics"), 1);
    assert!(flag_dir.file("metrics_summary.json").exists());
    assert!(flag_dir.file("outbox/sent.jsonl").exists());
    assert!(!env_dir.file("metrics_summary.json").exists(), "env data dir used despite --data-dir");
    // The session started under --data-dir continues there; --input-kind is checked by clap.
    let mut start: Vec<&str> = vec!["--data-dir", flag_dir.0.to_str().unwrap_or_default()];
    start.extend_from_slice(START);
    ok(agentos(&env_dir, "local", &refused, "ok.pack"), &start);
    let out = run(
        agentos(&flag_dir, "local", &refused, "ok.pack"),
        &[
            "session",
            "turn",
            "--model",
            "m",
            "--tokens-in",
            "1",
            "--tokens-out",
            "1",
            "--input-kind",
            "video",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "an unknown input kind is refused");
    // So is an unknown --value-kind (read tolerantly, but never written by us), with the list.
    let out = run(
        agentos(&flag_dir, "local", &refused, "ok.pack"),
        &[
            "session",
            "turn",
            "--model",
            "m",
            "--tokens-in",
            "1",
            "--tokens-out",
            "1",
            "--value-kind",
            "release_cut",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("release_cut") && err.contains("tests_passed, pr_merged"), "{err}");
    ok(
        agentos(&flag_dir, "local", &refused, "ok.pack"),
        &[
            "session",
            "turn",
            "--model",
            "m",
            "--tokens-in",
            "1",
            "--tokens-out",
            "1",
            "--input-kind",
            "image",
        ],
    );
    assert_eq!(flag_dir.lines("events.jsonl")[1]["turn"]["input_kind"], "image");
}

fn on_path(server: &TestServer, path: &str) -> usize {
    server.requests().iter().filter(|r| r.path == path).count()
}

#[test]
fn session_end_again_after_a_crash_appends_nothing_twice() {
    let server = TestServer::always(Reply::json(200, "{}"));
    let data = Data::new("end-again");
    let id = ok(agentos(&data, "local", &server.url(), "ok.pack"), START).trim().to_owned();
    ok(agentos(&data, "local", &server.url(), "ok.pack"), TURN);
    let state = data.file("state/active_session.json");
    let saved = std::fs::read(&state).unwrap_or_else(|e| panic!("{e}"));
    ok(agentos(&data, "local", &server.url(), "ok.pack"), &["session", "end", "--notes", "done"]);
    // The first `session end` died after its appends, before clearing the state.
    std::fs::write(&state, &saved).unwrap_or_else(|e| panic!("{e}"));
    let out = ok(agentos(&data, "local", &server.url(), "ok.pack"), &["session", "end"]);
    assert!(out.contains(&format!("ended session {id}")), "{out}");
    let ends = data.lines("events.jsonl").iter().filter(|e| e["type"] == "session_end").count();
    assert_eq!(ends, 1, "a second session_end was appended");
    assert_eq!(data.lines("windows.jsonl").len(), 1, "a second window record was appended");
    assert!(!state.exists(), "state not cleared");
    assert_eq!(server.connections(), 0);
}

#[test]
fn eight_concurrent_starts_and_ends_leave_one_session_ended_once() {
    let data = Data::new("race");
    let url = agentos_testkit::refused_url();
    let race = |args: &[&str]| -> Vec<Output> {
        let children: Vec<_> = (0..8)
            .map(|_| {
                let mut c = agentos(&data, "local", &url, "ok.pack");
                c.args(args)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap_or_else(|e| panic!("{e}"))
            })
            .collect();
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap_or_else(|e| panic!("{e}")))
            .collect()
    };
    let starts = race(START);
    let won: Vec<String> = starts
        .iter()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .collect();
    assert_eq!(won.len(), 1, "exactly one start succeeds");
    for lost in starts.iter().filter(|o| !o.status.success()) {
        assert_eq!(lost.status.code(), Some(2));
        let err = String::from_utf8_lossy(&lost.stderr);
        assert!(err.contains(&won[0]) && err.contains("already active"), "{err}");
    }
    let sessions: Vec<_> =
        data.lines("events.jsonl").into_iter().filter(|e| e["type"] == "session").collect();
    assert_eq!(sessions.len(), 1);
    let ends = race(&["session", "end"]);
    assert_eq!(ends.iter().filter(|o| o.status.success()).count(), 1);
    for lost in ends.iter().filter(|o| !o.status.success()) {
        assert!(String::from_utf8_lossy(&lost.stderr).contains("no active session"));
    }
    let events = data.lines("events.jsonl");
    assert_eq!(events.iter().filter(|e| e["type"] == "session_end").count(), 1);
    assert_eq!(data.lines("windows.jsonl").len(), 1);
}

#[test]
fn out_of_range_numbers_name_the_flag_and_nothing_is_written() {
    let data = Data::new("limits");
    let url = agentos_testkit::refused_url();
    ok(agentos(&data, "local", &url, "ok.pack"), START);
    let base = ["session", "turn", "--model", "claude-3", "--tokens-in", "1", "--tokens-out", "2"];
    for (extra, want) in [
        (&["--cost-usd", "2e15"][..], "error: --cost-usd must be ≥ 0 and ≤ 1e15 (got 2e15)"),
        (&["--capacity", "1e300"][..], "error: --capacity must be ≥ 0 and ≤ 1 (got 1e300)"),
        (
            &["--cls", "1", "--impf", "1", "--churn", "0", "--feature-delta", "1e300"][..],
            "error: --feature-delta must be ≥ -1e15 and ≤ 1e15 (got 1e300)",
        ),
        (
            &["--attribution", "m=1e300"][..],
            "error: --attribution m=…: the weight must be ≥ 0 and ≤ 1 (got 1e300)",
        ),
        (
            &["--attribution", "a=0.75", "--attribution", "b=0.5"][..],
            "error: --attribution weights must sum to at most 1 (got 1.25)",
        ),
    ] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let out = run(agentos(&data, "local", &url, "ok.pack"), &args);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim(), want);
        assert!(!err.contains('/'), "no JSON pointer: {err}");
    }
    assert_eq!(data.lines("events.jsonl").len(), 1, "only the session event");
    let out = ok(agentos(&data, "local", &url, "ok.pack"), &["session", "end"]);
    assert!(out.contains("(0 providers)"), "{out}");
}

#[test]
fn a_session_id_json_would_escape_is_refused() {
    let data = Data::new("bad-id");
    let url = agentos_testkit::refused_url();
    for id in ["a\"b", "a\\b", "tab\tid", "new\nline", ""] {
        let args: Vec<&str> = START.iter().copied().chain(["--session-id", id]).collect();
        let out = run(agentos(&data, "local", &url, "ok.pack"), &args);
        assert_eq!(out.status.code(), Some(2), "{id:?}");
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: --session-id: "));
    }
    assert!(data.lines("events.jsonl").is_empty());
    let args: Vec<&str> = START.iter().copied().chain(["--session-id", "run-1"]).collect();
    ok(agentos(&data, "local", &url, "ok.pack"), &args);
    ok(agentos(&data, "local", &url, "ok.pack"), TURN);
    let out = ok(agentos(&data, "local", &url, "ok.pack"), &["session", "end"]);
    assert!(out.contains("ended session run-1 (1 provider)"), "{out}");
    assert_eq!(data.lines("windows.jsonl")[0]["providers"]["zai"]["turns"], 1);
}

#[test]
fn privacy_preview_has_json() {
    let data = Data::new("preview-json");
    let url = agentos_testkit::refused_url();
    let out = ok(agentos(&data, "local", &url, "ok.pack"), &["privacy", "preview", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["tier"], "local");
    assert_eq!(v["uploads"], "local");
    assert_eq!(v["payloads"], serde_json::json!([]));
}
