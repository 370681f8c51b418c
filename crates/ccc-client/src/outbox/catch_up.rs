//! Catch-up: feeding full-tier events from `events.jsonl` into the queue. The watermark
//! (`events.offset.json`) says how far the log has been dispositioned; each event's
//! eligibility is decided by its session's tier (see the module docs of [`super`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};

use agentos_event_schema::v1::Event;
use agentos_otel::LogsBody;
use agentos_privacy::{Tier, TierPolicy, event_payload, session_view, turn_view};
use serde::{Deserialize, Serialize};

use super::{OTLP_BATCH_MAX_BYTES, OTLP_BATCH_MAX_EVENTS, Outbox, Target};
use crate::Error;
use crate::eventlog::{BoundedLines, JsonlLog, LineRead, MAX_LINE_BYTES};
use crate::fsutil::{read_json, write_json_atomic};
use crate::state::StateFiles;

/// `events.offset.json`: how far `events.jsonl` has been dispositioned for upload.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Watermark {
    /// Byte offset in `events.jsonl`: every complete line before it has been queued or
    /// judged ineligible.
    pub(super) offset: u64,
    /// Sessions known to have been started in the `full` tier whose `session_end` has not
    /// been dispositioned yet.
    #[serde(default)]
    full_sessions: BTreeSet<String>,
    /// Events not uploaded because the tier of their session is unknown.
    #[serde(default)]
    pub(super) tier_unknown: u64,
    /// Lines past the watermark that are not readable v1 events (skipped).
    #[serde(default)]
    pub(super) unreadable: u64,
}

/// Where [`Outbox::catch_up`] reads events from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct EventSource {
    pub(super) log: JsonlLog,
    /// The recorder's active session and downgraded sessions.
    pub(super) state: StateFiles,
}

impl Outbox {
    /// Create the watermark at the current end of the event log if there is none yet, so the
    /// history recorded before the first full-tier event is never swept up. Call it before
    /// appending a full-tier event. No-op without an event log or when a watermark exists.
    pub fn ensure_watermark(&self) -> Result<(), Error> {
        self.ensure_watermark_from(None)
    }

    /// Like [`Outbox::ensure_watermark`], but a missing watermark starts at the beginning of
    /// the log: every full-tier session already recorded is swept up (an export of history,
    /// e.g. to an OpenTelemetry collector). An existing watermark is kept.
    pub fn ensure_watermark_at_start(&self) -> Result<(), Error> {
        self.ensure_watermark_from(Some(0))
    }

    fn ensure_watermark_from(&self, start: Option<u64>) -> Result<(), Error> {
        let Some(src) = &self.source else { return Ok(()) };
        let path = self.watermark_path();
        if path.try_exists().unwrap_or(false) {
            return Ok(());
        }
        let _lock = self.lock()?;
        if read_json::<Watermark>(&path)?.is_some() {
            return Ok(());
        }
        let offset = match (start, fs::metadata(src.log.path())) {
            (Some(start), _) => start,
            (None, Ok(m)) => m.len(),
            (None, Err(e)) if e.kind() == std::io::ErrorKind::NotFound => 0,
            (None, Err(e)) => return Err(Error::io("stat", src.log.path(), e)),
        };
        write_json_atomic(&path, &Watermark { offset, ..Watermark::default() }, "outbox watermark")
    }

    /// Queue every eligible event recorded since the watermark and advance it (under the
    /// outbox lock). Returns the number of events queued. See the module docs for the rules.
    pub fn catch_up(&self) -> Result<usize, Error> {
        let _lock = self.lock()?;
        self.catch_up_locked()
    }

    pub(super) fn catch_up_locked(&self) -> Result<usize, Error> {
        let Some(src) = &self.source else { return Ok(0) };
        let wm_path = self.watermark_path();
        let Some(mut wm) = read_json::<Watermark>(&wm_path)? else { return Ok(0) };
        let log = src.log.path();
        let mut file = match File::open(log) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(Error::io("open", log, e)),
        };
        let len = file.metadata().map_err(|e| Error::io("stat", log, e))?.len();
        if len < wm.offset {
            // The log was truncated or replaced: what is in it now was never judged. Start
            // over at its end rather than sweep it up.
            wm.offset = len;
            write_json_atomic(&wm_path, &wm, "outbox watermark")?;
            return Ok(0);
        }
        file.seek(SeekFrom::Start(wm.offset)).map_err(|e| Error::io("read", log, e))?;
        // Streamed line by line (memory stays flat however long the stretch since the last
        // catch-up), and never past the last newline: a torn last line is not judged until it
        // is complete.
        // Memory is bounded too: a line longer than the limit is read through, not held.
        let mut lines = BoundedLines::new(file.take(len - wm.offset), wm.offset, MAX_LINE_BYTES);
        let downgraded = src.state.downgraded()?;
        let mut active: Option<Option<(String, Option<Tier>)>> = None;
        let mut seen: BTreeMap<String, Tier> = BTreeMap::new();
        let mut queued = 0;
        let mut pos = wm.offset;
        // OTLP: batches straight from the log (one file per batch, not per event), each
        // record written once from privacy's typed view of the turn.
        let otlp = match &self.target {
            Target::Otlp(opts) => Some(opts),
            Target::Ccc => None,
        };
        let pending_keys: BTreeSet<String> =
            if otlp.is_some() { self.pending_keys()? } else { BTreeSet::new() };
        let mut chunk = otlp.map(|opts| (LogsBody::new(opts), opts));
        let mut chunk_events = 0;
        let mut chunk_start = 0;
        // Hashed session id → the agent its session event names (this catch-up's sessions).
        let mut agents: BTreeMap<String, String> = BTreeMap::new();
        loop {
            let at = match lines.next().map_err(|e| Error::io("read", log, e))? {
                LineRead::Line { start, complete: true } => start,
                LineRead::TooLong { start, len, complete: true } => {
                    pos = start + len;
                    wm.unreadable += 1;
                    continue;
                }
                _ => break,
            };
            let line = lines.line();
            pos = at + line.len() as u64;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let Ok(event) = serde_json::from_slice::<Event>(line) else {
                wm.unreadable += 1;
                continue;
            };
            let (sid, session_tier) = match &event {
                Event::Session(s) => {
                    let sid = s.session.session_id.to_string();
                    let tier = s.session.privacy_tier;
                    if tier.uploads_events() {
                        wm.full_sessions.insert(sid.clone());
                    } else {
                        wm.full_sessions.remove(&sid);
                    }
                    seen.insert(sid.clone(), tier);
                    (sid, Some(tier))
                }
                Event::Turn(_) | Event::SessionEnd(_) => {
                    let sid = event.session_id().map(ToString::to_string).unwrap_or_default();
                    let tier =
                        session_tier(&sid, &seen, &downgraded, &mut wm, &mut active, &src.state)?;
                    (sid, tier)
                }
                // An event type this version does not know is never uploaded: privacy has no
                // rule for what it carries.
                _ => continue,
            };
            // What leaves, if anything, is privacy's decision for the session's tier.
            match (session_tier, chunk.as_mut()) {
                (None, _) => wm.tier_unknown += 1,
                (Some(tier), Some((body, opts))) => {
                    let leaves = match &event {
                        Event::Turn(t) => turn_view(tier, t).map(|view| {
                            let agent = agents.get(view.session_id.as_ref());
                            body.push(&view, agent.map(String::as_str));
                        }),
                        Event::Session(s) => session_view(tier, s).map(|view| {
                            if let Some(agent) = view.agent {
                                agents.insert(view.session_id.into_owned(), agent.to_owned());
                            }
                        }),
                        _ => tier.uploads_events().then_some(()),
                    };
                    if leaves.is_some() {
                        if chunk_events == 0 {
                            chunk_start = at;
                        }
                        chunk_events += 1;
                        queued += 1;
                        if chunk_events >= OTLP_BATCH_MAX_EVENTS
                            || body.len() >= OTLP_BATCH_MAX_BYTES
                        {
                            let full = std::mem::replace(body, LogsBody::new(opts));
                            self.write_direct_batch(chunk_start, full, &pending_keys)?;
                            chunk_events = 0;
                        }
                    }
                }
                (Some(tier), None) => {
                    if let Some(payload) = event_payload(tier, &event) {
                        let id = match &event.envelope().event_id {
                            Some(id) => id.to_string(),
                            None => format!("offset-{at}"),
                        };
                        self.enqueue_event(at, &id, payload)?;
                        queued += 1;
                    }
                }
            }
            if matches!(event, Event::SessionEnd(_)) {
                wm.full_sessions.remove(&sid);
            }
        }
        // Before the watermark moves past them.
        if let Some((body, _)) = chunk {
            self.write_direct_batch(chunk_start, body, &pending_keys)?;
        }
        if pos == wm.offset {
            return Ok(0);
        }
        wm.offset = pos;
        write_json_atomic(&wm_path, &wm, "outbox watermark")?;
        Ok(queued)
    }
}

/// The tier the session `sid` runs under, as far as it matters for uploads: `Some` when known
/// (its `session` event earlier in this catch-up, the persisted set of full-tier sessions,
/// or the active-session state), `None` when unknown.
fn session_tier(
    sid: &str,
    seen: &BTreeMap<String, Tier>,
    downgraded: &BTreeSet<String>,
    wm: &mut Watermark,
    active: &mut Option<Option<(String, Option<Tier>)>>,
    state: &StateFiles,
) -> Result<Option<Tier>, Error> {
    // The user lowered the tier during this session: nothing more of it goes out as full.
    // Which lower tier is not recorded; `local` is at least as private as any of them.
    if downgraded.contains(sid) {
        wm.full_sessions.remove(sid);
        return Ok(Some(Tier::Local));
    }
    if let Some(tier) = seen.get(sid) {
        return Ok(Some(*tier));
    }
    if wm.full_sessions.contains(sid) {
        return Ok(Some(Tier::Full));
    }
    if active.is_none() {
        *active = Some(state.active()?.map(|a| (a.session_id.to_string(), a.tier)));
    }
    match active {
        Some(Some((id, Some(tier)))) if id == sid => {
            if tier.uploads_events() {
                wm.full_sessions.insert(sid.to_owned());
            }
            Ok(Some(*tier))
        }
        _ => Ok(None),
    }
}
