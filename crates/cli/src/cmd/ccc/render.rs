//! The terminal tables of `agentos ccc …` (every value from CCC goes through `table::cell`).

use agentos_ccc_client::api::{CcpMetrics, ModelSnapshot, Readiness};
use agentos_event_schema::ccp::{QuotasResponse, RollupsResponse, SamplesResponse, UsageResponse};

use super::watch::LocalStatus;
use crate::table::{cell, sanitize, table_left_aligned};

/// Epoch seconds as `YYYY-MM-DD HH:MM:SS` UTC (`?` when out of range).
pub fn utc(epoch: f64) -> String {
    jiff::Timestamp::from_millisecond((epoch * 1000.0) as i64)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|_| "?".to_owned())
}

fn pct(f: f64) -> String {
    format!("{:.1}%", f * 100.0)
}

fn rate(f: f64) -> String {
    format!("{f:.1}")
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "" }
}

pub fn status(base_url: &str, ready: &Readiness, usage: &UsageResponse) -> String {
    let mut out = format!("CCC at {}: up", cell(base_url));
    if ready.catalog_broken() {
        out.push_str(&format!(
            ", NOT READY: the providers catalog is broken ({})\n",
            sanitize(ready.body.error.as_deref().unwrap_or("no reason given"), 400)
        ));
    } else if ready.is_ready() {
        out.push_str(", ready\n");
    } else {
        out.push_str(&format!(
            ", NOT READY: cannot reach {}\n",
            ready.unreachable_providers().iter().map(|p| cell(p)).collect::<Vec<_>>().join(", ")
        ));
    }
    if !ready.body.providers.is_empty() {
        let rows: Vec<Vec<String>> = ready
            .body
            .providers
            .iter()
            .map(|(name, p)| {
                vec![
                    name.clone(),
                    if p.ok { "ok".into() } else { "DOWN".into() },
                    p.status.to_string(),
                    p.error.clone().unwrap_or_default(),
                    p.url.clone(),
                ]
            })
            .collect();
        out.push_str(&table_left_aligned(&["Provider", "State", "HTTP", "Error", "URL"], &rows, 2));
    }
    if let Some(src) = &ready.body.source {
        out.push_str(&format!("Providers catalog: {}\n", cell(src)));
    }
    if let Some(l) = &ready.body.license {
        out.push_str(&format!(
            "License: {} ({})\n",
            cell(l.plan.as_deref().unwrap_or("no plan")),
            cell(&l.features.clone().unwrap_or_default().join(", "))
        ));
    }
    let models: Vec<String> = usage.models.keys().map(|m| cell(m)).collect();
    out.push_str(&format!(
        "Models tracked since CCC started: {}\n",
        if models.is_empty() { "none".to_owned() } else { models.join(", ") }
    ));
    out
}

pub fn local(l: &LocalStatus) -> String {
    let mut out = format!("Data dir: {}\n", cell(&l.data_dir));
    match &l.last_snapshot {
        Some(s) => out.push_str(&format!(
            "Last watch snapshot: {} UTC, {} models, {} requests recorded ({} snapshots){}\n",
            utc(s.ts),
            s.models.len(),
            l.requests,
            l.snapshots,
            if s.restart { ", CCC had restarted" } else { "" }
        )),
        None => out.push_str("No watch snapshot yet (ccc_usage.jsonl is empty or absent).\n"),
    }
    out
}

pub fn usage(snaps: &[ModelSnapshot], quotas: &QuotasResponse) -> String {
    if snaps.is_empty() {
        return "No model has been used since CCC started.\n".to_owned();
    }
    let rows: Vec<Vec<String>> = snaps
        .iter()
        .map(|s| {
            vec![
                s.model.clone(),
                s.provider.clone().unwrap_or_default(),
                match s.rolling_tokens_budget {
                    Some(b) => format!("{}/{b}", s.rolling_tokens_used),
                    None => s.rolling_tokens_used.to_string(),
                },
                pct(s.rolling_pct),
                pct(s.weekly_pct),
                s.reqs.to_string(),
                match (s.flags.block, s.flags.warn) {
                    (true, _) => format!("BLOCK ({})", s.flags.reason),
                    (false, true) => "warn".to_owned(),
                    _ => String::new(),
                },
                yes(s.flags.weekly_buffer).to_owned(),
                rate(s.speeds.elr_out_tps_rolling),
                rate(s.speeds.dirty_out_tps_rolling),
                format!("{:.0}/{:.0}", s.speeds.ttft_ms_p50, s.speeds.ttft_ms_p90),
            ]
        })
        .collect();
    let mut out = table_left_aligned(
        &[
            "Model",
            "Provider",
            "Rolling tokens",
            "Rolling",
            "Weekly",
            "Reqs",
            "State",
            "≥90% week",
            "Out tok/s (stream)",
            "Out tok/s (wall)",
            "TTFT p50/p90 ms",
        ],
        &rows,
        2,
    );
    let w = &quotas.config.windows;
    out.push_str(&format!(
        "Windows: rolling {} s, weekly {} s (sliding). Quotas from {} loaded {}.\n",
        w.rolling_seconds,
        w.weekly_seconds,
        cell(&super::shown_path(&quotas.path)),
        cell(&quotas.loaded)
    ));
    out
}

pub fn quotas(q: &QuotasResponse) -> String {
    let rows: Vec<Vec<String>> = q
        .config
        .models
        .iter()
        .map(|(m, c)| {
            vec![
                m.clone(),
                c.provider.clone(),
                c.rolling_tokens.to_string(),
                format!("{} {}", c.weekly_limit_value, c.weekly_limit_type),
                pct(c.warn_pct),
            ]
        })
        .collect();
    let mut out = if rows.is_empty() {
        "No model has a quota.\n".to_owned()
    } else {
        table_left_aligned(
            &["Model", "Provider", "Rolling tokens", "Weekly limit", "Warn at"],
            &rows,
            2,
        )
    };
    let w = &q.config.windows;
    out.push_str(&format!(
        "Windows: rolling {} s, weekly {} s. From {} loaded {}.\n",
        w.rolling_seconds,
        w.weekly_seconds,
        cell(&super::shown_path(&q.path)),
        cell(&q.loaded)
    ));
    out
}

pub fn samples(r: &SamplesResponse) -> String {
    let mut all: Vec<_> = r.models.values().flatten().collect();
    all.sort_by(|a, b| a.ts.total_cmp(&b.ts));
    if all.is_empty() {
        return "No requests in that period.\n".to_owned();
    }
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|s| {
            vec![
                utc(s.ts),
                s.model.clone(),
                s.lane.clone(),
                s.op.clone(),
                s.rid.clone(),
                s.input_tokens.to_string(),
                s.output_tokens.to_string(),
                format!("{:.3}", s.dirty_s),
                s.ttft_ms.to_string(),
                s.status.to_string(),
                s.decision.clone().unwrap_or_default(),
                s.err_type.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table_left_aligned(
        &[
            "Time (UTC)",
            "Model",
            "Lane",
            "Op",
            "Rid",
            "In",
            "Out",
            "Wall s",
            "TTFT ms",
            "Status",
            "Decision",
            "Stream error",
        ],
        &rows,
        5,
    )
}

pub fn rollups(r: &RollupsResponse) -> String {
    let mut rows: Vec<(f64, Vec<String>)> = Vec::new();
    for (model, list) in &r.models {
        for row in list {
            rows.push((
                row.window_start,
                vec![
                    utc(row.window_start),
                    model.clone(),
                    row.in_tokens.to_string(),
                    row.out_tokens.to_string(),
                    rate(row.out_elr_tps),
                    rate(row.out_dirty_tps),
                    row.count.to_string(),
                    format!("${:.4}", row.cost_usd),
                ],
            ));
        }
    }
    if rows.is_empty() {
        return format!(
            "No {} rollups in that period (CCC computes day rollups only after a UTC midnight).\n",
            cell(&r.granularity)
        );
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let rows: Vec<Vec<String>> = rows.into_iter().map(|(_, r)| r).collect();
    table_left_aligned(
        &[
            "Window (UTC)",
            "Model",
            "In",
            "Out",
            "Out tok/s (stream)",
            "Out tok/s (wall)",
            "Requests",
            "Cost",
        ],
        &rows,
        2,
    )
}

pub fn metrics(m: &CcpMetrics) -> String {
    let rows: Vec<Vec<String>> = m
        .lanes
        .iter()
        .map(|l| {
            let statuses: Vec<String> =
                l.by_status.iter().map(|(s, n)| format!("{s}:{n}")).collect();
            vec![
                l.lane.clone(),
                l.op.clone(),
                statuses.join(" "),
                format!("{}", l.count),
                l.mean_seconds().map_or_else(String::new, |s| format!("{s:.3}")),
            ]
        })
        .collect();
    let mut out = if rows.is_empty() {
        "No request since CCC started.\n".to_owned()
    } else {
        table_left_aligned(&["Lane", "Op", "Requests by status", "Requests", "Mean s"], &rows, 3)
    };
    out.push_str(&format!(
        "Requests: {} ({} answered 429, {} 5xx); partial streams: {}.\n",
        m.requests, m.status_429, m.status_5xx, m.partial_writes
    ));
    for (mode, models) in &m.rerouted {
        for (model, n) in models {
            out.push_str(&format!("Rerouted ({}): {} × {n}\n", cell(mode), cell(model)));
        }
    }
    for (lane, v) in &m.upstream_ready {
        out.push_str(&format!(
            "Upstream {}: {}\n",
            cell(lane),
            if *v >= 1.0 { "ready" } else { "not ready" }
        ));
    }
    if let (Some(w), Some(e)) = (m.store_writes, m.store_write_errors) {
        out.push_str(&format!("Store: {w} writes, {e} errors"));
        if let Some(b) = m.store_size_bytes {
            out.push_str(&format!(", {b} bytes"));
        }
        out.push('\n');
    }
    if !m.inflated_families.is_empty() {
        out.push_str(
            "Token and second counters are not shown: CCC inflates them (see `agentos ccc usage` for tokens and speeds).\n",
        );
    }
    if !m.unknown_families.is_empty() {
        out.push_str(&format!(
            "Families this version does not know: {}\n",
            m.unknown_families.join(", ")
        ));
    }
    out
}
