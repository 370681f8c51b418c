//! Crash-safe file helpers shared by the AgentOS crates: atomic writes and bounded JSON reads.
//!
//! What it is for: [`write_atomic`] (temp dot-file in the same directory, fsync, rename,
//! fsync of the directory: readers see the old file or the whole new one),
//! [`write_json_atomic`] (pretty JSON with a trailing newline, written that way),
//! [`read_json`] / [`read_bounded`] (a missing file is `None`, a file over the cap is refused
//! without being read), [`is_temp_name`] (the temp files a crash can leave behind).
//!
//! What it is not: it knows no AgentOS types and does no locking (append-only logs lock in
//! `agentos-ccc-client`).
#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use camino::{Utf8Path, Utf8PathBuf};

/// What a file operation can fail with. `Display` is one lowercase line naming the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The path names a directory, FIFO, socket or device, not a regular file; it was not
    /// opened (opening a FIFO for reading would block until a writer appears).
    #[error("cannot read {path}: {what}, not a regular file")]
    NotRegular {
        /// The path.
        path: Utf8PathBuf,
        /// What it is (`a directory`, `a FIFO, socket or device`).
        what: &'static str,
    },
    /// A file or directory could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done (`read`, `write`).
        action: &'static str,
        /// The path.
        path: Utf8PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is larger than the reader allows; it was not read.
    #[error("{path} is larger than {limit} bytes")]
    TooLarge {
        /// The file.
        path: Utf8PathBuf,
        /// The cap, in bytes.
        limit: u64,
    },
    /// A file is not the JSON it should be.
    #[error("{path} is not valid json: {message}")]
    Corrupt {
        /// The file.
        path: Utf8PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value could not be encoded as JSON.
    #[error("cannot encode {what} as json: {source}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// The serde error.
        source: serde_json::Error,
    },
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Write `bytes` to `path` atomically: a temporary dot-file in the same directory
/// (`.<name>.tmp.<pid>.<n>`, see [`is_temp_name`]), fsync, rename over `path`, then fsync of
/// the directory (best effort). Creates the parent directory.
pub fn write_atomic(path: &Utf8Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// [`write_atomic`] with the content streamed by `write` into the temporary file (buffered),
/// for a file too large to hold in memory first. Nothing replaces `path` unless `write`
/// succeeds.
pub fn write_atomic_with(
    path: &Utf8Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    let err = |source| Error::Io { action: "write", path: path.to_owned(), source };
    let dir = match path.parent() {
        Some(d) if !d.as_str().is_empty() => d.to_owned(),
        _ => Utf8PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(err)?;
    let name = path.file_name().unwrap_or("out");
    let tmp = dir.join(format!(
        ".{name}.tmp.{}.{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
        write(&mut f)?;
        let f = f.into_inner().map_err(std::io::IntoInnerError::into_error)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Whether a directory entry is a temp file left by [`write_atomic`] (or any other dot-file
/// that is not data; `.lock` files are data).
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name != ".lock"
}

/// Serialize `value` (`what` names it in errors) as pretty JSON with a trailing newline and
/// write it atomically.
pub fn write_json_atomic<T: serde::Serialize + ?Sized>(
    path: &Utf8Path,
    value: &T,
    what: &'static str,
) -> Result<(), Error> {
    let mut bytes =
        serde_json::to_vec_pretty(value).map_err(|source| Error::Encode { what, source })?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// The bytes of `path`, `Ok(None)` when it does not exist; [`Error::TooLarge`] (nothing held)
/// when it is larger than `limit` bytes; [`Error::NotRegular`] (never opened) for a directory,
/// FIFO, socket or device.
pub fn read_bounded(path: &Utf8Path, limit: u64) -> Result<Option<Vec<u8>>, Error> {
    let io = |source| Error::Io { action: "read", path: path.to_owned(), source };
    // Checked before opening (a FIFO would block the open) and again on the opened handle
    // (a file swapped in between is not read).
    match std::fs::metadata(path) {
        Ok(meta) => require_regular(path, &meta)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    }
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    require_regular(path, &file.metadata().map_err(io)?)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge { path: path.to_owned(), limit });
    }
    Ok(Some(bytes))
}

fn require_regular(path: &Utf8Path, meta: &std::fs::Metadata) -> Result<(), Error> {
    if meta.is_file() {
        return Ok(());
    }
    let what = if meta.is_dir() { "a directory" } else { "a FIFO, socket or device" };
    Err(Error::NotRegular { path: path.to_owned(), what })
}

/// Read and parse a JSON file of at most `limit` bytes; `Ok(None)` when it does not exist.
pub fn read_json<T: serde::de::DeserializeOwned>(
    path: &Utf8Path,
    limit: u64,
) -> Result<Option<T>, Error> {
    let Some(bytes) = read_bounded(path, limit)? else { return Ok(None) };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::Corrupt { path: path.to_owned(), message: e.to_string() })
}

#[cfg(test)]
mod tests;
