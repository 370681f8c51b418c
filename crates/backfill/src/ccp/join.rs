//! Joining a request's lines (contract §3.1, §6.6): one request = its decision line (+ any
//! fallback decisions) + its completion, keyed by `rid` and the decision's `ts`, because rids
//! repeat over long histories. A completion attaches to the latest open decision of its rid
//! no later than itself and at most [`JOIN_WINDOW_SECS`] before it. A decision whose file has
//! moved more than the window past it without a completion is a failed request (CCP writes
//! only the decision on dial errors and JSON/header timeouts: the client got 502). Only the
//! decisions of the last window are held, so memory does not grow with the history.
//!
//! Exact duplicates (rotations read again, archive moves, byte-identical tag snapshots) count
//! once: a decision already open or already seen ([`Seen`]) only swallows its
//! later lines; a completion or fallback line seen before is dropped.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::parse::{Kind, Rec, is_fallback_reason};
use super::reader::Pre;
use super::seen::Seen;
use super::sym::{Interner, Sym};
use crate::{Error, events};

/// How long after its decision a request's completion may come (streams included).
pub const JOIN_WINDOW_SECS: i64 = 1800;

/// Decisions one second after their completion still join (CCP's clocks are one process's,
/// but concurrent writers may interleave lines within a second).
const SKEW_US: i64 = 1_000_000;

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum End {
    /// A completion with a success status.
    Completed,
    /// A completion with an error status (≥ 400) or a stream error / idle timeout.
    Error,
    /// Only the decision was written (dial error, timeout): the client got 502.
    NoCompletion,
}

/// One reconstructed request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Request {
    /// Dedupe key: of the decision line, or of the completion when no decision was seen.
    pub key: u128,
    /// Key of the completion line, once joined (remembered too: a re-read completion whose
    /// decision is not read again is then still known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_key: Option<u128>,
    pub rid: Sym,
    /// Decision time (completion time without a decision), µs.
    pub at_us: i64,
    /// Completion time (the decision's without one), µs.
    pub end_us: i64,
    pub model: Sym,
    /// Final lane (after fallbacks).
    pub lane: Sym,
    pub upstream: Sym,
    pub op: Sym,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    pub stream_ms: Option<f64>,
    /// The status the client got, when the log tells it (not on B1 fallbacks, not without
    /// a completion).
    pub status: Option<i64>,
    /// On a fallback completion (bug B1): the logged status, which is the first attempt's.
    pub first_status: Option<i64>,
    pub err_type: Sym,
    pub fallbacks: u32,
    /// Fallback line times seen (dedupes copies of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback_ts: Vec<u64>,
    pub end: Option<End>,
    /// A success with 0 tokens in and out: the tokens are unknown (B8 empty bodies, B3 streams).
    pub tokens_unknown: bool,
    /// A completion whose decision line was never seen (e.g. rotated away).
    pub no_decision: bool,
    pub decision: Sym,
    pub reroute_mode: Option<Sym>,
    pub reroute_decision: Option<Sym>,
    pub preferred_attempt: Option<bool>,
    pub warn_pct_cfg: Option<f64>,
    pub warn_pct_auto: Option<f64>,
    pub warn_pct_confidence: Option<f64>,
    pub gap_seconds_p50: Option<f64>,
    pub gap_seconds_p95: Option<f64>,
    pub gap_samples: Option<f64>,
}

/// Requests finished by the join, in order, on their way to be counted and written.
#[allow(
    clippy::vec_box,
    reason = "a request is about 400 bytes, moved several times on its way to the writer: a pointer moves instead"
)]
pub(crate) type Finished = Vec<Box<Request>>;

/// A decision waiting for its completion.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Open {
    pub req: Box<Request>,
    /// Already imported (a copy): its lines are swallowed, nothing is emitted.
    pub known: bool,
    /// The file it came from in this run (`u32::MAX`: an earlier file or run).
    #[serde(skip, default = "carried")]
    pub file: u32,
}

fn carried() -> u32 {
    u32::MAX
}

/// What the joiner did with lines, for the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LineCounts {
    pub decisions: u64,
    pub fallbacks: u64,
    pub placeholders: u64,
    pub completions: u64,
    /// Lines already seen (copies), dropped.
    pub duplicate_lines: u64,
    /// Fallback lines without an open decision, dropped.
    pub orphan_lines: u64,
}

/// FxHash (rustc's): the keys (rids, model names, days) come from local files, SipHash's DoS
/// resistance buys nothing here and costs a fifth of a lookup.
#[derive(Default)]
pub(crate) struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type RidMap<V> = HashMap<Sym, V, std::hash::BuildHasherDefault<FxHasher>>;

/// The join state.
#[derive(Debug, Default)]
pub(crate) struct Joiner {
    /// The open decisions by rid: almost always one, held in the map's slot.
    opens: RidMap<SmallVec<[Open; 1]>>,
    /// The current file's decisions in file order, for expiry.
    queue: VecDeque<(i64, u128, Sym)>,
    window_us: i64,
    /// The run's model, lane, upstream … strings.
    names: Interner,
    pub counts: LineCounts,
}

pub(crate) fn decision_key(rid: &str, ts: f64) -> u128 {
    events::key128(&[b"ccp/decision", rid.as_bytes(), &ts.to_bits().to_le_bytes()])
}

pub(crate) fn completion_key(rid: &str, ts: f64) -> u128 {
    events::key128(&[b"ccp/completion", rid.as_bytes(), &ts.to_bits().to_le_bytes()])
}

type Text<'a> = Option<crate::record::Text<'a>>;

impl Interner {
    fn s(&mut self, t: &Text<'_>) -> Sym {
        self.get(Rec::str_of(t))
    }

    fn opt(&mut self, t: &Text<'_>) -> Option<Sym> {
        t.as_deref().filter(|v| !v.is_empty()).map(|v| self.get(v))
    }
}

fn nonneg(v: Option<i64>) -> u64 {
    v.unwrap_or(0).max(0) as u64
}

impl Joiner {
    /// A joiner holding the decisions left open by the last run.
    pub fn new(pending: Vec<Open>) -> Joiner {
        let mut j = Joiner { window_us: JOIN_WINDOW_SECS * 1_000_000, ..Joiner::default() };
        for o in pending {
            j.opens.entry(o.req.rid.clone()).or_default().push(o);
        }
        j
    }

    /// Feed one record of file number `file` (`pre`: its [`Pre::of`]); finished requests go
    /// to `out`. `seen` answers whether a key was seen; the caller notes the keys of what
    /// comes out in it before the next record.
    pub fn feed(
        &mut self,
        rec: &Rec<'_>,
        pre: Pre,
        file: u32,
        seen: &mut Seen,
        out: &mut Finished,
    ) -> Result<(), Error> {
        let at = pre.at;
        let rid: &str = &rec.rid;
        match pre.kind {
            Kind::Decision => {
                self.counts.decisions += 1;
                let key = pre.key;
                if self.opens.get(rid).is_some_and(|l| l.iter().any(|o| o.req.key == key)) {
                    self.counts.duplicate_lines += 1;
                    return Ok(());
                }
                let known = seen.contains(key, at)?;
                if known {
                    self.counts.duplicate_lines += 1;
                }
                // One copy of the rid for the request, the open list and the expiry queue.
                let shared = Sym::new(rid);
                let req = Box::new(Request {
                    key,
                    rid: shared.clone(),
                    at_us: at,
                    end_us: at,
                    model: self.names.s(&rec.model),
                    lane: self.names.s(&rec.lane),
                    upstream: self.names.s(&rec.upstream),
                    decision: self.names.s(&rec.decision),
                    reroute_mode: self.names.opt(&rec.reroute_mode),
                    reroute_decision: self.names.opt(&rec.reroute_decision),
                    preferred_attempt: rec.preferred_attempt,
                    warn_pct_cfg: rec.warn_pct_cfg,
                    warn_pct_auto: rec.warn_pct_auto,
                    warn_pct_confidence: rec.warn_pct_confidence,
                    gap_seconds_p50: rec.gap_seconds_p50,
                    gap_seconds_p95: rec.gap_seconds_p95,
                    gap_samples: rec.gap_samples,
                    ..Request::default()
                });
                self.opens.entry(shared.clone()).or_default().push(Open { req, known, file });
                self.queue.push_back((at, key, shared));
                self.expire(at, file, out);
            }
            Kind::Fallback => {
                self.counts.fallbacks += 1;
                let lane = self.names.s(&rec.lane);
                let upstream = self.names.s(&rec.upstream);
                let decision = self.names.s(&rec.decision);
                let Some(o) = self.find(rid, at) else {
                    self.counts.orphan_lines += 1;
                    return Ok(());
                };
                let bits = rec.ts.to_bits();
                if o.known || o.req.fallback_ts.contains(&bits) {
                    self.counts.duplicate_lines += 1;
                    return Ok(());
                }
                o.req.fallback_ts.push(bits);
                o.req.fallbacks += 1;
                o.req.lane = lane;
                o.req.upstream = upstream;
                if o.req.decision.is_empty() || !is_fallback_reason(&o.req.decision) {
                    // The first fallback reason is what B1 turns on.
                    o.req.decision = decision;
                }
            }
            Kind::Placeholder => self.counts.placeholders += 1,
            Kind::Completion | Kind::LegacyCompletion => {
                self.counts.completions += 1;
                let done = pre.key;
                let found = self.take(rid, at);
                let mut req = match found {
                    Some(o) if o.known => {
                        self.counts.duplicate_lines += 1;
                        return Ok(());
                    }
                    Some(o) => o.req,
                    None => {
                        if seen.contains(done, at)? {
                            self.counts.duplicate_lines += 1;
                            return Ok(());
                        }
                        Box::new(Request {
                            key: done,
                            rid: Sym::new(rid),
                            at_us: at,
                            model: self.names.s(&rec.model),
                            decision: self.names.s(&rec.decision_reason),
                            reroute_mode: self.names.opt(&rec.reroute_mode),
                            reroute_decision: self.names.opt(&rec.reroute_decision),
                            preferred_attempt: rec.preferred_attempt,
                            no_decision: true,
                            ..Request::default()
                        })
                    }
                };
                complete(&mut req, rec, at, &mut self.names);
                req.done_key = Some(done);
                out.push(req);
            }
        }
        Ok(())
    }

    /// The open, not yet swallowed decision of `rid` a line at `at` belongs to: the latest
    /// no later than the line (within the skew) and within the window.
    fn position(&self, rid: &str, at: i64) -> Option<usize> {
        let list = self.opens.get(rid)?;
        list.iter()
            .enumerate()
            .filter(|(_, o)| o.req.at_us <= at + SKEW_US && at - o.req.at_us <= self.window_us)
            .max_by_key(|(_, o)| o.req.at_us)
            .map(|(i, _)| i)
    }

    fn find(&mut self, rid: &str, at: i64) -> Option<&mut Open> {
        let i = self.position(rid, at)?;
        self.opens.get_mut(rid).map(|l| &mut l[i])
    }

    fn take(&mut self, rid: &str, at: i64) -> Option<Open> {
        let i = self.position(rid, at)?;
        let list = self.opens.get_mut(rid)?;
        let o = list.swap_remove(i);
        if list.is_empty() {
            self.opens.remove(rid);
        }
        Some(o)
    }

    /// Fail the current file's decisions the file has moved a window past.
    fn expire(&mut self, now: i64, file: u32, out: &mut Finished) {
        while let Some((at, key, _)) = self.queue.front() {
            if now - *at <= self.window_us {
                break;
            }
            let key = *key;
            let rid = self.queue.pop_front().map(|q| q.2).unwrap_or_default();
            self.fail(&rid, key, Some(file), out);
        }
    }

    fn fail(&mut self, rid: &str, key: u128, file: Option<u32>, out: &mut Finished) {
        let Some(list) = self.opens.get_mut(rid) else { return };
        let Some(i) =
            list.iter().position(|o| o.req.key == key && file.is_none_or(|f| o.file == f))
        else {
            return;
        };
        let o = list.swap_remove(i);
        if list.is_empty() {
            self.opens.remove(rid);
        }
        if !o.known {
            let mut req = o.req;
            req.end = Some(End::NoCompletion);
            out.push(req);
        }
    }

    /// The file is done: its open decisions wait for a later file (a rotation).
    pub fn end_file(&mut self) {
        self.queue.clear();
        for list in self.opens.values_mut() {
            for o in list {
                o.file = u32::MAX;
            }
        }
    }

    /// The run is done: decisions older than a window before `now_us` failed; the younger
    /// ones (a request still in flight) are kept for the next run.
    pub fn finish(mut self, now_us: i64, out: &mut Finished) -> Vec<Open> {
        let mut keep = Vec::new();
        let mut all: Vec<Open> = self.opens.drain().flat_map(|(_, l)| l).collect();
        all.sort_by_key(|o| (o.req.at_us, o.req.key));
        for o in all {
            if o.known {
                continue;
            }
            if now_us - o.req.at_us > self.window_us {
                let mut req = o.req;
                req.end = Some(End::NoCompletion);
                out.push(req);
            } else {
                keep.push(o);
            }
        }
        keep
    }
}

/// Fill a request from its completion line (bug B1: a fallback completion logs the first
/// attempt's status, so the client's is unknown).
fn complete(req: &mut Request, rec: &Rec<'_>, at: i64, names: &mut Interner) {
    req.end_us = at;
    if req.model.is_empty() {
        req.model = names.s(&rec.model);
    }
    req.lane = names.s(&rec.lane);
    req.upstream = names.s(&rec.upstream);
    req.op = names.s(&rec.op);
    req.tokens_in = nonneg(rec.input_tokens);
    req.tokens_out = nonneg(rec.output_tokens);
    req.latency_ms = rec.latency_ms.filter(|v| v.is_finite() && *v >= 0.0).unwrap_or(0.0);
    req.ttft_ms = rec.ttft_ms.filter(|v| v.is_finite() && *v >= 0.0);
    req.stream_ms = rec.stream_ms.filter(|v| v.is_finite() && *v >= 0.0);
    req.err_type = names.s(&rec.err_type);
    let status = rec.status.unwrap_or(0);
    let reason = Rec::str_of(&rec.decision_reason);
    let b1 = matches!(reason, "fallback" | "quota_overshoot")
        || (req.fallbacks > 0 && matches!(req.decision.as_str(), "fallback" | "quota_overshoot"));
    if b1 {
        req.first_status = Some(status);
        req.status = None;
        req.end = Some(End::Completed);
    } else {
        req.status = Some(status);
        let stream_failed = matches!(req.err_type.as_str(), "idle_timeout" | "stream_error")
            || Rec::str_of(&rec.reason) == "stream_timeout";
        req.end = Some(if status >= 400 || stream_failed { End::Error } else { End::Completed });
    }
    req.tokens_unknown =
        req.end == Some(End::Completed) && req.tokens_in == 0 && req.tokens_out == 0;
}
