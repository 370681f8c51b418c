//! What to do next, in terms of `agentos` commands and flags, for the library errors that have
//! an answer on the command line. Libraries say what went wrong in their own terms and never
//! name a command; this is the one place that maps their structured errors to our commands.

use agentos_licensing::Error as LicenseError;

/// What to do when plain `http://` to another machine was refused.
pub const CLEARTEXT: &str = "or pass --allow-insecure-http (or set AGENTOS_ALLOW_INSECURE_HTTP=1) if the network on the way is trusted";

/// A failed delivery's message with the hint its kind has (plain `http://` refused).
pub fn failure(f: &agentos_ccc_client::Failure) -> String {
    match f.kind {
        agentos_ccc_client::ProblemKind::Cleartext => with(&f.message, Some(CLEARTEXT)),
        _ => f.message.clone(),
    }
}

/// The hint for the first error in `e`'s chain that has one.
pub fn for_chain(e: &anyhow::Error) -> Option<&'static str> {
    e.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<LicenseError>() {
            license(e)
        } else if let Some(e) = cause.downcast_ref::<agentos_rollup::Error>() {
            rollup(e)
        } else if let Some(e) = cause.downcast_ref::<agentos_ccc_client::Error>() {
            ccc_client(e)
        } else if let Some(e) = cause.downcast_ref::<agentos_ccc_client::ApiError>() {
            ccc_api(e)
        } else if let Some(e) = cause.downcast_ref::<agentos_backfill::Error>() {
            backfill(e)
        } else if let Some(e) = cause.downcast_ref::<agentos_rollup::usage::UsageError>() {
            usage(e)
        } else if let Some(e) = cause.downcast_ref::<agentos_tracker::WindowError>() {
            window(e)
        } else {
            None
        }
    })
}

/// `text` followed by `; hint` when `hint` is given.
pub fn with(text: impl std::fmt::Display, hint: Option<&str>) -> String {
    match hint {
        Some(hint) => format!("{text}; {hint}"),
        None => text.to_string(),
    }
}

/// The command-line answer to a license error.
pub fn license(e: &LicenseError) -> Option<&'static str> {
    Some(match e {
        LicenseError::SignatureMismatch { .. }
        | LicenseError::UnknownKey { .. }
        | LicenseError::NoKeys => "pass the issuer's key bundle with --pubkeys FILE",
        LicenseError::Expired { .. } => {
            "run `agentos license refresh` or `agentos license login` for a new one"
        }
        LicenseError::DeviceMismatch { .. } => {
            "run `agentos license login` on this machine (see `agentos license device`)"
        }
        LicenseError::NotInstalled { .. } => {
            "run `agentos license install PACK` or `agentos license login --issuer URL`"
        }
        LicenseError::EntitlementMissing { .. } => {
            "`agentos license login` or `agentos license install PACK` installs another license"
        }
        LicenseError::IssuerResponse { .. } => "check the --issuer URL",
        LicenseError::LoginIncomplete { .. } => "run `agentos license login` again",
        LicenseError::NoIssuer => {
            "pass --issuer URL (and --invite CODE) or log in once with `agentos license login --issuer URL`"
        }
        LicenseError::PolicySignatureMismatch => "check the key given with --pubkey",
        LicenseError::IssuerCleartext(_) => CLEARTEXT,
        _ => return None,
    })
}

/// The command-line answer to a rollup error.
pub fn rollup(e: &agentos_rollup::Error) -> Option<&'static str> {
    match e {
        agentos_rollup::Error::InvalidLine { .. } => {
            Some("run without --strict to skip bad lines with a diagnostic")
        }
        _ => None,
    }
}

/// The command-line answer to a recorder error.
pub fn ccc_client(e: &agentos_ccc_client::Error) -> Option<&'static str> {
    match e {
        agentos_ccc_client::Error::BaseUrl(_) => Some("or pass --base-url URL"),
        _ => None,
    }
}

/// The command-line answer to an error reading CCC.
pub fn ccc_api(e: &agentos_ccc_client::ApiError) -> Option<&'static str> {
    use agentos_ccc_client::ApiError;
    match e {
        ApiError::Unreachable { .. } | ApiError::BaseUrl(_) => {
            Some("is CCC running? set AGENTOS_CCC_BASE_URL or pass --base-url URL")
        }
        ApiError::Timeout { url, .. } if url.ends_with("/readyz") => Some(
            "CCC probes each provider for up to 2 s; `agentos ccc status --providers N` waits 2·N+1 s",
        ),
        ApiError::Timeout { .. } => Some("CCC is slow or stuck; check its process and logs"),
        ApiError::PersistenceDisabled { .. } => {
            Some("start CCC with CCP_PERSIST=1 to keep per-request history")
        }
        ApiError::Cleartext(_) => Some(CLEARTEXT),
        _ => None,
    }
}

/// The command-line answer to an import error.
pub fn backfill(e: &agentos_backfill::Error) -> Option<&'static str> {
    match e {
        agentos_backfill::Error::NotADirectory { .. }
        | agentos_backfill::Error::SourceDir { .. } => Some(
            "--claude-dir names a Claude Code config dir (e.g. ~/.claude), --codex-home a Codex home (e.g. ~/.codex)",
        ),
        agentos_backfill::Error::State { .. } => {
            Some("then run `agentos import` again: the events it writes repeat ids readers drop")
        }
        _ => None,
    }
}

/// The command-line answer to a usage-report error.
pub fn usage(e: &agentos_rollup::usage::UsageError) -> Option<&'static str> {
    use agentos_rollup::usage::UsageError;
    match e {
        UsageError::TimeZone { .. } => Some("--timezone takes an IANA zone name"),
        UsageError::Date { .. } | UsageError::EmptyRange { .. } => {
            Some("give a day such as --since 2026-11-01")
        }
        UsageError::Prices { .. } => Some(
            "fix or remove the price file (--prices FILE or <data dir>/prices.json; format in docs/usage.md)",
        ),
        _ => None,
    }
}

/// The command-line answer to a window command's refusal (the Python tracker's hints, so a
/// Week-0 protocol's scripts read the same lines).
pub fn window(e: &agentos_tracker::WindowError) -> Option<&'static str> {
    use agentos_tracker::WindowError;
    match e {
        WindowError::NoBefore { .. } => Some("run start first"),
        WindowError::GlmNoBaseline { action: "cross" } => {
            Some("run zs before zx or provide --window")
        }
        WindowError::GlmNoBaseline { .. } => Some("run zs before ze or provide --window"),
        _ => None,
    }
}
