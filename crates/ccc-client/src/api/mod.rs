//! The read side of CCC: [`CccApi`] asks a running CCC (CCP's Go shim) for its live state —
//! `/healthz`, `/readyz`, `/v1/usage`, `/v1/quotas`, `/v1/quotas/reload` (only when called),
//! `/v1/usage/samples`, `/v1/usage/rollups` and `/metrics` — as its Go code really behaves
//! (`ccp-contract.md` §2), with typed errors ([`ApiError`]).
//!
//! Modules: `client.rs` ([`CccApi`], timeouts, queries), `errors.rs` ([`ApiError`]),
//! `prometheus.rs` (the text-format parser, [`Exposition`]), `ccp_metrics.rs` ([`CcpMetrics`]:
//! which families AgentOS reads, and the ones it never sums, contract B2), `snapshot.rs` (the
//! `ccp.usage.v1` per-model snapshot, [`ModelSnapshot`]), `watch.rs` ([`Watcher`]: restart
//! detection and per-request dedupe for `ccc_usage.jsonl`), `ccc_config.rs` (CCC's
//! `providers.yaml` and `quotas.json` next to what it loaded: [`review`]).
//!
//! ```no_run
//! use agentos_ccc_client::api::{CccApi, ReadTimeouts, RollupsQuery, assemble};
//! # fn main() -> Result<(), agentos_ccc_client::ApiError> {
//! let ccc = CccApi::from_env(ReadTimeouts::default())?;
//! let ready = ccc.readyz()?; // HTTP 503 is an answer: `ready.catalog_broken()`
//! let snapshots = assemble(&ccc.usage()?, &ccc.quotas()?, ready.body.source.as_deref());
//! let days = ccc.rollups(&RollupsQuery { granularity: Some("day".into()), ..Default::default() });
//! # let _ = (snapshots, days); Ok(()) }
//! ```

mod ccc_config;
mod ccp_metrics;
mod client;
mod errors;
pub mod prometheus;
mod snapshot;
mod watch;

pub use ccc_config::{
    ConfigError, ConfigInputs, Finding, ProviderEntry, ProvidersCatalog, RouteEntry, Severity,
    parse_providers, parse_quotas_file, review,
};
pub use ccp_metrics::{
    CCP_FAMILIES, CcpMetrics, INFLATED_FAMILIES, LaneOp, MetricsDrift, metrics_drift,
};
pub use client::{CccApi, ReadTimeouts, Readiness, RollupsQuery, SamplesQuery};
pub use errors::ApiError;
pub use prometheus::{Exposition, Family, Histogram, MetricKind, NotPrometheus, Sample};
pub use snapshot::{
    Flags, Gaps, ModelSnapshot, SnapshotSource, SnapshotSpeeds, USAGE_SNAPSHOT_SCHEMA,
    WEEKLY_BUFFER_PCT, WarnPct, assemble,
};
pub use watch::{
    DEFAULT_KEY_CAP, Observation, PollDelta, RequestLine, RestartSignal, SampleKey, SnapshotLine,
    WatchLine, Watcher, restart_signals, sample_key,
};

#[cfg(test)]
mod tests;
