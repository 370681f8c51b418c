//! Verify a CCP license pack offline and list what it entitles.
//!
//! `cargo run -p agentos-licensing --example verify_pack -- PACK [PUBKEYS.json]` checks `PACK`
//! against CCP's embedded key (plus the bundle, when given) at the current time, without a
//! device check. Without arguments it signs a demo pack with a throw-away key and checks that.
//! Exit code 0 when the pack verifies, 1 when it does not, 2 when a file cannot be read.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use agentos_licensing::entitlements::plan_for;
use agentos_licensing::{KeyRing, SignedLicense, VerifyOptions, now_unix, rfc3339, verify};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use camino::Utf8PathBuf;
use ring::signature::{Ed25519KeyPair, KeyPair as _};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (pack, ring) = match args.as_slice() {
        [] => demo(),
        [pack, rest @ ..] => {
            let path = Utf8PathBuf::from(pack);
            let bytes = std::fs::read(&path).unwrap_or_else(|e| fail(2, &format!("{path}: {e}")));
            let mut ring = KeyRing::embedded();
            if let Some(bundle) = rest.first() {
                let bundle = Utf8PathBuf::from(bundle);
                ring.add_bundle_file(&bundle).unwrap_or_else(|e| fail(2, &e.to_string()));
            }
            (bytes, ring)
        }
    };
    let verified = SignedLicense::from_pack_bytes(&pack)
        .and_then(|signed| verify(&signed, &ring, &VerifyOptions::at(now_unix())))
        .unwrap_or_else(|e| fail(1, &e.to_string()));
    let claims = verified.claims();
    // Claims are text from a file: escape them so they cannot drive the terminal.
    println!(
        "valid: plan {}, subject {}, key {}, expires {}",
        claims.plan.escape_debug(),
        claims.sub.escape_debug(),
        verified.kid().escape_debug(),
        rfc3339(claims.exp)
    );
    for feature in &claims.features {
        let plan = plan_for(feature).unwrap_or("-");
        let state = if verified.has(feature) { "granted" } else { "expired" };
        println!("  {:<24} {state}  (plan {plan})", feature.escape_debug().to_string());
    }
}

/// A pack signed with a throw-away key, and a key ring that trusts only that key.
fn demo() -> (Vec<u8>, KeyRing) {
    let key = Ed25519KeyPair::from_seed_unchecked(&[42; 32]).expect("a 32-byte seed is valid");
    let exp = now_unix() + 30 * 86_400;
    let license = format!(
        r#"{{"schema":"ccp.license.v1","sub":"demo","plan":"pro","features":["telemetry_minimized","mixed_models"],"exp":{exp},"kid":"demo"}}"#
    );
    let sig = STANDARD.encode(key.sign(license.as_bytes()));
    let mut ring = KeyRing::empty();
    ring.add_key("demo", &STANDARD.encode(key.public_key()));
    (format!(r#"{{"license":{license},"signature":"{sig}"}}"#).into_bytes(), ring)
}

fn fail(code: i32, message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(code)
}
