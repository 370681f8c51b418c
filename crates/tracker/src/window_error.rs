//! Why a window command (`ingest`, `override`, `finalize`, `audit`, `alias`) did not do what it
//! was asked: a store that cannot be read or written, input too large, or the state of the
//! windows not allowing it (the reference's error messages, without their command hints).

use crate::store;

/// A window command's error. [`WindowError::is_refusal`] tells a negative answer (the windows'
/// state does not allow it) from a failure to read or write.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// The input could not be parsed at all (too large).
    #[error(transparent)]
    Parse(#[from] crate::Error),
    /// A Codex or Claude snapshot was asked for without a phase.
    #[error("codex/claude snapshots need a phase (before or after)")]
    PhaseRequired,
    /// A manual Codex override without a percentage.
    #[error("codex override needs the 5h and/or the weekly percentage")]
    CodexOverrideEmpty,
    /// A manual Claude override without a percentage.
    #[error("claude override needs at least one percentage")]
    ClaudeOverrideEmpty,
    /// `finalize` found no snapshot of the window.
    #[error("no snapshots found for window {window}")]
    NoSnapshots {
        /// The window.
        window: String,
    },
    /// `finalize`: these providers lack a before or an after snapshot.
    #[error("missing before/after snapshots for providers: {}", providers.join(", "))]
    MissingPhases {
        /// The providers, sorted.
        providers: Vec<String>,
    },
    /// `alias end`/`cross`: the window has no before snapshot of the provider.
    #[error("no BEFORE snapshot found for {provider} in {window}")]
    NoBefore {
        /// The provider.
        provider: String,
        /// The window.
        window: String,
    },
    /// `alias end`/`cross` for GLM without a baseline in the state.
    #[error("glm alias {action} missing baseline")]
    GlmNoBaseline {
        /// `end` or `cross`.
        action: &'static str,
    },
    /// `alias delete` with an index below 1.
    #[error("index must be >= 1")]
    IndexBelowOne,
    /// `alias delete` found nothing to delete.
    #[error("no matching snapshots to delete")]
    NothingToDelete,
    /// `alias delete` found fewer matches than the index.
    #[error("only {found} matching snapshot(s); cannot delete index {index}")]
    IndexTooLarge {
        /// How many matched.
        found: usize,
        /// The index asked for.
        index: usize,
    },
    /// `alias delete`: the row changed between reading and rewriting the file.
    #[error("the snapshot file changed while deleting; nothing was deleted, try again")]
    Raced,
}

impl WindowError {
    /// Whether this is a negative answer about the windows (exit 1 on the command line)
    /// rather than a failure to read or write (exit 2).
    pub fn is_refusal(&self) -> bool {
        !matches!(self, WindowError::Store(_) | WindowError::Parse(_))
    }
}
