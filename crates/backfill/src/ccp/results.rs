//! What a CCP checkout's `results/` holds besides the logs (contract §3): the
//! `METRICS*.json` summaries (listed with their totals, never taken as request counts: they
//! count a stream's placeholder and completion twice and decision-only requests not at all,
//! §3.5), the calibration table in `GLM_LIMIT_PROBE.md` (its last ```` ```json ```` block),
//! the `ccp-agg` rollups in `rollups/*.json` (token totals per model) and the free-form
//! `*SUMMARY.md` files (listed with their dates, not parsed). Every file is read bounded; a
//! file that cannot be read or parsed is reported, never fatal.

use std::collections::BTreeMap;

use camino::Utf8Path;
use serde::{Deserialize, Serialize};

/// Largest results file read.
const MAX_BYTES: u64 = 16 << 20;

/// One `METRICS*.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MetricsFile {
    /// The path.
    pub path: String,
    /// Its `total` (lines with a status: placeholders and completions, not requests).
    pub total: Option<f64>,
    /// Its `errs` (status ≥ 400).
    pub errs: Option<f64>,
    /// Latency p50 / p95, ms.
    pub p50: Option<f64>,
    /// Latency p95, ms.
    pub p95: Option<f64>,
    /// Its `decisions.total`.
    pub decisions: Option<f64>,
}

/// One row of the GLM limit probe's calibration table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeRow {
    /// The model.
    #[serde(default)]
    pub model: String,
    /// Median gap between limit hits, s.
    #[serde(default)]
    pub gap_seconds_p50: Option<f64>,
    /// 95th percentile gap, s.
    #[serde(default)]
    pub gap_seconds_p95: Option<f64>,
    /// Samples behind them.
    #[serde(default)]
    pub samples: Option<f64>,
}

/// One `rollups/*.json` (`ccp-agg`): token totals per model over its windows.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RollupFile {
    /// The path.
    pub path: String,
    /// `hour` or `day`.
    pub granularity: String,
    /// Per model: windows, requests (`count`), input and output tokens.
    pub models: BTreeMap<String, [u64; 4]>,
}

/// A saved `/v1/usage` response (model health at the time it was taken).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct UsageSnapshot {
    /// The path.
    pub path: String,
    /// Its `ts` (epoch seconds), when it has one.
    pub ts: Option<f64>,
    /// The models it reports on.
    pub models: Vec<String>,
}

/// A free-form summary, listed only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SummaryFile {
    /// The path.
    pub path: String,
    /// Its modification date (UTC, `YYYY-MM-DD`).
    pub modified: String,
}

/// Everything found under `results/`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CcpResults {
    /// `METRICS*.json`.
    pub metrics: Vec<MetricsFile>,
    /// The last JSON block of `GLM_LIMIT_PROBE.md`, when there is one.
    pub glm_limit_probe: Option<Vec<ProbeRow>>,
    /// `rollups/*.json`.
    pub rollups: Vec<RollupFile>,
    /// `*SUMMARY.md`.
    pub summaries: Vec<SummaryFile>,
    /// Saved `/v1/usage` responses anywhere under `results/` (recognised by their keys),
    /// oldest first; the last one is the latest model health.
    pub usage_snapshots: Vec<UsageSnapshot>,
    /// `path: reason` for results files that could not be used.
    pub problems: Vec<String>,
}

fn sorted(dir: &Utf8Path, keep: impl Fn(&str) -> bool) -> Vec<camino::Utf8PathBuf> {
    let Ok(rd) = dir.read_dir_utf8() else { return Vec::new() };
    let mut out: Vec<_> = rd
        .flatten()
        .map(|e| e.path().to_owned())
        .filter(|p| p.file_name().is_some_and(&keep) && p.is_file())
        .collect();
    out.sort();
    out
}

fn num(v: &serde_json::Value, key: &str) -> Option<f64> {
    v.get(key).and_then(serde_json::Value::as_f64)
}

fn read_json(path: &Utf8Path, problems: &mut Vec<String>) -> Option<serde_json::Value> {
    match agentos_fsio::read_bounded(path, MAX_BYTES) {
        Ok(Some(b)) => match serde_json::from_slice(&b) {
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(format!("{path}: {}", crate::record::json_reason(&e)));
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            problems.push(format!("{path}: {e}"));
            None
        }
    }
}

/// The last ```` ```json ```` block of a Markdown text.
fn last_json_block(md: &str) -> Option<&str> {
    let start = md.rfind("```json")? + "```json".len();
    let body = &md[start..];
    let end = body.find("```")?;
    Some(&body[..end])
}

/// Read `root/results/`.
pub(crate) fn read(root: &Utf8Path) -> CcpResults {
    let dir = root.join("results");
    let mut out = CcpResults::default();
    for path in sorted(&dir, |n| n.starts_with("METRICS") && n.ends_with(".json")) {
        if let Some(v) = read_json(&path, &mut out.problems) {
            out.metrics.push(MetricsFile {
                path: path.to_string(),
                total: num(&v, "total"),
                errs: num(&v, "errs"),
                p50: num(&v, "p50"),
                p95: num(&v, "p95"),
                decisions: v.get("decisions").and_then(|d| num(d, "total")),
            });
        }
    }
    let probe = dir.join("GLM_LIMIT_PROBE.md");
    match agentos_fsio::read_bounded(&probe, MAX_BYTES) {
        Ok(Some(b)) => {
            let text = String::from_utf8_lossy(&b);
            match last_json_block(&text).map(serde_json::from_str::<Vec<ProbeRow>>) {
                Some(Ok(rows)) => out.glm_limit_probe = Some(rows),
                Some(Err(e)) => out.problems.push(format!(
                    "{probe}: last json block: {} (expected a list of {{\"model\", \"gap_seconds_p50\", \"gap_seconds_p95\", \"samples\"}})",
                    crate::record::json_reason(&e)
                )),
                None => out.problems.push(format!("{probe}: no ```json block")),
            }
        }
        Ok(None) => {}
        Err(e) => out.problems.push(format!("{probe}: {e}")),
    }
    for path in sorted(&dir.join("rollups"), |n| n.ends_with(".json")) {
        let Some(v) = read_json(&path, &mut out.problems) else { continue };
        let mut models = BTreeMap::new();
        if let Some(m) = v.get("models").and_then(|m| m.as_object()) {
            for (model, windows) in m {
                let mut t = [0u64; 4];
                for w in windows.as_array().map(Vec::as_slice).unwrap_or_default() {
                    let n = |k: &str| w.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
                    t[0] += 1;
                    t[1] += n("count");
                    t[2] += n("in_tokens");
                    t[3] += n("out_tokens");
                }
                models.insert(model.clone(), t);
            }
        }
        out.rollups.push(RollupFile {
            path: path.to_string(),
            granularity: v.get("granularity").and_then(|g| g.as_str()).unwrap_or("").to_owned(),
            models,
        });
    }
    out.usage_snapshots = usage_snapshots(&dir, &mut out.problems);
    for path in sorted(&dir, |n| n.ends_with("SUMMARY.md")) {
        let modified = std::fs::metadata(&path)
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| super::event::day(d.as_micros() as i64))
            .unwrap_or_default();
        out.summaries.push(SummaryFile { path: path.to_string(), modified });
    }
    out
}

/// How deep `results/` is searched for saved `/v1/usage` responses.
const SNAPSHOT_DEPTH: usize = 3;

/// The JSON files under `dir` (not `METRICS*`, not `rollups/`) that are `/v1/usage` responses.
fn usage_snapshots(dir: &Utf8Path, problems: &mut Vec<String>) -> Vec<UsageSnapshot> {
    use agentos_event_schema::catalog::SchemaKind;
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_owned(), 0)];
    while let Some((d, depth)) = stack.pop() {
        for path in sorted(&d, |n| n.ends_with(".json") && !n.starts_with("METRICS")) {
            let Some(v) = read_json(&path, problems) else { continue };
            if agentos_event_schema::ccp::detect_kind(&v) != Some(SchemaKind::CcpUsage) {
                continue;
            }
            let models = v
                .get("models")
                .and_then(|m| m.as_object())
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            out.push(UsageSnapshot { path: path.to_string(), ts: num(&v, "ts"), models });
        }
        if depth < SNAPSHOT_DEPTH
            && let Ok(rd) = d.read_dir_utf8()
        {
            let mut dirs: Vec<_> = rd
                .flatten()
                .map(|e| e.path().to_owned())
                .filter(|p| p.is_dir() && p.file_name() != Some("rollups"))
                .collect();
            dirs.sort();
            stack.extend(dirs.into_iter().rev().map(|p| (p, depth + 1)));
        }
    }
    out.sort_by(|a, b| {
        a.ts.unwrap_or(0.0).total_cmp(&b.ts.unwrap_or(0.0)).then(a.path.cmp(&b.path))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_listed_and_the_last_probe_block_wins() {
        let t = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(t.path()).unwrap();
        let r = root.join("results");
        std::fs::create_dir_all(r.join("rollups")).unwrap();
        std::fs::write(
            r.join("METRICS-go.json"),
            r#"{"total":12,"errs":2,"p50":130.5,"p95":null,"decisions":{"total":6,"to_zai":3,"pct_to_zai":50.0}}"#,
        )
        .unwrap();
        std::fs::write(r.join("METRICS-bad.json"), "{not json").unwrap();
        std::fs::write(
            r.join("GLM_LIMIT_PROBE.md"),
            "# probe\n```json\n[{\"model\":\"old\"}]\n```\ntext\n```json\n[{\"model\":\"glm-4.6\",\"gap_seconds_p50\":30,\"gap_seconds_p95\":48,\"samples\":7}]\n```\n",
        )
        .unwrap();
        std::fs::write(
            r.join("rollups/rollup_day.json"),
            r#"{"granularity":"day","models":{"m":[{"window_start":1,"in_tokens":10,"out_tokens":5,"count":2},{"window_start":2,"in_tokens":1,"out_tokens":1,"count":1}]},"ts":3}"#,
        )
        .unwrap();
        std::fs::write(r.join("GO-REPRO-SUMMARY.md"), "free text").unwrap();
        std::fs::create_dir_all(r.join("usage")).unwrap();
        let fixture = Utf8Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ccp");
        std::fs::copy(fixture.join("v1_usage.json"), r.join("usage/v1_usage.json")).unwrap();
        std::fs::copy(fixture.join("v1_usage_samples.json"), r.join("usage/samples.json")).unwrap();
        let got = read(root);
        assert_eq!(got.usage_snapshots.len(), 1, "{:?}", got.usage_snapshots);
        assert!(got.usage_snapshots[0].path.ends_with("usage/v1_usage.json"));
        assert!(got.usage_snapshots[0].models.contains(&"claude-haiku-4.5".to_owned()));
        assert_eq!(got.metrics.len(), 1);
        assert_eq!(got.metrics[0].total, Some(12.0));
        assert_eq!(got.metrics[0].p95, None);
        assert_eq!(got.metrics[0].decisions, Some(6.0));
        assert_eq!(got.problems.len(), 1, "{:?}", got.problems);
        assert!(got.problems[0].contains("METRICS-bad.json"));
        let probe = got.glm_limit_probe.unwrap();
        assert_eq!(probe.len(), 1);
        assert_eq!(probe[0].model, "glm-4.6");
        assert_eq!(probe[0].gap_seconds_p95, Some(48.0));
        assert_eq!(got.rollups[0].granularity, "day");
        assert_eq!(got.rollups[0].models["m"], [2, 3, 11, 6]);
        assert_eq!(got.summaries.len(), 1);
        assert_eq!(got.summaries[0].modified.len(), 10);
    }

    /// A last block that is JSON but not the table: reported with what was expected.
    #[test]
    fn a_probe_block_of_another_shape_says_what_was_expected() {
        let t = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(t.path()).unwrap();
        std::fs::create_dir_all(root.join("results")).unwrap();
        let md = "```json\n{\"model\":\"glm-4.6\"}\n```\n";
        std::fs::write(root.join("results/GLM_LIMIT_PROBE.md"), md).unwrap();
        let got = read(root);
        assert!(got.glm_limit_probe.is_none());
        assert_eq!(got.problems.len(), 1, "{:?}", got.problems);
        assert!(got.problems[0].contains("expected a list of {\"model\""), "{:?}", got.problems);
    }
}
