//! The event envelope: one JSON object per line of `events.jsonl`, tagged by `type`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::payload::{Cost, Decision, Feature, Measurement, Outcome, Session, Turn, Value};
use crate::{EventId, Extra, SessionId, Timestamp};

/// Envelope fields every v1 event carries in addition to its payload. Events written by the
/// Python client have none of them, so all are optional on read; this crate always writes them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Envelope {
    /// Unique id of this event line (the idempotency key of uploads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// When the event was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<Timestamp>,
    /// Version of the event contract that wrote the line (see [`super::SCHEMA_VERSION`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// Envelope fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Envelope {
    /// A fresh envelope: new event id, now, current schema version.
    pub fn now() -> Self {
        Envelope {
            event_id: Some(EventId::random()),
            ts: Some(Timestamp::now()),
            schema_version: Some(super::SCHEMA_VERSION.to_owned()),
            extra: Extra::new(),
        }
    }
}

/// A session started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionEvent {
    /// Envelope fields.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The session.
    pub session: Session,
}

/// A turn happened, with what was measured about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TurnEvent {
    /// Envelope fields.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The turn.
    pub turn: Turn,
    /// Quality measurements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measurement: Option<Measurement>,
    /// The feature worked on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<Feature>,
    /// What it cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    /// What it achieved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// CCP's routing decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// Kind of the outcome in `value` (v1 addition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}

/// A session ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionEndEvent {
    /// Envelope fields.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The session that ended.
    pub session_id: SessionId,
    /// When it ended.
    pub ended_at: Timestamp,
    /// Free-text notes.
    #[serde(default)]
    pub notes: String,
}

/// One line of `events.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(
    clippy::large_enum_variant,
    reason = "events are built and matched by value across crates; a turn is the common case"
)]
#[non_exhaustive]
pub enum Event {
    /// `{"type":"session","session":{…}}`
    Session(SessionEvent),
    /// `{"type":"turn","turn":{…},"measurement"?,…}`
    Turn(TurnEvent),
    /// `{"type":"session_end","session_id":…,"ended_at":…,"notes":…}`
    SessionEnd(SessionEndEvent),
}

/// The `type` of an event, without its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// `session`
    Session,
    /// `turn`
    Turn,
    /// `session_end`
    SessionEnd,
}

impl Event {
    /// The envelope fields of any event.
    pub fn envelope(&self) -> &Envelope {
        match self {
            Event::Session(e) => &e.envelope,
            Event::Turn(e) => &e.envelope,
            Event::SessionEnd(e) => &e.envelope,
        }
    }

    /// The event's kind.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::Session(_) => EventKind::Session,
            Event::Turn(_) => EventKind::Turn,
            Event::SessionEnd(_) => EventKind::SessionEnd,
        }
    }

    /// The session the event belongs to.
    pub fn session_id(&self) -> &SessionId {
        match self {
            Event::Session(e) => &e.session.session_id,
            Event::Turn(e) => &e.turn.session_id,
            Event::SessionEnd(e) => &e.session_id,
        }
    }
}
