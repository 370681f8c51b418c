//! `agentos-licensing` decides what a user is entitled to, offline, from license packs signed
//! by CCP's issuer (`licissuer`), and accepts exactly the packs CCP's shim accepts.
//!
//! It verifies Ed25519 signatures over the **exact bytes** of the license as they stand in the
//! file (never a re-serialisation), against a [`KeyRing`] (CCP's embedded `default` key, a
//! `PUBKEYS.json` bundle, `CCP_LICENSE_PUBKEY_B64`), then checks schema, expiry, `iat` clock
//! skew, device binding and an optional signed [`RevocationList`], in CCP's order. Anything
//! wrong means no entitlements (deny by default). It verifies signed policy packs
//! ([`policy`]) and, with the `issuer` feature (off by default), talks to the issuer
//! (`issuer`: bind a device, device-flow login, refresh).
//!
//! It is **not** a gate on local use: the local tier and local analytics never need a license,
//! and callers should never ask for one there. It does not print; every failure is an
//! [`Error`] whose `Display` is one line saying what to do, and a signature never appears in
//! any error or `Debug` output.
//!
//! Main types: [`LicenseConfig`] (where the pack and keys come from), [`SignedLicense`]
//! (parsed, unverified), [`VerifiedLicense`] (passed every check; ask it
//! [`VerifiedLicense::check_entitlement`]), [`Error`] / [`Reason`].
//!
//! ```
//! use agentos_licensing::{KeyRing, SignedLicense, VerifyOptions, verify};
//! let pack = br#"{"license":{"schema":"ccp.license.v1","exp":1},"signature":"AAAA"}"#;
//! // A 3-byte signature is malformed: rejected before any key is tried.
//! let err = SignedLicense::from_pack_bytes(pack).unwrap_err();
//! assert_eq!(err.reason().map(|r| r.as_str()), Some("malformed"));
//! # let _ = (KeyRing::embedded(), VerifyOptions::at(0), verify);
//! ```
//!
//! Features: none by default, so the offline verifier needs ring + serde only; `issuer` adds
//! the HTTP client for the license issuer and its `ureq` dependency.
//!
#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod device;
pub mod entitlements;
mod error;
mod gokeys;
#[cfg(feature = "issuer")]
pub mod issuer;
mod keys;
pub mod policy;
mod revocation;
mod signature;
mod store;
mod verify;

#[cfg(test)]
mod tests;

use camino::{Utf8Path, Utf8PathBuf};
use store::write_atomic;

pub use device::{device_id, device_id_for};
pub use error::{Error, Reason, rfc3339};
pub use keys::{EMBEDDED_KID, EMBEDDED_PUBKEY_B64, KeyProblem, KeyRing};
pub use revocation::{REVOCATIONS_SCHEMA_V1, RevocationList};
pub use store::MAX_FILE_BYTES;
use store::read_small_file;
pub use verify::{
    DEFAULT_IAT_SKEW_SECS, SignedLicense, VerifiedLicense, VerifyOptions, verify, verify_signature,
};

/// Environment variable: where the installed pack lives.
pub const ENV_PACK_PATH: &str = "LICENSE_PACK_PATH";
/// Environment variable: a `PUBKEYS.json` bundle path.
pub const ENV_PUBKEYS: &str = "AGENTOS_PUBKEYS";
/// Environment variable: extra keys, `kid=<b64>` comma-separated (as CCP reads it).
pub const ENV_PUBKEY_B64: &str = "CCP_LICENSE_PUBKEY_B64";
/// File name of the optional revocation list, next to the installed pack.
pub const REVOCATIONS_FILE: &str = "revocations.json";
/// Suffix of the key bundle remembered by [`install_pack`]: `<pack>.pubkeys.json`.
pub const INSTALLED_PUBKEYS_SUFFIX: &str = ".pubkeys.json";

/// Where the installed license and the trusted keys come from, plus clock/device overrides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LicenseConfig {
    /// The installed pack (`LICENSE_PACK_PATH`, else the caller's default
    /// `<data_dir>/license.pack`).
    pub pack_path: Utf8PathBuf,
    /// A `PUBKEYS.json` bundle (`AGENTOS_PUBKEYS` or `--pubkeys`).
    pub pubkeys_path: Option<Utf8PathBuf>,
    /// The `CCP_LICENSE_PUBKEY_B64` value (`kid=<b64>,…`).
    pub env_pubkeys: Option<String>,
    /// Device id override; `None` computes the CCP-compatible id of this machine.
    pub device: Option<String>,
    /// Clock override, Unix seconds; `None` uses the system clock.
    pub now: Option<i64>,
}

impl LicenseConfig {
    /// Reads `LICENSE_PACK_PATH`, `AGENTOS_PUBKEYS`, `CCP_LICENSE_PUBKEY_B64`;
    /// `default_pack_path` is used when `LICENSE_PACK_PATH` is unset or empty.
    pub fn from_env(default_pack_path: Utf8PathBuf) -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        LicenseConfig {
            pack_path: var(ENV_PACK_PATH).map(Utf8PathBuf::from).unwrap_or(default_pack_path),
            pubkeys_path: var(ENV_PUBKEYS).map(Utf8PathBuf::from),
            env_pubkeys: var(ENV_PUBKEY_B64),
            device: None,
            now: None,
        }
    }

    /// Where [`install_pack`] remembers the key bundle it verified with:
    /// `<pack_path>.pubkeys.json`, beside the pack.
    pub fn installed_pubkeys_path(&self) -> Utf8PathBuf {
        Utf8PathBuf::from(format!("{}{INSTALLED_PUBKEYS_SUFFIX}", self.pack_path))
    }

    /// The key ring: embedded `default` key, then the bundle installed beside the pack (when
    /// there is one), then the configured bundle, then the environment entries.
    pub fn key_ring(&self) -> Result<KeyRing, Error> {
        let mut ring = KeyRing::embedded();
        let installed = self.installed_pubkeys_path();
        match std::fs::metadata(&installed) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            _ => ring.add_bundle_file(&installed)?,
        }
        if let Some(path) = &self.pubkeys_path {
            ring.add_bundle_file(path)?;
        }
        if let Some(env) = &self.env_pubkeys {
            ring.add_env(env);
        }
        Ok(ring)
    }

    /// The time to check against.
    pub fn now(&self) -> i64 {
        self.now.unwrap_or_else(now_unix)
    }

    /// The device id to check against (override, else this machine's).
    pub fn device_id(&self) -> String {
        self.device.clone().unwrap_or_else(device_id)
    }

    /// The revocation list next to the pack, verified, when one is there.
    pub fn revocations(&self, ring: &KeyRing) -> Result<Option<RevocationList>, Error> {
        let dir = self.pack_path.parent().unwrap_or(Utf8Path::new("."));
        let body_path = dir.join(REVOCATIONS_FILE);
        let body = match read_small_file(&body_path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", &body_path, e)),
        };
        let sig_path = dir.join(format!("{REVOCATIONS_FILE}.sig"));
        let sig = read_small_file(&sig_path).map_err(|e| Error::io("read", &sig_path, e))?;
        let sig = String::from_utf8_lossy(&sig);
        RevocationList::verify(&body, &sig, ring).map(Some)
    }

    /// Full verification options for this configuration.
    pub fn verify_options(&self, ring: &KeyRing) -> Result<VerifyOptions, Error> {
        Ok(VerifyOptions {
            now: self.now(),
            device: Some(self.device_id()),
            iat_skew_secs: DEFAULT_IAT_SKEW_SECS,
            revocations: self.revocations(ring)?,
        })
    }

    /// Verify pack bytes (a pack or an issuer response) under this configuration.
    pub fn verify_pack_bytes(&self, bytes: &[u8]) -> Result<VerifiedLicense, Error> {
        let signed = SignedLicense::from_pack_bytes(bytes)?;
        let ring = self.key_ring()?;
        let opts = self.verify_options(&ring)?;
        Ok(verify(&signed, &ring, &opts)?.with_clock_override(self.now))
    }
}

/// Load the installed pack at `cfg.pack_path` and verify it fully (signature, schema, expiry,
/// device, revocation if a list is installed). A missing file is [`Error::NotInstalled`].
pub fn load_installed(cfg: &LicenseConfig) -> Result<VerifiedLicense, Error> {
    let bytes = read_installed(cfg)?;
    cfg.verify_pack_bytes(&bytes)
}

/// Verify a signed revocation list (`body` = every byte of `revocations.json`, `sig_text` = the
/// content of its `.sig`) and install both beside the pack, atomically each. A list issued
/// before the installed one (a valid installed list, by `issued_at`) is refused with
/// [`Error::RevocationsNotNewer`], and so is a different list with the same `issued_at`:
/// an older list never replaces a newer one. Re-installing the installed list is a no-op.
/// The signature file is written first: a crash between the two writes leaves a pair that
/// does not verify, which fails closed (`malformed`) until the list is installed again.
pub fn install_revocations(
    cfg: &LicenseConfig,
    body: &[u8],
    sig_text: &str,
) -> Result<RevocationList, Error> {
    let ring = cfg.key_ring()?;
    let list = RevocationList::verify(body, sig_text, &ring)?;
    if let Ok(Some(installed)) = cfg.revocations(&ring) {
        if installed == list {
            return Ok(list);
        }
        if list.issued_at <= installed.issued_at {
            return Err(Error::RevocationsNotNewer {
                offered: list.issued_at,
                installed: installed.issued_at,
            });
        }
    }
    let dir = cfg.pack_path.parent().unwrap_or(Utf8Path::new("."));
    let mut sig = sig_text.trim().as_bytes().to_vec();
    sig.push(b'\n');
    write_atomic(&dir.join(format!("{REVOCATIONS_FILE}.sig")), &sig)?;
    write_atomic(&dir.join(REVOCATIONS_FILE), body)?;
    Ok(list)
}

/// The installed pack's bytes (not verified).
pub fn read_installed(cfg: &LicenseConfig) -> Result<Vec<u8>, Error> {
    match read_small_file(&cfg.pack_path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(Error::NotInstalled { path: cfg.pack_path.clone() })
        }
        Err(e) => Err(Error::io("read", &cfg.pack_path, e)),
    }
}

/// Verify `bytes` (a pack or an issuer response) and, when valid, store the pack atomically
/// at `cfg.pack_path` (an issuer response is stored as the pack it holds, byte for byte).
/// When `cfg.pubkeys_path` names a key bundle, that bundle is stored too, atomically, at
/// [`LicenseConfig::installed_pubkeys_path`], so later loads trust the same keys without it.
pub fn install_pack(cfg: &LicenseConfig, bytes: &[u8]) -> Result<VerifiedLicense, Error> {
    let verified = cfg.verify_pack_bytes(bytes)?;
    if let Some(path) = &cfg.pubkeys_path {
        let bundle =
            read_small_file(path).map_err(|e| Error::io("read public key bundle", path, e))?;
        let target = cfg.installed_pubkeys_path();
        if *path != target {
            write_atomic(&target, &bundle)?;
        }
    }
    write_atomic(&cfg.pack_path, &pack_text(bytes))?;
    Ok(verified)
}

/// The pack bytes inside `bytes`: itself for a pack, `license_pack` plus a newline for an
/// issuer response (the same rule [`SignedLicense::from_pack_bytes`] applies).
pub(crate) fn pack_text(bytes: &[u8]) -> Vec<u8> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        license_pack: Option<String>,
        signature: Option<serde::de::IgnoredAny>,
    }
    match serde_json::from_slice::<Envelope>(bytes) {
        Ok(Envelope { license_pack: Some(p), signature: None }) => {
            let mut v = p.into_bytes();
            v.push(b'\n');
            v
        }
        _ => bytes.to_vec(),
    }
}

/// The system clock, Unix seconds.
pub fn now_unix() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}
