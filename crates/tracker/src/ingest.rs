//! `ingest` (reference §7.3.1): parse what a source shows and append it, stamped, to that
//! source's file; the result's `Display` is the reference's stdout line. Parser error codes
//! never fail an ingest: a bad pane is stored with its codes.

use serde::Serialize;

use crate::pyfmt::{fmtnum, pct, py_list_repr};
use crate::snapshot::{GlmRow, MeterProvider, Phase, SnapshotRow, SummaryRow};
use crate::store::{TrackerDir, TrackerFile, now_iso};
use crate::window_error::WindowError;
use crate::{CcusageScope, CodexCcusage};

/// What is ingested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IngestSource {
    /// Claude `/usage` pane → `snapshots.jsonl` (needs a phase).
    Claude,
    /// claude-monitor realtime screen → `claude_monitor.jsonl`.
    ClaudeMonitor,
    /// Codex `/status` pane → `snapshots.jsonl` (needs a phase).
    Codex,
    /// Codex ccusage JSON → `codex_ccusage.jsonl`.
    CodexCcusage,
    /// GLM prompt counts JSON → `glm_counts.jsonl`.
    Glm,
    /// Proxy telemetry JSONL → `proxy_telemetry.jsonl`.
    ProxyTelemetry,
}

impl IngestSource {
    /// Every source, in the reference's (sorted) order.
    pub const ALL: [IngestSource; 6] = [
        IngestSource::Claude,
        IngestSource::ClaudeMonitor,
        IngestSource::Codex,
        IngestSource::CodexCcusage,
        IngestSource::Glm,
        IngestSource::ProxyTelemetry,
    ];

    /// Its name on the command line and in rows.
    pub fn as_str(self) -> &'static str {
        match self {
            IngestSource::Claude => "claude",
            IngestSource::ClaudeMonitor => "claude-monitor",
            IngestSource::Codex => "codex",
            IngestSource::CodexCcusage => "codex-ccusage",
            IngestSource::Glm => "glm",
            IngestSource::ProxyTelemetry => "proxy-telemetry",
        }
    }

    /// Whether it is a meter snapshot (needs a phase).
    pub fn needs_phase(self) -> bool {
        matches!(self, IngestSource::Claude | IngestSource::Codex)
    }
}

/// One ingest.
#[derive(Debug, Clone)]
pub struct IngestRequest<'a> {
    /// The source.
    pub source: IngestSource,
    /// The window id.
    pub window: &'a str,
    /// The phase (Codex and Claude only; ignored otherwise).
    pub phase: Option<Phase>,
    /// The input text as read.
    pub text: &'a str,
    /// Free-text notes.
    pub notes: &'a str,
    /// The ccusage scope (codex-ccusage only).
    pub scope: CcusageScope,
}

/// What was stored; `Display` is the reference's stdout line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    /// The file appended to.
    pub file: TrackerFile,
    /// The line the reference prints.
    pub message: String,
}

impl std::fmt::Display for Ingested {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The scope's name as rows write it.
pub fn scope_name(scope: CcusageScope) -> &'static str {
    match scope {
        CcusageScope::Session => "session",
        CcusageScope::Daily => "daily",
        CcusageScope::Weekly => "weekly",
    }
}

/// Parse `req.text` with the source's parser and append the record.
///
/// # Errors
/// [`WindowError::PhaseRequired`] for Codex/Claude without a phase, [`WindowError::Parse`]
/// for input over the parsers' limit, or a store error.
pub fn ingest(dir: &TrackerDir, req: &IngestRequest<'_>) -> Result<Ingested, WindowError> {
    let raw_text = req.text.trim_end();
    let w = req.window;
    let name = req.source.as_str();
    match req.source {
        IngestSource::Codex | IngestSource::Claude => {
            let phase = req.phase.ok_or(WindowError::PhaseRequired)?;
            let (provider, errors) = if req.source == IngestSource::Codex {
                let parsed = crate::parse_codex_status(req.text)?;
                let row = SnapshotRow::now(
                    w,
                    MeterProvider::Codex,
                    phase,
                    req.notes,
                    raw_text,
                    &parsed,
                    "ingest",
                );
                dir.append(TrackerFile::Snapshots, &row)?;
                (MeterProvider::Codex, parsed.errors)
            } else {
                let parsed = crate::parse_claude_usage(req.text)?;
                let row = SnapshotRow::now(
                    w,
                    MeterProvider::Claude,
                    phase,
                    req.notes,
                    raw_text,
                    &parsed,
                    "ingest",
                );
                dir.append(TrackerFile::Snapshots, &row)?;
                (MeterProvider::Claude, parsed.errors)
            };
            Ok(Ingested {
                file: TrackerFile::Snapshots,
                message: format!(
                    "stored {} {} snapshot for {w} (errors={})",
                    provider.as_str(),
                    phase.as_str(),
                    py_list_repr(errors.as_slice())
                ),
            })
        }
        IngestSource::CodexCcusage => {
            let parsed = crate::parse_codex_ccusage(req.text, req.scope)?;
            let (scope, total) = match &parsed {
                CodexCcusage::Sessions(s) => ("session", s.total_tokens),
                CodexCcusage::Daily(d) => ("daily", d.total_tokens),
                CodexCcusage::Weekly(wk) => ("weekly", wk.total_tokens),
            };
            let row = summary(w, name, Some(scope), req.notes, raw_text, &parsed);
            let tokens = fmtnum(total as f64, 2);
            let message = format!("stored codex ccusage {scope} summary for {w} (tokens={tokens})");
            stored(dir, TrackerFile::CodexCcusage, &row, message)
        }
        IngestSource::Glm => {
            let parsed = crate::parse_ccusage_counts(req.text)?;
            let row = GlmRow {
                window: w,
                provider: "glm",
                captured_at: now_iso(),
                notes: req.notes,
                raw_text,
                parsed: &parsed,
                source: "ingest",
                prompts_used: parsed.prompts_used,
            };
            let message =
                format!("stored glm prompts for {w} (prompts={})", fmtnum(parsed.prompts_used, 2));
            stored(dir, TrackerFile::GlmCounts, &row, message)
        }
        IngestSource::ClaudeMonitor => {
            let parsed = crate::parse_claude_monitor_realtime(req.text)?;
            let row = summary(w, name, None, req.notes, raw_text, &parsed);
            let usage = pct(parsed.token_usage_pct, 1);
            let message = format!("stored claude monitor summary for {w} (usage={usage})");
            stored(dir, TrackerFile::ClaudeMonitor, &row, message)
        }
        IngestSource::ProxyTelemetry => {
            let parsed = crate::parse_proxy_telemetry_stream(req.text)?;
            let row = summary(w, name, None, req.notes, raw_text, &parsed);
            let routed = pct(Some(parsed.routed_to_glm_pct), 1);
            let message = format!(
                "stored proxy telemetry for {w} (events={}, routed={routed})",
                parsed.total
            );
            stored(dir, TrackerFile::ProxyTelemetry, &row, message)
        }
    }
}

/// Append `row` to `file` and say so.
fn stored(
    dir: &TrackerDir,
    file: TrackerFile,
    row: &impl Serialize,
    message: String,
) -> Result<Ingested, WindowError> {
    dir.append(file, row)?;
    Ok(Ingested { file, message })
}

fn summary<'a, P: Serialize>(
    window: &'a str,
    provider: &'a str,
    scope: Option<&'a str>,
    notes: &'a str,
    raw_text: &'a str,
    parsed: &'a P,
) -> SummaryRow<'a, P> {
    SummaryRow {
        window,
        provider,
        scope,
        captured_at: now_iso(),
        notes,
        raw_text,
        parsed,
        source: "ingest",
    }
}
