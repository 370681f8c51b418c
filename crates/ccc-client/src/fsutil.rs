//! Crash-safe JSON files through `agentos-fsio` (temp file in the same directory, fsync,
//! rename, fsync of the directory; reads capped at [`MAX_JSON_FILE`]), with this crate's
//! errors.

use camino::Utf8Path;

use crate::Error;

pub(crate) use agentos_fsio::is_temp_name;

/// The largest JSON file (state, watermark, queued event, batch) this crate reads: far above
/// what it writes (a batch holds at most `BATCH_MAX_EVENTS` capped events), so only a damaged
/// or foreign file is refused.
pub(crate) const MAX_JSON_FILE: u64 = 256 * 1024 * 1024;

fn ours(e: agentos_fsio::Error, file: &Utf8Path) -> Error {
    match e {
        agentos_fsio::Error::Io { action, path, source } => Error::Io { action, path, source },
        agentos_fsio::Error::Encode { what, source } => Error::Encode { what, source },
        agentos_fsio::Error::Corrupt { path, message } => Error::Corrupt { path, message },
        agentos_fsio::Error::TooLarge { path, limit } => {
            Error::Corrupt { path, message: format!("larger than {limit} bytes") }
        }
        agentos_fsio::Error::NotRegular { path, what } => Error::Io {
            action: "read",
            path,
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{what}, not a regular file"),
            ),
        },
        other => {
            Error::Io { action: "use", path: file.to_owned(), source: std::io::Error::other(other) }
        }
    }
}

/// Serialize `value` as pretty JSON with a trailing newline and write it atomically.
pub(crate) fn write_json_atomic<T: serde::Serialize>(
    path: &Utf8Path,
    value: &T,
    what: &'static str,
) -> Result<(), Error> {
    agentos_fsio::write_json_atomic(path, value, what).map_err(|e| ours(e, path))
}

/// Read and parse a JSON file of at most [`MAX_JSON_FILE`] bytes; `Ok(None)` when it does not
/// exist.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    path: &Utf8Path,
) -> Result<Option<T>, Error> {
    agentos_fsio::read_json(path, MAX_JSON_FILE).map_err(|e| ours(e, path))
}

/// Write `bytes` atomically (temp file, fsync, rename, fsync of the directory).
pub(crate) fn write_atomic(path: &Utf8Path, bytes: &[u8]) -> Result<(), Error> {
    agentos_fsio::write_atomic(path, bytes).map_err(|e| ours(e, path))
}

/// The bytes of a file of at most [`MAX_JSON_FILE`] bytes; `Ok(None)` when it does not exist.
pub(crate) fn read_bounded(path: &Utf8Path) -> Result<Option<Vec<u8>>, Error> {
    agentos_fsio::read_bounded(path, MAX_JSON_FILE).map_err(|e| ours(e, path))
}
