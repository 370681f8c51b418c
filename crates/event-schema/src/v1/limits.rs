//! The one validity rule for the numbers of a turn: the range of every number the rollup adds
//! up, checked by the recorder before it writes and by the rollup before it adds.
//!
//! A number outside its range is refused at write time (the writer names the field) and a line
//! carrying one is skipped by the rollup with a diagnostic, so what is recorded is exactly
//! what is counted. The same bounds appear in the generated JSON Schemas (`minimum` /
//! `maximum`), except two that depend on more than the field itself, which JSON Schema cannot
//! express: the attribution sum, and the share bound of `capacity_used` (the schema says
//! 0 ..= 1e15, the unit of prompt-counting providers).
//!
//! | field | range |
//! |---|---|
//! | `turn.latency_ms` | 0 ..= 1e15 |
//! | `turn.capacity_used` | 0 ..= 1: a share of the provider's weekly quota; 0 ..= 1e15 for providers
//!   that count prompts (Z.ai: `zai`, `glm`, `z.ai`, `zhipu`) and in legacy lines ([`CapacityUnit`]) |
//! | `turn.attribution` weight | 0 ..= 1, and the weights of a turn sum to ≤ 1 (+1e-9) |
//! | `measurement.cls`, `churn_score`, `feature_delta` | -1e15 ..= 1e15 |
//! | `measurement.impf` | 0 ..= 1e15 |
//! | `cost.estimated_usd` | 0 ..= 1e15 |
//! | `cost.unit_costs`, `decision` numbers | finite |
//!
//! `tokens_in` / `tokens_out` are `u64` (the schema says `maximum` 2^64 − 1).
//!
//! Session ids a writer accepts: 1 to 128 characters from ASCII letters, digits, `-`, `_`, `.`
//! and `:` ([`check_session_id`]).
//!
//! Why 1e15: every JSON number is a finite f64, but sums of values near `f64::MAX` overflow to
//! infinity, which JSON cannot hold; no real cost, latency or measurement comes near 1e15.

use std::fmt;

use super::TurnEvent;

/// Largest magnitude of a number the rollup adds into totals.
pub const MAX_MAGNITUDE: f64 = 1e15;

/// How far above 1 the sum of a turn's attribution weights may be (floating-point rounding:
/// `0.1 + 0.2 + 0.7` is `1.0000000000000002`).
pub const ATTRIBUTION_SUM_TOLERANCE: f64 = 1e-9;

/// A closed range of allowed values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// Smallest allowed value.
    pub min: f64,
    /// Largest allowed value.
    pub max: f64,
}

impl Range {
    /// Any finite number.
    pub const FINITE: Range = Range { min: f64::MIN, max: f64::MAX };

    /// Whether `v` is inside (NaN and infinities never are).
    pub fn contains(self, v: f64) -> bool {
        v >= self.min && v <= self.max
    }

    /// `Ok` when `v` is inside, else the violation for `field` (built only on failure).
    pub fn check(self, v: f64, field: impl FnOnce() -> Field) -> Result<(), Violation> {
        if self.contains(v) {
            Ok(())
        } else {
            Err(Violation { field: field(), value: v, range: self })
        }
    }
}

/// `turn.latency_ms`.
pub const LATENCY_MS: Range = Range { min: 0.0, max: MAX_MAGNITUDE };
/// `turn.capacity_used`: a share of the provider's weekly quota.
pub const CAPACITY_USED: Range = Range { min: 0.0, max: 1.0 };
/// `turn.capacity_used` of a provider that counts prompts ([`is_prompt_counted`](crate::provider::is_prompt_counted)).
pub const CAPACITY_PROMPTS: Range = Range { min: 0.0, max: MAX_MAGNITUDE };

/// What `turn.capacity_used` counts, which decides its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CapacityUnit {
    /// A share of the provider's weekly quota: 0 ..= 1 ([`CAPACITY_USED`]).
    Share,
    /// A count (prompts, or the tokens the Python backfill wrote): 0 ..= 1e15
    /// ([`CAPACITY_PROMPTS`]).
    Count,
}

impl CapacityUnit {
    /// The unit of a turn billed to `provider` in an event that does (`versioned`) or does not
    /// carry a `schema_version`. Providers that count prompts ([`is_prompt_counted`](crate::provider::is_prompt_counted)) count;
    /// so do legacy lines without a `schema_version` (the Python client gave capacity no fixed
    /// unit, and its backfill wrote token counts), which must keep counting as they always
    /// have. Everything AgentOS writes is versioned: there capacity is a share.
    pub fn of(provider: &str, versioned: bool) -> CapacityUnit {
        if crate::provider::is_prompt_counted(provider) || !versioned {
            CapacityUnit::Count
        } else {
            CapacityUnit::Share
        }
    }

    /// The allowed range.
    pub fn range(self) -> Range {
        match self {
            CapacityUnit::Share => CAPACITY_USED,
            CapacityUnit::Count => CAPACITY_PROMPTS,
        }
    }
}
/// One `turn.attribution` weight.
pub const ATTRIBUTION_WEIGHT: Range = Range { min: 0.0, max: 1.0 };
/// The sum of a turn's attribution weights (checked with [`ATTRIBUTION_SUM_TOLERANCE`]).
pub const ATTRIBUTION_SUM: Range = Range { min: 0.0, max: 1.0 };
/// `measurement.cls`.
pub const CLS: Range = Range { min: -MAX_MAGNITUDE, max: MAX_MAGNITUDE };
/// `measurement.impf`.
pub const IMPF: Range = Range { min: 0.0, max: MAX_MAGNITUDE };
/// `measurement.churn_score`.
pub const CHURN_SCORE: Range = Range { min: -MAX_MAGNITUDE, max: MAX_MAGNITUDE };
/// `measurement.feature_delta`.
pub const FEATURE_DELTA: Range = Range { min: -MAX_MAGNITUDE, max: MAX_MAGNITUDE };
/// `cost.estimated_usd`.
pub const ESTIMATED_USD: Range = Range { min: 0.0, max: MAX_MAGNITUDE };

/// Which number is out of range.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Field {
    /// `turn.latency_ms`.
    LatencyMs,
    /// `turn.capacity_used`.
    CapacityUsed,
    /// The weight of one model in `turn.attribution`.
    AttributionWeight(String),
    /// The sum of the weights in `turn.attribution`.
    AttributionSum,
    /// `measurement.cls`.
    Cls,
    /// `measurement.impf`.
    Impf,
    /// `measurement.churn_score`.
    ChurnScore,
    /// `measurement.feature_delta`.
    FeatureDelta,
    /// `cost.estimated_usd`.
    EstimatedUsd,
    /// One of `cost.unit_costs`.
    UnitCost(String),
    /// One of the `decision` numbers (its field name).
    Decision(&'static str),
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::LatencyMs => f.write_str("turn.latency_ms"),
            Field::CapacityUsed => f.write_str("turn.capacity_used"),
            Field::AttributionWeight(model) => write!(f, "turn.attribution[{model:?}]"),
            Field::AttributionSum => f.write_str("the sum of the turn.attribution weights"),
            Field::Cls => f.write_str("measurement.cls"),
            Field::Impf => f.write_str("measurement.impf"),
            Field::ChurnScore => f.write_str("measurement.churn_score"),
            Field::FeatureDelta => f.write_str("measurement.feature_delta"),
            Field::EstimatedUsd => f.write_str("cost.estimated_usd"),
            Field::UnitCost(unit) => write!(f, "cost.unit_costs[{unit:?}]"),
            Field::Decision(name) => write!(f, "decision.{name}"),
        }
    }
}

impl Field {
    /// The JSON pointer of the field in a v1 turn event (`/turn/capacity_used`).
    pub fn pointer(&self) -> String {
        let esc = |key: &str| key.replace('~', "~0").replace('/', "~1");
        match self {
            Field::LatencyMs => "/turn/latency_ms".to_owned(),
            Field::CapacityUsed => "/turn/capacity_used".to_owned(),
            Field::AttributionWeight(model) => format!("/turn/attribution/{}", esc(model)),
            Field::AttributionSum => "/turn/attribution".to_owned(),
            Field::Cls => "/measurement/cls".to_owned(),
            Field::Impf => "/measurement/impf".to_owned(),
            Field::ChurnScore => "/measurement/churn_score".to_owned(),
            Field::FeatureDelta => "/measurement/feature_delta".to_owned(),
            Field::EstimatedUsd => "/cost/estimated_usd".to_owned(),
            Field::UnitCost(unit) => format!("/cost/unit_costs/{}", esc(unit)),
            Field::Decision(name) => format!("/decision/{name}"),
        }
    }
}

/// A number outside its range. `Display`: `turn.capacity_used must be ≥ 0 and ≤ 1 (got 2)`.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{field} {}", requirement(self.range, self.value))]
pub struct Violation {
    /// The field.
    pub field: Field,
    /// The value found.
    pub value: f64,
    /// The allowed range.
    pub range: Range,
}

impl Violation {
    /// What the value must be and what it was, without the field name (`must be ≥ 0 and ≤ 1
    /// (got 2)`), for writers that name the field in their own words (a CLI flag).
    pub fn requirement(&self) -> String {
        requirement(self.range, self.value)
    }
}

fn requirement(range: Range, value: f64) -> String {
    if range == Range::FINITE {
        format!("must be a finite number (got {})", number(value))
    } else {
        format!(
            "must be ≥ {} and ≤ {} (got {})",
            number(range.min),
            number(range.max),
            number(value)
        )
    }
}

/// A number as a person writes it: `1e15`, `2e300`, `0.5`, `-3`.
pub fn number(v: f64) -> String {
    let a = v.abs();
    if v.is_finite() && a != 0.0 && !(1e-4..1e6).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// The measurement numbers of a turn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeasurementNumbers {
    /// `cls`.
    pub cls: f64,
    /// `impf`.
    pub impf: f64,
    /// `churn_score`.
    pub churn_score: f64,
    /// `feature_delta`.
    pub feature_delta: f64,
}

/// The numbers of a turn the rollup adds up; `W` yields the attribution `(model, weight)`s.
#[derive(Clone, Debug)]
pub struct TurnNumbers<W> {
    /// The unit of `capacity_used` ([`CapacityUnit::of`]).
    pub capacity_unit: CapacityUnit,
    /// `turn.latency_ms`.
    pub latency_ms: f64,
    /// `turn.capacity_used`.
    pub capacity_used: Option<f64>,
    /// `turn.attribution`.
    pub attribution: W,
    /// `measurement`.
    pub measurement: Option<MeasurementNumbers>,
    /// `cost.estimated_usd`.
    pub estimated_usd: Option<f64>,
}

/// The rule for the numbers the rollup adds up: the first one out of range, in the order of
/// the table in the module docs.
pub fn check_turn_numbers<'a, W>(n: TurnNumbers<W>) -> Result<(), Violation>
where
    W: IntoIterator<Item = (&'a str, f64)>,
{
    LATENCY_MS.check(n.latency_ms, || Field::LatencyMs)?;
    if let Some(c) = n.capacity_used {
        n.capacity_unit.range().check(c, || Field::CapacityUsed)?;
    }
    let mut sum = 0.0;
    for (model, w) in n.attribution {
        ATTRIBUTION_WEIGHT.check(w, || Field::AttributionWeight(model.to_owned()))?;
        sum += w;
    }
    let with_tolerance =
        Range { max: ATTRIBUTION_SUM.max + ATTRIBUTION_SUM_TOLERANCE, ..ATTRIBUTION_SUM };
    if !with_tolerance.contains(sum) {
        return Err(Violation { field: Field::AttributionSum, value: sum, range: ATTRIBUTION_SUM });
    }
    if let Some(m) = n.measurement {
        CLS.check(m.cls, || Field::Cls)?;
        IMPF.check(m.impf, || Field::Impf)?;
        CHURN_SCORE.check(m.churn_score, || Field::ChurnScore)?;
        FEATURE_DELTA.check(m.feature_delta, || Field::FeatureDelta)?;
    }
    if let Some(usd) = n.estimated_usd {
        ESTIMATED_USD.check(usd, || Field::EstimatedUsd)?;
    }
    Ok(())
}

/// The whole rule for a turn event: [`check_turn_numbers`], then every other number finite
/// (JSON cannot hold NaN or infinity; serde_json would write `null`).
/// `provider` is who the turn is billed to (`crate::provider::provider_of_turn(model, cost.provider)`).
pub fn check_turn(event: &TurnEvent, provider: &str) -> Result<(), Violation> {
    let t = &event.turn;
    check_turn_numbers(TurnNumbers {
        capacity_unit: CapacityUnit::of(provider, event.envelope.schema_version.is_some()),
        latency_ms: t.latency_ms,
        capacity_used: t.capacity_used,
        attribution: t.attribution.iter().map(|(k, v)| (k.as_str(), *v)),
        measurement: event.measurement.as_ref().map(|m| MeasurementNumbers {
            cls: m.cls,
            impf: m.impf,
            churn_score: m.churn_score,
            feature_delta: m.feature_delta,
        }),
        estimated_usd: event.cost.as_ref().map(|c| c.estimated_usd),
    })?;
    if let Some(c) = &event.cost {
        for (unit, v) in &c.unit_costs {
            Range::FINITE.check(*v, || Field::UnitCost(unit.clone()))?;
        }
    }
    if let Some(d) = &event.decision {
        let optional = [
            ("warn_pct_auto", d.warn_pct_auto),
            ("warn_pct_confidence", d.warn_pct_confidence),
            ("gap_seconds_p50", d.gap_seconds_p50),
            ("gap_seconds_p95", d.gap_seconds_p95),
            ("gap_samples", d.gap_samples),
            ("warn_pct_cfg", d.warn_pct_cfg),
        ];
        for (name, v) in optional {
            if let Some(v) = v {
                Range::FINITE.check(v, || Field::Decision(name))?;
            }
        }
    }
    Ok(())
}

/// Longest session id a writer accepts.
pub const SESSION_ID_MAX_LEN: usize = 128;

/// Whether `c` may appear in a session id a writer accepts: ASCII letters and digits, `-`,
/// `_`, `.` and `:`. JSON writes these as they are (no escapes), so an id found in a log
/// line's text is the id itself, and ids are safe in file names and shell commands.
pub fn is_session_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')
}

/// Why a session id is refused at write time (readers accept any string, as the Python
/// client wrote them).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadSessionId {
    /// Empty.
    #[error("a session id cannot be empty")]
    Empty,
    /// Longer than [`SESSION_ID_MAX_LEN`].
    #[error("a session id is at most {SESSION_ID_MAX_LEN} characters (got {0})")]
    TooLong(usize),
    /// A character outside the alphabet ([`is_session_id_char`]).
    #[error(
        "a session id may only hold ASCII letters, digits, '-', '_', '.' and ':' (got {ch:?} at position {position})"
    )]
    Char {
        /// The first character refused.
        ch: char,
        /// Its 1-based position.
        position: usize,
    },
}

/// The session-id rule for writers: 1 to [`SESSION_ID_MAX_LEN`] characters from the
/// [`is_session_id_char`] alphabet. Fresh ids (UUID v4) always pass.
pub fn check_session_id(id: &str) -> Result<(), BadSessionId> {
    if id.is_empty() {
        return Err(BadSessionId::Empty);
    }
    if let Some((i, ch)) = id.chars().enumerate().find(|(_, c)| !is_session_id_char(*c)) {
        return Err(BadSessionId::Char { ch, position: i + 1 });
    }
    if id.len() > SESSION_ID_MAX_LEN {
        return Err(BadSessionId::TooLong(id.len()));
    }
    Ok(())
}
