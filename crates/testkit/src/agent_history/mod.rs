//! A realistic Claude Code + Codex history generator with its own exact truth, for the import
//! tests and the import benchmark.
//!
//! [`History::generate`] writes, deterministically from a seed, the files both agents write
//! (`../shared/docs/agent-transcripts.md`): Claude Code session files with 1–3 KB lines, one API
//! response written as several lines that share `message.id`/`requestId` (earlier lines with a
//! partial `output_tokens`), 5-minute/1-hour cache writes, sidechain lines, sub-agent files,
//! resumed sessions that start with verbatim copies of an earlier session's lines, `<synthetic>`
//! API-error lines, `null` optional fields and non-semver versions; Codex rollouts with
//! `session_meta`, model switches in `turn_context`, `response_item`s, cumulative `token_count`
//! events with re-emissions, `info: null` and totals-only sessions.
//!
//! Its truth, [`History::responses`], is every distinct API response once, with the numbers a
//! correct importer reports: Codex input uncached (input − cached), cached input as cache read.
//! [`History::daily`] sums it per day × model in an IANA time zone.
//!
//! ```
//! use agentos_testkit::agent_history::{History, Options};
//! let dir = tempfile_dir();
//! let h = History::generate(&dir.join("claude"), &dir.join("codex"), &Options::with_bytes(200_000))
//!     .unwrap();
//! assert!(h.stats.bytes >= 200_000);
//! let utc = h.daily("UTC").unwrap();
//! let sum: u64 = utc.values().map(|t| t.output).sum();
//! assert_eq!(sum, h.total().output);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # fn tempfile_dir() -> std::path::PathBuf {
//! #     let d = std::env::temp_dir().join(format!("agent-history-doc-{}", std::process::id()));
//! #     std::fs::create_dir_all(&d).unwrap();
//! #     d
//! # }
//! ```

mod claude;
mod codex;
mod rng;
mod truth;
mod write;

#[cfg(test)]
mod tests;

use std::io;
use std::path::{Path, PathBuf};

pub use rng::Rng;
pub use truth::{Tokens, Zone, ZoneError};

use rng::Corpus;

/// Which agent wrote a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Agent {
    /// Claude Code (`projects/**/*.jsonl`).
    ClaudeCode,
    /// Codex CLI (`sessions/YYYY/MM/DD/rollout-*.jsonl`).
    Codex,
}

/// One distinct API response: the truth an exact importer must reproduce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The agent that wrote it.
    pub agent: Agent,
    /// The session it belongs to (Claude: the `sessionId` of the file that first has it;
    /// Codex: `session_meta.payload.id`).
    pub session: String,
    /// The model as the agent wrote it.
    pub model: String,
    /// Its time, Unix seconds (every line of one response lies within this second).
    pub at: i64,
    /// Its tokens.
    pub tokens: Tokens,
}

/// How much to generate and where in time.
#[derive(Clone, Debug)]
pub struct Options {
    /// Seed: the same options and seed give byte-identical files.
    pub seed: u64,
    /// Stop starting new sessions once this many bytes are written.
    pub target_bytes: u64,
    /// First day (UTC) sessions start on, as Unix seconds of its midnight.
    pub start: i64,
    /// How many days the sessions spread over.
    pub days: u32,
    /// Percentage of sessions that are Codex sessions (the rest are Claude Code).
    pub codex_percent: u64,
    /// Write the valid oddities some tools trip over: `null` in optional Claude fields
    /// (`cwd`, `costUSD`) and responses without `requestId` (keyed on `message.id` alone).
    pub quirks: bool,
}

impl Options {
    /// About `bytes` of history from seed 1, over 40 days from 2025-10-01 (across the end of
    /// US daylight saving time), about a fifth of the sessions Codex.
    pub fn with_bytes(bytes: u64) -> Options {
        Options {
            seed: 1,
            target_bytes: bytes,
            start: 1_759_276_800, // 2025-10-01T00:00:00Z
            days: 40,
            codex_percent: 19,
            quirks: true,
        }
    }
}

/// What was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Files written (sub-agent files included).
    pub files: u64,
    /// Lines written.
    pub lines: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Claude Code session files (resumed ones included, sub-agent files not).
    pub claude_sessions: u64,
    /// Sub-agent files.
    pub subagent_files: u64,
    /// Resumed sessions (files that start with copies of an earlier session's lines).
    pub resumed_sessions: u64,
    /// Claude assistant lines with a partial `output_tokens` (a later line of the same
    /// response has the final figure).
    pub streaming_lines: u64,
    /// Lines a resumed session copied verbatim from the session it resumed.
    pub copied_lines: u64,
    /// `<synthetic>` API-error lines.
    pub synthetic_lines: u64,
    /// Codex sessions.
    pub codex_sessions: u64,
    /// Codex sessions that write only `total_token_usage`.
    pub totals_only_sessions: u64,
    /// Codex `token_count` events that repeat the previous total.
    pub reemissions: u64,
}

/// A Claude Code session file the generator wrote (kept to resume or append to it).
#[derive(Clone, Debug)]
pub(crate) struct ClaudeFile {
    pub(crate) path: PathBuf,
    pub(crate) session: String,
    pub(crate) cwd: String,
    pub(crate) branch: String,
    pub(crate) version: String,
    /// Unix milliseconds of its last line.
    pub(crate) last_ms: i64,
    /// `uuid` of its last line (the next line's `parentUuid`).
    pub(crate) last_uuid: String,
}

/// The generator's state between calls.
#[derive(Debug)]
pub(crate) struct Gen {
    pub(crate) rng: Rng,
    pub(crate) corpus: Corpus,
    pub(crate) opts: Options,
    pub(crate) claude_dir: PathBuf,
    pub(crate) codex_home: PathBuf,
    pub(crate) claude_files: Vec<ClaudeFile>,
    pub(crate) sessions: u64,
    pub(crate) codex_index: u64,
}

/// A generated history: the files on disk, what was written, and the truth.
#[derive(Debug)]
pub struct History {
    /// Every distinct API response once, in the order written.
    pub responses: Vec<Response>,
    /// What was written.
    pub stats: Stats,
    pub(crate) g: Gen,
}

impl History {
    /// Write a history into `claude_dir` (`projects/…`) and `codex_home` (`sessions/…`),
    /// sessions until `opts.target_bytes` is reached (at least one of each agent).
    pub fn generate(claude_dir: &Path, codex_home: &Path, opts: &Options) -> io::Result<History> {
        let mut rng = Rng::new(opts.seed);
        let corpus = Corpus::new(&mut rng);
        let mut h = History {
            responses: Vec::new(),
            stats: Stats::default(),
            g: Gen {
                rng,
                corpus,
                opts: opts.clone(),
                claude_dir: claude_dir.to_path_buf(),
                codex_home: codex_home.to_path_buf(),
                claude_files: Vec::new(),
                sessions: 0,
                codex_index: 0,
            },
        };
        while h.stats.bytes < opts.target_bytes || h.stats.codex_sessions == 0 {
            let codex = h.g.sessions == 1 || h.g.rng.chance(opts.codex_percent);
            if codex {
                h.add_codex_session()?;
            } else {
                h.add_claude_session()?;
            }
        }
        Ok(h)
    }

    /// Add one Claude Code session (sometimes resumed from an earlier one, sometimes with
    /// sub-agent files), as a user's next session would.
    pub fn add_claude_session(&mut self) -> io::Result<()> {
        claude::session(self)
    }

    /// Add one Codex session.
    pub fn add_codex_session(&mut self) -> io::Result<()> {
        codex::session(self)
    }

    /// Append `responses` new responses to the `index`-th Claude Code session file written
    /// (modulo their count), as a session still running would. Returns the bytes appended.
    pub fn append_to_claude_session(&mut self, index: usize, responses: u64) -> io::Result<u64> {
        claude::append(self, index, responses)
    }

    /// The Claude Code session files written, in order (sub-agent files not included).
    pub fn claude_files(&self) -> Vec<PathBuf> {
        self.g.claude_files.iter().map(|f| f.path.clone()).collect()
    }

    /// Every response's tokens summed.
    pub fn total(&self) -> Tokens {
        let mut t = Tokens::default();
        for r in &self.responses {
            t.add(&r.tokens);
        }
        t
    }

    /// The truth per (day, model), days in the IANA zone `tz` (`YYYY-MM-DD`).
    pub fn daily(
        &self,
        tz: &str,
    ) -> Result<std::collections::BTreeMap<(String, String), Tokens>, ZoneError> {
        truth::daily(&self.responses, tz)
    }
}
