//! What the recorder needs from a metrics engine but does not compute: `ccc-client` computes no
//! metrics and does not depend on `agentos-rollup`. Whoever opens a [`crate::Recorder`] plugs
//! the engine in through [`Metrics`] (the `agentos` CLI passes an adapter over
//! `agentos-rollup`); the recorder calls it at the right moments, under its session lock, so
//! `end_session` stays atomic and idempotent.

use std::fmt;

use agentos_event_schema::v1::{MetricsSummary, TurnEvent, WindowRecord};
use agentos_event_schema::{SessionId, Timestamp};
use camino::Utf8Path;

/// An error of the metrics engine, kept as its source (`Error::Metrics`).
pub type MetricsError = Box<dyn std::error::Error + Send + Sync>;

/// The metrics a recorder needs: the window record of an ending session and the refreshed
/// `metrics_summary.json`. Implemented over `agentos-rollup` (`SessionWindow`,
/// `refresh_incremental`, `write_summary`).
pub trait Metrics: fmt::Debug + Send + Sync {
    /// An empty window for one session; the recorder feeds it the session's turns.
    fn window(&self) -> Box<dyn WindowFold>;

    /// Roll `events` up (resuming from a checkpoint in `data_dir` where the engine keeps
    /// one), write the summary to `summary_path` atomically and return it.
    fn refresh_summary(
        &self,
        data_dir: &Utf8Path,
        events: &Utf8Path,
        summary_path: &Utf8Path,
    ) -> Result<MetricsSummary, MetricsError>;

    /// The summary of `events`, nothing written (for the upload preview).
    fn summary(&self, events: &Utf8Path) -> Result<MetricsSummary, MetricsError>;
}

/// One session's window record, built from its turns one at a time (memory stays flat
/// however long the session).
pub trait WindowFold {
    /// Count one turn of the session.
    fn add_turn(&mut self, turn: &TurnEvent);
    /// The window record of session `session_id`, from `started_at` to `ended_at`.
    fn finish(
        self: Box<Self>,
        session_id: &SessionId,
        started_at: Timestamp,
        ended_at: Timestamp,
    ) -> WindowRecord;
}
