//! `agentos ccc config`: CCC's `providers.yaml` and `quotas.json` next to what CCC loaded,
//! the differences and suggestions (`agentos_ccc_client::api::review`). Never writes them.

use std::process::ExitCode;

use agentos_ccc_client::api::{
    ConfigInputs, Finding, ProvidersCatalog, ReadTimeouts, Severity, parse_providers,
    parse_quotas_file, review,
};
use anyhow::Context as _;
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::json;

use super::{Conn, client};
use crate::table::{cell, sanitize};

/// Largest config file read.
const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// Options of `config`.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub conn: Conn,
    /// CCC's providers catalog. Default: $CCP_PROVIDERS_FILE, else
    /// ~/.config/ccp/providers.yaml, else ./configs/providers.yaml (CCP's lookup).
    #[arg(long, value_name = "FILE")]
    pub providers: Option<Utf8PathBuf>,
    /// CCC's quotas file. Default: the file CCC says it loaded, when readable here, else
    /// $CCP_QUOTAS_FILE, else ~/.config/ccp/quotas.json.
    #[arg(long, value_name = "FILE")]
    pub quotas: Option<Utf8PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn env_path(name: &str) -> Option<Utf8PathBuf> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty()).map(Utf8PathBuf::from)
}

fn home_file(rel: &str) -> Option<Utf8PathBuf> {
    env_path("HOME").map(|h| h.join(rel)).filter(|p| p.is_file())
}

fn read(path: &Utf8Path) -> anyhow::Result<String> {
    let bytes = agentos_fsio::read_bounded(path, MAX_CONFIG_BYTES)?
        .with_context(|| format!("{path} does not exist"))?;
    String::from_utf8(bytes).with_context(|| format!("{path} is not UTF-8 text"))
}

pub fn run(a: &ConfigArgs, g: &crate::Global) -> anyhow::Result<ExitCode> {
    let api = client(&a.conn, ReadTimeouts::default(), g)?;
    // What CCC runs with; when it is down, the files are still reviewed.
    let live = (|| -> Result<_, agentos_ccc_client::ApiError> {
        Ok((api.quotas()?, api.usage()?, api.readyz()?))
    })();
    let (loaded, usage, readyz) = match &live {
        Ok((q, u, r)) => (Some(q), Some(u), Some(r)),
        Err(_) => (None, None, None),
    };
    let providers_path =
        a.providers.clone().or_else(|| env_path("CCP_PROVIDERS_FILE")).or_else(|| {
            home_file(".config/ccp/providers.yaml").or_else(|| {
                Some(Utf8PathBuf::from("configs/providers.yaml")).filter(|p| p.is_file())
            })
        });
    let quotas_path = a.quotas.clone().or_else(|| {
        loaded
            .map(|l| Utf8PathBuf::from(&l.path))
            .filter(|p| !p.as_str().is_empty() && p.is_file())
            .or_else(|| env_path("CCP_QUOTAS_FILE"))
            .or_else(|| home_file(".config/ccp/quotas.json"))
    });
    let catalog: Option<ProvidersCatalog> = match &providers_path {
        Some(p) => Some(parse_providers(&read(p)?).with_context(|| p.to_string())?),
        None => None,
    };
    let quotas_file = match &quotas_path {
        Some(p) => Some(parse_quotas_file(&read(p)?).with_context(|| p.to_string())?),
        None => None,
    };
    let findings = review(&ConfigInputs {
        providers: catalog.as_ref(),
        quotas_file: quotas_file.as_ref().zip(quotas_path.as_ref().map(|p| p.as_str())),
        loaded,
        usage,
        readyz,
    });
    let problems = findings.iter().filter(|f| f.severity == Severity::Problem).count();
    if a.json {
        let text = serde_json::to_string_pretty(&json!({
            "providers_file": providers_path,
            "quotas_file": quotas_path,
            "loaded": loaded.map(|l| json!({"quotas_path": l.path, "loaded_at": l.loaded,
                "providers_source": readyz.and_then(|r| r.body.source.clone())})),
            "findings": findings,
        }))?;
        outln!("{text}");
    } else {
        out!(
            "{}",
            render(
                providers_path.as_deref(),
                catalog.as_ref(),
                quotas_path.as_deref(),
                &live,
                &findings
            )
        );
    }
    if let Err(e) = live {
        return Err(e.into());
    }
    Ok(if problems > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn render(
    providers: Option<&Utf8Path>,
    catalog: Option<&ProvidersCatalog>,
    quotas: Option<&Utf8Path>,
    live: &Result<
        (
            agentos_event_schema::ccp::QuotasResponse,
            agentos_event_schema::ccp::UsageResponse,
            agentos_ccc_client::api::Readiness,
        ),
        agentos_ccc_client::ApiError,
    >,
    findings: &[Finding],
) -> String {
    let mut out = String::new();
    match (providers, catalog) {
        (Some(p), Some(c)) => out.push_str(&format!(
            "Providers file: {} ({} providers, {} routes)\n",
            cell(p.as_str()),
            c.providers.len(),
            c.routes.len()
        )),
        _ => out.push_str("Providers file: none found (pass --providers FILE)\n"),
    }
    match quotas {
        Some(q) => out.push_str(&format!("Quotas file: {}\n", cell(q.as_str()))),
        None => out.push_str("Quotas file: none found (pass --quotas FILE)\n"),
    }
    if let Ok((q, _, r)) = live {
        out.push_str(&format!(
            "CCC loaded: quotas from {} at {}; providers from {}\n",
            cell(&super::shown_path(&q.path)),
            cell(&q.loaded),
            cell(r.body.source.as_deref().unwrap_or("(catalog broken)"))
        ));
    }
    if findings.is_empty() {
        out.push_str("Nothing to report: CCC runs what the files say.\n");
    }
    for f in findings {
        let label = match f.severity {
            Severity::Problem => "problem",
            Severity::Differs => "differs",
            _ => "suggestion",
        };
        out.push_str(&format!("{label}: {}: {}\n", cell(&f.subject), sanitize(&f.message, 400)));
    }
    if findings.iter().any(|f| f.severity == Severity::Differs) {
        out.push_str("`agentos ccc quotas reload` makes CCC load its quotas file again.\n");
    }
    out
}
