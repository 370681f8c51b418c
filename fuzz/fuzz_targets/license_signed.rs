//! The verifier's claim checks and the revocation list, past the signature: the fuzzed bytes
//! are signed with a test key, so every claim and list the fuzzer writes is checked for real.
#![no_main]

use agentos_licensing::{KeyRing, RevocationList, SignedLicense, VerifyOptions, verify};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use ring::signature::{Ed25519KeyPair, KeyPair as _};

fn key() -> Ed25519KeyPair {
    let seed: Vec<u8> = (0u8..32).collect();
    Ed25519KeyPair::from_seed_unchecked(&seed).expect("a 32-byte seed")
}

fuzz_target!(|data: &[u8]| {
    let key = key();
    let mut ring = KeyRing::empty();
    ring.add_key("test", &STANDARD.encode(key.public_key().as_ref()));
    // Claims, then a revocation list after the first NUL.
    let (claims, list) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let sig = STANDARD.encode(key.sign(claims).as_ref());
    let Ok(signed) = SignedLicense::from_detached(claims.to_vec(), &sig) else {
        return;
    };
    let opts = VerifyOptions::at(1_800_000_000).with_device("dev");
    let verified = verify(&signed, &ring, &opts);
    if let Ok(v) = &verified {
        let _ = v.has("x");
        let _ = v.check_entitlement("metrics");
    }
    if let Err(e) = &verified {
        assert!(!e.to_string().contains(&sig), "signature in an error");
    }
    let lsig = STANDARD.encode(key.sign(list).as_ref());
    if let Ok(revocations) = RevocationList::verify(list, &lsig, &ring)
        && let Some(claims) = signed.unverified_claims()
    {
        let _ = revocations.check(&claims);
    }
    // A byte changed anywhere in signed claims is refused.
    if verified.is_ok() && !claims.is_empty() {
        let mut bad = claims.to_vec();
        let i = usize::from(claims[0]) % bad.len();
        bad[i] ^= 0x01;
        if let Ok(s) = SignedLicense::from_detached(bad, &sig) {
            assert!(verify(&s, &ring, &opts).is_err(), "a changed byte verified");
        }
    }
});
