//! CCP's license vectors, the repo's real files, and the byte rules: a signature covers the
//! exact stored bytes.

use super::*;

// ---------------------------------------------------------------------------------------------
// CCP vectors

#[derive(Deserialize)]
struct Vectors {
    pubkey_b64: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    kid_map: std::collections::BTreeMap<String, String>,
    license_bytes_utf8: String,
    sig_b64: String,
    now: i64,
    device: String,
    expect: String,
}

fn vectors() -> Vectors {
    let text = std::fs::read_to_string(fixture("licensing/license_vectors.json"))
        .unwrap_or_else(|e| panic!("read vectors: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse vectors: {e}"))
}

fn expected_reasons(expect: &str) -> &'static [&'static str] {
    match expect {
        "license invalid" => &["signature_mismatch", "unknown_key"],
        "expired" => &["expired"],
        "device mismatch" => &["device_mismatch"],
        "schema mismatch" => &["schema_mismatch"],
        other => panic!("unknown expectation {other}"),
    }
}

#[test]
fn vector_seed_matches_published_pubkey() {
    let v = vectors();
    assert_eq!(pub_b64(&key()), v.pubkey_b64);
    assert!(v.cases.len() >= 9, "all vector cases present");
}

#[test]
fn every_vector_case_detached_and_as_pack() {
    for case in vectors().cases {
        let mut ring = KeyRing::empty();
        for (kid, b64) in &case.kid_map {
            ring.add_key(kid, b64);
        }
        let opts = VerifyOptions::at(case.now).with_device(case.device.clone());
        let detached = SignedLicense::from_detached(
            case.license_bytes_utf8.clone().into_bytes(),
            &case.sig_b64,
        )
        .and_then(|s| verify(&s, &ring, &opts));
        let packed = verify_pack(&pack(&case.license_bytes_utf8, &case.sig_b64), &ring, &opts);
        for (form, result) in [("detached", &detached), ("pack", &packed)] {
            if case.expect == "ok" {
                let v = result.as_ref().unwrap_or_else(|e| panic!("{} ({form}): {e}", case.name));
                assert_eq!(v.kid(), "k1", "{}", case.name);
                assert_eq!(v.claims().schema, "ccp.license.v1");
            } else {
                let got = reason(result);
                assert!(
                    got.is_some_and(|g| expected_reasons(&case.expect).contains(&g)),
                    "{} ({form}): expected {}, got {got:?}",
                    case.name,
                    case.expect
                );
            }
        }
    }
}

#[test]
fn vector_license_invalid_cases_have_precise_reasons() {
    let v = vectors();
    let find = |n: &str| v.cases.iter().find(|c| c.name == n).unwrap_or_else(|| panic!("case {n}"));
    let run = |c: &Case| {
        let mut ring = KeyRing::empty();
        for (kid, b64) in &c.kid_map {
            ring.add_key(kid, b64);
        }
        SignedLicense::from_detached(c.license_bytes_utf8.clone().into_bytes(), &c.sig_b64)
            .and_then(|s| verify(&s, &ring, &VerifyOptions::at(c.now)))
    };
    // The only key is `default`; the claims name `k1`: CCP's kid rule skips it.
    let r = run(find("kid_mismatch_map_key_default"));
    assert!(matches!(&r, Err(Error::UnknownKey { kid, .. }) if kid == "k1"), "{r:?}");
    // Same claims, re-indented: the bytes differ, so the signature does not verify.
    let r = run(find("reindented_same_sig"));
    assert!(matches!(&r, Err(Error::SignatureMismatch { .. })), "{r:?}");
}

// ---------------------------------------------------------------------------------------------
// CCP repo data

#[test]
fn pubkeys_json_loads_the_embedded_default_key() {
    let mut ring = KeyRing::empty();
    assert!(ring.add_bundle_file(&fixture("ccp-repo-data/PUBKEYS.json")).is_ok());
    assert_eq!(ring.ids(), vec!["default"]);
    assert!(ring.problems().is_empty());
    let embedded = KeyRing::embedded();
    assert_eq!(ring.keys(), embedded.keys());
}

#[test]
fn trial_license_parses_and_is_rejected() {
    let bytes = std::fs::read(fixture("ccp-repo-data/trial_license.json"))
        .unwrap_or_else(|e| panic!("read: {e}"));
    let claims: agentos_event_schema::ccp::LicenseClaims =
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("parse: {e}"));
    assert_eq!(claims.kid.as_deref(), Some("2025-10-22-a"));
    assert_eq!(claims.exp, 1_761_707_395);
    // Its real signature is not in the repository: any signature, any ring we have, rejects it.
    let sig = sign_b64(&key(), b"something else");
    let mut ring = KeyRing::embedded();
    assert!(ring.add_bundle_file(&fixture("ccp-repo-data/PUBKEYS.json")).is_ok());
    let signed =
        SignedLicense::from_detached(bytes.clone(), &sig).unwrap_or_else(|e| panic!("{e}"));
    for now in [claims.iat.unwrap_or(0), NOW, claims.exp + 1] {
        let r = verify(&signed, &ring, &VerifyOptions::at(now));
        assert_eq!(reason(&r), Some("unknown_key"), "{r:?}");
    }
    // Even a ring that has its kid (with our key) does not verify it.
    ring.add_env(&format!("2025-10-22-a={}", pub_b64(&key())));
    let r = verify(&signed, &ring, &VerifyOptions::at(NOW));
    assert_eq!(reason(&r), Some("signature_mismatch"), "{r:?}");
}

// ---------------------------------------------------------------------------------------------
// Byte rules

#[test]
fn go_escaped_and_raw_special_characters_in_sub_verify_as_signed() {
    let go_style = r#"{"device":null,"exp":4102444800,"features":["zai_offload"],"iat":1761102738,"kid":"k1","nonce":"x","plan":"pro","schema":"ccp.license.v1","sub":"a\u003cb\u003e\u0026c@x.io"}"#;
    let raw = r#"{"device":null,"exp":4102444800,"features":[],"kid":"k1","plan":"pro","schema":"ccp.license.v1","sub":"a<b>&c ü 雪 😀@x.io"}"#;
    let ring = ring_with("k1", &key());
    for lic in [go_style, raw] {
        let (bytes, _) = signed_pack(lic);
        let v =
            verify_pack(&bytes, &ring, &VerifyOptions::at(NOW)).unwrap_or_else(|e| panic!("{e}"));
        assert!(v.claims().sub.starts_with("a<b>&c"), "{}", v.claims().sub);
    }
    // The escaped and raw spellings are different bytes: one's signature does not fit the other.
    let sig = sign_b64(&key(), go_style.as_bytes());
    let unescaped =
        go_style.replace(r"\u003c", "<").replace(r"\u003e", ">").replace(r"\u0026", "&");
    let r = verify_pack(&pack(&unescaped, &sig), &ring, &VerifyOptions::at(NOW));
    assert_eq!(reason(&r), Some("signature_mismatch"));
}

#[test]
fn pretty_printed_license_in_pack_verifies_over_its_own_bytes() {
    let pretty = "{\n  \"exp\": 4102444800,\n  \"features\": [\"telemetry_full\"],\n  \"kid\": \"k1\",\n  \"plan\": \"enterprise\",\n  \"schema\": \"ccp.license.v1\",\n  \"sub\": \"<é>\"\n}";
    let (bytes, sig) = signed_pack(pretty);
    let ring = ring_with("k1", &key());
    let v = verify_pack(&bytes, &ring, &VerifyOptions::at(NOW)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.claims().plan, "enterprise");
    // Pretty pack around it (whitespace outside the license value is not signed).
    let outer = format!("{{\n  \"signature\" : \"{sig}\" ,\n  \"license\" :   {pretty}\n}}\n\n");
    assert!(verify_pack(outer.as_bytes(), &ring, &VerifyOptions::at(NOW)).is_ok());
    // The compact form of the same claims does not verify with this signature.
    let compact: serde_json::Value = serde_json::from_str(pretty).unwrap_or_default();
    let r = verify_pack(&pack(&compact.to_string(), &sig), &ring, &VerifyOptions::at(NOW));
    assert_eq!(reason(&r), Some("signature_mismatch"));
}

#[test]
fn detached_signature_covers_the_trailing_newline() {
    let ring = ring_with("k1", &key());
    let with_nl = format!("{COMPACT}\n");
    let sig = sign_b64(&key(), with_nl.as_bytes());
    let sig_file = format!("{sig}\n");
    let ok = SignedLicense::from_detached(with_nl.clone().into_bytes(), &sig_file)
        .and_then(|s| verify(&s, &ring, &VerifyOptions::at(NOW)));
    assert!(ok.is_ok(), "{ok:?}");
    for altered in [COMPACT.to_owned(), format!("{COMPACT}\r\n"), format!("{COMPACT}\n\n")] {
        let r = SignedLicense::from_detached(altered.into_bytes(), &sig_file)
            .and_then(|s| verify(&s, &ring, &VerifyOptions::at(NOW)));
        assert_eq!(reason(&r), Some("signature_mismatch"));
    }
}

#[test]
fn flipping_any_single_byte_of_a_pack_is_rejected() {
    let ring = ring_with("k1", &key());
    let (bytes, _) = signed_pack(COMPACT);
    let opts = VerifyOptions::at(NOW);
    assert!(verify_pack(&bytes, &ring, &opts).is_ok());
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x02, 0x20, 0x80, 0xff] {
            let mut t = bytes.clone();
            t[i] ^= mask;
            let r = verify_pack(&t, &ring, &opts);
            assert!(r.is_err(), "byte {i} ^ {mask:#x} accepted: {:?}", String::from_utf8_lossy(&t));
        }
    }
}

#[test]
fn flipping_any_single_byte_of_a_detached_pair_is_rejected() {
    let ring = ring_with("k1", &key());
    let lic = format!("{COMPACT}\n");
    let sig = format!("{}\n", sign_b64(&key(), lic.as_bytes()));
    let check = |l: &[u8], s: &[u8]| {
        SignedLicense::from_detached(l.to_vec(), &String::from_utf8_lossy(s))
            .and_then(|x| verify(&x, &ring, &VerifyOptions::at(NOW)))
    };
    assert!(check(lic.as_bytes(), sig.as_bytes()).is_ok());
    for i in 0..lic.len() {
        let mut t = lic.clone().into_bytes();
        t[i] ^= 0x01;
        assert!(check(&t, sig.as_bytes()).is_err(), "license byte {i}");
    }
    // The final LF of the .sig is trimmed whitespace; every other byte matters.
    for i in 0..sig.len() - 1 {
        let mut t = sig.clone().into_bytes();
        t[i] ^= 0x01;
        assert!(check(lic.as_bytes(), &t).is_err(), "sig byte {i}");
    }
}

#[test]
fn issuer_response_with_license_pack_string_verifies() {
    let (bytes, sig) = signed_pack(COMPACT);
    let pack_text = String::from_utf8_lossy(&bytes).trim_end().to_owned();
    let resp = serde_json::json!({
        "license": serde_json::from_str::<serde_json::Value>(COMPACT).unwrap_or_default(),
        "sigB64": sig, "license_pack": pack_text, "pubKeyB64": "ignored",
        "plan": "pro", "features": ["x"], "exp": FAR,
    });
    let ring = ring_with("k1", &key());
    let v = verify_pack(resp.to_string().as_bytes(), &ring, &VerifyOptions::at(NOW));
    assert_eq!(v.map(|v| v.claims().plan.clone()).ok().as_deref(), Some("pro"));
}

#[test]
fn malformed_inputs_are_reported_as_malformed() {
    let ring = ring_with("k1", &key());
    let sig = sign_b64(&key(), COMPACT.as_bytes());
    let cases: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"not json".to_vec(),
        b"[]".to_vec(),
        format!("{{\"license\":{COMPACT}}}").into_bytes(),
        format!("{{\"signature\":\"{sig}\"}}").into_bytes(),
        pack(COMPACT, "!!!notbase64"),
        pack(COMPACT, &sig[..sig.len() - 4]),
        pack(COMPACT, &sig.replace("==", "")),
        br#"{"license_pack":42}"#.to_vec(),
        br#"{"license_pack":"{\"nope\":1}"}"#.to_vec(),
    ];
    for bytes in cases {
        let r = verify_pack(&bytes, &ring, &VerifyOptions::at(NOW));
        assert_eq!(reason(&r), Some("malformed"), "{:?}", String::from_utf8_lossy(&bytes));
        let msg = r.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(!msg.contains(&sig) && !msg.contains(&sig[..20]), "signature leaked: {msg}");
    }
    // Signed bytes that are not valid claims: exp as a string, claims not an object.
    for lic in [r#"{"exp":"4102444800","kid":"k1","schema":"ccp.license.v1"}"#, r#"["k1"]"#] {
        let (bytes, _) = signed_pack(lic);
        let r = verify_pack(&bytes, &ring, &VerifyOptions::at(NOW));
        assert_eq!(reason(&r), Some("malformed"), "{lic}");
    }
}
