//! The alias runtime (reference §7.5): `start`, `end` and `cross` record a window's before and
//! after meters with the window id tracked in a per-provider state file, so an agent (or a
//! shell alias) can say "start" and "end" without naming windows; `delete` undoes a snapshot.
//! GLM keeps a prompt baseline instead of snapshots and records the difference at the end.

mod state;

use camino::Utf8Path;

use crate::pyfmt::fmtnum;
use crate::snapshot::{GlmRow, MeterProvider, Phase, SnapshotRow};
use crate::store::{self, Corrupt, TrackerDir, TrackerFile, now_iso};
use crate::window_error::WindowError;

pub use state::{
    AliasState, FIRST_WINDOW, increment_window, infer_state, load_state, save_state, state_path,
};

/// The providers the alias runtime knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AliasProvider {
    /// Codex `/status` snapshots.
    Codex,
    /// Claude `/usage` snapshots.
    Claude,
    /// GLM prompt counts.
    Glm,
}

impl AliasProvider {
    /// `codex`, `claude` or `glm`.
    pub fn as_str(self) -> &'static str {
        match self {
            AliasProvider::Codex => "codex",
            AliasProvider::Claude => "claude",
            AliasProvider::Glm => "glm",
        }
    }

    fn meter(self) -> Option<MeterProvider> {
        match self {
            AliasProvider::Codex => Some(MeterProvider::Codex),
            AliasProvider::Claude => Some(MeterProvider::Claude),
            AliasProvider::Glm => None,
        }
    }
}

/// `start`, `end` or `cross`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AliasAction {
    /// Record the before meter of the current (or next) window.
    Start,
    /// Record the after meter of the current window.
    End,
    /// End the current window and start the next with the same reading.
    Cross,
}

/// A `start`/`end`/`cross`.
#[derive(Debug, Clone)]
pub struct AliasRequest<'a> {
    /// The provider.
    pub provider: AliasProvider,
    /// The window, overriding the state's.
    pub window: Option<&'a str>,
    /// The meter text as read.
    pub text: &'a str,
    /// Notes (`None` or empty: `alias:start`, `alias:end`, `alias:cross-end`/`-start`).
    pub notes: Option<&'a str>,
    /// The rows' `source` (`alias` by default).
    pub source: &'a str,
    /// Where the state files live.
    pub state_dir: &'a Utf8Path,
}

/// What an alias command did: the reference's stdout line, and lines skipped while reading.
#[derive(Debug, Clone)]
pub struct AliasOutcome {
    /// The line to print.
    pub message: String,
    /// Lines of the store that could not be read.
    pub corrupt: Vec<Corrupt>,
}

/// A parsed meter reading: the row payload, kept typed so its keys keep their order.
enum Reading {
    Codex(crate::CodexStatus),
    Claude(crate::ClaudeUsage),
    Glm(crate::GlmCounts),
}

fn read(provider: AliasProvider, text: &str) -> Result<Reading, WindowError> {
    Ok(match provider {
        AliasProvider::Codex => Reading::Codex(crate::parse_codex_status(text)?),
        AliasProvider::Claude => Reading::Claude(crate::parse_claude_usage(text)?),
        AliasProvider::Glm => Reading::Glm(crate::parse_ccusage_counts(text)?),
    })
}

/// Append a meter snapshot of `reading`.
fn append_snapshot(
    dir: &TrackerDir,
    req: &AliasRequest<'_>,
    reading: &Reading,
    window: &str,
    phase: Phase,
    notes: &str,
) -> Result<(), WindowError> {
    let raw = req.text.trim_end();
    let Some(meter) = req.provider.meter() else { return Ok(()) };
    match reading {
        Reading::Codex(p) => dir.append(
            TrackerFile::Snapshots,
            &SnapshotRow::now(window, meter, phase, notes, raw, p, req.source),
        )?,
        Reading::Claude(p) => dir.append(
            TrackerFile::Snapshots,
            &SnapshotRow::now(window, meter, phase, notes, raw, p, req.source),
        )?,
        Reading::Glm(_) => {}
    }
    Ok(())
}

fn notes_or<'a>(req: &AliasRequest<'a>, default: &'a str) -> &'a str {
    req.notes.filter(|n| !n.is_empty()).unwrap_or(default)
}

/// Run `start`, `end` or `cross` (§7.5) and save the new state.
///
/// # Errors
/// [`WindowError::NoBefore`] (Codex/Claude end or cross without a before snapshot in the
/// window), [`WindowError::GlmNoBaseline`], [`WindowError::Parse`], or a store error.
pub fn alias(
    dir: &TrackerDir,
    action: AliasAction,
    req: &AliasRequest<'_>,
) -> Result<AliasOutcome, WindowError> {
    let reading = read(req.provider, req.text)?;
    let mut corrupt = Vec::new();
    let state = match load_state(req.state_dir, req.provider) {
        Some(s) => s,
        None => infer_state(dir, req.provider)?,
    };
    let window = match (req.window.filter(|w| !w.is_empty()), action) {
        (Some(w), _) => w.to_owned(),
        (None, AliasAction::Start) => {
            let w = state.current_window.clone().unwrap_or_else(|| FIRST_WINDOW.to_owned());
            if state.after() { increment_window(&w) } else { w }
        }
        (None, AliasAction::End | AliasAction::Cross) => match &state.current_window {
            Some(w) => w.clone(),
            None => infer_state(dir, req.provider)?.current_window.unwrap_or_default(),
        },
    };
    let p = req.provider;
    let (message, new_state) = if let Reading::Glm(parsed) = &reading {
        let total = parsed.prompts_used;
        match action {
            AliasAction::Start => (
                format!("stored glm baseline for {window} (prompts={})", fmtnum(total, 2)),
                AliasState::new(p, Some(window), Some("before"), Some(total)),
            ),
            AliasAction::End | AliasAction::Cross => {
                let (name, default_notes) = match action {
                    AliasAction::Cross => ("cross", "alias:cross-end"),
                    _ => ("end", "alias:end"),
                };
                let baseline =
                    state.baseline_prompts.ok_or(WindowError::GlmNoBaseline { action: name })?;
                let delta = (total - baseline).max(0.0);
                let row = GlmRow {
                    window: &window,
                    provider: "glm",
                    captured_at: now_iso(),
                    notes: notes_or(req, default_notes),
                    raw_text: req.text.trim_end(),
                    parsed,
                    source: req.source,
                    prompts_used: delta,
                };
                dir.append(TrackerFile::GlmCounts, &row)?;
                if action == AliasAction::Cross {
                    let next = increment_window(&window);
                    (
                        format!(
                            "stored glm delta for {window} and seeded baseline for {next} (delta={})",
                            fmtnum(delta, 2)
                        ),
                        AliasState::new(p, Some(next), Some("before"), Some(total)),
                    )
                } else {
                    (
                        format!(
                            "stored glm delta for {window} (baseline={}, prompts={})",
                            fmtnum(baseline, 2),
                            fmtnum(delta, 2)
                        ),
                        AliasState::new(p, Some(window), Some("after"), Some(total)),
                    )
                }
            }
        }
    } else {
        let name = p.as_str();
        match action {
            AliasAction::Start => {
                append_snapshot(
                    dir,
                    req,
                    &reading,
                    &window,
                    Phase::Before,
                    notes_or(req, "alias:start"),
                )?;
                (
                    format!("stored {name} before snapshot for {window} (awaiting end)"),
                    AliasState::new(p, Some(window), Some("before"), None),
                )
            }
            AliasAction::End | AliasAction::Cross => {
                let loaded = dir.load(TrackerFile::Snapshots, Some(&window))?;
                corrupt.extend(loaded.corrupt);
                let has_before = loaded
                    .rows
                    .iter()
                    .any(|r| r.str("provider") == Some(name) && r.str("phase") == Some("before"));
                if !has_before {
                    return Err(WindowError::NoBefore { provider: name.to_owned(), window });
                }
                if action == AliasAction::End {
                    append_snapshot(
                        dir,
                        req,
                        &reading,
                        &window,
                        Phase::After,
                        notes_or(req, "alias:end"),
                    )?;
                    (
                        format!("stored {name} after snapshot for {window} (ready to finalize)"),
                        AliasState::new(p, Some(window), Some("after"), None),
                    )
                } else {
                    let next = increment_window(&window);
                    append_snapshot(
                        dir,
                        req,
                        &reading,
                        &window,
                        Phase::After,
                        notes_or(req, "alias:cross-end"),
                    )?;
                    append_snapshot(
                        dir,
                        req,
                        &reading,
                        &next,
                        Phase::Before,
                        notes_or(req, "alias:cross-start"),
                    )?;
                    (
                        format!(
                            "stored {name} after snapshot for {window} and seeded before snapshot for {next}"
                        ),
                        AliasState::new(p, Some(next), Some("before"), None),
                    )
                }
            }
        }
    };
    save_state(req.state_dir, &new_state, p)?;
    Ok(AliasOutcome { message, corrupt })
}

/// An `alias delete`.
#[derive(Debug, Clone)]
pub struct DeleteRequest<'a> {
    /// The provider.
    pub provider: AliasProvider,
    /// Only snapshots of this window.
    pub window: Option<&'a str>,
    /// Only snapshots of this phase.
    pub phase: Option<Phase>,
    /// Which match, counted from the latest (1 = the latest).
    pub index: i64,
    /// Where the state files live.
    pub state_dir: &'a Utf8Path,
}

/// Delete the `index`-th latest matching snapshot of the provider (§7.5) by an atomic
/// rewrite of `snapshots.jsonl` that keeps every other line as it is, then re-infer and save
/// the provider's state. GLM has no snapshots, so deleting for it finds nothing.
///
/// # Errors
/// [`WindowError::IndexBelowOne`], [`WindowError::NothingToDelete`],
/// [`WindowError::IndexTooLarge`], [`WindowError::Raced`], or a store error.
pub fn delete(dir: &TrackerDir, req: &DeleteRequest<'_>) -> Result<AliasOutcome, WindowError> {
    if req.index < 1 {
        return Err(WindowError::IndexBelowOne);
    }
    let loaded = dir.load(TrackerFile::Snapshots, req.window.filter(|w| !w.is_empty()))?;
    let name = req.provider.as_str();
    let candidates: Vec<&store::Row> = loaded
        .rows
        .iter()
        .filter(|r| r.str("provider") == Some(name))
        .filter(|r| req.phase.is_none_or(|ph| r.str("phase") == Some(ph.as_str())))
        .collect();
    if candidates.is_empty() {
        return Err(WindowError::NothingToDelete);
    }
    let index = usize::try_from(req.index).unwrap_or(usize::MAX);
    if candidates.len() < index {
        return Err(WindowError::IndexTooLarge { found: candidates.len(), index });
    }
    let target = candidates[candidates.len() - index];
    let path = dir.path(TrackerFile::Snapshots);
    if !store::rewrite_without_line(&path, target.line, &target.text)? {
        return Err(WindowError::Raced);
    }
    let state = infer_state(dir, req.provider)?;
    save_state(req.state_dir, &state, req.provider)?;
    let or = |k: &str, d: &str| target.str(k).filter(|s| !s.is_empty()).unwrap_or(d).to_owned();
    Ok(AliasOutcome {
        message: format!(
            "removed {name} {} snapshot for {} (captured_at={})",
            or("phase", "n/a"),
            or("window", "unknown"),
            or("captured_at", "unknown"),
        ),
        corrupt: loaded.corrupt,
    })
}
