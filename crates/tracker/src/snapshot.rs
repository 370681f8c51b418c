//! The rows the window commands append, keys in the Python tracker's order (§7.3): meter
//! snapshots (`snapshots.jsonl`), GLM counts, and the summaries of the other sources. Rows are
//! typed structs because serde keeps a struct's field order (a JSON map would sort its keys).

use serde::Serialize;

use crate::store::{now_iso, snapshot_id};

/// A snapshot's phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Before the window's work.
    Before,
    /// After it.
    After,
}

impl Phase {
    /// `before` or `after`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Before => "before",
            Phase::After => "after",
        }
    }
}

/// The providers with meter snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MeterProvider {
    /// Codex `/status`.
    Codex,
    /// Claude `/usage`.
    Claude,
}

impl MeterProvider {
    /// `codex` or `claude`.
    pub fn as_str(self) -> &'static str {
        match self {
            MeterProvider::Codex => "codex",
            MeterProvider::Claude => "claude",
        }
    }
}

/// A `snapshots.jsonl` row: `window, provider, phase, captured_at, notes, raw_text, parsed,
/// source`, then AgentOS's `snapshot_id` (see [`snapshot_id`]).
#[derive(Debug, Serialize)]
pub struct SnapshotRow<'a, P: Serialize> {
    /// The window.
    pub window: &'a str,
    /// `codex` or `claude`.
    pub provider: &'static str,
    /// `before` or `after`.
    pub phase: &'static str,
    /// When it was taken (Python's ISO format, UTC).
    pub captured_at: String,
    /// Free text.
    pub notes: &'a str,
    /// The pane text, trailing whitespace removed (`""` for a manual override).
    pub raw_text: &'a str,
    /// The parser's result.
    pub parsed: &'a P,
    /// `ingest`, `override`, or the alias label.
    pub source: &'a str,
    /// The stable id of provider, window, captured_at and raw_text.
    pub snapshot_id: String,
}

impl<'a, P: Serialize> SnapshotRow<'a, P> {
    /// A snapshot taken now.
    #[allow(clippy::too_many_arguments)]
    pub fn now(
        window: &'a str,
        provider: MeterProvider,
        phase: Phase,
        notes: &'a str,
        raw_text: &'a str,
        parsed: &'a P,
        source: &'a str,
    ) -> SnapshotRow<'a, P> {
        let captured_at = now_iso();
        let snapshot_id = snapshot_id(provider.as_str(), window, &captured_at, raw_text);
        SnapshotRow {
            window,
            provider: provider.as_str(),
            phase: phase.as_str(),
            captured_at,
            notes,
            raw_text,
            parsed,
            source,
            snapshot_id,
        }
    }
}

/// A `glm_counts.jsonl` row: `window, provider, captured_at, notes, raw_text, parsed,
/// source, prompts_used`.
#[derive(Debug, Serialize)]
pub struct GlmRow<'a, P: Serialize> {
    /// The window.
    pub window: &'a str,
    /// Always `glm`.
    pub provider: &'static str,
    /// When it was taken.
    pub captured_at: String,
    /// Free text.
    pub notes: &'a str,
    /// The export's text, trailing whitespace removed.
    pub raw_text: &'a str,
    /// The parser's result.
    pub parsed: &'a P,
    /// `ingest` or the alias label.
    pub source: &'a str,
    /// The prompts counted for the window (a float, as the reference writes it).
    pub prompts_used: f64,
}

/// A `claude_monitor.jsonl` / `proxy_telemetry.jsonl` / `codex_ccusage.jsonl` row: `window,
/// provider, [scope,] captured_at, notes, raw_text, parsed, source`.
#[derive(Debug, Serialize)]
pub struct SummaryRow<'a, P: Serialize> {
    /// The window.
    pub window: &'a str,
    /// The source's name as given (`claude-monitor`, `proxy-telemetry`, `codex-ccusage`).
    pub provider: &'a str,
    /// The ccusage scope (codex-ccusage only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<&'a str>,
    /// When it was taken.
    pub captured_at: String,
    /// Free text.
    pub notes: &'a str,
    /// The input text, trailing whitespace removed.
    pub raw_text: &'a str,
    /// The parser's result.
    pub parsed: &'a P,
    /// Always `ingest`.
    pub source: &'static str,
}
