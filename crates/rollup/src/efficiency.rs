//! Features per capacity by provider, over `windows.jsonl` (reference §3.3) — v1 window
//! records or the Python tracker's own rows (`tracker_windows`) — with the numerator quirk
//! fixed: features of windows without usable capacity are reported as `unmeasured_features`,
//! not added to the numerator (the tracker divides all features by the usable capacity: it
//! reports a higher E whenever a window has features but no usable capacity).

use std::collections::BTreeMap;
use std::io::BufReader;

use agentos_event_schema::v1::WindowRecord;
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize as _, Serialize};

use crate::lines::{BoundedLines, Line};
use crate::{Diagnostic, Error, tracker_windows};

/// z for a two-sided 95 % interval.
pub const Z: f64 = 1.96;
/// Effect size (E units) the power is computed for.
pub const TARGET_EFFECT: f64 = 0.10;

/// One provider's share of one window.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// The window.
    pub window_id: String,
    /// Features delivered.
    pub features: f64,
    /// Capacity used; `None` when not measured.
    pub capacity: Option<f64>,
    /// Quality score of the window's work, if known.
    pub quality: Option<f64>,
}

/// The estimator's answer for one provider.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProviderEfficiency {
    /// Provider.
    pub provider: String,
    /// Every window that had an observation for the provider, in input order.
    pub windows: Vec<String>,
    /// Windows with usable capacity (> 0): the sample size `n`.
    pub sample_size: u64,
    /// Σ features over windows with usable capacity (the numerator).
    pub total_features: f64,
    /// Σ capacity over windows with usable capacity (the denominator).
    pub total_capacity: f64,
    /// Features of windows without usable capacity (null, 0 or negative): not in `efficiency`.
    pub unmeasured_features: f64,
    /// Windows without usable capacity.
    pub unmeasured_windows: u64,
    /// `total_features / total_capacity`; `null` when no usable capacity.
    pub efficiency: Option<f64>,
    /// Quality-adjusted efficiency `Σ(features × quality) / total_capacity` (quality 1.0 when
    /// a window has none); `null` when no usable capacity.
    pub efficiency_quality_adjusted: Option<f64>,
    /// Lower end of the 95 % interval (≥ 0); `null` when n < 3.
    pub ci_low: Option<f64>,
    /// Upper end of the 95 % interval; `null` when n < 3.
    pub ci_high: Option<f64>,
    /// Power to detect a change of 0.10 E units; `null` when n < 3.
    pub power: Option<f64>,
    /// Unit of capacity.
    pub capacity_unit: String,
}

/// The efficiency report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EfficiencyReport {
    /// Per provider, sorted by name.
    pub providers: Vec<ProviderEfficiency>,
    /// Windows read.
    pub windows: u64,
    /// Lines skipped.
    #[serde(skip)]
    pub diagnostics: Vec<Diagnostic>,
}

/// Unit of a provider's capacity numbers.
pub fn capacity_unit(provider: &str) -> &'static str {
    let p = provider.to_ascii_lowercase();
    if agentos_event_schema::provider::is_prompt_counted(&p) {
        "prompts"
    } else if p == "codex" || p == "claude" {
        "pp"
    } else {
        "weekly fraction"
    }
}

/// Estimate one provider's efficiency from its observations (reference §3.3, numerator fixed).
pub fn estimate(provider: &str, observations: &[Observation]) -> ProviderEfficiency {
    let usable: Vec<(f64, f64, f64)> = observations
        .iter()
        .filter_map(|o| match o.capacity {
            Some(c) if c > 0.0 && c.is_finite() => Some((o.features, c, o.quality.unwrap_or(1.0))),
            _ => None,
        })
        .collect();
    let unmeasured: Vec<&Observation> = observations
        .iter()
        .filter(|o| !matches!(o.capacity, Some(c) if c > 0.0 && c.is_finite()))
        .collect();
    // `+ 0.0`: an empty f64 sum is -0.0, which JSON would print as such.
    let total_features: f64 = usable.iter().map(|u| u.0).sum::<f64>() + 0.0;
    let total_capacity: f64 = usable.iter().map(|u| u.1).sum::<f64>() + 0.0;
    let efficiency = (total_capacity > 0.0).then(|| total_features / total_capacity);
    let efficiency_quality_adjusted = (total_capacity > 0.0)
        .then(|| usable.iter().map(|u| u.0 * u.2).sum::<f64>() / total_capacity);
    let (mut ci_low, mut ci_high, mut power) = (None, None, None);
    let n = usable.len();
    if let Some(e) = efficiency
        && n >= 3
    {
        let var =
            usable.iter().map(|(f, c, _)| (f - e * c).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        if var <= 0.0 {
            (ci_low, ci_high, power) = (Some(e), Some(e), Some(1.0));
        } else {
            let se = var.sqrt() / total_capacity;
            let margin = Z * se;
            ci_low = Some((e - margin).max(0.0));
            ci_high = Some(e + margin);
            let shift = TARGET_EFFECT / se;
            let p = 1.0 - normal_cdf(Z - shift) + normal_cdf(-Z - shift);
            power = Some(p.clamp(0.0, 1.0));
        }
    }
    ProviderEfficiency {
        provider: provider.to_owned(),
        windows: observations.iter().map(|o| o.window_id.clone()).collect(),
        sample_size: n as u64,
        total_features,
        total_capacity,
        unmeasured_features: unmeasured.iter().map(|o| o.features).sum::<f64>() + 0.0,
        unmeasured_windows: unmeasured.len() as u64,
        efficiency,
        efficiency_quality_adjusted,
        ci_low,
        ci_high,
        power,
        capacity_unit: capacity_unit(provider).to_owned(),
    }
}

fn observations(records: &[WindowRecord]) -> BTreeMap<String, Vec<Observation>> {
    let mut by_provider: BTreeMap<String, Vec<Observation>> = BTreeMap::new();
    for r in records {
        for (p, w) in &r.providers {
            by_provider.entry(p.clone()).or_default().push(Observation {
                window_id: r.window_id.clone(),
                features: w.features,
                capacity: w.capacity_used,
                quality: r.quality,
            });
        }
    }
    by_provider
}

/// Estimate every provider's efficiency from window records.
pub fn from_windows(records: &[WindowRecord]) -> Vec<ProviderEfficiency> {
    observations(records).iter().map(|(p, obs)| estimate(p, obs)).collect()
}

/// The tracker's GLM counts next to its `windows.jsonl` (`glm_counts.jsonl` rows with
/// `window` and `prompts_used`; other rows, such as the recorder's, are ignored).
fn sibling_glm_counts(path: &Utf8Path) -> Result<BTreeMap<String, f64>, Error> {
    let counts = path.with_file_name("glm_counts.jsonl");
    let rows = read_json_lines(&counts)?.0;
    Ok(tracker_windows::glm_counts(rows.iter().map(|(_, v)| v)))
}

/// Read a windows file (missing = no windows) and estimate. It may hold v1 window records
/// (`window_id`, `providers.{p}.capacity_used`) or the Python tracker's rows (`window`,
/// `providers.{p}.delta`: `tracker_windows.rs`), told apart line by line; a file where
/// no line is either is an error. Invalid lines are skipped and reported; a torn last line
/// too.
pub fn efficiency_file(path: &Utf8Path) -> Result<EfficiencyReport, Error> {
    let (lines, mut diagnostics) = read_json_lines(path)?;
    let diag =
        |line: u64, message: String| Diagnostic { file: Utf8PathBuf::from(path), line, message };
    let (mut records, mut tracker) = (Vec::new(), Vec::new());
    let mut seen = std::collections::HashSet::new();
    for (line, v) in &lines {
        if tracker_windows::is_tracker_row(v) {
            match tracker_windows::parse(v) {
                Ok(w) => tracker.push(w),
                Err(m) => diagnostics.push(diag(*line, format!("invalid tracker window row: {m}"))),
            }
            continue;
        }
        match WindowRecord::deserialize(v) {
            Ok(r) => match out_of_range(&r) {
                None if !seen.insert(r.window_id.clone()) => diagnostics.push(diag(
                    *line,
                    format!("window {:?} already read: counted once", r.window_id),
                )),
                None => records.push(r),
                Some(message) => diagnostics.push(diag(*line, message)),
            },
            Err(e) => diagnostics.push(diag(*line, format!("invalid window record: {e}"))),
        }
    }
    if records.is_empty() && tracker.is_empty() && !diagnostics.is_empty() {
        return Err(Error::Input {
            path: path.to_owned(),
            what: "windows file",
            message: format!(
                "no line is a v1 window record (window_id, providers.{{p}}.capacity_used) or a tracker window row (window, providers.{{p}}.delta); first problem: line {}: {}",
                diagnostics[0].line, diagnostics[0].message
            ),
        });
    }
    // A window the tracker finalized again: its latest row.
    let mut latest: BTreeMap<String, usize> = BTreeMap::new();
    for (i, w) in tracker.iter().enumerate() {
        latest.insert(w.window.clone(), i);
    }
    let tracker: Vec<_> = tracker
        .into_iter()
        .enumerate()
        .filter(|(i, w)| latest.get(&w.window) == Some(i))
        .map(|(_, w)| w)
        .collect();
    let mut by_provider = observations(&records);
    if !tracker.is_empty() {
        let glm = sibling_glm_counts(path)?;
        for (p, obs) in tracker_windows::observations(&tracker, &glm) {
            by_provider.entry(p).or_default().extend(obs);
        }
    }
    Ok(EfficiencyReport {
        providers: by_provider.iter().map(|(p, obs)| estimate(p, obs)).collect(),
        windows: (records.len() + tracker.len()) as u64,
        diagnostics,
    })
}

/// Estimate from the Python tracker's rows already read (`windows.jsonl` rows and its
/// `glm_counts.jsonl` rows), as [`efficiency_file`] does for its tracker rows: a window
/// finalized again counts once (its last row); a row that is not a tracker window row, or is
/// malformed, is left out and said why (its position in `windows`, 0-based, and the reason).
pub fn from_tracker_rows(
    windows: &[serde_json::Value],
    glm_counts: &[serde_json::Value],
) -> (Vec<ProviderEfficiency>, Vec<(usize, String)>) {
    let mut skipped = Vec::new();
    let mut parsed = Vec::new();
    for (i, v) in windows.iter().enumerate() {
        if !tracker_windows::is_tracker_row(v) {
            skipped.push((i, "not a tracker window row (window, providers)".to_owned()));
            continue;
        }
        match tracker_windows::parse(v) {
            Ok(w) => parsed.push(w),
            Err(m) => skipped.push((i, format!("invalid tracker window row: {m}"))),
        }
    }
    let mut latest: BTreeMap<String, usize> = BTreeMap::new();
    for (i, w) in parsed.iter().enumerate() {
        latest.insert(w.window.clone(), i);
    }
    let parsed: Vec<_> = parsed
        .into_iter()
        .enumerate()
        .filter(|(i, w)| latest.get(&w.window) == Some(i))
        .map(|(_, w)| w)
        .collect();
    let glm = tracker_windows::glm_counts(glm_counts);
    let by_provider = tracker_windows::observations(&parsed, &glm);
    (by_provider.iter().map(|(p, obs)| estimate(p, obs)).collect(), skipped)
}

/// JSON values with their 1-based line numbers.
type JsonLines = Vec<(u64, serde_json::Value)>;

/// The JSON lines of `path` with their numbers (missing file = none), and a diagnostic per
/// line that is not JSON. Memory is bounded: a line longer than 64 MiB is skipped unread.
fn read_json_lines(path: &Utf8Path) -> Result<(JsonLines, Vec<Diagnostic>), Error> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(source) => return Err(Error::Read { path: path.to_owned(), source }),
    };
    let mut lines = BoundedLines::new(BufReader::new(file), crate::chunks::MAX_LINE);
    let mut out = Vec::new();
    let mut diags = Vec::new();
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let diag =
        |line: u64, message: String| Diagnostic { file: Utf8PathBuf::from(path), line, message };
    loop {
        let read = lines
            .next_line(&mut buf)
            .map_err(|source| Error::Read { path: path.to_owned(), source })?;
        let torn = match read {
            Line::Eof => break,
            Line::TooLong => {
                line_no += 1;
                diags.push(diag(line_no, "line longer than 64 MiB: skipped".to_owned()));
                continue;
            }
            Line::Text { torn } => torn,
        };
        line_no += 1;
        let line = buf.trim_ascii();
        if line.is_empty() {
            continue;
        }
        match serde_json::from_slice::<serde_json::Value>(line) {
            Ok(v) => out.push((line_no, v)),
            Err(e) => diags.push(diag(
                line_no,
                if torn {
                    format!("torn last line (no trailing newline), skipped: {e}")
                } else {
                    format!("not JSON: {e}")
                },
            )),
        }
    }
    Ok((out, diags))
}

/// Why a record's numbers cannot be estimated from: beyond [`crate::MAX_MAGNITUDE`], sums and
/// squared residuals overflow to inf/NaN, which JSON cannot hold.
fn out_of_range(r: &WindowRecord) -> Option<String> {
    let big = |x: f64| x.abs() > crate::MAX_MAGNITUDE;
    if r.quality.is_some_and(big) {
        return Some("quality is out of range: numbers must be within ±1e15".to_owned());
    }
    r.providers.iter().find_map(|(p, w)| {
        (big(w.features) || w.capacity_used.is_some_and(big)).then(|| {
            format!("{p}: features or capacity_used is out of range: numbers must be within ±1e15")
        })
    })
}

/// Standard normal CDF, `Φ(z) = erfc(-z/√2) / 2` with musl's `erfc` (`libm`), as accurate as
/// Python's `math.erfc`, in the tails too.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

#[cfg(test)]
mod tests {
    use super::{from_tracker_rows, normal_cdf};

    /// The reference's quirk case (§3.3): windows (2 f, 10 pp) and (5 f, 0 pp). Fixed: E = 2/10
    /// = 0.2 with the 5 features reported apart (the tracker said 0.7). W1 finalized twice: its
    /// last row (2 f) counts, not the first (9 f). A row that is not a tracker row is reported.
    #[test]
    fn tracker_rows_already_read_fix_the_numerator_and_count_a_window_once() {
        let row = |w: &str, f: i64, d: i64| {
            serde_json::json!({"window": w, "features": {"codex": f},
                "providers": {"codex": {"delta": {"weekly_pct": d}}}})
        };
        let rows =
            [row("W1", 9, 10), row("W1", 2, 10), row("W2", 5, 0), serde_json::json!({"x": 1})];
        let (report, skipped) = from_tracker_rows(&rows, &[]);
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].0, 3);
        let codex = &report[0];
        assert_eq!((codex.total_features, codex.total_capacity), (2.0, 10.0));
        assert_eq!(codex.efficiency, Some(0.2));
        assert_eq!((codex.unmeasured_features, codex.unmeasured_windows), (5.0, 1));
        assert_eq!(codex.sample_size, 1);
    }

    /// Values from Python 3 (`0.5 * math.erfc(-z / math.sqrt(2))`), the reference's formula.
    #[test]
    fn normal_cdf_matches_python_to_the_far_tail() {
        let python = [
            (0.0, 0.5),
            (-1.0, 0.15865525393145707),
            (1.959963984540054, 0.975),
            (-3.5, 0.00023262907903552504),
            (5.0, 0.9999997133484281),
            (-8.0, 6.220960574271819e-16),
            (-30.0, 4.906713927148764e-198),
        ];
        for (z, want) in python {
            let got = normal_cdf(z);
            assert!(((got - want) / want).abs() < 1e-13, "Φ({z}) = {got:e}, Python {want:e}");
        }
        assert!(normal_cdf(f64::NAN).is_nan());
        assert_eq!((normal_cdf(f64::NEG_INFINITY), normal_cdf(f64::INFINITY)), (0.0, 1.0));
    }
}
