//! [`CccApi`]: the read side of CCC over ureq, one method per endpoint CCP really serves
//! (contract §2): bounded bodies, per-endpoint timeouts, typed errors, the API key sent when
//! set and never shown, and never in clear to another machine (the shared transport policy of
//! `agentos-transport`).

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agentos_event_schema::ccp::{
    QuotasResponse, ReadyzResponse, RollupsResponse, SamplesResponse, UsageResponse,
};
use agentos_transport::{BodyError, Cleartext, Limits, caps, check_url, is_timeout};
use serde::de::DeserializeOwned;

use super::errors::ApiError;
use super::prometheus::Exposition;
use crate::config::DEFAULT_BASE_URL;
use crate::http::{scrub, transport, truncate_to};

/// Largest JSON body read (samples of a busy week stay far below it).
const MAX_JSON_BODY: u64 = caps::JSON;
/// Largest `/metrics` body read.
const MAX_METRICS_BODY: u64 = caps::METRICS;
/// Largest body read for an error excerpt, `/healthz` or the reload answer.
const MAX_SMALL_BODY: u64 = caps::SMALL;
/// Characters of a body quoted in an error.
const EXCERPT_CHARS: usize = 200;

/// Timeouts of the read API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadTimeouts {
    /// TCP connect timeout.
    pub connect: Duration,
    /// Whole-request timeout of every endpoint but `/readyz`.
    pub total: Duration,
    /// CCP's timeout per provider probe in `/readyz` (2 s in CCP).
    pub readyz_probe: Duration,
    /// Slack added to the probes' time.
    pub readyz_slack: Duration,
    /// Providers assumed before `/readyz` told how many there are.
    pub readyz_providers: usize,
}

impl Default for ReadTimeouts {
    /// The shared connect and overall timeouts ([`agentos_transport::Limits`]); CCP's 2 s
    /// per `/readyz` probe.
    fn default() -> Self {
        let Limits { connect, total } = Limits::default();
        ReadTimeouts {
            connect,
            total,
            readyz_probe: Duration::from_secs(2),
            readyz_slack: Duration::from_secs(1),
            readyz_providers: 5,
        }
    }
}

impl ReadTimeouts {
    /// `/readyz` probes providers one after another, each up to `readyz_probe`: the whole
    /// call may take `providers × probe`, so the client waits `providers × probe + slack`
    /// (2·N+1 s with CCP's defaults).
    pub fn readyz(&self, providers: usize) -> Duration {
        let n = u32::try_from(providers.max(1)).unwrap_or(u32::MAX);
        self.readyz_probe.saturating_mul(n).saturating_add(self.readyz_slack)
    }
}

/// The answer of `/readyz`.
#[derive(Clone, Debug, PartialEq)]
pub struct Readiness {
    /// HTTP status (200, or 503 when the providers catalog is broken).
    pub status: u16,
    /// The body.
    pub body: ReadyzResponse,
}

impl Readiness {
    /// CCP could not load its providers catalog (HTTP 503; `body.error` says why).
    pub fn catalog_broken(&self) -> bool {
        self.status == 503
    }

    /// Providers whose probe failed (an upstream CCC cannot reach), sorted by name.
    pub fn unreachable_providers(&self) -> Vec<&str> {
        self.body.providers.iter().filter(|(_, p)| !p.ok).map(|(n, _)| n.as_str()).collect()
    }

    /// The catalog loaded and every provider answered.
    pub fn is_ready(&self) -> bool {
        !self.catalog_broken() && self.unreachable_providers().is_empty()
    }
}

/// `GET /v1/usage/samples` parameters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SamplesQuery {
    /// Epoch seconds; CCP's default is one hour ago.
    pub since: Option<f64>,
    /// Exact model name.
    pub model: Option<String>,
}

/// `GET /v1/usage/rollups` parameters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RollupsQuery {
    /// `hour` (CCP's default) or `day` (any other value is served as `day`).
    pub granularity: Option<String>,
    /// Exact model name.
    pub model: Option<String>,
    /// Epoch seconds; CCP's default is 24 hours ago.
    pub since: Option<f64>,
}

/// Reads CCC's live state. Holds the API key (sent as `Authorization: Bearer` when set; CCP
/// checks none on these endpoints); its `Debug` never shows it.
pub struct CccApi {
    agent: ureq::Agent,
    base_url: String,
    api_key: Option<String>,
    timeouts: ReadTimeouts,
    /// Whether plain `http://` may go to another machine.
    cleartext: Cleartext,
    /// Most providers `/readyz` has listed so far (0 = not asked yet).
    providers_seen: AtomicUsize,
}

impl fmt::Debug for CccApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CccApi")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeouts", &self.timeouts)
            .field("cleartext", &self.cleartext)
            .finish_non_exhaustive()
    }
}

impl CccApi {
    /// A client for `base_url` (`http(s)://host[:port]`, trailing `/` ignored). Plain
    /// `http://` goes only to loopback unless [`CccApi::with_cleartext`] allows more.
    pub fn new(
        base_url: &str,
        api_key: Option<String>,
        timeouts: ReadTimeouts,
    ) -> Result<CccApi, ApiError> {
        let base_url = crate::config::normalize_base_url(base_url)
            .map_err(|_| ApiError::BaseUrl(base_url.trim().to_owned()))?;
        let agent =
            agentos_transport::agent(Limits { connect: timeouts.connect, total: timeouts.total });
        let api_key = api_key.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty());
        Ok(CccApi {
            agent,
            base_url,
            api_key,
            timeouts,
            cleartext: Cleartext::LoopbackOnly,
            providers_seen: AtomicUsize::new(0),
        })
    }

    /// Whether plain `http://` may go to another machine (the key would travel unencrypted).
    pub fn with_cleartext(mut self, cleartext: Cleartext) -> Self {
        self.cleartext = cleartext;
        self
    }

    /// Refuse, before any socket, a URL the key may not travel to.
    fn check(&self) -> Result<(), ApiError> {
        check_url(&self.base_url, self.cleartext).map_err(ApiError::Cleartext)
    }

    /// From the environment: `AGENTOS_CCC_BASE_URL` (default `http://127.0.0.1:8082`),
    /// `CCC_API_KEY` and `AGENTOS_ALLOW_INSECURE_HTTP`.
    pub fn from_env(timeouts: ReadTimeouts) -> Result<CccApi, ApiError> {
        Self::from_vars(&|name| std::env::var(name).ok(), timeouts)
    }

    /// Like [`CccApi::from_env`] with an injected environment lookup.
    pub fn from_vars(
        var: &dyn Fn(&str) -> Option<String>,
        timeouts: ReadTimeouts,
    ) -> Result<CccApi, ApiError> {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let url = set("AGENTOS_CCC_BASE_URL").unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        Ok(CccApi::new(&url, set("CCC_API_KEY"), timeouts)?
            .with_cleartext(Cleartext::from_vars(var)))
    }

    /// The base URL, without trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The timeouts.
    pub fn timeouts(&self) -> ReadTimeouts {
        self.timeouts
    }

    /// The timeout the next `/readyz` gets: for the most providers seen so far, or
    /// [`ReadTimeouts::readyz_providers`] before the first answer.
    pub fn readyz_timeout(&self) -> Duration {
        let seen = self.providers_seen.load(Ordering::Relaxed);
        self.timeouts.readyz(if seen == 0 { self.timeouts.readyz_providers } else { seen })
    }

    /// `GET /healthz`: CCC's process is up (200).
    pub fn healthz(&self) -> Result<(), ApiError> {
        let (url, status, body) = self.get("/healthz", &[], self.timeouts.total, MAX_SMALL_BODY)?;
        match status {
            200 => Ok(()),
            _ => Err(self.status_error(url, status, &body)),
        }
    }

    /// `GET /readyz`: the providers catalog and a probe of every upstream. 503 (catalog
    /// broken) is an answer, not an error: see [`Readiness::catalog_broken`].
    pub fn readyz(&self) -> Result<Readiness, ApiError> {
        let timeout = self.readyz_timeout();
        let (url, status, body) = self.get("/readyz", &[], timeout, MAX_JSON_BODY)?;
        if status != 200 && status != 503 {
            return Err(self.status_error(url, status, &body));
        }
        let parsed: ReadyzResponse = match self.decode(&url, &body) {
            Ok(p) => p,
            // A 503 that is not CCP's JSON is some other server's error page.
            Err(_) if status == 503 => return Err(self.status_error(url, status, &body)),
            Err(e) => return Err(e),
        };
        self.providers_seen.fetch_max(parsed.providers.len(), Ordering::Relaxed);
        Ok(Readiness { status, body: parsed })
    }

    /// `GET /v1/usage`: per-model quota use and speeds since CCC started.
    pub fn usage(&self) -> Result<UsageResponse, ApiError> {
        self.get_json("/v1/usage", &[])
    }

    /// `GET /v1/quotas`: the quotas config in force and when it was loaded.
    pub fn quotas(&self) -> Result<QuotasResponse, ApiError> {
        self.get_json("/v1/quotas", &[])
    }

    /// `POST /v1/quotas/reload[?file=…]`: make CCC re-read its quotas file (204). CCC
    /// answers 400 with its reason when the file is missing or invalid.
    pub fn reload_quotas(&self, file: Option<&str>) -> Result<(), ApiError> {
        self.check()?;
        let query: Vec<(&str, String)> = file.map(|f| ("file", f.to_owned())).into_iter().collect();
        let url = self.url("/v1/quotas/reload", &query);
        let mut req = self
            .agent
            .post(format!("{}/v1/quotas/reload", self.base_url))
            .config()
            .timeout_global(Some(self.timeouts.total))
            .build();
        if let Some(key) = &self.api_key {
            req = req.header("Authorization", format!("Bearer {key}"));
        }
        for (k, v) in &query {
            req = req.query(*k, v);
        }
        let resp =
            req.send_empty().map_err(|e| self.transport_error(&url, &e, self.timeouts.total))?;
        let (status, body) = self.read_body(&url, resp, MAX_SMALL_BODY, self.timeouts.total)?;
        match status {
            200 | 204 => Ok(()),
            _ => Err(self.status_error(url, status, &body)),
        }
    }

    /// `GET /v1/usage/samples`: one row per completed request (persisted by CCC).
    pub fn samples(&self, q: &SamplesQuery) -> Result<SamplesResponse, ApiError> {
        let mut query = Vec::new();
        if let Some(s) = q.since {
            query.push(("since", epoch(s)));
        }
        if let Some(m) = &q.model {
            query.push(("model", m.clone()));
        }
        self.get_persisted("/v1/usage/samples", &query)
    }

    /// `GET /v1/usage/rollups`: hour or day rows per model (persisted by CCC).
    pub fn rollups(&self, q: &RollupsQuery) -> Result<RollupsResponse, ApiError> {
        let mut query = Vec::new();
        if let Some(g) = &q.granularity {
            query.push(("granularity", g.clone()));
        }
        if let Some(m) = &q.model {
            query.push(("model", m.clone()));
        }
        if let Some(s) = q.since {
            query.push(("since", epoch(s)));
        }
        self.get_persisted("/v1/usage/rollups", &query)
    }

    /// `GET /metrics`, parsed ([`Exposition`]).
    pub fn metrics(&self) -> Result<Exposition, ApiError> {
        let text = self.metrics_text()?;
        Exposition::parse(&text).map_err(|e| ApiError::Malformed {
            url: self.url("/metrics", &[]),
            pointer: String::new(),
            message: self.scrub_cut(&e.to_string()),
        })
    }

    /// `GET /metrics` as text.
    pub fn metrics_text(&self) -> Result<String, ApiError> {
        let (url, status, body) =
            self.get("/metrics", &[], self.timeouts.total, MAX_METRICS_BODY)?;
        if status != 200 {
            return Err(self.status_error(url, status, &body));
        }
        String::from_utf8(body).map_err(|e| ApiError::Malformed {
            url,
            pointer: String::new(),
            message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        })
    }

    fn get_persisted<T: DeserializeOwned>(
        &self,
        route: &str,
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        let (url, status, body) = self.get(route, query, self.timeouts.total, MAX_JSON_BODY)?;
        match status {
            200 => self.decode(&url, &body),
            404 => Err(ApiError::PersistenceDisabled { url }),
            _ => Err(self.status_error(url, status, &body)),
        }
    }

    fn get_json<T: DeserializeOwned>(
        &self,
        route: &str,
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        let (url, status, body) = self.get(route, query, self.timeouts.total, MAX_JSON_BODY)?;
        match status {
            200 => self.decode(&url, &body),
            _ => Err(self.status_error(url, status, &body)),
        }
    }

    /// `GET {base}{route}?query`: the URL (for errors), the status and the body.
    fn get(
        &self,
        route: &str,
        query: &[(&str, String)],
        timeout: Duration,
        cap: u64,
    ) -> Result<(String, u16, Vec<u8>), ApiError> {
        self.check()?;
        let url = self.url(route, query);
        let mut req = self
            .agent
            .get(format!("{}{route}", self.base_url))
            .config()
            .timeout_global(Some(timeout))
            .build();
        for (k, v) in query {
            req = req.query(*k, v);
        }
        if let Some(key) = &self.api_key {
            req = req.header("Authorization", format!("Bearer {key}"));
        }
        let resp = req.call().map_err(|e| self.transport_error(&url, &e, timeout))?;
        let (status, body) = self.read_body(&url, resp, cap, timeout)?;
        Ok((url, status, body))
    }

    fn read_body(
        &self,
        url: &str,
        mut resp: ureq::http::Response<ureq::Body>,
        cap: u64,
        timeout: Duration,
    ) -> Result<(u16, Vec<u8>), ApiError> {
        let status = resp.status().as_u16();
        // An error answer is read only as far as its excerpt needs.
        let cap = if (200..300).contains(&status) { cap } else { MAX_SMALL_BODY };
        match agentos_transport::read_body(&mut resp, cap) {
            Ok(body) => Ok((status, body)),
            Err(BodyError::TooLarge { limit }) if (200..300).contains(&status) => {
                Err(ApiError::TooLarge { url: url.to_owned(), limit })
            }
            // The excerpt of an oversized error page is not worth failing for.
            Err(BodyError::TooLarge { .. }) => Ok((status, Vec::new())),
            Err(BodyError::Timeout) => {
                Err(ApiError::Timeout { url: url.to_owned(), after: timeout })
            }
            Err(e) => Err(ApiError::Malformed {
                url: url.to_owned(),
                pointer: String::new(),
                message: self.scrub_cut(&e.to_string()),
            }),
        }
    }

    fn transport_error(&self, url: &str, e: &ureq::Error, timeout: Duration) -> ApiError {
        if is_timeout(e) {
            ApiError::Timeout { url: url.to_owned(), after: timeout }
        } else {
            ApiError::Unreachable { url: url.to_owned(), reason: self.scrub_cut(&transport(e)) }
        }
    }

    fn status_error(&self, url: String, status: u16, body: &[u8]) -> ApiError {
        ApiError::Status { url, status, excerpt: self.scrub_cut(&String::from_utf8_lossy(body)) }
    }

    /// Parse a JSON body, naming the failing value by JSON pointer.
    fn decode<T: DeserializeOwned>(&self, url: &str, body: &[u8]) -> Result<T, ApiError> {
        let malformed = |pointer: String, message: String| ApiError::Malformed {
            url: url.to_owned(),
            pointer,
            message: self.scrub_cut(&message),
        };
        let mut de = serde_json::Deserializer::from_slice(body);
        let value: T = serde_path_to_error::deserialize(&mut de)
            .map_err(|e| malformed(json_pointer(e.path()), e.inner().to_string()))?;
        de.end().map_err(|e| malformed(String::new(), e.to_string()))?;
        Ok(value)
    }

    /// Text for an error: API key removed, whitespace folded, cut to a short excerpt.
    fn scrub_cut(&self, text: &str) -> String {
        let scrubbed = scrub(self.api_key.as_deref(), text);
        let folded: String = scrubbed.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut cut: String = folded.chars().take(EXCERPT_CHARS).collect();
        if cut.len() < folded.len() {
            cut.push('…');
        }
        truncate_to(cut, 4 * EXCERPT_CHARS as u64)
    }

    /// The URL as shown in errors: base, route and the query (values percent-encoded).
    fn url(&self, route: &str, query: &[(&str, String)]) -> String {
        let mut url = format!("{}{route}", self.base_url);
        for (i, (k, v)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(k);
            url.push('=');
            url.push_str(&percent_encode(v));
        }
        url
    }
}

/// Epoch seconds as CCP parses them (`strconv.ParseFloat`).
fn epoch(s: f64) -> String {
    format!("{s}")
}

fn percent_encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// RFC 6901 pointer of a serde path (`""` for the document itself).
pub(crate) fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        out.push('/');
        match seg {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => out.push_str(variant),
            Segment::Unknown => out.push('?'),
        }
    }
    out
}
