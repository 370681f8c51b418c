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
//! paid), else its tokens at the table's prices for its model family — also when the turn
//! carries an estimate an earlier table made (`cost.price_table` set, as `agentos import`
//! writes), which stands only for a model the table in force does not price; a model no table
//! prices is unpriced (`cost: null` in its breakdown, listed in `unpricedModels`), never $0.
//! A row's `totalCost` is the sum of what is priced.

mod cache;
mod prices;
mod report;
mod scan;
mod seen;
mod sessions;

use camino::{Utf8Path, Utf8PathBuf};

pub use prices::{PriceBook, PriceSource, data_dir_prices, load_prices};
pub use report::{ModelRow, SessionInfo, Totals, UsageReport, UsageRow};
pub(crate) use sessions::SessionActivity;

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
    /// The data dir whose cache (`state/usage_cache.bin`) to use and refresh, when the report
    /// reads exactly one file (its `events.jsonl`); `None`: read everything every time.
    pub cache_dir: Option<Utf8PathBuf>,
}

impl UsageOptions {
    /// Options for `period` with every other setting at its default.
    pub fn new(period: Period) -> Self {
        UsageOptions {
            period,
            timezone: None,
            since: None,
            until: None,
            agent: None,
            cache_dir: None,
        }
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

/// Where the usage cache of a data dir lives.
pub fn cache_path(data_dir: &Utf8Path) -> Utf8PathBuf {
    data_dir.join(cache::CACHE_FILE)
}

/// The usage report of `files` (read in order; a missing file reads as empty), priced with
/// `prices`.
pub fn usage_report(
    files: &[Utf8PathBuf],
    prices: &PriceBook,
    opts: &UsageOptions,
) -> Result<UsageReport, UsageError> {
    let (collected, tz) = collect(files, prices, opts)?;
    let range = report::DayRange::parse(opts.since.as_deref(), opts.until.as_deref())?;
    Ok(report::build(&collected, prices, opts, &tz, range))
}

/// One read of `files` (through the cache when `opts` names one) and the report's zone.
fn collect(
    files: &[Utf8PathBuf],
    prices: &PriceBook,
    opts: &UsageOptions,
) -> Result<(scan::Collected, jiff::tz::TimeZone), UsageError> {
    let tz = report::time_zone(opts.timezone.as_deref())?;
    let ctx = scan::Ctx { prices: &prices.table };
    let collected = match (&opts.cache_dir, files) {
        (Some(dir), [file]) => cached_scan(file, &dir.join(cache::CACHE_FILE), &ctx)?,
        _ => full_scan(files, &ctx)?,
    };
    Ok((collected, tz))
}

/// [`usage_report`] for each of `periods` (`opts.period` aside) from one read of `files`.
pub fn usage_reports(
    files: &[Utf8PathBuf],
    prices: &PriceBook,
    opts: &UsageOptions,
    periods: &[Period],
) -> Result<Vec<UsageReport>, UsageError> {
    let (collected, tz) = collect(files, prices, opts)?;
    let range = report::DayRange::parse(opts.since.as_deref(), opts.until.as_deref())?;
    Ok(periods
        .iter()
        .map(|p| {
            let o = UsageOptions { period: *p, ..opts.clone() };
            report::build(&collected, prices, &o, &tz, range)
        })
        .collect())
}

/// Every session of `files` with its repo, branch, window and per-model use, priced with
/// `prices` (the data dir's cache used as [`usage_report`] uses it).
pub(crate) fn session_activity(
    files: &[Utf8PathBuf],
    prices: &PriceBook,
    cache_dir: Option<&Utf8Path>,
) -> Result<(Vec<SessionActivity>, Vec<crate::Diagnostic>), UsageError> {
    let ctx = scan::Ctx { prices: &prices.table };
    let collected = match (cache_dir, files) {
        (Some(dir), [file]) => cached_scan(file, &dir.join(cache::CACHE_FILE), &ctx)?,
        _ => full_scan(files, &ctx)?,
    };
    Ok((sessions::fold(&collected), collected.kept.clone()))
}

fn read_err(path: &Utf8Path) -> impl Fn(std::io::Error) -> UsageError + '_ {
    move |source| UsageError::Read { path: path.to_owned(), source }
}

/// Open an input: `None` when it does not exist; a directory is an error.
fn open(path: &Utf8Path) -> Result<Option<(std::fs::File, std::fs::Metadata)>, UsageError> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read_err(path)(e)),
    };
    let meta = f.metadata().map_err(read_err(path))?;
    if meta.is_dir() {
        return Err(read_err(path)(std::io::Error::other("it is a directory, not a file")));
    }
    Ok(Some((f, meta)))
}

fn full_scan(files: &[Utf8PathBuf], ctx: &scan::Ctx<'_>) -> Result<scan::Collected, UsageError> {
    let mut all = scan::Collected::default();
    for path in files {
        let Some((f, _)) = open(path)? else { continue };
        let done = scan::scan(f, path, ctx, &mut all, 0).map_err(read_err(path))?;
        if let Some(tail) = done.tail {
            all.merge(tail, path, done.lines);
        }
    }
    Ok(all)
}

/// A fingerprint of the prices (costs are summed as lines are read, so a cache holds only for
/// the prices it was made with).
fn prices_fingerprint(ctx: &scan::Ctx<'_>) -> u128 {
    let text = serde_json::to_vec(&ctx.prices.models).unwrap_or_default();
    crate::dedupe::id_hash_bytes(&text)
}

/// Resume from the cache when it fits, read what was appended, refresh the cache.
fn cached_scan(
    path: &Utf8Path,
    cache_path: &Utf8Path,
    ctx: &scan::Ctx<'_>,
) -> Result<scan::Collected, UsageError> {
    let Some((mut f, meta)) = open(path)? else { return Ok(scan::Collected::default()) };
    let prices = prices_fingerprint(ctx);
    let (mut all, mark) = match cache::load(cache_path, &mut f, &meta, prices) {
        Some((c, mark)) => (c, Some(mark)),
        None => (scan::Collected::default(), None),
    };
    let (offset, lines) = mark.map_or((0, 0), |m| (m.offset, m.lines));
    use std::io::Seek as _;
    f.seek(std::io::SeekFrom::Start(offset)).map_err(read_err(path))?;
    let done = scan::scan(&mut f, path, ctx, &mut all, lines).map_err(read_err(path))?;
    if mark.is_none() || done.bytes > 0 {
        let offset = offset + done.bytes;
        let (dev, ino) = cache::identity(&meta);
        if let Ok((head, tail)) = cache::fingerprints(&mut f, offset) {
            let mark =
                cache::Mark { dev, ino, offset, lines: lines + done.lines, head, tail, prices };
            // Only a speed-up: a cache that cannot be written is not an error.
            let _ = cache::save(cache_path, &all, &mark);
        }
    }
    if let Some(tail) = done.tail {
        all.merge(tail, path, lines + done.lines);
    }
    Ok(all)
}

#[cfg(test)]
mod tests;
