//! `agentos`: the command-line face of AgentOS. It parses arguments, calls the library crates
//! and turns their errors into one clear line and an exit code: 0 success, 1 a negative answer
//! (invalid input, license rejected, entitlement denied), 2 a usage or I/O error.
//!
//! It holds no domain logic of its own: every decision lives in a library crate so other Rust
//! tools can make the same one.
#![allow(clippy::print_stdout, clippy::print_stderr)]

/// `println!` that ends the process quietly when stdout is closed (`agentos … | head`)
/// instead of panicking, and with exit 2 on any other write error.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            $crate::stdout_failed(e)
        }
    }};
}

/// `print!` with the same handling as [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout(), $($arg)*) {
            $crate::stdout_failed(e)
        }
    }};
}

mod cmd;
mod table;
#[cfg(test)]
mod tests;

/// Standard output went away: a closed pipe is the reader's choice (exit 0, like `head`
/// expects); anything else is reported.
fn stdout_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: cannot write to standard output: {e}");
    std::process::exit(2)
}

use std::process::ExitCode;

use camino::Utf8PathBuf;
use clap::{Parser, Subcommand};

/// Measure what AI coding agents cost and deliver, without leaking your code.
#[derive(Debug, Parser)]
#[command(name = "agentos", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command understands.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Where AgentOS keeps its local files (events.jsonl, outbox, summaries).
    /// Default: $AGENTOS_DATA_DIR, else the platform data directory.
    #[arg(long, global = true, env = "AGENTOS_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<Utf8PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List, show and validate the JSON Schemas of the event contract and CCP output.
    #[command(subcommand)]
    Schema(cmd::schema::SchemaCmd),
    /// Verify, install and inspect license packs.
    #[command(subcommand)]
    License(cmd::license::LicenseCmd),
    /// Verify signed policy packs.
    #[command(subcommand)]
    Policy(cmd::license::PolicyCmd),
    /// Record agent sessions: start, turn, end.
    #[command(subcommand)]
    Session(cmd::session::SessionCmd),
    /// Queue the minimized metrics summary for upload.
    UploadMetrics(cmd::session::UploadMetricsArgs),
    /// Inspect and deliver the upload outbox.
    #[command(subcommand)]
    Outbox(cmd::session::OutboxCmd),
    /// See what the current privacy tier would send.
    #[command(subcommand)]
    Privacy(cmd::session::PrivacyCmd),
    /// Roll event logs up into metrics_summary.json, progress.log.md and trend.json.
    Rollup(cmd::rollup::RollupArgs),
    /// Print metrics as tables (or JSON) by model, session or day.
    Report(cmd::rollup::ReportArgs),
    /// Churn of feature-tagged commits in a git repository.
    Churn(cmd::rollup::ChurnArgs),
    /// Features per capacity by provider, with confidence intervals.
    Efficiency(cmd::rollup::EfficiencyArgs),
    /// Record sample sessions into a fresh data dir, roll them up and print the report.
    Demo(cmd::demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Schema(c) => cmd::schema::run(c, &cli.global),
        Command::License(c) => cmd::license::run(c, &cli.global),
        Command::Policy(c) => cmd::license::run_policy(c, &cli.global),
        Command::Session(c) => cmd::session::run(c, &cli.global),
        Command::UploadMetrics(a) => cmd::session::upload_metrics(a, &cli.global),
        Command::Outbox(c) => cmd::session::run_outbox(c, &cli.global),
        Command::Privacy(c) => cmd::session::run_privacy(c, &cli.global),
        Command::Rollup(a) => cmd::rollup::rollup(a, &cli.global),
        Command::Report(a) => cmd::rollup::report(a, &cli.global),
        Command::Churn(a) => cmd::rollup::churn(a, &cli.global),
        Command::Efficiency(a) => cmd::rollup::efficiency(a, &cli.global),
        Command::Demo(a) => cmd::demo::demo(a, &cli.global),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
