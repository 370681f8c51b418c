//! The lean parse of an `events.jsonl` line for usage reports: only the turn and session
//! fields a report needs are kept (borrowed), every other field is checked exactly as the
//! rollup's views check it (`view.rs`), and a turn's numbers go through the same
//! `v1::limits` rule, so a turn counts in `usage` exactly when it counts in the rollup.

use std::borrow::Cow;

use agentos_event_schema::provider::provider_of_turn;
use agentos_event_schema::v1::PrivacyTier;
use agentos_event_schema::v1::limits::{
    CapacityUnit, MeasurementNumbers, TurnNumbers, check_turn_numbers,
};
use serde::Deserialize;

use crate::view::{
    Attribution, CostView, DecisionCheck, FeatureView, IdHash, MeasurementView, NonNeg, ObjCheck,
    OutcomeView, StrCheck, Ts, ValueCheck, object, object_opt, peek_type,
};

/// `{"type":"turn", …}` with the v1 additions imported history carries.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
pub(crate) struct TurnLine<'a> {
    pub(crate) event_id: Option<IdHash>,
    pub(crate) ts: Option<Ts>,
    schema_version: Option<StrCheck>,
    #[serde(borrow, deserialize_with = "object")]
    pub(crate) turn: UsageTurn<'a>,
    #[serde(default, deserialize_with = "object_opt")]
    measurement: Option<MeasurementView>,
    #[serde(borrow, default, deserialize_with = "object_opt")]
    feature: Option<FeatureView<'a>>,
    #[serde(borrow, default, deserialize_with = "object_opt")]
    pub(crate) cost: Option<CostView<'a>>,
    #[serde(default, deserialize_with = "object_opt")]
    value: Option<ValueCheck>,
    #[serde(default, deserialize_with = "object_opt")]
    decision: Option<DecisionCheck>,
    #[serde(default, deserialize_with = "object_opt")]
    outcome: Option<OutcomeView>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
pub(crate) struct UsageTurn<'a> {
    turn_id: StrCheck,
    #[serde(borrow)]
    pub(crate) session_id: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) model: Cow<'a, str>,
    subagent: StrCheck,
    pub(crate) tokens_in: u64,
    pub(crate) tokens_out: u64,
    input_kind: StrCheck,
    latency_ms: NonNeg,
    #[serde(default, borrow)]
    attribution: Attribution<'a>,
    #[serde(default)]
    capacity_used: Option<NonNeg>,
    #[serde(default)]
    pub(crate) cache_creation_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) cache_creation_1h_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) cache_read_tokens: Option<u64>,
    #[serde(default)]
    sidechain: Option<bool>,
    #[serde(default)]
    pub(crate) responded_at: Option<Ts>,
    /// A correction of an earlier turn (the importer's `turn.revises`): its tokens add to
    /// the totals, but it is not another response.
    /// Any JSON value but `null` (the rollup does not type-check it either).
    #[serde(default)]
    pub(crate) revises: Option<serde::de::IgnoredAny>,
}

/// `{"type":"session", …}` with the v1 additions.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
pub(crate) struct SessionLine<'a> {
    pub(crate) event_id: Option<IdHash>,
    ts: Option<Ts>,
    schema_version: Option<StrCheck>,
    #[serde(borrow, deserialize_with = "object")]
    pub(crate) session: UsageSession<'a>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
pub(crate) struct UsageSession<'a> {
    #[serde(borrow)]
    pub(crate) session_id: Cow<'a, str>,
    repo_id: StrCheck,
    #[serde(borrow)]
    pub(crate) branch: Cow<'a, str>,
    commit: StrCheck,
    license_id: StrCheck,
    privacy_tier: PrivacyTier,
    pub(crate) created_at: Ts,
    #[serde(default)]
    metadata: ObjCheck,
    #[serde(default, borrow)]
    pub(crate) agent: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) cwd: Option<Cow<'a, str>>,
    #[serde(default)]
    cli_version: Option<StrCheck>,
    #[serde(default)]
    pub(crate) last_active_at: Option<Ts>,
}

/// What a line is to a usage report.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // lives on the stack for one line; boxing would allocate per event
pub(crate) enum UsageLine<'a> {
    Turn(TurnLine<'a>),
    Session(SessionLine<'a>),
    /// Any other event (`session_end`, unknown types): not needed.
    Other,
}

impl TurnLine<'_> {
    /// The rollup's rule for a turn's numbers (`v1::limits`), with the same provider.
    pub(crate) fn check(&self) -> Result<(), String> {
        let provider =
            provider_of_turn(&self.turn.model, self.cost.as_ref().map(|c| c.provider.as_ref()));
        check_turn_numbers(TurnNumbers {
            capacity_unit: CapacityUnit::of(provider, self.schema_version.is_some()),
            latency_ms: self.turn.latency_ms.0,
            capacity_used: self.turn.capacity_used.map(|c| c.0),
            attribution: self.turn.attribution.0.iter().map(|(k, w)| (k.as_ref(), *w)),
            measurement: self.measurement.as_ref().map(|m| MeasurementNumbers {
                cls: m.cls,
                impf: m.impf.0,
                churn_score: m.churn_score,
                feature_delta: m.feature_delta,
            }),
            estimated_usd: self.cost.as_ref().map(|c| c.estimated_usd.0),
        })
        .map_err(|v| format!("out of range: {v}"))
    }

    /// Whether the turn corrects an earlier one (`turn.revises`, or the same key kept as an
    /// unknown field by writers of another version: both read here).
    pub(crate) fn is_revision(&self) -> bool {
        self.turn.revises.is_some()
    }
}

/// Parse one trimmed, non-empty line. `Err` says what is wrong.
pub(crate) fn parse(text: &str) -> Result<UsageLine<'_>, String> {
    let fast = match peek_type(text.as_bytes()) {
        Some(b"turn") => serde_json::from_str::<TurnLine<'_>>(text).map(UsageLine::Turn),
        Some(b"session") => serde_json::from_str::<SessionLine<'_>>(text).map(UsageLine::Session),
        Some(_) => return Ok(UsageLine::Other),
        None => return slow(text),
    };
    let line = fast.map_err(|e| format!("invalid event: {e}"))?;
    if let UsageLine::Turn(t) = &line {
        t.check()?;
    }
    Ok(line)
}

/// A line whose `type` is not its first key: find the type, then parse it as above, with the
/// strings owned (rare: AgentOS and the importer write `type` first).
fn slow(text: &str) -> Result<UsageLine<'_>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("malformed json: {e}"))?;
    let kind = value.as_object().and_then(|o| o.get("type")).and_then(|t| t.as_str());
    let line = match kind {
        Some("turn") => TurnLine::deserialize(value).map(UsageLine::Turn),
        Some("session") => SessionLine::deserialize(value).map(UsageLine::Session),
        Some(_) => return Ok(UsageLine::Other),
        None => return Err("not an event: no \"type\"".to_owned()),
    };
    let line = line.map_err(|e| format!("invalid event: {e}"))?;
    if let UsageLine::Turn(t) = &line {
        t.check()?;
    }
    Ok(line)
}
