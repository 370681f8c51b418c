//! The tracker's data directory (reference §7.2): its file names, where it lives, and the
//! errors reading and writing it can meet. `append.rs` writes rows, `read.rs` reads them back,
//! `pyjson.rs` lays a row out as Python's `json.dumps` does.
//!
//! Layout: `snapshots.jsonl`, `windows.jsonl`, `glm_counts.jsonl`, `codex_ccusage.jsonl`,
//! `claude_monitor.jsonl`, `proxy_telemetry.jsonl`, `churn.jsonl`, `anomalies.jsonl` at the
//! directory's top level (the Python layout, so an existing `data/week0/live` works as it is),
//! the alias state in `state/{provider}.json`, and one hidden lock file per data file
//! (`.snapshots.jsonl.lock`) that serialises appends and rewrites.

mod append;
mod ordered;
mod pyjson;
mod read;

use camino::{Utf8Path, Utf8PathBuf};

pub use append::{Stamped, append_row, encode_line, rewrite_without_line, write_state_atomic};
pub use ordered::OrderedValue;
pub(crate) use pyjson::to_py_json_pretty;
#[cfg(test)]
pub(crate) use pyjson::{py_float_repr, to_py_json};
#[doc(hidden)]
pub use read::read_rows_from;
pub use read::{Corrupt, Loaded, MAX_LINE_BYTES, Row, read_rows};

/// A row's fields: the Python tracker's dict, as the readers of [`crate::preview`],
/// [`crate::advise`] and [`crate::tracker_churn`] take them ([`Row::value`]).
pub type Fields = serde_json::Map<String, serde_json::Value>;

/// `schema_version` stamped on every row that lacks one (the Python tracker's value).
pub const SCHEMA_VERSION: &str = "1.0.0";
/// `tool_version` stamped on every row that lacks one (the Python tracker's value, kept so
/// both tools' rows read alike).
pub const TOOL_VERSION: &str = "0.1.0";
/// The alias state's directory inside the tracker directory.
pub const STATE_DIR: &str = "state";
/// The tracker directory inside AgentOS's data dir: its own directory, so the tracker's
/// `windows.jsonl` / `glm_counts.jsonl` never meet the recorder's files of the same names
/// (reference §9.21).
pub const TRACKER_SUBDIR: &str = "tracker";

/// One of the tracker's append-only files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrackerFile {
    /// `snapshots.jsonl`: Codex/Claude meter snapshots (ingest, override, alias).
    Snapshots,
    /// `windows.jsonl`: finalized windows.
    Windows,
    /// `glm_counts.jsonl`: GLM prompt counts (ingest glm, alias glm end/cross).
    GlmCounts,
    /// `codex_ccusage.jsonl`: Codex ccusage summaries.
    CodexCcusage,
    /// `claude_monitor.jsonl`: claude-monitor summaries.
    ClaudeMonitor,
    /// `proxy_telemetry.jsonl`: proxy telemetry summaries.
    ProxyTelemetry,
    /// `churn.jsonl`: churn records.
    Churn,
    /// `anomalies.jsonl`: negative deltas seen at finalize.
    Anomalies,
}

impl TrackerFile {
    /// Every file, in the reference's table order.
    pub const ALL: [TrackerFile; 8] = [
        TrackerFile::Snapshots,
        TrackerFile::Windows,
        TrackerFile::GlmCounts,
        TrackerFile::CodexCcusage,
        TrackerFile::ClaudeMonitor,
        TrackerFile::ProxyTelemetry,
        TrackerFile::Churn,
        TrackerFile::Anomalies,
    ];

    /// The file's name.
    pub fn file_name(self) -> &'static str {
        match self {
            TrackerFile::Snapshots => "snapshots.jsonl",
            TrackerFile::Windows => "windows.jsonl",
            TrackerFile::GlmCounts => "glm_counts.jsonl",
            TrackerFile::CodexCcusage => "codex_ccusage.jsonl",
            TrackerFile::ClaudeMonitor => "claude_monitor.jsonl",
            TrackerFile::ProxyTelemetry => "proxy_telemetry.jsonl",
            TrackerFile::Churn => "churn.jsonl",
            TrackerFile::Anomalies => "anomalies.jsonl",
        }
    }
}

/// A tracker directory: the files of [`TrackerFile`] at its top level, `state/` for the alias
/// state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerDir {
    root: Utf8PathBuf,
}

impl TrackerDir {
    /// The tracker directory `root` itself (the Python layout: files at its top level).
    pub fn new(root: impl Into<Utf8PathBuf>) -> TrackerDir {
        TrackerDir { root: root.into() }
    }

    /// The tracker directory of an AgentOS data dir: `<data_dir>/tracker`.
    pub fn in_data_dir(data_dir: &Utf8Path) -> TrackerDir {
        TrackerDir::new(data_dir.join(TRACKER_SUBDIR))
    }

    /// The directory.
    pub fn root(&self) -> &Utf8Path {
        &self.root
    }

    /// The path of one of its files.
    pub fn path(&self, file: TrackerFile) -> Utf8PathBuf {
        self.root.join(file.file_name())
    }

    /// The default alias state directory, `<root>/state`.
    pub fn state_dir(&self) -> Utf8PathBuf {
        self.root.join(STATE_DIR)
    }

    /// Read `file`'s rows (only those of `window` when given), sorted as the reference does.
    ///
    /// # Errors
    /// [`Error::Io`] when the file exists but cannot be read.
    pub fn load(&self, file: TrackerFile, window: Option<&str>) -> Result<Loaded, Error> {
        read_rows(&self.path(file), window)
    }

    /// Append one row to `file` (stamped, one whole line, under the file's lock, synced).
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Encode`].
    pub fn append<T: serde::Serialize>(&self, file: TrackerFile, row: &T) -> Result<(), Error> {
        append_row(&self.path(file), row)
    }
}

/// Why the store could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read, written, locked or created.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done (`open`, `lock`, `write`, `read`).
        action: &'static str,
        /// The path.
        path: Utf8PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A row could not be encoded as JSON.
    #[error("cannot encode a row for {path} as json: {source}")]
    Encode {
        /// The file it was meant for.
        path: Utf8PathBuf,
        /// The serde error.
        source: serde_json::Error,
    },
    /// An atomic rewrite failed.
    #[error(transparent)]
    Rewrite(#[from] agentos_fsio::Error),
}

impl Error {
    pub(crate) fn io(action: &'static str, path: &Utf8Path, source: std::io::Error) -> Error {
        Error::Io { action, path: path.to_owned(), source }
    }
}

/// The current time as Python's `datetime.now(timezone.utc).isoformat()` writes it:
/// `2025-10-19T01:30:16.269901+00:00` (microseconds left out when they are zero).
pub fn now_iso() -> String {
    iso_of(jiff::Timestamp::now())
}

/// `ts` in the format of [`now_iso`].
pub fn iso_of(ts: jiff::Timestamp) -> String {
    let dt = ts.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    let micros = dt.subsec_nanosecond() / 1000;
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if micros == 0 { format!("{base}+00:00") } else { format!("{base}.{micros:06}+00:00") }
}

/// The stable id of a snapshot: the lower-case hex SHA-256 of `provider`, `window`,
/// `captured_at` and `raw_text`, each of the first three followed by a NUL byte (none of
/// them can hold one, so the parts cannot run into each other). The same row written twice
/// (a retried append, a copied file) has the same id.
pub fn snapshot_id(provider: &str, window: &str, captured_at: &str, raw_text: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [provider, window, captured_at] {
        ctx.update(part.as_bytes());
        ctx.update(&[0]);
    }
    ctx.update(raw_text.as_bytes());
    ctx.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect()
}
