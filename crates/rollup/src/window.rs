//! The per-session window record (`windows.jsonl`): one session's turns, per provider, as a
//! pure computation. The recorder feeds it the session's turns one at a time while it streams
//! the session's stretch of `events.jsonl`, so memory stays flat however long the session.

use std::collections::BTreeMap;

use agentos_event_schema::v1::{
    OutcomeKind, ProviderWindow, SCHEMA_VERSION, TurnEvent, WindowRecord,
};
use agentos_event_schema::{Extra, SessionId, Timestamp};

use crate::churn::quality_from_churn;

/// The window of one session, built turn by turn ([`SessionWindow::add_turn`]) and closed
/// with [`SessionWindow::finish`]: per provider (`event_schema::provider`) the turns, tokens,
/// capacity, features and cost; the outcomes by kind; the quality from the mean churn of the
/// turns that measured it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionWindow {
    providers: BTreeMap<String, ProviderWindow>,
    outcomes: BTreeMap<OutcomeKind, u64>,
    churn_sum: f64,
    churn_turns: u64,
}

impl SessionWindow {
    /// An empty window.
    pub fn new() -> Self {
        Self::default()
    }

    /// Count one turn of the session.
    pub fn add_turn(&mut self, turn: &TurnEvent) {
        let provider = agentos_event_schema::provider::provider_of_turn(
            &turn.turn.model,
            turn.cost.as_ref().map(|c| c.provider.as_str()),
        );
        let p = self.providers.entry(provider.to_owned()).or_default();
        p.turns += 1;
        p.tokens_in = p.tokens_in.saturating_add(turn.turn.tokens_in);
        p.tokens_out = p.tokens_out.saturating_add(turn.turn.tokens_out);
        if let Some(c) = turn.turn.capacity_used {
            p.capacity_used = Some(p.capacity_used.unwrap_or(0.0) + c);
        }
        if let Some(m) = &turn.measurement {
            p.features += m.feature_delta;
            self.churn_sum += m.churn_score;
            self.churn_turns += 1;
        }
        if let Some(c) = &turn.cost {
            p.cost_usd += c.estimated_usd;
        }
        if let Some(o) = &turn.outcome {
            *self.outcomes.entry(o.kind.counted_as().clone()).or_default() += o.count;
        }
    }

    /// The window record of session `session_id`, which ran from `started_at` to `ended_at`.
    pub fn finish(
        self,
        session_id: &SessionId,
        started_at: Timestamp,
        ended_at: Timestamp,
    ) -> WindowRecord {
        let quality = (self.churn_turns > 0)
            .then(|| quality_from_churn(self.churn_sum / self.churn_turns as f64));
        WindowRecord {
            window_id: session_id.to_string(),
            session_id: session_id.clone(),
            started_at,
            ended_at,
            providers: self.providers,
            quality,
            outcomes: self.outcomes,
            schema_version: SCHEMA_VERSION.to_owned(),
            extra: Extra::new(),
        }
    }
}

/// The window record of a session from all its turns ([`SessionWindow`] in one call).
pub fn window_record<'a>(
    session_id: &SessionId,
    started_at: Timestamp,
    ended_at: Timestamp,
    turns: impl IntoIterator<Item = &'a TurnEvent>,
) -> WindowRecord {
    let mut window = SessionWindow::new();
    for turn in turns {
        window.add_turn(turn);
    }
    window.finish(session_id, started_at, ended_at)
}
