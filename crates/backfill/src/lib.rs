//! Backfill: turn agent history already on disk into AgentOS v1 events, incrementally and
//! idempotently (running it twice changes nothing).
//!
//! What it is for: [`prepare`] reads Claude Code transcripts and Codex rollouts
//! ([`discover`] finds them) and plans one `session` event per agent session and one `turn`
//! event per API response, counted exactly as `docs/import.md` says (global dedupe keeping the
//! largest usage, Codex cumulative totals turned into deltas, `<synthetic>` skipped). The
//! caller appends [`Pending::write_events`]'s lines to its event log, then
//! [`Pending::commit`]s the ledger and the dedupe index atomically. Event ids derive from the
//! source, so a crash between the two only repeats ids, which readers drop.
//!
//! What it keeps: per source file a ledger entry (identity, size, fingerprint of its first
//! bytes, bytes consumed, parse state) so a re-run reads only appended bytes and skips
//! unchanged files by a stat alone; and a compact binary index of every response imported (a sorted base searched in place plus an
//! append-only log of changes, so a small run costs what it adds).
//! The tolerant bounded line reader ([`lines`]) and the ledger are shared with the backfill of
//! CCC's own logs ([`ccp`]: `usage.jsonl`, its rotations, archives and copies), which keeps
//! its request keys by day instead.
//!
//! What it is not: it never copies transcript text (prompts, tool output, file contents) into
//! anything it returns or writes: only numbers and identifiers. It prints nothing, does not
//! write the event log itself and uploads nothing.
#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod agentos_py;
pub mod ccp;
mod claude;
mod codex;
mod dedupe;
pub mod discover;
mod error;
mod events;
#[doc(hidden)]
pub mod fuzzing;
mod indexfile;
mod ledger;
mod line;
pub mod lines;
mod received;
mod record;
mod run;
mod spool;

pub use agentos_event_schema::v1::PrivacyTier;
pub use error::Error;
pub use record::Diagnostic;
pub use run::{Options, Pending, Progress, Report, Sources, prepare};

/// A coding agent whose history can be imported.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Agent {
    /// Claude Code (`claude-code`).
    ClaudeCode,
    /// OpenAI's Codex CLI (`codex`).
    Codex,
}

impl Agent {
    /// The name written in `session.agent`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Agent::ClaudeCode => "claude-code",
            Agent::Codex => "codex",
        }
    }

    fn code(self) -> u8 {
        match self {
            Agent::ClaudeCode => 1,
            Agent::Codex => 2,
        }
    }

    fn from_code(c: u8) -> Option<Agent> {
        match c {
            1 => Some(Agent::ClaudeCode),
            2 => Some(Agent::Codex),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
