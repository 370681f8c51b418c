//! The two on-disk forms of a pending batch, in `pending/`:
//!
//! - `<micros>-<key>.json`: a [`Batch`] as JSON, body included as a JSON value (CCC batches,
//!   and OTLP batches written by versions before the raw form: still read and delivered);
//! - `<micros>-<key>.otlp` (OTLP batches): one line of compact JSON, the batch's
//!   [`BatchInfo`], then the request body exactly as it is sent. The body is written once and
//!   never parsed again on the way out; a retry rewrites the head line with the same body.
//!
//! Both are written atomically (temp file, fsync, rename); the head line is bounded
//! ([`MAX_HEAD`]) and a file is at most `MAX_JSON_FILE` bytes.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};

use agentos_event_schema::Timestamp;
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{Batch, BatchKind};
use crate::Error;
use crate::fsutil::{read_bounded, read_json, write_atomic, write_json_atomic};

/// The extension of a batch in the JSON form.
pub(super) const JSON_EXT: &str = ".json";
/// The extension of a batch in the raw form (head line, then the body as sent).
pub(super) const RAW_EXT: &str = ".otlp";
/// The longest head line read (it holds a key, a kind, times, counts and one error line).
const MAX_HEAD: u64 = 64 * 1024;

/// A pending batch without its body: what the outbox needs to schedule it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchInfo {
    /// Idempotency key (header `Idempotency-Key`).
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
}

impl BatchInfo {
    /// A batch created now, never attempted.
    pub(super) fn new(key: String, kind: BatchKind, items: u64) -> Self {
        BatchInfo {
            key,
            kind,
            created_at: Timestamp::now(),
            items,
            attempts: 0,
            next_attempt_at: None,
            last_error: None,
        }
    }
}

impl Batch {
    /// The batch without its body.
    pub fn info(&self) -> BatchInfo {
        BatchInfo {
            key: self.key.clone(),
            kind: self.kind,
            created_at: self.created_at,
            items: self.items,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
            last_error: self.last_error.clone(),
        }
    }
}

/// One pending file, as read for delivery.
#[derive(Debug)]
pub(super) enum Stored {
    /// The JSON form (the whole batch is read).
    Json(Batch),
    /// The raw form: the head only; the body is read when sent ([`read_raw_body`]).
    Raw(BatchInfo),
}

impl Stored {
    pub(super) fn info(&self) -> BatchInfo {
        match self {
            Stored::Json(b) => b.info(),
            Stored::Raw(i) => i.clone(),
        }
    }
}

/// Whether `name` is a pending batch file of either form.
pub(super) fn is_batch_name(name: &str) -> bool {
    name.ends_with(JSON_EXT) || name.ends_with(RAW_EXT)
}

/// The key part of a pending file name (`<micros>-<key>.<ext>`), as [`super::safe_name`]
/// wrote it.
pub(super) fn key_of_name(name: &str) -> Option<&str> {
    let stem = name.strip_suffix(JSON_EXT).or_else(|| name.strip_suffix(RAW_EXT))?;
    stem.split_once('-').map(|(_, key)| key)
}

/// Read a pending file: the whole batch (JSON form) or its head line (raw form). `Ok(None)`
/// when it vanished.
pub(super) fn read_stored(path: &Utf8Path) -> Result<Option<Stored>, Error> {
    if path.as_str().ends_with(RAW_EXT) {
        return Ok(read_raw_head(path)?.map(|(info, _)| Stored::Raw(info)));
    }
    Ok(read_json::<Batch>(path)?.map(Stored::Json))
}

fn corrupt(path: &Utf8Path, message: &str) -> Error {
    Error::Corrupt { path: path.to_owned(), message: message.to_owned() }
}

/// The head of a raw batch file and the length of its head line (newline included).
fn read_raw_head(path: &Utf8Path) -> Result<Option<(BatchInfo, u64)>, Error> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("open", path, e)),
    };
    let mut line = Vec::new();
    BufReader::new(file.take(MAX_HEAD))
        .read_until(b'\n', &mut line)
        .map_err(|e| Error::io("read", path, e))?;
    if line.last() != Some(&b'\n') {
        return Err(corrupt(path, "no batch head line"));
    }
    let info = serde_json::from_slice::<BatchInfo>(&line)
        .map_err(|e| corrupt(path, &format!("bad batch head: {e}")))?;
    Ok(Some((info, line.len() as u64)))
}

/// A raw batch file's bytes: the body is what follows the head line.
#[derive(Debug)]
pub(super) struct RawBody {
    bytes: Vec<u8>,
    start: usize,
}

impl RawBody {
    /// The body, bytes as they are sent.
    pub(super) fn bytes(&self) -> &[u8] {
        self.bytes.get(self.start..).unwrap_or_default()
    }
}

impl From<Vec<u8>> for RawBody {
    /// A body held in memory (just written).
    fn from(bytes: Vec<u8>) -> Self {
        RawBody { bytes, start: 0 }
    }
}

/// The body of a raw batch file. `Ok(None)` when it vanished.
pub(super) fn read_raw_body(path: &Utf8Path) -> Result<Option<RawBody>, Error> {
    let Some(bytes) = read_bounded(path)? else { return Ok(None) };
    let head_max = usize::try_from(MAX_HEAD).unwrap_or(usize::MAX);
    let Some(nl) = bytes.iter().take(head_max).position(|b| *b == b'\n') else {
        return Err(corrupt(path, "no batch head line"));
    };
    Ok(Some(RawBody { bytes, start: nl + 1 }))
}

/// Write a raw batch file atomically: the head line, then `body`.
pub(super) fn write_raw(path: &Utf8Path, info: &BatchInfo, body: &[u8]) -> Result<(), Error> {
    let mut bytes = serde_json::to_vec(info)
        .map_err(|source| Error::Encode { what: "outbox batch", source })?;
    bytes.push(b'\n');
    bytes.extend_from_slice(body);
    write_atomic(path, &bytes)
}

/// Rewrite a stored batch after a failed attempt, in its own form (`body`: the bytes sent).
pub(super) fn rewrite(
    path: &Utf8Path,
    stored: &Stored,
    info: &BatchInfo,
    body: &[u8],
) -> Result<(), Error> {
    match stored {
        Stored::Json(batch) => {
            let batch = Batch {
                attempts: info.attempts,
                next_attempt_at: info.next_attempt_at,
                last_error: info.last_error.clone(),
                ..batch.clone()
            };
            write_json_atomic(path, &batch, "outbox batch")
        }
        Stored::Raw(_) => write_raw(path, info, body),
    }
}

/// The whole batch with its body as a JSON value (for dead letters, previews and status);
/// a raw body that is not JSON is kept as text.
pub(super) fn whole(stored: Stored, body: &[u8]) -> Batch {
    match stored {
        Stored::Json(batch) => batch,
        Stored::Raw(info) => Batch {
            key: info.key,
            kind: info.kind,
            created_at: info.created_at,
            items: info.items,
            attempts: info.attempts,
            next_attempt_at: info.next_attempt_at,
            last_error: info.last_error,
            body: serde_json::from_slice(body)
                .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(body).into_owned())),
            event_ids: Vec::new(),
        },
    }
}

/// The name of a pending file for a batch created at `created_at` with `key`.
pub(super) fn file_name(created_at: Timestamp, safe_key: &str, ext: &str) -> Utf8PathBuf {
    Utf8PathBuf::from(format!("{:020}-{safe_key}{ext}", created_at.as_unix_micros()))
}
