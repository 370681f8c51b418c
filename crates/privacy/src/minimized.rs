//! The minimized-tier payload: aggregate numbers only, by construction.

use std::fmt;
use std::str::FromStr;

use agentos_event_schema::Timestamp;
use agentos_event_schema::v1::{MetricsSummary, SCHEMA_VERSION};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What the `minimized` tier (and the summary part of the `full` tier) uploads.
///
/// Every field is a number, a timestamp or a parsed version triple: there is no `String`,
/// no map and no list anywhere in the type, so no id, name or free text can be represented.
/// Unknown keys are rejected when reading one back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinimizedPayload {
    /// Version of the event contract the summary was computed under.
    pub schema_version: SchemaVersion,
    /// When the summary was computed.
    pub generated_at: Option<Timestamp>,
    /// First and last event time covered.
    pub period: Option<MinimizedPeriod>,
    /// Number of distinct sessions.
    pub sessions: u64,
    /// Number of turns.
    pub turns: u64,
    /// Σ feature_delta.
    pub features_shipped: f64,
    /// Σ capacity used.
    pub capacity_used: f64,
    /// features_shipped / capacity_used.
    pub features_per_capacity: Option<f64>,
    /// Mean CLS.
    pub avg_cls: Option<f64>,
    /// Mean IMPF.
    pub avg_impf: Option<f64>,
    /// Mean churn score.
    pub avg_churn_score: Option<f64>,
    /// Σ input tokens over all models.
    pub tokens_in: u64,
    /// Σ output tokens over all models.
    pub tokens_out: u64,
    /// Σ estimated cost, USD.
    pub cost_usd: f64,
    /// cost_usd / shipped features.
    pub cost_per_shipped_feature: Option<f64>,
}

/// Every key a [`MinimizedPayload`] serializes to, with what it means (in field order).
pub(crate) const MINIMIZED_FIELDS: &[(&str, &str)] = &[
    ("schema_version", "version of the event contract (`major.minor.patch`)"),
    ("generated_at", "when the summary was computed (timestamp)"),
    ("period", "first and last event time covered (`{start, end}` timestamps)"),
    ("sessions", "count of distinct sessions"),
    ("turns", "count of turns"),
    ("features_shipped", "Σ `measurement.feature_delta`"),
    ("capacity_used", "Σ `turn.capacity_used`"),
    ("features_per_capacity", "features_shipped / capacity_used"),
    ("avg_cls", "mean CLS"),
    ("avg_impf", "mean IMPF"),
    ("avg_churn_score", "mean churn score"),
    ("tokens_in", "Σ input tokens"),
    ("tokens_out", "Σ output tokens"),
    ("cost_usd", "Σ estimated cost in USD"),
    ("cost_per_shipped_feature", "cost_usd / features with status shipped"),
];

impl MinimizedPayload {
    /// Every key the payload serializes to.
    pub fn field_names() -> impl Iterator<Item = &'static str> {
        MINIMIZED_FIELDS.iter().map(|(name, _)| *name)
    }

    /// Project a metrics summary onto the aggregate-only payload. Names (models, providers),
    /// ids and everything not listed in [`MinimizedPayload::field_names`] are left behind.
    pub fn from_summary(summary: &MetricsSummary) -> Self {
        let tokens_in = summary.usage_by_model.values().map(|u| u.tokens_in).sum();
        let tokens_out = summary.usage_by_model.values().map(|u| u.tokens_out).sum();
        MinimizedPayload {
            schema_version: summary.schema_version.parse().unwrap_or_default(),
            generated_at: summary.generated_at,
            period: summary.period.as_ref().map(|p| MinimizedPeriod { start: p.start, end: p.end }),
            sessions: summary.sessions,
            turns: summary.turns,
            features_shipped: summary.features_shipped,
            capacity_used: summary.capacity_used,
            features_per_capacity: summary.features_per_capacity,
            avg_cls: summary.avg_cls,
            avg_impf: summary.avg_impf,
            avg_churn_score: summary.avg_churn_score,
            tokens_in,
            tokens_out,
            cost_usd: summary.cost_usd,
            cost_per_shipped_feature: summary.cost_per_shipped_feature,
        }
    }
}

/// A time range of the minimized payload: two timestamps, nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinimizedPeriod {
    /// Earliest event time.
    pub start: Timestamp,
    /// Latest event time.
    pub end: Timestamp,
}

/// A `major.minor.patch` version, held as three numbers (never free text).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SchemaVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
    pub patch: u32,
}

impl Default for SchemaVersion {
    /// The version this build writes ([`SCHEMA_VERSION`]).
    fn default() -> Self {
        parse_version(SCHEMA_VERSION).unwrap_or(SchemaVersion { major: 1, minor: 0, patch: 0 })
    }
}

fn parse_version(s: &str) -> Option<SchemaVersion> {
    let mut parts = s.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    if parts.next().is_some() {
        return None;
    }
    Some(SchemaVersion { major, minor, patch })
}

/// A version string that is not `major[.minor[.patch]]` in digits.
#[derive(Debug, thiserror::Error)]
#[error("invalid schema version {0:?}: expected major.minor.patch, e.g. 1.1.0")]
pub struct InvalidVersion(String);

impl FromStr for SchemaVersion {
    type Err = InvalidVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_version(s).ok_or_else(|| InvalidVersion(s.to_owned()))
    }
}

impl fmt::Display for SchemaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl Serialize for SchemaVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SchemaVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
