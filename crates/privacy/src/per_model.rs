//! The full tier's per-model figures: usage and cost by model and its provider. Model names
//! already leave in clear in the full tier (`turn.model` passes the allow-list), so these
//! aggregates reveal nothing the redacted events do not; the minimized tier never sends them.

use agentos_event_schema::provider::provider_for_model;
use agentos_event_schema::v1::MetricsSummary;
use serde::Serialize;

/// One model's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelFigures {
    /// Model name, as recorded.
    pub model: String,
    /// Its provider (`agentos_event_schema::provider`).
    pub provider: String,
    /// Turns.
    pub turns: u64,
    /// Σ input tokens (uncached, as recorded).
    pub tokens_in: u64,
    /// Σ output tokens.
    pub tokens_out: u64,
    /// Σ estimated cost, USD.
    pub cost_usd: f64,
    /// Cost per shipped feature attributed to this model (from the git features report), when
    /// measured.
    pub cost_per_shipped_feature: Option<f64>,
}

/// Every model's figures, sorted by model name.
pub(crate) fn from_summary(summary: &MetricsSummary) -> Vec<ModelFigures> {
    let per_feature = summary.git_features.as_ref().map(|g| &g.per_model);
    summary
        .usage_by_model
        .iter()
        .map(|(model, u)| ModelFigures {
            model: model.clone(),
            provider: provider_for_model(model).to_owned(),
            turns: u.turns,
            tokens_in: u.tokens_in,
            tokens_out: u.tokens_out,
            cost_usd: u.cost_usd,
            cost_per_shipped_feature: per_feature.and_then(|m| m.get(model)).copied(),
        })
        .collect()
}

/// What `docs/privacy.md` says about them.
pub(crate) const PER_MODEL_FIELDS: &[(&str, &str)] = &[
    ("model", "model name (as `turn.model`)"),
    ("provider", "its provider"),
    ("turns", "count of turns"),
    ("tokens_in", "Σ input tokens"),
    ("tokens_out", "Σ output tokens"),
    ("cost_usd", "Σ estimated cost in USD"),
    ("cost_per_shipped_feature", "cost per shipped feature attributed to the model"),
];
