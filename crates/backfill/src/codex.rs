//! Codex CLI rollouts (`sessions/YYYY/MM/DD/rollout-*.jsonl`): one file per session.
//!
//! `session_meta` names the session (id, cwd, CLI version, git branch and commit);
//! `turn_context` sets the model of the token events after it; `event_msg` lines of type
//! `token_count` carry the session's **cumulative** `total_token_usage` (and, in newer
//! versions, `last_token_usage`). A total that did not change is a re-emission and counts 0;
//! otherwise the delta is `last_token_usage`, or the difference of totals when it is absent.
//! Input is reported uncached (`input_tokens − cached_input_tokens`, the cached part as cache
//! reads); output includes reasoning, as Codex writes it. The key of a response is the
//! session and the cumulative total it brought (exact, so copies dedupe).

use std::io::Read;

use agentos_event_schema::Timestamp;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::events;
use crate::ledger::CodexState;
use crate::lines::{LineReader, MAX_LINE_BYTES, looks_like_object};
use crate::record::{FileOut, Response, SessionMeta, Text, Usage, json_reason};

#[derive(Deserialize)]
struct CodexLine<'a> {
    #[serde(borrow)]
    timestamp: Option<Text<'a>>,
    #[serde(rename = "type", borrow)]
    ty: Option<Text<'a>>,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct SessionMetaPayload<'a> {
    #[serde(borrow)]
    id: Option<Text<'a>>,
    #[serde(borrow)]
    cwd: Option<Text<'a>>,
    #[serde(borrow)]
    cli_version: Option<Text<'a>>,
    git: Option<Git>,
}

#[derive(Deserialize)]
struct Git {
    commit_hash: Option<String>,
    branch: Option<String>,
}

#[derive(Deserialize)]
struct TurnContextPayload<'a> {
    #[serde(borrow)]
    model: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct EventMsgPayload<'a> {
    #[serde(rename = "type", borrow)]
    ty: Option<Text<'a>>,
    #[serde(borrow)]
    info: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Info {
    total_token_usage: Option<TokenUsage>,
    last_token_usage: Option<TokenUsage>,
}

#[derive(Clone, Copy, Deserialize, Default)]
struct TokenUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    cached_input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    reasoning_output_tokens: u64,
    #[serde(default)]
    total_tokens: u64,
}

impl TokenUsage {
    fn to_array(self) -> [u64; 5] {
        [
            self.input_tokens,
            self.cached_input_tokens,
            self.output_tokens,
            self.reasoning_output_tokens,
            self.total_tokens,
        ]
    }
}

fn sub(a: [u64; 5], b: [u64; 5]) -> [u64; 5] {
    std::array::from_fn(|i| a[i].saturating_sub(b[i]))
}

fn add(a: [u64; 5], b: [u64; 5]) -> [u64; 5] {
    std::array::from_fn(|i| a[i].saturating_add(b[i]))
}

/// Necessary condition for a line the reader needs: a usage key (`…usage"`), a
/// `"session_meta"` or `"turn_context"` type, or escapes that could spell any of them. The
/// quotes make text that merely mentions them (its quotes escaped: `\"…\"`) not match. Searchers built once per file.
struct Filter([memchr::memmem::Finder<'static>; 4]);

impl Filter {
    fn new() -> Filter {
        use memchr::memmem::Finder;
        Filter([
            Finder::new(b"usage\""),
            Finder::new(b"\"turn_context\""),
            Finder::new(b"\"session_meta\""),
            Finder::new(b"\\u"),
        ])
    }

    fn may_matter(&self, bytes: &[u8]) -> bool {
        self.0.iter().any(|f| f.find(bytes).is_some())
    }
}

/// Read a Codex rollout's lines from `offset`, resuming with `state` (the previous total,
/// model and session). `fallback_session` names the session until a `session_meta` does.
pub(crate) fn read(
    reader: impl Read,
    name: &str,
    offset: u64,
    first_line: u64,
    mut state: CodexState,
    fallback_session: &str,
    buf: &mut Vec<u8>,
) -> std::io::Result<FileOut> {
    let mut out = FileOut { first_ts: i64::MAX, ..FileOut::default() };
    let mut lines =
        LineReader::with_buffer(reader, offset, first_line, MAX_LINE_BYTES, std::mem::take(buf));
    let filter = Filter::new();
    while let Some(line) = lines.next_line()? {
        let Some((no, bytes)) = out.accept(name, line) else {
            continue;
        };
        if !filter.may_matter(bytes) {
            if !looks_like_object(bytes) {
                out.diagnose(name, no, "not a JSON object");
            }
            continue;
        }
        let l: CodexLine<'_> = match serde_json::from_slice(bytes) {
            Ok(l) => l,
            Err(e) => {
                out.diagnose(name, no, json_reason(&e));
                continue;
            }
        };
        let Some(payload) = l.payload else { continue };
        match l.ty.as_deref() {
            Some("session_meta") => {
                match serde_json::from_str::<SessionMetaPayload<'_>>(payload.get()) {
                    Ok(p) => {
                        if let Some(id) = p.id.filter(|s| !s.is_empty()) {
                            state.session = Some(id.0.into_owned());
                        }
                        state.cwd = p.cwd.map(|t| t.0.into_owned()).or(state.cwd);
                        state.cli_version =
                            p.cli_version.map(|t| t.0.into_owned()).or(state.cli_version);
                        if let Some(git) = p.git {
                            state.branch = git.branch.or(state.branch);
                            state.commit = git.commit_hash.or(state.commit);
                        }
                    }
                    Err(e) => out.diagnose(name, no, format!("session_meta: {}", json_reason(&e))),
                }
            }
            Some("turn_context") => {
                match serde_json::from_str::<TurnContextPayload<'_>>(payload.get()) {
                    Ok(p) => {
                        if let Some(m) = p.model.filter(|m| !m.is_empty()) {
                            state.model = Some(m.0.into_owned());
                        }
                    }
                    Err(e) => out.diagnose(name, no, format!("turn_context: {}", json_reason(&e))),
                }
            }
            Some("event_msg") => {
                let p = match serde_json::from_str::<EventMsgPayload<'_>>(payload.get()) {
                    Ok(p) => p,
                    Err(e) => {
                        out.diagnose(name, no, format!("event_msg: {}", json_reason(&e)));
                        continue;
                    }
                };
                if p.ty.as_deref() != Some("token_count") {
                    continue;
                }
                let Some(info) = p.info.filter(|i| i.get() != "null") else { continue };
                let info: Info = match serde_json::from_str(info.get()) {
                    Ok(i) => i,
                    Err(e) => {
                        out.diagnose(name, no, format!("token_count: {}", json_reason(&e)));
                        continue;
                    }
                };
                out.usage_lines += 1;
                let last = info.last_token_usage.map(TokenUsage::to_array);
                let total = match (info.total_token_usage.map(TokenUsage::to_array), last) {
                    (Some(t), _) => t,
                    // No cumulative figure: the running total is ours to keep.
                    (None, Some(l)) => add(state.total.unwrap_or_default(), l),
                    (None, None) => continue,
                };
                if state.total == Some(total) {
                    // A re-emission: the session's total did not move.
                    out.accepted += 1;
                    continue;
                }
                let delta = match last {
                    Some(l) => l,
                    None => sub(total, state.total.unwrap_or_default()),
                };
                state.total = Some(total);
                let Some(ts) = l.timestamp.as_deref().and_then(|t| t.parse::<Timestamp>().ok())
                else {
                    out.diagnose(name, no, "missing or invalid timestamp");
                    continue;
                };
                let ts = ts.as_unix_micros();
                let [input, cached, output, _reasoning, _total] = delta;
                let usage = Usage {
                    input: input.saturating_sub(cached),
                    output,
                    cache_write: 0,
                    cache_write_1h: 0,
                    cache_read: cached.min(input),
                };
                if usage.is_zero() {
                    continue;
                }
                let sid = state.session.clone().unwrap_or_else(|| fallback_session.to_owned());
                let mut key_bytes = Vec::with_capacity(64);
                for v in total {
                    key_bytes.extend_from_slice(&v.to_le_bytes());
                }
                let key = events::key128(&[b"codex", sid.as_bytes(), &key_bytes]);
                let session = out.session_index(SessionMeta {
                    id: sid,
                    cwd: state.cwd.clone(),
                    branch: state.branch.clone(),
                    version: state.cli_version.clone(),
                    commit: state.commit.clone(),
                });
                let model = state.model.as_deref().unwrap_or("unknown");
                out.first_ts = out.first_ts.min(ts);
                out.accepted += 1;
                let r = Response {
                    key,
                    usage,
                    ts,
                    first_ts: ts,
                    cost: None,
                    model: out.strings.intern(model),
                    subagent: out.strings.intern("main"),
                    session,
                    sidechain: false,
                };
                out.responses.push(r);
            }
            _ => {}
        }
    }
    out.responses.shrink_to_fit();
    out.consumed = lines.consumed();
    out.next_line = lines.next_line_no();
    *buf = lines.into_buffer();
    out.codex = Some(state);
    Ok(out)
}
