//! Where the CCP backfill's events go as they are rendered: appended to the event log under
//! its lock (taken at the first event, held until the backfill's state is committed) and, when
//! the summary is refreshed after, each one's facts handed to the rollup on the way, so the
//! refresh need not read the events back (`agentos_rollup::summarize_appending`).

use agentos_backfill::ccp::{EventSink, TurnFacts};
use agentos_ccc_client::{Appender, JsonlLog};
use agentos_rollup::{Appending, CHECKPOINT_FILE, SummaryOptions, summarize_appending};
use camino::{Utf8Path, Utf8PathBuf};

/// The event log as the backfill's sink.
pub(super) struct LogSink {
    log: JsonlLog,
    events: Utf8PathBuf,
    /// Where the rollup's checkpoint lives, when the summary is refreshed after the run.
    summary: Option<Utf8PathBuf>,
    /// Taken at the first event.
    appender: Option<Appender>,
    appending: Option<Appending>,
    /// Bytes appended.
    appended: u64,
    /// Taking the lock failed while telling a turn (which cannot fail): said at the next lines.
    failed: Option<anyhow::Error>,
}

/// What the sink leaves once the events are written.
pub(super) struct Written {
    /// The lock, when events were written.
    pub(super) lock: Option<Appender>,
    /// The summary's rollup, fed every event written.
    pub(super) summary: Option<(Appending, u64)>,
}

impl LogSink {
    /// A sink appending to `events`; with `refresh`, feeding the rollup of the data dir
    /// `data_dir` too.
    pub(super) fn new(events: &Utf8Path, data_dir: &Utf8Path, refresh: bool) -> LogSink {
        LogSink {
            log: JsonlLog::new(events),
            events: events.to_owned(),
            summary: refresh.then(|| data_dir.join(CHECKPOINT_FILE)),
            appender: None,
            appending: None,
            appended: 0,
            failed: None,
        }
    }

    /// Take the lock, then (when wanted) read the log's rollup to its end, which nobody can
    /// move while the lock is held. A rollup that fails here is left to the refresh after.
    fn open(&mut self) -> anyhow::Result<&mut Appender> {
        if self.appender.is_none() {
            let appender = self.log.appender()?;
            if let Some(checkpoint) = &self.summary {
                let opts = SummaryOptions::default();
                self.appending = summarize_appending(&self.events, &opts, checkpoint).ok();
            }
            self.appender = Some(appender);
        }
        self.appender.as_mut().ok_or_else(|| anyhow::anyhow!("the event log is not open"))
    }

    pub(super) fn into_written(self) -> Written {
        Written { lock: self.appender, summary: self.appending.map(|a| (a, self.appended)) }
    }
}

impl EventSink<anyhow::Error> for LogSink {
    fn lines(&mut self, lines: &str) -> anyhow::Result<()> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        self.open()?.append_lines(lines)?;
        self.appended += lines.len() as u64;
        Ok(())
    }

    fn turn(&mut self, facts: &TurnFacts<'_>) {
        if self.failed.is_some() {
            return;
        }
        if let Err(e) = self.open() {
            self.failed = Some(e);
            return;
        }
        if let Some(a) = &mut self.appending {
            a.turn(facts);
        }
    }
}
