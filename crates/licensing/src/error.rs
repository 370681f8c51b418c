//! The one error type of this crate, and the machine-readable reason codes.

use camino::Utf8PathBuf;

/// Everything that can go wrong. Each variant displays as one lowercase line that says what
/// happened and what to do. No variant ever holds a signature.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No key in the ring verifies the signature (CCP: `license invalid`).
    #[error(
        "license signature mismatch: no trusted key (tried: {tried}) verifies this license{ignored}; the pack was altered or signed by an unknown issuer: get a fresh pack from your issuer, or trust the issuer's public key (a key bundle, or CCP_LICENSE_PUBKEY_B64=\"kid=<base64>\")"
    )]
    SignatureMismatch {
        /// Comma-separated ids of the keys that were tried.
        tried: String,
        /// Note about malformed keys that were skipped (empty when none).
        ignored: String,
    },
    /// The license names a key id the ring does not have.
    #[error(
        "license is signed with key id `{kid}`, which is not in the key ring (known: {known}){ignored}; add that public key with CCP_LICENSE_PUBKEY_B64=\"{kid}=<base64>\" or a PUBKEYS.json bundle (AGENTOS_PUBKEYS)"
    )]
    UnknownKey {
        /// The `kid` the claims name.
        kid: String,
        /// Comma-separated ids the ring holds.
        known: String,
        /// Note about malformed keys that were skipped (empty when none).
        ignored: String,
    },
    /// The ring is empty.
    #[error(
        "no public keys to verify the license with; give a key bundle (AGENTOS_PUBKEYS) or CCP_LICENSE_PUBKEY_B64"
    )]
    NoKeys,
    /// Some part of the input cannot be read: JSON, base64, a key, a claim.
    #[error("malformed {part}: {detail}; {hint}")]
    Malformed {
        /// Which part (`license pack`, `signature`, `public key k1`, `claims` …).
        part: String,
        /// What is wrong with it (never the signature itself).
        detail: String,
        /// What to do.
        hint: &'static str,
    },
    /// The claims' `schema` is not `ccp.license.v1`.
    #[error(
        "license schema mismatch: `{found}` is not `ccp.license.v1`; this tool understands only ccp.license.v1 packs: ask your issuer for one"
    )]
    SchemaMismatch {
        /// The schema found.
        found: String,
    },
    /// `now > exp`.
    #[error(
        "license expired at {} (exp={exp}); get a new one from your issuer (the local tier keeps working without a license)",
        rfc3339(*exp)
    )]
    Expired {
        /// The claims' `exp`.
        exp: i64,
        /// The time it was checked at.
        now: i64,
    },
    /// `iat` lies further in the future than the allowed clock skew.
    #[error(
        "license is not valid yet: issued at {} but the clock says {}; check this machine's clock",
        rfc3339(*iat),
        rfc3339(*now)
    )]
    NotYetValid {
        /// The claims' `iat`.
        iat: i64,
        /// The time it was checked at.
        now: i64,
    },
    /// The license is bound to another device.
    #[error(
        "license is bound to device {licensed}, but this device is {runtime}; get a pack for this device from your issuer"
    )]
    DeviceMismatch {
        /// The claims' `device`.
        licensed: String,
        /// This machine's device id.
        runtime: String,
    },
    /// A signed revocation list names this license.
    #[error("license revoked ({what}); contact your issuer for a new license")]
    Revoked {
        /// Which entry matched (`nonce …` or `sub …`).
        what: String,
    },
    /// A revocation list older than (or as old as, but different from) the installed one.
    #[error(
        "revocation list issued at {} is not newer than the installed one (issued at {}); an older list never replaces a newer one: get the current list from your issuer",
        rfc3339(*offered),
        rfc3339(*installed)
    )]
    RevocationsNotNewer {
        /// `issued_at` of the list offered.
        offered: i64,
        /// `issued_at` of the installed list.
        installed: i64,
    },
    /// A verified license lacks a feature.
    #[error("feature `{feature}` is not in your license (plan `{plan}`); {hint}")]
    EntitlementMissing {
        /// The feature asked for.
        feature: String,
        /// The license's plan.
        plan: String,
        /// Which plan has it and what to do.
        hint: String,
    },
    /// No installed pack.
    #[error(
        "no license installed at {path}; install a license pack from your issuer (the local tier needs no license)"
    )]
    NotInstalled {
        /// Where it was looked for.
        path: Utf8PathBuf,
    },
    /// Reading or writing a file failed.
    #[error("cannot {action} {path}: {source}; check the path and its permissions")]
    Io {
        /// `read`, `write` …
        action: &'static str,
        /// The file.
        path: Utf8PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The issuer could not be reached.
    #[error(
        "license issuer {url} is unreachable ({detail}); check the URL and your network, the installed license keeps working offline until it expires"
    )]
    IssuerUnreachable {
        /// The request URL.
        url: String,
        /// The transport error.
        detail: String,
    },
    /// Plain `http://` to an issuer that is not loopback, not allowed: nothing was sent.
    #[cfg(feature = "issuer")]
    #[error("license issuer: {0}")]
    IssuerCleartext(agentos_transport::UrlError),
    /// The issuer answered 429.
    #[error("license issuer {url} is rate limiting requests; try again in {retry_after_secs} s")]
    IssuerRateLimited {
        /// The request URL.
        url: String,
        /// Seconds the server asked to wait (60 when it did not say).
        retry_after_secs: u64,
    },
    /// The issuer answered with an error status.
    #[error("license issuer {url} refused the request (HTTP {status}: {message}); {hint}")]
    IssuerRejected {
        /// The request URL.
        url: String,
        /// HTTP status.
        status: u16,
        /// The server's message (first line, truncated).
        message: String,
        /// What to do.
        hint: &'static str,
    },
    /// The issuer answered 2xx with something this client cannot read.
    #[error(
        "license issuer {url} sent an unexpected response ({detail}); check that the issuer URL points at a CCP license issuer"
    )]
    IssuerResponse {
        /// The request URL.
        url: String,
        /// What was wrong (never the body).
        detail: String,
    },
    /// The device-flow login did not finish in time.
    #[error(
        "license login did not complete: {detail}; log in again (the installed license, if any, is unchanged)"
    )]
    LoginIncomplete {
        /// Why (`expired`, `timed out after 120 s` …).
        detail: String,
    },
    /// Refresh needs to know the issuer.
    #[error("no issuer known for refresh: none was given and no earlier login remembered one")]
    NoIssuer,
    /// The policy signature does not verify.
    #[error(
        "policy signature mismatch: the policy was altered or signed with another key; fetch the policy and its .sig again, and check the public key"
    )]
    PolicySignatureMismatch,
    /// The policy is past its `expiresAt`.
    #[error("policy expired at {expires_at}; fetch a current policy from your administrator")]
    PolicyExpired {
        /// The policy's `expiresAt`.
        expires_at: String,
    },
    /// A required policy field is empty or missing.
    #[error(
        "policy missing required field `{field}`; the policy is incomplete: ask for a corrected one"
    )]
    PolicyMissingField {
        /// `version`, `expiresAt` or `routing`.
        field: &'static str,
    },
}

/// Why a license was rejected, as a stable machine code (the `reason` of
/// `agentos license verify --json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// No trusted key verifies the signature.
    SignatureMismatch,
    /// The claims' key id is not in the ring (or no keys at all).
    UnknownKey,
    /// Unreadable JSON, base64, key or claim.
    Malformed,
    /// Schema is not `ccp.license.v1`.
    SchemaMismatch,
    /// `now > exp`.
    Expired,
    /// `iat` too far in the future.
    NotYetValid,
    /// Bound to another device.
    DeviceMismatch,
    /// On the revocation list.
    Revoked,
}

impl Reason {
    /// The snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::SignatureMismatch => "signature_mismatch",
            Reason::UnknownKey => "unknown_key",
            Reason::Malformed => "malformed",
            Reason::SchemaMismatch => "schema_mismatch",
            Reason::Expired => "expired",
            Reason::NotYetValid => "not_yet_valid",
            Reason::DeviceMismatch => "device_mismatch",
            Reason::Revoked => "revoked",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// The rejection reason when this error says the license is invalid; `None` for I/O,
    /// network, entitlement and policy errors.
    pub fn reason(&self) -> Option<Reason> {
        Some(match self {
            Error::SignatureMismatch { .. } => Reason::SignatureMismatch,
            Error::UnknownKey { .. } | Error::NoKeys => Reason::UnknownKey,
            Error::Malformed { .. } => Reason::Malformed,
            Error::SchemaMismatch { .. } => Reason::SchemaMismatch,
            Error::Expired { .. } => Reason::Expired,
            Error::NotYetValid { .. } => Reason::NotYetValid,
            Error::DeviceMismatch { .. } => Reason::DeviceMismatch,
            Error::Revoked { .. } => Reason::Revoked,
            _ => return None,
        })
    }

    pub(crate) fn malformed(
        part: impl Into<String>,
        detail: impl Into<String>,
        hint: &'static str,
    ) -> Error {
        Error::Malformed { part: part.into(), detail: detail.into(), hint }
    }

    pub(crate) fn io(
        action: &'static str,
        path: &camino::Utf8Path,
        source: std::io::Error,
    ) -> Error {
        Error::Io { action, path: path.to_owned(), source }
    }
}

/// Unix seconds as RFC 3339 UTC (`unix N` when out of range).
pub fn rfc3339(secs: i64) -> String {
    match jiff::Timestamp::from_second(secs) {
        Ok(ts) => ts.to_string(),
        Err(_) => format!("unix {secs}"),
    }
}
