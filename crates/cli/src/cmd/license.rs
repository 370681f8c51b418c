//! `agentos license …` (verify, install, status, entitlements, device, login, refresh) and
//! `agentos policy verify`. All decisions live in `agentos-licensing`; this module reads files,
//! prints, and maps verdicts to exit codes: 0 valid, 1 invalid/denied, 2 usage or I/O error.

use std::process::ExitCode;
use std::time::Duration;

use agentos_licensing::issuer::{self, IssuerClient, IssuerSource, LoginOptions, RefreshOutcome};
use agentos_licensing::{
    Error, KeyRing, LicenseConfig, SignedLicense, VerifiedLicense, entitlements, rfc3339, verify,
    verify_signature,
};
use anyhow::{Context, bail};
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::json;

use crate::Global;

/// License commands.
#[derive(Debug, clap::Subcommand)]
pub enum LicenseCmd {
    /// Verify a pack (or a detached license.json + license.sig) offline.
    /// Exit 0 valid, 1 invalid, 2 usage or I/O error.
    Verify(VerifyArgs),
    /// Verify a pack (or an issuer response holding one) and install it atomically at
    /// $LICENSE_PACK_PATH, else <data-dir>/license.pack.
    Install {
        /// The pack file.
        pack: Utf8PathBuf,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Verify a signed revocation list and install it beside the pack; a list older than the
    /// installed one is refused (exit 1).
    InstallRevocations {
        /// revocations.json.
        list: Utf8PathBuf,
        /// Its signature file (standard base64).
        #[arg(long, value_name = "SIG")]
        sig: Utf8PathBuf,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Verify the installed license and print what it grants. Exit 1 when none is valid.
    Status {
        #[command(flatten)]
        keys: KeyArgs,
        /// Print JSON (same shape as `verify --json`).
        #[arg(long)]
        json: bool,
    },
    /// List features and whether the installed license grants them (deny by default).
    /// Exit 1 when no license is valid.
    Entitlements {
        #[command(flatten)]
        keys: KeyArgs,
        /// Print JSON `{"valid","reason","plan","entitlements":[{"feature","granted","why"}]}`.
        #[arg(long)]
        json: bool,
    },
    /// Print this machine's CCP-compatible device id.
    Device {
        /// Print JSON `{"device_id":…}`.
        #[arg(long)]
        json: bool,
    },
    /// Get a license for this device through the issuer's device flow and install it.
    Login {
        /// Issuer base URL (CCP licissuer), e.g. http://127.0.0.1:8787.
        #[arg(long, value_name = "URL")]
        issuer: String,
        /// Invite code (the issuer has a default trial invite).
        #[arg(long, value_name = "CODE")]
        invite: Option<String>,
        /// E-mail to put in the license.
        #[arg(long)]
        email: Option<String>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 600, value_name = "SECS")]
        timeout: u64,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Ask the issuer for a fresh pack; install it only when it is valid and newer.
    Refresh {
        /// Issuer base URL (default: the one used at login).
        #[arg(long, value_name = "URL")]
        issuer: Option<String>,
        /// Invite code (default: the one used at login; none = device flow).
        #[arg(long, value_name = "CODE")]
        invite: Option<String>,
        #[command(flatten)]
        keys: KeyArgs,
    },
}

/// Where trusted keys come from (besides the embedded `default` key and
/// $CCP_LICENSE_PUBKEY_B64), and clock/device overrides.
#[derive(Debug, Clone, clap::Args)]
pub struct KeyArgs {
    /// A PUBKEYS.json bundle (default: $AGENTOS_PUBKEYS).
    #[arg(long, value_name = "FILE")]
    pub pubkeys: Option<Utf8PathBuf>,
    /// Check at this time (Unix seconds) instead of now.
    #[arg(long, value_name = "UNIX", allow_hyphen_values = true)]
    pub now: Option<i64>,
    /// Check against this device id instead of this machine's ("" skips the check).
    #[arg(long, value_name = "ID")]
    pub device: Option<String>,
}

/// `license verify` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// The pack file (`{"license":{…},"signature":"…"}` or an issuer response).
    #[arg(required_unless_present = "license", conflicts_with_all = ["license", "sig"])]
    pub pack: Option<Utf8PathBuf>,
    /// A detached license.json (every byte is signed, trailing newline included).
    #[arg(long, value_name = "FILE", requires = "sig")]
    pub license: Option<Utf8PathBuf>,
    /// The detached signature file (standard base64).
    #[arg(long, value_name = "FILE", requires = "license")]
    pub sig: Option<Utf8PathBuf>,
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Print `{"valid":…,"reason":…,"claims":…}`.
    #[arg(long)]
    pub json: bool,
}

/// Policy commands.
#[derive(Debug, clap::Subcommand)]
pub enum PolicyCmd {
    /// Verify a signed policy pack (Ed25519 over the raw file bytes) and check version,
    /// expiresAt and routing. Exit 0 valid, 1 invalid, 2 usage or I/O error.
    Verify {
        /// policy.json.
        policy: Utf8PathBuf,
        /// The signature file (standard base64).
        #[arg(long, value_name = "SIG")]
        sig: Utf8PathBuf,
        /// The public key file (standard base64 of 32 bytes).
        #[arg(long, value_name = "PUB")]
        pubkey: Utf8PathBuf,
        /// Check expiry at this time (Unix seconds) instead of now.
        #[arg(long, value_name = "UNIX", allow_hyphen_values = true)]
        now: Option<i64>,
        /// Print JSON `{"valid":…,"error":…,"policy":…}`.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: LicenseCmd, global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {
        LicenseCmd::Verify(args) => verify_cmd(&args, global),
        LicenseCmd::Install { pack, keys } => {
            let cfg = config(global, &keys);
            warn_key_problems(&cfg);
            let bytes = read(&pack)?;
            match agentos_licensing::install_pack(&cfg, &bytes) {
                Ok(v) => {
                    outln!("installed {}", cfg.pack_path);
                    if cfg.pubkeys_path.is_some() {
                        outln!("trusted keys stored at {}", cfg.installed_pubkeys_path());
                    }
                    print_valid(&v);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => verdict_error(e),
            }
        }
        LicenseCmd::InstallRevocations { list, sig, keys } => {
            let cfg = config(global, &keys);
            warn_key_problems(&cfg);
            let body = read(&list)?;
            let sig = read_text(&sig)?;
            match agentos_licensing::install_revocations(&cfg, &body, &sig) {
                Ok(l) => {
                    outln!(
                        "installed revocation list issued at {} ({} nonce(s), {} subject(s))",
                        rfc3339(l.issued_at),
                        l.revoked_nonces.len(),
                        l.revoked_subs.len()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e @ Error::RevocationsNotNewer { .. }) => {
                    outln!("refused: {}", crate::hints::with(&e, crate::hints::license(&e)));
                    Ok(ExitCode::from(1))
                }
                Err(e) => verdict_error(e),
            }
        }
        LicenseCmd::Status { keys, json } => {
            let cfg = config(global, &keys);
            warn_key_problems(&cfg);
            let result = agentos_licensing::load_installed(&cfg);
            if json {
                let claims = match &result {
                    Ok(v) => Some(v.claims().clone()),
                    Err(_) => signed_claims(&cfg),
                };
                return emit_json(&result, claims);
            }
            match result {
                Ok(v) => {
                    outln!("license {} is valid", cfg.pack_path);
                    print_valid(&v);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => verdict_error(e),
            }
        }
        LicenseCmd::Entitlements { keys, json } => {
            let cfg = config(global, &keys);
            warn_key_problems(&cfg);
            let result = agentos_licensing::load_installed(&cfg);
            let mut names: Vec<String> =
                entitlements::KNOWN_FEATURES.iter().map(|(f, _)| (*f).to_owned()).collect();
            if let Ok(v) = &result {
                for f in &v.claims().features {
                    if !names.contains(f) {
                        names.push(f.clone());
                    }
                }
            }
            let mut rows = Vec::with_capacity(names.len());
            for name in &names {
                let (granted, why) = match &result {
                    Ok(v) => match v.check_entitlement(name) {
                        Ok(()) => (true, format!("plan {}", v.claims().plan)),
                        Err(_) => {
                            let plan = &v.claims().plan;
                            let why = match entitlements::plan_for(name) {
                                Some(p) if p != plan => {
                                    format!(
                                        "not in this license (plan {plan}); comes with plan {p}"
                                    )
                                }
                                _ => format!("not in this license (plan {plan})"),
                            };
                            (false, why)
                        }
                    },
                    Err(e) => (false, reason_of(e).unwrap_or("no license").to_owned()),
                };
                rows.push((name, granted, why));
            }
            if json {
                let v = json!({
                    "valid": result.is_ok(),
                    "reason": result.as_ref().err().and_then(reason_of),
                    "plan": result.as_ref().ok().map(|v| v.claims().plan.clone()),
                    "entitlements": rows.iter().map(|(name, granted, why)| {
                        json!({"feature": name, "granted": granted, "why": why})
                    }).collect::<Vec<_>>(),
                });
                outln!("{v}");
                return Ok(if result.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) });
            }
            let width = names.iter().map(String::len).max().unwrap_or(0);
            for (name, granted, why) in &rows {
                let mark = if *granted { "granted" } else { "denied " };
                outln!("{name:width$}  {mark}  {why}");
            }
            match result {
                Ok(_) => Ok(ExitCode::SUCCESS),
                Err(e) => {
                    eprintln!("{e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        LicenseCmd::Device { json } => {
            let id = agentos_licensing::device_id();
            if json {
                outln!("{}", json!({ "device_id": id }));
            } else {
                outln!("{id}");
            }
            Ok(ExitCode::SUCCESS)
        }
        LicenseCmd::Login { issuer, invite, email, timeout, keys } => {
            let cfg = config(global, &keys);
            warn_key_problems(&cfg);
            let client = IssuerClient::new(&issuer).with_cleartext(global.cleartext());
            let opts = LoginOptions {
                invite_code: invite,
                email,
                timeout: Duration::from_secs(timeout),
                ..LoginOptions::default()
            };
            let result = issuer::login(&cfg, &client, &opts, &mut |b| {
                eprintln!("open {} and enter code {}", b.authorize_url, b.user_code);
                eprintln!("waiting for the issuer (up to {timeout} s)…");
            });
            match result {
                Ok(v) => {
                    outln!("installed {}", cfg.pack_path);
                    print_valid(&v);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => verdict_error(e),
            }
        }
        LicenseCmd::Refresh { issuer: url, invite, keys } => {
            let cfg = config(global, &keys);
            warn_key_problems(&cfg);
            let remembered = IssuerSource::load(&cfg);
            let Some(url) = url.or_else(|| remembered.as_ref().map(|s| s.issuer.clone())) else {
                bail!(Error::NoIssuer);
            };
            let invite = invite.or_else(|| remembered.and_then(|s| s.invite_code));
            let client = IssuerClient::new(&url).with_cleartext(global.cleartext());
            let opts =
                LoginOptions { timeout: Duration::from_secs(120), ..LoginOptions::default() };
            match issuer::refresh(&cfg, &client, invite.as_deref(), &opts) {
                Ok(RefreshOutcome::Replaced { license, previous_exp }) => {
                    match previous_exp {
                        Some(p) => {
                            outln!("refreshed {} (was valid until {})", cfg.pack_path, rfc3339(p))
                        }
                        None => outln!("installed {}", cfg.pack_path),
                    }
                    print_valid(&license);
                    Ok(ExitCode::SUCCESS)
                }
                Ok(RefreshOutcome::Kept { installed }) => {
                    outln!("the installed license is already the newest; kept {}", cfg.pack_path);
                    print_valid(&installed);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => verdict_error(e),
            }
        }
    }
}

pub fn run_policy(cmd: PolicyCmd, _global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCmd::Verify { policy, sig, pubkey, now, json } => {
            let body = read(&policy)?;
            let sig = read_text(&sig)?;
            let pubkey = read_text(&pubkey)?;
            let now = now.unwrap_or_else(agentos_licensing::now_unix);
            let result = agentos_licensing::policy::verify_policy(&body, &sig, &pubkey, now);
            if json {
                let out = match &result {
                    Ok(p) => json!({"valid": true, "error": null, "policy": p}),
                    Err(e) => json!({"valid": false, "error": e.to_string(), "policy": null}),
                };
                outln!("{out}");
            } else {
                match &result {
                    Ok(p) => outln!(
                        "valid: version {}, expires {}, {}, {}",
                        p.version,
                        p.expires_at,
                        crate::plural(p.routing.len() as u64, "routing rule"),
                        crate::plural(p.providers.len() as u64, "provider")
                    ),
                    Err(e) => {
                        outln!("invalid: {}", crate::hints::with(e, crate::hints::license(e)))
                    }
                }
            }
            Ok(if result.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}

fn verify_cmd(args: &VerifyArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let cfg = config(global, &args.keys);
    warn_key_problems(&cfg);
    let signed = match (&args.pack, &args.license, &args.sig) {
        (Some(pack), None, None) => SignedLicense::from_pack_bytes(&read(pack)?),
        (None, Some(lic), Some(sig)) => SignedLicense::from_detached(read(lic)?, &read_text(sig)?),
        _ => bail!("give either PACK or --license FILE --sig FILE"),
    };
    let ring = cfg.key_ring()?;
    let (result, claims) = match signed {
        Err(e) => (Err(e), None),
        Ok(signed) => {
            let opts = match cfg.verify_options(&ring) {
                Ok(o) => o,
                Err(e) if e.reason().is_none() => return Err(e.into()),
                Err(e) => return finish(args.json, Err(e), None),
            };
            let claims = verify_signature(&signed, &ring).ok().map(|(_, c)| c);
            (verify(&signed, &ring, &opts), claims)
        }
    };
    finish(args.json, result, claims)
}

fn finish(
    json: bool,
    result: Result<VerifiedLicense, Error>,
    claims: Option<agentos_event_schema::ccp::LicenseClaims>,
) -> anyhow::Result<ExitCode> {
    if json {
        return emit_json(&result, claims);
    }
    match result {
        Ok(v) => {
            print_valid(&v);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => verdict_error(e),
    }
}

/// `{"valid","reason","claims"}`; errors that are not verdicts (I/O, network) are exit 2.
fn emit_json(
    result: &Result<VerifiedLicense, Error>,
    claims: Option<agentos_event_schema::ccp::LicenseClaims>,
) -> anyhow::Result<ExitCode> {
    let reason = match result {
        Ok(_) => None,
        Err(e) => match reason_of(e) {
            Some(r) => Some(r),
            None => bail!("{e}"),
        },
    };
    let out = json!({ "valid": result.is_ok(), "reason": reason, "claims": claims });
    outln!("{out}");
    Ok(if result.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Why a license is not valid, as a stable word: the verdict's reason, or `not_installed`;
/// `None` for errors that are not verdicts (I/O, network).
fn reason_of(e: &Error) -> Option<&'static str> {
    match e.reason() {
        Some(r) => Some(r.as_str()),
        None if matches!(e, Error::NotInstalled { .. }) => Some("not_installed"),
        None => None,
    }
}

/// A rejected license is exit 1 with its one-line reason; anything else is an error (exit 2).
fn verdict_error(e: Error) -> anyhow::Result<ExitCode> {
    if e.reason().is_some() || matches!(e, Error::NotInstalled { .. }) {
        outln!("invalid: {}", crate::hints::with(&e, crate::hints::license(&e)));
        return Ok(ExitCode::from(1));
    }
    Err(e.into())
}

fn print_valid(v: &VerifiedLicense) {
    let c = v.claims();
    outln!("valid: plan {}", c.plan);
    outln!(
        "  features: {}",
        if c.features.is_empty() { "(none)".to_owned() } else { c.features.join(", ") }
    );
    outln!("  expires:  {} (exp {})", rfc3339(c.exp), c.exp);
    outln!("  kid:      {}", v.kid());
    if !c.sub.is_empty() {
        outln!("  subject:  {}", c.sub);
    }
    match c.device.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => outln!("  device:   {d}"),
        None => outln!("  device:   any"),
    }
}

/// Claims of the installed pack when its signature verifies (for `status --json`).
fn signed_claims(cfg: &LicenseConfig) -> Option<agentos_event_schema::ccp::LicenseClaims> {
    let bytes = agentos_licensing::read_installed(cfg).ok()?;
    let signed = SignedLicense::from_pack_bytes(&bytes).ok()?;
    let ring = cfg.key_ring().ok()?;
    verify_signature(&signed, &ring).ok().map(|(_, c)| c)
}

fn warn_key_problems(cfg: &LicenseConfig) {
    if let Ok(ring) = cfg.key_ring() {
        warn_ring(&ring);
    }
}

fn warn_ring(ring: &KeyRing) {
    for p in ring.problems() {
        eprintln!("warning: skipped {p}; fix or remove it");
    }
}

/// The license configuration: environment, then flags; the data dir from --data-dir /
/// AGENTOS_DATA_DIR, else `agentos_ccc_client::config::default_data_dir()`.
pub fn config(global: &Global, keys: &KeyArgs) -> LicenseConfig {
    let data_dir =
        global.data_dir.clone().unwrap_or_else(agentos_ccc_client::config::default_data_dir);
    let mut cfg = LicenseConfig::from_env(data_dir.join("license.pack"));
    if let Some(p) = &keys.pubkeys {
        cfg.pubkeys_path = Some(p.clone());
    }
    cfg.now = keys.now;
    cfg.device = keys.device.clone();
    cfg
}

/// A license, key or policy file named on the command line: at most
/// [`agentos_licensing::MAX_FILE_BYTES`], a regular file (a FIFO is refused, never waited on).
fn read(path: &Utf8Path) -> anyhow::Result<Vec<u8>> {
    match agentos_fsio::read_bounded(path, agentos_licensing::MAX_FILE_BYTES) {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => anyhow::bail!("cannot read {path}: no such file; check the path"),
        Err(e) => Err(anyhow::Error::new(e).context("not a license, key or policy file")),
    }
}

fn read_text(path: &Utf8Path) -> anyhow::Result<String> {
    String::from_utf8(read(path)?).with_context(|| format!("{path} is not UTF-8 text"))
}
