//! A rollup that takes the turns its caller appends to the event log as facts instead of
//! reading their lines back: the CCP backfill writes hundreds of megabytes of events and
//! refreshes the summary after, and parsing them again would cost about as much as writing
//! them.
//!
//! [`summarize_appending`] resumes from the checkpoint and reads the log to its end, as
//! [`summarize_incremental`](crate::summarize_incremental) does; the caller, holding the log's
//! lock so nobody else appends meanwhile, then appends its lines and hands each one's
//! [`TurnFacts`] to [`Appending::turn`]; [`Appending::finish`] reads whatever was appended
//! after those bytes (other writers, once the lock was let go) and saves the checkpoint past
//! them all. The facts are counted exactly as their lines would be: the same views, the same
//! duplicate and range checks, in batches merged as the reader merges its chunks (a test holds
//! the two equal). Whenever that cannot be promised (the log ended in a torn line, the caller
//! appended fewer bytes than it said, a session filter) the rollup reads the log instead.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::hash::BuildHasherDefault;

use agentos_event_schema::facts::TurnFacts;
use camino::{Utf8Path, Utf8PathBuf};

use crate::acc::{Acc, Pos};
use crate::checkpoint::{ReadToEnd, read_to_end};
use crate::dedupe::{Passthrough, id_hash};
use crate::model_trend::{CcpKey, CcpView, Loose, Reroute};
use crate::summary::{Diagnostic, Rollup, SummaryOptions};
use crate::view::{
    Attribution, CostView, DecisionCheck, IdHash, Line, NonNeg, NumMapCheck, StrCheck, Ts,
    TurnLine, TurnView,
};
use crate::{Error, summarize_incremental};

/// Facts counted before they are merged (as a chunk of lines is).
const BATCH: usize = 4096;

/// A rollup read to the end of the event log, taking the turns appended after as facts (its
/// `read` stays where the log ended until [`Appending::finish`]).
pub struct Appending {
    path: Utf8PathBuf,
    opts: SummaryOptions,
    checkpoint: Utf8PathBuf,
    /// `None` when the facts cannot stand for the lines: [`Appending::finish`] reads the log.
    read: Option<ReadToEnd>,
    batch: Batch,
    /// Facts taken.
    lines: u64,
    /// Facts that were no valid turn (as their lines would be).
    invalid: u64,
}

impl std::fmt::Debug for Appending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Appending")
            .field("path", &self.path)
            .field("takes_facts", &self.read.is_some())
            .field("lines", &self.lines)
            .finish_non_exhaustive()
    }
}

/// Facts counted since the last merge.
#[derive(Default)]
struct Batch {
    acc: Acc,
    ids: Vec<u128>,
    local: HashSet<u128, BuildHasherDefault<Passthrough>>,
    duplicates: u64,
}

/// Resume the rollup of the event log `path` from `checkpoint` and read it to its end, to take
/// the turns appended next as facts. Call it while holding the log's lock, before appending.
pub fn summarize_appending(
    path: &Utf8Path,
    opts: &SummaryOptions,
    checkpoint: &Utf8Path,
) -> Result<Appending, Error> {
    let paths = [path.to_owned()];
    let rows = !opts.no_session_rows;
    let read = if opts.session.is_some() {
        None
    } else {
        match read_to_end(&paths, opts, checkpoint, true, rows, true)? {
            Some(read) => Some(read),
            None => read_to_end(&paths, opts, checkpoint, false, rows, true)?,
        }
    };
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    // A torn last line (or one written since) is not consumed: the facts would not follow it;
    // nor would they follow a log that was missing (created since, or never).
    let start = read.as_ref().and_then(|r| r.reached.first()).map_or(0, |r| r.0);
    let present = |r: &ReadToEnd| r.inputs.first().is_some_and(|i| i.file.is_some());
    let read = read.filter(|r| start == size && present(r));
    Ok(Appending {
        path: path.to_owned(),
        opts: opts.clone(),
        checkpoint: checkpoint.to_owned(),
        read,
        batch: Batch::default(),
        lines: 0,
        invalid: 0,
    })
}

impl Appending {
    /// The `/v1/usage` models map for the summary's `model_health` (known only once the
    /// appending is done, for the backfill).
    pub fn set_model_health(&mut self, models: Option<BTreeMap<String, serde_json::Value>>) {
        self.opts.model_health = models;
    }

    /// Count the turn whose line comes next in the log.
    pub fn turn(&mut self, facts: &TurnFacts<'_>) {
        let Some(read) = &mut self.read else { return };
        self.lines += 1;
        let line = read.reached.first().map_or(0, |r| r.1) + self.lines;
        let pos: Pos = (0, read.generation, u64::MAX, self.lines);
        let verdict = turn_line(facts).and_then(|t| {
            let id = t.event_id.and_then(|i| i.0);
            if let Some(h) = id
                && (self.batch.local.contains(&h) || read.totals.seen.contains(h))
            {
                self.batch.duplicates += 1;
                return Ok(());
            }
            self.batch.acc.apply(Line::Turn(t), pos, None)?;
            if let Some(h) = id {
                self.batch.local.insert(h);
                self.batch.ids.push(h);
            }
            Ok(())
        });
        if let Err(message) = verdict {
            self.invalid += 1;
            read.consumed_diags += 1;
            read.totals.push(Diagnostic { file: self.path.clone(), line, message });
        }
        if self.batch.ids.len() >= BATCH {
            let b = std::mem::take(&mut self.batch);
            read.totals.add(b.acc, &b.ids, b.duplicates);
        }
    }

    /// Finish the rollup: `appended` is how many bytes the caller appended after the log's end
    /// (the lines whose facts it gave). Reads what others appended after them, saves the
    /// checkpoint and returns the rollup.
    pub fn finish(mut self, appended: u64) -> Result<Rollup, Error> {
        let rows = !self.opts.no_session_rows;
        let size = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        // Under `strict`, reading the lines gives the error an invalid one makes.
        let strict_failed = self.opts.strict && self.invalid > 0;
        // Where the facts start: the log's end when it was read (the facts not merged yet).
        let start = |r: &ReadToEnd| r.reached.first().map_or(0, |r| r.0);
        let read = self.read.take().filter(|r| size >= start(r) + appended && !strict_failed);
        let Some(mut read) = read else {
            return summarize_incremental(&[self.path.clone()], &self.opts, &self.checkpoint);
        };
        let b = std::mem::take(&mut self.batch);
        read.totals.add(b.acc, &b.ids, b.duplicates);
        if let Some(reached) = read.reached.first_mut() {
            *reached = (reached.0 + appended, reached.1 + self.lines);
        }
        read.read_rest(0, &self.opts)?;
        match read.close(&self.opts, &self.checkpoint, rows)? {
            Some(r) => Ok(r),
            // A base file turned out damaged: nothing was saved, read everything.
            None => summarize_incremental(&[self.path.clone()], &self.opts, &self.checkpoint),
        }
    }
}

/// The view the line of `f` reads as.
fn turn_line<'a>(f: &TurnFacts<'a>) -> Result<TurnLine<'a>, String> {
    let ts = |us: i64| {
        jiff::Timestamp::from_microsecond(us)
            .map(Ts)
            .map_err(|e| format!("invalid RFC 3339 timestamp: {e}"))
    };
    // In the words reading the line gives.
    let nonneg = |v: f64, at: &str| {
        if v >= 0.0 {
            Ok(NonNeg(v))
        } else {
            Err(format!("schema-invalid event: {at}: {v:?} is less than the minimum of 0.0"))
        }
    };
    let ccp = f.ccp.map(|c| {
        let mut v = CcpView::default();
        let num = |n: Option<f64>| n.map_or_else(Loose::default, Loose::num);
        v.take(CcpKey::End, Loose::word(c.end));
        v.take(CcpKey::Failed, Loose::flag(c.failed));
        v.take(CcpKey::Status, num(c.status.map(|s| s as f64)));
        v.take(CcpKey::Fallbacks, Loose::num(c.fallbacks as f64));
        if let Some(s) = c.first_attempt_status {
            v.take(CcpKey::FirstStatus, Loose::num(s as f64));
        }
        if !c.err_type.is_empty() {
            v.take(CcpKey::ErrType, Loose::word(c.err_type));
        }
        for (k, n) in [(CcpKey::Ttft, c.ttft_ms), (CcpKey::Stream, c.stream_ms)] {
            if n.is_some() {
                v.take(k, num(n));
            }
        }
        v
    });
    let cost = match f.cost {
        Some(c) => Some(CostView {
            provider: Cow::Borrowed(c.provider),
            unit_costs: NumMapCheck,
            estimated_usd: nonneg(c.estimated_usd, "/cost/estimated_usd")?,
            price_table: Some(StrCheck),
        }),
        None => None,
    };
    Ok(TurnLine {
        event_id: Some(IdHash((!f.event_id.is_empty()).then(|| id_hash(f.event_id)))),
        ts: Some(ts(f.ts_us)?),
        schema_version: Some(StrCheck),
        turn: TurnView {
            turn_id: StrCheck,
            session_id: Cow::Borrowed(f.session_id),
            model: Cow::Borrowed(f.model),
            subagent: StrCheck,
            tokens_in: f.tokens_in,
            tokens_out: f.tokens_out,
            input_kind: StrCheck,
            latency_ms: nonneg(f.latency_ms, "/turn/latency_ms")?,
            attribution: Attribution::default(),
            capacity_used: None,
            revises: None,
            cache_creation_tokens: None,
            cache_creation_1h_tokens: None,
            cache_read_tokens: None,
            sidechain: None,
            responded_at: f.responded_at_us.map(ts).transpose()?,
            ccp,
        },
        measurement: None,
        feature: None,
        cost,
        value: None,
        decision: f.reroute_decision.map(|d| DecisionCheck {
            reroute_decision: Some(Reroute::of(d)),
            ..DecisionCheck::default()
        }),
        outcome: None,
    })
}
