//! Recorder configuration from the environment (flags override it in the CLI).
//!
//! | Variable | Meaning | Default |
//! |---|---|---|
//! | `AGENTOS_DATA_DIR` | data directory | [`default_data_dir`] |
//! | `PRIVACY_TIER` | `local`, `minimized` or `full` | `local` |
//! | `AGENTOS_CCC_BASE_URL` | CCC base URL | `http://127.0.0.1:8082` |
//! | `CCC_API_KEY` | sent as `Authorization: Bearer` (never stored or logged) | none |
//! | `AGENTOS_ALLOW_INSECURE_HTTP` | `1`: plain `http://` may carry the key and uploads to a host that is not loopback | refused |
//! | `LICENSE_PACK_PATH`, `AGENTOS_PUBKEYS`, `CCP_LICENSE_PUBKEY_B64` | license (see `agentos-licensing`) | `<data_dir>/license.pack` |

use std::fmt;

use agentos_licensing::LicenseConfig;
use agentos_privacy::Tier;
use agentos_transport::Cleartext;
use camino::Utf8PathBuf;

use crate::Error;

/// Default CCC base URL (CCP's shim default port).
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8082";

/// `$XDG_DATA_HOME/agentos`, else `$HOME/.local/share/agentos`, else `./.agentos` (no home).
pub fn default_data_dir() -> Utf8PathBuf {
    default_data_dir_from(&|name| std::env::var(name).ok())
}

fn default_data_dir_from(var: &dyn Fn(&str) -> Option<String>) -> Utf8PathBuf {
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    if let Some(xdg) = set("XDG_DATA_HOME") {
        return Utf8PathBuf::from(xdg).join("agentos");
    }
    if let Some(home) = set("HOME") {
        return Utf8PathBuf::from(home).join(".local/share/agentos");
    }
    Utf8PathBuf::from(".agentos")
}

/// Everything the recorder needs to know. Build it with [`RecorderConfig::from_env`] (or
/// [`RecorderConfig::from_vars`] with an injected environment), then override fields.
#[derive(Clone)]
pub struct RecorderConfig {
    /// Where the local files live.
    pub data_dir: Utf8PathBuf,
    /// What may leave the machine.
    pub tier: Tier,
    /// CCC base URL, without trailing `/`.
    pub base_url: String,
    /// API key sent as `Authorization: Bearer`; never written anywhere.
    pub api_key: Option<String>,
    /// Where the license comes from.
    pub license: LicenseConfig,
    /// Whether uploads (to CCC or an OTLP collector) may use plain `http://` to a host that is
    /// not loopback (`AGENTOS_ALLOW_INSECURE_HTTP`).
    pub cleartext: Cleartext,
}

impl fmt::Debug for RecorderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecorderConfig")
            .field("data_dir", &self.data_dir)
            .field("tier", &self.tier)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("license", &self.license)
            .field("cleartext", &self.cleartext)
            .finish()
    }
}

impl RecorderConfig {
    /// Read the process environment. `data_dir` (e.g. a `--data-dir` flag) wins over
    /// `AGENTOS_DATA_DIR`.
    pub fn from_env(data_dir: Option<Utf8PathBuf>) -> Result<Self, Error> {
        Self::from_vars(data_dir, &|name| std::env::var(name).ok())
    }

    /// Like [`RecorderConfig::from_env`] with an injected environment lookup (for tests and
    /// embedding tools that keep their own settings).
    pub fn from_vars(
        data_dir: Option<Utf8PathBuf>,
        var: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, Error> {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let data_dir = data_dir
            .or_else(|| set("AGENTOS_DATA_DIR").map(Utf8PathBuf::from))
            .unwrap_or_else(|| default_data_dir_from(var));
        let tier = match set("PRIVACY_TIER") {
            Some(t) => {
                t.parse::<Tier>().map_err(|e| Error::Config(format!("PRIVACY_TIER: {e}")))?
            }
            None => Tier::Local,
        };
        let base_url = normalize_base_url(
            &set("AGENTOS_CCC_BASE_URL").unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
        )?;
        let license = LicenseConfig {
            pack_path: set(agentos_licensing::ENV_PACK_PATH)
                .map(Utf8PathBuf::from)
                .unwrap_or_else(|| data_dir.join("license.pack")),
            pubkeys_path: set(agentos_licensing::ENV_PUBKEYS).map(Utf8PathBuf::from),
            env_pubkeys: set(agentos_licensing::ENV_PUBKEY_B64),
            device: None,
            now: None,
        };
        // A key read from a file often ends in a newline, which is not valid in a header.
        let api_key = set("CCC_API_KEY").map(|k| k.trim().to_owned());
        let cleartext = Cleartext::from_vars(var);
        Ok(RecorderConfig { data_dir, tier, base_url, api_key, license, cleartext })
    }

    /// Override the base URL (e.g. from `--base-url`), checking it.
    pub fn set_base_url(&mut self, url: &str) -> Result<(), Error> {
        self.base_url = normalize_base_url(url)?;
        Ok(())
    }
}

/// Check that `url` is an `http(s)://` URL and strip trailing `/`.
pub fn normalize_base_url(url: &str) -> Result<String, Error> {
    let url = url.trim().trim_end_matches('/');
    let host = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    if host.is_none_or(str::is_empty) {
        return Err(Error::BaseUrl(url.to_owned()));
    }
    Ok(url.to_owned())
}

/// Default OTLP/HTTP endpoint (the collector's standard port on this machine).
pub const DEFAULT_OTLP_ENDPOINT: &str = "http://localhost:4318";

/// Where OTLP exports go, from the standard OpenTelemetry variables: `OTEL_EXPORTER_OTLP_ENDPOINT`
/// (a base URL; `/v1/logs` and `/v1/metrics` are appended) and `OTEL_EXPORTER_OTLP_HEADERS`
/// (`key=value,key2=value2`, values percent-decoded). Header values are secrets: never stored,
/// never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct OtlpConfig {
    /// The endpoint, without trailing `/`.
    pub endpoint: String,
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
}

impl fmt::Debug for OtlpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpConfig")
            .field("endpoint", &self.endpoint)
            .field("headers", &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>())
            .finish()
    }
}

impl OtlpConfig {
    /// From the environment; `endpoint` (e.g. an `--endpoint` flag) wins over
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn from_vars(
        endpoint: Option<&str>,
        var: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, Error> {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let endpoint = match endpoint {
            Some(e) => e.to_owned(),
            None => set("OTEL_EXPORTER_OTLP_ENDPOINT")
                .unwrap_or_else(|| DEFAULT_OTLP_ENDPOINT.to_owned()),
        };
        let endpoint = normalize_base_url(&endpoint)?;
        let headers = match set("OTEL_EXPORTER_OTLP_HEADERS") {
            Some(h) => parse_otlp_headers(&h)?,
            None => Vec::new(),
        };
        Ok(OtlpConfig { endpoint, headers })
    }
}

/// `OTEL_EXPORTER_OTLP_HEADERS`: comma-separated `key=value`, both percent-decoded and trimmed.
/// The error names the position of a bad entry, never its text (it may hold a secret).
pub fn parse_otlp_headers(text: &str) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for (i, item) in text.split(',').enumerate() {
        if item.trim().is_empty() {
            continue;
        }
        let bad = || {
            Error::Config(format!("OTEL_EXPORTER_OTLP_HEADERS: entry {} is not key=value", i + 1))
        };
        let (k, v) = item.split_once('=').ok_or_else(bad)?;
        let (k, v) =
            (percent_decode(k.trim()).ok_or_else(bad)?, percent_decode(v.trim()).ok_or_else(bad)?);
        let valid_name = !k.is_empty() && k.bytes().all(|b| b.is_ascii_graphic() && b != b':');
        if !valid_name || v.bytes().any(|b| b.is_ascii_control()) {
            return Err(bad());
        }
        out.push((k, v));
    }
    Ok(out)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
