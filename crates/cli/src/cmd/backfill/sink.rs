//! Where the CCP backfill's events go as they are rendered: appended to the event log under
//! its lock (taken at the first event, held until the backfill's state is committed) and, when
//! the summary is refreshed after, each one's facts handed to the rollup on the way, so the
//! refresh need not read the events back (`agentos_rollup::summarize_appending`). The rollup
//! counts them on a thread of its own, fed batches of facts, so the rendering (a stage of the
//! backfill's workers) does not wait for it.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use agentos_backfill::ccp::{EventSink, TurnFacts};
use agentos_ccc_client::{Appender, JsonlLog};
use agentos_event_schema::facts::TurnFactsBatch;
use agentos_rollup::{Appending, CHECKPOINT_FILE, SummaryOptions, summarize_appending};
use camino::{Utf8Path, Utf8PathBuf};

/// Facts handed to the rollup's thread at a time.
const FACTS_PER_BATCH: usize = 2048;

/// Batches of facts queued for the rollup's thread at most.
const BATCHES_QUEUED: usize = 4;

/// The summary's rollup on its thread, and the facts not sent yet.
struct Feeder {
    batch: TurnFactsBatch,
    tx: SyncSender<TurnFactsBatch>,
    /// Batches counted, handed back emptied to be filled again (their memory is warm).
    counted: Receiver<TurnFactsBatch>,
    thread: JoinHandle<Appending>,
}

impl Feeder {
    fn start(mut rollup: Appending) -> Feeder {
        let (tx, rx) = sync_channel::<TurnFactsBatch>(BATCHES_QUEUED);
        // Room for every batch in flight: handing one back never waits.
        let (back, counted) = sync_channel::<TurnFactsBatch>(BATCHES_QUEUED + 2);
        let thread = std::thread::spawn(move || {
            for mut batch in rx {
                for facts in batch.iter() {
                    rollup.turn(&facts);
                }
                batch.clear();
                let _ = back.try_send(batch);
            }
            rollup
        });
        Feeder { batch: TurnFactsBatch::default(), tx, counted, thread }
    }

    fn turn(&mut self, facts: &TurnFacts<'_>) {
        self.batch.push(facts);
        if self.batch.len() >= FACTS_PER_BATCH {
            let next = self.counted.try_recv().unwrap_or_default();
            // The thread ends only when the sender is dropped (or it panicked: then the join
            // says so and the summary is refreshed by reading).
            let _ = self.tx.send(std::mem::replace(&mut self.batch, next));
        }
    }

    /// The rollup, given every fact; `None` if its thread failed.
    fn finish(self) -> Option<Appending> {
        if !self.batch.is_empty() {
            let _ = self.tx.send(self.batch);
        }
        drop(self.tx);
        self.thread.join().ok()
    }
}

/// The event log as the backfill's sink.
pub(super) struct LogSink {
    log: JsonlLog,
    /// Where the rollup's checkpoint lives, when the summary is refreshed after the run.
    summary: Option<Utf8PathBuf>,
    /// Taken at the first event.
    appender: Option<Appender>,
    feeder: Option<Feeder>,
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
            summary: refresh.then(|| data_dir.join(CHECKPOINT_FILE)),
            appender: None,
            feeder: None,
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
                let rollup = summarize_appending(self.log.path(), &opts, checkpoint).ok();
                self.feeder = rollup.map(Feeder::start);
            }
            self.appender = Some(appender);
        }
        self.appender.as_mut().ok_or_else(|| anyhow::anyhow!("the event log is not open"))
    }

    pub(super) fn into_written(self) -> Written {
        let summary = self.feeder.and_then(Feeder::finish).map(|a| (a, self.appended));
        Written { lock: self.appender, summary }
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
        if let Some(f) = &mut self.feeder {
            f.turn(facts);
        }
    }
}
