//! The charts of the HTML report, aggregated before drawing: cost and tokens per day by model
//! (from the `usage` report), features shipped and cost per shipped feature per ISO week (from
//! the `features` report), features per capacity per day (from the rollup), weekly quota use
//! and output speed per model per day (from `ccc watch` snapshots).

use std::collections::BTreeMap;

use agentos_rollup::features::{FeaturesReport, Status};
use agentos_rollup::usage::UsageReport;
use agentos_rollup::{Rollup, WatchPoint};

use super::svg::{Chart, Kind, PALETTE, Series, Unit};

/// The models drawn apart in a per-model chart; the rest are summed as "other".
const TOP_MODELS: usize = PALETTE - 1;

/// Cost and tokens per day, a series per model (the most expensive first).
pub fn daily_by_model(u: &UsageReport) -> [Chart; 2] {
    let days: Vec<String> = u.rows.iter().map(|r| r.key.clone()).collect();
    let mut cost_of: BTreeMap<&str, f64> = BTreeMap::new();
    for m in u.rows.iter().flat_map(|r| &r.models) {
        *cost_of.entry(m.model.as_str()).or_default() += m.priced_cost;
    }
    let mut models: Vec<(&str, f64)> = cost_of.into_iter().collect();
    models.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let named: Vec<&str> = models.iter().take(TOP_MODELS).map(|m| m.0).collect();
    let other = models.len() > named.len();
    let slot = |model: &str| named.iter().position(|m| *m == model).unwrap_or(named.len());
    let n = named.len() + usize::from(other);
    let mut cost = vec![vec![None; days.len()]; n];
    let mut tokens = vec![vec![None; days.len()]; n];
    for (d, row) in u.rows.iter().enumerate() {
        for m in &row.models {
            let k = slot(&m.model);
            let t = m
                .input_tokens
                .saturating_add(m.output_tokens)
                .saturating_add(m.cache_creation_tokens)
                .saturating_add(m.cache_read_tokens);
            *cost[k][d].get_or_insert(0.0) += m.priced_cost;
            *tokens[k][d].get_or_insert(0.0) += t as f64;
        }
    }
    let mut names: Vec<String> = named.iter().map(|m| (*m).to_owned()).collect();
    if other {
        names.push("other models".to_owned());
    }
    let series = |values: Vec<Vec<Option<f64>>>| -> Vec<Series> {
        names.iter().cloned().zip(values).map(|(name, values)| Series { name, values }).collect()
    };
    [
        Chart {
            id: "cost-per-day",
            title: format!("Cost per day by model (USD, days in {})", u.timezone),
            unit: Unit::Usd,
            kind: Kind::StackedBars,
            x: days.clone(),
            series: series(cost),
            empty: "No priced usage yet: import agent history or record a session.",
        },
        Chart {
            id: "tokens-per-day",
            title: format!("Tokens per day by model (days in {})", u.timezone),
            unit: Unit::Tokens,
            kind: Kind::StackedBars,
            x: days,
            series: series(tokens),
            empty: "No tokens yet: import agent history or record a session.",
        },
    ]
}

/// The Monday (`YYYY-MM-DD`) of the ISO week of an RFC 3339 time, in UTC.
fn week_of(at: &str) -> Option<String> {
    let t: jiff::Timestamp = at.parse().ok()?;
    let date = t.to_zoned(jiff::tz::TimeZone::UTC).date();
    let back = i64::from(date.weekday().to_monday_zero_offset());
    Some(date.checked_sub(jiff::Span::new().days(back)).ok()?.to_string())
}

/// Features shipped per week, and the cost per shipped feature of each week's features.
pub fn weekly_features(f: &FeaturesReport) -> [Chart; 2] {
    let mut weeks: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    for feat in f.features.iter().filter(|x| x.status == Status::Shipped) {
        if let Some(w) = feat.shipped_at.as_deref().and_then(week_of) {
            let e = weeks.entry(w).or_default();
            e.0 += 1;
            e.1 += feat.cost_usd;
        }
    }
    let x: Vec<String> = weeks.keys().cloned().collect();
    let shipped = weeks.values().map(|(n, _)| Some(*n as f64)).collect();
    let per = weeks.values().map(|(n, c)| (*n > 0).then(|| c / *n as f64)).collect();
    [
        Chart {
            id: "features-per-week",
            title: "Features shipped per week (from git; weeks start on Monday, UTC)".to_owned(),
            unit: Unit::Count,
            kind: Kind::StackedBars,
            x: x.clone(),
            series: vec![Series { name: "shipped".to_owned(), values: shipped }],
            empty: "No shipped feature found in the sessions' repositories yet.",
        },
        Chart {
            id: "cost-per-shipped-feature",
            title: "Cost per shipped feature, by week shipped (USD)".to_owned(),
            unit: Unit::Usd,
            kind: Kind::Lines,
            x,
            series: vec![Series { name: "cost per shipped feature".to_owned(), values: per }],
            empty: "No shipped feature found in the sessions' repositories yet.",
        },
    ]
}

/// Weekly quota use and output speed per model over time: the last `ccc watch` snapshot of
/// each UTC day.
pub fn ccc_history(days: &BTreeMap<String, BTreeMap<String, WatchPoint>>) -> [Chart; 2] {
    let x: Vec<String> = days.keys().cloned().collect();
    let mut models: Vec<String> = days.values().flat_map(|m| m.keys().cloned()).collect();
    models.sort_unstable();
    models.dedup();
    let series = |f: &dyn Fn(&WatchPoint) -> f64| -> Vec<Series> {
        models
            .iter()
            .map(|m| Series {
                name: m.clone(),
                values: days.values().map(|d| d.get(m).map(f)).collect(),
            })
            .collect()
    };
    [
        Chart {
            id: "ccc-weekly-use",
            title: "Weekly quota use per model (CCC, last snapshot of each day, UTC)".to_owned(),
            unit: Unit::Percent,
            kind: Kind::Lines,
            x: x.clone(),
            series: series(&|p| p.weekly_pct),
            empty: "No CCC snapshot yet: `agentos ccc watch` records them.",
        },
        Chart {
            id: "ccc-speed",
            title: "Output speed per model (CCC ELR, tokens/s, last snapshot of each day)"
                .to_owned(),
            unit: Unit::Count,
            kind: Kind::Lines,
            x,
            series: series(&|p| p.elr_out_tps),
            empty: "No CCC snapshot yet: `agentos ccc watch` records them.",
        },
    ]
}

/// Recorded feature progress per unit of capacity, per UTC day.
pub fn features_per_capacity(r: &Rollup) -> Chart {
    let days: Vec<(&String, Option<f64>)> = r
        .days
        .iter()
        .filter(|(d, _)| d.as_str() != "unknown")
        .map(|(d, row)| (d, row.features_per_capacity))
        .collect();
    Chart {
        id: "features-per-capacity",
        title: "Features per capacity per day (recorded sessions, UTC)".to_owned(),
        unit: Unit::Ratio,
        kind: Kind::Lines,
        x: days.iter().map(|(d, _)| (*d).clone()).collect(),
        series: vec![Series {
            name: "features / capacity".to_owned(),
            values: days.iter().map(|(_, v)| *v).collect(),
        }],
        empty: "No session has recorded feature progress and capacity yet.",
    }
}

#[cfg(test)]
mod tests {
    use super::week_of;

    #[test]
    fn weeks_start_on_monday() {
        // 2026-01-01 is a Thursday; 2026-01-05 a Monday.
        assert_eq!(week_of("2026-01-01T10:00:00Z").as_deref(), Some("2025-12-29"));
        assert_eq!(week_of("2026-01-05T00:00:00Z").as_deref(), Some("2026-01-05"));
        assert_eq!(week_of("2026-01-04T23:59:59Z").as_deref(), Some("2025-12-29"));
        assert_eq!(week_of("soon"), None);
    }
}
