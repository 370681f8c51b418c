//! The one error type of the crate.

use camino::Utf8PathBuf;

/// Everything the recorder, event log and outbox can fail with. `Display` is one lowercase
/// line saying what to do where that is knowable; it never contains the API key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done (`read`, `append to` …).
        action: &'static str,
        /// The path.
        path: Utf8PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The OTLP receiver could not listen.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file the crate wrote is not what it should be.
    #[error("{path} is corrupt: {message} (move it aside and retry)")]
    Corrupt {
        /// The file.
        path: Utf8PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A record failed schema validation and was not written.
    #[error("refusing to write an invalid {kind} record: {details}")]
    Invalid {
        /// The record kind (`event`, `window`, `glm count`).
        kind: &'static str,
        /// The violations.
        details: String,
    },
    /// A line to append contains a newline (it would become two records).
    #[error("refusing to append a record containing a newline to {path}")]
    EmbeddedNewline {
        /// The log.
        path: Utf8PathBuf,
    },
    /// No session is active.
    #[error("no active session in this data dir")]
    NoActiveSession,
    /// A session is already active (one at a time per data dir).
    #[error("session {0} is already active in this data dir (one session at a time): end it first")]
    SessionActive(String),
    /// A number of a turn is outside the v1 limits; nothing was written.
    #[error("refusing to write an invalid event: {0}")]
    OutOfRange(#[from] agentos_event_schema::v1::limits::Violation),
    /// A session id outside the safe alphabet; nothing was written.
    #[error("invalid session id: {0}")]
    SessionId(#[from] agentos_event_schema::v1::limits::BadSessionId),
    /// The configuration is unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The CCC base URL is not `http(s)://` followed by a host.
    #[error(
        "invalid configuration: CCC base URL {0:?} must be http:// or https:// followed by a host (set AGENTOS_CCC_BASE_URL)"
    )]
    BaseUrl(String),
    /// The license does not allow uploads in this tier.
    #[error("uploads denied: {0}")]
    License(#[from] agentos_licensing::Error),
    /// The metrics engine ([`crate::Metrics`]) failed.
    #[error("metrics rollup failed: {0}")]
    Metrics(#[source] crate::MetricsError),
    /// A value could not be encoded as JSON (internal).
    #[error("cannot encode {what} as json: {source}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// The serde error.
        source: serde_json::Error,
    },
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: &camino::Utf8Path,
        source: std::io::Error,
    ) -> Self {
        Error::Io { action, path: path.to_owned(), source }
    }
}
