//! The only code in AgentOS that speaks HTTP to CCC or an OpenTelemetry collector: one `POST`
//! per outbox batch, under the shared transport policy (`agentos-transport`: no plain
//! `http://` to another machine unless allowed, timeouts, no redirects, no proxy).

use std::fmt;
use std::io::Read;
use std::time::Duration;

use agentos_transport::{Cleartext, Limits, caps, check_url};
use serde::{Deserialize, Serialize};

/// Largest response body kept (for dead letters and error messages): an excerpt.
const MAX_RESPONSE_BODY: u64 = caps::SMALL;
/// Longest `Retry-After` honoured; longer values are capped.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Connect and whole-request timeouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect timeout.
    pub connect: Duration,
    /// Whole request (connect, send, receive) timeout.
    pub total: Duration,
}

impl Default for Timeouts {
    /// The shared defaults ([`agentos_transport::DEFAULT_CONNECT`], `DEFAULT_TOTAL`).
    fn default() -> Self {
        let Limits { connect, total } = Limits::default();
        Timeouts { connect, total }
    }
}

/// Posts outbox batches to CCC. Holds the API key; its `Debug` never shows it.
#[derive(Clone)]
pub struct Sender {
    agent: ureq::Agent,
    base_url: String,
    api_key: Option<String>,
    /// More request headers (OTLP: `OTEL_EXPORTER_OTLP_HEADERS`); values are secrets.
    headers: Vec<(String, String)>,
    /// Who is at the other end, in messages.
    peer: &'static str,
    /// Whether plain `http://` may go to another machine.
    cleartext: Cleartext,
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("headers", &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Why a delivery attempt did not succeed, as the outbox acts on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// Connection refused, DNS failure, timeout, dropped connection: kept, retried later.
    Unreachable,
    /// 5xx (or 408): kept, retried later.
    ServerError,
    /// 429: kept, retried after `Retry-After`.
    RateLimited,
    /// 401/403: kept; the API key is missing or wrong.
    Auth,
    /// 404/405: kept; this CCC has no ingest endpoint.
    NotAccepting,
    /// A redirect: kept; the base URL is probably wrong.
    Redirect,
    /// Plain `http://` to another machine, not allowed: kept, nothing was sent.
    Cleartext,
    /// Any other 4xx: the batch is moved to the dead-letter directory.
    Rejected,
}

impl ProblemKind {
    /// Whether the batch stays in the outbox (everything but [`ProblemKind::Rejected`]).
    pub fn keeps_batch(self) -> bool {
        self != ProblemKind::Rejected
    }
}

/// The result of one `POST`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// 2xx.
    Delivered {
        /// The status code.
        status: u16,
    },
    /// Anything else.
    Failed(Failure),
}

/// A failed attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// How the outbox treats it.
    pub kind: ProblemKind,
    /// One line for the user (never contains the API key).
    pub message: String,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// The response body (truncated), when a response arrived.
    pub body: Option<String>,
    /// The server's `Retry-After`, when given.
    pub retry_after: Option<Duration>,
}

impl Sender {
    /// A sender for `base_url` (no trailing `/`) with the given timeouts.
    pub fn new(base_url: &str, api_key: Option<String>, timeouts: Timeouts) -> Self {
        let agent =
            agentos_transport::agent(Limits { connect: timeouts.connect, total: timeouts.total });
        Sender {
            agent,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            headers: Vec::new(),
            peer: "CCC",
            cleartext: Cleartext::LoopbackOnly,
        }
    }

    /// Whether plain `http://` may go to another machine (by default only to loopback: the
    /// key and the uploads would travel unencrypted).
    pub fn with_cleartext(mut self, cleartext: Cleartext) -> Self {
        self.cleartext = cleartext;
        self
    }

    /// A sender for an OTLP/HTTP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`: the signal paths
    /// `/v1/logs`, `/v1/metrics` are appended), with extra headers whose values are treated as
    /// secrets (never in a message, a state file or a `Debug` output).
    pub fn otlp(endpoint: &str, headers: Vec<(String, String)>, timeouts: Timeouts) -> Self {
        Sender { headers, peer: "OTLP collector", ..Sender::new(endpoint, None, timeouts) }
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `text` with every occurrence of the API key replaced by `<redacted>`.
    fn scrub(&self, text: &str) -> String {
        let mut text = scrub(self.api_key.as_deref(), text);
        for (_, value) in &self.headers {
            text = scrub(Some(value.trim()), &text);
        }
        text
    }

    /// The longest secret, so a cut body keeps room to scrub one straddling the cut.
    fn longest_secret(&self) -> usize {
        let key = self.api_key.as_deref().map_or(0, str::len);
        self.headers.iter().map(|(_, v)| v.len()).fold(key, usize::max)
    }

    /// `POST {base}{route}` with a JSON body and the batch's idempotency key.
    pub fn post(&self, route: &str, idempotency_key: &str, body: &[u8]) -> Attempt {
        let url = format!("{}{route}", self.base_url);
        // Before any socket: the key and the batch never leave in clear for another machine.
        if let Err(e) = check_url(&url, self.cleartext) {
            return Attempt::Failed(Failure {
                kind: ProblemKind::Cleartext,
                message: format!("{}: {e}; uploads stay queued", self.peer),
                status: None,
                body: None,
                retry_after: None,
            });
        }
        let mut req = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", idempotency_key);
        if let Some(key) = &self.api_key {
            req = req.header("Authorization", format!("Bearer {key}"));
        }
        for (name, value) in &self.headers {
            req = req.header(name.as_str(), value.as_str());
        }
        let mut resp = match req.send(body) {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Failed(Failure {
                    kind: ProblemKind::Unreachable,
                    message: format!(
                        "{} at {} is unreachable: {}",
                        self.peer,
                        self.base_url,
                        self.scrub(&transport(&e))
                    ),
                    status: None,
                    body: None,
                    retry_after: None,
                });
            }
        };
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Attempt::Delivered { status };
        }
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let location =
            resp.headers().get("location").and_then(|v| v.to_str().ok()).map(|l| self.scrub(l));
        let mut text = Vec::new();
        // The body ends up in messages, `state.json` and dead letters: a server that echoes
        // the request must not get the API key written to disk. Scrub before cutting to the
        // limit: read a key's length past it, so a key straddling the limit is still whole
        // when scrubbed (cutting first would keep its first half).
        let key_len = self.longest_secret() as u64;
        // Best effort: the body only explains the failure; a short read keeps what arrived.
        let _ = resp
            .body_mut()
            .as_reader()
            .take(MAX_RESPONSE_BODY.saturating_add(key_len))
            .read_to_end(&mut text);
        let body = truncate_to(self.scrub(&String::from_utf8_lossy(&text)), MAX_RESPONSE_BODY);
        let snippet: String = body.trim().chars().take(200).collect();
        let (kind, message) = match status {
            401 | 403 => (
                ProblemKind::Auth,
                match self.peer {
                    "CCC" => format!(
                        "CCC refused the credentials (HTTP {status}): set CCC_API_KEY to a valid key; uploads stay queued"
                    ),
                    peer => format!(
                        "{peer} refused the credentials (HTTP {status}): check the headers in OTEL_EXPORTER_OTLP_HEADERS; exports stay queued"
                    ),
                },
            ),
            404 | 405 => (
                ProblemKind::NotAccepting,
                format!(
                    "this {} does not accept uploads (HTTP {status} on POST {route}); uploads stay queued until it does",
                    self.peer
                ),
            ),
            429 => (
                ProblemKind::RateLimited,
                format!("{} is rate limiting (HTTP 429); retrying later", self.peer),
            ),
            408 | 500..=599 => (
                ProblemKind::ServerError,
                format!("{} failed (HTTP {status}: {snippet}); retrying later", self.peer),
            ),
            300..=399 => (
                ProblemKind::Redirect,
                format!(
                    "{} answered with a redirect (HTTP {status} to {}): check {}; uploads stay queued",
                    self.peer,
                    location.as_deref().unwrap_or("?"),
                    if self.peer == "CCC" { "AGENTOS_CCC_BASE_URL" } else { "the endpoint" }
                ),
            ),
            _ => (
                ProblemKind::Rejected,
                format!(
                    "{} rejected the upload (HTTP {status}: {snippet}); moved to the dead-letter directory",
                    self.peer
                ),
            ),
        };
        Attempt::Failed(Failure {
            kind,
            message,
            status: Some(status),
            body: Some(body),
            retry_after,
        })
    }
}

/// `text` with every occurrence of `key` replaced by `<redacted>`.
pub(crate) fn scrub(key: Option<&str>, text: &str) -> String {
    match key.filter(|k| !k.is_empty()) {
        Some(key) => text.replace(key, "<redacted>"),
        None => text.to_owned(),
    }
}

/// `text` cut to at most `max` bytes, at a character boundary.
pub(crate) fn truncate_to(mut text: String, max: u64) -> String {
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    if text.len() > max {
        let cut = (0..=max).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        text.truncate(cut);
    }
    text
}

/// A transport error in a few words.
pub(crate) fn transport(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        ureq::Error::HostNotFound => "host not found".to_owned(),
        ureq::Error::ConnectionFailed => "connection failed".to_owned(),
        ureq::Error::Io(io) => format!("{io}"),
        other => other.to_string(),
    }
}

/// Parse a `Retry-After` value: delta-seconds or an HTTP date. Capped at 24 hours.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    let d = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let when = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
        let now = jiff::Timestamp::now();
        let secs = when.as_second().saturating_sub(now.as_second());
        Duration::from_secs(u64::try_from(secs).unwrap_or(0))
    };
    Some(d.min(MAX_RETRY_AFTER))
}
