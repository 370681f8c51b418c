//! `GET /v1/quotas` and the quotas config file (contract §2.4).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Extra;
use crate::nullable::or_default;

/// The response of `GET /v1/quotas`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct QuotasResponse {
    /// The configuration in force.
    pub config: QuotasConfig,
    /// Path of the loaded file (`""` when none was found).
    #[serde(default, deserialize_with = "or_default")]
    pub path: String,
    /// RFC 3339 UTC time of process start or last reload, second precision.
    pub loaded: String,
    /// Keys this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Quotas configuration: also the shape of CCP's `quotas.json` file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct QuotasConfig {
    /// Sliding window lengths.
    #[serde(default, deserialize_with = "or_default")]
    pub windows: QuotaWindows,
    /// Per-model limits.
    #[serde(default, deserialize_with = "or_default")]
    pub models: BTreeMap<String, ModelQuota>,
    /// Keys this version does not model (CCP drops them, e.g. `$schema`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Window lengths in seconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct QuotaWindows {
    /// Rolling window (default 18 000 s).
    #[serde(default, deserialize_with = "or_default")]
    pub rolling_seconds: i64,
    /// Weekly window (default 604 800 s).
    #[serde(default, deserialize_with = "or_default")]
    pub weekly_seconds: i64,
}

/// One model's limits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModelQuota {
    /// Provider name.
    #[serde(default, deserialize_with = "or_default")]
    pub provider: String,
    /// Rolling token cap (0 = none).
    #[serde(default, deserialize_with = "or_default")]
    pub rolling_tokens: i64,
    /// `tokens` or `hours` (case-insensitive); anything else disables the weekly limit.
    #[serde(default, deserialize_with = "or_default")]
    pub weekly_limit_type: String,
    /// Weekly limit in tokens or hours.
    #[serde(default, deserialize_with = "or_default")]
    pub weekly_limit_value: i64,
    /// Warn threshold (fraction).
    #[serde(default, deserialize_with = "or_default")]
    pub warn_pct: f64,
}
