//! Catch-up: feeding full-tier events from `events.jsonl` into the queue (CCC) or straight
//! into OTLP logs batches. The watermark (`events.offset.json`) says how far the log has been
//! dispositioned; each event's eligibility is decided by its session's tier (see the module
//! docs of [`super`]). A long stretch of the log is read and parsed on a second thread.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::sync::mpsc::SyncSender;

use agentos_event_schema::v1::{Event, TurnEvent};
use agentos_otel::LogsBody;
use agentos_privacy::{Tier, TierPolicy, event_payload, session_view, turn_view};
use camino::Utf8PathBuf;
use serde::{Deserialize, Serialize};

use super::{OTLP_BATCH_MAX_BYTES, OTLP_BATCH_MAX_EVENTS, Outbox, Target};
use crate::Error;
use crate::eventlog::{BoundedLines, JsonlLog, LineRead, MAX_LINE_BYTES};
use crate::fsutil::{read_json, write_json_atomic};
use crate::state::StateFiles;

/// `events.offset.json`: how far `events.jsonl` has been dispositioned for upload.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
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

/// An OTLP batch cut from the log and the watermark just past its events: written in this
/// order, so the log is never read past a batch that is not on disk.
#[derive(Debug)]
pub(super) struct Cut {
    /// Its idempotency key (`otl-<offset of its first event>`).
    key: String,
    /// Its records; `None` when a batch with this key is already pending (written before a
    /// crash) or when nothing in it leaves.
    body: Option<LogsBody>,
    /// The watermark past it.
    watermark: Watermark,
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
        self.catch_up_notify(None)
    }

    /// [`Outbox::catch_up_locked`]; with `notify`, each OTLP batch is not written here but
    /// handed over as a [`Cut`] (its body and the watermark just past it), for the receiver to
    /// write in order and deliver (reading the log and writing or sending then overlap).
    pub(super) fn catch_up_notify(&self, notify: Option<&SyncSender<Cut>>) -> Result<usize, Error> {
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
        let lines = BoundedLines::new(file.take(len - wm.offset), wm.offset, MAX_LINE_BYTES);
        // A long stretch is read and parsed on a second thread, a block of lines at a time.
        let threaded = len - wm.offset >= PARSE_THREAD_MIN_BYTES;
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
        let mut chunk = otlp.map(|opts| (new_body(opts), opts));
        let mut chunk_events = 0;
        let mut chunk_start = 0;
        // Hashed session id → the agent its session event names (this catch-up's sessions).
        let mut agents: BTreeMap<String, String> = BTreeMap::new();
        std::thread::scope(|scope| -> Result<(), Error> {
            let mut items = if threaded {
                let (tx, rx) = std::sync::mpsc::sync_channel(4);
                scope.spawn(move || read_blocks(lines, &tx));
                Items::Threaded { rx, block: Vec::new().into_iter() }
            } else {
                Items::Inline(lines)
            };
            loop {
                let Some(item) = items.next().map_err(|e| Error::io("read", log, e))? else {
                    break;
                };
                pos = item.end;
                let at = item.at;
                let event = match item.parsed {
                    Parsed::Event(event) => *event,
                    Parsed::Blank => continue,
                    Parsed::Unreadable => {
                        wm.unreadable += 1;
                        continue;
                    }
                };
                let mut full = false;
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
                        let tier = session_tier(
                            &sid,
                            &seen,
                            &downgraded,
                            &mut wm,
                            &mut active,
                            &src.state,
                        )?;
                        (sid, tier)
                    }
                    // An event type this version does not know is never uploaded: privacy has no
                    // rule for what it carries.
                    _ => continue,
                };
                // What leaves, if anything, is privacy's decision for the session's tier.
                match (session_tier, chunk.as_mut()) {
                    (None, _) => wm.tier_unknown += 1,
                    (Some(tier), Some((body, _))) => {
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
                            full = chunk_events >= OTLP_BATCH_MAX_EVENTS
                                || body.len() >= OTLP_BATCH_MAX_BYTES;
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
                if let (true, Some((body, opts))) = (full, chunk.as_mut()) {
                    // Written (here or by the receiver of `notify`) batch first, then the
                    // watermark past it, and only then sent: once delivered, a batch is never
                    // built again (a crash before its watermark rebuilds it, same key).
                    let body = std::mem::replace(body, new_body(opts));
                    chunk_events = 0;
                    wm.offset = pos;
                    let key = format!("otl-{chunk_start:020}");
                    let body = (!pending_keys.contains(&key)).then_some(body);
                    self.cut(Cut { key, body, watermark: wm.clone() }, notify)?;
                }
            }
            Ok(())
        })?;
        // The last batch, before the watermark moves past its events.
        let key = format!("otl-{chunk_start:020}");
        let body =
            chunk.map(|(body, _)| body).filter(|b| !b.is_empty() && !pending_keys.contains(&key));
        if pos != wm.offset || body.is_some() {
            wm.offset = pos;
            self.cut(Cut { key, body, watermark: wm }, notify)?;
        }
        Ok(queued)
    }

    /// Write a cut (its batch, then the watermark past it), or hand it to `notify`.
    fn cut(&self, cut: Cut, notify: Option<&SyncSender<Cut>>) -> Result<(), Error> {
        match notify {
            Some(tx) => tx.send(cut).map_err(|_| {
                // The receiver writes every cut until it fails; it has returned its error.
                Error::io("hand over", &self.dir, std::io::Error::other("delivery stopped"))
            }),
            None => self.write_cut(cut).map(drop),
        }
    }

    /// Write a cut: its batch (when it has records), then the watermark. Returns the batch
    /// written: its path, head and body.
    pub(super) fn write_cut(
        &self,
        cut: Cut,
    ) -> Result<Option<(Utf8PathBuf, super::BatchInfo, Vec<u8>)>, Error> {
        let written = match cut.body.filter(|b| !b.is_empty()) {
            Some(body) => {
                let info = super::BatchInfo::new(
                    cut.key,
                    super::BatchKind::OtlpLogs,
                    body.records() as u64,
                );
                let bytes = body.finish();
                let path = self.write_raw_pending(&info, &bytes)?;
                Some((path, info, bytes))
            }
            None => None,
        };
        write_json_atomic(&self.watermark_path(), &cut.watermark, "outbox watermark")?;
        Ok(written)
    }
}

/// A stretch of the log at least this long is read and parsed on a second thread.
const PARSE_THREAD_MIN_BYTES: u64 = 1024 * 1024;
/// Lines per block handed from the reading thread.
const PARSE_BLOCK: usize = 512;

/// One line of the log, read and parsed.
struct Item {
    /// Its offset.
    at: u64,
    /// The offset after it (its newline included).
    end: u64,
    parsed: Parsed,
}

enum Parsed {
    Event(Box<Event>),
    /// Only whitespace.
    Blank,
    /// Not a readable event, or longer than the line limit.
    Unreadable,
}

/// The next complete line of `lines`, parsed; `None` at the end (or at a torn last line).
fn read_item<R: Read>(lines: &mut BoundedLines<R>) -> std::io::Result<Option<Item>> {
    Ok(match lines.next()? {
        LineRead::Line { start, complete: true } => {
            let line = lines.line();
            let parsed = if line.iter().all(u8::is_ascii_whitespace) {
                Parsed::Blank
            } else {
                parse_event(line).map_or(Parsed::Unreadable, |e| Parsed::Event(Box::new(e)))
            };
            Some(Item { at: start, end: start + line.len() as u64, parsed })
        }
        LineRead::TooLong { start, len, complete: true } => {
            Some(Item { at: start, end: start + len, parsed: Parsed::Unreadable })
        }
        _ => None,
    })
}

/// The reading thread: blocks of parsed lines, in order, until the end, an error (sent last)
/// or the receiver is gone.
fn read_blocks<R: Read>(mut lines: BoundedLines<R>, tx: &SyncSender<std::io::Result<Vec<Item>>>) {
    let mut block = Vec::with_capacity(PARSE_BLOCK);
    loop {
        match read_item(&mut lines) {
            Ok(Some(item)) => {
                block.push(item);
                if block.len() >= PARSE_BLOCK
                    && tx
                        .send(Ok(std::mem::replace(&mut block, Vec::with_capacity(PARSE_BLOCK))))
                        .is_err()
                {
                    return;
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = tx.send(Ok(block));
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
    let _ = tx.send(Ok(block));
}

/// Parsed lines, read here or by the reading thread.
enum Items<R> {
    Inline(BoundedLines<R>),
    Threaded {
        rx: std::sync::mpsc::Receiver<std::io::Result<Vec<Item>>>,
        block: std::vec::IntoIter<Item>,
    },
}

impl<R: Read> Items<R> {
    fn next(&mut self) -> std::io::Result<Option<Item>> {
        match self {
            Items::Inline(lines) => read_item(lines),
            Items::Threaded { rx, block } => loop {
                if let Some(item) = block.next() {
                    return Ok(Some(item));
                }
                match rx.recv() {
                    Ok(Ok(next)) => *block = next.into_iter(),
                    Ok(Err(e)) => return Err(e),
                    // The reading thread is done.
                    Err(_) => return Ok(None),
                }
            },
        }
    }
}

/// An empty logs body with room for a whole batch (no reallocation while it fills).
fn new_body(opts: &agentos_otel::ExportOptions) -> LogsBody {
    LogsBody::with_capacity(opts, OTLP_BATCH_MAX_BYTES + 64 * 1024)
}

/// One line of the log as an event, `None` when it is not one. Turns, most of the log, are
/// read straight into their type (an [`Event`] reads every line into a JSON map first); a line
/// that does not read so is read as an [`Event`], so what is accepted does not change.
fn parse_event(line: &[u8]) -> Option<Event> {
    if let Ok(turn) = serde_json::from_slice::<TurnEvent>(line)
        // `type` is no envelope field: it is kept with the unknown ones.
        && turn.envelope.extra.get("type").and_then(serde_json::Value::as_str) == Some("turn")
    {
        let mut turn = turn;
        turn.envelope.extra.remove("type");
        return Some(Event::Turn(turn));
    }
    serde_json::from_slice::<Event>(line).ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast read of turns accepts exactly the lines, and reads exactly the events, that
    /// reading an [`Event`] does.
    #[test]
    fn turns_read_straight_into_their_type_read_as_events_do() {
        let turn = r#"{"type":"turn","event_id":"00000000-0000-4000-8000-000000000001","ts":"2026-11-30T10:00:00Z","turn":{"turn_id":"t","session_id":"s","model":"m","subagent":"a","tokens_in":1,"tokens_out":2,"input_kind":"text","latency_ms":1.5},"later":{"x":1}}"#;
        let lines = [
            turn.to_owned(),
            turn.replace(r#""type":"turn""#, r#""type":"turnip""#),
            turn.replace(r#""type":"turn","#, ""),
            turn.replace(r#""tokens_in":1"#, r#""tokens_in":-1"#),
            turn.replace(r#""tokens_in":1,"#, ""),
            turn.replace(r#""type":"turn""#, r#""type":"turn","type":"turn""#),
            turn.replace(r#""type":"turn""#, r#""type":"session""#),
            r#"{"type":"session_end","session_id":"s","ended_at":"2026-11-30T11:00:00Z","notes":"n"}"#
                .to_owned(),
            "[1]".to_owned(),
            "{".to_owned(),
        ];
        for line in &lines {
            let want = serde_json::from_slice::<Event>(line.as_bytes()).ok();
            assert_eq!(parse_event(line.as_bytes()), want, "{line}");
        }
        assert!(matches!(parse_event(lines[0].as_bytes()), Some(Event::Turn(_))));
    }

    /// The reading thread yields the same items, in the same order, as reading inline: events,
    /// blank, unreadable and too long lines, across block boundaries, and nothing of a torn
    /// last line.
    #[test]
    fn lines_parsed_on_the_reading_thread_are_those_read_inline() {
        let turn = r#"{"type":"turn","turn":{"turn_id":"t","session_id":"s","model":"m","subagent":"a","tokens_in":1,"tokens_out":2,"input_kind":"text","latency_ms":1.5}}"#;
        let too_long = "x".repeat(300);
        let n = 3 * PARSE_BLOCK + 7;
        let mut log = String::new();
        for i in 0..n {
            log.push_str(match i % 5 {
                0 => "   ",
                1 => "{not json",
                2 => &too_long,
                _ => turn,
            });
            log.push('\n');
        }
        log.push_str(turn);
        let summary = |mut items: Items<&[u8]>| {
            let mut out = Vec::new();
            while let Some(item) = items.next().unwrap() {
                let kind = match item.parsed {
                    Parsed::Event(e) => format!("{:?}", e.kind()),
                    Parsed::Blank => "blank".to_owned(),
                    Parsed::Unreadable => "unreadable".to_owned(),
                };
                out.push((item.at, item.end, kind));
            }
            out
        };
        let lines = || BoundedLines::new(log.as_bytes(), 0, 200);
        let inline = summary(Items::Inline(lines()));
        let threaded = std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel(4);
            scope.spawn(move || read_blocks(lines(), &tx));
            summary(Items::Threaded { rx, block: Vec::new().into_iter() })
        });
        assert_eq!(inline.len(), n, "the torn last line is not read");
        assert_eq!(threaded, inline);
        let turns = inline.iter().filter(|(_, _, k)| k == "Turn").count();
        assert_eq!(turns, (0..n).filter(|i| i % 5 >= 3).count());
    }
}
