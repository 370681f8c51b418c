//! Benchmark: verify one license pack many times (parse the pack bytes, Ed25519 over the raw
//! license bytes, claims checks). Target: well under 1 ms per pack.
//!
//! Run: `cargo bench -p agentos-licensing --bench verify`. Prints one table line per case and
//! one JSON line `{"bench":"license_verify",…}`.
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::time::Instant;

use agentos_licensing::{KeyRing, SignedLicense, VerifyOptions, verify};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{Ed25519KeyPair, KeyPair as _};

const LICENSE: &str = r#"{"device":null,"exp":4102444800,"features":["telemetry_minimized","telemetry_full","mixed_models"],"iat":1761102738,"kid":"k1","nonce":"bench","plan":"pro","schema":"ccp.license.v1","sub":"a\u003cb\u003e\u0026c@x.io"}"#;
const ITERS: u32 = 5_000;

fn main() {
    let seed: Vec<u8> = (0u8..32).collect();
    let Ok(key) = Ed25519KeyPair::from_seed_unchecked(&seed) else {
        println!("cannot build the bench key");
        return;
    };
    let sig = STANDARD.encode(key.sign(LICENSE.as_bytes()).as_ref());
    let pack = format!(r#"{{"license":{LICENSE},"signature":"{sig}"}}"#);
    // A realistic ring: embedded default, a bundle-like second key, then the signing key.
    let mut ring = KeyRing::embedded();
    ring.add_env(&format!(
        "other={},k1={}",
        agentos_licensing::EMBEDDED_PUBKEY_B64,
        STANDARD.encode(key.public_key().as_ref())
    ));
    let opts = VerifyOptions::at(1_761_200_000).with_device("DEVICE");

    let run = |iters: u32| {
        let start = Instant::now();
        let mut ok = 0u32;
        for _ in 0..iters {
            let signed = SignedLicense::from_pack_bytes(black_box(pack.as_bytes()));
            if signed.and_then(|s| verify(&s, &ring, &opts)).is_ok() {
                ok += 1;
            }
        }
        (start.elapsed(), ok)
    };
    let _ = run(200); // warm-up
    let (elapsed, ok) = run(ITERS);
    let ns_per_op = elapsed.as_nanos() as f64 / f64::from(ITERS);
    println!(
        "{:<16} {:>8} iters {:>12.0} ns/op {:>10.3} ms/op  valid={ok}/{ITERS}",
        "license_verify",
        ITERS,
        ns_per_op,
        ns_per_op / 1e6
    );
    println!(
        "{{\"bench\":\"license_verify\",\"iters\":{ITERS},\"ns_per_op\":{ns_per_op:.0},\"target_ns\":1000000,\"valid\":{}}}",
        ok == ITERS
    );
}
