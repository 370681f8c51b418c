//! What a CCC log backfill found and did: request counts by outcome, model and UTC day, the
//! lines it could not use (`file:line: reason`) and what happened to each file.

use std::collections::BTreeMap;

use serde::Serialize;

use super::event::day;
use super::join::{End, LineCounts, Request};
use crate::record::Diagnostic;

/// At most this many bad lines and files are listed (the counts are exact).
pub const MAX_LISTED: usize = 50;

/// Per model.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ModelCounts {
    /// Requests.
    pub requests: u64,
    /// Of those, failed (no completion, an error status, a stream error or idle timeout).
    pub failed: u64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
}

/// What happened to one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileReport {
    /// The path.
    pub path: String,
    /// `new`, `appended`, `rotated` (a renamed file resumed where it was left), `rewritten`,
    /// `unchanged` (skipped: a stat told), `copy` (byte-identical to another file, or a link
    /// to a file read by another path), `unreadable`, `skipped` (not a regular file).
    pub action: &'static str,
    /// Lines read from it.
    pub lines: u64,
    /// Why it was skipped, or what is special about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The report of one backfill run (counts of the requests this run wrote).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CcpReport {
    /// Requests written (one turn event each).
    pub requests: u64,
    /// Requests that completed (a completion line without an error).
    pub completed: u64,
    /// Requests that failed: `no_completion` + `error_status`.
    pub failed: u64,
    /// Decision without completion (dial error, JSON/header timeout: the client got 502).
    pub no_completion: u64,
    /// Completions with an error status (≥ 400), a stream error or an idle timeout.
    pub error_status: u64,
    /// Fallback decision lines of the requests written.
    pub fallbacks: u64,
    /// Requests answered by a fallback whose logged status is the first attempt's (bug B1):
    /// their client status is unknown.
    pub fallback_status_unknown: u64,
    /// Completed requests with 0 tokens in and out: tokens unknown (empty bodies, B8;
    /// streams without usage headers, B3), not free requests.
    pub tokens_unknown: u64,
    /// Completions whose decision line was never seen (counted as requests).
    pub no_decision: u64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Per model.
    pub by_model: BTreeMap<String, ModelCounts>,
    /// Requests per UTC date of their decision.
    pub by_day: BTreeMap<String, u64>,
    /// Requests before `--since`, not written.
    pub before_since: u64,
    /// Decisions younger than the join window at the end of the run, kept for the next run.
    pub pending: u64,
    /// Lines read (blank ones included).
    pub lines: u64,
    /// Blank lines.
    pub blank_lines: u64,
    /// Decision lines (first attempts) read.
    pub decision_lines: u64,
    /// Fallback decision lines read.
    pub fallback_lines: u64,
    /// Stream placeholder lines read (never requests).
    pub placeholder_lines: u64,
    /// Completion lines read.
    pub completion_lines: u64,
    /// Lines already seen (copies, re-reads), dropped.
    pub duplicate_lines: u64,
    /// Fallback lines without their decision, dropped.
    pub orphan_lines: u64,
    /// Lines that could not be (fully) used.
    pub bad_lines: u64,
    /// `file:line: reason`, up to [`MAX_LISTED`].
    pub bad: Vec<String>,
    /// Files byte-identical to another file (tag snapshots): nothing in them counted again.
    pub duplicate_files: u64,
    /// Files found.
    pub files_seen: u64,
    /// Files read (new, appended, rotated, rewritten, or a byte-identical copy of another).
    pub files_read: u64,
    /// Files skipped (unchanged or unreadable).
    pub files_skipped: u64,
    /// Each file and what was done with it (or why it was skipped), up to [`MAX_LISTED`].
    pub files: Vec<FileReport>,
    /// Events written.
    pub events: u64,
    /// What `results/` holds (listed, not counted as requests).
    pub results: super::results::CcpResults,
    /// The UTC day number and date of the last request counted.
    #[serde(skip)]
    pub(crate) day_cache: Option<(i64, String)>,
}

impl CcpReport {
    pub(crate) fn bad_line(&mut self, d: &Diagnostic) {
        self.bad_lines += 1;
        if self.bad.len() < MAX_LISTED {
            self.bad.push(d.to_string());
        }
    }

    pub(crate) fn file(&mut self, f: FileReport) {
        if self.files.len() < MAX_LISTED {
            self.files.push(f);
        }
    }

    pub(crate) fn lines(&mut self, c: &LineCounts) {
        self.decision_lines += c.decisions;
        self.fallback_lines += c.fallbacks;
        self.placeholder_lines += c.placeholders;
        self.completion_lines += c.completions;
        self.duplicate_lines += c.duplicate_lines;
        self.orphan_lines += c.orphan_lines;
    }

    /// Count a request written.
    pub(crate) fn request(&mut self, r: &Request) {
        self.requests += 1;
        self.events += 1;
        let failed = match r.end {
            Some(End::NoCompletion) => {
                self.no_completion += 1;
                true
            }
            Some(End::Error) => {
                self.error_status += 1;
                true
            }
            _ => {
                self.completed += 1;
                false
            }
        };
        self.failed += u64::from(failed);
        self.fallbacks += u64::from(r.fallbacks);
        self.fallback_status_unknown += u64::from(r.first_status.is_some());
        self.tokens_unknown += u64::from(r.tokens_unknown);
        self.no_decision += u64::from(r.no_decision);
        self.input_tokens += r.tokens_in;
        self.output_tokens += r.tokens_out;
        let model = if r.model.is_empty() { "unknown" } else { r.model.as_str() };
        let m = match self.by_model.get_mut(model) {
            Some(m) => m,
            None => self.by_model.entry(model.to_owned()).or_default(),
        };
        m.requests += 1;
        m.failed += u64::from(failed);
        m.input_tokens += r.tokens_in;
        m.output_tokens += r.tokens_out;
        let n = r.at_us.div_euclid(86_400_000_000);
        if self.day_cache.as_ref().is_none_or(|c| c.0 != n) {
            self.day_cache = Some((n, day(r.at_us)));
        }
        if let Some((_, d)) = &self.day_cache {
            match self.by_day.get_mut(d) {
                Some(c) => *c += 1,
                None => {
                    self.by_day.insert(d.clone(), 1);
                }
            }
        }
    }
}
