//! `agentos window preview [--window W] [--json] [--no-ccc]`: the tracker's preview
//! (`agentos_tracker::preview`, reference §7.3.4) with the Providers block from the rollup's
//! estimator (numerator fixed), then CCC's live view per provider/model (`ccc.rs`).

use std::process::ExitCode;

use agentos_rollup::efficiency::{ProviderEfficiency, from_tracker_rows};
use agentos_tracker::preview::{Input, ProviderFigures, preview};
use agentos_tracker::store::{Fields, TrackerDir, TrackerFile};
use serde_json::{Value, json};

use super::{ccc, load_rows};
use crate::Global;
use crate::table::sanitize;

/// Options of `window preview`.
#[derive(Debug, clap::Args)]
pub struct PreviewArgs {
    /// Only this window (exact id, e.g. W0-01).
    #[arg(long, value_name = "W")]
    pub window: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Do not ask CCC (no overlay line).
    #[arg(long)]
    pub no_ccc: bool,
}

/// The Providers block's figures from the rollup's report.
pub fn figures(p: &ProviderEfficiency) -> ProviderFigures {
    ProviderFigures {
        provider: p.provider.clone(),
        features: p.total_features,
        capacity: p.total_capacity,
        unit: p.capacity_unit.clone(),
        efficiency: p.efficiency,
        ci: p.ci_low.zip(p.ci_high),
        n: p.sample_size,
        power: p.power,
        unmeasured_features: p.unmeasured_features,
        unmeasured_windows: p.unmeasured_windows,
    }
}

/// Features per capacity by provider over `windows` and the GLM counts of `dir` (same window
/// filter), reporting rows the estimator cannot read.
pub fn efficiency(
    windows: &[Fields],
    glm: &[Fields],
    diagnostics: &mut Vec<String>,
) -> Vec<ProviderEfficiency> {
    let as_json = |rows: &[Fields]| rows.iter().cloned().map(Value::Object).collect::<Vec<_>>();
    let (report, skipped) = from_tracker_rows(&as_json(windows), &as_json(glm));
    for (i, why) in skipped {
        let w = windows[i].get("window").and_then(Value::as_str).unwrap_or("unknown");
        let d = format!("windows.jsonl: window {w}: {why}");
        eprintln!("warning: {}", sanitize(&d, 300));
        diagnostics.push(d);
    }
    report
}

pub fn run(a: &PreviewArgs, dir: &TrackerDir, g: &Global) -> anyhow::Result<ExitCode> {
    let w = a.window.as_deref();
    let mut diags = Vec::new();
    let windows = load_rows(dir, TrackerFile::Windows, w, &mut diags)?;
    let snapshots = load_rows(dir, TrackerFile::Snapshots, w, &mut diags)?;
    let glm = load_rows(dir, TrackerFile::GlmCounts, w, &mut diags)?;
    let anomalies = load_rows(dir, TrackerFile::Anomalies, w, &mut diags)?;
    let churn = load_rows(dir, TrackerFile::Churn, w, &mut diags)?;
    let proxy = load_rows(dir, TrackerFile::ProxyTelemetry, w, &mut diags)?;
    let ccusage = load_rows(dir, TrackerFile::CodexCcusage, w, &mut diags)?;
    let providers: Vec<ProviderFigures> =
        efficiency(&windows, &glm, &mut diags).iter().map(figures).collect();
    let input = Input {
        window: w,
        windows: &windows,
        snapshots: &snapshots,
        anomalies: &anomalies,
        churn: &churn,
        proxy: &proxy,
        ccusage: &ccusage,
        providers: &providers,
    };
    let p = preview(&input);
    let overlay = (!a.no_ccc && p.is_some()).then(|| ccc::read(&g.data_dir(), g.cleartext()));
    if a.json {
        let doc = json!({
            "tracker_dir": dir.root(),
            "window": w,
            "preview": p,
            "ccc": overlay,
            "numerator_fix": "features of windows without usable capacity are not in efficiency (unmeasured_features)",
            "diagnostics": diags,
        });
        outln!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(ExitCode::SUCCESS);
    }
    let Some(p) = p else {
        outln!("no windows recorded");
        return Ok(ExitCode::SUCCESS);
    };
    for line in p.lines() {
        outln!("{}", sanitize(line, usize::MAX));
    }
    if let Some(o) = &overlay {
        for line in ccc::lines(o) {
            outln!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
