//! Parsing signed licenses (pack, detached pair, issuer response) and verifying them the way
//! CCP's `license.VerifyBytes` does, with a deterministic key order.

use agentos_event_schema::ccp::{LICENSE_SCHEMA_V1, LicenseClaims, LicensePack};
use serde::Deserialize;

use crate::gokeys::{CLAIMS_FIELDS, Level, PACK_FIELDS, key_problem};
use crate::revocation::RevocationList;
use crate::signature::Signature;
use crate::{Error, KeyRing};

/// Default allowance for an `iat` ahead of this machine's clock, seconds.
pub const DEFAULT_IAT_SKEW_SECS: i64 = 300;

const PACK_HINT: &str =
    "a pack is {\"license\":{…},\"signature\":\"<base64>\"}; get the file again from your issuer";
/// A license with its signature, before verification: the exact signed bytes are kept.
/// Parsing refuses keys that CCP's Go parser would read differently (see `gokeys`).
/// `Debug` never shows the signature.
#[derive(Clone, Debug)]
pub struct SignedLicense {
    license: Vec<u8>,
    signature: Signature,
}

#[derive(Deserialize)]
struct IssuerEnvelope {
    license_pack: String,
}

impl SignedLicense {
    /// Parse a pack `{"license":{…},"signature":"…"}`, or an issuer response whose
    /// `license_pack` is a JSON string holding such a pack. The license's bytes are kept exactly
    /// as they stand in the input.
    pub fn from_pack_bytes(bytes: &[u8]) -> Result<SignedLicense, Error> {
        let value: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(bytes)
            .map_err(|e| {
                Error::malformed("license pack", format!("not a JSON object ({e})"), PACK_HINT)
            })?;
        if value.contains_key("license_pack") && !value.contains_key("signature") {
            let env: IssuerEnvelope = serde_json::from_slice(bytes).map_err(|e| {
                Error::malformed(
                    "issuer response",
                    format!("license_pack is not a string ({e})"),
                    PACK_HINT,
                )
            })?;
            return Self::from_plain_pack(env.license_pack.as_bytes());
        }
        Self::from_plain_pack(bytes)
    }

    fn from_plain_pack(bytes: &[u8]) -> Result<SignedLicense, Error> {
        let levels: [Level<'_>; 2] = [(&[], PACK_FIELDS), (&["license"], CLAIMS_FIELDS)];
        if let Some(problem) = key_problem(bytes, &levels) {
            return Err(Error::malformed("license pack", problem, PACK_HINT));
        }
        let pack: LicensePack = serde_json::from_slice(bytes)
            .map_err(|e| Error::malformed("license pack", describe_json_error(&e), PACK_HINT))?;
        let signature = Signature::from_b64(&pack.signature, "license pack signature")?;
        Ok(SignedLicense { license: pack.license.get().as_bytes().to_vec(), signature })
    }

    /// A detached pair: `license_bytes` is every byte of `license.json` (trailing newline
    /// included), `sig_text` the content of `license.sig`.
    pub fn from_detached(license_bytes: Vec<u8>, sig_text: &str) -> Result<SignedLicense, Error> {
        if let Some(problem) = key_problem(&license_bytes, &[(&[], CLAIMS_FIELDS)]) {
            return Err(Error::malformed("license claims", problem, PACK_HINT));
        }
        let signature = Signature::from_b64(sig_text, "signature file")?;
        Ok(SignedLicense { license: license_bytes, signature })
    }

    /// The exact bytes the signature covers.
    pub fn license_bytes(&self) -> &[u8] {
        &self.license
    }

    /// Parse the claims without checking anything (for display of rejected licenses only).
    pub fn unverified_claims(&self) -> Option<LicenseClaims> {
        serde_json::from_slice(&self.license).ok()
    }
}

/// The pack parse error without echoing input (serde messages for RawValue/strings may quote it).
fn describe_json_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    if msg.contains("missing field") || msg.contains("duplicate field") {
        msg
    } else {
        let kind = match e.classify() {
            serde_json::error::Category::Data => "unexpected value",
            serde_json::error::Category::Eof => "truncated JSON",
            _ => "invalid JSON",
        };
        format!("{kind} at line {} column {}", e.line(), e.column())
    }
}

/// What to check a license against.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// Current time, Unix seconds.
    pub now: i64,
    /// This machine's device id; `None` or `""` skips the device check (as CCP does).
    pub device: Option<String>,
    /// How far `iat` may lie in the future, seconds.
    pub iat_skew_secs: i64,
    /// A verified revocation list to consult.
    pub revocations: Option<RevocationList>,
}

impl VerifyOptions {
    /// Check at `now`, no device, default skew, no revocation list.
    pub fn at(now: i64) -> VerifyOptions {
        VerifyOptions { now, device: None, iat_skew_secs: DEFAULT_IAT_SKEW_SECS, revocations: None }
    }

    /// Set the device id.
    pub fn with_device(mut self, device: impl Into<String>) -> VerifyOptions {
        self.device = Some(device.into());
        self
    }
}

/// A license that passed every check. Only [`verify`] (and the loaders built on it) make one,
/// so holding one means: signature, schema, expiry, device and revocation were all fine.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedLicense {
    claims: LicenseClaims,
    kid: String,
    clock_override: Option<i64>,
}

impl VerifiedLicense {
    /// The verified claims.
    pub fn claims(&self) -> &LicenseClaims {
        &self.claims
    }

    /// Id of the key that verified the signature.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// `Ok(())` when `feature` is granted; otherwise [`Error::EntitlementMissing`] naming the
    /// feature and which plan has it, or [`Error::Expired`] when the license expired since it
    /// was verified (checked against the same clock it was verified with).
    pub fn check_entitlement(&self, feature: &str) -> Result<(), Error> {
        let now = self.clock_override.unwrap_or_else(crate::now_unix);
        if now > self.claims.exp {
            return Err(Error::Expired { exp: self.claims.exp, now });
        }
        if self.claims.features.iter().any(|f| f == feature) {
            return Ok(());
        }
        Err(Error::EntitlementMissing {
            feature: feature.to_owned(),
            plan: self.claims.plan.clone(),
            hint: crate::entitlements::missing_hint(feature),
        })
    }

    /// Whether `feature` is granted (see [`VerifiedLicense::check_entitlement`]).
    pub fn has(&self, feature: &str) -> bool {
        self.check_entitlement(feature).is_ok()
    }
}

#[derive(Deserialize)]
struct KidProbe {
    #[serde(default)]
    kid: Option<String>,
}

/// Verify a signed license against a key ring, in CCP's order: signature, schema, expiry
/// (`now > exp` ⇒ expired), `iat` not beyond the skew allowance, device, revocation.
///
/// Keys are tried deterministically: when the claims name a `kid`, only keys with that id can
/// accept the license (CCP's kid rule), so those are the ones tried; otherwise every key in
/// ring order. Malformed keys were set aside when the ring was built and never stop the others.
pub fn verify(
    signed: &SignedLicense,
    ring: &KeyRing,
    opts: &VerifyOptions,
) -> Result<VerifiedLicense, Error> {
    let (kid, claims) = verify_signature(signed, ring)?;
    check_claims(claims, kid, opts)
}

/// Signature step only: the id of the verifying key and the (signed) claims.
pub fn verify_signature(
    signed: &SignedLicense,
    ring: &KeyRing,
) -> Result<(String, LicenseClaims), Error> {
    if ring.is_empty() {
        return Err(match ring.problems().first() {
            Some(p) => Error::malformed(
                format!("public key `{}`", p.id),
                p.problem.clone(),
                "fix the key (standard base64 of 32 bytes); it is the only one configured",
            ),
            None => Error::NoKeys,
        });
    }
    let msg = signed.license_bytes();
    let claimed_kid =
        serde_json::from_slice::<KidProbe>(msg).ok().and_then(|p| p.kid).filter(|k| !k.is_empty());
    let found = match &claimed_kid {
        Some(want) => {
            let mut tried = false;
            let mut hit = None;
            for (id, key) in ring.keys().iter().filter(|(id, _)| id == want) {
                tried = true;
                if signed.signature.verifies(key, msg) {
                    hit = Some(id.clone());
                    break;
                }
            }
            if !tried {
                if let Some(p) = ring.problems().iter().find(|p| &p.id == want) {
                    return Err(Error::malformed(
                        format!("public key `{}`", p.id),
                        p.problem.clone(),
                        "the license names this key: fix its base64 (32 raw bytes)",
                    ));
                }
                return Err(Error::UnknownKey {
                    kid: want.clone(),
                    known: ring.ids().join(", "),
                    ignored: ring.ignored_note(),
                });
            }
            hit
        }
        None => ring
            .keys()
            .iter()
            .find(|(_, key)| signed.signature.verifies(key, msg))
            .map(|(id, _)| id.clone()),
    };
    let Some(kid) = found else {
        let tried = match &claimed_kid {
            Some(k) => k.clone(),
            None => ring.ids().join(", "),
        };
        return Err(Error::SignatureMismatch { tried, ignored: ring.ignored_note() });
    };
    let mut claims: LicenseClaims = serde_json::from_slice(msg).map_err(|e| {
        Error::malformed(
            "license claims",
            e.to_string(),
            "the signed claims are not ccp.license.v1 JSON (exp must be an integer): ask your issuer",
        )
    })?;
    match claims.kid.as_deref() {
        Some(k) if !k.is_empty() && k != kid => {
            // Unreachable with a consistent parse; kept as CCP's rule.
            return Err(Error::SignatureMismatch {
                tried: k.to_owned(),
                ignored: ring.ignored_note(),
            });
        }
        Some(k) if !k.is_empty() => {}
        _ => claims.kid = Some(kid.clone()),
    }
    Ok((kid, claims))
}

/// Claim checks after the signature, in CCP's order plus ours (iat skew, revocation).
pub(crate) fn check_claims(
    claims: LicenseClaims,
    kid: String,
    opts: &VerifyOptions,
) -> Result<VerifiedLicense, Error> {
    if claims.schema != LICENSE_SCHEMA_V1 {
        return Err(Error::SchemaMismatch { found: claims.schema.clone() });
    }
    if opts.now > claims.exp {
        return Err(Error::Expired { exp: claims.exp, now: opts.now });
    }
    if let Some(iat) = claims.iat
        && iat > opts.now.saturating_add(opts.iat_skew_secs)
    {
        return Err(Error::NotYetValid { iat, now: opts.now });
    }
    let licensed = claims.device.as_deref().unwrap_or("");
    let runtime = opts.device.as_deref().unwrap_or("");
    if !licensed.is_empty() && !runtime.is_empty() && licensed != runtime {
        return Err(Error::DeviceMismatch {
            licensed: licensed.to_owned(),
            runtime: runtime.to_owned(),
        });
    }
    if let Some(list) = &opts.revocations {
        list.check(&claims)?;
    }
    Ok(VerifiedLicense { claims, kid, clock_override: None })
}

impl VerifiedLicense {
    pub(crate) fn with_clock_override(mut self, now: Option<i64>) -> VerifiedLicense {
        self.clock_override = now;
        self
    }
}
