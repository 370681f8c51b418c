//! Client for CCP's license issuer (`licissuer`, contract §2.10): `POST /v1/license/issue`,
//! `POST /v1/device/begin`, `POST /v1/device/poll`; plus [`bind_device`], [`login`] and
//! [`refresh`], which verify what the issuer sends before anything is installed.
//!
//! The issuer's own `pubKeyB64` is never trusted: packs are verified against the configured
//! [`KeyRing`](crate::KeyRing) only. Every request follows the shared transport policy
//! (`agentos-transport`: connect and overall timeouts, a body cap, no redirects, no proxy from
//! the environment, plain `http://` only to loopback unless allowed); polling is bounded by the
//! server's `interval`, the code's `expires_in` and [`LoginOptions::timeout`].

use std::time::{Duration, Instant};

use agentos_transport::{BodyError, Cleartext, Limits, caps, check_url};
use camino::Utf8PathBuf;
use serde::{Deserialize, Serialize};

use crate::store::write_atomic;
use crate::{Error, LicenseConfig, VerifiedLicense};

const BODY_LIMIT: u64 = caps::ISSUER;

/// Body of `POST /v1/license/issue`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IssueRequest {
    /// The invite code (required by the issuer).
    pub invite_code: String,
    /// Optional e-mail (becomes `sub`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Device id to bind the license to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

/// The issuer's answer to `/v1/license/issue`. Only `license_pack` is used for verification;
/// `Debug` hides it (it holds a signature).
#[derive(Clone, Deserialize)]
pub struct IssueResponse {
    /// A JSON string holding the pack `{"license":{…},"signature":"…"}`.
    pub license_pack: String,
    /// Plan (informational, unverified).
    #[serde(default)]
    pub plan: String,
    /// Features (informational, unverified).
    #[serde(default)]
    pub features: Vec<String>,
    /// Expiry (informational, unverified).
    #[serde(default)]
    pub exp: i64,
}

impl std::fmt::Debug for IssueResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssueResponse")
            .field("license_pack", &"<redacted>")
            .field("plan", &self.plan)
            .field("features", &self.features)
            .field("exp", &self.exp)
            .finish()
    }
}

/// Body of `POST /v1/device/begin` (every field optional).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeviceBeginRequest {
    /// Invite code (the issuer defaults to `DEV-TRIAL-7D`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_code: Option<String>,
    /// E-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Device id to bind to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Where the authorize URL should point.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
}

/// The issuer's answer to `/v1/device/begin`. `Debug` hides the poll token.
#[derive(Clone, Deserialize)]
pub struct DeviceBeginResponse {
    /// URL to show the user.
    #[serde(default)]
    pub authorize_url: String,
    /// Code to show the user (`XX-XX-XX-XX`).
    #[serde(default)]
    pub user_code: String,
    /// Token for `/v1/device/poll`.
    pub poll_token: String,
    /// Seconds between polls.
    #[serde(default)]
    pub interval: u64,
    /// Seconds until the login code expires.
    #[serde(default)]
    pub expires_in: u64,
    /// Plan of the license that will be issued (informational).
    #[serde(default)]
    pub plan: String,
}

impl std::fmt::Debug for DeviceBeginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceBeginResponse")
            .field("authorize_url", &self.authorize_url)
            .field("user_code", &self.user_code)
            .field("poll_token", &"<redacted>")
            .field("interval", &self.interval)
            .field("expires_in", &self.expires_in)
            .field("plan", &self.plan)
            .finish()
    }
}

/// The state `/v1/device/poll` reports.
#[derive(Clone, PartialEq, Eq)]
pub enum PollStatus {
    /// Done: the pack text (a JSON pack). `Debug` hides it.
    Ready(String),
    /// Not yet.
    Pending,
    /// The login code expired.
    Expired,
    /// The issuer does not know the token (already used or never issued).
    NotFound,
}

impl std::fmt::Debug for PollStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PollStatus::Ready(_) => f.write_str("Ready(<redacted>)"),
            PollStatus::Pending => f.write_str("Pending"),
            PollStatus::Expired => f.write_str("Expired"),
            PollStatus::NotFound => f.write_str("NotFound"),
        }
    }
}

#[derive(Deserialize)]
struct PollBody {
    #[serde(default)]
    status: String,
    #[serde(default)]
    license_pack: Option<String>,
}

/// An HTTP client for one issuer.
#[derive(Debug, Clone)]
pub struct IssuerClient {
    base: String,
    agent: ureq::Agent,
    cleartext: Cleartext,
}

struct Answer {
    status: u16,
    body: String,
}

impl IssuerClient {
    /// A client with the shared default timeouts ([`agentos_transport::Limits`]: 5 s to
    /// connect, 15 s per request). Plain `http://` goes only to loopback unless
    /// [`IssuerClient::with_cleartext`] allows more.
    pub fn new(base_url: &str) -> IssuerClient {
        IssuerClient::with_timeout(base_url, Limits::default().total)
    }

    /// A client with the given overall per-request timeout (connect: the shared default, at
    /// most `timeout`).
    pub fn with_timeout(base_url: &str, timeout: Duration) -> IssuerClient {
        let agent = agentos_transport::agent(Limits { total: timeout, ..Limits::default() });
        IssuerClient {
            base: base_url.trim_end_matches('/').to_owned(),
            agent,
            cleartext: Cleartext::LoopbackOnly,
        }
    }

    /// Whether plain `http://` may go to another machine (the device id, invite code and
    /// license would travel unencrypted).
    pub fn with_cleartext(mut self, cleartext: Cleartext) -> IssuerClient {
        self.cleartext = cleartext;
        self
    }

    /// The issuer's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn post(&self, path: &str, body: &impl Serialize) -> Result<(String, Answer), Error> {
        let url = format!("{}{path}", self.base);
        check_url(&url, self.cleartext).map_err(Error::IssuerCleartext)?;
        let json = serde_json::to_string(body).map_err(|e| Error::IssuerResponse {
            url: url.clone(),
            detail: format!("cannot encode request: {e}"),
        })?;
        let unreachable =
            |e: ureq::Error| Error::IssuerUnreachable { url: url.clone(), detail: e.to_string() };
        let mut resp = self
            .agent
            .post(&url)
            .header("content-type", "application/json")
            .send(json.as_str())
            .map_err(unreachable)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let bytes = agentos_transport::read_body(&mut resp, BODY_LIMIT).map_err(|e| match e {
            BodyError::TooLarge { limit } => Error::IssuerResponse {
                url: url.clone(),
                detail: format!("the body is larger than {limit} bytes"),
            },
            e => Error::IssuerUnreachable { url: url.clone(), detail: e.to_string() },
        })?;
        let body = String::from_utf8(bytes).map_err(|e| Error::IssuerResponse {
            url: url.clone(),
            detail: format!("the body is not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        })?;
        if status == 429 {
            return Err(Error::IssuerRateLimited {
                url,
                retry_after_secs: retry_after.unwrap_or(60),
            });
        }
        Ok((url, Answer { status, body }))
    }

    /// `POST /v1/license/issue`.
    pub fn issue(&self, req: &IssueRequest) -> Result<IssueResponse, Error> {
        let (url, a) = self.post("/v1/license/issue", req)?;
        if !(200..300).contains(&a.status) {
            return Err(rejected(url, &a));
        }
        parse(&url, &a.body)
    }

    /// `POST /v1/device/begin`.
    pub fn device_begin(&self, req: &DeviceBeginRequest) -> Result<DeviceBeginResponse, Error> {
        let (url, a) = self.post("/v1/device/begin", req)?;
        if !(200..300).contains(&a.status) {
            return Err(rejected(url, &a));
        }
        parse(&url, &a.body)
    }

    /// `POST /v1/device/poll`.
    pub fn device_poll(&self, poll_token: &str) -> Result<PollStatus, Error> {
        let (url, a) =
            self.post("/v1/device/poll", &serde_json::json!({ "poll_token": poll_token }))?;
        if a.status == 404 {
            return Ok(PollStatus::NotFound);
        }
        if !(200..300).contains(&a.status) {
            return Err(rejected(url, &a));
        }
        let body: PollBody = parse(&url, &a.body)?;
        match (body.status.as_str(), body.license_pack) {
            ("ok", Some(pack)) => Ok(PollStatus::Ready(pack)),
            ("pending", _) => Ok(PollStatus::Pending),
            ("expired", _) => Ok(PollStatus::Expired),
            ("not_found", _) => Ok(PollStatus::NotFound),
            (other, _) => Err(Error::IssuerResponse {
                url,
                detail: format!("unknown poll status `{}`", truncate(other, 40)),
            }),
        }
    }
}

fn parse<T: serde::de::DeserializeOwned>(url: &str, body: &str) -> Result<T, Error> {
    serde_json::from_str(body).map_err(|e| Error::IssuerResponse {
        url: url.to_owned(),
        detail: format!("not the expected JSON: {}", e.classify_text()),
    })
}

trait ClassifyText {
    fn classify_text(&self) -> String;
}

impl ClassifyText for serde_json::Error {
    /// The error kind and position, without echoing the body.
    fn classify_text(&self) -> String {
        let msg = self.to_string();
        if msg.starts_with("missing field") {
            return msg;
        }
        format!("{:?} error at line {} column {}", self.classify(), self.line(), self.column())
            .to_lowercase()
    }
}

fn rejected(url: String, a: &Answer) -> Error {
    // Go http.Error bodies are text; the poll endpoint answers {"error": …}.
    let text = serde_json::from_str::<serde_json::Value>(&a.body)
        .ok()
        .and_then(|v| {
            v.get("error").or_else(|| v.get("status")).and_then(|s| s.as_str()).map(str::to_owned)
        })
        .unwrap_or_else(|| a.body.lines().next().unwrap_or("").trim().to_owned());
    let hint = match a.status {
        400 | 404 => "check the invite code",
        405 => "check that the issuer URL points at a CCP license issuer",
        409 => "the invite has been used up: ask for a new one",
        410 => "the invite expired: ask for a new one",
        s if s >= 500 => "the issuer failed: try again later",
        _ => "check the issuer URL and the invite code",
    };
    Error::IssuerRejected { url, status: a.status, message: truncate(&text, 200), hint }
}

fn truncate(s: &str, max: usize) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).take(max).collect();
    if clean.is_empty() { "no message".to_owned() } else { clean }
}

/// How a device-flow login polls.
#[derive(Clone, Debug)]
pub struct LoginOptions {
    /// Invite code sent to `/v1/device/begin` (the issuer has a default).
    pub invite_code: Option<String>,
    /// E-mail sent to `/v1/device/begin`.
    pub email: Option<String>,
    /// Give up after this long overall.
    pub timeout: Duration,
    /// Lower bound for the poll interval (used when the server says 0).
    pub min_interval: Duration,
    /// Upper bound for the poll interval.
    pub max_interval: Duration,
}

impl Default for LoginOptions {
    fn default() -> Self {
        LoginOptions {
            invite_code: None,
            email: None,
            timeout: Duration::from_secs(600),
            min_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(30),
        }
    }
}

/// Issuer URL and invite remembered after a login, for [`refresh`]
/// (`<pack_path>.issuer.json`, mode 0600).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerSource {
    /// Issuer base URL.
    pub issuer: String,
    /// Invite code, when one was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_code: Option<String>,
}

impl IssuerSource {
    /// Where the source is remembered for this configuration.
    pub fn path(cfg: &LicenseConfig) -> Utf8PathBuf {
        Utf8PathBuf::from(format!("{}.issuer.json", cfg.pack_path))
    }

    /// The remembered source, if any (unreadable ⇒ none).
    pub fn load(cfg: &LicenseConfig) -> Option<IssuerSource> {
        let bytes = crate::store::read_small_file(&IssuerSource::path(cfg)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Remember this source atomically.
    pub fn save(&self, cfg: &LicenseConfig) -> Result<(), Error> {
        let mut text = serde_json::to_string_pretty(self).map_err(|e| Error::IssuerResponse {
            url: self.issuer.clone(),
            detail: format!("cannot encode the issuer source: {e}"),
        })?;
        text.push('\n');
        write_atomic(&IssuerSource::path(cfg), text.as_bytes())
    }
}

/// Obtain a pack bound to this device with an invite code (`/v1/license/issue`), verify it
/// against the configured key ring and device, and install it atomically.
pub fn bind_device(
    cfg: &LicenseConfig,
    client: &IssuerClient,
    invite_code: &str,
    email: Option<&str>,
) -> Result<VerifiedLicense, Error> {
    let resp = client.issue(&IssueRequest {
        invite_code: invite_code.to_owned(),
        email: email.map(str::to_owned),
        device: Some(cfg.device_id()),
    })?;
    let verified = install_text(cfg, &resp.license_pack)?;
    IssuerSource {
        issuer: client.base_url().to_owned(),
        invite_code: Some(invite_code.to_owned()),
    }
    .save(cfg)?;
    Ok(verified)
}

/// Device-flow login: `/v1/device/begin` (bound to this device), `on_begin` is called once
/// with the code to show, then `/v1/device/poll` every `interval` until a pack arrives; the pack
/// is verified and installed atomically.
pub fn login(
    cfg: &LicenseConfig,
    client: &IssuerClient,
    opts: &LoginOptions,
    on_begin: &mut dyn FnMut(&DeviceBeginResponse),
) -> Result<VerifiedLicense, Error> {
    let pack = device_flow(cfg, client, opts, on_begin)?;
    let verified = install_text(cfg, &pack)?;
    IssuerSource { issuer: client.base_url().to_owned(), invite_code: opts.invite_code.clone() }
        .save(cfg)?;
    Ok(verified)
}

fn device_flow(
    cfg: &LicenseConfig,
    client: &IssuerClient,
    opts: &LoginOptions,
    on_begin: &mut dyn FnMut(&DeviceBeginResponse),
) -> Result<String, Error> {
    let start = Instant::now();
    let begin = client.device_begin(&DeviceBeginRequest {
        invite_code: opts.invite_code.clone(),
        email: opts.email.clone(),
        device: Some(cfg.device_id()),
        redirect_url: None,
    })?;
    on_begin(&begin);
    let mut budget = opts.timeout;
    if begin.expires_in > 0 {
        budget = budget.min(Duration::from_secs(begin.expires_in));
    }
    // A huge --timeout must not overflow the clock arithmetic: no deadline then.
    let deadline = start.checked_add(budget);
    let interval = Duration::from_secs(begin.interval).clamp(opts.min_interval, opts.max_interval);
    loop {
        let mut wait = interval;
        match client.device_poll(&begin.poll_token) {
            Ok(PollStatus::Ready(pack)) => return Ok(pack),
            Ok(PollStatus::Pending) => {}
            Ok(PollStatus::Expired) => {
                return Err(Error::LoginIncomplete { detail: "the login code expired".into() });
            }
            Ok(PollStatus::NotFound) => {
                return Err(Error::LoginIncomplete {
                    detail: "the issuer no longer knows this login".into(),
                });
            }
            Err(Error::IssuerRateLimited { retry_after_secs, .. }) => {
                wait = wait.max(Duration::from_secs(retry_after_secs)).min(opts.max_interval);
            }
            Err(e) => return Err(e),
        }
        if deadline.is_some_and(|d| Instant::now().checked_add(wait).is_none_or(|t| t >= d)) {
            return Err(Error::LoginIncomplete {
                detail: format!("no license after {} s", budget.as_secs()),
            });
        }
        std::thread::sleep(wait);
    }
}

fn install_text(cfg: &LicenseConfig, pack: &str) -> Result<VerifiedLicense, Error> {
    crate::install_pack(cfg, pack.as_bytes())
}

/// What [`refresh`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum RefreshOutcome {
    /// The new pack replaced the installed one (`previous` = its claims' `exp`, if it was valid).
    Replaced {
        /// The newly installed license.
        license: VerifiedLicense,
        /// `exp` of the license it replaced (`None`: nothing valid was installed).
        previous_exp: Option<i64>,
    },
    /// The issuer's pack was valid but not newer; the installed pack is kept.
    Kept {
        /// The installed license.
        installed: VerifiedLicense,
    },
}

/// Ask the issuer for a fresh pack (`/v1/license/issue` when an invite is known, else the
/// device flow) and install it only when it verifies and is newer than the installed one:
/// later `exp`, or the same `exp` and a later `iat`. A missing or no-longer-valid installed
/// pack is replaced by any valid one. On any error the installed pack is left untouched.
pub fn refresh(
    cfg: &LicenseConfig,
    client: &IssuerClient,
    invite_code: Option<&str>,
    opts: &LoginOptions,
) -> Result<RefreshOutcome, Error> {
    let pack = match invite_code {
        Some(code) => {
            client
                .issue(&IssueRequest {
                    invite_code: code.to_owned(),
                    email: opts.email.clone(),
                    device: Some(cfg.device_id()),
                })?
                .license_pack
        }
        None => device_flow(cfg, client, opts, &mut |_| {})?,
    };
    let candidate = cfg.verify_pack_bytes(pack.as_bytes())?;
    let installed = crate::load_installed(cfg).ok();
    if let Some(old) = &installed {
        let key = |v: &VerifiedLicense| (v.claims().exp, v.claims().iat.unwrap_or(i64::MIN));
        if key(&candidate) <= key(old) {
            return Ok(RefreshOutcome::Kept { installed: old.clone() });
        }
    }
    write_atomic(&cfg.pack_path, &crate::pack_text(pack.as_bytes()))?;
    Ok(RefreshOutcome::Replaced {
        license: candidate,
        previous_exp: installed.map(|v| v.claims().exp),
    })
}
