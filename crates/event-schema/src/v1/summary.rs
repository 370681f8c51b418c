//! `metrics_summary.json`: the rollup of an event log. Its keys are a contract with existing
//! dashboards (the Python summary's keys, same meaning, same null rules) plus v1 additions.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::payload::{FeatureStatus, OutcomeKind};
use crate::{Extra, Timestamp};

/// The rollup of one or more event logs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MetricsSummary {
    /// Version of the contract that wrote the summary.
    pub schema_version: String,
    /// When the summary was computed.
    pub generated_at: Option<Timestamp>,
    /// First and last event time covered; `null` when no event carried a time.
    pub period: Option<Period>,
    /// Distinct session ids.
    pub sessions: u64,
    /// Turn events.
    pub turns: u64,
    /// Σ `measurement.feature_delta` (the Python definition: not a count of shipped features).
    pub features_shipped: f64,
    /// Σ `turn.capacity_used`.
    pub capacity_used: f64,
    /// `features_shipped / capacity_used`; `null` when capacity is 0.
    pub features_per_capacity: Option<f64>,
    /// Mean CLS over turns that measured it; `null` when none did.
    pub avg_cls: Option<f64>,
    /// Mean IMPF; `null` when none.
    pub avg_impf: Option<f64>,
    /// Mean churn score; `null` when none.
    pub avg_churn_score: Option<f64>,
    /// Σ attribution weight per attributed model.
    pub model_value: BTreeMap<String, f64>,
    /// Model health copied from a CCC `/v1/usage` snapshot, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_health: Option<BTreeMap<String, serde_json::Value>>,
    /// Distinct features by their latest recorded status.
    pub features_by_status: BTreeMap<FeatureStatus, u64>,
    /// Tokens and cost per turn model.
    pub usage_by_model: BTreeMap<String, Usage>,
    /// Tokens and cost per provider.
    pub usage_by_provider: BTreeMap<String, Usage>,
    /// Σ `cost.estimated_usd`.
    pub cost_usd: f64,
    /// `cost_usd / features shipped (status shipped)`; `null` when none shipped.
    pub cost_per_shipped_feature: Option<f64>,
    /// User-visible outcomes, counted by kind.
    pub outcomes: BTreeMap<OutcomeKind, u64>,
    /// Value per model (epic A7).
    pub value_per_model: BTreeMap<String, ModelValue>,
    /// Providers at or above the 90 % weekly-capacity buffer line.
    pub capacity_alerts: Vec<CapacityAlert>,
    /// Input lines skipped as malformed or schema-invalid.
    pub diagnostics: u64,
    /// Cost per shipped feature from git history (the features report), when one was made;
    /// apart from the recorded `feature_delta` figures above. Stays local: no tier uploads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_features: Option<GitFeatures>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Features identified from git history, their cost and churn: aggregates only (no feature
/// ids, branch names or paths).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GitFeatures {
    /// When the features report was made.
    pub computed_at: Timestamp,
    /// Repositories read.
    pub repos: u64,
    /// Features shipped (reachable from the default branch).
    pub shipped: u64,
    /// Features in progress.
    pub in_progress: u64,
    /// Prototype features (`xproto::`).
    pub prototype: u64,
    /// Cost attributed to features, USD.
    pub attributed_cost_usd: f64,
    /// Cost of sessions (or shares of sessions) tied to no feature, USD.
    pub unattributed_cost_usd: f64,
    /// Σ cost of shipped features / their number; `null` when none shipped.
    pub cost_per_shipped_feature_usd: Option<f64>,
    /// Per model: Σ its cost in shipped features / the shipped features it worked on.
    pub per_model: BTreeMap<String, f64>,
    /// Lines the features' commits added.
    pub lines_added: u64,
    /// Of those, lines written with an agent.
    pub agent_lines_added: u64,
    /// Share of agent-written lines deleted or rewritten within 14 days; `null` when not
    /// measured or none added.
    pub churn_14d_agent: Option<f64>,
    /// The same for human-written lines.
    pub churn_14d_human: Option<f64>,
    /// Agent-written churn at 14 days per model active at commit time.
    pub churn_14d_agent_by_model: BTreeMap<String, f64>,
}

/// A time range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Period {
    /// Earliest event time.
    pub start: Timestamp,
    /// Latest event time.
    pub end: Timestamp,
}

/// Token and cost totals.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Usage {
    /// Turns.
    pub turns: u64,
    /// Input tokens.
    pub tokens_in: u64,
    /// Output tokens.
    pub tokens_out: u64,
    /// Estimated cost, USD.
    pub cost_usd: f64,
}

/// What one model delivered for what it cost.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModelValue {
    /// Turns the model served.
    pub turns: u64,
    /// Input tokens.
    pub tokens_in: u64,
    /// Output tokens.
    pub tokens_out: u64,
    /// Σ attribution weight credited to the model.
    pub attribution_weight: f64,
    /// Σ attribution weight × feature_delta.
    pub features_attributed: f64,
    /// Estimated cost, USD, of the turns it served.
    pub cost_usd: f64,
    /// `cost_usd / features_attributed`; `null` when nothing was attributed.
    pub cost_per_attributed_feature: Option<f64>,
}

/// A provider whose weekly capacity use reached the buffer line: stop scheduling new windows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CapacityAlert {
    /// Provider.
    pub provider: String,
    /// Fraction of weekly capacity used.
    pub weekly_used: f64,
    /// The line (0.90: keep 10 percentage points of headroom).
    pub threshold: f64,
    /// What to do.
    pub advice: String,
}
