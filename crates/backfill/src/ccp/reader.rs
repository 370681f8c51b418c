//! The reading stage of a CCP backfill ([`super::stages`]): each file's new lines read from
//! where its ledger entry stopped and put through the lean scanner ([`super::fast`]), its
//! records handed to the joining stage in [`Batch`]es, in file order, with their kind, time
//! and dedupe key worked out ([`Pre`]). A line the scanner does not read whole goes over as
//! its bytes and is read by serde on the joining side ([`super::parse::parse_line`]), which
//! also reports it, so what a line yields does not depend on the stage that read it.

use std::borrow::Cow;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::sync::mpsc::Receiver;

use super::Job;
use super::fast::KeyOrder;
use super::join::{completion_key, decision_key};
use super::parse::{Kind, Rec, fast_record};
use crate::ledger::{FINGERPRINT_BYTES, FileEntry, fingerprint};
use crate::lines::{Line, LineReader, is_blank};
use crate::record::Text;

/// Lines a batch holds at most.
const BATCH_LINES: usize = 2048;

/// What the joiner needs of a record besides its fields, computed once where it is read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pre {
    pub kind: Kind,
    /// The line's time, µs (0 when out of range: serde's path refuses such a record).
    pub at: i64,
    /// Dedupe key of a decision or completion line (0 for the other kinds).
    pub key: u128,
}

impl Pre {
    pub fn of(rec: &Rec<'_>) -> Pre {
        let kind = rec.kind();
        let key = match kind {
            Kind::Decision => decision_key(&rec.rid, rec.ts),
            Kind::Completion | Kind::LegacyCompletion => completion_key(&rec.rid, rec.ts),
            Kind::Fallback | Kind::Placeholder => 0,
        };
        Pre { kind, at: rec.micros().unwrap_or(0), key }
    }
}

/// One line of a batch.
pub(super) enum Item {
    /// Read by the scanner: its record is the batch's `recs[rec]`.
    Fast {
        rec: usize,
        pre: Pre,
    },
    /// For serde: the line's bytes at `at..at + len` of the batch's raw bytes.
    Slow {
        no: u64,
        at: usize,
        len: usize,
    },
    Blank,
    TooLong {
        no: u64,
        len: u64,
    },
    Torn {
        no: u64,
    },
}

/// Lines of one file, in order.
#[derive(Default)]
pub(super) struct Batch {
    text: String,
    recs: Vec<Spans>,
    raw: Vec<u8>,
    pub items: Vec<Item>,
}

impl Batch {
    /// The record of a [`Item::Fast`] line, borrowed from the batch.
    pub fn rec(&self, i: usize) -> Option<Rec<'_>> {
        Some(self.recs.get(i)?.rec(&self.text))
    }

    /// The bytes of an [`Item::Slow`] line.
    pub fn raw(&self, at: usize, len: usize) -> &[u8] {
        self.raw.get(at..at + len).unwrap_or_default()
    }

    /// The batch emptied, its allocations kept.
    fn emptied(mut self) -> Batch {
        self.text.clear();
        self.recs.clear();
        self.raw.clear();
        self.items.clear();
        self
    }

    fn full(&self) -> bool {
        self.items.len() >= BATCH_LINES
    }
}

/// What the reading hands to the joining, in order.
pub(super) enum Msg {
    Lines(Batch),
    /// Job `job`'s file was read to its end: its new ledger entry.
    Done {
        job: usize,
        entry: FileEntry,
    },
    /// Job `job`'s file could not be read (the lines sent before the error stand).
    Failed {
        job: usize,
        error: std::io::Error,
    },
    /// Job `job`'s file is a byte-identical copy of `original`: not read.
    Copy {
        job: usize,
        original: String,
    },
}

/// The reading of every job's file in turn, a batch of lines at a time ([`Reader::next`]).
pub(super) struct Reader<'a> {
    jobs: &'a [Job],
    /// The ledger entry each job resumes.
    entries: &'a [Option<FileEntry>],
    /// Whether each job, in turn, is a copy (not read: [`Msg::Copy`]).
    copies: Receiver<Option<String>>,
    next_job: usize,
    /// The job being read.
    open: Option<(usize, Open)>,
    /// The line buffer, handed from file to file.
    buf: Vec<u8>,
    keys: KeyOrder,
}

/// A file being read.
struct Open {
    lines: LineReader<File>,
    fingerprint: (u64, String),
}

impl<'a> Reader<'a> {
    pub fn new(
        jobs: &'a [Job],
        entries: &'a [Option<FileEntry>],
        copies: Receiver<Option<String>>,
    ) -> Reader<'a> {
        Reader {
            jobs,
            entries,
            copies,
            next_job: 0,
            open: None,
            buf: Vec::new(),
            keys: KeyOrder::default(),
        }
    }

    /// Push the next messages: a batch of lines (in `free` when one came back), and the
    /// file's outcome once it ends. `false` once every job was read.
    pub fn next(&mut self, free: Option<Batch>, out: &mut Vec<Msg>) -> bool {
        loop {
            let Some((job, open)) = &mut self.open else {
                let Some(i) = (self.next_job < self.jobs.len()).then_some(self.next_job) else {
                    return false;
                };
                self.next_job += 1;
                // No verdict (the check stopped): the file is read.
                if let Ok(Some(original)) = self.copies.recv() {
                    out.push(Msg::Copy { job: i, original });
                    return true;
                }
                match self.start(i) {
                    Ok(open) => self.open = Some((i, open)),
                    Err(error) => {
                        out.push(Msg::Failed { job: i, error });
                        return true;
                    }
                }
                continue;
            };
            let mut batch = free.map(Batch::emptied).unwrap_or_default();
            let read = fill(&mut open.lines, &mut batch, &mut self.keys);
            if !batch.items.is_empty() {
                out.push(Msg::Lines(batch));
            }
            if let Ok(true) = read {
                return true;
            }
            // The file ended, or failed: the lines read before an error stand.
            let job = *job;
            let Some((_, open)) = self.open.take() else { return true };
            out.push(match (read, self.jobs.get(job)) {
                (Ok(_), Some(j)) => {
                    let (consumed, next) = (open.lines.consumed(), open.lines.next_line_no());
                    let entry = FileEntry::read(&j.stat, open.fingerprint, consumed, next);
                    Msg::Done { job, entry }
                }
                (Err(error), _) => Msg::Failed { job, error },
                (Ok(_), None) => Msg::Failed { job, error: std::io::ErrorKind::NotFound.into() },
            });
            self.buf = open.lines.into_buffer();
            return true;
        }
    }

    /// Open job `i`'s file where its ledger entry stopped.
    fn start(&mut self, i: usize) -> std::io::Result<Open> {
        let job = self.jobs.get(i).ok_or(std::io::ErrorKind::NotFound)?;
        let entry = self.entries.get(i).and_then(Option::as_ref);
        let (offset, first_line) = entry.map_or((0, 1), |e| (e.consumed, e.next_line));
        let mut file = File::open(&job.path)?;
        let fingerprint = fingerprint(&file, FINGERPRINT_BYTES)?;
        file.seek(SeekFrom::Start(offset))?;
        let cap = crate::lines::MAX_LINE_BYTES;
        let buf = std::mem::take(&mut self.buf);
        let lines = LineReader::with_buffer(file, offset, first_line, cap, buf);
        Ok(Open { lines, fingerprint })
    }
}

/// Read lines into `batch` until it is full (`true`) or the file ends (`false`).
fn fill(
    reader: &mut LineReader<File>,
    batch: &mut Batch,
    keys: &mut KeyOrder,
) -> std::io::Result<bool> {
    while !batch.full() {
        let Some(line) = reader.next_line()? else { return Ok(false) };
        let item = match line {
            Line::Full { bytes, .. } if is_blank(bytes) => Item::Blank,
            Line::Full { no, bytes } => {
                let line = std::str::from_utf8(bytes).ok();
                let scanned = line.and_then(|l| Some((fast_record(l, keys)?, l)));
                match scanned.and_then(|(rec, l)| Spans::of(rec, l, &mut batch.text)) {
                    Some((rec, pre)) => {
                        batch.recs.push(rec);
                        Item::Fast { rec: batch.recs.len() - 1, pre }
                    }
                    None => slow(&mut batch.raw, no, bytes),
                }
            }
            Line::TooLong { no, len } => Item::TooLong { no, len },
            Line::Torn { no, .. } => Item::Torn { no },
        };
        batch.items.push(item);
    }
    Ok(true)
}

fn slow(raw: &mut Vec<u8>, no: u64, bytes: &[u8]) -> Item {
    let at = raw.len();
    raw.extend_from_slice(bytes);
    Item::Slow { no, at, len: bytes.len() }
}

/// Where a string of a record lies in its batch's text.
type Span = Option<(u32, u32)>;

/// A scanned [`Rec`] whose strings are spans of the batch's text (the record cannot borrow
/// from a batch that moves between threads).
pub(super) struct Spans {
    ts: f64,
    rid: (u32, u32),
    lane: Span,
    model: Span,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    status: Option<i64>,
    reason: Span,
    op: Span,
    latency_ms: Option<f64>,
    stream_ms: Option<f64>,
    ttft_ms: Option<f64>,
    err_type: Span,
    upstream: Span,
    event: Span,
    decision: Span,
    decision_reason: Span,
    reroute_mode: Span,
    reroute_decision: Span,
    preferred_attempt: Option<bool>,
    warn_pct_cfg: Option<f64>,
    warn_pct_auto: Option<f64>,
    warn_pct_confidence: Option<f64>,
    gap_seconds_p50: Option<f64>,
    gap_seconds_p95: Option<f64>,
    gap_samples: Option<f64>,
}

impl Spans {
    /// `rec`, read from `line`, with `line` appended to `text` and its strings as spans of
    /// it; `None` (nothing appended) when a string does not lie within the line or a span
    /// does not fit.
    fn of(rec: Rec<'_>, line: &str, text: &mut String) -> Option<(Spans, Pre)> {
        let pre = Pre::of(&rec);
        let base = text.len();
        let Rec {
            ts,
            rid,
            lane,
            model,
            input_tokens,
            output_tokens,
            status,
            reason,
            op,
            latency_ms,
            stream_ms,
            ttft_ms,
            err_type,
            upstream,
            event,
            decision,
            decision_reason,
            reroute_mode,
            reroute_decision,
            preferred_attempt,
            warn_pct_cfg,
            warn_pct_auto,
            warn_pct_confidence,
            gap_seconds_p50,
            gap_seconds_p95,
            gap_samples,
        } = rec;
        let start = line.as_ptr() as usize;
        let mut ok = true;
        let mut span = |t: &Text<'_>| -> (u32, u32) {
            // Where the string lies in the line (the scanner borrows it from there).
            let at = (t.as_ptr() as usize).wrapping_sub(start);
            let fits = at <= line.len() && t.len() <= line.len() - at;
            match (u32::try_from(base + at), u32::try_from(t.len())) {
                (Ok(at), Ok(len)) if fits => (at, len),
                _ => {
                    ok = false;
                    (0, 0)
                }
            }
        };
        let rid = span(&rid);
        let mut opt = |t: Option<Text<'_>>| t.map(|t| span(&t));
        let spans = Spans {
            ts,
            rid,
            lane: opt(lane),
            model: opt(model),
            input_tokens,
            output_tokens,
            status,
            reason: opt(reason),
            op: opt(op),
            latency_ms,
            stream_ms,
            ttft_ms,
            err_type: opt(err_type),
            upstream: opt(upstream),
            event: opt(event),
            decision: opt(decision),
            decision_reason: opt(decision_reason),
            reroute_mode: opt(reroute_mode),
            reroute_decision: opt(reroute_decision),
            preferred_attempt,
            warn_pct_cfg,
            warn_pct_auto,
            warn_pct_confidence,
            gap_seconds_p50,
            gap_seconds_p95,
            gap_samples,
        };
        if !ok {
            return None;
        }
        text.push_str(line);
        Some((spans, pre))
    }

    fn rec<'a>(&self, text: &'a str) -> Rec<'a> {
        let s = |(at, len): (u32, u32)| {
            let (at, len) = (at as usize, len as usize);
            Text(Cow::Borrowed(text.get(at..at + len).unwrap_or_default()))
        };
        let o = |span: Span| span.map(s);
        Rec {
            ts: self.ts,
            rid: s(self.rid),
            lane: o(self.lane),
            model: o(self.model),
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            status: self.status,
            reason: o(self.reason),
            op: o(self.op),
            latency_ms: self.latency_ms,
            stream_ms: self.stream_ms,
            ttft_ms: self.ttft_ms,
            err_type: o(self.err_type),
            upstream: o(self.upstream),
            event: o(self.event),
            decision: o(self.decision),
            decision_reason: o(self.decision_reason),
            reroute_mode: o(self.reroute_mode),
            reroute_decision: o(self.reroute_decision),
            preferred_attempt: self.preferred_attempt,
            warn_pct_cfg: self.warn_pct_cfg,
            warn_pct_auto: self.warn_pct_auto,
            warn_pct_confidence: self.warn_pct_confidence,
            gap_seconds_p50: self.gap_seconds_p50,
            gap_seconds_p95: self.gap_seconds_p95,
            gap_samples: self.gap_samples,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record taken apart into spans and put together again reads as the scanner read it.
    #[test]
    fn spans_give_back_the_scanned_record() {
        let dir = tempfile::tempdir().unwrap();
        agentos_testkit::ccp_logs::CcpTree::generate(dir.path(), 300, 3).unwrap();
        let text = std::fs::read_to_string(dir.path().join("logs/usage.jsonl")).unwrap();
        let mut batch = Batch::default();
        let mut kept = Vec::new();
        let mut keys = KeyOrder::default();
        for line in text.lines() {
            let Some(rec) = fast_record(line, &mut keys) else { continue };
            let (want, want_pre) = (format!("{rec:?}"), Pre::of(&rec));
            let (spans, pre) = Spans::of(rec, line, &mut batch.text).expect("fits");
            assert_eq!(format!("{pre:?}"), format!("{want_pre:?}"));
            batch.recs.push(spans);
            kept.push(want);
        }
        assert!(kept.len() > 100, "{}", kept.len());
        for (i, want) in kept.iter().enumerate() {
            assert_eq!(&format!("{:?}", batch.rec(i).unwrap()), want);
        }
    }
}
