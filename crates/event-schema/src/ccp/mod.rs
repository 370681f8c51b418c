//! Typed models of the JSON that CCP/CCC really emits (its Go code, not its docs: see
//! `docs/ccp-contract.md` in the shared reference).
//!
//! Rules, from the contract: Go `omitempty` keys are `#[serde(default)]` (absent means zero)
//! and also read `null` as zero; percentages are fractions (0..1, may exceed 1); `ts` is float
//! Unix seconds; unknown keys are kept in `extra`, never rejected.

mod detect;
mod license;
mod metrics_summary;
mod quotas;
mod readyz;
mod store;
mod usage;
mod usage_line;

pub use detect::detect_kind;
pub use license::{LICENSE_SCHEMA_V1, LicenseClaims, LicensePack, PubkeyBundle, PubkeyEntry};
pub use metrics_summary::{DecisionStats, LaneStats, MetricsSummary, OpStats, SseStats};
pub use quotas::{ModelQuota, QuotaWindows, QuotasConfig, QuotasResponse};
pub use readyz::{ProviderProbe, ReadyzResponse};
pub use store::{RollupRow, RollupsResponse, SamplesResponse, UsageSample};
pub use usage::{HourlyBin, LicenseBlock, ModelView, Speed, Speeds, TtftQuantiles, UsageResponse};
pub use usage_line::{LineKind, UsageLine};
