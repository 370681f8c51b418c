//! `agentos backfill --ccp-root DIR`: read CCC/CCP's own usage logs (`logs/usage.jsonl`, its
//! rotations, archive moves, tag snapshots, `logs/dev/**`) into the data dir's `events.jsonl`
//! as one turn event per request, incrementally. Classification, joins and the ledger live in
//! `agentos_backfill::ccp` (`docs/backfill.md`); this module resolves the flags, appends the
//! events under the event log's lock as they are rendered (spooled first with `--strict`),
//! syncs, commits, and reports.

mod sink;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use agentos_backfill::Progress;
use agentos_backfill::agentos_py::{PyOptions, PyReport, prepare_py};
use agentos_backfill::ccp::{self, CcpOptions, CcpPending, CcpReport, prepare_ccp};
use agentos_ccc_client::{Appender, JsonlLog};
use agentos_event_schema::Timestamp;
use agentos_rollup::model_trend::ModelDay;
use agentos_rollup::usage::{data_dir_prices, load_prices};
use agentos_rollup::{
    Appending, CHECKPOINT_FILE, SummaryOptions, read_model_health, summarize_incremental,
};
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::json;

use super::import::Bar;
use crate::{Global, plural};
use sink::LogSink;

/// Arguments of `backfill`.
#[derive(Debug, clap::Args)]
pub struct BackfillArgs {
    /// The CCP checkout whose `logs/` (and `results/`) to read.
    #[arg(long, value_name = "DIR", required_unless_present = "agentos_py")]
    pub ccp_root: Option<Utf8PathBuf>,
    /// A Python AgentOS data dir whose events (`windows.jsonl`) to import.
    #[arg(long, value_name = "DIR")]
    pub agentos_py: Option<Utf8PathBuf>,
    /// Only requests on or after this UTC day (YYYY-MM-DD) or time (RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Read and report, but write no event and remember nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Stop at the first line that cannot be used (default: report it and go on).
    #[arg(long)]
    pub strict: bool,
    /// Do not refresh metrics_summary.json, progress.log.md, trend.json and model_trend.json after writing
    /// (`agentos rollup` does it later).
    #[arg(long)]
    pub no_summary: bool,
    /// A price table laid over the bundled one and <data dir>/prices.json for the cost
    /// estimates written with the turns.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<Utf8PathBuf>,
}

/// `--since` as µs since the epoch: a day is its UTC midnight.
fn since(s: &str) -> anyhow::Result<i64> {
    let s = s.trim();
    let full = if s.len() == 10 { format!("{s}T00:00:00Z") } else { s.to_owned() };
    full.parse::<Timestamp>().map(|t| t.as_unix_micros()).map_err(|_| {
        anyhow::anyhow!(
            "--since {}: not a date; give a day such as --since 2026-11-01",
            crate::table::cell(s)
        )
    })
}

/// The library's error as one line with the command-line answer.
fn fail(e: agentos_backfill::Error) -> anyhow::Error {
    use agentos_backfill::Error;
    let hint = match &e {
        Error::NotADirectory { .. } | Error::SourceDir { .. } => {
            Some("--ccp-root names a CCP checkout: the directory that holds logs/usage.jsonl")
        }
        Error::BadLine { .. } => Some("run without --strict to skip bad lines and count them"),
        Error::State { .. } => Some(
            "then run `agentos backfill` again: it reads everything anew and the events repeat ids readers drop",
        ),
        _ => None,
    };
    anyhow::anyhow!(crate::hints::with(&e, hint))
}

pub fn backfill(a: BackfillArgs, g: &Global) -> anyhow::Result<ExitCode> {
    let data_dir = g.data_dir();
    let since_us = a.since.as_deref().map(since).transpose()?;
    let events = data_dir.join("events.jsonl");
    let (mut ccp_run, fed) = match &a.ccp_root {
        Some(root) => {
            let (run, fed) = backfill_ccp(&a, root, &data_dir, since_us, &events)?;
            (Some(run), fed)
        }
        None => (None, None),
    };
    let py = match &a.agentos_py {
        Some(dir) => {
            // The Python events go after the CCP ones, once those are committed.
            ccp_run = ccp_run.map(|r| r.commit().map(CcpRun::Done)).transpose()?;
            Some(backfill_py(&a, dir, &data_dir, &events)?)
        }
        None => None,
    };
    let wrote =
        ccp_run.as_ref().map_or(0, |r| r.report().events) + py.as_ref().map_or(0, |r| r.events);
    // The summary, progress log and trend follow the events just written (synced already), while
    // the backfill's own state is committed on another thread.
    // The latest saved `/v1/usage` response under results/ gives the summary's model health.
    let health = ccp_run
        .as_ref()
        .and_then(|r| r.report().results.usage_snapshots.last())
        .map(|s| Utf8PathBuf::from(&s.path));
    let refresh = wrote > 0 && !a.dry_run && !a.no_summary;
    let (ccp, (written, trend)) = std::thread::scope(|s| -> anyhow::Result<_> {
        let committed = s.spawn(|| ccp_run.map(CcpRun::commit).transpose());
        let summary = if refresh {
            match refresh_summary(&data_dir, &events, health.as_deref(), fed) {
                Ok(done) => done,
                Err(e) => {
                    eprintln!(
                        "warning: the events were written but the summary was not refreshed ({}); run `agentos rollup`",
                        crate::table::sanitize(&format!("{e:#}"), 400)
                    );
                    (Vec::new(), Vec::new())
                }
            }
        } else {
            (Vec::new(), Vec::new())
        };
        let ccp = committed
            .join()
            .map_err(|_| anyhow::anyhow!("committing the backfill's state stopped"))??;
        Ok((ccp, summary))
    })?;
    if a.json {
        let mut v = match &ccp {
            Some(r) => serde_json::to_value(r)?,
            None => json!({}),
        };
        if let Some(m) = v.as_object_mut() {
            if let Some(p) = &py {
                m.insert("agentos_py".to_owned(), serde_json::to_value(p)?);
            }
            m.insert("dry_run".to_owned(), json!(a.dry_run));
            m.insert("written".to_owned(), json!(written));
            // The refreshed trendline per UTC day × model (empty when nothing was refreshed).
            m.insert("trend".to_owned(), serde_json::to_value(&trend)?);
        }
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        if let Some(r) = &ccp {
            print_text(r, a.dry_run);
        }
        if let (Some(p), Some(dir)) = (&py, &a.agentos_py) {
            print_py(p, dir, a.dry_run);
        }
        for p in written {
            outln!("wrote {p}");
        }
        if a.dry_run {
            outln!("dry run: nothing was written");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A CCP backfill whose events are written and synced.
#[allow(clippy::large_enum_variant, reason = "one value per run, moved once or twice")]
enum CcpRun {
    /// Nothing left to do (a dry run, or committed already).
    Done(CcpReport),
    /// The ledger, index and pending decisions still to commit; the event log's lock is held
    /// until then.
    Synced { pending: CcpPending, _lock: Option<Appender> },
}

impl CcpRun {
    fn report(&self) -> &CcpReport {
        match self {
            CcpRun::Done(r) => r,
            CcpRun::Synced { pending, .. } => pending.report(),
        }
    }

    fn commit(self) -> anyhow::Result<CcpReport> {
        match self {
            CcpRun::Done(r) => Ok(r),
            CcpRun::Synced { pending, .. } => pending.commit().map_err(fail),
        }
    }
}

/// The CCP backfill, its events written and synced; with the summary's rollup fed every event
/// written and their bytes, when it was started.
fn backfill_ccp(
    a: &BackfillArgs,
    root: &Utf8Path,
    data_dir: &Utf8Path,
    since_us: Option<i64>,
    events: &Utf8Path,
) -> anyhow::Result<(CcpRun, Option<(Appending, u64)>)> {
    let book = load_prices(Some(&data_dir_prices(data_dir)), a.prices.as_deref())?;
    let mut prices = book.table;
    prices.id = book.sources.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join("+");
    let opts = CcpOptions {
        root: root.to_owned(),
        state_dir: data_dir.join("backfill").join("ccp"),
        since_us,
        now_us: Timestamp::now().as_unix_micros(),
        strict: a.strict,
        prices: Some(prices),
    };
    let bar = (!a.json && std::io::stderr().is_terminal()).then(|| Bar::new("backfilling"));
    let draw = |p: Progress| {
        if let Some(b) = &bar {
            b.draw(p);
        }
    };
    if a.strict {
        // Spooled: the first bad line stops the run before anything reaches the event log.
        let pending = prepare_ccp(&opts, &draw);
        if let Some(b) = &bar {
            b.clear();
        }
        let pending = pending.map_err(fail)?;
        if a.dry_run {
            return Ok((CcpRun::Done(pending.report().clone()), None));
        }
        append(|f| pending.write_event_batches(f), pending.report().events, events)?;
        return Ok((CcpRun::Synced { pending, _lock: None }, None));
    }
    // Each batch of event lines goes straight to the event log, under its lock (taken at the
    // first event, held to the end); one fsync at the end, then the ledger is committed. A
    // crash before the commit leaves whole lines (and at worst a torn last one the readers
    // skip); the next run writes the same events again, which readers drop by `event_id`.
    let mut dry = |_: &str| -> anyhow::Result<()> { Ok(()) };
    let mut sink = LogSink::new(events, data_dir, !a.no_summary);
    let pending = if a.dry_run {
        ccp::backfill_ccp(&opts, &draw, &mut dry)
    } else {
        ccp::backfill_ccp(&opts, &draw, &mut sink)
    };
    if let Some(b) = &bar {
        b.clear();
    }
    let pending = pending.map_err(|e| match e.downcast::<agentos_backfill::Error>() {
        Ok(e) => fail(e),
        Err(e) => e,
    })?;
    if a.dry_run {
        return Ok((CcpRun::Done(pending.report().clone()), None));
    }
    let written = sink.into_written();
    if let Some(out) = &written.lock {
        out.sync()?;
    }
    Ok((CcpRun::Synced { pending, _lock: written.lock }, written.summary))
}

fn backfill_py(
    a: &BackfillArgs,
    dir: &Utf8Path,
    data_dir: &Utf8Path,
    events: &Utf8Path,
) -> anyhow::Result<PyReport> {
    let opts = PyOptions {
        dir: dir.to_owned(),
        state_dir: data_dir.join("backfill").join("agentos-py"),
        strict: a.strict,
    };
    let pending = prepare_py(&opts).map_err(|e| match e {
        agentos_backfill::Error::NotADirectory { .. } => anyhow::anyhow!(crate::hints::with(
            &e,
            Some("--agentos-py names a Python AgentOS data dir: the directory that holds windows.jsonl")
        )),
        e => fail(e),
    })?;
    if a.dry_run {
        return Ok(pending.report().clone());
    }
    append(|f| pending.write_event_batches(f), pending.report().events, events)?;
    pending.commit().map_err(fail)
}

/// Roll the data dir's log up from its checkpoint, as `agentos rollup` does (finishing `fed`,
/// the rollup given the backfill's events as they were written, when there is one); the paths
/// written and the trend per day × model.
fn refresh_summary(
    data_dir: &Utf8Path,
    events: &Utf8Path,
    usage_json: Option<&Utf8Path>,
    fed: Option<(Appending, u64)>,
) -> anyhow::Result<(Vec<Utf8PathBuf>, Vec<ModelDay>)> {
    let checkpoint = data_dir.join(CHECKPOINT_FILE);
    let model_health = usage_json.map(read_model_health).transpose()?;
    let r = match fed {
        Some((mut rollup, appended)) => {
            rollup.set_model_health(model_health);
            rollup.finish(appended)?
        }
        None => {
            let opts = SummaryOptions { model_health, ..SummaryOptions::default() };
            summarize_incremental(&[events.to_owned()], &opts, &checkpoint)?
        }
    };
    let paths = super::rollup::write_outputs(&r, &data_dir.join("metrics_summary.json"))?;
    Ok((paths, r.model_days))
}

/// Append `events` lines (handed over in batches by `write`) under the event log's lock, then
/// force them to disk.
fn append(
    write: impl FnOnce(&mut dyn FnMut(&str) -> anyhow::Result<()>) -> anyhow::Result<()>,
    events: u64,
    path: &Utf8Path,
) -> anyhow::Result<()> {
    if events == 0 {
        return Ok(());
    }
    let log = JsonlLog::new(path);
    let mut appender = log.appender()?;
    write(&mut |lines| appender.append_lines(lines).map_err(anyhow::Error::from))?;
    appender.sync()?;
    Ok(())
}

fn print_py(r: &PyReport, dir: &Utf8Path, dry_run: bool) {
    if r.file == "missing" {
        outln!(
            "Python AgentOS data dir {}: no {} there, nothing imported (the Python tool writes it in its data dir)",
            crate::table::sanitize(dir.as_str(), 400),
            agentos_backfill::agentos_py::EVENT_LOG
        );
        return;
    }
    let verb = if dry_run { "would import" } else { "imported" };
    outln!(
        "Python AgentOS data dir ({}): {verb} {}, {} already imported, {} lines not events, {} bad",
        r.file,
        plural(r.events, "event"),
        r.duplicates,
        r.not_events,
        r.bad_lines
    );
    for line in &r.bad {
        outln!("  {}", crate::table::sanitize(line, 400));
    }
}

fn print_text(r: &CcpReport, dry_run: bool) {
    let verb = if dry_run { "would write" } else { "wrote" };
    outln!(
        "{verb} {}: {} completed, {} failed ({} without completion, {} with an error status)",
        plural(r.requests, "request"),
        r.completed,
        r.failed,
        r.no_completion,
        r.error_status
    );
    outln!(
        "tokens: {} in, {} out; {} with unknown tokens; {}",
        r.input_tokens,
        r.output_tokens,
        r.tokens_unknown,
        plural(r.fallbacks, "fallback")
    );
    for (model, m) in &r.by_model {
        outln!(
            "  {}: {} ({} failed), {} in, {} out",
            crate::table::cell(model),
            plural(m.requests, "request"),
            m.failed,
            m.input_tokens,
            m.output_tokens
        );
    }
    let copies = match r.duplicate_files {
        1 => "1 byte-identical copy".to_owned(),
        n => format!("{n} byte-identical copies"),
    };
    outln!(
        "files: {} read, {} skipped, {copies}; lines: {} read, {} dropped, {}, {} bad",
        r.files_read,
        r.files_skipped,
        r.lines,
        plural(r.duplicate_lines, "duplicate"),
        plural(r.placeholder_lines, "placeholder"),
        r.bad_lines
    );
    for f in r.files.iter().filter(|f| matches!(f.action, "unreadable" | "skipped")) {
        let note = f.note.as_deref().unwrap_or_default();
        outln!(
            "  {} {}: {}",
            f.action,
            crate::table::sanitize(&f.path, 400),
            crate::table::sanitize(note, 400)
        );
    }
    if r.pending > 0 {
        outln!("  {} still in flight, joined by the next run", plural(r.pending, "request"));
    }
    if r.before_since > 0 {
        outln!("  {} before --since, not written", plural(r.before_since, "request"));
    }
    let res = &r.results;
    if !res.metrics.is_empty()
        || !res.rollups.is_empty()
        || !res.summaries.is_empty()
        || !res.usage_snapshots.is_empty()
    {
        outln!(
            "results/: {} METRICS file(s) (line counts, not requests), {} rollup file(s), {} /v1/usage snapshot(s), GLM limit probe: {}",
            res.metrics.len(),
            res.rollups.len(),
            res.usage_snapshots.len(),
            res.glm_limit_probe
                .as_ref()
                .map_or("none".to_owned(), |p| plural(p.len() as u64, "model"))
        );
        for s in &res.summaries {
            outln!("  {} ({})", crate::table::sanitize(&s.path, 400), s.modified);
        }
    }
    for p in &res.problems {
        outln!("  {}", crate::table::sanitize(p, 400));
    }
    for line in &r.bad {
        outln!("  {}", crate::table::sanitize(line, 400));
    }
    if r.bad_lines > r.bad.len() as u64 {
        outln!("  … and {} more", r.bad_lines - r.bad.len() as u64);
    }
}
