//! `override` (reference §7.3.2): a snapshot typed in by hand when a pane cannot be captured,
//! stored with `errors: ["manual-override"]`, `raw_text: ""` and source `override`.

use serde::Serialize;

use crate::snapshot::{MeterProvider, Phase, SnapshotRow};
use crate::store::{TrackerDir, TrackerFile};
use crate::window_error::WindowError;

/// The values typed in. Only the provider's own fields are used: Codex's `fiveh_*`/`weekly_*`,
/// Claude's `session_*`/`all_models_*`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManualValues {
    /// Codex 5h percentage.
    pub fiveh_pct: Option<i64>,
    /// Codex 5h reset.
    pub fiveh_resets: Option<String>,
    /// Codex weekly percentage.
    pub weekly_pct: Option<i64>,
    /// Codex weekly reset.
    pub weekly_resets: Option<String>,
    /// Claude session percentage.
    pub session_pct: Option<i64>,
    /// Claude session reset.
    pub session_resets: Option<String>,
    /// Claude weekly (all models) percentage.
    pub all_models_pct: Option<i64>,
    /// Claude weekly reset.
    pub all_models_resets: Option<String>,
}

#[derive(Debug, Serialize)]
struct CodexManual<'a> {
    errors: [&'static str; 1],
    fiveh_pct: Option<i64>,
    fiveh_resets: Option<&'a str>,
    weekly_pct: Option<i64>,
    weekly_resets: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct ClaudeManual<'a> {
    errors: [&'static str; 1],
    session_pct: Option<i64>,
    session_resets: Option<&'a str>,
    all_models_pct: Option<i64>,
    all_models_resets: Option<&'a str>,
}

/// Append a manual snapshot; returns the reference's stdout line
/// (`recorded manual {provider} {phase} snapshot for {W}`).
///
/// # Errors
/// [`WindowError::CodexOverrideEmpty`] / [`WindowError::ClaudeOverrideEmpty`] when the
/// provider's percentages are both missing, or a store error.
pub fn record_override(
    dir: &TrackerDir,
    provider: MeterProvider,
    window: &str,
    phase: Phase,
    values: &ManualValues,
    notes: &str,
) -> Result<String, WindowError> {
    const ERRORS: [&str; 1] = ["manual-override"];
    match provider {
        MeterProvider::Codex => {
            if values.fiveh_pct.is_none() && values.weekly_pct.is_none() {
                return Err(WindowError::CodexOverrideEmpty);
            }
            let parsed = CodexManual {
                errors: ERRORS,
                fiveh_pct: values.fiveh_pct,
                fiveh_resets: values.fiveh_resets.as_deref(),
                weekly_pct: values.weekly_pct,
                weekly_resets: values.weekly_resets.as_deref(),
            };
            let row = SnapshotRow::now(window, provider, phase, notes, "", &parsed, "override");
            dir.append(TrackerFile::Snapshots, &row)?;
        }
        MeterProvider::Claude => {
            if values.session_pct.is_none() && values.all_models_pct.is_none() {
                return Err(WindowError::ClaudeOverrideEmpty);
            }
            let parsed = ClaudeManual {
                errors: ERRORS,
                session_pct: values.session_pct,
                session_resets: values.session_resets.as_deref(),
                all_models_pct: values.all_models_pct,
                all_models_resets: values.all_models_resets.as_deref(),
            };
            let row = SnapshotRow::now(window, provider, phase, notes, "", &parsed, "override");
            dir.append(TrackerFile::Snapshots, &row)?;
        }
    }
    Ok(format!("recorded manual {} {} snapshot for {window}", provider.as_str(), phase.as_str()))
}
