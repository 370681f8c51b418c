//! The crate's error type: what can stop an import as a whole. A single unreadable or
//! malformed source file never does; it is reported in the [`crate::Report`] and skipped.

use camino::Utf8PathBuf;

/// Why an import could not run or could not record its progress.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory of the import's own state could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done (`read`, `write`, `lock` …).
        action: &'static str,
        /// The path.
        path: Utf8PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The import's own state is damaged or from an unknown version: `path` is the file, or
    /// the state directory when the file cannot be removed alone. Removing it makes the next
    /// import read everything again; the events it writes then carry the same ids, so nothing
    /// is counted twice.
    #[error("the import state {path} is damaged ({reason}); remove it to read all sources again")]
    State {
        /// The file, or the state directory.
        path: Utf8PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Building an event failed (a bug: events are built from checked numbers).
    #[error("cannot encode an imported event: {0}")]
    Encode(#[from] serde_json::Error),
    /// A state file could not be read or written atomically.
    #[error(transparent)]
    Fsio(#[from] agentos_fsio::Error),
    /// A source directory given explicitly cannot be read.
    #[error("cannot read the source directory {path}: {source}")]
    SourceDir {
        /// The path given.
        path: Utf8PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A source line could not be used and the run was asked to be strict about it.
    #[error("{line}")]
    BadLine {
        /// `file:line: reason` (never the line's text).
        line: String,
    },
    /// A source directory given explicitly is not a directory.
    #[error("{path} is not a directory")]
    NotADirectory {
        /// The path given.
        path: Utf8PathBuf,
    },
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<Utf8PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io { action, path: path.into(), source }
    }
}
