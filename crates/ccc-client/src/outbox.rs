//! The durable upload outbox: nothing is uploaded inline; everything goes to disk first.
//!
//! Layout under `<data_dir>/outbox/`:
//! - `queue/<micros>-<event_id>.json`: one redacted full-tier event awaiting batching;
//! - `pending/<micros>-<key>.json`: one batch (route, body, idempotency key, attempts, next
//!   attempt time, last error), fixed before its first send so a replay carries the same key;
//! - `dead/<key>.json`: a batch CCC rejected with a 4xx other than 401/403/404/405/429, with
//!   the response;
//! - `sent.jsonl`: one line per acknowledged batch; `state.json`: last error and counters;
//! - `.lock`: held while batching or sending, so two processes never send the same batch at
//!   once.
//!
//! Every file is written atomically (temp file, fsync, rename); temp files (dot-files) left
//! by a crash are ignored and removed once they are ten minutes old. Batching writes the batch before deleting its queue
//! files, and every batching pass first deletes queue files whose event is already in a
//! pending batch, so a crash in between neither loses nor duplicates an event. A batch is
//! deleted only after a 2xx: a crash after sending but before that replays it with the same
//! key (at-least-once delivery, recognisable by the key).

use std::fs::{self, File, OpenOptions};
use std::time::{Duration, SystemTime};

use agentos_event_schema::Timestamp;
use agentos_privacy::MinimizedPayload;
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use crate::Error;
use crate::eventlog::JsonlLog;
use crate::fsutil::{is_temp_name, read_json, write_json_atomic};
use crate::http::{Attempt, Failure, ProblemKind, Sender};

/// Route for redacted event batches.
pub const EVENTS_ROUTE: &str = "/v1/events";
/// Route for metrics summaries.
pub const METRICS_ROUTE: &str = "/v1/metrics";
/// Most events per batch.
pub const BATCH_MAX_EVENTS: usize = 100;
const BACKOFF_BASE: Duration = Duration::from_secs(2);
const BACKOFF_CAP: Duration = Duration::from_secs(3600);
const STALE_TEMP: Duration = Duration::from_secs(600);

/// What a batch carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchKind {
    /// A minimized metrics summary (`POST /v1/metrics`).
    Metrics,
    /// Redacted events (`POST /v1/events`).
    Events,
}

impl BatchKind {
    /// The route it is posted to.
    pub fn route(self) -> &'static str {
        match self {
            BatchKind::Metrics => METRICS_ROUTE,
            BatchKind::Events => EVENTS_ROUTE,
        }
    }
}

/// One upload as stored in `pending/`: its body is exactly what is sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// Idempotency key (header `Idempotency-Key` and `idempotency_key` in the body).
    pub key: String,
    /// What it carries.
    pub kind: BatchKind,
    /// When it was queued.
    pub created_at: Timestamp,
    /// Events (or 1 for a summary).
    pub items: u64,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not before this time (backoff or `Retry-After`).
    pub next_attempt_at: Option<Timestamp>,
    /// The last failure, one line.
    pub last_error: Option<String>,
    /// The request body.
    pub body: Json,
}

#[derive(Debug, Serialize, Deserialize)]
struct QueueItem {
    event_id: String,
    event: Json,
}

/// The last problem the sender met.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LastError {
    /// Its kind.
    pub kind: ProblemKind,
    /// One line.
    pub message: String,
    /// When.
    pub at: Timestamp,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    last_error: Option<LastError>,
    last_success_at: Option<Timestamp>,
    delivered_batches: u64,
}

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
}

/// Outbox contents at a glance.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutboxStatus {
    /// Events queued but not yet batched.
    pub queued_events: usize,
    /// Batches waiting to be delivered.
    pub pending: Vec<Batch>,
    /// Batches in the dead-letter directory.
    pub dead_lettered: usize,
    /// Batches acknowledged so far.
    pub delivered_batches: u64,
    /// The last problem met.
    pub last_error: Option<LastError>,
    /// The last successful delivery.
    pub last_success_at: Option<Timestamp>,
}

/// The outbox directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outbox {
    dir: Utf8PathBuf,
}

impl Outbox {
    /// The outbox at `dir` (normally `<data_dir>/outbox`). Nothing is created until used.
    pub fn new(dir: impl Into<Utf8PathBuf>) -> Self {
        Outbox { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Utf8Path {
        &self.dir
    }

    fn queue_dir(&self) -> Utf8PathBuf {
        self.dir.join("queue")
    }
    fn pending_dir(&self) -> Utf8PathBuf {
        self.dir.join("pending")
    }
    fn dead_dir(&self) -> Utf8PathBuf {
        self.dir.join("dead")
    }
    fn state_path(&self) -> Utf8PathBuf {
        self.dir.join("state.json")
    }
    /// `sent.jsonl`: one line per acknowledged batch.
    pub fn sent_log(&self) -> JsonlLog {
        JsonlLog::new(self.dir.join("sent.jsonl"))
    }

    /// Queue one redacted event for batching.
    pub fn enqueue_event(&self, event_id: &str, redacted: Json) -> Result<(), Error> {
        let name = format!("{:020}-{}.json", now_micros(), safe_name(event_id));
        let item = QueueItem { event_id: event_id.to_owned(), event: redacted };
        write_json_atomic(&self.queue_dir().join(name), &item, "queued event")
    }

    /// Queue one metrics summary upload; returns its idempotency key.
    pub fn enqueue_metrics(&self, payload: &MinimizedPayload) -> Result<String, Error> {
        let key = format!("met-{}", uuid::Uuid::new_v4());
        let body = json!({"idempotency_key": key, "summary": payload});
        self.write_pending(&Batch {
            key: key.clone(),
            kind: BatchKind::Metrics,
            created_at: Timestamp::now(),
            items: 1,
            attempts: 0,
            next_attempt_at: None,
            last_error: None,
            body,
        })?;
        Ok(key)
    }

    fn pending_path(&self, batch: &Batch) -> Utf8PathBuf {
        let micros = batch.created_at.as_jiff().as_microsecond();
        self.pending_dir().join(format!("{micros:020}-{}.json", safe_name(&batch.key)))
    }

    fn write_pending(&self, batch: &Batch) -> Result<(), Error> {
        write_json_atomic(&self.pending_path(batch), batch, "outbox batch")
    }

    fn lock(&self) -> Result<File, Error> {
        fs::create_dir_all(&self.dir).map_err(|e| Error::io("create directory", &self.dir, e))?;
        let path = self.dir.join(".lock");
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("open", &path, e))?;
        f.lock().map_err(|e| Error::io("lock", &path, e))?;
        Ok(f)
    }

    /// Move queued events into batches of at most [`BATCH_MAX_EVENTS`]. Returns the number
    /// of batches written.
    pub fn seal(&self) -> Result<usize, Error> {
        let _lock = self.lock()?;
        self.seal_locked()
    }

    fn seal_locked(&self) -> Result<usize, Error> {
        for dir in [self.dir.clone(), self.queue_dir(), self.pending_dir(), self.dead_dir()] {
            clean_stale_temps(&dir);
        }
        let mut batched_ids = std::collections::BTreeSet::new();
        for (_, batch) in self.pending_files()? {
            if batch.kind == BatchKind::Events {
                for id in batch.body["events"].as_array().into_iter().flatten() {
                    if let Some(id) = id["event_id"].as_str() {
                        batched_ids.insert(id.to_owned());
                    }
                }
            }
        }
        let mut items = Vec::new();
        for path in list_files(&self.queue_dir())? {
            let Some(item) = read_json::<QueueItem>(&path)? else { continue };
            if batched_ids.contains(&item.event_id) {
                // Batched before a crash; the batch is the copy that counts.
                fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
                continue;
            }
            items.push((path, item));
        }
        let mut written = 0;
        for chunk in items.chunks(BATCH_MAX_EVENTS) {
            let key = format!("evb-{}", uuid::Uuid::new_v4());
            let events: Vec<&Json> = chunk.iter().map(|(_, i)| &i.event).collect();
            let batch = Batch {
                key: key.clone(),
                kind: BatchKind::Events,
                created_at: Timestamp::now(),
                items: chunk.len() as u64,
                attempts: 0,
                next_attempt_at: None,
                last_error: None,
                body: json!({
                    "idempotency_key": key,
                    "schema_version": agentos_event_schema::v1::SCHEMA_VERSION,
                    "events": events,
                }),
            };
            self.write_pending(&batch)?;
            for (path, _) in chunk {
                fs::remove_file(path).map_err(|e| Error::io("remove", path, e))?;
            }
            written += 1;
        }
        Ok(written)
    }

    fn pending_files(&self) -> Result<Vec<(Utf8PathBuf, Batch)>, Error> {
        let mut out = Vec::new();
        for path in list_files(&self.pending_dir())? {
            if let Some(batch) = read_json::<Batch>(&path)? {
                out.push((path, batch));
            }
        }
        Ok(out)
    }

    /// Batches waiting for delivery, oldest first.
    pub fn pending(&self) -> Result<Vec<Batch>, Error> {
        Ok(self.pending_files()?.into_iter().map(|(_, b)| b).collect())
    }

    /// Redacted events queued but not yet batched, oldest first.
    pub fn queued_events(&self) -> Result<Vec<Json>, Error> {
        let mut out = Vec::new();
        for path in list_files(&self.queue_dir())? {
            if let Some(item) = read_json::<QueueItem>(&path)? {
                out.push(item.event);
            }
        }
        Ok(out)
    }

    /// Batch the queue, then try to deliver every due batch once. Stops at the first failure
    /// that says CCC is unhealthy or refuses us (the other batches would fail the same way).
    pub fn flush(&self, sender: &Sender, opts: &FlushOptions) -> Result<FlushReport, Error> {
        let _lock = self.lock()?;
        if opts.allow_events {
            self.seal_locked()?;
        }
        let started = std::time::Instant::now();
        let mut state: State = read_json(&self.state_path())?.unwrap_or_default();
        let mut report = FlushReport::default();
        let files = self.pending_files()?;
        let total = files.len();
        let mut done = 0;
        for (path, mut batch) in files {
            let allowed = match batch.kind {
                BatchKind::Events => opts.allow_events,
                BatchKind::Metrics => opts.allow_metrics,
            };
            if !allowed {
                report.held += 1;
                continue;
            }
            let now = Timestamp::now();
            if let Some(next) = batch.next_attempt_at.filter(|n| !opts.force && *n > now) {
                report.waiting += 1;
                report.next_attempt_at = Some(report.next_attempt_at.map_or(next, |t| t.min(next)));
                continue;
            }
            if started.elapsed() >= opts.budget || report.problem.is_some() {
                break;
            }
            let body = serde_json::to_vec(&batch.body)
                .map_err(|source| Error::Encode { what: "outbox batch", source })?;
            match sender.post(batch.kind.route(), &batch.key, &body) {
                Attempt::Delivered { status } => {
                    self.sent_log().append_json(&json!({
                        "key": batch.key, "kind": batch.kind, "items": batch.items,
                        "status": status, "attempts": batch.attempts + 1, "at": Timestamp::now(),
                    }))?;
                    fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
                    state.delivered_batches += 1;
                    state.last_success_at = Some(Timestamp::now());
                    report.delivered.push(batch.key);
                    done += 1;
                }
                Attempt::Failed(failure) if failure.kind == ProblemKind::Rejected => {
                    let dead = json!({
                        "batch": batch, "rejected_at": Timestamp::now(),
                        "response": {"status": failure.status, "body": failure.body},
                    });
                    let dead_path = self.dead_dir().join(format!("{}.json", safe_name(&batch.key)));
                    write_json_atomic(&dead_path, &dead, "dead letter")?;
                    fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
                    state.last_error = Some(last_error(&failure));
                    report.dead_lettered.push(batch.key);
                    done += 1;
                }
                Attempt::Failed(failure) => {
                    batch.attempts = batch.attempts.saturating_add(1);
                    let delay = failure.retry_after.unwrap_or_else(|| backoff(batch.attempts));
                    batch.next_attempt_at = Some(after(delay));
                    batch.last_error = Some(failure.message.clone());
                    write_json_atomic(&path, &batch, "outbox batch")?;
                    state.last_error = Some(last_error(&failure));
                    report.problem = Some(failure);
                }
            }
            // After every attempt, so a crash mid-flush leaves counters and last error true.
            write_json_atomic(&self.state_path(), &state, "outbox state")?;
        }
        report.remaining = total - done;
        Ok(report)
    }

    /// Counts, pending batches and the last error. Reads only; creates nothing.
    pub fn status(&self) -> Result<OutboxStatus, Error> {
        let state: State = read_json(&self.state_path())?.unwrap_or_default();
        Ok(OutboxStatus {
            queued_events: list_files(&self.queue_dir())?.len(),
            pending: self.pending()?,
            dead_lettered: list_files(&self.dead_dir())?.len(),
            delivered_batches: state.delivered_batches,
            last_error: state.last_error,
            last_success_at: state.last_success_at,
        })
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
    let jitter_ms = (uuid::Uuid::new_v4().as_u128() % (half.as_millis().max(1) + 1)) as u64;
    half + Duration::from_millis(jitter_ms)
}

fn after(d: Duration) -> Timestamp {
    let span = jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::from_hours(24));
    Timestamp::from(jiff::Timestamp::now().saturating_add(span).unwrap_or(jiff::Timestamp::MAX))
}

fn now_micros() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

/// File-name-safe form of a key or id.
fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
        .take(80)
        .collect()
}

/// Regular `*.json` files in `dir`, sorted by name; temp files skipped. Missing dir = empty.
fn list_files(dir: &Utf8Path) -> Result<Vec<Utf8PathBuf>, Error> {
    let entries = match dir.read_dir_utf8() {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        let name = entry.file_name();
        if name.starts_with('.') || !name.ends_with(".json") {
            continue;
        }
        out.push(entry.path().to_owned());
    }
    out.sort();
    Ok(out)
}

/// Remove temp files older than [`STALE_TEMP`] (left by a crash mid-write).
fn clean_stale_temps(dir: &Utf8Path) {
    let Ok(entries) = dir.read_dir_utf8() else { return };
    for entry in entries.flatten() {
        if !is_temp_name(entry.file_name()) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > STALE_TEMP);
        if old {
            let _ = fs::remove_file(entry.path());
        }
    }
}
