//! `finalize` (the reference's `complete` / `window-finalize`, §7.3.3): the latest before and
//! after snapshot per provider become one `windows.jsonl` row with the deltas (§7.4, §3.5);
//! a negative delta is also recorded in `anomalies.jsonl`.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::normalize::{Ordered, ProviderSummary, group, missing};
use crate::store::{Corrupt, TrackerDir, TrackerFile, now_iso};
use crate::window_error::WindowError;

/// What the window is finalized with (the command's flags).
#[derive(Debug, Clone, PartialEq)]
pub struct FinalizeRequest {
    /// The window id.
    pub window: String,
    /// Features shipped with Codex.
    pub codex_features: i64,
    /// Features shipped with Claude.
    pub claude_features: i64,
    /// Features shipped with GLM.
    pub glm_features: i64,
    /// The quality score (written as both `quality_score` and `quality`).
    pub quality: f64,
    /// The outcome (`unknown` by default).
    pub outcome: String,
    /// Free-text notes.
    pub notes: String,
    /// Optional keys, written only when given and not empty.
    pub spec_id: Option<String>,
    /// See `spec_id`.
    pub spec_version: Option<String>,
    /// See `spec_id`.
    pub methodology: Option<String>,
    /// See `spec_id`.
    pub commit_start: Option<String>,
    /// See `spec_id`.
    pub commit_end: Option<String>,
}

impl FinalizeRequest {
    /// A request with the reference's defaults: no features, quality 1.0, outcome
    /// `unknown`, no notes.
    pub fn new(window: impl Into<String>) -> FinalizeRequest {
        FinalizeRequest {
            window: window.into(),
            codex_features: 0,
            claude_features: 0,
            glm_features: 0,
            quality: 1.0,
            outcome: "unknown".to_owned(),
            notes: String::new(),
            spec_id: None,
            spec_version: None,
            methodology: None,
            commit_start: None,
            commit_end: None,
        }
    }
}

/// `features {codex, claude, glm}`.
#[derive(Debug, Serialize)]
struct Features {
    codex: i64,
    claude: i64,
    glm: i64,
}

/// A `windows.jsonl` row, keys in the reference's order.
#[derive(Debug, Serialize)]
struct WindowRow<'a> {
    window: &'a str,
    finalized_at: String,
    features: Features,
    quality_score: f64,
    quality: f64,
    outcome: &'a str,
    notes: &'a str,
    providers: &'a Ordered<ProviderSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spec_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spec_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    methodology: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit_start: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit_end: Option<&'a str>,
}

/// An `anomalies.jsonl` row.
#[derive(Debug, Serialize)]
struct AnomalyRow<'a> {
    window: &'a str,
    provider: &'a str,
    captured_at: String,
    notes: &'static str,
    delta: &'a Ordered<Option<crate::normalize::Num>>,
    before: &'a RawValue,
    after: &'a RawValue,
    source: &'static str,
}

/// What `finalize` did.
#[derive(Debug, Clone)]
pub struct Finalized {
    /// The window.
    pub window: String,
    /// The providers recorded, in order of first appearance.
    pub providers: Vec<String>,
    /// Providers whose negative delta was recorded in `anomalies.jsonl`.
    pub anomalies: Vec<String>,
    /// Lines of `snapshots.jsonl` that were skipped.
    pub corrupt: Vec<Corrupt>,
}

impl std::fmt::Display for Finalized {
    /// The reference's stdout line: `finalized window {W} with providers: {p1, p2}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "finalized window {} with providers: {}", self.window, self.providers.join(", "))
    }
}

/// An optional key's value when given and not empty.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// Finalize `req.window`: append its row to `windows.jsonl` (re-finalizing appends another),
/// then one `anomalies.jsonl` row per provider with a delta below zero.
///
/// # Errors
/// [`WindowError::NoSnapshots`], [`WindowError::MissingPhases`] (nothing written), or a
/// store error.
pub fn finalize(dir: &TrackerDir, req: &FinalizeRequest) -> Result<Finalized, WindowError> {
    let loaded = dir.load(TrackerFile::Snapshots, Some(&req.window))?;
    if loaded.rows.is_empty() {
        return Err(WindowError::NoSnapshots { window: req.window.clone() });
    }
    let groups = group(&loaded.rows);
    let missing = missing(&groups);
    if !missing.is_empty() {
        return Err(WindowError::MissingPhases { providers: missing });
    }
    let providers = Ordered(
        groups
            .iter()
            .filter_map(|(name, p)| {
                Some((name.clone(), ProviderSummary::new(name, p.before?, p.after?)))
            })
            .collect(),
    );
    let row = WindowRow {
        window: &req.window,
        finalized_at: now_iso(),
        features: Features {
            codex: req.codex_features,
            claude: req.claude_features,
            glm: req.glm_features,
        },
        quality_score: req.quality,
        quality: req.quality,
        outcome: &req.outcome,
        notes: &req.notes,
        providers: &providers,
        spec_id: given(&req.spec_id),
        spec_version: given(&req.spec_version),
        methodology: given(&req.methodology),
        commit_start: given(&req.commit_start),
        commit_end: given(&req.commit_end),
    };
    dir.append(TrackerFile::Windows, &row)?;
    let mut anomalies = Vec::new();
    for (name, summary) in &providers.0 {
        if summary.has_negative_delta() {
            let anomaly = AnomalyRow {
                window: &req.window,
                provider: name,
                captured_at: now_iso(),
                notes: "negative-delta-detected",
                delta: &summary.delta,
                before: &summary.before,
                after: &summary.after,
                source: "finalize",
            };
            dir.append(TrackerFile::Anomalies, &anomaly)?;
            anomalies.push(name.clone());
        }
    }
    Ok(Finalized {
        window: req.window.clone(),
        providers: providers.0.iter().map(|(n, _)| n.clone()).collect(),
        anomalies,
        corrupt: loaded.corrupt,
    })
}
