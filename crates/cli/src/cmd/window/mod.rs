//! `agentos window …`: the Python tracker's measurement-window workflow (`ingest`,
//! `override`, `finalize`/`complete`, `audit`, `alias`, `preview`, `advise`, `churn`),
//! arguments and output only; the work is in `agentos_tracker` (`docs/tracker.md`).
//!
//! Which directory: `--data-dir DIR` written after `window` (`agentos window --data-dir DIR
//! ingest …` or `agentos window ingest … --data-dir DIR`) names the tracker directory itself
//! (the Python layout, files at its top level, e.g. `data/week0/live`); otherwise the tracker
//! directory is `<AgentOS data dir>/tracker`, the data dir coming from `--data-dir` written
//! before `window`, `AGENTOS_DATA_DIR`, or the platform default. When both are written, the
//! one after `window` wins.

pub mod advise;
pub mod alias;
pub mod audit;
pub mod ccc;
pub mod churn;
pub mod finalize;
pub mod ingest;
pub mod manual;
pub mod preview;

use std::ffi::OsString;
use std::io::Read;
use std::process::ExitCode;

use agentos_tracker::WindowError;
use agentos_tracker::store::{Corrupt, Fields, TrackerDir, TrackerFile};
use anyhow::{Context, Result, bail};
use camino::{Utf8Path, Utf8PathBuf};
use clap::Subcommand;

use crate::Global;

/// `agentos window` subcommands.
#[derive(Debug, Subcommand)]
pub enum WindowCmd {
    /// Parse a pane or export (Codex /status, Claude /usage, claude-monitor, Codex ccusage,
    /// GLM prompt counts, proxy telemetry) and store it for a window.
    Ingest(ingest::IngestArgs),
    /// Record a Codex or Claude snapshot typed in by hand.
    Override(manual::OverrideArgs),
    /// Close a window: its latest before/after snapshot per provider, their deltas, features
    /// and outcome become one row of windows.jsonl.
    #[command(visible_alias = "complete", alias = "window-finalize")]
    Finalize(finalize::FinalizeArgs),
    /// What the store holds for one window: snapshots and duplicates, finalize rows,
    /// anomalies, churn rows.
    #[command(alias = "window-audit")]
    Audit(audit::AuditArgs),
    /// The window state machine: start, end, cross (end and start the next), delete.
    Alias(alias::AliasArgs),
    /// Print the windows, anomalies, features per capacity by provider, outcome, churn, proxy,
    /// ccusage and snapshots, and CCC's live view per provider/model when CCC answers.
    Preview(preview::PreviewArgs),
    /// Rank the providers to run next: features per capacity and the capacity left before the
    /// 10-point weekly buffer. Advice only: nothing is written, CCC's config is not changed.
    Advise(advise::AdviseArgs),
    /// Net lines changed over a window's commit range per feature; appends churn.jsonl and the
    /// churn ledger CSV (see also `agentos churn`, churn per horizon of feature-tagged commits).
    Churn(churn::ChurnArgs),
}

/// Run a window command.
pub fn run(cmd: WindowCmd, global: &Global) -> Result<ExitCode> {
    let dir = tracker_dir(global, std::env::args_os());
    let outcome = match cmd {
        WindowCmd::Ingest(a) => ingest::run(a, &dir),
        WindowCmd::Override(a) => manual::run(a, &dir),
        WindowCmd::Finalize(a) => finalize::run(a, &dir),
        WindowCmd::Audit(a) => audit::run(a, &dir),
        WindowCmd::Alias(a) => alias::run(a, &dir),
        WindowCmd::Preview(a) => preview::run(&a, &dir, global),
        WindowCmd::Advise(a) => advise::run(&a, &dir, global),
        WindowCmd::Churn(a) => churn::run(&a, &dir),
    };
    match outcome {
        Ok(code) => Ok(code),
        Err(e) => match e.downcast_ref::<WindowError>() {
            Some(w) if w.is_refusal() => {
                eprintln!("error: {}", refusal_line(w));
                Ok(ExitCode::from(1))
            }
            _ => Err(e),
        },
    }
}

/// The one line for a negative answer: the library's message with the command-line hint
/// (`hints::window`), or, where the answer is about a flag, the Python tracker's text naming it.
fn refusal_line(e: &WindowError) -> String {
    match e {
        WindowError::PhaseRequired => "codex/claude ingest requires --phase".to_owned(),
        WindowError::CodexOverrideEmpty => {
            "codex override requires --fiveh-pct and/or --weekly-pct".to_owned()
        }
        WindowError::ClaudeOverrideEmpty => {
            "claude override requires at least one percentage flag".to_owned()
        }
        other => crate::hints::with(other, crate::hints::window(other)),
    }
}

/// Where a `--data-dir` was written relative to the `window` subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataDirPlacement {
    /// After `window`: the tracker directory itself.
    AfterWindow,
    /// Only before `window`, or not at all: AgentOS's data dir.
    NotAfterWindow,
}

/// Scan the raw arguments: is a `--data-dir` written after the `window` subcommand? Before
/// the subcommand only global options can appear (`--data-dir` takes a value).
pub fn data_dir_placement(args: impl IntoIterator<Item = OsString>) -> DataDirPlacement {
    let mut args = args.into_iter().skip(1);
    let mut in_window = false;
    while let Some(arg) = args.next() {
        let Some(arg) = arg.to_str() else { continue };
        if arg == "--" {
            break;
        }
        let is_data_dir = arg == "--data-dir" || arg.starts_with("--data-dir=");
        if in_window {
            if is_data_dir {
                return DataDirPlacement::AfterWindow;
            }
            continue;
        }
        if arg == "--data-dir" {
            args.next();
        } else if arg.starts_with('-') {
            continue;
        } else if arg == "window" {
            in_window = true;
        } else {
            break;
        }
    }
    DataDirPlacement::NotAfterWindow
}

/// The tracker directory for this invocation (see the module documentation).
pub fn tracker_dir(global: &Global, args: impl IntoIterator<Item = OsString>) -> TrackerDir {
    match (data_dir_placement(args), &global.data_dir) {
        (DataDirPlacement::AfterWindow, Some(dir)) => TrackerDir::new(dir.clone()),
        _ => TrackerDir::in_data_dir(&global.data_dir()),
    }
}

/// The meter text of a command that reads one: exactly one of `--stdin` / `--file`, not
/// empty after trimming, UTF-8, at most the parsers' limit.
pub fn read_input(stdin: bool, file: Option<&Utf8Path>) -> Result<String> {
    let max = agentos_tracker::MAX_INPUT_BYTES;
    let bytes = match (stdin, file) {
        (false, None) => bail!("provide --stdin or --file"),
        (true, Some(_)) => bail!("choose one input source"),
        (true, None) => {
            let mut buf = Vec::new();
            std::io::stdin()
                .lock()
                .take(max as u64 + 1)
                .read_to_end(&mut buf)
                .context("cannot read standard input")?;
            if buf.len() > max {
                bail!("standard input is larger than {max} bytes");
            }
            buf
        }
        (false, Some(path)) => agentos_fsio::read_bounded(path, max as u64)?
            .with_context(|| format!("cannot read {path}: no such file"))?,
    };
    let text =
        String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("the input is not UTF-8 text"))?;
    if text.trim().is_empty() {
        bail!("no content received");
    }
    Ok(text)
}

/// Report the store lines that were skipped, one warning each.
pub fn warn_corrupt(corrupt: &[Corrupt]) {
    for c in corrupt {
        eprintln!("warning: {c}; line skipped");
    }
}

/// The rows of `file` in the tracker directory (only `window`'s when given), as the readers
/// of `preview`, `advise` and `churn` take them, `raw_text` dropped; each skipped line is
/// printed to stderr as `warning: file:line: reason` and returned.
pub fn load_rows(
    dir: &TrackerDir,
    file: TrackerFile,
    window: Option<&str>,
    diagnostics: &mut Vec<String>,
) -> Result<Vec<Fields>> {
    let loaded = dir.load(file, window)?;
    for c in &loaded.corrupt {
        eprintln!("warning: {c}; line skipped");
        diagnostics.push(c.to_string());
    }
    Ok(loaded
        .rows
        .into_iter()
        .map(|r| {
            let mut fields = r.value;
            fields.remove("raw_text");
            fields
        })
        .collect())
}

/// `--state-dir`, else `<tracker dir>/state`.
pub fn state_dir(flag: Option<Utf8PathBuf>, dir: &TrackerDir) -> Utf8PathBuf {
    flag.unwrap_or_else(|| dir.state_dir())
}

/// `--phase before|after`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PhaseArg {
    /// Before the window's work.
    Before,
    /// After it.
    After,
}

impl PhaseArg {
    /// The library's phase.
    pub fn phase(self) -> agentos_tracker::snapshot::Phase {
        match self {
            PhaseArg::Before => agentos_tracker::snapshot::Phase::Before,
            PhaseArg::After => agentos_tracker::snapshot::Phase::After,
        }
    }
}
