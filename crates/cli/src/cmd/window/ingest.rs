//! `agentos window ingest <source> --window W [--phase before|after] (--stdin|--file F)
//! [--notes T] [--scope session|daily|weekly]` (reference §7.3.1).

use std::process::ExitCode;

use agentos_tracker::CcusageScope;
use agentos_tracker::ingest::{IngestRequest, IngestSource, ingest};
use agentos_tracker::store::TrackerDir;
use anyhow::Result;
use camino::Utf8PathBuf;

use super::{PhaseArg, read_input};

/// What is ingested.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SourceArg {
    /// Claude Code's /usage pane (a before/after snapshot).
    Claude,
    /// claude-monitor's realtime screen.
    ClaudeMonitor,
    /// Codex's /status pane (a before/after snapshot).
    Codex,
    /// `ccusage codex` JSON (sessions, daily or weekly report).
    CodexCcusage,
    /// GLM prompt counts JSON.
    Glm,
    /// The routing proxy's telemetry (JSON lines).
    ProxyTelemetry,
}

impl SourceArg {
    fn source(self) -> IngestSource {
        match self {
            SourceArg::Claude => IngestSource::Claude,
            SourceArg::ClaudeMonitor => IngestSource::ClaudeMonitor,
            SourceArg::Codex => IngestSource::Codex,
            SourceArg::CodexCcusage => IngestSource::CodexCcusage,
            SourceArg::Glm => IngestSource::Glm,
            SourceArg::ProxyTelemetry => IngestSource::ProxyTelemetry,
        }
    }
}

/// A ccusage report's scope.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ScopeArg {
    /// `ccusage codex sessions --json`.
    Session,
    /// The daily report.
    Daily,
    /// The weekly report.
    Weekly,
}

/// `window ingest` arguments.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// What the input is.
    #[arg(value_enum)]
    source: SourceArg,
    /// The window id (e.g. W0-01).
    #[arg(long)]
    window: String,
    /// before or after (Codex and Claude snapshots only).
    #[arg(long, value_enum)]
    phase: Option<PhaseArg>,
    /// Read the input from standard input.
    #[arg(long)]
    stdin: bool,
    /// Read the input from FILE.
    #[arg(long, value_name = "FILE")]
    file: Option<Utf8PathBuf>,
    /// Free-text notes stored with the record.
    #[arg(long, default_value = "")]
    notes: String,
    /// The ccusage report's scope (codex-ccusage only).
    #[arg(long, value_enum, default_value = "session")]
    scope: ScopeArg,
}

/// Run `window ingest`.
pub fn run(a: IngestArgs, dir: &TrackerDir) -> Result<ExitCode> {
    let text = read_input(a.stdin, a.file.as_deref())?;
    let source = a.source.source();
    if source.needs_phase() && a.phase.is_none() {
        return Err(agentos_tracker::WindowError::PhaseRequired.into());
    }
    let scope = match a.scope {
        ScopeArg::Session => CcusageScope::Session,
        ScopeArg::Daily => CcusageScope::Daily,
        ScopeArg::Weekly => CcusageScope::Weekly,
    };
    let req = IngestRequest {
        source,
        window: &a.window,
        phase: a.phase.map(PhaseArg::phase),
        text: &text,
        notes: &a.notes,
        scope,
    };
    let done = ingest(dir, &req)?;
    outln!("{done}");
    Ok(ExitCode::SUCCESS)
}
