//! The catalogue of JSON Schemas generated from this crate's types: one per type, each with a
//! stable name (`v1-turn`, `ccp-usage-line` …) and a path under the repository's `schemas/`.

use schemars::{JsonSchema, SchemaGenerator};
use serde_json::Value as Json;

use crate::{ccp, prices, v1};

/// Every schema this crate publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SchemaKind {
    /// A line of `events.jsonl` ([`v1::Event`]).
    V1Event,
    /// [`v1::Session`].
    V1Session,
    /// [`v1::Turn`].
    V1Turn,
    /// [`v1::Measurement`].
    V1Measurement,
    /// [`v1::Feature`].
    V1Feature,
    /// [`v1::Cost`].
    V1Cost,
    /// [`v1::Value`].
    V1Value,
    /// [`v1::Decision`].
    V1Decision,
    /// A line of `windows.jsonl` ([`v1::WindowRecord`]).
    V1Window,
    /// A line of `glm_counts.jsonl` ([`v1::GlmCount`]).
    V1GlmCount,
    /// `metrics_summary.json` ([`v1::MetricsSummary`]).
    V1MetricsSummary,
    /// A price table: the bundled one and `--prices` / `prices.json` overrides
    /// ([`prices::PriceTable`]).
    V1Prices,
    /// A line of CCP's `usage.jsonl` ([`ccp::UsageLine`]).
    CcpUsageLine,
    /// `GET /v1/usage` ([`ccp::UsageResponse`]).
    CcpUsage,
    /// `GET /v1/quotas` ([`ccp::QuotasResponse`]).
    CcpQuotas,
    /// CCP's `quotas.json` config file ([`ccp::QuotasConfig`]).
    CcpQuotasConfig,
    /// `GET /readyz` ([`ccp::ReadyzResponse`]).
    CcpReadyz,
    /// `GET /v1/usage/samples` ([`ccp::SamplesResponse`]).
    CcpUsageSamples,
    /// `GET /v1/usage/rollups` ([`ccp::RollupsResponse`]).
    CcpUsageRollups,
    /// `results/METRICS*.json` ([`ccp::MetricsSummary`]).
    CcpMetricsSummary,
    /// License claims ([`ccp::LicenseClaims`]).
    CcpLicenseClaims,
    /// License pack ([`ccp::LicensePack`]).
    CcpLicensePack,
    /// `PUBKEYS.json` ([`ccp::PubkeyBundle`]).
    CcpPubkeys,
}

impl SchemaKind {
    /// Every kind, in catalogue order.
    pub const ALL: [SchemaKind; 23] = [
        SchemaKind::V1Event,
        SchemaKind::V1Session,
        SchemaKind::V1Turn,
        SchemaKind::V1Measurement,
        SchemaKind::V1Feature,
        SchemaKind::V1Cost,
        SchemaKind::V1Value,
        SchemaKind::V1Decision,
        SchemaKind::V1Window,
        SchemaKind::V1GlmCount,
        SchemaKind::V1MetricsSummary,
        SchemaKind::V1Prices,
        SchemaKind::CcpUsageLine,
        SchemaKind::CcpUsage,
        SchemaKind::CcpQuotas,
        SchemaKind::CcpQuotasConfig,
        SchemaKind::CcpReadyz,
        SchemaKind::CcpUsageSamples,
        SchemaKind::CcpUsageRollups,
        SchemaKind::CcpMetricsSummary,
        SchemaKind::CcpLicenseClaims,
        SchemaKind::CcpLicensePack,
        SchemaKind::CcpPubkeys,
    ];

    /// The schema's name, e.g. `v1-turn`, `ccp-usage-line`.
    pub fn name(self) -> &'static str {
        self.info().0
    }

    /// Path of the committed schema file, relative to `schemas/`.
    pub fn file(self) -> &'static str {
        self.info().1
    }

    /// One line saying what the schema describes.
    pub fn description(self) -> &'static str {
        self.info().2
    }

    /// The Python AgentOS v1 schema this one must stay compatible with (file stem in
    /// `agentos-py/schemas-v1/`), if any.
    pub fn legacy_name(self) -> Option<&'static str> {
        match self {
            SchemaKind::V1Session => Some("session"),
            SchemaKind::V1Turn => Some("turn"),
            SchemaKind::V1Measurement => Some("measurement"),
            SchemaKind::V1Feature => Some("feature"),
            SchemaKind::V1Cost => Some("cost"),
            SchemaKind::V1Value => Some("value"),
            SchemaKind::V1Decision => Some("decision"),
            _ => None,
        }
    }

    /// Whether the schema models CCP output (as opposed to AgentOS's own records).
    pub fn is_ccp(self) -> bool {
        self.name().starts_with("ccp-")
    }

    /// Look a kind up by name.
    pub fn from_name(name: &str) -> Option<SchemaKind> {
        SchemaKind::ALL.into_iter().find(|k| k.name() == name)
    }

    fn info(self) -> (&'static str, &'static str, &'static str) {
        match self {
            SchemaKind::V1Event => (
                "v1-event",
                "v1/event.schema.json",
                "a line of events.jsonl (session, turn or session_end)",
            ),
            SchemaKind::V1Session => {
                ("v1-session", "v1/session.schema.json", "the session payload of a session event")
            }
            SchemaKind::V1Turn => {
                ("v1-turn", "v1/turn.schema.json", "the turn payload of a turn event")
            }
            SchemaKind::V1Measurement => {
                ("v1-measurement", "v1/measurement.schema.json", "quality measurements of a turn")
            }
            SchemaKind::V1Feature => {
                ("v1-feature", "v1/feature.schema.json", "the feature a turn worked on")
            }
            SchemaKind::V1Cost => ("v1-cost", "v1/cost.schema.json", "what a turn cost"),
            SchemaKind::V1Value => {
                ("v1-value", "v1/value.schema.json", "the user-visible outcome of a turn")
            }
            SchemaKind::V1Decision => {
                ("v1-decision", "v1/decision.schema.json", "CCP's routing decision for a turn")
            }
            SchemaKind::V1Window => (
                "v1-window",
                "v1/window.schema.json",
                "a line of windows.jsonl (a session as a measurement window)",
            ),
            SchemaKind::V1GlmCount => (
                "v1-glm-count",
                "v1/glm-count.schema.json",
                "a line of glm_counts.jsonl (one GLM-model turn)",
            ),
            SchemaKind::V1MetricsSummary => (
                "v1-metrics-summary",
                "v1/metrics-summary.schema.json",
                "metrics_summary.json (the rollup of event logs)",
            ),
            SchemaKind::V1Prices => (
                "v1-prices",
                "v1/prices.schema.json",
                "a price table (USD per 1M tokens by model family)",
            ),
            SchemaKind::CcpUsageLine => {
                ("ccp-usage-line", "ccp/usage-line.schema.json", "a line of CCP's usage.jsonl")
            }
            SchemaKind::CcpUsage => ("ccp-usage", "ccp/usage.schema.json", "CCP GET /v1/usage"),
            SchemaKind::CcpQuotas => ("ccp-quotas", "ccp/quotas.schema.json", "CCP GET /v1/quotas"),
            SchemaKind::CcpQuotasConfig => (
                "ccp-quotas-config",
                "ccp/quotas-config.schema.json",
                "CCP's quotas.json config file",
            ),
            SchemaKind::CcpReadyz => ("ccp-readyz", "ccp/readyz.schema.json", "CCP GET /readyz"),
            SchemaKind::CcpUsageSamples => {
                ("ccp-usage-samples", "ccp/usage-samples.schema.json", "CCP GET /v1/usage/samples")
            }
            SchemaKind::CcpUsageRollups => (
                "ccp-usage-rollups",
                "ccp/usage-rollups.schema.json",
                "CCP GET /v1/usage/rollups (and ccp-agg files)",
            ),
            SchemaKind::CcpMetricsSummary => (
                "ccp-metrics-summary",
                "ccp/metrics-summary.schema.json",
                "CCP results/METRICS*.json",
            ),
            SchemaKind::CcpLicenseClaims => (
                "ccp-license-claims",
                "ccp/license-claims.schema.json",
                "ccp.license.v1 license claims",
            ),
            SchemaKind::CcpLicensePack => (
                "ccp-license-pack",
                "ccp/license-pack.schema.json",
                "a signed license pack {license, signature}",
            ),
            SchemaKind::CcpPubkeys => {
                ("ccp-pubkeys", "ccp/pubkeys.schema.json", "a PUBKEYS.json public-key bundle")
            }
        }
    }

    /// The JSON Schema (draft 2020-12) generated from the Rust type now, with the generated
    /// header (`$comment`) that the committed files carry.
    pub fn schema(self) -> Json {
        let mut schema = match self {
            SchemaKind::V1Event => root::<v1::Event>(),
            SchemaKind::V1Session => root::<v1::Session>(),
            SchemaKind::V1Turn => root::<v1::Turn>(),
            SchemaKind::V1Measurement => root::<v1::Measurement>(),
            SchemaKind::V1Feature => root::<v1::Feature>(),
            SchemaKind::V1Cost => root::<v1::Cost>(),
            SchemaKind::V1Value => root::<v1::Value>(),
            SchemaKind::V1Decision => root::<v1::Decision>(),
            SchemaKind::V1Window => root::<v1::WindowRecord>(),
            SchemaKind::V1GlmCount => root::<v1::GlmCount>(),
            SchemaKind::V1MetricsSummary => root::<v1::MetricsSummary>(),
            SchemaKind::V1Prices => root::<prices::PriceTable>(),
            SchemaKind::CcpUsageLine => root::<ccp::UsageLine>(),
            SchemaKind::CcpUsage => root::<ccp::UsageResponse>(),
            SchemaKind::CcpQuotas => root::<ccp::QuotasResponse>(),
            SchemaKind::CcpQuotasConfig => root::<ccp::QuotasConfig>(),
            SchemaKind::CcpReadyz => root::<ccp::ReadyzResponse>(),
            SchemaKind::CcpUsageSamples => root::<ccp::SamplesResponse>(),
            SchemaKind::CcpUsageRollups => root::<ccp::RollupsResponse>(),
            SchemaKind::CcpMetricsSummary => root::<ccp::MetricsSummary>(),
            SchemaKind::CcpLicenseClaims => root::<ccp::LicenseClaims>(),
            SchemaKind::CcpLicensePack => root::<ccp::LicensePack>(),
            SchemaKind::CcpPubkeys => root::<ccp::PubkeyBundle>(),
        };
        if let Json::Object(map) = &mut schema {
            let header = format!(
                "Generated by `cargo xtask gen-schemas` from the Rust types in crates/event-schema \
                 ({}); do not edit by hand.",
                self.name()
            );
            map.insert("$comment".to_owned(), Json::String(header));
        }
        schema
    }

    /// The schema as the committed file holds it: pretty JSON plus a trailing newline.
    pub fn rendered(self) -> String {
        let mut text = serde_json::to_string_pretty(&self.schema()).unwrap_or_default();
        text.push('\n');
        text
    }
}

fn root<T: JsonSchema>() -> Json {
    SchemaGenerator::default().into_root_schema_for::<T>().to_value()
}
