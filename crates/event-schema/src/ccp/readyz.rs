//! `GET /readyz` (contract §2.2).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::usage::LicenseBlock;
use crate::Extra;
use crate::nullable::or_default;

/// The response of `GET /readyz` (HTTP 200, or 503 with `error` when the providers catalog is
/// broken).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReadyzResponse {
    /// Probe result per provider (`anth`/`zai` without a catalog).
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderProbe>,
    /// Epoch seconds.
    pub ts: f64,
    /// Providers catalog path or `<embedded>`; absent on catalog error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Catalog error (HTTP 503 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Present only when a license verified at startup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<LicenseBlock>,
    /// Keys this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One provider probe (`OPTIONS {base}/v1/messages`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProviderProbe {
    /// `200 <= status <= 405`.
    pub ok: bool,
    /// HTTP status, 0 on transport failure.
    #[serde(default, deserialize_with = "or_default")]
    pub status: i64,
    /// Transport error text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// URL probed.
    #[serde(default, deserialize_with = "or_default")]
    pub url: String,
}
