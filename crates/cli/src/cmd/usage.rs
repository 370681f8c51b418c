//! `agentos usage daily|weekly|monthly|session`: tokens and cost of the agents' API responses
//! by day, ISO week, month or session (all logic in `agentos_rollup::usage`): a terminal
//! table, or `--json` in the leading peer tool's shape.

use std::process::ExitCode;

use agentos_rollup::usage::{
    Period, UsageOptions, UsageReport, UsageRow, data_dir_prices, load_prices, usage_report,
};
use camino::Utf8PathBuf;

use crate::Global;
use crate::numbers::usd;
use crate::table::{cell, table_left_aligned};

/// How many skipped lines are listed before the rest are summarised.
const SHOWN_DIAGNOSTICS: usize = 20;

/// The report to print.
#[derive(Debug, clap::Subcommand)]
pub enum UsageCmd {
    /// One row per day in the time zone.
    Daily(UsageArgs),
    /// One row per ISO week (weeks start on Monday), named by its Monday.
    Weekly(UsageArgs),
    /// One row per calendar month.
    Monthly(UsageArgs),
    /// One row per session, ordered by its latest activity.
    Session(UsageArgs),
}

/// The agents whose sessions can be selected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Agent {
    /// Claude Code.
    ClaudeCode,
    /// OpenAI Codex CLI.
    Codex,
}

impl Agent {
    fn name(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "claude-code",
            Agent::Codex => "codex",
        }
    }
}

/// Options of every usage report.
#[derive(Debug, clap::Args)]
pub struct UsageArgs {
    /// Print JSON (the shape of ccusage's `--json`, plus priceTable, unpricedModels, timezone).
    #[arg(long)]
    pub json: bool,
    /// IANA time zone days are counted in, e.g. UTC, Europe/Berlin. Default: the local zone
    /// ($TZ honoured).
    #[arg(long, value_name = "TZ")]
    pub timezone: Option<String>,
    /// First day to include, in the time zone: YYYY-MM-DD or YYYYMMDD.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Last day to include (inclusive), in the time zone: YYYY-MM-DD or YYYYMMDD.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Only sessions of this agent.
    #[arg(long, value_enum)]
    pub agent: Option<Agent>,
    /// Add a row per model under each row.
    #[arg(long)]
    pub breakdown: bool,
    /// A price table (JSON, the format of schemas/v1/prices.schema.json) laid over the bundled
    /// one and <data dir>/prices.json: its model families replace or extend theirs.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<Utf8PathBuf>,
    /// events.jsonl file(s) (repeatable). Default: <data dir>/events.jsonl.
    #[arg(long = "events", value_name = "FILE")]
    pub events: Vec<Utf8PathBuf>,
}

pub fn run(c: UsageCmd, g: &Global) -> anyhow::Result<ExitCode> {
    let (period, a) = match c {
        UsageCmd::Daily(a) => (Period::Daily, a),
        UsageCmd::Weekly(a) => (Period::Weekly, a),
        UsageCmd::Monthly(a) => (Period::Monthly, a),
        UsageCmd::Session(a) => (Period::Session, a),
    };
    let files = super::rollup::inputs(&a.events, g, "events.jsonl")?;
    let data_dir_file = data_dir_prices(&g.data_dir());
    let book = load_prices(Some(&data_dir_file), a.prices.as_deref())?;
    let opts = UsageOptions {
        period,
        timezone: a.timezone.clone(),
        since: a.since.clone(),
        until: a.until.clone(),
        agent: a.agent.map(|x| x.name().to_owned()),
        // The data dir's cache serves its own events.jsonl, not files named with --events.
        cache_dir: a.events.is_empty().then(|| g.data_dir()),
    };
    let report = usage_report(&files, &book, &opts)?;
    for d in report.diagnostics.iter().take(SHOWN_DIAGNOSTICS) {
        eprintln!("warning: {d}");
    }
    let listed = report.diagnostics.len() as u64;
    let shown = listed.min(SHOWN_DIAGNOSTICS as u64);
    if listed > shown {
        eprintln!("warning: … {} more skipped lines", listed - shown);
    }
    // Lines skipped when the cache was built are counted, not listed again.
    if report.skipped_lines > listed {
        eprintln!(
            "warning: {} lines skipped earlier are not listed again (`--events <data dir>/events.jsonl` reads everything)",
            report.skipped_lines - listed
        );
    }
    if a.json {
        let text = serde_json::to_string_pretty(&report.json())?;
        outln!("{text}");
    } else {
        out!("{}", render(&report, a.breakdown, &book.describe()));
    }
    Ok(ExitCode::SUCCESS)
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The table's headers and rows: a row per period (per-model sub-rows with `breakdown`) and
/// a total row (the terminal and the HTML report share them).
pub fn usage_table(r: &UsageReport, breakdown: bool) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let first = match r.period {
        Period::Weekly => "Week",
        Period::Monthly => "Month",
        Period::Session => "Session",
        _ => "Date",
    };
    let mut headers =
        vec![first, "Models", "Input", "Output", "Cache Create", "Cache Read", "Total Tokens"];
    headers.push("Cost (USD)");
    if r.period == Period::Session {
        headers.extend(["Last Activity", "Agent"]);
    }
    let star = |unpriced: bool| if unpriced { "*" } else { "" };
    let mut rows: Vec<Vec<String>> = Vec::new();
    for row in &r.rows {
        rows.push(main_row(row, r.period, star(row.models.iter().any(|m| m.cost.is_none()))));
        if breakdown {
            for m in &row.models {
                rows.push(vec![
                    format!("  └ {}", m.model),
                    String::new(),
                    thousands(m.input_tokens),
                    thousands(m.output_tokens),
                    thousands(m.cache_creation_tokens),
                    thousands(m.cache_read_tokens),
                    thousands(
                        m.input_tokens
                            .saturating_add(m.output_tokens)
                            .saturating_add(m.cache_creation_tokens)
                            .saturating_add(m.cache_read_tokens),
                    ),
                    m.cost.map_or_else(|| "unpriced".to_owned(), usd),
                ]);
            }
        }
    }
    let t = &r.totals;
    rows.push(vec![
        "Total".to_owned(),
        String::new(),
        thousands(t.input_tokens),
        thousands(t.output_tokens),
        thousands(t.cache_creation_tokens),
        thousands(t.cache_read_tokens),
        thousands(t.total_tokens),
        format!("{}{}", usd(t.total_cost), star(!r.unpriced_models.is_empty())),
    ]);
    (headers, rows)
}

/// The terminal table (`usage_table`), then which table priced it and which models it could
/// not price.
pub fn render(r: &UsageReport, breakdown: bool, prices: &str) -> String {
    let (headers, rows) = usage_table(r, breakdown);
    let mut out = String::new();
    if r.rows.is_empty() {
        out.push_str(&format!("No usage found ({} lines read).\n", thousands(r.lines)));
    } else {
        out.push_str(&table_left_aligned(&headers, &rows, 2));
    }
    let zone = cell(&r.timezone);
    match r.period {
        Period::Weekly => out.push_str(&format!("Weeks start on Monday (ISO), in {zone}.\n")),
        Period::Session => out.push_str(&format!("Last activity in {zone}.\n")),
        _ => out.push_str(&format!("Days in {zone}.\n")),
    }
    out.push_str(&format!("Prices: {}\n", cell(prices)));
    if !r.unpriced_models.is_empty() {
        let names: Vec<String> = r.unpriced_models.iter().map(|m| cell(m)).collect();
        out.push_str(&format!(
            "* not included in the cost: no price for {} (tokens are counted; add the model to a price file)\n",
            names.join(", ")
        ));
    }
    out
}

fn main_row(row: &UsageRow, period: Period, star: &str) -> Vec<String> {
    let t = &row.totals;
    let mut models: Vec<&str> = row.models.iter().map(|m| m.model.as_str()).collect();
    models.sort_unstable();
    let mut cells = vec![
        row.key.clone(),
        models.join(", "),
        thousands(t.input_tokens),
        thousands(t.output_tokens),
        thousands(t.cache_creation_tokens),
        thousands(t.cache_read_tokens),
        thousands(t.total_tokens),
        format!("{}{star}", usd(t.total_cost)),
    ];
    if period == Period::Session
        && let Some(s) = &row.session
    {
        cells.push(s.last_activity.clone());
        cells.push(s.agent.clone().unwrap_or_default());
    }
    cells
}
