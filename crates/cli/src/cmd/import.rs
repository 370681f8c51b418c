//! `agentos import [claude-code|codex]…`: read the agents' own history (Claude Code
//! transcripts, Codex rollouts) into the data dir's `events.jsonl`, incrementally. The
//! counting, the ledger and the privacy rules live in `agentos-backfill`; this module resolves
//! the sources, appends the planned events under the event log's lock, commits, and reports.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use agentos_backfill::{Options, PrivacyTier, Progress, Report, Sources, discover};
use agentos_ccc_client::{JsonlLog, RecorderConfig};
use agentos_rollup::usage::{
    Period, UsageOptions, cache_path, data_dir_prices, load_prices, usage_report,
};
use anyhow::Context as _;
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::json;

use crate::{Global, plural};

/// An agent whose history `import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SourceArg {
    /// Claude Code transcripts (`projects/*/*.jsonl`, sub-agent files included).
    ClaudeCode,
    /// Codex CLI rollouts (`sessions/YYYY/MM/DD/rollout-*.jsonl`).
    Codex,
}

/// Arguments of `import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Which agents' history to read; none named: every source found.
    #[arg(value_enum, value_name = "SOURCE")]
    pub sources: Vec<SourceArg>,
    /// A Claude Code config dir (repeatable). Default: $CLAUDE_CONFIG_DIR (comma-separated),
    /// else ~/.config/claude and ~/.claude.
    #[arg(long = "claude-dir", value_name = "DIR")]
    pub claude_dirs: Vec<Utf8PathBuf>,
    /// The Codex home. Default: $CODEX_HOME, else ~/.codex.
    #[arg(long, value_name = "DIR")]
    pub codex_home: Option<Utf8PathBuf>,
    /// Read and report, but write no event and remember nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Print nothing unless something fails (for hooks and timers).
    #[arg(long)]
    pub quiet: bool,
    /// A price table laid over the bundled one and <data dir>/prices.json for the cost
    /// estimates written with the turns (`agentos usage` prices again with the table in force).
    #[arg(long, value_name = "FILE")]
    pub prices: Option<Utf8PathBuf>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The sources to read, from the flags and the environment.
fn sources(a: &ImportArgs) -> anyhow::Result<Sources> {
    let home = var("HOME").map(Utf8PathBuf::from);
    let want = |s: SourceArg| a.sources.is_empty() || a.sources.contains(&s);
    let mut out = Sources::default();
    if want(SourceArg::ClaudeCode) {
        for d in &a.claude_dirs {
            discover::require_dir(d).context("--claude-dir")?;
        }
        let env = var("CLAUDE_CONFIG_DIR");
        out.claude_dirs = discover::claude_dirs(&a.claude_dirs, env.as_deref(), home.as_deref());
    }
    if want(SourceArg::Codex) {
        if let Some(d) = &a.codex_home {
            discover::require_dir(d).context("--codex-home")?;
        }
        let env = var("CODEX_HOME");
        out.codex_homes =
            discover::codex_homes(a.codex_home.as_deref(), env.as_deref(), home.as_deref());
    }
    Ok(out)
}

/// A one-line progress display on a terminal's stderr, shown only once the work has taken
/// more than a moment, redrawn at most ten times a second (`import` and `backfill`).
pub(crate) struct Bar {
    label: &'static str,
    started: Instant,
    last: Mutex<Option<Instant>>,
}

impl Bar {
    /// A bar labelled `label` (e.g. `importing`), started now.
    pub(crate) fn new(label: &'static str) -> Bar {
        Bar { label, started: Instant::now(), last: Mutex::new(None) }
    }

    pub(crate) fn draw(&self, p: Progress) {
        let now = Instant::now();
        if now.duration_since(self.started) < Duration::from_millis(400) {
            return;
        }
        let Ok(mut last) = self.last.lock() else { return };
        if last.is_some_and(|l| now.duration_since(l) < Duration::from_millis(100)) {
            return;
        }
        *last = Some(now);
        let pct = p.bytes_done.saturating_mul(100).checked_div(p.bytes_total).unwrap_or(100);
        let width = 30usize;
        let filled = (pct as usize * width / 100).min(width);
        eprint!(
            "\r{} [{}{}] {pct:>3}%  {}/{} files",
            self.label,
            "#".repeat(filled),
            " ".repeat(width - filled),
            p.files_done,
            p.files_total
        );
    }

    pub(crate) fn clear(&self) {
        if self.last.lock().is_ok_and(|l| l.is_some()) {
            eprint!("\r{}\r", " ".repeat(60));
        }
    }
}

pub fn import(a: ImportArgs, g: &Global) -> anyhow::Result<ExitCode> {
    let data_dir = g.data_dir();
    let sources = sources(&a)?;
    // The tier new sessions would be recorded under; `local` when the configuration is not
    // readable (importing is local either way).
    let tier = RecorderConfig::from_env(Some(data_dir.clone()))
        .map(|c| c.tier)
        .unwrap_or(PrivacyTier::Local);
    let book = load_prices(Some(&data_dir_prices(&data_dir)), a.prices.as_deref())?;
    let book_description = book.describe();
    let mut prices = book.table;
    // The estimate names every table it came from, as reports do.
    prices.id = book.sources.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join("+");
    let opts = Options {
        sources,
        state_dir: data_dir.join("import"),
        privacy_tier: tier,
        threads: 2,
        prices: Some(prices),
        received_fingerprints: Some(data_dir.join(agentos_otel::receive::RECEIVED_FINGERPRINTS)),
    };
    let bar =
        (!a.quiet && !a.json && std::io::stderr().is_terminal()).then(|| Bar::new("importing"));
    let draw = |p: Progress| {
        if let Some(b) = &bar {
            b.draw(p);
        }
    };
    let pending = agentos_backfill::prepare(&opts, &draw);
    if let Some(b) = &bar {
        b.clear();
    }
    let pending = pending?;
    let report = if a.dry_run {
        pending.report().clone()
    } else {
        let events = data_dir.join("events.jsonl");
        append(&pending, &events)?;
        let report = pending.commit()?;
        if report.events > 0 {
            warm_usage_cache(&data_dir, &events);
        }
        report
    };
    if a.json {
        let mut v = serde_json::to_value(&report)?;
        if let Some(m) = v.as_object_mut() {
            m.insert("dry_run".to_owned(), json!(a.dry_run));
            m.insert("priceTable".to_owned(), json!(book_description));
        }
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else if !a.quiet {
        print_text(&report, a.dry_run);
        outln!("cost estimates priced by {}", crate::table::cell(&book_description));
    } else {
        // Quiet: only what went wrong, on stderr.
        for line in report.unreadable.iter() {
            eprintln!("warning: {}", crate::table::sanitize(line, 400));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Build the usage reports' cache when there is none (a first import), so the first
/// `agentos usage` after it does not read the whole history. An existing cache is left to the
/// next report, which reads only the bytes appended since: an import that adds one session
/// stays as cheap as what it adds. The cache is an optimisation a report rebuilds when it
/// must: a failure here changes nothing.
fn warm_usage_cache(data_dir: &Utf8Path, events: &Utf8Path) {
    if cache_path(data_dir).exists() {
        return;
    }
    let Ok(book) = load_prices(Some(&data_dir_prices(data_dir)), None) else {
        return;
    };
    let mut opts = UsageOptions::new(Period::Daily);
    opts.timezone = Some("UTC".to_owned());
    opts.cache_dir = Some(data_dir.to_owned());
    let _ = usage_report(&[events.to_owned()], &book, &opts);
}

/// Append the planned events under the event log's lock, then force them to disk.
fn append(pending: &agentos_backfill::Pending, path: &Utf8Path) -> anyhow::Result<()> {
    if pending.report().events == 0 {
        return Ok(());
    }
    let log = JsonlLog::new(path);
    let mut appender = log.appender()?;
    pending
        .write_event_batches(|lines| appender.append_lines(lines).map_err(anyhow::Error::from))?;
    appender.sync()?;
    Ok(())
}

fn print_text(r: &Report, dry_run: bool) {
    let verb = if dry_run { "would import" } else { "imported" };
    outln!(
        "{verb} {} and {} ({} written)",
        plural(r.responses, "response"),
        plural(r.sessions, "session update"),
        plural(r.events, "event")
    );
    if r.corrections > 0 {
        outln!(
            "  {} of earlier responses (final usage larger than first seen)",
            plural(r.corrections, "correction")
        );
    }
    if r.already_received > 0 {
        outln!(
            "  {} already recorded by `agentos otel receive` (not written again)",
            plural(r.already_received, "response")
        );
    }
    outln!(
        "files: {} read ({} new, {} appended, {} rewritten), {} unchanged, {} unreadable",
        r.files_read,
        r.files_new,
        r.files_appended,
        r.files_rewritten,
        r.files_unchanged,
        r.files_failed
    );
    outln!(
        "lines: {} read, {} with usage, {} dropped, {} skipped, {} malformed",
        r.lines,
        r.usage_lines,
        plural(r.duplicates, "duplicate"),
        plural(r.synthetic, "API-error placeholder"),
        r.malformed_lines
    );
    for line in r.malformed.iter().chain(&r.unreadable) {
        outln!("  {}", crate::table::sanitize(line, 400));
    }
    let listed = r.malformed.len() as u64 + r.unreadable.len() as u64;
    let total = r.malformed_lines + r.files_failed;
    if total > listed {
        outln!("  … and {} more", total - listed);
    }
    if dry_run {
        outln!("dry run: nothing was written");
    }
}
