//! The key ring: CCP's environment entries, malformed keys, deterministic order.

use super::*;

// ---------------------------------------------------------------------------------------------
// Key ring

#[test]
fn env_entries_parse_like_ccp_without_its_bugs() {
    let k1 = pub_b64(&key());
    let k2 = pub_b64(&seed_key(1));
    // A bare key ending in '=' whose first 43 chars have no '+' or '/': CCP drops it (B4 note).
    let mut bare = None;
    for first in 2..200u8 {
        let b = pub_b64(&seed_key(first));
        if !b[..43].contains(['+', '/']) {
            bare = Some(b);
            break;
        }
    }
    let bare = bare.unwrap_or_else(|| panic!("no suitable key"));
    let mut ring = KeyRing::empty();
    ring.add_env(&format!(" k1={k1} , {k2},{bare},broken=AAAA,,=x"));
    assert_eq!(ring.ids(), vec!["k1", "env_1", "env_2"]);
    let probs: Vec<&str> = ring.problems().iter().map(|p| p.id.as_str()).collect();
    assert_eq!(probs, vec!["broken", "env_4"]);
    assert!(ring.problems().iter().all(|p| !p.problem.is_empty()));
}

#[test]
fn malformed_key_is_reported_and_does_not_stop_valid_keys() {
    // CCP bug B5: one bad key aborted verification. Here it is set aside.
    let mut ring = KeyRing::empty();
    ring.add_key("bad", "AAAA");
    ring.add_key("k1", &pub_b64(&key()));
    ring.add_key("worse", "%%%");
    let (bytes, _) = signed_pack(COMPACT);
    let v = verify_pack(&bytes, &ring, &VerifyOptions::at(NOW));
    assert_eq!(v.map(|v| v.kid().to_owned()).ok().as_deref(), Some("k1"));
    assert_eq!(ring.problems().len(), 2);
    // The failure message names the skipped keys.
    let other = r#"{"exp":4102444800,"kid":"k9","schema":"ccp.license.v1"}"#;
    let (bytes, _) = signed_pack(other);
    let err = verify_pack(&bytes, &ring, &VerifyOptions::at(NOW)).err().map(|e| e.to_string());
    let err = err.unwrap_or_default();
    assert!(err.contains("`k9`") && err.contains("`bad`") && err.contains("`worse`"), "{err}");
    // The claims' own key malformed: malformed, naming it.
    let mut ring = KeyRing::empty();
    ring.add_key("k1", "AAAA");
    ring.add_key("default", &pub_b64(&key()));
    let (bytes, _) = signed_pack(COMPACT);
    let r = verify_pack(&bytes, &ring, &VerifyOptions::at(NOW));
    assert_eq!(reason(&r), Some("malformed"));
    assert!(r.err().map(|e| e.to_string()).unwrap_or_default().contains("`k1`"));
}

#[test]
fn key_order_is_deterministic_and_kid_first() {
    let other = seed_key(7);
    let mut ring = KeyRing::empty();
    ring.add_key("a", &pub_b64(&other));
    ring.add_key("k1", &pub_b64(&key()));
    ring.add_key("b", &pub_b64(&key()));
    let (bytes, _) = signed_pack(COMPACT);
    for _ in 0..5 {
        let v = verify_pack(&bytes, &ring, &VerifyOptions::at(NOW));
        assert_eq!(v.map(|v| v.kid().to_owned()).ok().as_deref(), Some("k1"));
    }
    // Without kid: the first verifying key in ring order wins and becomes the kid.
    let no_kid = r#"{"exp":4102444800,"features":["telemetry_full"],"plan":"pro","schema":"ccp.license.v1"}"#;
    let (bytes, _) = signed_pack(no_kid);
    let v = verify_pack(&bytes, &ring, &VerifyOptions::at(NOW)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.kid(), "k1");
    assert_eq!(v.claims().kid.as_deref(), Some("k1"));
    // Empty kid string counts as no kid (CCP).
    let empty_kid = r#"{"exp":4102444800,"kid":"","schema":"ccp.license.v1"}"#;
    let (bytes, _) = signed_pack(empty_kid);
    let v = verify_pack(&bytes, &ring, &VerifyOptions::at(NOW));
    assert_eq!(v.map(|v| v.kid().to_owned()).ok().as_deref(), Some("k1"));
    // A key with the right id but the wrong bytes: signature mismatch.
    let ring = ring_with("k1", &other);
    let (bytes, _) = signed_pack(COMPACT);
    assert_eq!(
        reason(&verify_pack(&bytes, &ring, &VerifyOptions::at(NOW))),
        Some("signature_mismatch")
    );
    // Empty ring.
    assert_eq!(
        reason(&verify_pack(&bytes, &KeyRing::empty(), &VerifyOptions::at(NOW))),
        Some("unknown_key")
    );
}

#[test]
fn config_key_ring_has_embedded_bundle_and_env_in_order() {
    let cfg = LicenseConfig {
        pubkeys_path: Some(fixture("ccp-repo-data/PUBKEYS.json")),
        env_pubkeys: Some(format!("k1={}", pub_b64(&key()))),
        ..LicenseConfig::default()
    };
    let ring = cfg.key_ring().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ring.ids(), vec!["default", "default", "k1"]);
    let missing = LicenseConfig { pubkeys_path: Some("/nonexistent/PUBKEYS.json".into()), ..cfg };
    assert!(matches!(missing.key_ring(), Err(Error::Io { .. })));
}
