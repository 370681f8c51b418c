//! The license pack, detached pair and issuer response parsers and the verifier: never a
//! panic, never a signature in an error, nothing accepted under a key nobody holds.
#![no_main]

use agentos_licensing::issuer::IssueResponse;
use agentos_licensing::{KeyRing, SignedLicense, VerifyOptions, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ring = KeyRing::embedded();
    let opts = VerifyOptions::at(1_800_000_000);
    if let Ok(signed) = SignedLicense::from_pack_bytes(data) {
        let _ = signed.unverified_claims();
        // The embedded key's private half is CCP's: fuzzed bytes never verify under it.
        assert!(verify(&signed, &ring, &opts).is_err(), "a fuzzed pack verified");
    }
    if let Ok(resp) = serde_json::from_slice::<IssueResponse>(data) {
        let _ = format!("{resp:?}");
        if let Ok(signed) = SignedLicense::from_pack_bytes(resp.license_pack.as_bytes()) {
            assert!(verify(&signed, &ring, &opts).is_err(), "a fuzzed issuer pack verified");
        }
    }
    // A detached pair: license bytes, then the signature text after the last NUL.
    let (license, sig) = match data.iter().rposition(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    if let Ok(sig) = std::str::from_utf8(sig)
        && let Ok(signed) = SignedLicense::from_detached(license.to_vec(), sig)
    {
        let r = verify(&signed, &ring, &opts);
        assert!(r.is_err(), "a fuzzed detached pair verified");
        if let Err(e) = r {
            let text = e.to_string();
            assert!(sig.trim().len() < 8 || !text.contains(sig.trim()), "signature in an error");
        }
    }
});
