//! The chunked reader: read big chunks, split them at newlines, parse them in two workers (each
//! chunk into its own partial aggregate), and merge the chunks in input order, so an event
//! whose `event_id` was already counted is skipped deterministically (the first one counts).

use std::collections::{BTreeMap, HashSet};
use std::hash::BuildHasherDefault;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use camino::Utf8Path;

use crate::acc::Acc;
use crate::chunks::{BUF_CAPACITY, LineChunks, LineRanges, OVERLONG_LINE};
use crate::dedupe::{Passthrough, Seen};
use crate::sessfile::Stored;
use crate::summary::{Diagnostic, MAX_KEPT_DIAGNOSTICS, SummaryOptions};
use crate::{Error, view};

/// What a scan adds to: the aggregate, the ids counted, the diagnostics, the duplicates, and
/// the stored sessions that a session moves out of when a new line touches it.
#[derive(Default)]
pub(crate) struct Totals {
    pub(crate) acc: Acc,
    pub(crate) stored: Stored,
    pub(crate) seen: Seen,
    pub(crate) kept: Vec<Diagnostic>,
    pub(crate) diagnostics: u64,
    pub(crate) duplicates: u64,
}

impl Totals {
    /// Add what a slice of the lines counted: its aggregate, the ids it counted (distinct,
    /// none counted before) and its duplicates; the stored sessions it touches move in first.
    pub(crate) fn add(&mut self, acc: Acc, ids: &[u128], duplicates: u64) {
        for h in ids {
            self.seen.insert_new(*h);
        }
        self.stored.fault_in(acc.sessions.keys(), &mut self.acc.sessions);
        self.acc.merge(acc);
        self.duplicates += duplicates;
    }

    pub(crate) fn push(&mut self, d: Diagnostic) {
        self.diagnostics += 1;
        if self.kept.len() < MAX_KEPT_DIAGNOSTICS {
            self.kept.push(d);
        }
    }
}

/// Where a scan starts and how far it got.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Span {
    /// Bytes of whole lines read (a torn last line is not consumed).
    pub(crate) bytes: u64,
    /// Whole lines read.
    pub(crate) lines: u64,
    /// Diagnostics of whole lines (a torn last line's is not counted here).
    pub(crate) diagnostics: u64,
}

struct Chunk {
    idx: u64,
    data: Vec<u8>,
    /// The file's last chunk: its last line may be torn.
    last: bool,
}

struct ChunkDiag {
    line: u64,
    message: String,
    torn: bool,
}

/// What a worker made of one chunk: its own partial aggregate, merged in input order.
struct ChunkResult {
    chunk: Chunk,
    acc: Acc,
    lines: u64,
    diags: Vec<ChunkDiag>,
    /// Hashes of the `event_id`s counted, distinct, in line order.
    ids: Vec<u128>,
    /// Lines skipped because their `event_id` was already counted.
    duplicates: u64,
}

/// What every chunk of one file shares.
struct Ctx<'a> {
    file_idx: usize,
    generation: u64,
    opts: &'a SummaryOptions,
    stop: &'a AtomicBool,
}

enum Verdict {
    Counted,
    Duplicate,
}

/// Parse and add up one chunk. An event whose id is in `before` (the ids of every earlier
/// chunk, when the merger re-runs a chunk) or earlier in this chunk is a duplicate.
fn process_chunk(chunk: Chunk, ctx: &Ctx<'_>, before: Option<&Seen>) -> ChunkResult {
    let mut out = ChunkResult {
        chunk,
        acc: Acc::default(),
        lines: 0,
        diags: Vec::new(),
        ids: Vec::new(),
        duplicates: 0,
    };
    let opts = ctx.opts;
    let mut local: HashSet<u128, BuildHasherDefault<Passthrough>> = HashSet::default();
    let data = out.chunk.data.as_slice();
    let ends_with_newline = data.last() == Some(&b'\n');
    let body =
        if ends_with_newline { data.get(..data.len() - 1).unwrap_or_default() } else { data };
    if body.is_empty() && ends_with_newline {
        out.lines = 1;
        return out;
    }
    if data.is_empty() {
        return out;
    }
    let filter = opts.session.as_deref();
    let stop = || {
        if opts.strict {
            ctx.stop.store(true, Ordering::Relaxed);
        }
    };
    // Validate UTF-8 once per chunk (fast); only a chunk with invalid bytes is checked per line.
    let whole = std::str::from_utf8(body).ok();
    let (acc, ids) = (&mut out.acc, &mut out.ids);
    for piece in LineRanges::new(body) {
        let is_last = piece.end == body.len();
        let raw = match whole {
            Some(t) => Ok(t.get(piece).unwrap_or_default()),
            None => {
                std::str::from_utf8(body.get(piece).unwrap_or_default()).map_err(|e| e.to_string())
            }
        };
        out.lines += 1;
        let raw = match raw {
            Ok(r) => r,
            Err(e) => {
                stop();
                let message = format!("invalid utf-8: {e}");
                out.diags.push(ChunkDiag { line: out.lines, message, torn: false });
                continue;
            }
        };
        let line = raw.trim_ascii();
        if line.is_empty() {
            continue;
        }
        if line == OVERLONG_LINE {
            stop();
            let message = "line longer than 64 MiB: not an event, skipped".to_owned();
            out.diags.push(ChunkDiag { line: out.lines, message, torn: false });
            continue;
        }
        let pos = (ctx.file_idx, ctx.generation, out.chunk.idx, out.lines);
        let verdict = view::with_line(line, |l| {
            let id = l.event_id();
            if let Some(h) = id
                && (local.contains(&h) || before.is_some_and(|b| b.contains(h)))
            {
                return Ok(Verdict::Duplicate);
            }
            acc.apply(l, pos, filter)?;
            if let Some(h) = id {
                local.insert(h);
                ids.push(h);
            }
            Ok(Verdict::Counted)
        })
        .and_then(|r| r);
        let message = match verdict {
            Ok(Verdict::Counted) => continue,
            Ok(Verdict::Duplicate) => {
                out.duplicates += 1;
                continue;
            }
            Err(message) => message,
        };
        let torn = out.chunk.last && is_last && !ends_with_newline;
        if torn {
            let message = format!("torn last line (no trailing newline), skipped: {message}");
            out.diags.push(ChunkDiag { line: out.lines, message, torn });
        } else {
            stop();
            out.diags.push(ChunkDiag { line: out.lines, message, torn });
        }
    }
    out
}

/// Counts what passes through: every byte, and how many came after the last newline.
struct Tracked<R> {
    inner: R,
    total: u64,
    since_newline: u64,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let got = buf.get(..n).unwrap_or_default();
        self.total += n as u64;
        match got.iter().rposition(|&b| b == b'\n') {
            Some(p) => self.since_newline = (n - p - 1) as u64,
            None => self.since_newline += n as u64,
        }
        Ok(n)
    }
}

/// Read everything `reader` yields into `totals`, naming it `name` in diagnostics; line
/// numbers start after `span.base_line`. Returns how far the whole lines go.
pub(crate) fn scan<R: Read + Send>(
    file_idx: usize,
    generation: u64,
    name: &Utf8Path,
    reader: R,
    opts: &SummaryOptions,
    base_line: u64,
    totals: &mut Totals,
) -> Result<Span, Error> {
    let stop = AtomicBool::new(false);
    let ctx = Ctx { file_idx, generation, opts, stop: &stop };
    let mut reader = Tracked { inner: reader, total: 0, since_newline: 0 };
    let mut infos: Vec<(u64, Vec<ChunkDiag>)> = Vec::new();
    let (worker_panicked, read_result) = std::thread::scope(|s| {
        let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
        let (done_tx, done_rx) = mpsc::sync_channel::<ChunkResult>(4);
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for _ in 0..2 {
            let (tx, rx) = mpsc::sync_channel::<Chunk>(2);
            senders.push(tx);
            let done_tx = done_tx.clone();
            let ctx = &ctx;
            handles.push(s.spawn(move || {
                for chunk in rx {
                    if done_tx.send(process_chunk(chunk, ctx, None)).is_err() {
                        return;
                    }
                }
            }));
        }
        drop(done_tx);
        let reader = &mut reader;
        let stop = &stop;
        let read = s.spawn(move || {
            let r = read_chunks(reader, &senders, &free_rx, stop);
            drop(senders);
            r
        });
        // Merge in input order; a chunk with an id counted by an earlier chunk is re-run here
        // with every earlier id known.
        let mut pending: BTreeMap<u64, ChunkResult> = BTreeMap::new();
        let mut next = 0u64;
        for r in done_rx {
            pending.insert(r.chunk.idx, r);
            while let Some(mut r) = pending.remove(&next) {
                if r.ids.iter().any(|h| totals.seen.contains(*h)) {
                    r = process_chunk(r.chunk, &ctx, Some(&totals.seen));
                }
                // Distinct, and none counted before (checked above, or left out by the re-run).
                totals.add(r.acc, &r.ids, r.duplicates);
                infos.push((r.lines, r.diags));
                let _ = free_tx.send(r.chunk.data);
                next += 1;
            }
        }
        let worker_panicked = handles.into_iter().any(|h| h.join().is_err());
        let read_result = read.join();
        (worker_panicked, read_result)
    });
    let read_err = |source| Error::Read { path: name.to_owned(), source };
    if worker_panicked {
        return Err(Error::Internal("a rollup worker stopped".to_owned()));
    }
    read_result
        .map_err(|_| Error::Internal("the rollup reader stopped".to_owned()))?
        .map_err(read_err)?;
    let torn_tail = reader.since_newline > 0;
    let all_lines: u64 = infos.iter().map(|(lines, _)| *lines).sum();
    let lines = all_lines.saturating_sub(u64::from(torn_tail));
    let bytes = reader.total - reader.since_newline;
    let mut span = Span { bytes, lines, diagnostics: 0 };
    let mut base = base_line;
    for (lines, diags) in infos {
        for d in diags {
            let diag =
                Diagnostic { file: name.to_owned(), line: base + d.line, message: d.message };
            if opts.strict && !d.torn {
                return Err(Error::InvalidLine {
                    file: diag.file,
                    line: diag.line,
                    message: diag.message,
                });
            }
            if diag.line <= base_line + span.lines {
                span.diagnostics += 1;
            }
            totals.push(diag);
        }
        base += lines;
    }
    Ok(span)
}

fn read_chunks<R: Read>(
    reader: &mut R,
    senders: &[mpsc::SyncSender<Chunk>],
    free: &mpsc::Receiver<Vec<u8>>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    let mut chunks = LineChunks::new(reader);
    let mut idx = 0u64;
    let workers = senders.len().max(1) as u64;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut buf = free.try_recv().unwrap_or_else(|_| Vec::with_capacity(BUF_CAPACITY));
        let eof = chunks.next_into(&mut buf)?;
        if !buf.is_empty() || idx == 0 {
            let Some(tx) = senders.get((idx % workers) as usize) else {
                return Ok(());
            };
            if tx.send(Chunk { idx, data: buf, last: eof }).is_err() {
                return Ok(());
            }
            idx += 1;
        }
        if eof {
            return Ok(());
        }
    }
}
