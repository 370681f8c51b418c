//! Detached Ed25519 signatures as licenses and revocation lists carry them: standard base64 of
//! 64 bytes, checked against a 32-byte public key. Used by `verify` and `revocation` alike.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{ED25519, UnparsedPublicKey};

use crate::Error;

const SIG_HINT: &str = "the signature must be standard base64 (with padding) of 64 bytes";

/// A 64-byte Ed25519 signature. Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Signature([u8; 64]);

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signature(<redacted>)")
    }
}

impl Signature {
    /// Standard base64 with padding, surrounding whitespace trimmed, exactly 64 bytes.
    pub(crate) fn from_b64(text: &str, part: &str) -> Result<Signature, Error> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| Error::malformed(part, "not standard base64", SIG_HINT))?;
        let len = bytes.len();
        <[u8; 64]>::try_from(bytes.as_slice())
            .map(Signature)
            .map_err(|_| Error::malformed(part, format!("{len} bytes instead of 64"), SIG_HINT))
    }

    pub(crate) fn verifies(&self, key: &[u8; 32], message: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, key).verify(message, &self.0).is_ok()
    }
}
