//! Tests from hostile inputs (issue #8): special files as paths.

use std::sync::mpsc;
use std::time::Duration;

use camino::Utf8PathBuf;

use super::*;

/// Run `f` on a thread and return its result, or panic if it has not returned within 20 s
/// (a read that blocks on a FIFO never returns).
fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|_| panic!("the call blocked"))
}

fn mkfifo(path: &Utf8PathBuf) {
    let st = std::process::Command::new("mkfifo")
        .arg(path.as_str())
        .status()
        .unwrap_or_else(|e| panic!("mkfifo: {e}"));
    assert!(st.success(), "mkfifo failed");
}

fn utf8_dir(dir: &tempfile::TempDir) -> Utf8PathBuf {
    Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap_or_else(|p| panic!("{p:?}"))
}

#[test]
fn fifo_directory_and_device_paths_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = utf8_dir(&dir);
    let fifo = root.join("pack.fifo");
    mkfifo(&fifo);
    for path in [fifo.clone(), root.clone(), Utf8PathBuf::from("/dev/zero")] {
        let p = path.clone();
        let err = bounded(move || read_small_file(&p)).expect_err("a special file is refused");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{path}: {err}");
    }
    // Every user-supplied path of the configuration: the pack, the key bundle.
    let cfg = LicenseConfig { pack_path: fifo.clone(), ..temp_cfg(&dir) };
    let err = bounded(move || load_installed(&cfg)).expect_err("a FIFO pack is refused");
    assert!(matches!(&err, Error::Io { path, .. } if *path == fifo), "{err}");
    assert!(err.to_string().contains("pack.fifo"), "{err}");
    let cfg = LicenseConfig { pubkeys_path: Some(fifo.clone()), ..temp_cfg(&dir) };
    let err = bounded(move || cfg.key_ring().map(|_| ())).expect_err("a FIFO bundle is refused");
    assert!(matches!(&err, Error::Io { path, .. } if *path == fifo), "{err}");
}

#[test]
fn fifo_revocation_list_beside_the_pack_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cfg = temp_cfg(&dir);
    let (bytes, _) = signed_pack(COMPACT);
    assert!(install_pack(&cfg, &bytes).is_ok());
    let list = cfg.pack_path.parent().map(|d| d.join(REVOCATIONS_FILE)).unwrap_or_default();
    mkfifo(&list);
    let err = bounded(move || load_installed(&cfg)).expect_err("a FIFO revocation list fails");
    assert!(matches!(&err, Error::Io { path, .. } if *path == list), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Keys CCP's Go parser reads case-insensitively (last one wins)

const CLAIMS_HEAD: &str = r#"{"exp":4102444800,"kid":"k1","plan":"pro","schema":"ccp.license.v1""#;

/// A correctly signed pack whose claims are `CLAIMS_HEAD` + `tail`.
fn signed_claims_pack(tail: &str) -> Vec<u8> {
    signed_pack(&format!("{CLAIMS_HEAD}{tail}}}")).0
}

#[test]
fn go_fold_matches_go_bytes_equal_fold() {
    // Pairs Go's bytes.EqualFold calls equal (ASCII case, long s, Kelvin sign) and one it does
    // not (ß has no simple upper-case mapping in Go).
    for (a, b) in [("features", "FEATURES"), ("features", "featureſ"), ("kid", "\u{212a}id")] {
        assert_eq!(crate::gokeys::go_fold(a), crate::gokeys::go_fold(b), "{a} vs {b}");
    }
    assert_ne!(crate::gokeys::go_fold("ß"), crate::gokeys::go_fold("ss"));
}

#[test]
fn claims_keys_that_collide_ignoring_case_are_rejected() {
    let ring = ring_with("k1", &key());
    let opts = VerifyOptions::at(NOW);
    // Control: the same claims without the colliding key verify and grant the feature.
    let ok = verify_pack(&signed_claims_pack(r#","features":["telemetry_full"]"#), &ring, &opts);
    assert!(ok.as_ref().is_ok_and(|v| v.has("telemetry_full")), "{ok:?}");
    for tail in [
        // CCP reads the last one: no features.
        r#","features":["telemetry_full"],"FEATURES":[]"#,
        r#","features":["telemetry_full"],"featureſ":[]"#,
        // A key CCP binds to `device` that serde would ignore.
        r#","Device":"OTHER-DEVICE","features":["telemetry_full"]"#,
        // Exact duplicates stay rejected.
        r#","features":["telemetry_full"],"features":[]"#,
        // Unknown keys colliding with each other.
        r#","features":[],"x_note":1,"X_NOTE":2"#,
    ] {
        let r = verify_pack(&signed_claims_pack(tail), &ring, &opts);
        assert_eq!(reason(&r), Some("malformed"), "{tail}: {r:?}");
        // The detached form of the same claims is rejected too.
        let claims = format!("{CLAIMS_HEAD}{tail}}}\n");
        let sig = sign_b64(&key(), claims.as_bytes());
        let r = SignedLicense::from_detached(claims.into_bytes(), &sig)
            .and_then(|s| verify(&s, &ring, &opts));
        assert_eq!(reason(&r), Some("malformed"), "detached {tail}: {r:?}");
    }
    // The pack envelope: a second, case-different signature key.
    let (good, sig) = signed_pack(COMPACT);
    assert!(verify_pack(&good, &ring, &opts).is_ok());
    let twin = pack(COMPACT, &sig).into_iter().take_while(|b| *b != b'\n').collect::<Vec<u8>>();
    let twin =
        format!("{},\"Signature\":\"{sig}\"}}", String::from_utf8_lossy(&twin[..twin.len() - 1]));
    let r = verify_pack(twin.as_bytes(), &ring, &opts);
    assert_eq!(reason(&r), Some("malformed"), "{twin}");
}

#[test]
fn policy_and_key_bundle_keys_that_collide_ignoring_case_are_rejected() {
    assert!(policy_result(POLICY, NOW).is_ok());
    let twin = POLICY.replacen("\"routing\"", "\"Routing\": [],\n  \"routing\"", 1);
    assert!(matches!(policy_result(&twin, NOW), Err(Error::Malformed { .. })), "{twin}");
    let lane = POLICY.replacen("\"lane\": \"zai\"", "\"lane\": \"zai\", \"LANE\": \"anth\"", 1);
    assert!(matches!(policy_result(&lane, NOW), Err(Error::Malformed { .. })), "{lane}");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = utf8_dir(&dir).join("PUBKEYS.json");
    let entry = format!(r#"{{"id":"k1","type":"ed25519","base64":"{}"}}"#, pub_b64(&key()));
    let write = |text: &str| std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    write(&format!(r#"{{"version":"1","keys":[{entry}]}}"#));
    assert!(KeyRing::empty().add_bundle_file(&path).is_ok());
    write(&format!(r#"{{"version":"1","keys":[{entry}],"KEYS":[]}}"#));
    assert!(matches!(KeyRing::empty().add_bundle_file(&path), Err(Error::Malformed { .. })));
    let twin_id = entry.replacen("\"id\":\"k1\"", "\"id\":\"k1\",\"ID\":\"default\"", 1);
    write(&format!(r#"{{"version":"1","keys":[{twin_id}]}}"#));
    assert!(matches!(KeyRing::empty().add_bundle_file(&path), Err(Error::Malformed { .. })));
}

// ---------------------------------------------------------------------------------------------
// Revocation lists only move forward

#[test]
fn an_older_revocation_list_never_replaces_a_newer_one() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cfg = temp_cfg(&dir);
    let (bytes, _) = signed_pack(COMPACT);
    assert!(install_pack(&cfg, &bytes).is_ok());
    let base = cfg.pack_path.parent().map(|d| d.to_owned()).unwrap_or_default();
    let list = |at: i64, nonce: &str| {
        signed_list(&format!(
            r#"{{"schema":"agentos.revocations.v1","issued_at":{at},"revoked_nonces":["{nonce}"]}}"#
        ))
    };
    let installed = || std::fs::read(base.join(REVOCATIONS_FILE)).unwrap_or_default();
    // The newer list (issued at 200) revokes this license's nonce.
    let (new_body, new_sig) = list(200, "n-1");
    let got = install_revocations(&cfg, &new_body, &new_sig).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.issued_at, 200);
    assert_eq!(installed(), new_body);
    assert_eq!(reason(&load_installed(&cfg)), Some("revoked"));
    // An older one (issued at 100, which would un-revoke it) is refused; nothing changes.
    let (old_body, old_sig) = list(100, "other");
    let err = install_revocations(&cfg, &old_body, &old_sig).expect_err("older list refused");
    assert!(matches!(err, Error::RevocationsNotNewer { offered: 100, installed: 200 }), "{err}");
    assert_eq!(installed(), new_body);
    assert_eq!(reason(&load_installed(&cfg)), Some("revoked"));
    // Same issued_at, different content: refused as well; the same list again: a no-op.
    let (same_at, same_sig) = list(200, "other");
    assert!(matches!(
        install_revocations(&cfg, &same_at, &same_sig),
        Err(Error::RevocationsNotNewer { .. })
    ));
    assert!(install_revocations(&cfg, &new_body, &new_sig).is_ok());
    // A newer one replaces it.
    let (newest, newest_sig) = list(300, "other");
    assert!(install_revocations(&cfg, &newest, &newest_sig).is_ok());
    assert_eq!(installed(), newest);
    assert!(load_installed(&cfg).is_ok());
    // An unsigned list is never installed.
    let (mut forged, sig) = list(400, "n-1");
    forged.push(b' ');
    assert!(install_revocations(&cfg, &forged, &sig).is_err());
    assert_eq!(installed(), newest);
}
