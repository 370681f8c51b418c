//! Our optional signed revocation list (CCP has none).
//!
//! Format (`revocations.json`, signed like a detached license: Ed25519 over every byte of the
//! file, signature in `revocations.json.sig`, standard base64):
//! `{"schema":"agentos.revocations.v1","issued_at":<unix>,"revoked_nonces":[…],"revoked_subs":[…]}`.
//! An optional `kid` names the signing key (same rule as licenses).

use agentos_event_schema::Extra;
use agentos_event_schema::ccp::LicenseClaims;
use serde::{Deserialize, Serialize};

use crate::signature::Signature;
use crate::{Error, KeyRing};

/// The schema name of a revocation list.
pub const REVOCATIONS_SCHEMA_V1: &str = "agentos.revocations.v1";

/// A verified revocation list.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RevocationList {
    /// Must be `agentos.revocations.v1`.
    #[serde(default)]
    pub schema: String,
    /// When the list was issued, Unix seconds.
    #[serde(default)]
    pub issued_at: i64,
    /// Id of the signing key (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Revoked license nonces.
    #[serde(default)]
    pub revoked_nonces: Vec<String>,
    /// Revoked subjects (every license of that subject).
    #[serde(default)]
    pub revoked_subs: Vec<String>,
    /// Keys this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

const HINT: &str =
    "get the revocation list and its .sig again from your issuer, or remove both files";

impl RevocationList {
    /// Verify `body` (every byte) against `sig_text` with a key of `ring`, then parse it.
    pub fn verify(body: &[u8], sig_text: &str, ring: &KeyRing) -> Result<RevocationList, Error> {
        let sig = Signature::from_b64(sig_text, "revocation list signature")?;
        let list: RevocationList = serde_json::from_slice(body)
            .map_err(|e| Error::malformed("revocation list", e.to_string(), HINT))?;
        let want = list.kid.as_deref().filter(|k| !k.is_empty());
        let ok = ring
            .keys()
            .iter()
            .filter(|(id, _)| want.is_none_or(|w| w == id))
            .any(|(_, key)| sig.verifies(key, body));
        if !ok {
            return Err(Error::malformed(
                "revocation list",
                "no trusted key verifies its signature",
                HINT,
            ));
        }
        if list.schema != REVOCATIONS_SCHEMA_V1 {
            return Err(Error::malformed(
                "revocation list",
                format!("schema `{}` is not `{REVOCATIONS_SCHEMA_V1}`", list.schema),
                HINT,
            ));
        }
        Ok(list)
    }

    /// `Err(Error::Revoked)` when the claims' nonce or subject is listed.
    pub fn check(&self, claims: &LicenseClaims) -> Result<(), Error> {
        if let Some(nonce) = claims.nonce.as_deref().filter(|n| !n.is_empty())
            && self.revoked_nonces.iter().any(|r| r == nonce)
        {
            return Err(Error::Revoked { what: format!("nonce {nonce}") });
        }
        if !claims.sub.is_empty() && self.revoked_subs.contains(&claims.sub) {
            return Err(Error::Revoked { what: format!("subject {}", claims.sub) });
        }
        Ok(())
    }
}
