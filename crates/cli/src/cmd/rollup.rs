//! `agentos rollup`, `report`, `churn`, `efficiency`: turn the local logs into the numbers
//! users act on (all logic lives in `agentos-rollup`; this module parses arguments, renderings
//! are in [`super::render`]).

use std::collections::BTreeMap;
use std::process::ExitCode;

use agentos_rollup::churn::ChurnOptions;
use agentos_rollup::efficiency::efficiency_file;
use agentos_rollup::progress::{update_progress_log, update_trend};
use agentos_rollup::{
    CCC_WATCH_FILE, CHECKPOINT_FILE, Error as RollupError, Rollup, SummaryOptions,
    read_model_health, read_watch_health, summarize_files, summarize_incremental, write_summary,
};
use anyhow::Context as _;
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::json;

use super::render::{
    churn_json, headline, render_churn, render_efficiency, render_report, report_json,
};
use crate::table::cell;
use crate::{Global, Source};

/// How many diagnostics a command prints before summarising the rest.
const SHOWN_DIAGNOSTICS: usize = 20;

/// Arguments of `rollup`.
#[derive(Debug, clap::Args)]
pub struct RollupArgs {
    /// events.jsonl file(s) to roll up (repeatable). Default: <data dir>/events.jsonl.
    #[arg(long = "events", value_name = "FILE")]
    pub events: Vec<Utf8PathBuf>,
    /// Where to write the summary. Default: <data dir>/metrics_summary.json.
    /// progress.log.md, trend.json and model_trend.json are written next to it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<Utf8PathBuf>,
    /// Fail (exit 1) on the first malformed or schema-invalid line instead of skipping it.
    #[arg(long)]
    pub strict: bool,
    /// A CCC `/v1/usage` response (JSON file): its `models` become `model_health`, and their
    /// `weekly_pct` feeds the capacity alerts. Default: the last snapshot `agentos ccc watch`
    /// wrote to <data dir>/ccc_usage.jsonl, with each model's state and events, if any.
    #[arg(long, value_name = "FILE")]
    pub usage_json: Option<Utf8PathBuf>,
    /// Weekly capacity of a provider in its capacity unit, e.g. `glm=1500` (repeatable;
    /// default 1.0 = capacity_used is a fraction of the weekly limit).
    #[arg(long = "weekly-capacity", value_name = "PROVIDER=N")]
    pub weekly_capacity: Vec<String>,
    /// Read the whole log again instead of resuming from the checkpoint (lists every skipped
    /// line again).
    #[arg(long)]
    pub full: bool,
}

/// Group rows of `report` by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    /// Value per model: turns, tokens, attribution, attributed feature progress, cost.
    Model,
    /// One row per session.
    Session,
    /// One row per UTC day.
    Day,
    /// Cost per shipped feature, by model: the `features` report over the sessions' repos.
    Feature,
}

impl By {
    pub fn name(self) -> &'static str {
        match self {
            By::Model => "model",
            By::Session => "session",
            By::Day => "day",
            By::Feature => "feature",
        }
    }
}

/// Arguments of `report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Only this session.
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    /// Rows by model, session or day; feature: the `features` report (docs/features.md).
    #[arg(long, value_enum, default_value = "model")]
    pub by: By,
    /// Print JSON (with schema_version) instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Write one self-contained HTML report (charts and the tables of report, features and
    /// usage) to FILE instead of printing.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["json", "session", "by"])]
    pub html: Option<Utf8PathBuf>,
    /// events.jsonl file(s) (repeatable). Default: <data dir>/events.jsonl.
    #[arg(long = "events", value_name = "FILE")]
    pub events: Vec<Utf8PathBuf>,
}

/// Arguments of `churn`.
#[derive(Debug, clap::Args)]
pub struct ChurnArgs {
    /// The git repository.
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub repo: Utf8PathBuf,
    /// Also measure churn at this horizon, in days (7, 14 and 28 are always measured).
    #[arg(long, value_name = "DAYS")]
    pub horizon: Option<u32>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `efficiency`.
#[derive(Debug, clap::Args)]
pub struct EfficiencyArgs {
    /// windows.jsonl to read. Default: <data dir>/windows.jsonl.
    #[arg(long, value_name = "FILE")]
    pub windows: Option<Utf8PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The input files: the named ones, which must exist (a missing one is an error, never a
/// report of zeros), else `<data dir>/<default>`, which may be missing when nothing was
/// recorded yet: then a note on stderr says where it looked.
pub fn inputs(
    given: &[Utf8PathBuf],
    g: &Global,
    default: &str,
) -> anyhow::Result<Vec<Utf8PathBuf>> {
    if given.is_empty() {
        let path = g.data_dir().join(default);
        if !path.exists() {
            let from = match g.data_dir_source {
                Source::Flag => "--data-dir".to_owned(),
                Source::Env(v) => format!("${v}"),
                Source::Default => {
                    "the default data dir; set --data-dir or $AGENTOS_DATA_DIR".to_owned()
                }
            };
            eprintln!("note: nothing recorded yet: {path} does not exist (data dir from {from})");
        }
        return Ok(vec![path]);
    }
    for f in given {
        let meta = std::fs::metadata(f).with_context(|| format!("cannot read {f}"))?;
        anyhow::ensure!(!meta.is_dir(), "cannot read {f}: it is a directory, not a file");
    }
    Ok(given.to_vec())
}

fn print_diagnostics(r: &Rollup) {
    for d in r.diagnostics.iter().take(SHOWN_DIAGNOSTICS) {
        eprintln!("warning: {d}");
    }
    let total = r.summary.diagnostics;
    let listed = r.diagnostics.len() as u64;
    let shown = listed.min(SHOWN_DIAGNOSTICS as u64);
    if listed > shown {
        eprintln!("warning: … {} more skipped lines", listed - shown);
    }
    // Lines skipped by an earlier run (before the checkpoint) are counted, not listed again.
    if total > listed {
        eprintln!(
            "warning: {} lines skipped earlier are not listed again (run `agentos rollup --full` to see them)",
            total - listed
        );
    }
}

/// Run a summary; an invalid line under `--strict` is a negative answer (exit 1).
pub fn summarize(
    files: &[Utf8PathBuf],
    opts: &SummaryOptions,
) -> anyhow::Result<Result<Rollup, ExitCode>> {
    answer(summarize_files(files, opts))
}

fn answer(r: Result<Rollup, RollupError>) -> anyhow::Result<Result<Rollup, ExitCode>> {
    match r {
        Ok(r) => Ok(Ok(r)),
        Err(e @ RollupError::InvalidLine { .. }) => {
            eprintln!("error: {}", crate::hints::with(&e, crate::hints::rollup(&e)));
            Ok(Err(ExitCode::from(1)))
        }
        Err(e) => Err(e.into()),
    }
}

fn parse_weekly(items: &[String]) -> anyhow::Result<BTreeMap<String, f64>> {
    let mut out = BTreeMap::new();
    for item in items {
        let (p, n) = item.split_once('=').with_context(|| {
            format!("--weekly-capacity {item:?}: expected PROVIDER=N, e.g. glm=1500")
        })?;
        let n: f64 =
            n.trim().parse().ok().filter(|n: &f64| *n > 0.0 && n.is_finite()).with_context(
                || format!("--weekly-capacity {item:?}: N must be a positive number"),
            )?;
        out.insert(p.trim().to_owned(), n);
    }
    Ok(out)
}

pub fn rollup(a: RollupArgs, g: &Global) -> anyhow::Result<ExitCode> {
    let files = inputs(&a.events, g, "events.jsonl")?;
    let out = a.out.clone().unwrap_or_else(|| g.data_dir().join("metrics_summary.json"));
    let opts = SummaryOptions {
        strict: a.strict,
        model_health: match a.usage_json.as_deref() {
            Some(file) => Some(read_model_health(file)?),
            // else what `ccc watch` last saw, when it ran in this data dir
            None => read_watch_health(&g.data_dir().join(CCC_WATCH_FILE))?,
        },
        weekly_capacity: parse_weekly(&a.weekly_capacity)?,
        // The summary, progress log and trend need no per-session rows (memory per session).
        no_session_rows: true,
        ..SummaryOptions::default()
    };
    // The data dir's own log resumes from the checkpoint `session end` keeps; other files
    // are read in full (and leave that checkpoint alone).
    let r = if a.events.is_empty() && !a.full {
        answer(summarize_incremental(&files, &opts, &g.data_dir().join(CHECKPOINT_FILE)))?
    } else {
        summarize(&files, &opts)?
    };
    let r = match r {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    print_diagnostics(&r);
    let written = write_outputs(&r, &out)?;
    outln!("{}", headline(&r));
    for alert in &r.summary.capacity_alerts {
        outln!(
            "ALERT {}: {:.0}% of weekly capacity: {}",
            cell(&alert.provider),
            alert.weekly_used * 100.0,
            alert.advice
        );
    }
    for p in written {
        outln!("wrote {p}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Write the summary, progress log, trend and trend per day × model; return the paths written.
pub fn write_outputs(r: &Rollup, out: &Utf8Path) -> anyhow::Result<Vec<Utf8PathBuf>> {
    write_summary(&r.summary, out)?;
    let dir = match out.parent() {
        Some(d) if !d.as_str().is_empty() => d.to_owned(),
        _ => Utf8PathBuf::from("."),
    };
    let trend_path = dir.join("trend.json");
    let log_path = dir.join("progress.log.md");
    let trend = update_trend(&trend_path, r)?;
    let model_trend_path = dir.join("model_trend.json");
    agentos_rollup::model_trend::update_model_trend(&model_trend_path, r)?;
    let today = r.summary.generated_at.map(|t| t.utc_date()).unwrap_or_default();
    update_progress_log(&log_path, &today, r, Some(&trend))?;
    Ok(vec![out.to_owned(), log_path, trend_path, model_trend_path])
}

pub fn report(a: ReportArgs, g: &Global) -> anyhow::Result<ExitCode> {
    if let Some(out) = &a.html {
        return html_report(out, &a.events, g);
    }
    if a.by == By::Feature {
        anyhow::ensure!(
            a.session.is_none(),
            "--session does not apply to --by feature (a feature spans sessions)"
        );
        let args = super::features::FeaturesArgs {
            repos: Vec::new(),
            since: None,
            grace: super::features::DEFAULT_GRACE_MINUTES,
            no_churn: false,
            json: a.json,
            prices: None,
            events: a.events,
        };
        return super::features::run(args, g);
    }
    let files = inputs(&a.events, g, "events.jsonl")?;
    let opts = SummaryOptions {
        session: a.session.clone(),
        // what `ccc watch` last saw in this data dir (not for one session's report)
        model_health: match a.session {
            Some(_) => None,
            None => read_watch_health(&g.data_dir().join(CCC_WATCH_FILE))?,
        },
        ..SummaryOptions::default()
    };
    let r = match summarize(&files, &opts)? {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    if let Some(id) = &a.session
        && r.summary.turns == 0
        && r.sessions.is_empty()
    {
        eprintln!("error: no events of session {} in {}", cell(id), display_files(&files));
        return Ok(ExitCode::from(1));
    }
    // Diagnostics go to stderr in both modes: stdout stays machine-readable with --json.
    print_diagnostics(&r);
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&report_json(&r, a.by, a.session.as_deref()))?);
    } else {
        out!("{}", render_report(&r, a.by, a.session.as_deref()));
    }
    Ok(ExitCode::SUCCESS)
}

/// `report --html FILE`.
fn html_report(out: &Utf8Path, events: &[Utf8PathBuf], g: &Global) -> anyhow::Result<ExitCode> {
    let files = inputs(events, g, "events.jsonl")?;
    let book = agentos_rollup::usage::load_prices(
        Some(&agentos_rollup::usage::data_dir_prices(&g.data_dir())),
        None,
    )?;
    let cache = events.is_empty().then(|| g.data_dir());
    let sources = match crate::dashboard::collect(&files, &book, cache.as_deref()) {
        Ok(s) => s,
        Err(e) => match e.downcast::<RollupError>() {
            Ok(e) => return answer(Err(e)).map(|r| r.err().unwrap_or(ExitCode::from(1))),
            Err(e) => return Err(e),
        },
    };
    let generated = agentos_event_schema::Timestamp::now().to_string();
    let html = crate::dashboard::render(&sources, &generated);
    agentos_fsio::write_atomic(out, html.as_bytes())
        .with_context(|| format!("cannot write the HTML report to {out}"))?;
    eprintln!("wrote {out} ({} KB)", html.len().div_ceil(1024));
    Ok(ExitCode::SUCCESS)
}

fn display_files(files: &[Utf8PathBuf]) -> String {
    files.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")
}

pub fn churn(a: ChurnArgs, _g: &Global) -> anyhow::Result<ExitCode> {
    let mut opts = ChurnOptions::default();
    if let Some(h) = a.horizon {
        anyhow::ensure!(h > 0, "--horizon must be at least 1 day");
        opts.horizons.push(h);
    }
    let report = agentos_rollup::churn::churn(&a.repo, &opts)?;
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&churn_json(&report))?);
    } else {
        out!("{}", render_churn(&report));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn efficiency(a: EfficiencyArgs, g: &Global) -> anyhow::Result<ExitCode> {
    let given: Vec<Utf8PathBuf> = a.windows.iter().cloned().collect();
    let path = inputs(&given, g, "windows.jsonl")?.swap_remove(0);
    let report = efficiency_file(&path)?;
    for d in report.diagnostics.iter().take(SHOWN_DIAGNOSTICS) {
        eprintln!("warning: {d}");
    }
    if a.json {
        let v = json!({"schema_version": agentos_event_schema::v1::SCHEMA_VERSION, "windows": report.windows, "providers": report.providers});
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        out!("{}", render_efficiency(&report, &path));
    }
    Ok(ExitCode::SUCCESS)
}
