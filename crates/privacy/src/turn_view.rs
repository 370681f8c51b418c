//! The full tier's typed view of a turn: the fields an OpenTelemetry log record carries, each
//! as [`RULES`] lets it leave, read straight from the typed event (no JSON tree per event).
//! [`redact_event`](crate::redact_event) remains the definition: a test holds every field of
//! the view to what that function produces for the same event.

use std::borrow::Cow;

use agentos_event_schema::Timestamp;
use agentos_event_schema::v1::{SessionEvent, TurnEvent};

use crate::redact::{RULES, Rule, sha256_hex};
use crate::{Tier, TierPolicy};

/// A text field in its upload form: as written when its rule lets it through, else the hex
/// SHA-256 of its text (the `sha256` of its content hash).
pub type Text<'a> = Cow<'a, str>;

/// What of a turn event leaves the machine in the full tier, typed. Numbers pass as recorded
/// (their rule is [`Rule::Number`]); texts are in their upload form ([`Text`]).
#[derive(Clone, Debug, PartialEq)]
pub struct TurnView<'a> {
    /// `event_id`: a UUID passes, anything else is hashed.
    pub event_id: Option<Text<'a>>,
    /// `ts`: when it was recorded.
    pub ts: Option<Timestamp>,
    /// `turn.session_id` (hashed).
    pub session_id: Text<'a>,
    /// `turn.turn_id` (hashed).
    pub turn_id: Text<'a>,
    /// `turn.model` (passes).
    pub model: Text<'a>,
    /// `turn.tokens_in`.
    pub tokens_in: u64,
    /// `turn.tokens_out`.
    pub tokens_out: u64,
    /// `turn.cache_read_tokens`.
    pub cache_read_tokens: Option<u64>,
    /// `turn.cache_creation_tokens`.
    pub cache_creation_tokens: Option<u64>,
    /// `turn.cache_creation_1h_tokens`.
    pub cache_creation_1h_tokens: Option<u64>,
    /// `turn.latency_ms`.
    pub latency_ms: f64,
    /// `turn.capacity_used`.
    pub capacity_used: Option<f64>,
    /// `turn.sidechain`.
    pub sidechain: Option<bool>,
    /// `turn.responded_at`.
    pub responded_at: Option<Timestamp>,
    /// `turn.revises`: a UUID passes, anything else is hashed.
    pub revises: Option<Text<'a>>,
    /// `cost.provider` (passes).
    pub cost_provider: Option<Text<'a>>,
    /// `cost.estimated_usd`.
    pub cost_usd: Option<f64>,
}

/// What of a session event a turn's record borrows: its id (hashed) and its agent.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionView<'a> {
    /// `session.session_id` (hashed; the same hash as a turn's `session_id`).
    pub session_id: Text<'a>,
    /// `session.agent`: a known coding agent passes, any other name is `other`.
    pub agent: Option<&'a str>,
}

/// The typed view of `event` that `tier` lets leave, or `None` when the tier sends no events.
pub fn turn_view(tier: Tier, event: &TurnEvent) -> Option<TurnView<'_>> {
    if !tier.uploads_events() {
        return None;
    }
    let r = rules();
    let turn = &event.turn;
    let cost = event.cost.as_ref();
    Some(TurnView {
        event_id: event.envelope.event_id.as_ref().map(|id| text(r.event_id, id.as_str())),
        ts: event.envelope.ts,
        session_id: text(r.session_id, turn.session_id.as_str()),
        turn_id: text(r.turn_id, turn.turn_id.as_str()),
        model: text(r.model, &turn.model),
        tokens_in: turn.tokens_in,
        tokens_out: turn.tokens_out,
        cache_read_tokens: turn.cache_read_tokens,
        cache_creation_tokens: turn.cache_creation_tokens,
        cache_creation_1h_tokens: turn.cache_creation_1h_tokens,
        latency_ms: turn.latency_ms,
        capacity_used: turn.capacity_used,
        sidechain: turn.sidechain,
        responded_at: turn.responded_at,
        revises: turn.revises.as_ref().map(|id| text(r.revises, id.as_str())),
        cost_provider: cost.map(|c| text(r.cost_provider, &c.provider)),
        cost_usd: cost.map(|c| c.estimated_usd),
    })
}

/// The typed view of a session event that `tier` lets leave, or `None`.
pub fn session_view(tier: Tier, event: &SessionEvent) -> Option<SessionView<'_>> {
    if !tier.uploads_events() {
        return None;
    }
    let s = &event.session;
    let agent = s.agent.as_deref().map(|a| match rules().agent {
        Rule::Enum(values) if values.contains(&a) => a,
        _ => crate::OTHER,
    });
    Some(SessionView {
        session_id: text(rules().session_id_of_session, s.session_id.as_str()),
        agent,
    })
}

/// The rules of the fields the views read, looked up in [`RULES`] once.
struct ViewRules {
    event_id: Rule,
    session_id: Rule,
    turn_id: Rule,
    model: Rule,
    revises: Rule,
    cost_provider: Rule,
    agent: Rule,
    session_id_of_session: Rule,
}

fn rules() -> &'static ViewRules {
    static RULES_OF_VIEWS: std::sync::OnceLock<ViewRules> = std::sync::OnceLock::new();
    RULES_OF_VIEWS.get_or_init(|| ViewRules {
        event_id: rule_of("event_id"),
        session_id: rule_of("turn.session_id"),
        turn_id: rule_of("turn.turn_id"),
        model: rule_of("turn.model"),
        revises: rule_of("turn.revises"),
        cost_provider: rule_of("cost.provider"),
        agent: rule_of("session.agent"),
        session_id_of_session: rule_of("session.session_id"),
    })
}

/// The rule of a path; a path the allow-list does not name is hashed, as in redaction.
pub(crate) fn rule_of(path: &str) -> Rule {
    RULES.iter().find(|(p, _, _)| *p == path).map_or(Rule::Hash, |(_, rule, _)| *rule)
}

/// A text field's upload form under its rule (hashed unless the rule lets this text through).
fn text(rule: Rule, value: &str) -> Text<'_> {
    let clear = match rule {
        Rule::Pass => true,
        Rule::Format(f) => f.matches(value),
        Rule::Enum(values) => values.contains(&value),
        Rule::Number | Rule::Hash | Rule::Drop => false,
    };
    if clear { Cow::Borrowed(value) } else { Cow::Owned(sha256_hex(value)) }
}
