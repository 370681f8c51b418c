//! `agentos license …` / `agentos policy verify` through the built binary: exit codes, output,
//! `--json` shape. Packs come from fixtures/licensing (signed with the seed-00..1f test key).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NOW: &str = "1761200000";
const TEST_PUB: &str = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=";

fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn pubkeys() -> String {
    fixture("licensing/packs/test_pubkeys.json")
}

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("agentos-cli-license-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        Scratch(dir)
    }
    fn path(&self, rel: &str) -> String {
        self.0.join(rel).to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn agentos(args: &[&str], env: &[(&str, &str)], data_dir: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentos"));
    cmd.args(args)
        .env_remove("AGENTOS_PUBKEYS")
        .env_remove("CCP_LICENSE_PUBKEY_B64")
        .env_remove("LICENSE_PACK_PATH")
        .env("AGENTOS_DATA_DIR", data_dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap_or_else(|e| panic!("run agentos: {e}"))
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json_of(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

#[test]
fn verify_prints_plan_features_expiry_kid_and_exits_0() {
    let s = Scratch::new("verify-ok");
    let o = agentos(
        &[
            "license",
            "verify",
            &fixture("licensing/packs/ok.pack"),
            "--pubkeys",
            &pubkeys(),
            "--now",
            NOW,
        ],
        &[],
        &s.path("data"),
    );
    assert_eq!(code(&o), 0, "{o:?}");
    let out = stdout(&o);
    for want in [
        "plan pro",
        "telemetry_minimized, mixed_models",
        "2100-01-01T00:00:00Z",
        "k1",
        "a<b>&c ü@x.io",
    ] {
        assert!(out.contains(want), "missing {want}: {out}");
    }
}

#[test]
fn verify_json_reasons_and_exit_codes() {
    let s = Scratch::new("verify-json");
    let data = s.path("data");
    let run = |pack: &str, extra: &[&str], env: &[(&str, &str)]| {
        let p = fixture(&format!("licensing/packs/{pack}"));
        let mut args = vec!["license", "verify", p.as_str(), "--json"];
        args.extend_from_slice(extra);
        if !extra.contains(&"--now") {
            args.extend_from_slice(&["--now", NOW]);
        }
        let o = agentos(&args, env, &data);
        (code(&o), json_of(&o))
    };
    let pk = pubkeys();
    let keys = ["--pubkeys", pk.as_str()];
    let (c, j) = run("ok.pack", &keys, &[]);
    assert_eq!(
        (c, &j["valid"], &j["reason"]),
        (0, &serde_json::json!(true), &serde_json::Value::Null)
    );
    assert_eq!(j["claims"]["sub"], "a<b>&c ü@x.io");
    assert_eq!(j["claims"]["plan"], "pro");
    let cases: [(&str, Vec<&str>, &str); 4] = [
        ("tampered.pack", keys.to_vec(), "signature_mismatch"),
        ("bound.pack", [&keys[..], &["--device", "DEVICE-B"]].concat(), "device_mismatch"),
        ("ok.pack", vec![], "unknown_key"),
        ("ok.pack", [&keys[..], &["--now", "4102444801"]].concat(), "expired"),
    ];
    for (pack, extra, reason) in cases {
        let (c, j) = run(pack, &extra, &[]);
        assert_eq!(c, 1, "{pack} {extra:?}");
        assert_eq!(j["valid"], false);
        assert_eq!(j["reason"], reason, "{pack} {extra:?}");
    }
    // Claims are shown once the signature verified, never for a bad signature.
    let (_, j) = run("bound.pack", &[&keys[..], &["--device", "DEVICE-B"]].concat(), &[]);
    assert_eq!(j["claims"]["device"], "DEVICE-A");
    let (_, j) = run("tampered.pack", &keys, &[]);
    assert!(j["claims"].is_null());
    // Bound to DEVICE-A: valid there.
    let (c, _) = run("bound.pack", &[&keys[..], &["--device", "DEVICE-A"]].concat(), &[]);
    assert_eq!(c, 0);
    // Keys from CCP_LICENSE_PUBKEY_B64 instead of a bundle.
    let env_key = format!("k1={TEST_PUB}");
    let (c, _) = run("ok.pack", &[], &[("CCP_LICENSE_PUBKEY_B64", &env_key)]);
    assert_eq!(c, 0);
    // CCP's trial license file is not a pack: malformed.
    let o = agentos(
        &["license", "verify", &fixture("ccp-repo-data/trial_license.json"), "--json"],
        &[],
        &data,
    );
    assert_eq!((code(&o), json_of(&o)["reason"].clone()), (1, serde_json::json!("malformed")));
}

#[test]
fn verify_detached_pair_and_usage_errors() {
    let s = Scratch::new("detached");
    let data = s.path("data");
    let (lic, sig) =
        (fixture("licensing/packs/license.json"), fixture("licensing/packs/license.sig"));
    let o = agentos(
        &["license", "verify", "--license", &lic, "--sig", &sig, "--pubkeys", &pubkeys()],
        &[],
        &data,
    );
    assert_eq!(code(&o), 0, "{o:?}");
    assert!(stdout(&o).contains("plan enterprise"));
    // The pack's signature does not fit the detached file.
    let o = agentos(
        &[
            "license",
            "verify",
            "--license",
            &fixture("licensing/packs/ok.pack"),
            "--sig",
            &sig,
            "--pubkeys",
            &pubkeys(),
            "--json",
        ],
        &[],
        &data,
    );
    assert_eq!(code(&o), 1);
    // Usage and I/O errors: exit 2.
    assert_eq!(code(&agentos(&["license", "verify", "--license", &lic], &[], &data)), 2);
    assert_eq!(code(&agentos(&["license", "verify"], &[], &data)), 2);
    let o = agentos(&["license", "verify", &s.path("missing.pack")], &[], &data);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"));
    let o = agentos(
        &[
            "license",
            "verify",
            &fixture("licensing/packs/ok.pack"),
            "--pubkeys",
            &s.path("nope.json"),
        ],
        &[],
        &data,
    );
    assert_eq!(code(&o), 2);
}

#[test]
fn install_status_entitlements_round_trip() {
    let s = Scratch::new("install");
    let data = s.path("data");
    let env_key = format!("k1={TEST_PUB}");
    let env = [("CCP_LICENSE_PUBKEY_B64", env_key.as_str())];
    // Nothing installed: status and entitlements deny (exit 1), JSON says not valid.
    let o = agentos(&["license", "status"], &env, &data);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("no license installed"));
    // The library says what is wrong; the CLI adds the commands that fix it.
    assert!(stdout(&o).contains("; run `agentos license install PACK`"), "{o:?}");
    let o = agentos(&["license", "entitlements"], &env, &data);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).lines().all(|l| l.contains("denied")), "{}", stdout(&o));
    // An invalid pack is not installed.
    let o =
        agentos(&["license", "install", &fixture("licensing/packs/tampered.pack")], &env, &data);
    assert_eq!(code(&o), 1);
    assert!(!Path::new(&s.path("data/license.pack")).exists());
    // Install, then status and entitlements.
    let o = agentos(&["license", "install", &fixture("licensing/packs/ok.pack")], &env, &data);
    assert_eq!(code(&o), 0, "{o:?}");
    let installed = std::fs::read(s.path("data/license.pack")).unwrap_or_default();
    assert_eq!(installed, std::fs::read(fixture("licensing/packs/ok.pack")).unwrap_or_default());
    let o = agentos(&["license", "status", "--json"], &env, &data);
    assert_eq!(code(&o), 0);
    assert_eq!(json_of(&o)["claims"]["plan"], "pro");
    let o = agentos(&["license", "entitlements"], &env, &data);
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    let line = |f: &str| out.lines().find(|l| l.starts_with(f)).unwrap_or("").to_owned();
    assert!(line("telemetry_minimized").contains("granted"), "{out}");
    assert!(line("mixed_models").contains("granted"), "{out}");
    assert!(
        line("telemetry_full").contains("denied") && line("telemetry_full").contains("enterprise"),
        "{out}"
    );
    // Without the key the installed pack is re-verified and rejected.
    let o = agentos(&["license", "status", "--json"], &[], &data);
    assert_eq!((code(&o), json_of(&o)["reason"].clone()), (1, serde_json::json!("unknown_key")));
    // LICENSE_PACK_PATH decides where.
    let custom = s.path("elsewhere/my.pack");
    let env2 = [env[0], ("LICENSE_PACK_PATH", custom.as_str())];
    let o = agentos(&["license", "install", &fixture("licensing/packs/ok.pack")], &env2, &data);
    assert_eq!(code(&o), 0);
    assert!(Path::new(&custom).exists());
    // Device id: standard base64 of a SHA-256.
    let o = agentos(&["license", "device"], &[], &data);
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&o).trim().len(), 44);
}

#[test]
fn policy_verify_exit_codes() {
    let s = Scratch::new("policy");
    let data = s.path("data");
    let (p, sig, pubk) = (
        fixture("licensing/policy/policy.json"),
        fixture("licensing/policy/policy.json.sig"),
        fixture("licensing/policy/policy.pub"),
    );
    let o = agentos(
        &["policy", "verify", &p, "--sig", &sig, "--pubkey", &pubk, "--now", NOW],
        &[],
        &data,
    );
    assert_eq!(code(&o), 0, "{o:?}");
    assert!(stdout(&o).contains("2025-10-21.1"));
    let o = agentos(
        &[
            "policy",
            "verify",
            &p,
            "--sig",
            &sig,
            "--pubkey",
            &pubk,
            "--now",
            "1893456001",
            "--json",
        ],
        &[],
        &data,
    );
    assert_eq!(code(&o), 1);
    assert!(json_of(&o)["error"].as_str().unwrap_or("").contains("expired"));
    let other = s.path("other.pub");
    std::fs::write(&other, format!("{TEST_PUB}\n")).unwrap_or_else(|e| panic!("{e}"));
    let o = agentos(
        &["policy", "verify", &p, "--sig", &sig, "--pubkey", &other, "--now", NOW],
        &[],
        &data,
    );
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("signature mismatch"));
    let o = agentos(
        &["policy", "verify", &p, "--sig", &s.path("none.sig"), "--pubkey", &pubk],
        &[],
        &data,
    );
    assert_eq!(code(&o), 2);
}

#[test]
fn login_and_refresh_through_the_binary() {
    use agentos_testkit::{Reply, TestServer};
    let s = Scratch::new("login");
    let data = s.path("data");
    let env_key = format!("k1={TEST_PUB}");
    let env = [("CCP_LICENSE_PUBKEY_B64", env_key.as_str())];
    // Refresh before any login: no issuer known, a usage error (exit 2) saying what to do.
    let o = agentos(&["license", "refresh"], &env, &data);
    assert_eq!(code(&o), 2, "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("--issuer URL"), "{o:?}");
    // A licissuer on 127.0.0.1 whose device flow hands out the signed fixture pack.
    let pack = std::fs::read_to_string(fixture("licensing/packs/ok.pack")).unwrap_or_default();
    let poll = serde_json::json!({"status": "ok", "license_pack": pack.trim_end()}).to_string();
    let server = TestServer::start(move |req| match req.path.as_str() {
        "/v1/device/begin" => Reply::json(
            200,
            r#"{"authorize_url":"http://127.0.0.1/a","user_code":"AB-CD","poll_token":"t","interval":0,"expires_in":60}"#,
        ),
        "/v1/device/poll" => Reply::json(200, &poll),
        _ => Reply::text(404, "404 page not found\n"),
    });
    let o = agentos(
        &["license", "login", "--issuer", &server.url(), "--timeout", "30", "--now", NOW],
        &env,
        &data,
    );
    assert_eq!(code(&o), 0, "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("AB-CD"), "{o:?}");
    assert!(stdout(&o).contains("plan pro"), "{o:?}");
    assert!(Path::new(&s.path("data/license.pack")).exists());
    // Refresh remembers the issuer; the same pack is not newer, so it is kept.
    let o = agentos(&["license", "refresh", "--now", NOW], &env, &data);
    assert_eq!(code(&o), 0, "{o:?}");
    assert!(stdout(&o).contains("kept"), "{o:?}");
    // Issuer down: refresh fails (exit 2), the installed license keeps working offline.
    drop(server);
    let o = agentos(&["license", "refresh", "--now", NOW], &env, &data);
    assert_eq!(code(&o), 2, "{o:?}");
    let o = agentos(&["license", "status", "--now", NOW], &env, &data);
    assert_eq!(code(&o), 0, "{o:?}");
}

/// Run `agentos` but give up (kill it, fail the test) if it has not exited within 30 s.
fn agentos_bounded(args: &[&str], env: &[(&str, &str)], data_dir: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentos"));
    cmd.args(args)
        .env_remove("AGENTOS_PUBKEYS")
        .env_remove("CCP_LICENSE_PUBKEY_B64")
        .env_remove("LICENSE_PACK_PATH")
        .env("AGENTOS_DATA_DIR", data_dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("run agentos: {e}"));
    for _ in 0..300 {
        if let Ok(Some(_)) = child.try_wait() {
            return child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("agentos {args:?} did not return (blocked on a special file?)");
}

#[test]
fn fifo_as_pack_or_key_bundle_is_refused_not_waited_on() {
    let s = Scratch::new("fifo");
    let data = s.path("data");
    let fifo = s.path("license.fifo");
    let st = Command::new("mkfifo").arg(&fifo).status().unwrap_or_else(|e| panic!("{e}"));
    assert!(st.success());
    let o = agentos_bounded(&["license", "status"], &[("LICENSE_PACK_PATH", &fifo)], &data);
    assert_eq!(code(&o), 2, "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("license.fifo"), "{o:?}");
    let ok = fixture("licensing/packs/ok.pack");
    let o = agentos_bounded(&["license", "verify", &ok], &[("AGENTOS_PUBKEYS", &fifo)], &data);
    assert_eq!(code(&o), 2, "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("license.fifo"), "{o:?}");
}

#[test]
fn install_with_pubkeys_remembers_the_bundle_for_later_commands() {
    let s = Scratch::new("remember-keys");
    let data = s.path("data");
    let ok = fixture("licensing/packs/ok.pack");
    let o = agentos(&["license", "install", &ok, "--pubkeys", &pubkeys()], &[], &data);
    assert_eq!(code(&o), 0, "{o:?}");
    // The bundle is stored beside the pack, byte for byte.
    let stored = std::fs::read(s.path("data/license.pack.pubkeys.json")).unwrap_or_default();
    assert_eq!(stored, std::fs::read(pubkeys()).unwrap_or_default());
    // Later commands, without --pubkeys, trust it.
    let o = agentos(&["license", "status"], &[], &data);
    assert_eq!(code(&o), 0, "{o:?}");
    assert!(stdout(&o).contains("is valid"), "{}", stdout(&o));
    let o = agentos(&["license", "status", "--json"], &[], &data);
    assert_eq!((code(&o), json_of(&o)["valid"].clone()), (0, serde_json::json!(true)));
}
