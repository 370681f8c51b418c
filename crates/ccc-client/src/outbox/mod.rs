//! The durable upload outbox: nothing is uploaded inline; everything goes to disk first.
//!
//! Layout under `<data_dir>/outbox/`:
//! - `events.offset.json`: the watermark — the byte offset in `events.jsonl` up to which
//!   every complete line has been dispositioned for upload (queued, or judged ineligible),
//!   the ids of full-tier sessions whose `session_end` is not yet behind it, and the counts
//!   of events not uploaded because their session's tier is unknown and of unreadable lines;
//! - `queue/<offset>-<event_id>.json`: one redacted full-tier event awaiting batching, named
//!   by its byte offset in `events.jsonl` (zero-padded) and its id;
//! - `pending/<micros>-<key>.json`: one batch (route, body, idempotency key, attempts, next
//!   attempt time, last error), fixed before its first send so a replay carries the same key;
//!   OTLP batches are `pending/<micros>-<key>.otlp`, the same head on one line and then the
//!   body exactly as sent (`batch_file`; older `.json` OTLP batches are still delivered);
//! - `dead/<key>.json`: a batch CCC rejected with a 4xx other than 401/403/404/405/429, with
//!   the response;
//! - `sent.jsonl`: one line per acknowledged batch; `state.json`: counters and the last error
//!   (cleared by the next successful delivery);
//! - `.lock`: held while catching up, batching or sending, so two processes never queue or
//!   send the same work at once.
//!
//! Full-tier events are fed from `events.jsonl` itself ([`Outbox::with_event_log`]), so an
//! event appended locally is never lost to a crash before it was queued. [`Outbox::catch_up`]
//! (under the lock) reads the log from the watermark up to its last `\n` (never into a torn
//! last line), queues each eligible event's redacted form, then writes the watermark
//! atomically. Queue file names depend only on the line, so a crash between queueing and the
//! watermark write just rewrites the same files on the next catch-up; batching
//! ([`Outbox::seal`], [`Outbox::flush`] with events allowed) runs a catch-up first, so a
//! batch is never built while catch-up work is outstanding and batches follow log order.
//!
//! Eligibility is decided by the session an event belongs to, never by the tier of the
//! process that happens to catch up: a `session` event is eligible iff its `privacy_tier`
//! is `full`; a `turn` or `session_end` is eligible iff its session is known to be
//! full-tier — from its `session` event earlier in the same catch-up, from the watermark's
//! set of open full-tier sessions, or from the recorder's active-session state
//! (`state/active_session.json`, `session_id` + `tier`). A session of any other tier is
//! never uploaded, even when a full-tier process catches up over it later. When the tier is
//! unknown the event is not uploaded and counted ([`OutboxStatus::not_uploaded_tier_unknown`]).
//! The watermark is created by [`Outbox::ensure_watermark`] at the current end of the log
//! just before the first full-tier event is appended, so older history is never swept up;
//! without a watermark, catch-up does nothing. A tier can only go down during a session:
//! when a process in a more private tier records into a full-tier session, the recorder adds
//! the session to `state/downgraded_sessions.json` ([`DOWNGRADED_SESSIONS`]), which catch-up
//! consults first, so nothing of that session not yet queued leaves the machine.
//!
//! Every file is written atomically (temp file, fsync, rename); temp files (dot-files) left
//! by a crash are ignored and removed once they are ten minutes old. Batching writes the
//! batch before deleting its queue files, and every batching pass first deletes queue files
//! whose event is already in a pending batch, so a crash in between neither loses nor
//! duplicates an event. A batch is deleted only after a 2xx: a crash after sending but
//! before that replays it with the same key (at-least-once delivery, recognisable by the
//! key).

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
use crate::http::ProblemKind;
pub use crate::state::DOWNGRADED_SESSIONS;

mod batch_file;
mod catch_up;
mod deliver;

use crate::state::StateFiles;
pub use batch_file::BatchInfo;
use batch_file::{RAW_EXT, Stored};
use catch_up::{EventSource, Watermark};
pub use deliver::{FlushOptions, FlushReport, backoff};

/// Route for redacted event batches.
pub const EVENTS_ROUTE: &str = "/v1/events";
/// Route for metrics summaries.
pub const METRICS_ROUTE: &str = "/v1/metrics";
/// Most events per batch.
pub const BATCH_MAX_EVENTS: usize = 100;
/// Most events per OTLP logs batch (a turn's record is about 1.1 KiB).
pub const OTLP_BATCH_MAX_EVENTS: usize = 4000;
/// A logs batch is closed once its body reaches this many bytes (4 MB), so it stays under
/// 4 MiB, the smallest request limit common among OTLP receivers (gRPC's default message
/// size; the OpenTelemetry Collector's OTLP/HTTP receiver takes 20 MiB, `agentos otel
/// receive` 8 MiB).
pub const OTLP_BATCH_MAX_BYTES: usize = 4_000_000;
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
    /// The minimized summary as an OTLP `ExportMetricsServiceRequest` (`POST /v1/metrics` of
    /// an OTLP/HTTP endpoint).
    OtlpMetrics,
    /// Redacted turns as an OTLP `ExportLogsServiceRequest` (`POST /v1/logs`).
    OtlpLogs,
}

impl BatchKind {
    /// The route it is posted to.
    pub fn route(self) -> &'static str {
        match self {
            BatchKind::Metrics => METRICS_ROUTE,
            BatchKind::Events => EVENTS_ROUTE,
            BatchKind::OtlpMetrics => agentos_otel::METRICS_PATH,
            BatchKind::OtlpLogs => agentos_otel::LOGS_PATH,
        }
    }

    /// Whether it carries events (sent only in the `full` tier); otherwise a summary.
    pub fn carries_events(self) -> bool {
        matches!(self, BatchKind::Events | BatchKind::OtlpLogs)
    }
}

/// Where an outbox delivers: CCC's ingest API, or an OpenTelemetry collector (OTLP/HTTP JSON).
/// The same queue, batches, keys, backoff and dead letters serve both; only the bodies differ.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Target {
    /// CCC: `POST /v1/events`, `POST /v1/metrics` with AgentOS's own bodies.
    #[default]
    Ccc,
    /// OTLP/HTTP JSON: events become log records, the summary becomes metrics.
    Otlp(agentos_otel::ExportOptions),
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
    /// The ids of the events an OTLP logs batch carries (as queued), for crash bookkeeping;
    /// CCC event batches carry them in their body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_ids: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct QueueItem {
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
    /// The last problem met, unless a delivery succeeded after it (then `None`).
    pub last_error: Option<LastError>,
    /// The last successful delivery.
    pub last_success_at: Option<Timestamp>,
    /// Events in `events.jsonl` not uploaded because the tier of their session is unknown
    /// (privacy-safe default).
    pub not_uploaded_tier_unknown: u64,
    /// Lines of `events.jsonl` past the watermark that were not readable events (skipped).
    pub unreadable_lines: u64,
    /// The watermark: bytes of `events.jsonl` dispositioned for upload (`None` before the
    /// first full-tier event).
    pub watermark: Option<u64>,
}

/// The outbox directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outbox {
    dir: Utf8PathBuf,
    source: Option<EventSource>,
    target: Target,
}

impl Outbox {
    /// The outbox at `dir` (normally `<data_dir>/outbox`). Nothing is created until used.
    pub fn new(dir: impl Into<Utf8PathBuf>) -> Self {
        Outbox { dir: dir.into(), source: None, target: Target::Ccc }
    }

    /// Deliver to `target` (default: CCC). Keep one directory per target.
    pub fn with_target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// Where it delivers.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Feed full-tier events from `events` (normally `<data_dir>/events.jsonl`):
    /// [`Outbox::catch_up`], [`Outbox::seal`] and event flushes read it from the watermark.
    /// `active_state` is the recorder's `state/active_session.json` (`session_id`, `tier`),
    /// consulted for sessions that started before the watermark; [`DOWNGRADED_SESSIONS`] in
    /// the same directory lists sessions whose tier was lowered while active.
    pub fn with_event_log(
        mut self,
        events: JsonlLog,
        active_state: impl Into<Utf8PathBuf>,
    ) -> Self {
        self.source = Some(EventSource { log: events, state: StateFiles::beside(active_state) });
        self
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

    fn watermark_path(&self) -> Utf8PathBuf {
        self.dir.join("events.offset.json")
    }

    /// Queue one redacted event for batching, ordered by `seq` (the event's byte offset in
    /// `events.jsonl`). The file name depends only on `seq` and `event_id`, so queueing the
    /// same event again rewrites the same file.
    pub fn enqueue_event(&self, seq: u64, event_id: &str, redacted: Json) -> Result<(), Error> {
        let name = format!("{seq:020}-{}.json", safe_name(event_id));
        let item = QueueItem { event_id: event_id.to_owned(), event: redacted };
        write_json_atomic(&self.queue_dir().join(name), &item, "queued event")
    }

    /// Queue one metrics summary upload; returns its idempotency key.
    pub fn enqueue_metrics(&self, payload: &MinimizedPayload) -> Result<String, Error> {
        self.enqueue_metrics_with(payload, &[])
    }

    /// [`Outbox::enqueue_metrics`] with the per-model figures the tier allows (sent only by the
    /// OTLP target, as `agentos.model.*` metrics).
    pub fn enqueue_metrics_with(
        &self,
        payload: &MinimizedPayload,
        per_model: &[agentos_privacy::ModelFigures],
    ) -> Result<String, Error> {
        match &self.target {
            Target::Ccc => {
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
                    event_ids: Vec::new(),
                })?;
                Ok(key)
            }
            Target::Otlp(opts) => {
                let request =
                    agentos_otel::metrics_request(payload, per_model, Timestamp::now(), opts);
                let body = serde_json::to_vec(&request)
                    .map_err(|source| Error::Encode { what: "OTLP metrics", source })?;
                let key = format!("otm-{}", uuid::Uuid::new_v4());
                self.write_raw_pending(
                    &BatchInfo::new(key.clone(), BatchKind::OtlpMetrics, 1),
                    &body,
                )?;
                Ok(key)
            }
        }
    }

    /// A CCC batch, in the JSON form.
    fn write_pending(&self, batch: &Batch) -> Result<(), Error> {
        let name =
            batch_file::file_name(batch.created_at, &safe_name(&batch.key), batch_file::JSON_EXT);
        write_json_atomic(&self.pending_dir().join(name), batch, "outbox batch")
    }

    /// An OTLP batch, in the raw form: its head, then `body` exactly as it will be sent.
    pub(super) fn write_raw_pending(
        &self,
        info: &BatchInfo,
        body: &[u8],
    ) -> Result<Utf8PathBuf, Error> {
        let name = batch_file::file_name(info.created_at, &safe_name(&info.key), RAW_EXT);
        let path = self.pending_dir().join(name);
        batch_file::write_raw(&path, info, body)?;
        Ok(path)
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
        // Nothing in the log but not yet queued is skipped, and no batch is built while
        // catch-up work is outstanding.
        self.catch_up_locked()?;
        for dir in [self.dir.clone(), self.queue_dir(), self.pending_dir(), self.dead_dir()] {
            clean_stale_temps(&dir);
        }
        let queue = list_files(&self.queue_dir())?;
        if queue.is_empty() {
            return Ok(0);
        }
        // Raw (OTLP) batches are built straight from the log past the watermark, never from
        // queue files: only JSON batches can hold a queued event.
        let mut batched_ids = std::collections::BTreeSet::new();
        for (_, stored) in self.pending_files()? {
            let Stored::Json(batch) = stored else { continue };
            if batch.kind == BatchKind::Events {
                for id in batch.body["events"].as_array().into_iter().flatten() {
                    if let Some(id) = id["event_id"].as_str() {
                        batched_ids.insert(id.to_owned());
                    }
                }
            }
            batched_ids.extend(batch.event_ids);
        }
        let mut items = Vec::new();
        for path in queue {
            let Some(item) = read_json::<QueueItem>(&path)? else { continue };
            // Compare the id as the batch body carries it: privacy may have hashed an id
            // that is not a recorder UUID, so the raw `item.event_id` would never match.
            let batched_as = item.event["event_id"].as_str().unwrap_or(&item.event_id);
            if batched_ids.contains(batched_as) {
                // Batched before a crash; the batch is the copy that counts.
                fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
                continue;
            }
            items.push((path, item));
        }
        let mut written = 0;
        let per_batch = match self.target {
            Target::Ccc => BATCH_MAX_EVENTS,
            Target::Otlp(_) => OTLP_BATCH_MAX_EVENTS,
        };
        for chunk in items.chunks(per_batch) {
            let refs: Vec<&QueueItem> = chunk.iter().map(|(_, i)| i).collect();
            // Nothing in it may leave (an OTLP batch of sessions only, or turns before
            // `since`): the events are dispositioned all the same.
            self.write_queued_batch(&refs)?;
            for (path, _) in chunk {
                fs::remove_file(path).map_err(|e| Error::io("remove", path, e))?;
            }
            written += 1;
        }
        Ok(written)
    }

    /// Write the batch of queued events in this outbox's target's form (OTLP: nothing when no
    /// record would be sent). OTLP queue files are left by versions that queued every event
    /// before batching; newer ones batch straight from the log ([`Outbox::write_direct_batch`]).
    fn write_queued_batch(&self, chunk: &[&QueueItem]) -> Result<(), Error> {
        let events: Vec<&Json> = chunk.iter().map(|i| &i.event).collect();
        match &self.target {
            Target::Ccc => {
                let key = format!("evb-{}", uuid::Uuid::new_v4());
                let body = json!({
                    "idempotency_key": key,
                    "schema_version": agentos_event_schema::v1::SCHEMA_VERSION,
                    "events": events,
                });
                self.write_pending(&Batch {
                    key,
                    kind: BatchKind::Events,
                    created_at: Timestamp::now(),
                    items: chunk.len() as u64,
                    attempts: 0,
                    next_attempt_at: None,
                    last_error: None,
                    body,
                    event_ids: Vec::new(),
                })
            }
            Target::Otlp(opts) => {
                let logs = agentos_otel::logs_request(&events, opts);
                if logs.records == 0 {
                    return Ok(());
                }
                let body = serde_json::to_vec(&logs.request)
                    .map_err(|source| Error::Encode { what: "OTLP logs", source })?;
                let key = format!("otl-{}", uuid::Uuid::new_v4());
                let info = BatchInfo::new(key, BatchKind::OtlpLogs, logs.records as u64);
                self.write_raw_pending(&info, &body).map(drop)
            }
        }
    }

    /// The keys of the pending batches, from their file names (nothing is read).
    pub(super) fn pending_keys(&self) -> Result<std::collections::BTreeSet<String>, Error> {
        Ok(list_pending(&self.pending_dir())?
            .iter()
            .filter_map(|p| p.file_name().and_then(batch_file::key_of_name).map(str::to_owned))
            .collect())
    }

    /// Every pending file, oldest first: JSON batches whole, raw ones by their head.
    fn pending_files(&self) -> Result<Vec<(Utf8PathBuf, Stored)>, Error> {
        let mut out = Vec::new();
        for path in list_pending(&self.pending_dir())? {
            if let Some(stored) = batch_file::read_stored(&path)? {
                out.push((path, stored));
            }
        }
        Ok(out)
    }

    /// Batches waiting for delivery, oldest first, bodies included (reads every body: for
    /// previews; [`Outbox::pending_info`] reads only what scheduling needs).
    pub fn pending(&self) -> Result<Vec<Batch>, Error> {
        let mut out = Vec::new();
        for (path, stored) in self.pending_files()? {
            let body = match &stored {
                Stored::Json(_) => Vec::new(),
                Stored::Raw(_) => match batch_file::read_raw_body(&path)? {
                    Some(body) => body.bytes().to_vec(),
                    None => continue,
                },
            };
            out.push(batch_file::whole(stored, &body));
        }
        Ok(out)
    }

    /// Batches waiting for delivery, oldest first, without their bodies.
    pub fn pending_info(&self) -> Result<Vec<BatchInfo>, Error> {
        Ok(self.pending_files()?.iter().map(|(_, s)| s.info()).collect())
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

    /// Counts, pending batches and the last error. Reads only; creates nothing.
    pub fn status(&self) -> Result<OutboxStatus, Error> {
        let state: State = read_json(&self.state_path())?.unwrap_or_default();
        let wm = read_json::<Watermark>(&self.watermark_path())?;
        Ok(OutboxStatus {
            not_uploaded_tier_unknown: wm.as_ref().map_or(0, |w| w.tier_unknown),
            unreadable_lines: wm.as_ref().map_or(0, |w| w.unreadable),
            watermark: wm.map(|w| w.offset),
            queued_events: list_files(&self.queue_dir())?.len(),
            pending: self.pending()?,
            dead_lettered: list_files(&self.dead_dir())?.len(),
            delivered_batches: state.delivered_batches,
            last_error: state.last_error,
            last_success_at: state.last_success_at,
        })
    }
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
    list_named(dir, |name| name.ends_with(".json"))
}

/// Pending batch files of both forms in `dir`, sorted by name (oldest first); temp files
/// skipped. Missing dir = empty.
fn list_pending(dir: &Utf8Path) -> Result<Vec<Utf8PathBuf>, Error> {
    list_named(dir, batch_file::is_batch_name)
}

/// The entries of `dir` whose name `wanted` accepts, dot-files (temp files) skipped, sorted by
/// name. Missing dir = empty.
fn list_named(dir: &Utf8Path, wanted: impl Fn(&str) -> bool) -> Result<Vec<Utf8PathBuf>, Error> {
    let entries = match dir.read_dir_utf8() {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        let name = entry.file_name();
        if !name.starts_with('.') && wanted(name) {
            out.push(entry.path().to_owned());
        }
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
