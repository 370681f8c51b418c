//! What `preview` shows, gathered from the same library calls as `usage`, `features` and
//! `report`: today's and this week's cost and tokens by model and by agent, features, churn and
//! alerts. Everything is plain data, so a frame can be drawn (and tested) without a terminal.

use std::collections::BTreeMap;

use agentos_rollup::features::{FeaturesOptions, FeaturesReport, Status, features_report};
use agentos_rollup::usage::{Period, PriceBook, UsageOptions, UsageReport, usage_reports};
use agentos_rollup::{SummaryOptions, read_summary, summarize_files};
use camino::{Utf8Path, Utf8PathBuf};

/// Cost and tokens of one model or agent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Spend {
    pub name: String,
    pub cost_usd: f64,
    pub tokens: u64,
}

/// The features panel.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Features {
    pub shipped: usize,
    pub in_progress: usize,
    pub cost_per_shipped_usd: Option<f64>,
    pub unattributed_usd: f64,
    pub churn_14d_agent: Option<f64>,
    pub churn_14d_human: Option<f64>,
    /// The most expensive features: (id, status, cost).
    pub top: Vec<(String, &'static str, f64)>,
}

/// One frame's data.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// `YYYY-MM-DD` of today and of this week's Monday, in the zone.
    pub today: String,
    pub week_start: String,
    pub zone: String,
    pub today_by_model: Vec<Spend>,
    pub week_by_model: Vec<Spend>,
    pub week_by_agent: Vec<Spend>,
    pub features: Features,
    pub alerts: Vec<String>,
    /// What CCC said, or why it could not be asked (one line).
    pub ccc: String,
    /// Each model as CCC sees it (empty when CCC is down).
    pub ccc_models: Vec<super::ccc::CccModel>,
}

fn sorted(map: BTreeMap<String, (f64, u64)>) -> Vec<Spend> {
    let mut v: Vec<Spend> = map
        .into_iter()
        .map(|(name, (cost_usd, tokens))| Spend { name, cost_usd, tokens })
        .collect();
    v.sort_by(|a, b| b.cost_usd.total_cmp(&a.cost_usd).then(b.tokens.cmp(&a.tokens)));
    v
}

/// Per model over `rows` with key `>= from` (days `YYYY-MM-DD`).
fn by_model(u: &UsageReport, from: &str) -> Vec<Spend> {
    let mut m: BTreeMap<String, (f64, u64)> = BTreeMap::new();
    for row in u.rows.iter().filter(|r| r.key.as_str() >= from) {
        for x in &row.models {
            let e = m.entry(x.model.clone()).or_default();
            e.0 += x.priced_cost;
            e.1 = e.1.saturating_add(
                x.input_tokens
                    .saturating_add(x.output_tokens)
                    .saturating_add(x.cache_creation_tokens)
                    .saturating_add(x.cache_read_tokens),
            );
        }
    }
    sorted(m)
}

fn by_agent(sessions: &UsageReport) -> Vec<Spend> {
    let mut m: BTreeMap<String, (f64, u64)> = BTreeMap::new();
    for row in &sessions.rows {
        let agent = row
            .session
            .as_ref()
            .and_then(|s| s.agent.clone())
            .unwrap_or_else(|| "recorded".to_owned());
        let e = m.entry(agent).or_default();
        e.0 += row.totals.total_cost;
        e.1 = e.1.saturating_add(row.totals.total_tokens);
    }
    sorted(m)
}

fn features(f: &FeaturesReport) -> Features {
    let count = |s: Status| f.features.iter().filter(|x| x.status == s).count();
    let mut top: Vec<(String, &'static str, f64)> = f
        .features
        .iter()
        .map(|x| {
            let status = match x.status {
                Status::Shipped => "shipped",
                Status::InProgress => "in progress",
                Status::Prototype => "prototype",
                _ => "other",
            };
            (x.id.clone(), status, x.cost_usd)
        })
        .collect();
    top.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    top.truncate(8);
    Features {
        shipped: count(Status::Shipped),
        in_progress: count(Status::InProgress),
        cost_per_shipped_usd: f.cost_per_shipped_feature_usd,
        unattributed_usd: f.unattributed_cost_usd,
        churn_14d_agent: f.churn.churn_14d_agent,
        churn_14d_human: f.churn.churn_14d_human,
        top,
    }
}

/// Today and this week's Monday in `zone` (the system's when `None`).
fn days(zone: Option<&str>) -> anyhow::Result<(String, String, String)> {
    let tz = match zone {
        Some(z) => jiff::tz::TimeZone::get(z)?,
        None => jiff::tz::TimeZone::system(),
    };
    let name = tz.iana_name().unwrap_or("local").to_owned();
    let today = jiff::Timestamp::now().to_zoned(tz).date();
    let back = i64::from(today.weekday().to_monday_zero_offset());
    let monday = today.checked_sub(jiff::Span::new().days(back))?;
    Ok((today.to_string(), monday.to_string(), name))
}

/// Gather a snapshot of `files` (`cache_dir`: the data dir whose caches serve them).
pub fn collect(
    files: &[Utf8PathBuf],
    book: &PriceBook,
    cache_dir: Option<&Utf8Path>,
    zone: Option<&str>,
    with_features: bool,
) -> anyhow::Result<Snapshot> {
    let (today, week_start, zone_name) = days(zone)?;
    let cache = cache_dir.map(Utf8Path::to_owned);
    let opts = UsageOptions {
        timezone: zone.map(str::to_owned),
        since: Some(week_start.clone()),
        cache_dir: cache.clone(),
        ..UsageOptions::new(Period::Daily)
    };
    // One read for both: per day and per session.
    let mut reports = usage_reports(files, book, &opts, &[Period::Daily, Period::Session])?;
    let (Some(sessions), Some(daily)) = (reports.pop(), reports.pop()) else {
        anyhow::bail!("the usage reports are missing");
    };
    let mut snap = Snapshot {
        today_by_model: by_model(&daily, &today),
        week_by_model: by_model(&daily, &week_start),
        week_by_agent: by_agent(&sessions),
        today,
        week_start,
        zone: zone_name,
        ..Snapshot::default()
    };
    if !daily.unpriced_models.is_empty() {
        snap.alerts
            .push(format!("no price for {}: counted as $0", daily.unpriced_models.join(", ")));
    }
    // Capacity alerts: the data dir's summary as `session end` and `rollup` keep it (read, not
    // recomputed, so a refresh stays cheap), else a rollup of the files named.
    let summary = match cache_dir {
        Some(dir) => read_summary(&dir.join("metrics_summary.json")).unwrap_or_default(),
        None => summarize_files(files, &SummaryOptions::default())?.summary,
    };
    for a in &summary.capacity_alerts {
        snap.alerts.push(format!(
            "{}: {:.0}% of weekly capacity used ({})",
            a.provider,
            100.0 * a.weekly_used,
            a.advice
        ));
    }
    if with_features {
        let f = features_report(
            files,
            book,
            &FeaturesOptions { cache_dir: cache, ..FeaturesOptions::new() },
        )?;
        for r in f.repos.iter().filter(|r| r.status != "ok") {
            snap.alerts.push(format!("repository {} is {}", r.path, r.status));
        }
        snap.features = features(&f);
    }
    Ok(snap)
}
