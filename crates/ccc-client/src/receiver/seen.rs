//! What the event log already holds, as far as the receiver needs it: the ids of every event,
//! the usage fingerprint of every response (a correction's increase added to the response it
//! revises) and the sessions that have a session event. Read
//! incrementally (only bytes appended since the last look, never into a torn last line);
//! memory is a few bytes per event, never a line's text.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{Read, Seek, SeekFrom};

use agentos_event_schema::v1::Event;

use crate::Error;
use crate::eventlog::{BoundedLines, JsonlLog, LineRead, MAX_LINE_BYTES};

/// The log's ids, fingerprints and sessions, up to `offset`.
#[derive(Debug, Default)]
pub(super) struct Seen {
    ids: HashSet<u64>,
    fingerprints: HashSet<[u8; 16]>,
    /// Each response's usage by its event id, so a correction (the increase over a response
    /// first seen mid-stream) yields the final usage's fingerprint.
    usage: HashMap<u64, [u64; 4]>,
    sessions: HashSet<String>,
    offset: u64,
}

pub(super) fn id_hash(id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

impl Seen {
    pub(super) fn has_id(&self, id: &str) -> bool {
        self.ids.contains(&id_hash(id))
    }
    pub(super) fn has_fingerprint(&self, f: &[u8; 16]) -> bool {
        self.fingerprints.contains(f)
    }
    pub(super) fn has_session(&self, sid: &str) -> bool {
        self.sessions.contains(sid)
    }

    /// Read what was appended to `log` since the last call.
    pub(super) fn refresh(&mut self, log: &JsonlLog) -> Result<(), Error> {
        let path = log.path();
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("open", path, e)),
        };
        let len = file.metadata().map_err(|e| Error::io("stat", path, e))?.len();
        if len < self.offset {
            // Replaced or truncated: start over.
            *self = Seen::default();
        }
        file.seek(SeekFrom::Start(self.offset)).map_err(|e| Error::io("read", path, e))?;
        let mut lines =
            BoundedLines::new(file.take(len - self.offset), self.offset, MAX_LINE_BYTES);
        loop {
            match lines.next().map_err(|e| Error::io("read", path, e))? {
                LineRead::Line { start, complete: true } => {
                    self.offset = start + lines.line().len() as u64;
                    if let Ok(event) = serde_json::from_slice::<Event>(lines.line()) {
                        self.note(&event);
                    }
                }
                LineRead::TooLong { start, len, complete: true } => self.offset = start + len,
                _ => return Ok(()),
            }
        }
    }

    /// Remember an event (read from the log or just appended).
    pub(super) fn note(&mut self, event: &Event) {
        if let Some(id) = &event.envelope().event_id {
            self.ids.insert(id_hash(id.as_ref()));
        }
        match event {
            Event::Turn(t) => {
                let t = &t.turn;
                let mut tokens = [
                    t.tokens_in,
                    t.tokens_out,
                    t.cache_read_tokens.unwrap_or(0),
                    t.cache_creation_tokens.unwrap_or(0),
                ];
                let key = match &t.revises {
                    Some(original) => id_hash(original.as_ref()),
                    None => event.envelope().event_id.as_ref().map_or(0, |id| id_hash(id.as_ref())),
                };
                if t.revises.is_some() {
                    let before = self.usage.get(&key).copied().unwrap_or_default();
                    for (n, b) in tokens.iter_mut().zip(before) {
                        *n = n.saturating_add(b);
                    }
                }
                self.usage.insert(key, tokens);
                self.fingerprints.insert(agentos_otel::receive::usage_fingerprint(
                    t.session_id.as_ref(),
                    &t.model,
                    tokens,
                ));
            }
            Event::Session(s) => {
                self.sessions.insert(s.session.session_id.to_string());
            }
            _ => {}
        }
    }
}
