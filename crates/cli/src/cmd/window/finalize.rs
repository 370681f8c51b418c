//! `agentos window finalize` (also `complete`, `window-finalize`; reference §7.3.3): close a
//! window into a `windows.jsonl` row.

use std::process::ExitCode;

use agentos_tracker::finalize::{FinalizeRequest, finalize};
use agentos_tracker::store::TrackerDir;
use anyhow::{Result, bail};

use super::warn_corrupt;

/// `window finalize` arguments.
#[derive(Debug, clap::Args)]
pub struct FinalizeArgs {
    /// The window id.
    #[arg(long)]
    window: Option<String>,
    /// The window id, as the Week-0 protocol writes it (`complete W0-01`).
    #[arg(value_name = "WINDOW", conflicts_with = "window")]
    window_id: Option<String>,
    /// Features shipped with Codex in the window.
    #[arg(long, default_value_t = 0, value_name = "INT")]
    codex_features: i64,
    /// Features shipped with Claude.
    #[arg(long, default_value_t = 0, value_name = "INT")]
    claude_features: i64,
    /// Features shipped with GLM.
    #[arg(long, default_value_t = 0, value_name = "INT")]
    glm_features: i64,
    /// The quality score.
    #[arg(long, alias = "quality-score", default_value_t = 1.0, value_name = "FLOAT")]
    quality: f64,
    /// The outcome (pass, fail, …).
    #[arg(long, default_value = "unknown")]
    outcome: String,
    /// The spec's id.
    #[arg(long)]
    spec_id: Option<String>,
    /// The spec's version.
    #[arg(long)]
    spec_version: Option<String>,
    /// How the window was run.
    #[arg(long)]
    methodology: Option<String>,
    /// The first commit of the window (for churn).
    #[arg(long)]
    commit_start: Option<String>,
    /// The last commit of the window.
    #[arg(long)]
    commit_end: Option<String>,
    /// Free-text notes.
    #[arg(long, default_value = "")]
    notes: String,
}

/// Run `window finalize`.
pub fn run(a: FinalizeArgs, dir: &TrackerDir) -> Result<ExitCode> {
    let Some(window) = a.window.or(a.window_id) else {
        bail!("name the window with --window W");
    };
    if !a.quality.is_finite() {
        bail!("--quality must be a finite number");
    }
    let req = FinalizeRequest {
        window,
        codex_features: a.codex_features,
        claude_features: a.claude_features,
        glm_features: a.glm_features,
        quality: a.quality,
        outcome: a.outcome,
        notes: a.notes,
        spec_id: a.spec_id,
        spec_version: a.spec_version,
        methodology: a.methodology,
        commit_start: a.commit_start,
        commit_end: a.commit_end,
    };
    let done = finalize(dir, &req)?;
    warn_corrupt(&done.corrupt);
    for p in &done.anomalies {
        eprintln!("warning: {p}: negative delta recorded in anomalies.jsonl");
    }
    outln!("{done}");
    Ok(ExitCode::SUCCESS)
}
