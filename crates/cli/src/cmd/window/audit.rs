//! `agentos window audit --window W [--json | --format text|json]` (also `window-audit`;
//! reference §7.3.6).

use std::process::ExitCode;

use agentos_tracker::audit::audit;
use agentos_tracker::store::TrackerDir;
use anyhow::Result;

use super::warn_corrupt;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Lines for people.
    Text,
    /// The JSON document.
    Json,
}

/// `window audit` arguments.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// The window id.
    #[arg(long)]
    window: String,
    /// text or json.
    #[arg(long, value_enum, default_value = "text")]
    format: FormatArg,
    /// JSON output (overrides --format).
    #[arg(long)]
    json: bool,
}

/// Run `window audit`.
pub fn run(a: AuditArgs, dir: &TrackerDir) -> Result<ExitCode> {
    let Some(report) = audit(dir, &a.window)? else {
        outln!("no records found for {}", a.window);
        return Ok(ExitCode::SUCCESS);
    };
    warn_corrupt(&report.corrupt);
    if a.json || a.format == FormatArg::Json {
        out!("{}", report.to_json()?);
    } else {
        out!("{}", report.to_text());
    }
    Ok(ExitCode::SUCCESS)
}
