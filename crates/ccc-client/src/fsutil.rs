//! Crash-safe JSON files. The atomic write itself is `agentos_rollup::write_atomic` (temp
//! file in the same directory, fsync, rename, fsync of the directory); this module maps its
//! error and adds JSON encoding and decoding.

use camino::Utf8Path;

use crate::Error;

/// Write `bytes` to `path` atomically: readers see the old file or the whole new one. Temp
/// files are dot-files in the same directory (see [`is_temp_name`]).
pub(crate) fn write_atomic(path: &Utf8Path, bytes: &[u8]) -> Result<(), Error> {
    agentos_rollup::write_atomic(path, bytes).map_err(|e| match e {
        agentos_rollup::Error::Write { path, source } => {
            Error::Io { action: "write", path, source }
        }
        other => Error::Rollup(other),
    })
}

/// Whether a directory entry is a temp file left by [`write_atomic`] (or any other dot-file
/// that is not data): `agentos_rollup::write_atomic` names them `.<name>.tmp.<pid>.<n>`.
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name != ".lock"
}

/// Serialize `value` as pretty JSON with a trailing newline and write it atomically.
pub(crate) fn write_json_atomic<T: serde::Serialize>(
    path: &Utf8Path,
    value: &T,
    what: &'static str,
) -> Result<(), Error> {
    let mut bytes =
        serde_json::to_vec_pretty(value).map_err(|source| Error::Encode { what, source })?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Read and parse a JSON file; `Ok(None)` when it does not exist.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    path: &Utf8Path,
) -> Result<Option<T>, Error> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::Corrupt { path: path.to_owned(), message: e.to_string() })
}
