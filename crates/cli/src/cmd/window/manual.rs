//! `agentos window override <codex|claude> --window W --phase before|after [--fiveh-pct N]
//! [--weekly-pct N] [--session-pct N] [--all-models-pct N] [--…-resets T] [--notes T]`
//! (reference §7.3.2): a snapshot typed in by hand.

use std::process::ExitCode;

use agentos_tracker::manual::{ManualValues, record_override};
use agentos_tracker::snapshot::MeterProvider;
use agentos_tracker::store::TrackerDir;
use anyhow::Result;

use super::PhaseArg;

/// Whose meter.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum MeterArg {
    /// Codex (5h and weekly limits).
    Codex,
    /// Claude (session and weekly, all models).
    Claude,
}

/// `window override` arguments. Flags of the other provider are ignored.
#[derive(Debug, clap::Args)]
pub struct OverrideArgs {
    /// Whose meter.
    #[arg(value_enum)]
    provider: MeterArg,
    /// The window id.
    #[arg(long)]
    window: String,
    /// before or after.
    #[arg(long, value_enum)]
    phase: PhaseArg,
    /// Codex: the 5-hour limit's percentage used.
    #[arg(long, value_name = "INT")]
    fiveh_pct: Option<i64>,
    /// Codex: when the 5-hour limit resets.
    #[arg(long, value_name = "TEXT")]
    fiveh_resets: Option<String>,
    /// Codex: the weekly limit's percentage used.
    #[arg(long, value_name = "INT")]
    weekly_pct: Option<i64>,
    /// Codex: when the weekly limit resets.
    #[arg(long, value_name = "TEXT")]
    weekly_resets: Option<String>,
    /// Claude: the session's percentage used.
    #[arg(long, value_name = "INT")]
    session_pct: Option<i64>,
    /// Claude: when the session resets.
    #[arg(long, value_name = "TEXT")]
    session_resets: Option<String>,
    /// Claude: the week's percentage used (all models).
    #[arg(long, value_name = "INT")]
    all_models_pct: Option<i64>,
    /// Claude: when the week resets.
    #[arg(long, value_name = "TEXT")]
    all_models_resets: Option<String>,
    /// Free-text notes.
    #[arg(long, default_value = "manual override")]
    notes: String,
}

/// Run `window override`.
pub fn run(a: OverrideArgs, dir: &TrackerDir) -> Result<ExitCode> {
    let provider = match a.provider {
        MeterArg::Codex => MeterProvider::Codex,
        MeterArg::Claude => MeterProvider::Claude,
    };
    let values = ManualValues {
        fiveh_pct: a.fiveh_pct,
        fiveh_resets: a.fiveh_resets,
        weekly_pct: a.weekly_pct,
        weekly_resets: a.weekly_resets,
        session_pct: a.session_pct,
        session_resets: a.session_resets,
        all_models_pct: a.all_models_pct,
        all_models_resets: a.all_models_resets,
    };
    let line = record_override(dir, provider, &a.window, a.phase.phase(), &values, &a.notes)?;
    outln!("{line}");
    Ok(ExitCode::SUCCESS)
}
