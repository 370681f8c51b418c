//! `agentos window alias <start|end|cross|delete> <codex|claude|glm> [--window W]
//! [--stdin|--file F] [--notes T] [--source LABEL] [--state-dir DIR] [--index N]
//! [--phase before|after]` (reference §7.3.7, §7.5).

use std::process::ExitCode;

use agentos_tracker::alias::{
    AliasAction, AliasProvider, AliasRequest, DeleteRequest, alias, delete,
};
use agentos_tracker::store::TrackerDir;
use anyhow::Result;
use camino::Utf8PathBuf;

use super::{PhaseArg, read_input, state_dir, warn_corrupt};

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ActionArg {
    /// Record the before meter of the current window (the next one after an end).
    Start,
    /// Record the after meter of the current window.
    End,
    /// Record the after meter and seed the next window's before with the same reading.
    Cross,
    /// Delete the --index-th latest matching snapshot (no input read).
    Delete,
}

/// Whose meter.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ProviderArg {
    /// Codex /status.
    Codex,
    /// Claude /usage.
    Claude,
    /// GLM prompt counts (a baseline at start, the difference at end).
    Glm,
}

/// `window alias` arguments.
#[derive(Debug, clap::Args)]
pub struct AliasArgs {
    /// start, end, cross or delete.
    #[arg(value_enum)]
    action: ActionArg,
    /// codex, claude or glm.
    #[arg(value_enum)]
    provider: ProviderArg,
    /// The window (default: from the state file, else inferred from the store).
    #[arg(long)]
    window: Option<String>,
    /// Read the meter from standard input.
    #[arg(long)]
    stdin: bool,
    /// Read the meter from FILE.
    #[arg(long, value_name = "FILE")]
    file: Option<Utf8PathBuf>,
    /// Notes (default alias:start, alias:end, alias:cross-end / alias:cross-start).
    #[arg(long)]
    notes: Option<String>,
    /// The rows' source label.
    #[arg(long, default_value = "alias", value_name = "LABEL")]
    source: String,
    /// Where the state files live (default: <tracker dir>/state); one per agent keeps agents
    /// apart.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<Utf8PathBuf>,
    /// delete: which match, counted from the latest (1 = the latest).
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    index: i64,
    /// delete: only snapshots of this phase.
    #[arg(long, value_enum)]
    phase: Option<PhaseArg>,
}

/// Run `window alias`.
pub fn run(a: AliasArgs, dir: &TrackerDir) -> Result<ExitCode> {
    let provider = match a.provider {
        ProviderArg::Codex => AliasProvider::Codex,
        ProviderArg::Claude => AliasProvider::Claude,
        ProviderArg::Glm => AliasProvider::Glm,
    };
    let states = state_dir(a.state_dir, dir);
    let outcome = if a.action == ActionArg::Delete {
        let req = DeleteRequest {
            provider,
            window: a.window.as_deref(),
            phase: a.phase.map(PhaseArg::phase),
            index: a.index,
            state_dir: &states,
        };
        delete(dir, &req)?
    } else {
        let action = match a.action {
            ActionArg::Start => AliasAction::Start,
            ActionArg::End => AliasAction::End,
            _ => AliasAction::Cross,
        };
        let text = read_input(a.stdin, a.file.as_deref())?;
        let req = AliasRequest {
            provider,
            window: a.window.as_deref(),
            text: &text,
            notes: a.notes.as_deref(),
            source: &a.source,
            state_dir: &states,
        };
        alias(dir, action, &req)?
    };
    warn_corrupt(&outcome.corrupt);
    outln!("{}", outcome.message);
    Ok(ExitCode::SUCCESS)
}
