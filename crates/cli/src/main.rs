//! `agentos`: the command-line face of AgentOS. It parses arguments, calls the library crates
//! and turns their errors into one clear line and an exit code: 0 success, 1 a negative answer
//! (invalid input, license rejected, entitlement denied), 2 a usage or I/O error.
//!
//! It holds no domain logic of its own: every decision lives in a library crate so other Rust
//! tools can make the same one.
#![allow(clippy::print_stdout, clippy::print_stderr)]
// The argument structs' doc comments are also their `--help` text, where `<data dir>` names a
// place the user fills in, not an HTML tag.
#![allow(rustdoc::invalid_html_tags)]

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
mod dashboard;
mod hints;
mod metrics;
mod numbers;
mod preview;
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
    /// Default: $AGENTOS_DATA_DIR, else the platform data directory (see `agentos paths`).
    /// Written after `window`, it is the tracker directory itself (`agentos window
    /// --data-dir data/week0/live …`).
    // Not `env = …`: clap would then show the flag as given in every usage line.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<Utf8PathBuf>,
    /// Where `data_dir` came from (filled in by [`Global::resolve`]).
    #[arg(skip)]
    pub data_dir_source: Source,
    /// Send the API key, uploads and license requests over plain http:// to a host that is not
    /// this machine (unencrypted: anyone on the way can read them). Also
    /// AGENTOS_ALLOW_INSECURE_HTTP=1. Default: http:// only to localhost / 127.0.0.0/8 / ::1.
    #[arg(long, global = true)]
    pub allow_insecure_http: bool,
}

/// Where a setting came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag.
    Flag,
    /// An environment variable (its name).
    Env(&'static str),
    /// Nothing was given: the built-in default.
    #[default]
    Default,
}

impl Global {
    /// Fill in `$AGENTOS_DATA_DIR` when `--data-dir` was not given (an empty value is unset).
    fn resolve(&mut self, var: &dyn Fn(&str) -> Option<String>) {
        if self.data_dir.is_some() {
            self.data_dir_source = Source::Flag;
        } else if let Some(v) = var("AGENTOS_DATA_DIR").filter(|v| !v.trim().is_empty()) {
            self.data_dir = Some(Utf8PathBuf::from(v));
            self.data_dir_source = Source::Env("AGENTOS_DATA_DIR");
        }
    }

    /// Whether plain `http://` may go to another machine: `--allow-insecure-http`, else
    /// `AGENTOS_ALLOW_INSECURE_HTTP`.
    pub fn cleartext(&self) -> agentos_transport::Cleartext {
        agentos_transport::Cleartext::from_env().or_allowed(self.allow_insecure_http)
    }

    /// The data dir: `--data-dir` / `AGENTOS_DATA_DIR`, else the platform default.
    pub fn data_dir(&self) -> Utf8PathBuf {
        self.data_dir.clone().unwrap_or_else(agentos_ccc_client::config::default_data_dir)
    }
}

/// `n` and the noun, singular for exactly one: `plural(1, "session")` is "1 session".
pub fn plural(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// An error and its causes on one line, each cause only when the text before it does not
/// already say it (library errors often quote their I/O error, which is also their source).
fn error_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
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
    /// Roll event logs up into metrics_summary.json, progress.log.md, trend.json and model_trend.json.
    Rollup(cmd::rollup::RollupArgs),
    /// Print metrics as tables (or JSON) by model, session or day; `--by feature` is the
    /// `features` report.
    Report(cmd::rollup::ReportArgs),
    /// Churn of feature-tagged commits in a git repository.
    ///
    /// A commit belongs to a feature when its subject starts with the tag
    /// `xfeat::<FeatureID>::<WindowID>::<Stage>`, e.g.
    /// `xfeat::F12::w3::impl add the login form`. Commits starting `xproto::` are prototype
    /// work and are left out; all other commits are untagged.
    /// Churn at H days = the share of a feature's added lines that were deleted or rewritten
    /// within H days of their commit (7, 14 and 28 days; `--horizon` adds one). A `*` marks a
    /// horizon the history does not cover yet (provisional).
    Churn(cmd::rollup::ChurnArgs),
    /// Cost per shipped feature, by model: imported sessions joined to the git history they
    /// produced (features from xfeat tags, `Feature:` trailers, branches, or commit scopes).
    Features(cmd::features::FeaturesArgs),
    /// A full-screen live view: cost and tokens today and this week by model and agent,
    /// features, churn, alerts and CCC (`q` quits, `r` refreshes, arrows switch tabs);
    /// `--once` prints one plain-text frame.
    Preview(preview::PreviewArgs),
    /// Features per capacity by provider, with confidence intervals.
    Efficiency(cmd::rollup::EfficiencyArgs),
    /// Tokens and cost of the agents' API responses by day, week, month or session.
    #[command(subcommand)]
    Usage(cmd::usage::UsageCmd),
    /// Record sample sessions, roll them up and print the report. They go to --data-dir when
    /// it is empty, else to <data dir>/demo; each run replaces the previous demo's files.
    Demo(cmd::demo::DemoArgs),
    /// Import the agents' own history (Claude Code transcripts, Codex rollouts) as events;
    /// a re-run reads only what was appended since.
    Import(cmd::import::ImportArgs),
    /// Backfill CCC/CCP's own usage logs (usage.jsonl, rotations, archive, tag copies) as
    /// one turn event per request; a re-run reads only what changed.
    Backfill(cmd::backfill::BackfillArgs),
    /// Show where AgentOS reads and writes: data dir, license, key ring, configuration, and
    /// where each setting came from.
    Paths(cmd::paths::PathsArgs),
    /// Read CCC live: status, usage, quotas, samples, rollups, metrics; watch it into the
    /// data dir.
    #[command(subcommand)]
    Ccc(cmd::ccc::CccCmd),
    /// Export to an OpenTelemetry collector (OTLP/HTTP), as the privacy tier allows.
    #[command(subcommand)]
    Otel(cmd::otel::OtelCmd),
    /// The measurement windows (the Python tracker's workflow): ingest panes, override,
    /// finalize, audit, alias start/end/cross/delete, preview (with CCC's live view), advise,
    /// churn. `--data-dir DIR` after `window` names
    /// the tracker directory itself; otherwise it is <data dir>/tracker.
    #[command(subcommand)]
    Window(cmd::window::WindowCmd),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell), e.g.
    /// `agentos completions bash > ~/.local/share/bash-completion/completions/agentos`.
    Completions(cmd::paths::CompletionsArgs),
}

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    cli.global.resolve(&|name| std::env::var(name).ok());
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
        Command::Preview(a) => preview::run(a, &cli.global),
        Command::Features(a) => cmd::features::run(a, &cli.global),
        Command::Efficiency(a) => cmd::rollup::efficiency(a, &cli.global),
        Command::Usage(c) => cmd::usage::run(c, &cli.global),
        Command::Demo(a) => cmd::demo::demo(a, &cli.global),
        Command::Import(a) => cmd::import::import(a, &cli.global),
        Command::Backfill(a) => cmd::backfill::backfill(a, &cli.global),
        Command::Paths(a) => cmd::paths::paths(a, &cli.global),
        Command::Ccc(c) => cmd::ccc::run(c, &cli.global),
        Command::Otel(c) => cmd::otel::run(c, &cli.global),
        Command::Window(c) => cmd::window::run(c, &cli.global),
        Command::Completions(a) => cmd::paths::completions::<Cli>(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", hints::with(error_line(&e), hints::for_chain(&e)));
            ExitCode::from(2)
        }
    }
}
