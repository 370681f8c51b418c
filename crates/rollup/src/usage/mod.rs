//! Usage reports: tokens and cost of API responses by day, ISO week, month or session, per
//! model, in a chosen time zone, priced with a dated price table (`event_schema::prices`)
//! that a user's files can override.
//!
//! [`usage_report`] streams `events.jsonl` (bounded memory, two parsing workers, a torn last
//! line tolerated, an event counted once by `event_id`), buckets each response by its own
//! time (`turn.responded_at`, else the envelope `ts`) in the zone, filters by date and agent,
//! and groups. [`UsageReport::json`] renders the leading peer tool's JSON shape (`daily[]`,
//! `weekly[]`, `monthly[]`, `sessions[]`, `totals`) plus AgentOS keys (`priceTable`,
//! `unpricedModels`, `timezone`).
//!
//! Cost of a turn: its own `cost.estimated_usd` when it has one (what its writer said was
//! paid), else its tokens at the table's prices for its model family; a model the table does
//! not know is unpriced (`cost: null` in its breakdown, listed in `unpricedModels`), never $0.
//! A row's `totalCost` is the sum of what is priced.

mod line;
mod prices;
mod report;
mod scan;

use camino::Utf8PathBuf;

pub use prices::{PriceBook, PriceSource, data_dir_prices, load_prices};
pub use report::{ModelRow, SessionInfo, Totals, UsageReport, UsageRow};

/// How rows are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Period {
    /// One row per day in the zone.
    Daily,
    /// One row per ISO week (weeks start on Monday), named by its Monday.
    Weekly,
    /// One row per calendar month.
    Monthly,
    /// One row per session.
    Session,
}

impl Period {
    /// The JSON key of the rows (`daily`, `weekly`, `monthly`, `sessions`).
    pub fn rows_key(self) -> &'static str {
        match self {
            Period::Daily => "daily",
            Period::Weekly => "weekly",
            Period::Monthly => "monthly",
            Period::Session => "sessions",
        }
    }
}

/// What to report.
#[derive(Clone, Debug)]
pub struct UsageOptions {
    /// Rows by day, week, month or session.
    pub period: Period,
    /// IANA time zone name; `None`: the system's zone (`TZ` honoured).
    pub timezone: Option<String>,
    /// First day to include (in the zone), `YYYY-MM-DD` or `YYYYMMDD`.
    pub since: Option<String>,
    /// Last day to include (in the zone, inclusive), `YYYY-MM-DD` or `YYYYMMDD`.
    pub until: Option<String>,
    /// Only sessions of this agent (`claude-code`, `codex`: a session event's `agent`).
    pub agent: Option<String>,
}

impl UsageOptions {
    /// Options for `period` with every other setting at its default.
    pub fn new(period: Period) -> Self {
        UsageOptions { period, timezone: None, since: None, until: None, agent: None }
    }
}

/// What can go wrong in a usage report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// An input file exists but could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: Utf8PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The time zone is not known.
    #[error(
        "unknown time zone {name:?}: {message} (use an IANA name such as UTC or America/Los_Angeles)"
    )]
    TimeZone {
        /// The name given.
        name: String,
        /// Why it is not usable.
        message: String,
    },
    /// A date is not `YYYY-MM-DD` or `YYYYMMDD`.
    #[error("invalid date {value:?}: expected YYYY-MM-DD or YYYYMMDD ({message})")]
    Date {
        /// The text given.
        value: String,
        /// Why it is not a date.
        message: String,
    },
    /// The first day is after the last.
    #[error("the first day {since} is after the last day {until}")]
    EmptyRange {
        /// The first day.
        since: String,
        /// The last day.
        until: String,
    },
    /// A price file could not be used.
    #[error("cannot use price table {path}: {message}")]
    Prices {
        /// The file.
        path: Utf8PathBuf,
        /// Why.
        message: String,
    },
}

/// The usage report of `files` (read in order; a missing file reads as empty), priced with
/// `prices`.
pub fn usage_report(
    files: &[Utf8PathBuf],
    prices: &PriceBook,
    opts: &UsageOptions,
) -> Result<UsageReport, UsageError> {
    let tz = report::time_zone(opts.timezone.as_deref())?;
    let range = report::DayRange::parse(opts.since.as_deref(), opts.until.as_deref())?;
    let ctx = scan::Ctx { prices: &prices.table, tz: &tz };
    let collected = scan::scan_files(files, &ctx)?;
    Ok(report::build(collected, prices, opts, &tz, range))
}

#[cfg(test)]
mod tests;
