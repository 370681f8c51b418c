//! Entry points for the fuzz targets in `fuzz/` (not part of the API; hidden from the docs):
//! the Claude Code and Codex transcript readers and the CCC log line classifier over bytes.

use crate::ccp::parse::parse_line;
use crate::ledger::CodexState;

/// What a reader made of some bytes: responses, sessions and diagnostics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Responses read (before any dedupe).
    pub responses: usize,
    /// Sessions seen.
    pub sessions: usize,
    /// Diagnostics kept.
    pub diagnostics: usize,
    /// Bytes consumed (complete lines).
    pub consumed: u64,
}

fn counts(out: &crate::record::FileOut) -> Counts {
    Counts {
        responses: out.responses.len(),
        sessions: out.sessions.len(),
        diagnostics: out.diagnostics.len(),
        consumed: out.consumed,
    }
}

/// Read `bytes` as a Claude Code transcript (`fuzz/fuzz_targets/claude_lines.rs`).
pub fn claude_file(bytes: &[u8]) -> std::io::Result<Counts> {
    let mut buf = Vec::new();
    let out = crate::claude::read(bytes, "f.jsonl", 0, 1, "s", &mut buf)?;
    Ok(counts(&out))
}

/// Read `bytes` as a Codex rollout (`fuzz/fuzz_targets/codex_lines.rs`).
pub fn codex_file(bytes: &[u8]) -> std::io::Result<Counts> {
    let mut buf = Vec::new();
    let out = crate::codex::read(bytes, "f.jsonl", 0, 1, CodexState::default(), "s", &mut buf)?;
    Ok(counts(&out))
}

/// Whether the lean scanner reads the line as serde does (`fuzz/fuzz_targets/ccp_line.rs`):
/// what it accepts, first learning the key order and then predicting it, must be serde's one
/// record, field for field.
pub fn ccp_fast_agrees(bytes: &[u8]) -> bool {
    use crate::ccp::fast::KeyOrder;
    use crate::ccp::parse::fast_record;
    let Ok(line) = std::str::from_utf8(bytes) else { return true };
    let mut keys = KeyOrder::default();
    let learned = fast_record(line, &mut keys).map(|r| format!("{r:?}"));
    let predicted = fast_record(line, &mut keys).map(|r| format!("{r:?}"));
    if learned != predicted {
        return false;
    }
    let Some(fast) = learned else { return true };
    let parsed = parse_line(bytes);
    parsed.problem.is_none()
        && parsed.recs.len() == 1
        && parsed.recs.first().map(|r| format!("{r:?}")) == Some(fast)
}

/// Classify every usage record on one CCC log line: the kinds (as `Debug` names), whether the
/// line had a problem, and the problem text (`fuzz/fuzz_targets/ccp_line.rs`).
pub fn ccp_line(bytes: &[u8]) -> (Vec<String>, Option<String>) {
    let parsed = parse_line(bytes);
    let kinds = parsed.recs.iter().map(|r| format!("{:?}", r.kind())).collect();
    (kinds, parsed.problem)
}
