//! What the per-file readers yield: compact, fixed-size response records plus the few strings
//! they point to (models, sub-agents, sessions), and the file's diagnostics. No transcript text
//! is ever held here: only numbers and identifiers.

use std::collections::HashMap;

use crate::Agent;
use crate::lines::{Line, is_blank};

/// Token counts of one API response, in AgentOS's columns: `input` is uncached input, cache
/// writes (`cache_write`, of which `cache_write_1h` with a 1-hour lifetime) and reads apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub input: u64,
    pub output: u64,
    pub cache_write: u64,
    pub cache_write_1h: u64,
    pub cache_read: u64,
}

impl Usage {
    /// All tokens (the 1-hour writes are part of `cache_write`).
    pub fn total(&self) -> u128 {
        self.input as u128
            + self.output as u128
            + self.cache_write as u128
            + self.cache_read as u128
    }

    /// Whether `self` is a larger reading of the same response than `other`: more tokens in
    /// all, or as many and more output.
    pub fn larger_than(&self, other: &Usage) -> bool {
        (self.total(), self.output) > (other.total(), other.output)
    }

    /// Per field, what `self` has beyond `other` (0 where it has less).
    pub fn increase_over(&self, other: &Usage) -> Usage {
        Usage {
            input: self.input.saturating_sub(other.input),
            output: self.output.saturating_sub(other.output),
            cache_write: self.cache_write.saturating_sub(other.cache_write),
            cache_write_1h: self.cache_write_1h.saturating_sub(other.cache_write_1h),
            cache_read: self.cache_read.saturating_sub(other.cache_read),
        }
    }

    /// Per field, the larger of the two.
    pub fn max_each(&self, other: &Usage) -> Usage {
        Usage {
            input: self.input.max(other.input),
            output: self.output.max(other.output),
            cache_write: self.cache_write.max(other.cache_write),
            cache_write_1h: self.cache_write_1h.max(other.cache_write_1h),
            cache_read: self.cache_read.max(other.cache_read),
        }
    }

    /// Whether every count is zero.
    pub fn is_zero(&self) -> bool {
        self.total() == 0
    }
}

/// One API response as read from one line (after the per-file dedupe).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Response {
    /// Dedupe key: 128 bits of SHA-256 over the agent and the response's source identity.
    pub key: u128,
    /// The largest usage seen for the key.
    pub usage: Usage,
    /// Time of the line that carried that usage (µs since the epoch).
    pub ts: i64,
    /// Earliest time the key was seen (decides the session a copy belongs to).
    pub first_ts: i64,
    /// `costUSD` of the kept line, when it had one.
    pub cost: Option<f64>,
    /// Index into [`FileOut::strings`].
    pub model: u32,
    /// Index into [`FileOut::strings`].
    pub subagent: u32,
    /// Index into [`FileOut::sessions`].
    pub session: u32,
    /// Whether a sub-agent made the call.
    pub sidechain: bool,
}

impl Response {
    /// Fold another reading of the same key into this one: the largest usage wins (Claude
    /// only: Codex keys are exact, the first reading stays), the earliest reading decides the
    /// session. `self_rank`/`other_rank` order equal times (the file read first wins).
    pub fn merge(&mut self, other: &Response, agent: Agent, self_rank: u64, other_rank: u64) {
        if agent == Agent::ClaudeCode && other.usage.larger_than(&self.usage) {
            self.usage = other.usage;
            self.ts = other.ts;
            self.cost = other.cost;
            self.model = other.model;
            self.subagent = other.subagent;
            self.sidechain = other.sidechain;
        }
        if (other.first_ts, other_rank) < (self.first_ts, self_rank) {
            self.first_ts = other.first_ts;
            self.session = other.session;
        }
    }
}

/// The agent's view of a session, as far as one file tells it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SessionMeta {
    pub id: String,
    pub cwd: Option<String>,
    pub branch: Option<String>,
    pub version: Option<String>,
    pub commit: Option<String>,
}

impl SessionMeta {
    /// Fill what `self` lacks from `other`.
    pub fn fill_from(&mut self, other: &SessionMeta) {
        for (mine, theirs) in [
            (&mut self.cwd, &other.cwd),
            (&mut self.branch, &other.branch),
            (&mut self.version, &other.version),
            (&mut self.commit, &other.commit),
        ] {
            if mine.is_none() {
                mine.clone_from(theirs);
            }
        }
    }
}

/// Small string table (model and sub-agent names).
#[derive(Debug, Default)]
pub(crate) struct Strings {
    pub list: Vec<String>,
    map: HashMap<String, u32>,
}

impl Strings {
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(s.to_owned());
        self.map.insert(s.to_owned(), i);
        i
    }

    pub fn get(&self, i: u32) -> &str {
        self.list.get(i as usize).map_or("", String::as_str)
    }
}

/// A line skipped with a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The source file.
    pub file: String,
    /// 1-based line number (0: the whole file).
    pub line: u64,
    /// Why (never any of the line's text).
    pub reason: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.reason)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.reason)
        }
    }
}

/// Keep at most this many diagnostics per file (the count is always exact).
pub(crate) const DIAGNOSTICS_PER_FILE: usize = 20;

/// Everything one file's new bytes yielded.
#[derive(Debug, Default)]
pub(crate) struct FileOut {
    pub strings: Strings,
    pub sessions: Vec<SessionMeta>,
    pub responses: Vec<Response>,
    pub diagnostics: Vec<Diagnostic>,
    pub malformed: u64,
    pub lines: u64,
    pub blank: u64,
    pub synthetic: u64,
    /// Lines with usage (before any dedupe).
    pub usage_lines: u64,
    /// Readings of a response accepted (before any dedupe; Codex re-emissions included).
    pub accepted: u64,
    pub bytes: u64,
    /// Offset and line number to resume from.
    pub consumed: u64,
    pub next_line: u64,
    /// Earliest response time in the file (ranks files for copies with equal times).
    pub first_ts: i64,
    /// Codex parse state to resume with.
    pub codex: Option<crate::ledger::CodexState>,
}

impl FileOut {
    /// Count a line read and hand back what to parse: `None` for an over-long or torn line
    /// (reported here) and for a blank one (counted).
    pub fn accept<'b>(&mut self, file: &str, line: Line<'b>) -> Option<(u64, &'b [u8])> {
        match line {
            Line::Full { no, bytes } => {
                self.lines += 1;
                self.bytes += bytes.len() as u64 + 1;
                if is_blank(bytes) {
                    self.blank += 1;
                    return None;
                }
                Some((no, bytes))
            }
            Line::TooLong { no, len } => {
                self.lines += 1;
                self.bytes += len + 1;
                self.diagnose(file, no, format!("line of {len} bytes is over the limit, skipped"));
                None
            }
            Line::Torn { no, .. } => {
                self.diagnose(file, no, "incomplete last line (read again once it is complete)");
                None
            }
        }
    }

    pub fn diagnose(&mut self, file: &str, line: u64, reason: impl Into<String>) {
        self.malformed += 1;
        if self.diagnostics.len() < DIAGNOSTICS_PER_FILE {
            self.diagnostics.push(Diagnostic {
                file: file.to_owned(),
                line,
                reason: reason.into(),
            });
        }
    }

    pub fn session_index(&mut self, meta: SessionMeta) -> u32 {
        if let Some(i) = self.sessions.iter().position(|s| s.id == meta.id) {
            self.sessions[i].fill_from(&meta);
            return i as u32;
        }
        self.sessions.push(meta);
        (self.sessions.len() - 1) as u32
    }
}

/// Why `serde_json` refused a line, without quoting any of it.
pub(crate) fn json_reason(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => "truncated JSON (the line ends mid-value)".to_owned(),
        Category::Syntax => format!("not valid JSON (syntax error at column {})", e.column()),
        Category::Data => format!("unexpected JSON shape at column {}", e.column()),
        Category::Io => "read error".to_owned(),
    }
}

/// A JSON string borrowed from the line when it has no escapes (serde's own `Cow<str>`
/// borrows only as a direct field, never inside `Option`): parsing a line allocates nothing
/// for its identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub std::borrow::Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Text(std::borrow::Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Text(std::borrow::Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(Text(std::borrow::Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}
