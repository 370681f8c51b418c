//! License claims (`ccp.license.v1`), packs and public-key bundles (contract §4).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::Extra;

/// The only claims schema CCP accepts.
pub const LICENSE_SCHEMA_V1: &str = "ccp.license.v1";

/// The signed claims of a license. Parsing does not validate: the licensing crate checks
/// signature, schema, expiry and device, in CCP's order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LicenseClaims {
    /// Must be `ccp.license.v1`.
    #[serde(default)]
    pub schema: String,
    /// Subject (email or `anon:<nonce>`).
    #[serde(default)]
    pub sub: String,
    /// Plan name (`trial`, `pro`, `enterprise` …).
    #[serde(default)]
    pub plan: String,
    /// Entitlements.
    #[serde(default)]
    pub features: Vec<String>,
    /// Expiry, Unix seconds; valid while `now <= exp`.
    #[serde(default)]
    pub exp: i64,
    /// Device the license is bound to; absent, `null` or `""` means unbound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Id of the signing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Issued at, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Issuer nonce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Keys this version does not model (they are covered by the signature).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A license pack `{"license":{…},"signature":"<base64>"}`. The license is kept as the exact
/// bytes of the file, because the signature covers those bytes, not a re-serialisation.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct LicensePack {
    /// The signed claims, byte for byte as they stand in the file.
    #[schemars(with = "LicenseClaims")]
    pub license: Box<RawValue>,
    /// Standard base64 Ed25519 signature over `license`'s bytes.
    pub signature: String,
}

/// A published public-key bundle (`PUBKEYS.json`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PubkeyBundle {
    /// Bundle version (a date string).
    #[serde(default)]
    pub version: String,
    /// The keys.
    pub keys: Vec<PubkeyEntry>,
    /// Keys this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One public key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PubkeyEntry {
    /// Key id, matched against the claims' `kid`.
    pub id: String,
    /// Key type: `ed25519`.
    #[serde(rename = "type")]
    pub key_type: String,
    /// Raw 32-byte key, standard base64.
    pub base64: String,
}
