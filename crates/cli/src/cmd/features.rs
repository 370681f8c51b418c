//! `agentos features`: cost per shipped feature, by model — sessions joined to the git
//! history they produced (all logic in `agentos_rollup::features`): a table, or `--json`.

use std::process::ExitCode;

use agentos_event_schema::Timestamp;
use agentos_rollup::features::{FeaturesOptions, FeaturesReport, Status, features_report};
use agentos_rollup::usage::{data_dir_prices, load_prices};
use agentos_rollup::{SummaryOptions, read_summary, summarize_files, write_summary};
use camino::Utf8PathBuf;

use crate::Global;
use crate::numbers::{percent_or_dash, usd};
use crate::table::{cell, table_left_aligned};

/// `--grace` unless given.
pub const DEFAULT_GRACE_MINUTES: u32 = (agentos_rollup::features::DEFAULT_GRACE_SECS / 60) as u32;

/// Options of `agentos features`.
#[derive(Debug, clap::Args)]
pub struct FeaturesArgs {
    /// A git repository to read (repeatable). Default: the work trees of the imported
    /// sessions' working directories.
    #[arg(long = "repo", value_name = "PATH")]
    pub repos: Vec<Utf8PathBuf>,
    /// Only sessions active on or after this day (UTC), and features with commits since:
    /// YYYY-MM-DD or YYYYMMDD.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Minutes around a session's first and last response in which its commits still count.
    #[arg(long, value_name = "MINUTES", default_value_t = DEFAULT_GRACE_MINUTES)]
    pub grace: u32,
    /// Skip churn (7, 14 and 28 days; one `git log -p` of the default branch per repository
    /// plus one `git blame` per file a merge changed): every churn figure null.
    #[arg(long)]
    pub no_churn: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// A price table laid over the bundled one and <data dir>/prices.json (as `usage`).
    #[arg(long, value_name = "FILE")]
    pub prices: Option<Utf8PathBuf>,
    /// events.jsonl file(s) (repeatable). Default: <data dir>/events.jsonl.
    #[arg(long = "events", value_name = "FILE")]
    pub events: Vec<Utf8PathBuf>,
}

pub fn run(a: FeaturesArgs, g: &Global) -> anyhow::Result<ExitCode> {
    let files = super::rollup::inputs(&a.events, g, "events.jsonl")?;
    let book = load_prices(Some(&data_dir_prices(&g.data_dir())), a.prices.as_deref())?;
    let opts = FeaturesOptions {
        repos: a.repos.clone(),
        since: a.since.clone(),
        grace_secs: i64::from(a.grace) * 60,
        cache_dir: a.events.is_empty().then(|| g.data_dir()),
        churn: !a.no_churn,
    };
    let report = features_report(&files, &book, &opts)?;
    for d in report.diagnostics.iter().take(20) {
        eprintln!("warning: {d}");
    }
    for r in report.repos.iter().filter(|r| r.status == "ok" && r.message.is_some()) {
        let message = r.message.as_deref().unwrap_or_default();
        eprintln!("warning: repository {}: {}", cell(&r.path), cell(message));
    }
    for r in report.repos.iter().filter(|r| r.status != "ok") {
        eprintln!(
            "warning: repository {} is {}{}",
            cell(&r.path),
            r.status,
            r.message
                .as_deref()
                .map(|m| format!(": {}", cell(m.lines().next().unwrap_or_default())))
                .unwrap_or_default()
        );
        if r.status == "unreadable" {
            eprintln!(
                "hint: a repository owned by someone else is read only if git's safe.directory lists it"
            );
        }
    }
    if !report.unpriced_models.is_empty() {
        let names: Vec<String> = report.unpriced_models.iter().map(|m| cell(m)).collect();
        eprintln!(
            "warning: no price for {}: their cost counts as $0 (--prices adds a table)",
            names.join(", ")
        );
    }
    if a.events.is_empty()
        && a.since.is_none()
        && let Err(e) = record_summary(&report, &files, &g.data_dir())
    {
        eprintln!("warning: metrics_summary.json not updated: {e:#}");
    }
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        out!("{}", render(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// Put the report's aggregate figures in `<data dir>/metrics_summary.json` (`git_features`;
/// later rollups keep them), rolling the events up first when there is no summary yet.
fn record_summary(
    report: &FeaturesReport,
    files: &[Utf8PathBuf],
    data_dir: &camino::Utf8Path,
) -> anyhow::Result<()> {
    let path = data_dir.join("metrics_summary.json");
    let mut summary = match read_summary(&path) {
        Some(s) => s,
        None => summarize_files(files, &SummaryOptions::default())?.summary,
    };
    summary.git_features = Some(report.summary(Timestamp::now()));
    write_summary(&summary, &path)?;
    Ok(())
}

/// The per-feature table's headers and rows (the terminal and the HTML report share them).
pub fn features_table(r: &FeaturesReport) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let headers = vec![
        "Feature",
        "Rule",
        "Status",
        "Shipped",
        "Sessions",
        "Models",
        "Tokens",
        "Cost",
        "Cost by model",
        "Commits",
        "Lines added",
        "Agent share",
        "Churn 14d agent/human",
    ];
    let rows: Vec<Vec<String>> = r
        .features
        .iter()
        .map(|f| {
            let status = match f.status {
                Status::Shipped => "shipped",
                Status::InProgress => "in progress",
                Status::Prototype => "prototype",
                _ => "other",
            };
            let by_model: Vec<String> =
                f.models.iter().map(|(m, c)| format!("{} {}", cell(m), usd(c.cost_usd))).collect();
            let share = if f.lines_added == 0 {
                "-".to_owned()
            } else {
                format!("{:.0}%", 100.0 * f.agent_lines_added as f64 / f.lines_added as f64)
            };
            vec![
                cell(&f.id),
                serde_json::to_value(f.rule)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                status.to_owned(),
                f.shipped_at.as_deref().map(|s| s.get(..10).unwrap_or(s)).unwrap_or("-").to_owned(),
                f.sessions.to_string(),
                f.models.len().to_string(),
                f.tokens.to_string(),
                usd(f.cost_usd),
                by_model.join(", "),
                f.commits.to_string(),
                f.lines_added.to_string(),
                share,
                format!(
                    "{} / {}",
                    percent_or_dash(f.churn.churn_14d_agent),
                    percent_or_dash(f.churn.churn_14d_human)
                ),
            ]
        })
        .collect();
    (headers, rows)
}

fn render(r: &FeaturesReport) -> String {
    let (headers, rows) = features_table(r);
    let mut out = table_left_aligned(&headers, &rows, 3);
    out.push('\n');
    match r.cost_per_shipped_feature_usd {
        Some(c) => out.push_str(&format!("Cost per shipped feature: {}\n", usd(c))),
        None => out.push_str("Cost per shipped feature: - (no feature shipped)\n"),
    }
    for (m, c) in &r.per_model {
        out.push_str(&format!("  {}: {}\n", cell(m), usd(*c)));
    }
    out.push_str(&format!("Unattributed cost: {}\n", usd(r.unattributed_cost_usd)));
    if !r.churn.churn_14d_agent_by_model.is_empty() {
        out.push_str("Churn 14d of agent-written lines, by model:\n");
        for (m, c) in &r.churn.churn_14d_agent_by_model {
            out.push_str(&format!("  {}: {}\n", cell(m), percent_or_dash(Some(*c))));
        }
    }
    out
}
