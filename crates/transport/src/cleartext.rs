//! Whether a URL may carry a secret: `https://` always, plain `http://` only to this machine
//! (loopback) unless the user allowed it explicitly.
//!
//! The URL is parsed with the same parser the HTTP client connects with (`http::Uri`, as
//! re-exported by `ureq`), so the host judged here is the host connected to: userinfo
//! (`http://127.0.0.1@evil.com` goes to `evil.com`) and look-alike names
//! (`127.0.0.1.evil.com`, `localhost.evil.com`) are not loopback. Only the literal forms
//! count: `localhost`, a dotted-quad in `127.0.0.0/8`, `[::1]` and the IPv4-mapped
//! `[::ffff:127.x.y.z]`; shorthand forms some resolvers accept (`127.1`, `0x7f.1`,
//! `2130706433`) are refused rather than guessed.

use std::net::{Ipv4Addr, Ipv6Addr};

use ureq::http::Uri;

/// The environment variable that allows plain `http://` to any host (`1`, `true` or `yes`).
pub const ENV_ALLOW_INSECURE_HTTP: &str = "AGENTOS_ALLOW_INSECURE_HTTP";

/// Whether plain `http://` may go to a host other than this machine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cleartext {
    /// `http://` only to loopback; anything else needs `https://` (the default).
    #[default]
    LoopbackOnly,
    /// The user said so explicitly: `http://` to any host.
    Allowed,
}

impl Cleartext {
    /// From [`ENV_ALLOW_INSECURE_HTTP`] in the process environment.
    pub fn from_env() -> Cleartext {
        Cleartext::from_vars(&|name| std::env::var(name).ok())
    }

    /// From [`ENV_ALLOW_INSECURE_HTTP`] through an injected lookup: `1`, `true` or `yes`
    /// (any case) allow; anything else, or unset, does not.
    pub fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> Cleartext {
        let on = var(ENV_ALLOW_INSECURE_HTTP).is_some_and(|v| {
            matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes")
        });
        if on { Cleartext::Allowed } else { Cleartext::LoopbackOnly }
    }

    /// `Allowed` when `allowed` (e.g. a command-line flag), else `self`.
    pub fn or_allowed(self, allowed: bool) -> Cleartext {
        if allowed { Cleartext::Allowed } else { self }
    }
}

/// Why a URL may not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Plain `http://` to a host that is not this machine.
    #[error(
        "refusing plain http:// to {host}: the API key, credentials and data sent would travel unencrypted to another machine; use https://"
    )]
    Cleartext {
        /// The host as written (never userinfo).
        host: String,
    },
    /// Not an `http://` or `https://` URL with a host.
    #[error("{url:?} is not an http:// or https:// URL with a host")]
    Invalid {
        /// The URL, userinfo removed.
        url: String,
    },
}

/// `Ok` when a request to `url` may carry a secret under `cleartext`: `https://` to any host,
/// `http://` to loopback, and `http://` to any host when [`Cleartext::Allowed`].
pub fn check_url(url: &str, cleartext: Cleartext) -> Result<(), UrlError> {
    let invalid = || UrlError::Invalid { url: without_userinfo(url.trim()) };
    let uri: Uri = url.trim().parse().map_err(|_| invalid())?;
    let scheme = uri.scheme_str().map(str::to_ascii_lowercase).ok_or_else(invalid)?;
    let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(invalid)?;
    match scheme.as_str() {
        "https" => Ok(()),
        "http" if cleartext == Cleartext::Allowed || is_loopback_host(host) => Ok(()),
        "http" => Err(UrlError::Cleartext { host: host.to_owned() }),
        _ => Err(invalid()),
    }
}

/// Whether `host` (as in a URL: IPv6 in brackets) names this machine: `localhost` (any
/// case), a dotted-quad in `127.0.0.0/8`, `[::1]`, or `[::ffff:127.x.y.z]`.
pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().is_ok_and(|ip| {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        });
    }
    host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// `url` without a `user:password@` part, for messages.
fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}
