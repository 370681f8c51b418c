//! The tracker's pane parsers: what the coding agents show their users (Codex `/status`,
//! Claude `/usage`, claude-monitor), what their usage exports say (Codex ccusage, GLM prompt
//! counts) and what the routing proxy logs (telemetry), each turned into a typed result with
//! the Python tracker's field names, nulls and `errors` (reference §7.6).
//!
//! What it is for: the measurement windows (`agentos window …`) snapshot these values before and
//! after a window. The parsers do no I/O: every parser takes the text the caller read and
//! returns a value that serialises to the tracker's dict. A parser never panics; what it
//! cannot read becomes a null field plus an entry in `errors` (in order, without repeats). The
//! only failure is input larger than [`MAX_INPUT_BYTES`].
//!
//! The window commands' library half is here too: [`store`] (the tracker directory, locked
//! appends, tolerant reads), [`ingest`], [`manual`] (override), [`finalize`] with
//! [`normalize`] (grouping and deltas), [`audit`] and [`alias`] (the window state machine)
//! write the tracker's files; [`preview`], [`advise`] and [`tracker_churn`] are pure
//! functions over the rows read back.
#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod advise;
pub mod alias;
mod ansi;
pub mod audit;
pub mod ccusage;
pub mod claude_monitor;
pub mod claude_usage;
pub mod codex_status;
mod errors;
pub mod finalize;
pub mod glm_counts;
pub mod ingest;
pub mod manual;
pub mod normalize;
pub mod preview;
pub mod proxy_telemetry;
mod py;
pub mod pyfmt;
pub mod snapshot;
pub mod store;
pub mod tracker_churn;
mod window_error;

pub use ansi::strip_ansi;
pub use ccusage::{CcusageScope, CodexCcusage, parse_codex_ccusage};
pub use claude_monitor::{ClaudeMonitor, parse_claude_monitor_realtime};
pub use claude_usage::{ClaudeUsage, parse_claude_usage};
pub use codex_status::{CodexStatus, parse_codex_status};
pub use errors::Errors;
pub use glm_counts::{GlmCounts, parse_ccusage_counts};
pub use proxy_telemetry::{ProxyTelemetry, parse_proxy_telemetry_stream};
pub use window_error::WindowError;

/// The largest input a parser accepts: 64 MiB, far beyond any pane capture or export, so a
/// parse stays bounded in memory (its copies are at most a few times the input).
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// Why a parser could not run at all (what it merely could not read is in the result's
/// `errors`).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The input is larger than [`MAX_INPUT_BYTES`].
    #[error("input is {len} bytes, more than the {max} bytes a tracker parser reads")]
    TooLarge {
        /// The input's length in bytes.
        len: usize,
        /// The limit, [`MAX_INPUT_BYTES`].
        max: usize,
    },
}

/// Refuse input past [`MAX_INPUT_BYTES`].
fn check_size(text: &str) -> Result<(), Error> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(Error::TooLarge { len: text.len(), max: MAX_INPUT_BYTES });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
