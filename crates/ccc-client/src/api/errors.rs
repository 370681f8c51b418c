//! The typed errors of the read API ([`ApiError`]): what went wrong talking to CCC, in CCC's
//! terms. Texts never contain the API key and never name a command (the CLI adds hints).

use std::time::Duration;

/// Why a read from CCC failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// Nothing answered at the URL (connection refused, host not found, connection dropped).
    #[error("CCC is unreachable at {url}: {reason}")]
    Unreachable {
        /// The URL asked (never holds the API key).
        url: String,
        /// The transport error, short.
        reason: String,
    },
    /// No complete answer within the timeout.
    #[error("CCC did not answer {url} within {}", secs(*after))]
    Timeout {
        /// The URL asked.
        url: String,
        /// The timeout that ran out.
        after: Duration,
    },
    /// CCC answered with a status this endpoint does not return on success.
    #[error("CCC answered HTTP {status} to {url}: {excerpt}")]
    Status {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The first 200 characters of the body, API key removed.
        excerpt: String,
    },
    /// The body is not the document CCC sends (garbage, truncated, a wrong type).
    #[error("CCC sent a malformed body for {url} at {pointer}: {message}")]
    Malformed {
        /// The URL asked.
        url: String,
        /// JSON pointer of the value that failed (`""` is the whole document).
        pointer: String,
        /// What was wrong.
        message: String,
    },
    /// The body is larger than this client reads.
    #[error("CCC sent more than {limit} bytes for {url}; refusing to read it")]
    TooLarge {
        /// The URL asked.
        url: String,
        /// The cap, in bytes.
        limit: u64,
    },
    /// `/v1/usage/samples` or `/v1/usage/rollups` answered 404: CCC runs without its SQLite
    /// store (`CCP_PERSIST` off), so it keeps no per-request history.
    #[error("CCC keeps no history at {url}: persistence is disabled (CCP_PERSIST is off)")]
    PersistenceDisabled {
        /// The URL asked.
        url: String,
    },
    /// Plain `http://` to a host that is not loopback, not allowed: nothing was sent.
    #[error("CCC: {0}")]
    Cleartext(agentos_transport::UrlError),
    /// The base URL is not `http(s)://host…`.
    #[error("CCC base URL {0:?} must be http:// or https:// followed by a host")]
    BaseUrl(String),
}

impl ApiError {
    /// Whether CCC could not be reached at all (down, or no answer in time): the cases where
    /// a caller says "CCC is down" rather than "CCC misbehaved".
    pub fn is_down(&self) -> bool {
        matches!(self, ApiError::Unreachable { .. } | ApiError::Timeout { .. })
    }
}

fn secs(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}
