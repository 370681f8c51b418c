//! Canonical (sorted-key) JSON and the summary file, written atomically through `agentos-fsio`.

use agentos_event_schema::v1::{GitFeatures, MetricsSummary};
use camino::Utf8Path;
use serde_json::Value as Json;

use crate::Error;

/// Write `bytes` to `path` atomically ([`agentos_fsio::write_atomic`]: temp file in the same
/// directory, fsync, rename, fsync of the directory). Creates the parent directory.
pub(crate) fn write_atomic(path: &Utf8Path, bytes: &[u8]) -> Result<(), Error> {
    agentos_fsio::write_atomic(path, bytes).map_err(|e| match e {
        agentos_fsio::Error::Io { source, .. } => Error::Write { path: path.to_owned(), source },
        other => Error::Write { path: path.to_owned(), source: std::io::Error::other(other) },
    })
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

/// Largest summary file read back (for its `git_features`).
const MAX_SUMMARY: u64 = 64 << 20;

/// Write `metrics_summary.json` atomically (temp + fsync + rename): pretty JSON, keys sorted,
/// trailing newline, so the file is stable and diffable. A summary without `git_features`
/// keeps those of the file it replaces: a rollup of events cannot compute them (the features
/// report reads git), so they stay until the next features report.
pub fn write_summary(summary: &MetricsSummary, path: &Utf8Path) -> Result<(), Error> {
    let kept;
    let summary = match (&summary.git_features, kept_git_features(path)) {
        (None, Some(g)) => {
            kept = MetricsSummary { git_features: Some(g), ..summary.clone() };
            &kept
        }
        _ => summary,
    };
    let bytes = canonical_json(summary, "metrics summary")?;
    write_atomic(path, &bytes)
}

/// The `git_features` of the summary at `path`, if any: only that key is built (a rollup
/// writes the summary often, `session end` included).
fn kept_git_features(path: &Utf8Path) -> Option<GitFeatures> {
    #[derive(serde::Deserialize)]
    struct Kept {
        git_features: Option<GitFeatures>,
    }
    let bytes = agentos_fsio::read_bounded(path, MAX_SUMMARY).ok()??;
    serde_json::from_slice::<Kept>(&bytes).ok()?.git_features
}

/// The summary at `path`, when it is there and reads as one.
pub fn read_summary(path: &Utf8Path) -> Option<MetricsSummary> {
    let bytes = agentos_fsio::read_bounded(path, MAX_SUMMARY).ok()??;
    serde_json::from_slice(&bytes).ok()
}
