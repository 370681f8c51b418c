//! Login, bind and refresh against a fake `licissuer` on 127.0.0.1 (agentos_testkit).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use agentos_licensing::issuer::{
    IssuerClient, IssuerSource, LoginOptions, PollStatus, RefreshOutcome, bind_device, login,
    refresh,
};
use agentos_licensing::{Error, LicenseConfig, load_installed};
use agentos_testkit::{RecordedRequest, Reply, TestServer, refused_url};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use camino::Utf8PathBuf;
use ring::signature::{Ed25519KeyPair, KeyPair as _};

const NOW: i64 = 1_761_200_000;
const DEVICE: &str = "DEVICE-HASH";

fn key(first: u8) -> Ed25519KeyPair {
    let seed: Vec<u8> = (first..first + 32).collect();
    Ed25519KeyPair::from_seed_unchecked(&seed).unwrap_or_else(|e| panic!("seed: {e}"))
}

/// A pack as licissuer builds it (Go json.Marshal: sorted keys, compact, `<>&` escaped).
fn mint(signer: &Ed25519KeyPair, device: Option<&str>, exp: i64, iat: i64) -> String {
    let device = device.map_or("null".to_owned(), |d| format!("\"{d}\""));
    let license = format!(
        r#"{{"device":{device},"exp":{exp},"features":["telemetry_minimized"],"iat":{iat},"kid":"k1","nonce":"n{iat}","plan":"pro","schema":"ccp.license.v1","sub":"a\u003cb\u003e\u0026c@x.io"}}"#
    );
    let sig = STANDARD.encode(signer.sign(license.as_bytes()).as_ref());
    format!(r#"{{"license":{license},"signature":"{sig}"}}"#)
}

fn issue_body(pack: &str) -> String {
    serde_json::json!({
        "license": {}, "sigB64": "x", "license_pack": pack,
        "pubKeyB64": STANDARD.encode(key(40).public_key().as_ref()),
        "plan": "pro", "features": ["telemetry_minimized"], "exp": 1,
    })
    .to_string()
}

fn body_json(req: &RecordedRequest) -> serde_json::Value {
    serde_json::from_slice(&req.body).unwrap_or_default()
}

struct Env {
    _dir: tempfile::TempDir,
    cfg: LicenseConfig,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap_or_default();
    let cfg = LicenseConfig {
        pack_path: root.join("license.pack"),
        env_pubkeys: Some(format!("k1={}", STANDARD.encode(key(0).public_key().as_ref()))),
        device: Some(DEVICE.into()),
        now: Some(NOW),
        ..LicenseConfig::default()
    };
    Env { _dir: dir, cfg }
}

fn fast() -> LoginOptions {
    LoginOptions {
        timeout: Duration::from_secs(5),
        min_interval: Duration::from_millis(10),
        max_interval: Duration::from_millis(50),
        ..LoginOptions::default()
    }
}

/// A licissuer that mints for the requested device with the given exp (shared, adjustable).
fn issuer(exp: Arc<AtomicI64>, pending_polls: usize) -> TestServer {
    let polls = AtomicUsize::new(0);
    TestServer::start(move |req| {
        let body = body_json(req);
        let device = body.get("device").and_then(|d| d.as_str()).map(str::to_owned);
        let e = exp.load(Ordering::SeqCst);
        match req.path.as_str() {
            "/v1/license/issue" => match body.get("invite_code").and_then(|c| c.as_str()) {
                Some("GOOD") => {
                    Reply::json(200, &issue_body(&mint(&key(0), device.as_deref(), e, NOW)))
                }
                Some("USED") => Reply::text(409, "invite exhausted\n"),
                _ => Reply::text(404, "invalid invite\n"),
            },
            "/v1/device/begin" => Reply::json(
                200,
                &serde_json::json!({
                    "authorize_url": "https://example.com/activate?code=AB-CD-EF-GH",
                    "exp": e, "expires_in": 599, "features": ["telemetry_minimized"], "interval": 0,
                    "plan": "pro", "poll_token": format!("tok|{}", device.unwrap_or_default()),
                    "user_code": "AB-CD-EF-GH",
                })
                .to_string(),
            ),
            "/v1/device/poll" => {
                if polls.fetch_add(1, Ordering::SeqCst) < pending_polls {
                    return Reply::json(200, r#"{"status":"pending"}"#);
                }
                let tok = body.get("poll_token").and_then(|t| t.as_str()).unwrap_or("");
                let device = tok.strip_prefix("tok|").filter(|d| !d.is_empty());
                let pack = mint(&key(0), device, e, NOW);
                Reply::json(
                    200,
                    &serde_json::json!({"license_pack": pack, "status": "ok"}).to_string(),
                )
            }
            _ => Reply::text(404, "404 page not found\n"),
        }
    })
}

#[test]
fn bind_device_issues_a_device_bound_pack_and_installs_it() {
    let env = env();
    let server = issuer(Arc::new(AtomicI64::new(NOW + 86_400)), 0);
    let client = IssuerClient::new(&server.url());
    let v = bind_device(&env.cfg, &client, "GOOD", Some("a@b.c")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.claims().device.as_deref(), Some(DEVICE));
    assert_eq!(v.claims().sub, "a<b>&c@x.io");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "POST");
    let sent = body_json(&reqs[0]);
    assert_eq!(sent["invite_code"], "GOOD");
    assert_eq!(sent["device"], DEVICE);
    assert_eq!(sent["email"], "a@b.c");
    assert!(load_installed(&env.cfg).is_ok());
    let src = IssuerSource::load(&env.cfg).unwrap_or_default();
    assert_eq!(src.issuer, server.url());
    assert_eq!(src.invite_code.as_deref(), Some("GOOD"));
}

#[test]
fn issuer_errors_are_typed_and_install_nothing() {
    let env = env();
    let server = issuer(Arc::new(AtomicI64::new(NOW + 86_400)), 0);
    let client = IssuerClient::new(&server.url());
    let r = bind_device(&env.cfg, &client, "NOPE", None);
    assert!(
        matches!(&r, Err(Error::IssuerRejected { status: 404, message, .. }) if message == "invalid invite"),
        "{r:?}"
    );
    let r = bind_device(&env.cfg, &client, "USED", None);
    let msg = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("409") && msg.contains("used up"), "{msg}");
    assert!(matches!(load_installed(&env.cfg), Err(Error::NotInstalled { .. })));
}

#[test]
fn issuer_down_rate_limited_and_garbage() {
    let env = env();
    let down = IssuerClient::with_timeout(&refused_url(), Duration::from_secs(3));
    let r = bind_device(&env.cfg, &down, "GOOD", None);
    assert!(matches!(r, Err(Error::IssuerUnreachable { .. })), "{r:?}");
    let r = login(&env.cfg, &down, &fast(), &mut |_| {});
    assert!(matches!(r, Err(Error::IssuerUnreachable { .. })), "{r:?}");

    let limited = TestServer::always(
        Reply::text(429, "rate limit exceeded\n").with_header("retry-after", "60"),
    );
    let r = bind_device(&env.cfg, &IssuerClient::new(&limited.url()), "GOOD", None);
    assert!(matches!(r, Err(Error::IssuerRateLimited { retry_after_secs: 60, .. })), "{r:?}");

    for garbage in
        ["", "<html>oops</html>", "{\"license_pack\":17}", "[1,2]", "{\"status\":\"ok\"}"]
    {
        let server = TestServer::always(Reply::json(200, garbage));
        let client = IssuerClient::new(&server.url());
        let r = bind_device(&env.cfg, &client, "GOOD", None);
        assert!(matches!(r, Err(Error::IssuerResponse { .. })), "{garbage}: {r:?}");
        let r = login(&env.cfg, &client, &fast(), &mut |_| {});
        assert!(r.is_err(), "{garbage}");
    }
    // A well-formed response whose pack is garbage or signed by a stranger: rejected, not installed.
    for pack in ["not a pack".to_owned(), mint(&key(9), Some(DEVICE), NOW + 10, NOW)] {
        let server = TestServer::always(Reply::json(200, &issue_body(&pack)));
        let r = bind_device(&env.cfg, &IssuerClient::new(&server.url()), "GOOD", None);
        let reason = r.err().and_then(|e| e.reason());
        assert!(reason.is_some(), "{pack}");
    }
    // Slow issuer: the per-request timeout applies.
    let slow =
        TestServer::always(Reply::Delay(Duration::from_secs(3), Box::new(Reply::json(200, "{}"))));
    let t = Instant::now();
    let r = bind_device(
        &env.cfg,
        &IssuerClient::with_timeout(&slow.url(), Duration::from_millis(300)),
        "GOOD",
        None,
    );
    assert!(matches!(r, Err(Error::IssuerUnreachable { .. })), "{r:?}");
    assert!(t.elapsed() < Duration::from_secs(3));
    assert!(matches!(load_installed(&env.cfg), Err(Error::NotInstalled { .. })));
}

#[test]
fn login_runs_the_device_flow_with_bounded_polling() {
    let env = env();
    let server = issuer(Arc::new(AtomicI64::new(NOW + 86_400)), 2);
    let client = IssuerClient::new(&server.url());
    let mut shown = Vec::new();
    let opts = LoginOptions { invite_code: Some("GOOD".into()), ..fast() };
    let v = login(&env.cfg, &client, &opts, &mut |b| shown.push(b.user_code.clone()))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(shown, vec!["AB-CD-EF-GH"]);
    assert_eq!(v.claims().device.as_deref(), Some(DEVICE));
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        ["/v1/device/begin", "/v1/device/poll", "/v1/device/poll", "/v1/device/poll"]
    );
    assert_eq!(body_json(&server.requests()[0])["invite_code"], "GOOD");
    assert!(load_installed(&env.cfg).is_ok());
    // Debug of the begin response hides the poll token.
    let begin = client.device_begin(&Default::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(!format!("{begin:?}").contains("tok|"));
}

#[test]
fn login_gives_up_on_expired_unknown_and_never_ready() {
    let env = env();
    let begin =
        r#"{"authorize_url":"u","expires_in":599,"interval":0,"poll_token":"t","user_code":"C"}"#;
    let script = |poll: Reply| {
        TestServer::start(move |req| match req.path.as_str() {
            "/v1/device/begin" => Reply::json(200, begin),
            _ => poll.clone(),
        })
    };
    let expired = script(Reply::json(200, r#"{"status":"expired"}"#));
    let r = login(&env.cfg, &IssuerClient::new(&expired.url()), &fast(), &mut |_| {});
    assert!(matches!(r, Err(Error::LoginIncomplete { .. })), "{r:?}");
    let gone = script(Reply::json(404, r#"{"status":"not_found"}"#));
    let r = login(&env.cfg, &IssuerClient::new(&gone.url()), &fast(), &mut |_| {});
    assert!(matches!(r, Err(Error::LoginIncomplete { .. })), "{r:?}");
    let bad = script(Reply::json(400, r#"{"error":"poll_token required"}"#));
    let r = login(&env.cfg, &IssuerClient::new(&bad.url()), &fast(), &mut |_| {});
    assert!(
        matches!(&r, Err(Error::IssuerRejected { message, .. }) if message == "poll_token required"),
        "{r:?}"
    );
    // Always pending, then rate limited: stops at the overall timeout.
    let pending = script(Reply::json(200, r#"{"status":"pending"}"#));
    let opts = LoginOptions { timeout: Duration::from_millis(400), ..fast() };
    let t = Instant::now();
    let r = login(&env.cfg, &IssuerClient::new(&pending.url()), &opts, &mut |_| {});
    assert!(matches!(r, Err(Error::LoginIncomplete { .. })), "{r:?}");
    assert!(t.elapsed() < Duration::from_secs(3));
    assert!(pending.requests().len() >= 3);
    let limited = script(Reply::text(429, "rate limit exceeded\n"));
    let r = login(&env.cfg, &IssuerClient::new(&limited.url()), &opts, &mut |_| {});
    assert!(matches!(r, Err(Error::LoginIncomplete { .. })), "{r:?}");
    assert!(matches!(load_installed(&env.cfg), Err(Error::NotInstalled { .. })));
    // The poll states themselves.
    let client = IssuerClient::new(&expired.url());
    assert_eq!(client.device_poll("t").ok(), Some(PollStatus::Expired));
}

#[test]
fn refresh_replaces_only_with_a_newer_valid_pack() {
    let env = env();
    let exp = Arc::new(AtomicI64::new(NOW + 1000));
    let server = issuer(exp.clone(), 0);
    let client = IssuerClient::new(&server.url());
    // Nothing installed: any valid pack is installed.
    let r = refresh(&env.cfg, &client, Some("GOOD"), &fast()).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(r, RefreshOutcome::Replaced { previous_exp: None, .. }), "{r:?}");
    let installed = std::fs::read(&env.cfg.pack_path).unwrap_or_default();
    // Same exp/iat: kept, file untouched.
    let r = refresh(&env.cfg, &client, Some("GOOD"), &fast()).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(r, RefreshOutcome::Kept { .. }), "{r:?}");
    // Older: kept.
    exp.store(NOW + 500, Ordering::SeqCst);
    let r = refresh(&env.cfg, &client, Some("GOOD"), &fast()).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(r, RefreshOutcome::Kept { .. }), "{r:?}");
    assert_eq!(std::fs::read(&env.cfg.pack_path).unwrap_or_default(), installed);
    // Newer via the device flow: replaced.
    exp.store(NOW + 5000, Ordering::SeqCst);
    let r = refresh(&env.cfg, &client, None, &fast()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(r, RefreshOutcome::Replaced { previous_exp: Some(e), .. } if e == NOW + 1000),
        "{r:?}"
    );
    assert_eq!(load_installed(&env.cfg).map(|v| v.claims().exp).ok(), Some(NOW + 5000));
    // Newer but expired at our clock (issuer clock wrong): rejected, installed pack kept.
    exp.store(NOW - 1, Ordering::SeqCst);
    assert!(matches!(
        refresh(&env.cfg, &client, Some("GOOD"), &fast()),
        Err(Error::Expired { .. })
    ));
    // Issuer down: error, and offline the installed pack keeps working until it expires.
    let down = IssuerClient::with_timeout(&refused_url(), Duration::from_secs(3));
    assert!(matches!(
        refresh(&env.cfg, &down, Some("GOOD"), &fast()),
        Err(Error::IssuerUnreachable { .. })
    ));
    assert!(load_installed(&env.cfg).is_ok());
    let later = LicenseConfig { now: Some(NOW + 5001), ..env.cfg.clone() };
    assert!(matches!(load_installed(&later), Err(Error::Expired { .. })));
}

#[test]
fn pack_for_another_device_is_refused() {
    let env = env();
    let other = TestServer::always(Reply::json(
        200,
        &issue_body(&mint(&key(0), Some("ELSEWHERE"), NOW + 100, NOW)),
    ));
    let r = bind_device(&env.cfg, &IssuerClient::new(&other.url()), "GOOD", None);
    assert!(matches!(r, Err(Error::DeviceMismatch { .. })), "{r:?}");
    assert!(matches!(load_installed(&env.cfg), Err(Error::NotInstalled { .. })));
}

#[test]
fn huge_login_timeout_does_not_overflow_the_clock() {
    // `agentos license login --timeout 18446744073709551615` reaches here: no panic, and the
    // server's `expires_in` still bounds the wait.
    let env = env();
    let begin =
        r#"{"authorize_url":"u","expires_in":0,"interval":0,"poll_token":"t","user_code":"C"}"#;
    let polls = AtomicUsize::new(0);
    let server = TestServer::start(move |req| match req.path.as_str() {
        "/v1/device/begin" => Reply::json(200, begin),
        _ if polls.fetch_add(1, Ordering::SeqCst) < 2 => {
            Reply::json(200, r#"{"status":"pending"}"#)
        }
        _ => Reply::json(200, r#"{"status":"expired"}"#),
    });
    let opts = LoginOptions { timeout: Duration::MAX, ..fast() };
    let r = login(&env.cfg, &IssuerClient::new(&server.url()), &opts, &mut |_| {});
    assert!(matches!(r, Err(Error::LoginIncomplete { .. })), "{r:?}");
    assert_eq!(server.requests().len(), 4);
}

#[test]
fn oversized_issuer_body_is_a_bad_response_not_an_outage() {
    let env = env();
    let huge = format!("{{\"license_pack\":\"{}\"}}", "a".repeat(1024 * 1024 + 1));
    let server = TestServer::always(Reply::json(200, &huge));
    let r = bind_device(&env.cfg, &IssuerClient::new(&server.url()), "GOOD", None);
    assert!(matches!(r, Err(Error::IssuerResponse { .. })), "{r:?}");
    let msg = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(!msg.contains("aaaa") && !msg.contains('\n'), "{msg}");
    assert!(matches!(load_installed(&env.cfg), Err(Error::NotInstalled { .. })));
}

#[test]
fn the_issuer_is_never_asked_in_clear_on_another_machine_unless_allowed() {
    let env = env();
    let server = issuer(Arc::new(AtomicI64::new(NOW + 3600)), 0);
    // 0x7f.1 resolves to 127.0.0.1 but is not loopback written literally: "another machine".
    let url = format!("http://0x7f.1:{}", server.addr().port());
    let r = bind_device(&env.cfg, &IssuerClient::new(&url), "GOOD", None);
    let e = r.err().unwrap_or_else(|| panic!("asked in clear"));
    assert!(matches!(e, Error::IssuerCleartext(_)), "{e:?}");
    assert!(e.to_string().contains("unencrypted"), "{e}");
    let r = login(&env.cfg, &IssuerClient::new(&url), &fast(), &mut |_| {});
    assert!(matches!(r, Err(Error::IssuerCleartext(_))), "{r:?}");
    assert_eq!(server.connections(), 0, "a socket was opened");
    assert!(matches!(load_installed(&env.cfg), Err(Error::NotInstalled { .. })));
    let allowed = IssuerClient::new(&url).with_cleartext(agentos_transport::Cleartext::Allowed);
    assert!(bind_device(&env.cfg, &allowed, "GOOD", None).is_ok());
}

#[test]
fn the_issuer_client_does_not_follow_a_redirect() {
    let env = env();
    let target = issuer(Arc::new(AtomicI64::new(NOW + 3600)), 0);
    let redirect = TestServer::always(
        Reply::empty(307).with_header("Location", &format!("{}/v1/license/issue", target.url())),
    );
    let r = bind_device(&env.cfg, &IssuerClient::new(&redirect.url()), "GOOD", None);
    assert!(matches!(r, Err(Error::IssuerRejected { status: 307, .. })), "{r:?}");
    assert_eq!(target.connections(), 0, "the redirect was followed");
}

#[test]
fn an_issuer_answer_over_the_cap_or_dripping_is_refused_whole() {
    let env = env();
    let cap = agentos_transport::caps::ISSUER as usize;
    let pack = mint(&key(0), Some(DEVICE), NOW + 3600, NOW);
    // A valid answer padded past the cap: refused, not cut and parsed.
    let padded = format!("{}{}", issue_body(&pack), " ".repeat(cap));
    let big = TestServer::always(Reply::json(200, &padded));
    let r = bind_device(&env.cfg, &IssuerClient::new(&big.url()), "GOOD", None);
    let e = r.err().unwrap_or_else(|| panic!("read"));
    assert!(
        matches!(&e, Error::IssuerResponse { detail, .. } if detail.contains("larger")),
        "{e:?}"
    );
    let drip = TestServer::always(Reply::Drip {
        status: 200,
        chunk: b" ".to_vec(),
        every: Duration::from_millis(100),
        times: 50,
    });
    let client = IssuerClient::with_timeout(&drip.url(), Duration::from_millis(600));
    let r = bind_device(&env.cfg, &client, "GOOD", None);
    assert!(matches!(r, Err(Error::IssuerUnreachable { .. })), "{r:?}");
    assert!(matches!(load_installed(&env.cfg), Err(Error::NotInstalled { .. })));
}
