//! The recorder's metrics engine: `agentos-rollup` plugged into `agentos-ccc-client`'s
//! [`Metrics`] port (the recorder computes no metrics and does not depend on the rollup).

use agentos_ccc_client::{Metrics, MetricsError, WindowFold};
use agentos_event_schema::v1::{MetricsSummary, TurnEvent, WindowRecord};
use agentos_event_schema::{SessionId, Timestamp};
use agentos_rollup::{
    SessionWindow, SummaryOptions, refresh_incremental, summarize_files, write_summary,
};
use camino::Utf8Path;

/// The metrics engine: `agentos-rollup` behind the recorder's [`Metrics`] port.
#[derive(Debug)]
pub struct RollupMetrics;

struct Window(SessionWindow);

impl WindowFold for Window {
    fn add_turn(&mut self, turn: &TurnEvent) {
        self.0.add_turn(turn);
    }

    fn finish(self: Box<Self>, id: &SessionId, from: Timestamp, to: Timestamp) -> WindowRecord {
        self.0.finish(id, from, to)
    }
}

impl Metrics for RollupMetrics {
    fn window(&self) -> Box<dyn WindowFold> {
        Box::new(Window(SessionWindow::new()))
    }

    fn refresh_summary(
        &self,
        data_dir: &Utf8Path,
        events: &Utf8Path,
        summary_path: &Utf8Path,
    ) -> Result<MetricsSummary, MetricsError> {
        let checkpoint = data_dir.join(agentos_rollup::CHECKPOINT_FILE);
        // The summary alone: the per-session state of the history stays where it is stored.
        let refresh =
            refresh_incremental(&[events.to_owned()], &SummaryOptions::default(), &checkpoint)?;
        write_summary(&refresh.summary, summary_path)?;
        Ok(refresh.summary)
    }

    fn summary(&self, events: &Utf8Path) -> Result<MetricsSummary, MetricsError> {
        Ok(summarize_files(&[events.to_owned()], &SummaryOptions::default())?.summary)
    }
}
