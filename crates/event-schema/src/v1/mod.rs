//! The v1 event contract: what AgentOS writes to `events.jsonl`, `windows.jsonl` and
//! `glm_counts.jsonl`.
//!
//! Payload objects (`session`, `turn`, `measurement`, `feature`, `cost`, `value`, `decision`)
//! keep exactly the fields of the Python AgentOS v1 schemas, so every event written here still
//! validates against those schemas (which forbid extra keys). What v1 adds (event id, record
//! time, schema version, outcome kind) lives on the envelope ([`Envelope`], [`Outcome`]).

mod event;
pub mod limits;
mod open_enum;
mod payload;
mod records;
mod reroute;
mod summary;

pub use event::{
    Envelope, Event, EventKind, KNOWN_EVENT_TYPES, SessionEndEvent, SessionEvent, TurnEvent,
    UnknownEvent,
};
pub use payload::{
    Cost, Decision, Feature, FeatureStatus, InputKind, Measurement, Outcome, OutcomeKind,
    PrivacyTier, Session, Turn, Value,
};
pub use records::{GlmCount, ProviderWindow, WindowRecord};
pub use reroute::{RerouteDecision, RerouteMode};
pub use summary::{CapacityAlert, GitFeatures, MetricsSummary, ModelValue, Period, Usage};

/// The version of the event contract this crate writes on every envelope.
pub const SCHEMA_VERSION: &str = "1.1.0";
