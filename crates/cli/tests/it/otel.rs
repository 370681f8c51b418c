//! `agentos otel export` through the built binary against a fake collector on 127.0.0.1.

use std::path::Path;
use std::process::{Command, Output};

use agentos_testkit::{Reply, TestServer};

fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/licensing/packs")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn agentos(data: &Path, tier: &str) -> Command {
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
    c.env("AGENTOS_DATA_DIR", data)
        .env("PRIVACY_TIER", tier)
        .env("AGENTOS_CCC_BASE_URL", agentos_testkit::refused_url())
        .env("LICENSE_PACK_PATH", fixture("ok.pack"))
        .env("AGENTOS_PUBKEYS", fixture("test_pubkeys.json"));
    c
}

fn run(mut c: Command, args: &[&str]) -> Output {
    c.args(args).output().unwrap_or_else(|e| panic!("{e}"))
}

fn ok(c: Command, args: &[&str]) -> String {
    let out = run(c, args);
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
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
