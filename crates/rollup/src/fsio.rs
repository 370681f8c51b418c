//! Atomic file writes and canonical (sorted-key) JSON.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use agentos_event_schema::v1::MetricsSummary;
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::Value as Json;

use crate::Error;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Write `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename
/// over `path`, then fsync of the directory (best effort). Creates the parent directory.
pub fn write_atomic(path: &Utf8Path, bytes: &[u8]) -> Result<(), Error> {
    let err = |source| Error::Write { path: path.to_owned(), source };
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
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
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

/// Sort every object's keys (whatever map type serde_json was built with).
pub(crate) fn sorted(value: Json) -> Json {
    match value {
        Json::Object(map) => {
            let mut entries: Vec<(String, Json)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Json::Array(items) => Json::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Pretty JSON with sorted keys and a trailing newline.
pub(crate) fn canonical_json<T: serde::Serialize>(
    value: &T,
    what: &'static str,
) -> Result<Vec<u8>, Error> {
    let json = serde_json::to_value(value).map_err(|source| Error::Encode { what, source })?;
    let mut out = serde_json::to_vec_pretty(&sorted(json))
        .map_err(|source| Error::Encode { what, source })?;
    out.push(b'\n');
    Ok(out)
}

/// Write `metrics_summary.json` atomically (temp + fsync + rename): pretty JSON, keys sorted,
/// trailing newline, so the file is stable and diffable.
pub fn write_summary(summary: &MetricsSummary, path: &Utf8Path) -> Result<(), Error> {
    let bytes = canonical_json(summary, "metrics summary")?;
    write_atomic(path, &bytes)
}
