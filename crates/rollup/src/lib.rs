//! Streaming rollups of AgentOS event logs: the numbers users act on.
//!
//! What it is for: [`summarize_files`] streams one or more `events.jsonl` files (both cores,
//! bounded memory) into a [`MetricsSummary`] with the Python reference's keys, numbers and null
//! rules plus the v1 additions (period, features by status, usage and cost by model and
//! provider, outcomes, value per model, capacity alerts, diagnostics count). Alongside it come
//! per-session and per-day breakdowns for reports ([`Rollup`]), the per-provider efficiency
//! estimator over `windows.jsonl` ([`efficiency`]), churn of feature-tagged git commits
//! ([`churn`]), cost per shipped feature by model from sessions and their repositories' git
//! history ([`features`]), the dated `progress.log.md` and `trend.json` ([`progress`]), and the
//! per-session window record the recorder appends to `windows.jsonl` ([`SessionWindow`]), and
//! usage reports — tokens and priced cost by day, ISO week, month or session in a time zone
//! ([`usage`]).
//! An event counts once by its `event_id` whatever the files repeat; [`summarize_incremental`]
//! resumes from a checkpoint and reads only what was appended since the last run.
//! Every definition is written down in `docs/metrics.md`.
//!
//! What it is not: it records nothing (that is `agentos-ccc-client`), uploads nothing and
//! makes no privacy decisions. It never panics on input: a malformed or schema-invalid line is
//! skipped and reported as a [`Diagnostic`] (`file:line: what is wrong`), or, with
//! [`SummaryOptions::strict`], turned into [`Error::InvalidLine`].
//!
//! ```no_run
//! use agentos_rollup::{summarize_files, write_summary, SummaryOptions};
//! use camino::Utf8PathBuf;
//! let rollup = summarize_files(&[Utf8PathBuf::from("events.jsonl")], &SummaryOptions::default())?;
//! for d in &rollup.diagnostics {
//!     eprintln!("{d}");
//! }
//! write_summary(&rollup.summary, "metrics_summary.json".as_ref())?;
//! # Ok::<(), agentos_rollup::Error>(())
//! ```
#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod acc;
mod appending;
mod basefile;
mod checkpoint;
mod chunks;
pub mod churn;
mod codec;
mod dedupe;
pub mod efficiency;
pub mod features;
mod fsio;
#[doc(hidden)]
pub mod fuzzing;
mod gitrun;
mod health;
mod idsfile;
mod lines;
pub mod model_trend;
pub mod progress;
mod scan;
mod sessfile;
mod sessions;
mod summary;
mod tracker_windows;
mod tsfast;
mod turnscan;
pub mod usage;
mod view;
pub mod window;

use camino::Utf8PathBuf;

pub use acc::MAX_MAGNITUDE;
pub use agentos_event_schema::v1::MetricsSummary;
pub use appending::{Appending, summarize_appending};
pub use checkpoint::{refresh_incremental, summarize_incremental};
pub(crate) use fsio::write_atomic;
pub use fsio::{read_summary, write_summary};
pub use health::{
    CCC_WATCH_FILE, MAX_USAGE_JSON, WatchPoint, health_notes, health_state, read_model_health,
    read_watch_health, watch_history,
};
pub use summary::{
    Diagnostic, MAX_KEPT_DIAGNOSTICS, Refresh, Rollup, Row, SessionRow, SummaryOptions,
    summarize_files, summarize_reader,
};
pub use window::{SessionWindow, window_record};

/// Where, relative to the data dir, the rollup keeps its checkpoint (see
/// [`summarize_incremental`]).
pub const CHECKPOINT_FILE: &str = "state/rollup_checkpoint.bin";

/// The weekly-capacity line: a provider at or above this fraction of its weekly capacity is
/// flagged (the PRD's 10-percentage-point buffer).
pub const WEEKLY_BUFFER_LINE: f64 = 0.90;

/// What to tell the user when a provider crossed [`WEEKLY_BUFFER_LINE`].
pub const CAPACITY_ADVICE: &str =
    "stop scheduling new windows: weekly use is within the 10-point buffer";

/// Everything that can go wrong in a rollup.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input file exists but could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: Utf8PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An output file could not be written.
    #[error("cannot write {path}: {source} (check that the directory exists and is writable)")]
    Write {
        /// The file.
        path: Utf8PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line is malformed or schema-invalid and strict mode is on.
    #[error(
        "{file}:{line}: {message} (fix or remove the line; strict mode stops at the first bad one)"
    )]
    InvalidLine {
        /// The file.
        file: Utf8PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A value could not be turned into JSON (internal).
    #[error("cannot encode {what} as json: {source}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// The serde error.
        source: serde_json::Error,
    },
    /// An input file is not what it should be (too large, not JSON, missing a key).
    #[error("{path} is not a valid {what}: {message}")]
    Input {
        /// The file.
        path: Utf8PathBuf,
        /// What it should be.
        what: &'static str,
        /// Why it is not.
        message: String,
    },
    /// An existing output file (e.g. `trend.json`) is not what this crate writes.
    #[error("{path} is not a valid {what}: {message} (move it aside and re-run)")]
    Corrupt {
        /// The file.
        path: Utf8PathBuf,
        /// What it should be.
        what: &'static str,
        /// Why it is not.
        message: String,
    },
    /// `git` could not be run or failed.
    #[error("git failed in {repo}: {message}")]
    Git {
        /// The repository.
        repo: Utf8PathBuf,
        /// What went wrong (git's own message).
        message: String,
    },
    /// A worker thread failed (internal; should not happen).
    #[error("internal error: {0}")]
    Internal(String),
}

#[cfg(test)]
mod tests;
