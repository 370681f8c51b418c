//! Signed policy packs (contract §4.6): `policy.json` + `policy.json.sig` + a public key file.
//!
//! Ed25519 over the **raw body bytes** (trailing newline included); signature and key are
//! standard base64 (64 and 32 bytes, whitespace trimmed). After the signature: `version`
//! non-empty, `expiresAt` RFC 3339 and in the future, `routing` non-empty. Keys that CCP's Go
//! parser would read differently (case-insensitive matches) are refused (see `gokeys`).

use std::collections::BTreeMap;

use agentos_event_schema::Extra;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::gokeys::{Level, POLICY_FIELDS, PROVIDER_FIELDS, RULE_FIELDS, key_problem};
use crate::signature::Signature;

/// One routing rule.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RoutingRule {
    /// Model glob.
    #[serde(default)]
    pub pattern: String,
    /// `zai`, `anth` or `anthropic`.
    #[serde(default)]
    pub lane: String,
    /// Keys this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A verified policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Policy version (non-empty).
    #[serde(default)]
    pub version: String,
    /// Expiry, RFC 3339.
    #[serde(default, rename = "expiresAt")]
    pub expires_at: String,
    /// Routing rules (non-empty).
    #[serde(default)]
    pub routing: Vec<RoutingRule>,
    /// Provider settings by name.
    #[serde(default)]
    pub providers: BTreeMap<String, serde_json::Value>,
    /// Keys this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

const HINT: &str = "fetch the policy, its .sig and the public key again";

/// Verify `body` with `sig_text` (content of the `.sig` file) and `pubkey_text` (content of the
/// public key file), then validate the policy at `now` (Unix seconds).
pub fn verify_policy(
    body: &[u8],
    sig_text: &str,
    pubkey_text: &str,
    now: i64,
) -> Result<Policy, Error> {
    let key_bytes = STANDARD
        .decode(pubkey_text.trim())
        .map_err(|_| Error::malformed("policy public key", "not standard base64", HINT))?;
    let len = key_bytes.len();
    let key = <[u8; 32]>::try_from(key_bytes.as_slice()).map_err(|_| {
        Error::malformed("policy public key", format!("{len} bytes instead of 32"), HINT)
    })?;
    let sig = Signature::from_b64(sig_text, "policy signature")?;
    if !sig.verifies(&key, body) {
        return Err(Error::PolicySignatureMismatch);
    }
    let levels: [Level<'_>; 3] = [
        (&[], POLICY_FIELDS),
        (&["routing", "*"], RULE_FIELDS),
        (&["providers", "*"], PROVIDER_FIELDS),
    ];
    if let Some(problem) = key_problem(body, &levels) {
        return Err(Error::malformed("policy", problem, HINT));
    }
    let policy: Policy = serde_json::from_slice(body)
        .map_err(|e| Error::malformed("policy", e.to_string(), HINT))?;
    if policy.version.trim().is_empty() {
        return Err(Error::PolicyMissingField { field: "version" });
    }
    if policy.expires_at.trim().is_empty() {
        return Err(Error::PolicyMissingField { field: "expiresAt" });
    }
    let expires: jiff::Timestamp = policy.expires_at.parse().map_err(|e: jiff::Error| {
        Error::malformed("policy expiresAt", format!("not RFC 3339: {e}"), HINT)
    })?;
    if now > expires.as_second() {
        return Err(Error::PolicyExpired { expires_at: policy.expires_at.clone() });
    }
    if policy.routing.is_empty() {
        return Err(Error::PolicyMissingField { field: "routing" });
    }
    Ok(policy)
}
