//! Records of the two side files the spec names: `windows.jsonl` (one measurement window per
//! ended session) and `glm_counts.jsonl` (one line per GLM-model turn).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::payload::OutcomeKind;
use crate::{Extra, SessionId, Timestamp, TurnId};

/// A session seen as a measurement window: what each provider delivered for what capacity.
/// Written to `windows.jsonl` when a session ends; read by the efficiency estimator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WindowRecord {
    /// Window id (the session id for recorder-written windows).
    pub window_id: String,
    /// The session measured.
    pub session_id: SessionId,
    /// When the window opened.
    pub started_at: Timestamp,
    /// When the window closed.
    pub ended_at: Timestamp,
    /// Per provider: usage, capacity and features.
    pub providers: BTreeMap<String, ProviderWindow>,
    /// Quality score of the window's work (0.5..1.0 when derived from churn), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<f64>,
    /// User-visible outcomes recorded in the window, counted by kind.
    #[serde(default)]
    pub outcomes: BTreeMap<OutcomeKind, u64>,
    /// Version of the contract that wrote the record.
    pub schema_version: String,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One provider's share of a window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProviderWindow {
    /// Turns served by the provider.
    pub turns: u64,
    /// Input tokens.
    pub tokens_in: u64,
    /// Output tokens.
    pub tokens_out: u64,
    /// Capacity consumed; `null` when no turn reported capacity.
    pub capacity_used: Option<f64>,
    /// Features completed (sum of `feature_delta`).
    pub features: f64,
    /// Estimated cost in US dollars.
    pub cost_usd: f64,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A turn served by a GLM model, mirrored to `glm_counts.jsonl` (prompt counting for GLM
/// capacity, which is measured in prompts).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GlmCount {
    /// The session.
    pub session_id: SessionId,
    /// The turn.
    pub turn_id: TurnId,
    /// The GLM model name.
    pub model: String,
    /// Input tokens.
    pub tokens_in: u64,
    /// Output tokens.
    pub tokens_out: u64,
    /// When the turn was recorded.
    pub ts: Timestamp,
    /// Where the count came from: `trace` for recorder-written lines.
    pub count_source: String,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}
