//! Features per capacity by provider, over `windows.jsonl` (reference §3.3), with the
//! numerator quirk fixed: features of windows without usable capacity are reported as
//! `unmeasured_features`, not added to the numerator.

use std::collections::BTreeMap;
use std::io::BufReader;

use agentos_event_schema::v1::WindowRecord;
use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use crate::lines::{BoundedLines, Line};
use crate::{Diagnostic, Error};

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
    let total_features: f64 = usable.iter().map(|u| u.0).sum();
    let total_capacity: f64 = usable.iter().map(|u| u.1).sum();
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
        unmeasured_features: unmeasured.iter().map(|o| o.features).sum(),
        unmeasured_windows: unmeasured.len() as u64,
        efficiency,
        efficiency_quality_adjusted,
        ci_low,
        ci_high,
        power,
        capacity_unit: capacity_unit(provider).to_owned(),
    }
}

/// Estimate every provider's efficiency from window records.
pub fn from_windows(records: &[WindowRecord]) -> Vec<ProviderEfficiency> {
    let mut by_provider: BTreeMap<&str, Vec<Observation>> = BTreeMap::new();
    for r in records {
        for (p, w) in &r.providers {
            by_provider.entry(p).or_default().push(Observation {
                window_id: r.window_id.clone(),
                features: w.features,
                capacity: w.capacity_used,
                quality: r.quality,
            });
        }
    }
    by_provider.iter().map(|(p, obs)| estimate(p, obs)).collect()
}

/// Read `windows.jsonl` (missing file = no windows) and estimate. Invalid lines are skipped
/// and reported; a torn last line too.
pub fn efficiency_file(path: &Utf8Path) -> Result<EfficiencyReport, Error> {
    let (records, diagnostics) = read_windows(path)?;
    Ok(EfficiencyReport {
        providers: from_windows(&records),
        windows: records.len() as u64,
        diagnostics,
    })
}

/// Read `windows.jsonl`: the records, and a diagnostic per skipped line. Memory is bounded: a
/// line longer than 64 MiB is skipped unread. A window id read again is counted once (the
/// first record wins; the repeat is reported).
pub fn read_windows(path: &Utf8Path) -> Result<(Vec<WindowRecord>, Vec<Diagnostic>), Error> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(source) => return Err(Error::Read { path: path.to_owned(), source }),
    };
    let mut lines = BoundedLines::new(BufReader::new(file), crate::chunks::MAX_LINE);
    let mut records = Vec::new();
    let mut diags = Vec::new();
    let mut seen = std::collections::HashSet::new();
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
                diags.push(diag(
                    line_no,
                    "line longer than 64 MiB: not a window record, skipped".to_owned(),
                ));
                continue;
            }
            Line::Text { torn } => torn,
        };
        line_no += 1;
        let line = buf.trim_ascii();
        if line.is_empty() {
            continue;
        }
        match serde_json::from_slice::<WindowRecord>(line) {
            Ok(r) => match out_of_range(&r) {
                None if !seen.insert(r.window_id.clone()) => diags.push(diag(
                    line_no,
                    format!("window {:?} already read: counted once", r.window_id),
                )),
                None => records.push(r),
                Some(message) => diags.push(diag(line_no, message)),
            },
            Err(e) => diags.push(diag(
                line_no,
                if torn {
                    format!("torn last line (no trailing newline), skipped: {e}")
                } else {
                    format!("invalid window record: {e}")
                },
            )),
        }
    }
    Ok((records, diags))
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
    use super::normal_cdf;

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
