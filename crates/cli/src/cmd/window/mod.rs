//! `agentos window …`: the measurement windows of the Python tracker (`docs/tracker.md`).
//! TEMPORARY wiring of the read side only (`preview`, `advise`, `churn`); merged at
//! integration with the write side's commands and tracker-dir resolution.

pub mod advise;
pub mod ccc;
pub mod churn;
pub mod preview;

use std::process::ExitCode;

use agentos_tracker::store::load::{self, Options, Row};
use camino::{Utf8Path, Utf8PathBuf};

use crate::Global;

/// `agentos window [--data-dir DIR] <command>`.
#[derive(Debug, clap::Args)]
pub struct WindowCmd {
    /// A tracker data directory holding the tracker's files at its top level (the Python
    /// layout, e.g. data/week0/live). Default: <agentos data dir>/tracker.
    // Same id as the global `--data-dir` (clap refuses two `--data-dir` on one command), so
    // clap gives both the last value given: where it was given is read from the arguments.
    #[arg(long = "data-dir", value_name = "DIR")]
    pub data_dir: Option<Utf8PathBuf>,
    #[command(subcommand)]
    pub command: WindowSub,
}

/// The window commands.
#[derive(Debug, clap::Subcommand)]
pub enum WindowSub {
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

/// The tracker directory: `window --data-dir DIR` as it is, else `<data dir>/tracker`.
pub fn tracker_dir(c: &WindowCmd, g: &Global) -> Utf8PathBuf {
    match &c.data_dir {
        Some(dir) if data_dir_after_subcommand(std::env::args_os().skip(1)) => dir.clone(),
        _ => g.data_dir().join("tracker"),
    }
}

/// Whether `--data-dir` is given after the subcommand (the first argument that is neither an
/// option nor the global `--data-dir`'s value), before a `--`.
fn data_dir_after_subcommand(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    let (mut seen_sub, mut value_next) = (false, false);
    for a in args {
        let a = a.to_string_lossy();
        if value_next {
            value_next = false;
            continue;
        }
        if a == "--" {
            return false;
        }
        let is_flag = a == "--data-dir" || a.starts_with("--data-dir=");
        if seen_sub && is_flag {
            return true;
        }
        if a == "--data-dir" {
            value_next = true;
        } else if !a.starts_with('-') {
            seen_sub = true;
        }
    }
    false
}

pub fn run(c: WindowCmd, g: &Global) -> anyhow::Result<ExitCode> {
    let dir = tracker_dir(&c, g);
    match c.command {
        WindowSub::Preview(a) => preview::run(&a, &dir, g),
        WindowSub::Advise(a) => advise::run(&a, &dir, g),
        WindowSub::Churn(a) => churn::run(&a, &dir),
    }
}

/// The rows of `dir/file` (filtered by `window`), `raw_text` dropped; each skipped line is
/// printed to stderr as `warning: file:line: reason` and returned.
pub fn load_rows(
    dir: &Utf8Path,
    file: &str,
    window: Option<&str>,
    diagnostics: &mut Vec<String>,
) -> anyhow::Result<Vec<Row>> {
    let loaded =
        load::load(dir.join(file).as_std_path(), Options { window, keep_raw_text: false })?;
    for d in &loaded.diagnostics {
        eprintln!("warning: {d}");
        diagnostics.push(d.to_string());
    }
    Ok(loaded.rows)
}
