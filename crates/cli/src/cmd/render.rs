//! Text and JSON renderings of rollups, churn and efficiency reports. Every value that comes
//! from input (model, session, provider and feature names) goes through [`crate::table`], so
//! it is shown escaped and cut, never printed raw.

use agentos_rollup::Rollup;
use agentos_rollup::churn::ChurnReport;
use agentos_rollup::efficiency::EfficiencyReport;
use camino::Utf8Path;
use serde_json::json;

use super::rollup::By;
use agentos_event_schema::v1::{FeatureStatus, MetricsSummary};

use crate::plural;
use crate::table::{cell, table};

pub fn headline(r: &Rollup) -> String {
    let s = &r.summary;
    format!(
        "{}, {}, feature progress {} over {} capacity ({} per capacity), ${} cost{}{}",
        plural(s.sessions, "session"),
        plural(s.turns, "turn"),
        num(s.features_shipped),
        num(s.capacity_used),
        opt(s.features_per_capacity),
        money(s.cost_usd),
        if s.diagnostics > 0 {
            format!(", {} skipped", plural(s.diagnostics, "line"))
        } else {
            String::new()
        },
        if r.duplicates > 0 {
            format!(", {} counted once", plural(r.duplicates, "repeated event"))
        } else {
            String::new()
        }
    )
}

pub fn num(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" { "0".to_owned() } else { s.to_owned() }
}

pub fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".to_owned(), num)
}

pub fn money(x: f64) -> String {
    format!("{x:.4}")
}

/// Value per model: the headers and rows of `report --by model` (the terminal and the HTML
/// report share them).
pub fn model_table(s: &MetricsSummary) -> (Vec<&'static str>, Vec<Vec<String>>) {
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
    let headers = vec![
        "model",
        "turns",
        "tokens in",
        "tokens out",
        "attribution",
        "progress",
        "cost $",
        "$/progress",
    ];
    (headers, rows)
}

/// The report for a rollup, as text.
pub fn render_report(r: &Rollup, by: By, session: Option<&str>) -> String {
    let s = &r.summary;
    let mut out = String::new();
    match session {
        Some(id) => out.push_str(&format!("Session {}\n", cell(id))),
        None => out.push_str("AgentOS report\n"),
    }
    if let Some(p) = &s.period {
        out.push_str(&format!("period: {} .. {}\n", p.start, p.end));
    }
    out.push_str(&format!("{}\n", headline(r)));
    out.push_str(&format!(
        "avg CLS {}, avg IMPF {}, avg churn {}\n",
        opt(s.avg_cls),
        opt(s.avg_impf),
        opt(s.avg_churn_score),
    ));
    // Features are counted by their latest status; "feature progress" above is a sum of
    // feature_delta, a different number (docs/metrics.md).
    let statuses: Vec<String> =
        s.features_by_status.iter().map(|(k, v)| format!("{} {v}", k.as_str())).collect();
    let shipped = s.features_by_status.get(&FeatureStatus::Shipped).copied().unwrap_or(0);
    out.push_str(&format!(
        "features by status: {}; cost per shipped feature {}\n",
        statuses.join(", "),
        s.cost_per_shipped_feature.map_or_else(
            || "n/a (none shipped)".to_owned(),
            |c| format!("${} ({})", money(c), plural(shipped, "shipped feature"))
        )
    ));
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
            let (headers, rows) = model_table(s);
            out.push_str(&table(&headers, &rows));
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
                    "session", "started", "turns", "tokens", "progress", "capacity", "prog/cap",
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
                &["day", "turns", "tokens", "progress", "capacity", "prog/cap", "cost $"],
                &rows,
            ));
        }
        // `report --by feature` is the `features` report (`rollup::report` hands it over).
        By::Feature => {}
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
            cell(&a.provider),
            a.weekly_used * 100.0,
            a.threshold * 100.0,
            a.advice
        ));
    }
    if let Some(health) = s.model_health.as_ref().filter(|h| !h.is_empty()) {
        out.push_str("\nmodel health (CCC)\n");
        out.push_str(&model_health_table(health));
    }
    if s.diagnostics > 0 {
        out.push_str(&format!(
            "\n{} input lines were skipped (run `agentos rollup` to see them)\n",
            s.diagnostics
        ));
    }
    out
}

/// `model_health` as a table: state, rolling and weekly use, and the events `ccc watch`
/// counted (blank for a raw `/v1/usage` view, which has none).
fn model_health_table(health: &std::collections::BTreeMap<String, serde_json::Value>) -> String {
    let pct = |v: &serde_json::Value, k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_f64)
            .map_or_else(String::new, |x| format!("{:.1}%", x * 100.0))
    };
    let ev = |v: &serde_json::Value, k: &str| {
        v.pointer(&format!("/events/{k}"))
            .and_then(serde_json::Value::as_u64)
            .map_or_else(String::new, |n| n.to_string())
    };
    let rows: Vec<Vec<String>> = health
        .iter()
        .map(|(model, v)| {
            vec![
                model.clone(),
                agentos_rollup::health_state(v),
                pct(v, "rolling_pct"),
                pct(v, "weekly_pct"),
                ev(v, "requests"),
                ev(v, "fallbacks"),
                ev(v, "status_429"),
                ev(v, "idle_timeouts"),
            ]
        })
        .collect();
    table(
        &["model", "state", "rolling", "weekly", "requests", "fallbacks", "429s", "idle timeouts"],
        &rows,
    )
}

/// The report for a rollup, as JSON.
pub fn report_json(r: &Rollup, by: By, session: Option<&str>) -> serde_json::Value {
    let rows = match by {
        By::Model => serde_json::to_value(&r.summary.value_per_model),
        By::Session => serde_json::to_value(&r.sessions),
        By::Day => serde_json::to_value(&r.days),
        By::Feature => Ok(serde_json::Value::Null),
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

pub fn churn_json(r: &ChurnReport) -> serde_json::Value {
    json!({"schema_version": agentos_event_schema::v1::SCHEMA_VERSION, "churn": r})
}

pub fn render_churn(r: &ChurnReport) -> String {
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
    let mut out = format!("Churn of xfeat:: commits in {}\n", cell(r.repo.as_str()));
    if r.features.is_empty() {
        out.push_str("no xfeat::<FeatureID>::<WindowID>::<Stage> commits found\n");
    } else {
        out.push_str(&table(&headers, &rows));
        let provisional = r.features.iter().flat_map(|f| &f.horizons).any(|h| !h.complete);
        if provisional {
            out.push_str("* horizon not yet covered by the history (provisional)\n");
        }
    }
    out.push_str(&format!(
        "{} excluded, {}\n",
        plural(r.prototype_commits, "prototype (xproto::) commit"),
        plural(r.untagged_commits, "untagged commit")
    ));
    out
}

pub fn render_efficiency(r: &EfficiencyReport, path: &Utf8Path) -> String {
    let mut out = format!(
        "Efficiency (feature progress per capacity) from {path}: {}\n",
        plural(r.windows, "window")
    );
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
                format!(
                    "{} in {}",
                    num(p.unmeasured_features),
                    plural(p.unmeasured_windows, "window")
                ),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "provider",
            "windows",
            "n",
            "progress",
            "capacity",
            "E",
            "95% CI",
            "power",
            "unmeasured progress",
        ],
        &rows,
    ));
    out.push_str(
        "E = feature progress (Σ feature_delta) / capacity over windows with measured capacity; \
         CI and power need n >= 3\n",
    );
    out
}
