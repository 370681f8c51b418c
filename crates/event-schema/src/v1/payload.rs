//! Payload objects of the v1 events, field for field the Python AgentOS v1 schemas.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::open_enum::open_enum;
use super::reroute::{RerouteDecision, RerouteMode};
use crate::{EventId, Extra, FeatureId, SessionId, Timestamp, TurnId};

/// Where recorded data may go: `local` (nothing leaves the machine), `minimized` (aggregate
/// metrics only) or `full` (redacted events and metrics).
// Deliberately not ordered (no `PartialOrd`/`Ord`): which tier is more private is
// `agentos_privacy::TierPolicy::is_at_least_as_private_as`, not the order of the variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PrivacyTier {
    /// Nothing leaves the machine.
    Local,
    /// Aggregate metrics only.
    Minimized,
    /// Redacted events and metrics.
    Full,
}

impl PrivacyTier {
    /// Every tier, from most to least private.
    pub const ALL: [PrivacyTier; 3] =
        [PrivacyTier::Local, PrivacyTier::Minimized, PrivacyTier::Full];

    /// The tier's name as written in events and accepted in `PRIVACY_TIER`.
    pub fn as_str(&self) -> &'static str {
        match self {
            PrivacyTier::Local => "local",
            PrivacyTier::Minimized => "minimized",
            PrivacyTier::Full => "full",
        }
    }
}

impl fmt::Display for PrivacyTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A privacy tier name that is not `local`, `minimized` or `full`.
#[derive(Debug, thiserror::Error)]
#[error("unknown privacy tier {0:?}: use local, minimized or full")]
pub struct UnknownTier(String);

impl FromStr for PrivacyTier {
    type Err = UnknownTier;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "local" => Ok(PrivacyTier::Local),
            "minimized" => Ok(PrivacyTier::Minimized),
            "full" => Ok(PrivacyTier::Full),
            _ => Err(UnknownTier(s.to_owned())),
        }
    }
}

/// One agent session: which repository state it worked on and under which tier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Session {
    /// The session's id.
    pub session_id: SessionId,
    /// The repository worked on (an identifier, not a path).
    pub repo_id: String,
    /// Branch name.
    pub branch: String,
    /// Commit the session started from.
    pub commit: String,
    /// Id of the license in force (or a label such as `local`).
    pub license_id: String,
    /// Privacy tier the session was recorded under.
    pub privacy_tier: PrivacyTier,
    /// When the session started.
    pub created_at: Timestamp,
    /// Free-form labels (values are free text: redacted in the `full` tier).
    #[serde(default)]
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// Which coding agent ran the session (`claude-code`, `codex` …): a v1 addition, set by
    /// importers of agent transcripts, omitted when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The agent's working directory (a local path: never uploaded in clear). v1 addition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Version of the agent's CLI as it wrote it (free text, not necessarily semver). v1
    /// addition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cli_version: Option<String>,
    /// Time of the session's last known activity (its first is `created_at`). v1 addition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active_at: Option<Timestamp>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

open_enum!(
    /// What kind of input a turn carried.
    InputKind, "Kind of input",
    /// A kind this version does not know, kept as written (never sent in clear).
    Unknown,
    {
        /// Text prompt.
        Text = "text",
        /// Image input.
        Image = "image",
        /// Anything else (the wire value `other`).
        Other = "other",
    }
);

/// One model call within a session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Turn {
    /// The turn's id.
    pub turn_id: TurnId,
    /// The session it belongs to.
    pub session_id: SessionId,
    /// Model name as the provider knows it (e.g. `claude-sonnet-4.5`, `glm/4.6`).
    pub model: String,
    /// Which agent or subagent made the call.
    pub subagent: String,
    /// Input tokens.
    #[schemars(range(max = u64::MAX))]
    pub tokens_in: u64,
    /// Output tokens.
    #[schemars(range(max = u64::MAX))]
    pub tokens_out: u64,
    /// Kind of input: `text`, `image` or `other`; any other text reads as `Unknown`.
    pub input_kind: InputKind,
    /// Wall-clock latency in milliseconds (0 to 1e15).
    #[schemars(range(min = 0.0, max = super::limits::LATENCY_MS.max))]
    pub latency_ms: f64,
    /// Share of this turn's value credited to each model: weights in [0, 1] summing to at
    /// most 1 (`limits` checks the sum; JSON Schema cannot).
    #[serde(default)]
    #[schemars(schema_with = "attribution_schema")]
    pub attribution: BTreeMap<String, f64>,
    /// Capacity consumed: the share (0 to 1) of the provider's weekly quota this turn used; for
    /// providers that count prompts (GLM, Z.ai) the number of prompts, and in legacy lines
    /// without `schema_version` whatever count the Python client wrote (`limits` checks which).
    #[serde(default)]
    #[schemars(range(min = 0.0, max = super::limits::CAPACITY_PROMPTS.max))]
    pub capacity_used: Option<f64>,
    /// Tokens written to the prompt cache (all lifetimes; counted apart from `tokens_in`,
    /// which is the uncached input). v1 addition, omitted when not measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = u64::MAX))]
    pub cache_creation_tokens: Option<u64>,
    /// Of `cache_creation_tokens`, those written with a 1-hour lifetime (the rest are 5-minute
    /// writes, priced differently). v1 addition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = u64::MAX))]
    pub cache_creation_1h_tokens: Option<u64>,
    /// Input tokens read from the prompt cache (not included in `tokens_in`). v1 addition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = u64::MAX))]
    pub cache_read_tokens: Option<u64>,
    /// True when a sub-agent (a sidechain of the session) made the call. v1 addition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidechain: Option<bool>,
    /// When the model's response was written, by the agent's own clock (the envelope `ts` is
    /// when AgentOS recorded the event). v1 addition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responded_at: Option<Timestamp>,
    /// Set on a correction: the `event_id` of the turn event this one revises. An importer that
    /// first saw a response mid-stream and later its larger final usage writes the increase as
    /// a correction turn (only the extra tokens), so token totals stay exact; readers add its
    /// numbers but must not count it as another response. v1 addition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revises: Option<EventId>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Quality and progress measured for a turn (definitions in `docs/metrics.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Measurement {
    /// Cognitive Load Score.
    #[schemars(range(min = super::limits::CLS.min, max = super::limits::CLS.max))]
    pub cls: f64,
    /// Interaction minutes per feature.
    #[schemars(range(min = 0.0, max = super::limits::IMPF.max))]
    pub impf: f64,
    /// Normalised churn of the code written.
    #[schemars(range(min = super::limits::CHURN_SCORE.min, max = super::limits::CHURN_SCORE.max))]
    pub churn_score: f64,
    /// Features completed by this turn (fractional allowed).
    #[schemars(range(
        min = super::limits::FEATURE_DELTA.min,
        max = super::limits::FEATURE_DELTA.max
    ))]
    pub feature_delta: f64,
    /// Problems observed while measuring.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Lifecycle state of a feature.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FeatureStatus {
    /// Specified, not built.
    Proposed,
    /// Built, not shipped.
    Implemented,
    /// In users' hands.
    Shipped,
}

impl FeatureStatus {
    /// The status as written in events.
    pub fn as_str(&self) -> &'static str {
        match self {
            FeatureStatus::Proposed => "proposed",
            FeatureStatus::Implemented => "implemented",
            FeatureStatus::Shipped => "shipped",
        }
    }
}

impl FromStr for FeatureStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "proposed" => Ok(FeatureStatus::Proposed),
            "implemented" => Ok(FeatureStatus::Implemented),
            "shipped" => Ok(FeatureStatus::Shipped),
            _ => Err(format!("unknown feature status {s:?}: use proposed, implemented or shipped")),
        }
    }
}

/// The feature a turn worked on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Feature {
    /// The feature's id.
    pub feature_id: FeatureId,
    /// Where it is specified (path or URL: free text).
    pub spec_ref: String,
    /// Its state after this turn.
    pub status: FeatureStatus,
    /// Free-text notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What a turn cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Cost {
    /// Who was paid (e.g. `anthropic`, `zai`).
    pub provider: String,
    /// Prices used for the estimate, by unit name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unit_costs: BTreeMap<String, f64>,
    /// Estimated cost in US dollars (0 to 1e15).
    #[schemars(range(min = 0.0, max = super::limits::ESTIMATED_USD.max))]
    pub estimated_usd: f64,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The user-visible outcome of a turn, in words, with links to evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Value {
    /// What was achieved (free text).
    pub summary: String,
    /// Links to the outcome (PR, test run …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// References to stored evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence_refs: Vec<String>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The routing decision CCP took for a turn (its R3.5 flat fields).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Decision {
    /// `hybrid`, `preemptive` or `run2cap` (any other text reads as `Other`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reroute_mode: Option<RerouteMode>,
    /// The quota decision (e.g. `quota_pass`; any other text reads as `Other`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reroute_decision: Option<RerouteDecision>,
    /// 1 when the preferred lane was used. Read also as a boolean (`true` = 1), because the
    /// Python backfill copied CCP's boolean `preferred_attempt` verbatim and its validator
    /// accepted it; always written as an integer.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::nullable::int_or_bool"
    )]
    #[schemars(schema_with = "crate::nullable::int_or_bool_schema")]
    pub preferred_attempt: Option<u64>,
    /// Calibrated warn threshold (fraction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_pct_auto: Option<f64>,
    /// Confidence of the calibration (0..1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_pct_confidence: Option<f64>,
    /// Median gap between limit hits, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub gap_seconds_p50: Option<f64>,
    /// 95th percentile gap, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub gap_seconds_p95: Option<f64>,
    /// Samples behind the gap statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub gap_samples: Option<f64>,
    /// Configured warn threshold (fraction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_pct_cfg: Option<f64>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

open_enum!(
    /// Kinds of user-visible outcome a turn can produce.
    OutcomeKind, "Kind of outcome",
    /// A kind this version does not know, kept as written (never sent in clear; the rollup
    /// counts it under `other`).
    Unknown,
    {
        /// A test suite went green.
        TestsPassed = "tests_passed",
        /// A pull request was merged.
        PrMerged = "pr_merged",
        /// A bug was fixed.
        BugFixed = "bug_fixed",
        /// A feature reached users.
        FeatureShipped = "feature_shipped",
        /// Documentation was written.
        DocsWritten = "docs_written",
        /// Something else of value (the wire value `other`).
        Other = "other",
    }
);

impl OutcomeKind {
    /// Every known kind, in a stable order (the order of [`OutcomeKind::KNOWN`]).
    pub const ALL: [OutcomeKind; 6] = [
        OutcomeKind::TestsPassed,
        OutcomeKind::PrMerged,
        OutcomeKind::BugFixed,
        OutcomeKind::FeatureShipped,
        OutcomeKind::DocsWritten,
        OutcomeKind::Other,
    ];

    /// The known kind this one is counted under: itself, or `Other` for an unknown kind (so
    /// counts keyed by kind never carry a writer's free text).
    pub fn counted_as(&self) -> &OutcomeKind {
        match self {
            OutcomeKind::Unknown(_) => &OutcomeKind::Other,
            known => known,
        }
    }
}

/// The kind of a turn's [`Value`] (a v1 addition, kept on the envelope because the legacy
/// `value` schema forbids extra keys).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Outcome {
    /// What kind of outcome: `tests_passed`, `pr_merged`, `bug_fixed`, `feature_shipped`,
    /// `docs_written` or `other`; any other text reads as `Unknown` (counted under `other`).
    pub kind: OutcomeKind,
    /// How many (e.g. tests passed); 1 when not counted.
    #[serde(default = "one")]
    pub count: u64,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

fn one() -> u64 {
    1
}

/// The schema of `turn.attribution`: an object of weights in [0, 1].
fn attribution_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "additionalProperties": {
            "type": "number",
            "format": "double",
            "minimum": super::limits::ATTRIBUTION_WEIGHT.min,
            "maximum": super::limits::ATTRIBUTION_WEIGHT.max
        },
        "default": {}
    })
}
