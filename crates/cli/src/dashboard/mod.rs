//! `agentos report --html FILE`: one self-contained HTML report — key figures, charts (inline
//! SVG drawn in `svg`, no script, no network) and the tables of `report`, `features` and
//! `usage` — written atomically. The numbers are the same reports' (the library computes them;
//! this module only draws).

mod data;
mod page;
mod svg;

use std::collections::BTreeMap;

use agentos_rollup::features::{FeaturesOptions, FeaturesReport, features_report};
use agentos_rollup::usage::{Period, PriceBook, UsageOptions, UsageReport, usage_report};
use agentos_rollup::{
    CCC_WATCH_FILE, CHECKPOINT_FILE, Rollup, SummaryOptions, WatchPoint, summarize_files,
    summarize_incremental, watch_history,
};
use camino::{Utf8Path, Utf8PathBuf};

use crate::cmd::features::features_table;
use crate::cmd::render::model_table;
use crate::cmd::usage::usage_table;
use crate::numbers::{percent, usd};
use page::Page;

/// `text` safe inside HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// What the page is made of.
pub struct Sources {
    pub rollup: Rollup,
    pub usage: UsageReport,
    pub features: FeaturesReport,
    /// Per UTC day and model, the day's last `ccc watch` snapshot.
    pub ccc: BTreeMap<String, BTreeMap<String, WatchPoint>>,
}

/// Run the three reports over `files` (`cache_dir`: the data dir whose caches to use).
pub fn collect(
    files: &[Utf8PathBuf],
    book: &PriceBook,
    cache_dir: Option<&Utf8Path>,
) -> anyhow::Result<Sources> {
    let opts = SummaryOptions::default();
    // The data dir's own log resumes from the rollup's checkpoint, as `rollup` does.
    let rollup = match cache_dir {
        Some(dir) => summarize_incremental(files, &opts, &dir.join(CHECKPOINT_FILE))?,
        None => summarize_files(files, &opts)?,
    };
    let usage_opts = UsageOptions {
        cache_dir: cache_dir.map(Utf8Path::to_owned),
        ..UsageOptions::new(Period::Daily)
    };
    let usage = usage_report(files, book, &usage_opts)?;
    let opts =
        FeaturesOptions { cache_dir: cache_dir.map(Utf8Path::to_owned), ..FeaturesOptions::new() };
    let features = features_report(files, book, &opts)?;
    let ccc = match cache_dir {
        Some(dir) => watch_history(&dir.join(CCC_WATCH_FILE))?,
        None => BTreeMap::new(),
    };
    Ok(Sources { rollup, usage, features, ccc })
}

/// `2026-01-01T00:30:00.000000Z` → `2026-01-01 00:30 UTC`.
fn minutes(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(d), Some(t)) if rfc3339.ends_with('Z') => format!("{d} {t} UTC"),
        _ => rfc3339.to_owned(),
    }
}

fn money(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_owned(), usd)
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_owned(), percent)
}

/// The page.
pub fn render(s: &Sources, generated: &str) -> String {
    let sum = &s.rollup.summary;
    let period = sum
        .period
        .as_ref()
        .map(|p| format!("{} – {}", minutes(&p.start.to_string()), minutes(&p.end.to_string())))
        .unwrap_or_else(|| "no dated events".to_owned());
    let mut page = Page::new(
        "AgentOS report",
        &format!("Generated {}. Events from {period}.", minutes(generated)),
    );
    let f = &s.features;
    let count = |st| f.features.iter().filter(|x| x.status == st).count().to_string();
    use agentos_rollup::features::Status;
    page.cards(&[
        ("Cost", money(Some(s.usage.totals.total_cost))),
        ("Tokens", svg::Unit::Tokens.format(s.usage.totals.total_tokens as f64)),
        ("Sessions", sum.sessions.to_string()),
        ("Turns", sum.turns.to_string()),
        ("Features shipped", count(Status::Shipped)),
        ("In progress", count(Status::InProgress)),
        ("Cost per shipped feature", money(f.cost_per_shipped_feature_usd)),
        ("Unattributed cost", money(Some(f.unattributed_cost_usd))),
        (
            "Churn 14d agent / human",
            format!("{} / {}", pct(f.churn.churn_14d_agent), pct(f.churn.churn_14d_human)),
        ),
    ]);

    page.section("usage", "Cost and tokens");
    for chart in data::daily_by_model(&s.usage) {
        page.raw(&svg::figure(&chart));
    }

    page.section("features", "Features (from git)");
    for chart in data::weekly_features(f) {
        page.raw(&svg::figure(&chart));
    }
    if f.features.is_empty() {
        page.note("No feature found: features come from the git history of the repositories the sessions worked in (docs/features.md).");
    } else {
        let (headers, rows) = features_table(f);
        page.table(&headers, &rows);
    }
    let missing: Vec<String> = f
        .repos
        .iter()
        .filter(|r| r.status != "ok")
        .map(|r| format!("{} ({})", r.path, r.status))
        .collect();
    if !missing.is_empty() {
        page.note(&format!("Repositories not read: {}.", missing.join(", ")));
    }

    page.section("quality", "Recorded sessions");
    page.raw(&svg::figure(&data::features_per_capacity(&s.rollup)));
    let (headers, rows) = model_table(sum);
    if rows.is_empty() {
        page.note("No turn recorded yet.");
    } else {
        page.table(&headers, &rows);
    }

    page.section("ccc", "Speeds and quota use (CCC)");
    for chart in data::ccc_history(&s.ccc) {
        page.raw(&svg::figure(&chart));
    }

    page.section("daily", "Usage by day");
    let (headers, rows) = usage_table(&s.usage, true);
    page.table(&headers, &rows);
    page.finish()
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escape_leaves_no_markup_and_no_control_characters() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("a\u{1b}[31mb"), "a\u{fffd}[31mb");
    }
}
