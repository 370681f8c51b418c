//! `agentos rollup`, `report`, `churn`, `efficiency`, `demo`: turn the local logs into the
//! numbers users act on (all logic lives in `agentos-rollup`; this module parses arguments and
//! prints tables).

use std::collections::BTreeMap;
use std::process::ExitCode;

use agentos_rollup::churn::{ChurnOptions, ChurnReport};
use agentos_rollup::efficiency::{EfficiencyReport, efficiency_file};
use agentos_rollup::progress::{update_progress_log, update_trend};
use agentos_rollup::{
    CHECKPOINT_FILE, Error as RollupError, Rollup, SummaryOptions, read_model_health,
    summarize_files, summarize_incremental, write_summary,
};
use anyhow::Context as _;
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::json;

use crate::Global;

/// How many diagnostics a command prints before summarising the rest.
const SHOWN_DIAGNOSTICS: usize = 20;

/// Arguments of `rollup`.
#[derive(Debug, clap::Args)]
pub struct RollupArgs {
    /// events.jsonl file(s) to roll up (repeatable). Default: <data dir>/events.jsonl.
    #[arg(long = "events", value_name = "FILE")]
    pub events: Vec<Utf8PathBuf>,
    /// Where to write the summary. Default: <data dir>/metrics_summary.json.
    /// progress.log.md and trend.json are written next to it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<Utf8PathBuf>,
    /// Fail (exit 1) on the first malformed or schema-invalid line instead of skipping it.
    #[arg(long)]
    pub strict: bool,
    /// A CCC `/v1/usage` response (JSON file): its `models` become `model_health`, and their
    /// `weekly_pct` feeds the capacity alerts.
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
    /// Value per model (epic A7).
    Model,
    /// One row per session.
    Session,
    /// One row per UTC day.
    Day,
}

impl By {
    fn name(self) -> &'static str {
        match self {
            By::Model => "model",
            By::Session => "session",
            By::Day => "day",
        }
    }
}

/// Arguments of `report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Only this session.
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    /// Rows by model, session or day.
    #[arg(long, value_enum, default_value = "model")]
    pub by: By,
    /// Print JSON (with schema_version) instead of tables.
    #[arg(long)]
    pub json: bool,
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

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The data dir: `--data-dir` / `AGENTOS_DATA_DIR`, else the platform default.
pub fn data_dir(g: &Global) -> Utf8PathBuf {
    g.data_dir.clone().unwrap_or_else(agentos_ccc_client::config::default_data_dir)
}

fn event_files(given: &[Utf8PathBuf], g: &Global) -> Vec<Utf8PathBuf> {
    if given.is_empty() { vec![data_dir(g).join("events.jsonl")] } else { given.to_vec() }
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
fn summarize(
    files: &[Utf8PathBuf],
    opts: &SummaryOptions,
) -> anyhow::Result<Result<Rollup, ExitCode>> {
    answer(summarize_files(files, opts))
}

fn answer(r: Result<Rollup, RollupError>) -> anyhow::Result<Result<Rollup, ExitCode>> {
    match r {
        Ok(r) => Ok(Ok(r)),
        Err(e @ RollupError::InvalidLine { .. }) => {
            eprintln!("error: {e}");
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
    let files = event_files(&a.events, g);
    let out = a.out.clone().unwrap_or_else(|| data_dir(g).join("metrics_summary.json"));
    let opts = SummaryOptions {
        strict: a.strict,
        model_health: a.usage_json.as_deref().map(read_model_health).transpose()?,
        weekly_capacity: parse_weekly(&a.weekly_capacity)?,
        ..SummaryOptions::default()
    };
    // The data dir's own log resumes from the checkpoint `session end` keeps; other files
    // are read in full (and leave that checkpoint alone).
    let r = if a.events.is_empty() && !a.full {
        answer(summarize_incremental(&files, &opts, &data_dir(g).join(CHECKPOINT_FILE)))?
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
            alert.provider,
            alert.weekly_used * 100.0,
            alert.advice
        );
    }
    for p in written {
        outln!("wrote {p}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Write the summary, progress log and trend; return the paths written.
fn write_outputs(r: &Rollup, out: &Utf8Path) -> anyhow::Result<Vec<Utf8PathBuf>> {
    write_summary(&r.summary, out)?;
    let dir = match out.parent() {
        Some(d) if !d.as_str().is_empty() => d.to_owned(),
        _ => Utf8PathBuf::from("."),
    };
    let trend_path = dir.join("trend.json");
    let log_path = dir.join("progress.log.md");
    let trend = update_trend(&trend_path, r)?;
    let today = r.summary.generated_at.map(|t| t.utc_date()).unwrap_or_default();
    update_progress_log(&log_path, &today, r, Some(&trend))?;
    Ok(vec![out.to_owned(), log_path, trend_path])
}

fn headline(r: &Rollup) -> String {
    let s = &r.summary;
    format!(
        "{} sessions, {} turns, {} features over {} capacity ({} per capacity), ${} cost{}{}",
        s.sessions,
        s.turns,
        num(s.features_shipped),
        num(s.capacity_used),
        opt(s.features_per_capacity),
        money(s.cost_usd),
        if s.diagnostics > 0 {
            format!(", {} lines skipped", s.diagnostics)
        } else {
            String::new()
        },
        if r.duplicates > 0 {
            format!(", {} repeated events counted once", r.duplicates)
        } else {
            String::new()
        }
    )
}

fn num(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" { "0".to_owned() } else { s.to_owned() }
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".to_owned(), num)
}

fn money(x: f64) -> String {
    format!("{x:.4}")
}

/// Render an aligned table: first column left-aligned, the others right-aligned.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut out = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            if i == 0 {
                out.push_str(&format!("{c:<w$}"));
            } else {
                out.push_str(&format!("{c:>w$}"));
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = line(headers.to_vec());
    out.push('\n');
    out.push_str(&line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    ));
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

/// The report for a rollup, as text.
pub fn render_report(r: &Rollup, by: By, session: Option<&str>) -> String {
    let s = &r.summary;
    let mut out = String::new();
    match session {
        Some(id) => out.push_str(&format!("Session {id}\n")),
        None => out.push_str("AgentOS report\n"),
    }
    if let Some(p) = &s.period {
        out.push_str(&format!("period: {} .. {}\n", p.start, p.end));
    }
    out.push_str(&format!("{}\n", headline(r)));
    out.push_str(&format!(
        "avg CLS {}, avg IMPF {}, avg churn {}; cost per shipped feature {}\n",
        opt(s.avg_cls),
        opt(s.avg_impf),
        opt(s.avg_churn_score),
        s.cost_per_shipped_feature.map_or_else(|| "n/a".to_owned(), |c| format!("${}", money(c)))
    ));
    let statuses: Vec<String> =
        s.features_by_status.iter().map(|(k, v)| format!("{} {v}", k.as_str())).collect();
    out.push_str(&format!("features by status: {}\n", statuses.join(", ")));
    let outcomes: Vec<String> = s
        .outcomes
        .iter()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| format!("{} {v}", k.as_str()))
        .collect();
    if !outcomes.is_empty() {
        out.push_str(&format!("outcomes: {}\n", outcomes.join(", ")));
    }
    out.push('\n');
    match by {
        By::Model => {
            let rows: Vec<Vec<String>> = s
                .value_per_model
                .iter()
                .map(|(m, v)| {
                    vec![
                        m.clone(),
                        v.turns.to_string(),
                        v.tokens_in.to_string(),
                        v.tokens_out.to_string(),
                        num(v.attribution_weight),
                        num(v.features_attributed),
                        money(v.cost_usd),
                        v.cost_per_attributed_feature.map_or_else(|| "n/a".to_owned(), money),
                    ]
                })
                .collect();
            out.push_str(&table(
                &[
                    "model",
                    "turns",
                    "tokens in",
                    "tokens out",
                    "attribution",
                    "features",
                    "cost $",
                    "$/feature",
                ],
                &rows,
            ));
        }
        By::Session => {
            let rows: Vec<Vec<String>> = r
                .sessions
                .iter()
                .map(|x| {
                    vec![
                        x.session_id.clone(),
                        x.started.map_or_else(|| "-".to_owned(), |t| t.to_string()),
                        x.row.turns.to_string(),
                        (x.row.tokens_in + x.row.tokens_out).to_string(),
                        num(x.row.features),
                        num(x.row.capacity_used),
                        opt(x.row.features_per_capacity),
                        money(x.row.cost_usd),
                    ]
                })
                .collect();
            out.push_str(&table(
                &[
                    "session", "started", "turns", "tokens", "features", "capacity", "f/cap",
                    "cost $",
                ],
                &rows,
            ));
        }
        By::Day => {
            let rows: Vec<Vec<String>> = r
                .days
                .iter()
                .map(|(d, x)| {
                    vec![
                        d.clone(),
                        x.turns.to_string(),
                        (x.tokens_in + x.tokens_out).to_string(),
                        num(x.features),
                        num(x.capacity_used),
                        opt(x.features_per_capacity),
                        money(x.cost_usd),
                    ]
                })
                .collect();
            out.push_str(&table(
                &["day", "turns", "tokens", "features", "capacity", "f/cap", "cost $"],
                &rows,
            ));
        }
    }
    if !s.usage_by_provider.is_empty() {
        out.push('\n');
        let rows: Vec<Vec<String>> = s
            .usage_by_provider
            .iter()
            .map(|(p, u)| {
                vec![
                    p.clone(),
                    u.turns.to_string(),
                    u.tokens_in.to_string(),
                    u.tokens_out.to_string(),
                    money(u.cost_usd),
                ]
            })
            .collect();
        out.push_str(&table(&["provider", "turns", "tokens in", "tokens out", "cost $"], &rows));
    }
    for a in &s.capacity_alerts {
        out.push_str(&format!(
            "\nALERT {}: {:.0}% of weekly capacity (line {:.0}%): {}\n",
            a.provider,
            a.weekly_used * 100.0,
            a.threshold * 100.0,
            a.advice
        ));
    }
    if s.diagnostics > 0 {
        out.push_str(&format!(
            "\n{} input lines were skipped (run `agentos rollup` to see them)\n",
            s.diagnostics
        ));
    }
    out
}

/// The report for a rollup, as JSON.
pub fn report_json(r: &Rollup, by: By, session: Option<&str>) -> serde_json::Value {
    let rows = match by {
        By::Model => serde_json::to_value(&r.summary.value_per_model),
        By::Session => serde_json::to_value(&r.sessions),
        By::Day => serde_json::to_value(&r.days),
    }
    .unwrap_or(serde_json::Value::Null);
    json!({
        "schema_version": agentos_event_schema::v1::SCHEMA_VERSION,
        "by": by.name(),
        "session": session,
        "summary": r.summary,
        "rows": rows,
    })
}

pub fn report(a: ReportArgs, g: &Global) -> anyhow::Result<ExitCode> {
    let files = event_files(&a.events, g);
    let opts = SummaryOptions { session: a.session.clone(), ..SummaryOptions::default() };
    let r = match summarize(&files, &opts)? {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    if let Some(id) = &a.session
        && r.summary.turns == 0
        && r.sessions.is_empty()
    {
        eprintln!("error: no events of session {id} in {}", display_files(&files));
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

fn churn_json(r: &ChurnReport) -> serde_json::Value {
    json!({"schema_version": agentos_event_schema::v1::SCHEMA_VERSION, "churn": r})
}

fn render_churn(r: &ChurnReport) -> String {
    let mut horizons: Vec<u32> =
        r.features.iter().flat_map(|f| f.horizons.iter().map(|h| h.days)).collect();
    horizons.sort_unstable();
    horizons.dedup();
    let mut headers: Vec<String> =
        ["feature", "windows", "commits", "lines added"].map(str::to_owned).to_vec();
    headers.extend(horizons.iter().map(|d| format!("churn {d}d")));
    headers.push("quality".to_owned());
    let rows: Vec<Vec<String>> = r
        .features
        .iter()
        .map(|f| {
            let mut row = vec![
                f.feature_id.clone(),
                f.windows.join(","),
                f.commits.to_string(),
                f.lines_added.to_string(),
            ];
            for d in &horizons {
                let cell = f.horizons.iter().find(|h| h.days == *d).map_or_else(
                    || "-".to_owned(),
                    |h| format!("{}{}", opt(h.churn_score), if h.complete { "" } else { "*" }),
                );
                row.push(cell);
            }
            row.push(opt(f.quality));
            row
        })
        .collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut out = format!("Churn of xfeat:: commits in {}\n", r.repo);
    if r.features.is_empty() {
        out.push_str("no xfeat::<FeatureID>::<WindowID>::<Stage> commits found\n");
    } else {
        out.push_str(&table(&headers, &rows));
        out.push_str("* horizon not yet covered by the history (provisional)\n");
    }
    out.push_str(&format!(
        "{} prototype (xproto::) commits excluded, {} untagged commits\n",
        r.prototype_commits, r.untagged_commits
    ));
    out
}

pub fn efficiency(a: EfficiencyArgs, g: &Global) -> anyhow::Result<ExitCode> {
    let path = a.windows.clone().unwrap_or_else(|| data_dir(g).join("windows.jsonl"));
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

fn render_efficiency(r: &EfficiencyReport, path: &Utf8Path) -> String {
    let mut out =
        format!("Efficiency (features per capacity) from {path}: {} windows\n", r.windows);
    if r.providers.is_empty() {
        out.push_str("no windows recorded yet\n");
        return out;
    }
    let rows: Vec<Vec<String>> = r
        .providers
        .iter()
        .map(|p| {
            vec![
                p.provider.clone(),
                p.windows.len().to_string(),
                p.sample_size.to_string(),
                num(p.total_features),
                format!("{} {}", num(p.total_capacity), p.capacity_unit),
                opt(p.efficiency),
                match (p.ci_low, p.ci_high) {
                    (Some(l), Some(h)) => format!("[{}, {}]", num(l), num(h)),
                    _ => "n/a".to_owned(),
                },
                opt(p.power),
                format!("{} in {} windows", num(p.unmeasured_features), p.unmeasured_windows),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "provider",
            "windows",
            "n",
            "features",
            "capacity",
            "E",
            "95% CI",
            "power",
            "unmeasured features",
        ],
        &rows,
    ));
    out.push_str(
        "E = features / capacity over windows with measured capacity; CI and power need n >= 3\n",
    );
    out
}

/// The bundled sample sessions.
const DEMO_SESSIONS: &str = include_str!("../demo_sessions.json");

#[derive(serde::Deserialize)]
struct DemoData {
    sessions: Vec<DemoSession>,
}

#[derive(serde::Deserialize)]
struct DemoSession {
    repo_id: String,
    branch: String,
    commit: String,
    notes: String,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    /// How long before now the session started, so the samples span several days.
    #[serde(default)]
    days_ago: f64,
    turns: Vec<DemoTurn>,
}

#[derive(serde::Deserialize)]
struct DemoTurn {
    model: String,
    subagent: String,
    tokens_in: u64,
    tokens_out: u64,
    input_kind: agentos_event_schema::v1::InputKind,
    latency_ms: f64,
    capacity_used: Option<f64>,
    #[serde(default)]
    attribution: BTreeMap<String, f64>,
    measurement: Option<agentos_event_schema::v1::Measurement>,
    feature: Option<agentos_event_schema::v1::Feature>,
    cost: Option<agentos_event_schema::v1::Cost>,
    value: Option<agentos_event_schema::v1::Value>,
    outcome: Option<agentos_event_schema::v1::Outcome>,
}

/// Where the demo records: the given data dir when it is new or empty, else a fresh
/// `demo-<time>` directory inside it (the default data dir always gets a fresh one, so real
/// data is never mixed with samples).
fn demo_dir(g: &Global) -> anyhow::Result<Utf8PathBuf> {
    let stamp = || {
        let now = agentos_event_schema::Timestamp::now().to_string();
        let digits: String = now.chars().filter(char::is_ascii_digit).take(14).collect();
        format!("demo-{digits}-{}", std::process::id())
    };
    match &g.data_dir {
        Some(d) => {
            let empty = match std::fs::read_dir(d) {
                Ok(mut it) => it.next().is_none(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
                Err(e) => return Err(e).with_context(|| format!("cannot read {d}")),
            };
            Ok(if empty { d.clone() } else { d.join(stamp()) })
        }
        None => Ok(agentos_ccc_client::config::default_data_dir().join(stamp())),
    }
}

pub fn demo(a: DemoArgs, g: &Global) -> anyhow::Result<ExitCode> {
    use agentos_ccc_client::{Recorder, RecorderConfig, SessionStart, TurnInput};

    let data: DemoData = serde_json::from_str(DEMO_SESSIONS)
        .context("internal error: bundled demo data is invalid")?;
    let dir = demo_dir(g)?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {dir}"))?;
    // Local tier, no server, no license: nothing leaves the machine.
    let mut config = RecorderConfig::from_vars(Some(dir.clone()), &|_| None)?;
    config.tier = agentos_event_schema::v1::PrivacyTier::Local;
    let mut recorder = Recorder::open(config)?.with_auto_flush(false);
    // Sample sessions happened in the past: each turn follows the previous one after its
    // latency plus a few minutes of human review; the session ends two minutes later.
    let now = agentos_event_schema::Timestamp::now().as_unix_seconds_f64();
    let at = |secs: f64| agentos_event_schema::Timestamp::from_unix_seconds_f64(secs);
    for s in data.sessions {
        let mut clock = now - s.days_ago * 86_400.0;
        recorder.start_session(SessionStart {
            repo_id: s.repo_id,
            branch: s.branch,
            commit: s.commit,
            session_id: None,
            metadata: s.metadata,
            started_at: at(clock),
        })?;
        for t in s.turns {
            clock += t.latency_ms / 1000.0 + 240.0;
            recorder.log_turn(TurnInput {
                model: t.model,
                subagent: t.subagent,
                tokens_in: t.tokens_in,
                tokens_out: t.tokens_out,
                input_kind: t.input_kind,
                latency_ms: t.latency_ms,
                capacity_used: t.capacity_used,
                attribution: t.attribution,
                measurement: t.measurement,
                feature: t.feature,
                cost: t.cost,
                value: t.value,
                outcome: t.outcome,
                decision: None,
                at: at(clock),
            })?;
        }
        let ended = at(clock + 120.0).unwrap_or_else(agentos_event_schema::Timestamp::now);
        recorder.finish_session_at(Some(s.notes), ended)?;
    }
    let events = recorder.events_path();
    let r = match summarize(std::slice::from_ref(&events), &SummaryOptions::default())? {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    let written = write_outputs(&r, &dir.join("metrics_summary.json"))?;
    let windows = dir.join("windows.jsonl");
    let eff = efficiency_file(&windows)?;
    if a.json {
        let mut v = report_json(&r, By::Model, None);
        if let Some(o) = v.as_object_mut() {
            o.insert("data_dir".to_owned(), json!(dir));
            o.insert("efficiency".to_owned(), json!(eff.providers));
        }
        outln!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "Recorded {} sample sessions in the local tier (nothing left this machine).\n",
        r.summary.sessions
    );
    out!("{}", render_report(&r, By::Model, None));
    outln!();
    out!("{}", render_efficiency(&eff, &windows));
    outln!("\nFiles are in {dir}:");
    let mut files = vec![events, windows, dir.join("glm_counts.jsonl")];
    files.extend(written);
    for f in files.iter().filter(|f| f.exists()) {
        outln!("  {f}");
    }
    outln!("\nTry: agentos --data-dir {dir} report --by session");
    Ok(ExitCode::SUCCESS)
}
