//! Writing the tracker's files: one whole, stamped line per append under the file's lock,
//! synced before the lock is released; the atomic rewrite that removes one line (alias
//! delete); the atomic alias state file.
//!
//! The lock is a hidden sibling file (`.snapshots.jsonl.lock`), not the data file itself: a
//! rewrite renames a new file over the data file, and a writer that had locked the old one
//! would otherwise append to a file nobody reads any more.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use super::pyjson::{to_py_json, to_py_json_pretty};
use super::{Error, SCHEMA_VERSION, TOOL_VERSION};

/// A row with the reference's stamps after its own keys: `schema_version` and `tool_version`
/// come last, as Python's `setdefault` puts them. Rows that already carry them (read from a
/// file) are written as they are, not through this.
#[derive(Debug, Serialize)]
pub struct Stamped<'a, T: Serialize> {
    /// The row's own keys, in order.
    #[serde(flatten)]
    pub row: &'a T,
    /// [`SCHEMA_VERSION`].
    pub schema_version: &'static str,
    /// [`TOOL_VERSION`].
    pub tool_version: &'static str,
}

impl<'a, T: Serialize> Stamped<'a, T> {
    /// `row` with the stamps.
    pub fn new(row: &'a T) -> Stamped<'a, T> {
        Stamped { row, schema_version: SCHEMA_VERSION, tool_version: TOOL_VERSION }
    }
}

/// `row`, stamped, as one line of Python-style JSON with its newline.
///
/// # Errors
/// [`Error::Encode`] when `row` cannot be encoded.
pub fn encode_line<T: Serialize>(path: &Utf8Path, row: &T) -> Result<Vec<u8>, Error> {
    let mut line = to_py_json(&Stamped::new(row))
        .map_err(|source| Error::Encode { path: path.to_owned(), source })?;
    line.push(b'\n');
    Ok(line)
}

/// The lock file of `path`: `.{name}.lock` next to it.
fn lock_path(path: &Utf8Path) -> Utf8PathBuf {
    let name = path.file_name().unwrap_or("store");
    match path.parent() {
        Some(dir) => dir.join(format!(".{name}.lock")),
        None => Utf8PathBuf::from(format!(".{name}.lock")),
    }
}

/// Hold `path`'s exclusive lock (released when the returned file is dropped), creating the
/// directory first.
fn lock(path: &Utf8Path) -> Result<File, Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    }
    let lock = lock_path(path);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|e| Error::io("open", &lock, e))?;
    file.lock().map_err(|e| Error::io("lock", &lock, e))?;
    Ok(file)
}

/// Append `row` to `path` as one stamped line: under the file's exclusive lock, in one write,
/// synced to disk before the lock is released. A torn last line (a crash mid-append by an
/// older writer) is closed with a newline first, so it cannot swallow this row.
///
/// # Errors
/// [`Error::Encode`], or [`Error::Io`] naming the file.
pub fn append_row<T: Serialize>(path: &Utf8Path, row: &T) -> Result<(), Error> {
    let line = encode_line(path, row)?;
    append_bytes(path, &line)
}

/// Append already encoded, newline-terminated bytes under the lock.
fn append_bytes(path: &Utf8Path, line: &[u8]) -> Result<(), Error> {
    let _lock = lock(path)?;
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| Error::io("open", path, e))?;
    let len = file.metadata().map_err(|e| Error::io("stat", path, e))?.len();
    let mut buf = Vec::with_capacity(line.len() + 1);
    if len > 0 {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::Start(len - 1))
            .and_then(|_| file.read_exact(&mut last))
            .map_err(|e| Error::io("read", path, e))?;
        if last[0] != b'\n' {
            buf.push(b'\n');
        }
    }
    buf.extend_from_slice(line);
    file.write_all(&buf).map_err(|e| Error::io("write", path, e))?;
    file.sync_data().map_err(|e| Error::io("sync", path, e))?;
    Ok(())
}

/// Remove line `line` (1-based) from `path` if it still holds exactly `expected` (without
/// its newline), by an atomic rewrite (temp file, fsync, rename) under the same lock appends
/// take, so no concurrent append is lost. Every other line is kept byte for byte, in file
/// order. Returns whether the line was found and removed.
///
/// # Errors
/// [`Error::Io`] or [`Error::Rewrite`].
pub fn rewrite_without_line(path: &Utf8Path, line: u64, expected: &str) -> Result<bool, Error> {
    let _lock = lock(path)?;
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    let mut out = Vec::with_capacity(bytes.len());
    let mut removed = false;
    for (i, chunk) in bytes.split_inclusive(|b| *b == b'\n').enumerate() {
        let body = chunk.strip_suffix(b"\n").unwrap_or(chunk);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        if !removed && i as u64 + 1 == line && body.trim_ascii() == expected.as_bytes() {
            removed = true;
            continue;
        }
        out.extend_from_slice(chunk);
    }
    if removed {
        agentos_fsio::write_atomic(path, &out)?;
    }
    Ok(removed)
}

/// Write an alias state file atomically: Python's `json.dumps(state, indent=2)` without a
/// trailing newline.
///
/// # Errors
/// [`Error::Encode`] or [`Error::Rewrite`].
pub fn write_state_atomic<T: Serialize>(path: &Utf8Path, state: &T) -> Result<(), Error> {
    let bytes = to_py_json_pretty(state)
        .map_err(|source| Error::Encode { path: path.to_owned(), source })?;
    agentos_fsio::write_atomic(path, &bytes)?;
    Ok(())
}
