//! Claude Code transcripts (`projects/<dir>/<session>.jsonl` and sub-agent files
//! `projects/<dir>/<session>/subagents/*.jsonl`): one API response per
//! (`message.id`, `requestId`), counted from `assistant` lines that carry `message.usage`.
//!
//! A response is written as several lines (one per content block, earlier ones with partial
//! output while it streams): within the file the line with the largest usage is kept, and the
//! global dedupe ([`crate::dedupe`]) does the same across files and runs. API-error
//! placeholders (`<synthetic>` model, `isApiErrorMessage`) are skipped. Content is never read
//! into memory beyond the line buffer: it is skipped by the parser ([`serde::de::IgnoredAny`]).

use std::collections::HashMap;
use std::io::Read;

use agentos_event_schema::Timestamp;
use serde::Deserialize;

use crate::lines::{LineReader, MAX_LINE_BYTES, looks_like_object};
use crate::record::{FileOut, Response, SessionMeta, Text, Usage, json_reason};
use crate::{Agent, events};

#[derive(Deserialize)]
struct ClaudeLine<'a> {
    #[serde(rename = "type", borrow)]
    ty: Option<Text<'a>>,
    #[serde(borrow)]
    timestamp: Option<Text<'a>>,
    #[serde(rename = "sessionId", borrow)]
    session_id: Option<Text<'a>>,
    #[serde(borrow)]
    cwd: Option<Text<'a>>,
    #[serde(rename = "gitBranch", borrow)]
    git_branch: Option<Text<'a>>,
    #[serde(borrow)]
    version: Option<Text<'a>>,
    #[serde(rename = "requestId", borrow)]
    request_id: Option<Text<'a>>,
    #[serde(rename = "agentId", borrow)]
    agent_id: Option<Text<'a>>,
    #[serde(rename = "isSidechain")]
    is_sidechain: Option<bool>,
    #[serde(rename = "isApiErrorMessage")]
    is_api_error: Option<bool>,
    #[serde(rename = "costUSD")]
    cost_usd: Option<f64>,
    #[serde(borrow)]
    uuid: Option<Text<'a>>,
    #[serde(borrow)]
    message: Option<Message<'a>>,
}

/// Only the line's type: what a line that does not parse as [`ClaudeLine`] is checked for
/// (a `message` of another shape in a line type that never counts is not an error).
#[derive(Deserialize)]
struct TypeOnly<'a> {
    #[serde(rename = "type", borrow)]
    ty: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    id: Option<Text<'a>>,
    #[serde(borrow)]
    model: Option<Text<'a>>,
    usage: Option<ClaudeUsage>,
}

#[derive(Deserialize)]
struct ClaudeUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_creation: Option<CacheCreation>,
}

#[derive(Deserialize)]
struct CacheCreation {
    ephemeral_1h_input_tokens: Option<u64>,
}

/// Whether a line can carry a usage key: it must contain the bytes `"usage"` (quotes
/// included: inside a string value a quote is always escaped, so text that merely mentions
/// usage, written `\"usage\"`, does not match), unless JSON escapes (`\u…`) could spell them
/// otherwise. Never drops a usage line; lets the parser skip the many lines (tool results,
/// prompts, text about usage) that cannot count.
pub(crate) fn may_carry_usage(f: &Finders, bytes: &[u8]) -> bool {
    f.usage.find(bytes).is_some() || f.escape.find(bytes).is_some()
}

/// The byte searchers, built once per file.
pub(crate) struct Finders {
    usage: memchr::memmem::Finder<'static>,
    escape: memchr::memmem::Finder<'static>,
}

impl Finders {
    pub(crate) fn new() -> Finders {
        Finders {
            usage: memchr::memmem::Finder::new(b"\"usage\""),
            escape: memchr::memmem::Finder::new(b"\\u"),
        }
    }
}

/// Read a Claude Code file's lines from `offset` (line number `first_line`). `fallback_session`
/// names the session when a line has no `sessionId`.
pub(crate) fn read(
    reader: impl Read,
    name: &str,
    offset: u64,
    first_line: u64,
    fallback_session: &str,
    buf: &mut Vec<u8>,
) -> std::io::Result<FileOut> {
    let mut out = FileOut { first_ts: i64::MAX, ..FileOut::default() };
    let mut by_key: HashMap<u128, usize> = HashMap::new();
    let mut lines =
        LineReader::with_buffer(reader, offset, first_line, MAX_LINE_BYTES, std::mem::take(buf));
    let finders = Finders::new();
    while let Some(line) = lines.next_line()? {
        let Some((no, bytes)) = out.accept(name, line) else {
            continue;
        };
        if !may_carry_usage(&finders, bytes) {
            if !looks_like_object(bytes) {
                out.diagnose(name, no, "not a JSON object");
            }
            continue;
        }
        let l: ClaudeLine<'_> = match serde_json::from_slice(bytes) {
            Ok(l) => l,
            Err(e) => {
                let other_type = serde_json::from_slice::<TypeOnly<'_>>(bytes)
                    .is_ok_and(|t| t.ty.as_deref() != Some("assistant"));
                if !other_type {
                    out.diagnose(name, no, json_reason(&e));
                }
                continue;
            }
        };
        if l.ty.as_deref() != Some("assistant") {
            continue;
        }
        let Some(m) = l.message else { continue };
        let Some(u) = m.usage else { continue };
        out.usage_lines += 1;
        let model = m.model.as_deref().unwrap_or("unknown");
        if model == "<synthetic>" || l.is_api_error == Some(true) {
            out.synthetic += 1;
            continue;
        }
        let key = match (&m.id, &l.uuid) {
            (Some(id), _) => {
                let rid = l.request_id.as_deref().unwrap_or("");
                events::key128(&[b"claude-code", id.as_bytes(), rid.as_bytes()])
            }
            (None, Some(uuid)) => events::key128(&[b"claude-code/uuid", uuid.as_bytes()]),
            (None, None) => {
                out.diagnose(name, no, "assistant usage without message.id or uuid, skipped");
                continue;
            }
        };
        let Some(ts) = l.timestamp.as_deref().and_then(|t| t.parse::<Timestamp>().ok()) else {
            out.diagnose(name, no, "missing or invalid timestamp");
            continue;
        };
        let ts = ts.as_unix_micros();
        let usage = Usage {
            input: u.input_tokens.unwrap_or(0),
            output: u.output_tokens.unwrap_or(0),
            cache_write: u.cache_creation_input_tokens.unwrap_or(0),
            cache_write_1h: u.cache_creation.and_then(|c| c.ephemeral_1h_input_tokens).unwrap_or(0),
            cache_read: u.cache_read_input_tokens.unwrap_or(0),
        };
        let sid = l.session_id.as_deref().filter(|s| !s.is_empty()).unwrap_or(fallback_session);
        let session = match out.sessions.iter().position(|m| m.id == sid) {
            // Known, with its facts: no allocation per line.
            Some(i) if out.sessions[i].cwd.is_some() || l.cwd.is_none() => i as u32,
            _ => out.session_index(SessionMeta {
                id: sid.to_owned(),
                cwd: l.cwd.map(|t| t.0.into_owned()),
                branch: l.git_branch.map(|t| t.0.into_owned()),
                version: l.version.map(|t| t.0.into_owned()),
                commit: None,
            }),
        };
        let sidechain = l.is_sidechain.unwrap_or(false);
        let subagent = match l.agent_id.as_deref() {
            Some(a) if !a.is_empty() => a,
            _ => "main",
        };
        let r = Response {
            key,
            usage,
            ts,
            first_ts: ts,
            cost: l.cost_usd.filter(|c| c.is_finite() && *c >= 0.0),
            model: out.strings.intern(model),
            subagent: out.strings.intern(subagent),
            session,
            sidechain,
        };
        out.first_ts = out.first_ts.min(ts);
        out.accepted += 1;
        match by_key.get(&key) {
            Some(&i) => out.responses[i].merge(&r, Agent::ClaudeCode, 0, 0),
            None => {
                by_key.insert(key, out.responses.len());
                out.responses.push(r);
            }
        }
    }
    out.responses.shrink_to_fit();
    out.consumed = lines.consumed();
    out.next_line = lines.next_line_no();
    *buf = lines.into_buffer();
    Ok(out)
}
