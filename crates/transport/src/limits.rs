//! The limits every request gets and the one `ureq` agent configuration: connect and overall
//! timeouts ([`Limits`]), body caps ([`caps`], enforced by [`read_body`]: over the cap is an
//! error, never a silent cut), no redirects, status codes as answers, no proxy taken from the
//! environment, rustls verifying against the platform's trust store.

use std::time::Duration;

use ureq::tls::{RootCerts, TlsConfig, TlsProvider};

/// Default TCP (and TLS handshake) connect timeout of every request.
pub const DEFAULT_CONNECT: Duration = Duration::from_secs(5);
/// Default whole-request timeout (connect, send, receive the whole body).
pub const DEFAULT_TOTAL: Duration = Duration::from_secs(15);

/// The largest body read, by what the body is.
pub mod caps {
    /// An error answer, a health check, an upload's acknowledgement: read only to explain.
    pub const SMALL: u64 = 64 * 1024;
    /// A license issuer's answer (a pack is a few KiB).
    pub const ISSUER: u64 = 1024 * 1024;
    /// Prometheus text (`/metrics`).
    pub const METRICS: u64 = 16 * 1024 * 1024;
    /// A JSON document of CCC's read API (a busy week of samples stays far below it).
    pub const JSON: u64 = 64 * 1024 * 1024;
}

/// Connect and whole-request timeouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// TCP connect timeout.
    pub connect: Duration,
    /// Whole request (connect, send, receive) timeout.
    pub total: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { connect: DEFAULT_CONNECT, total: DEFAULT_TOTAL }
    }
}

/// The agent every AgentOS client uses: `limits`' timeouts (connect never longer than the
/// whole request), redirects not followed (a 3xx is an answer: following one could carry the
/// key elsewhere), HTTP error statuses returned as answers, no proxy (`HTTP_PROXY`,
/// `HTTPS_PROXY`, `ALL_PROXY` are ignored: the key goes to the configured host only), and
/// rustls verifying certificates with the platform's verifier and trust store.
pub fn agent(limits: Limits) -> ureq::Agent {
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::PlatformVerifier)
        .build();
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .tls_config(tls)
        .timeout_connect(Some(limits.connect.min(limits.total)))
        .timeout_global(Some(limits.total))
        .user_agent(concat!("agentos/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

/// Why a body could not be read whole.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The body is longer than the cap; nothing of it is returned.
    #[error("the body is larger than {limit} bytes")]
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
    /// The request's time ran out while the body arrived.
    #[error("the body did not arrive in time")]
    Timeout,
    /// The connection failed or the body was malformed on the wire.
    #[error("the body ended early ({0})")]
    Ended(String),
}

/// The whole body of `resp`, at most `cap` bytes: a longer body is [`BodyError::TooLarge`].
pub fn read_body(
    resp: &mut ureq::http::Response<ureq::Body>,
    cap: u64,
) -> Result<Vec<u8>, BodyError> {
    // ureq's limit refuses a body of exactly the limit (it reads once more to see the end).
    let limit = cap.saturating_add(1);
    resp.body_mut().with_config().limit(limit).read_to_vec().map_err(|e| match e {
        ureq::Error::BodyExceedsLimit(_) => BodyError::TooLarge { limit: cap },
        e if is_timeout(&e) => BodyError::Timeout,
        e => BodyError::Ended(e.to_string()),
    })
}

/// Whether `e` is a timeout (ureq's own, or the socket's).
pub fn is_timeout(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Timeout(_) => true,
        ureq::Error::Io(io) => {
            matches!(io.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock)
        }
        _ => false,
    }
}
