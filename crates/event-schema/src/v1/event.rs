//! The event envelope: one JSON object per line of `events.jsonl`, tagged by `type`.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::json;

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
    /// A fresh envelope: new event id, now, current schema version. Feature `random`.
    #[cfg(feature = "random")]
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
///
/// The v1 evolution rule tolerates what this version does not know: a line whose `type` is
/// none of `session`, `turn`, `session_end` reads as [`Event::Unknown`], its fields kept as
/// written (and written back unchanged), never as an error.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "events are built and matched by value across crates; a turn is the common case"
)]
pub enum Event {
    /// `{"type":"session","session":{…}}`
    Session(SessionEvent),
    /// `{"type":"turn","turn":{…},"measurement"?,…}`
    Turn(TurnEvent),
    /// `{"type":"session_end","session_id":…,"ended_at":…,"notes":…}`
    SessionEnd(SessionEndEvent),
    /// `{"type":"<anything else>",…}`: an event type this version does not know.
    Unknown(UnknownEvent),
}

/// An event whose `type` this version does not know, kept as written. It counts nowhere, and
/// nothing of it is uploaded (privacy has no rule for what it carries).
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownEvent {
    /// Every field of the line, `type` included.
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// The envelope fields it carries, when they read as such (else the default).
    pub envelope: Envelope,
}

impl UnknownEvent {
    /// The event's `type`.
    pub fn event_type(&self) -> &str {
        self.fields.get("type").and_then(serde_json::Value::as_str).unwrap_or_default()
    }
}

/// The event types this version knows, as written in `type`.
pub const KNOWN_EVENT_TYPES: [&str; 3] = ["session", "turn", "session_end"];

/// The known events, as serde derives them (an internally tagged enum).
#[derive(Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[schemars(rename = "KnownEvent")]
#[allow(clippy::large_enum_variant, reason = "only ever moved into an `Event`")]
enum KnownEvent {
    /// `{"type":"session","session":{…}}`
    Session(SessionEvent),
    /// `{"type":"turn","turn":{…},"measurement"?,…}`
    Turn(TurnEvent),
    /// `{"type":"session_end","session_id":…,"ended_at":…,"notes":…}`
    SessionEnd(SessionEndEvent),
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum KnownRef<'a> {
    Session(&'a SessionEvent),
    Turn(&'a TurnEvent),
    SessionEnd(&'a SessionEndEvent),
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Event::Session(e) => KnownRef::Session(e).serialize(serializer),
            Event::Turn(e) => KnownRef::Turn(e).serialize(serializer),
            Event::SessionEnd(e) => KnownRef::SessionEnd(e).serialize(serializer),
            Event::Unknown(e) => e.fields.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let fields = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        match fields.get("type") {
            Some(serde_json::Value::String(t)) if !KNOWN_EVENT_TYPES.contains(&t.as_str()) => {
                let envelope = Envelope::deserialize(serde_json::Value::Object(fields.clone()))
                    .unwrap_or_default();
                Ok(Event::Unknown(UnknownEvent { fields, envelope }))
            }
            _ => match KnownEvent::deserialize(serde_json::Value::Object(fields)) {
                Ok(KnownEvent::Session(e)) => Ok(Event::Session(e)),
                Ok(KnownEvent::Turn(e)) => Ok(Event::Turn(e)),
                Ok(KnownEvent::SessionEnd(e)) => Ok(Event::SessionEnd(e)),
                Err(e) => Err(D::Error::custom(e)),
            },
        }
    }
}

impl JsonSchema for Event {
    fn schema_name() -> Cow<'static, str> {
        "Event".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = KnownEvent::json_schema(generator);
        let unknown = json!({
            "description": "An event type this version does not know: tolerated and ignored",
            "type": "object",
            "properties": {
                "type": { "type": "string", "not": { "enum": KNOWN_EVENT_TYPES } }
            },
            "required": ["type"]
        });
        if let Some(serde_json::Value::Array(branches)) = schema.get_mut("oneOf") {
            branches.push(unknown);
        }
        schema.insert("title".to_owned(), json!("Event"));
        schema.insert("description".to_owned(), json!("One line of `events.jsonl`."));
        schema
    }
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
    /// Any other `type` (see [`Event::Unknown`]).
    Unknown,
}

impl Event {
    /// The envelope fields of any event.
    pub fn envelope(&self) -> &Envelope {
        match self {
            Event::Session(e) => &e.envelope,
            Event::Turn(e) => &e.envelope,
            Event::SessionEnd(e) => &e.envelope,
            Event::Unknown(e) => &e.envelope,
        }
    }

    /// The event's kind.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::Session(_) => EventKind::Session,
            Event::Turn(_) => EventKind::Turn,
            Event::SessionEnd(_) => EventKind::SessionEnd,
            Event::Unknown(_) => EventKind::Unknown,
        }
    }

    /// The session the event belongs to; `None` for an event type this version does not know.
    pub fn session_id(&self) -> Option<&SessionId> {
        match self {
            Event::Session(e) => Some(&e.session.session_id),
            Event::Turn(e) => Some(&e.turn.session_id),
            Event::SessionEnd(e) => Some(&e.session_id),
            Event::Unknown(_) => None,
        }
    }
}
