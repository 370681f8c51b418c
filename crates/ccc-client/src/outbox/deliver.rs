//! Delivery: batches sent to CCC under their idempotency keys, with backoff and jitter,
//! `Retry-After`, and dead letters for requests CCC will never accept.

use std::fs;
use std::time::Duration;

use agentos_event_schema::Timestamp;
use serde_json::json;

use camino::Utf8Path;

use super::batch_file::{Stored, read_raw_body, rewrite, whole};
use super::catch_up::Cut;
use super::{BACKOFF_BASE, BACKOFF_CAP, LastError, Outbox, State, safe_name};
use crate::Error;
use crate::fsutil::{read_json, write_json_atomic};
use crate::http::{Attempt, Failure, ProblemKind, Sender};

/// How a flush behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlushOptions {
    /// Send event batches (only when the tier is `full`; otherwise they are held).
    pub allow_events: bool,
    /// Send metrics batches.
    pub allow_metrics: bool,
    /// Ignore backoff and `Retry-After` schedules (an explicit operator request).
    pub force: bool,
    /// Stop starting new requests after this long.
    pub budget: Duration,
}

/// What a flush did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlushReport {
    /// Keys of batches acknowledged by CCC.
    pub delivered: Vec<String>,
    /// Keys of batches moved to `dead/`.
    pub dead_lettered: Vec<String>,
    /// Batches still pending afterwards.
    pub remaining: usize,
    /// Batches skipped because their next attempt is later.
    pub waiting: usize,
    /// Batches held because the current tier does not allow their kind.
    pub held: usize,
    /// Earliest scheduled next attempt among waiting batches.
    pub next_attempt_at: Option<Timestamp>,
    /// Why the flush stopped early, if it did.
    pub problem: Option<Failure>,
    /// Events newly dispositioned from the event log by the catch-up this flush ran while
    /// delivering (OTLP target with events allowed; otherwise 0).
    pub events_queued: usize,
}

/// The bytes of a batch as sent.
enum Body {
    Json(Vec<u8>),
    Raw(super::batch_file::RawBody),
}

/// One flush's progress.
struct Run<'a> {
    sender: &'a Sender,
    opts: &'a FlushOptions,
    started: std::time::Instant,
    state: State,
    report: FlushReport,
    /// Batches considered, and of them those settled (delivered, dead-lettered or gone).
    total: usize,
    done: usize,
    /// A failure or the budget stopped new attempts.
    stopped: bool,
}

impl Outbox {
    /// Batch the queue, then try to deliver every due batch once. Stops at the first failure
    /// that says CCC is unhealthy or refuses us (the other batches would fail the same way).
    ///
    /// OTLP target with events allowed: the catch-up runs on a second thread and each batch
    /// it writes is delivered as soon as the watermark is past it, so reading the log and
    /// sending overlap; batches already pending go first.
    pub fn flush(&self, sender: &Sender, opts: &FlushOptions) -> Result<FlushReport, Error> {
        let _lock = self.lock()?;
        let streaming = opts.allow_events && matches!(self.target, super::Target::Otlp(_));
        let mut run = Run {
            sender,
            opts,
            started: std::time::Instant::now(),
            state: read_json(&self.state_path())?.unwrap_or_default(),
            report: FlushReport::default(),
            total: 0,
            done: 0,
            stopped: false,
        };
        let mut attempted = std::collections::BTreeSet::new();
        if streaming {
            let existing = self.pending_files()?;
            let queued = std::thread::scope(|scope| -> Result<usize, Error> {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Cut>(2);
                let catch_up = scope.spawn(move || self.catch_up_notify(Some(&tx)));
                let mut sent = Ok(());
                for (path, stored) in existing {
                    if sent.is_ok() {
                        attempted.insert(path.clone());
                        sent = self.attempt(&path, stored, None, &mut run);
                    }
                }
                // Every cut is written in order until one fails; then the receiver is dropped,
                // so the catch-up stops at its next cut (nothing past a batch not on disk).
                let mut written = Ok(());
                for cut in &rx {
                    match self.write_cut(cut) {
                        Ok(Some((path, info, body))) => {
                            attempted.insert(path.clone());
                            if sent.is_ok() {
                                sent = self.attempt(&path, Stored::Raw(info), Some(body), &mut run);
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            written = Err(e);
                            break;
                        }
                    }
                }
                drop(rx);
                let queued = catch_up.join().unwrap_or_else(|_| {
                    Err(Error::io(
                        "catch up",
                        &self.dir,
                        std::io::Error::other("the catch-up thread stopped"),
                    ))
                });
                written?;
                let queued = queued?;
                sent.map(|()| queued)
            })?;
            run.report.events_queued = queued;
        }
        if opts.allow_events {
            // Streaming: only the rest of sealing is left (temp files, queue files of older
            // versions).
            self.seal_locked()?;
        }
        for (path, stored) in self.pending_files()? {
            if !attempted.contains(&path) {
                self.attempt(&path, stored, None, &mut run)?;
            }
        }
        run.report.remaining = run.total - run.done;
        Ok(run.report)
    }

    /// Consider one pending batch: hold it (tier), leave it (backoff), or send it once.
    /// `written`: the body of a raw batch just written (not read back).
    fn attempt(
        &self,
        path: &Utf8Path,
        stored: Stored,
        written: Option<Vec<u8>>,
        run: &mut Run<'_>,
    ) -> Result<(), Error> {
        run.total += 1;
        if run.stopped {
            return Ok(());
        }
        let opts = run.opts;
        let report = &mut run.report;
        let mut batch = stored.info();
        let allowed =
            if batch.kind.carries_events() { opts.allow_events } else { opts.allow_metrics };
        if !allowed {
            report.held += 1;
            return Ok(());
        }
        let now = Timestamp::now();
        if let Some(next) = batch.next_attempt_at.filter(|n| !opts.force && *n > now) {
            report.waiting += 1;
            report.next_attempt_at = Some(report.next_attempt_at.map_or(next, |t| t.min(next)));
            return Ok(());
        }
        if run.started.elapsed() >= opts.budget || report.problem.is_some() {
            run.stopped = true;
            return Ok(());
        }
        // A raw batch is sent as written; a JSON one (CCC, or OTLP from an older version) as
        // its body's JSON.
        let body = match &stored {
            Stored::Json(b) => Body::Json(
                serde_json::to_vec(&b.body)
                    .map_err(|source| Error::Encode { what: "outbox batch", source })?,
            ),
            Stored::Raw(_) => {
                match written.map_or_else(|| read_raw_body(path), |b| Ok(Some(b.into())))? {
                    Some(body) => Body::Raw(body),
                    // Gone since it was listed (another process has no lock: only a user).
                    None => {
                        run.done += 1;
                        return Ok(());
                    }
                }
            }
        };
        let body = match &body {
            Body::Json(bytes) => bytes.as_slice(),
            Body::Raw(raw) => raw.bytes(),
        };
        let state = &mut run.state;
        match run.sender.post(batch.kind.route(), &batch.key, body) {
            Attempt::Delivered { status } => {
                self.sent_log().append_json(&json!({
                    "key": batch.key, "kind": batch.kind, "items": batch.items,
                    "status": status, "attempts": batch.attempts + 1, "at": Timestamp::now(),
                }))?;
                fs::remove_file(path).map_err(|e| Error::io("remove", path, e))?;
                state.delivered_batches += 1;
                state.last_success_at = Some(Timestamp::now());
                // The problem is over: status must not keep showing a stale error.
                state.last_error = None;
                report.delivered.push(batch.key);
                run.done += 1;
            }
            Attempt::Failed(failure) if failure.kind == ProblemKind::Rejected => {
                let key = batch.key.clone();
                let dead = json!({
                    "batch": whole(stored, body), "rejected_at": Timestamp::now(),
                    "response": {"status": failure.status, "body": failure.body},
                });
                let dead_path = self.dead_dir().join(format!("{}.json", safe_name(&key)));
                write_json_atomic(&dead_path, &dead, "dead letter")?;
                fs::remove_file(path).map_err(|e| Error::io("remove", path, e))?;
                state.last_error = Some(last_error(&failure));
                report.dead_lettered.push(key);
                run.done += 1;
            }
            Attempt::Failed(failure) => {
                batch.attempts = batch.attempts.saturating_add(1);
                let delay = failure.retry_after.unwrap_or_else(|| backoff(batch.attempts));
                batch.next_attempt_at = Some(after(delay));
                batch.last_error = Some(failure.message.clone());
                rewrite(path, &stored, &batch, body)?;
                state.last_error = Some(last_error(&failure));
                report.problem = Some(failure);
            }
        }
        // After every attempt, so a crash mid-flush leaves counters and last error true.
        write_json_atomic(&self.state_path(), &run.state, "outbox state")
    }
}

fn last_error(f: &Failure) -> LastError {
    LastError { kind: f.kind, message: f.message.clone(), at: Timestamp::now() }
}

/// Exponential backoff with equal jitter: for attempt n (from 1) a delay in
/// `[b/2, b]` where `b = 2 s × 2^(n-1)`, capped at one hour.
pub fn backoff(attempt: u32) -> Duration {
    let exp = attempt.saturating_sub(1).min(20);
    let base = BACKOFF_BASE.saturating_mul(1u32 << exp).min(BACKOFF_CAP);
    let half = base / 2;
    let half_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    half + Duration::from_millis(fastrand::u64(0..=half_ms))
}

fn after(d: Duration) -> Timestamp {
    let span = jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::from_hours(24));
    let at = jiff::Timestamp::now().saturating_add(span).unwrap_or(jiff::Timestamp::MAX);
    Timestamp::from_unix_micros(at.as_microsecond()).unwrap_or_else(Timestamp::now)
}
