//! The usage scan: read `events.jsonl` in 1 MiB chunks (split at newlines, a line longer than
//! 64 MiB dropped without being held), parse the chunks in two workers into compact per-turn
//! records (UTC quarter-hour, tokens, priced cost), and merge them in input order, so an
//! `event_id` seen before is skipped deterministically (the first one counts).
//! Cells are per (UTC quarter-hour, session, model): every zone's offset is a whole number of
//! quarter-hours, so one set of cells (and the cache that keeps it) serves every zone.
//! Memory: a few chunks in flight, the set of ids counted (16 bytes per event) and one cell
//! per (quarter-hour, session, model).

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::mpsc;

use agentos_event_schema::prices::{ModelPrice, PriceTable, Tokens};
use camino::Utf8Path;

use agentos_event_schema::provider::provider_of_turn;

use crate::Diagnostic;
use crate::acc::HashMap;
use crate::acc::check_magnitudes;
use crate::chunks::{BUF_CAPACITY, LineChunks, LineRanges, OVERLONG_LINE};
use crate::summary::MAX_KEPT_DIAGNOSTICS;
use crate::view::{self, Line};

/// Everything a worker needs.
pub(crate) struct Ctx<'a> {
    pub(crate) prices: &'a PriceTable,
}

/// Seconds in a quarter-hour, the cells' unit of time.
pub(crate) const QUARTER: i64 = 900;

/// Token sums: uncached input, output, cache writes (all), of which 1-hour, cache reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tok {
    pub(crate) input: u64,
    pub(crate) output: u64,
    pub(crate) cache_write: u64,
    pub(crate) cache_write_1h: u64,
    pub(crate) cache_read: u64,
}

impl Tok {
    pub(crate) fn add(&mut self, o: &Tok) {
        self.input = self.input.saturating_add(o.input);
        self.output = self.output.saturating_add(o.output);
        self.cache_write = self.cache_write.saturating_add(o.cache_write);
        self.cache_write_1h = self.cache_write_1h.saturating_add(o.cache_write_1h);
        self.cache_read = self.cache_read.saturating_add(o.cache_read);
    }
}

/// One (day, session, model) of the report.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cell {
    pub(crate) tokens: Tok,
    /// Σ the cost of its priced turns.
    pub(crate) cost: f64,
    /// Turns that had no price (no table entry and no recorded cost).
    pub(crate) unpriced: u64,
    /// API responses (corrections are not responses).
    pub(crate) responses: u64,
    /// Latest response time (seconds since the epoch).
    pub(crate) last: i64,
}

/// What the session events say about a session (the latest `last_active_at` wins).
#[derive(Clone, Debug, Default)]
pub(crate) struct SessionMeta {
    pub(crate) agent: Option<String>,
    pub(crate) cwd: Option<String>,
    /// The git branch a session event named (empty names are `None`).
    pub(crate) branch: Option<String>,
    /// The earliest `created_at` of its session events (seconds since the epoch).
    pub(crate) created: Option<i64>,
    pub(crate) last_active: Option<i64>,
}

/// The scan's result.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    /// Session ids, by index.
    pub(crate) sessions: Vec<String>,
    pub(crate) meta: Vec<SessionMeta>,
    /// Model ids as written, by index.
    pub(crate) models: Vec<String>,
    /// (UTC quarter-hour since the epoch, session, model) → sums.
    pub(crate) cells: HashMap<(i32, u32, u32), Cell>,
    pub(crate) lines: u64,
    pub(crate) duplicates: u64,
    /// Turns without any timestamp (legacy lines): not in any period.
    pub(crate) undated: u64,
    pub(crate) diagnostics: u64,
    pub(crate) kept: Vec<Diagnostic>,
    pub(crate) session_ix: HashMap<String, u32>,
    pub(crate) model_ix: HashMap<String, u32>,
    pub(crate) seen: super::seen::Seen,
}

enum Rec {
    Turn {
        id: Option<u128>,
        session: u32,
        model: u32,
        qh: i32,
        secs: i64,
        tokens: Tok,
        cost: Option<f64>,
        response: bool,
    },
    Session {
        id: Option<u128>,
        session: u32,
        agent: Option<String>,
        cwd: Option<String>,
        branch: Option<String>,
        created: i64,
        last: i64,
    },
    Undated {
        id: Option<u128>,
    },
}

struct Chunk {
    idx: u64,
    data: Vec<u8>,
    /// The bytes after the input's last newline (a line being written, or torn): reported
    /// for this run, never consumed.
    tail: bool,
}

/// What a worker made of one chunk.
pub(crate) struct ChunkOut {
    idx: u64,
    tail: bool,
    data: Vec<u8>,
    /// Chunk-local names (sessions and models share the table).
    names: Vec<String>,
    recs: Vec<Rec>,
    lines: u64,
    diags: Vec<(u64, String)>,
}

/// Chunk-local interning.
#[derive(Default)]
struct Names {
    ix: HashMap<String, u32>,
    list: Vec<String>,
}

impl Names {
    fn get(&mut self, s: &str) -> u32 {
        if let Some(i) = self.ix.get(s) {
            return *i;
        }
        let i = self.list.len() as u32;
        self.ix.insert(s.to_owned(), i);
        self.list.push(s.to_owned());
        i
    }
}

fn quarter_of(secs: i64) -> i32 {
    i32::try_from(secs.div_euclid(QUARTER)).unwrap_or(if secs < 0 { i32::MIN } else { i32::MAX })
}

fn process(chunk: Chunk, ctx: &Ctx<'_>) -> ChunkOut {
    let mut out = ChunkOut {
        idx: chunk.idx,
        tail: chunk.tail,
        data: Vec::new(),
        names: Vec::new(),
        recs: Vec::new(),
        lines: 0,
        diags: Vec::new(),
    };
    let mut names = Names::default();
    let mut prices: HashMap<u32, Option<&ModelPrice>> = HashMap::default();
    let data = chunk.data.as_slice();
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    let torn_possible = chunk.tail;
    let pieces = LineRanges::new(body).take(if data.is_empty() { 0 } else { usize::MAX });
    for piece in pieces {
        out.lines += 1;
        let is_last = piece.end == body.len();
        let text = match std::str::from_utf8(body.get(piece).unwrap_or_default()) {
            Ok(t) => t.trim_ascii(),
            Err(e) => {
                out.diags.push((out.lines, format!("invalid utf-8: {e}")));
                continue;
            }
        };
        if text.is_empty() {
            continue;
        }
        if text == OVERLONG_LINE {
            out.diags
                .push((out.lines, "line longer than 64 MiB: not an event, skipped".to_owned()));
            continue;
        }
        let parsed =
            view::with_line(text, |l| record(l, ctx, &mut names, &mut prices, &mut out.recs));
        if let Err(message) = parsed.and_then(|r| r) {
            let message = if torn_possible && is_last {
                format!("torn last line (no trailing newline), skipped: {message}")
            } else {
                message
            };
            out.diags.push((out.lines, message));
        }
    }
    out.names = names.list;
    out.data = chunk.data;
    out
}

/// What one accepted line adds: a turn (checked by the rollup's limits rule, priced) or a
/// session's details; other events add nothing. `Err` says why the turn is refused.
fn record<'c>(
    line: Line<'_>,
    ctx: &Ctx<'c>,
    names: &mut Names,
    prices: &mut HashMap<u32, Option<&'c ModelPrice>>,
    recs: &mut Vec<Rec>,
) -> Result<(), String> {
    match line {
        Line::Turn(t) => {
            let provider =
                provider_of_turn(&t.turn.model, t.cost.as_ref().map(|c| c.provider.as_ref()));
            check_magnitudes(&t, provider)?;
            let id = t.event_id.and_then(|i| i.0);
            let Some(when) = t.turn.responded_at.or(t.ts) else {
                recs.push(Rec::Undated { id });
                return Ok(());
            };
            let secs = when.0.as_second();
            let qh = quarter_of(secs);
            let session = names.get(&t.turn.session_id);
            let model = names.get(&t.turn.model);
            let write = t.turn.cache_creation_tokens.unwrap_or(0);
            let tokens = Tok {
                input: t.turn.tokens_in,
                output: t.turn.tokens_out,
                cache_write: write,
                cache_write_1h: t.turn.cache_creation_1h_tokens.unwrap_or(0).min(write),
                cache_read: t.turn.cache_read_tokens.unwrap_or(0),
            };
            // A recorded cost (what the writer said was paid) wins; else the table in force
            // prices it, also over an estimate an earlier table made (`cost.price_table`),
            // which stands only when the table in force has no price for the model.
            let recorded = t.cost.as_ref().filter(|c| c.price_table.is_none());
            let estimated = t.cost.as_ref().map(|c| c.estimated_usd.0);
            let cost = match recorded {
                Some(c) => Some(c.estimated_usd.0),
                None => prices
                    .entry(model)
                    .or_insert_with(|| ctx.prices.lookup(&t.turn.model).map(|(_, p)| p))
                    .map(|p| {
                        p.cost(&Tokens {
                            input: tokens.input,
                            output: tokens.output,
                            cache_write: tokens.cache_write,
                            cache_write_1h: tokens.cache_write_1h,
                            cache_read: tokens.cache_read,
                        })
                    })
                    .or(estimated),
            };
            let response = t.turn.revises.is_none();
            recs.push(Rec::Turn { id, session, model, qh, secs, tokens, cost, response });
        }
        Line::Session(s) => {
            let id = s.event_id.and_then(|i| i.0);
            let session = names.get(&s.session.session_id);
            let created = s.session.created_at.0.as_second();
            let last = s.session.last_active_at.unwrap_or(s.session.created_at).0.as_second();
            let branch = s.session.branch.trim();
            recs.push(Rec::Session {
                id,
                session,
                agent: s.session.agent.as_deref().map(str::to_owned),
                cwd: s.session.cwd.as_deref().map(str::to_owned),
                branch: (!branch.is_empty()).then(|| branch.to_owned()),
                created,
                last,
            });
        }
        Line::End(_) | Line::Unknown => {}
    }
    Ok(())
}

impl Collected {
    pub(crate) fn intern(map: &mut HashMap<String, u32>, list: &mut Vec<String>, s: &str) -> u32 {
        if let Some(i) = map.get(s) {
            return *i;
        }
        let i = list.len() as u32;
        map.insert(s.to_owned(), i);
        list.push(s.to_owned());
        i
    }

    pub(crate) fn session(&mut self, s: &str) -> u32 {
        let i = Self::intern(&mut self.session_ix, &mut self.sessions, s);
        if self.meta.len() < self.sessions.len() {
            self.meta.push(SessionMeta::default());
        }
        i
    }

    /// Whether an event with this id is new (and remember it).
    fn first(&mut self, id: Option<u128>) -> bool {
        match id {
            Some(h) => self.seen.insert(h),
            None => true,
        }
    }

    /// Add a chunk's records (line numbers after `base`).
    pub(crate) fn merge(&mut self, out: ChunkOut, file: &Utf8Path, base: u64) {
        self.lines += out.lines;
        for (line, message) in out.diags {
            self.diagnostics += 1;
            if self.kept.len() < MAX_KEPT_DIAGNOSTICS {
                self.kept.push(Diagnostic { file: file.to_owned(), line: base + line, message });
            }
        }
        let name = |i: u32| out.names.get(i as usize).map(String::as_str).unwrap_or_default();
        for rec in out.recs {
            match rec {
                Rec::Turn { id, session, model, qh, secs, tokens, cost, response } => {
                    if !self.first(id) {
                        self.duplicates += 1;
                        continue;
                    }
                    let s = self.session(name(session));
                    let m = Self::intern(&mut self.model_ix, &mut self.models, name(model));
                    let cell = self.cells.entry((qh, s, m)).or_default();
                    cell.tokens.add(&tokens);
                    match cost {
                        Some(c) => cell.cost += c,
                        None => cell.unpriced += 1,
                    }
                    if response {
                        cell.responses += 1;
                    }
                    cell.last = cell.last.max(secs);
                }
                Rec::Session { id, session, agent, cwd, branch, created, last } => {
                    if !self.first(id) {
                        self.duplicates += 1;
                        continue;
                    }
                    let s = self.session(name(session)) as usize;
                    if let Some(meta) = self.meta.get_mut(s) {
                        let created = Some(meta.created.map_or(created, |c| c.min(created)));
                        if meta.last_active.is_none_or(|l| last >= l) {
                            *meta = SessionMeta {
                                agent: agent.or(meta.agent.take()),
                                cwd: cwd.or(meta.cwd.take()),
                                branch: branch.or(meta.branch.take()),
                                created,
                                last_active: Some(last),
                            };
                        } else {
                            meta.created = created;
                        }
                    }
                }
                Rec::Undated { id } => {
                    if self.first(id) {
                        self.undated += 1;
                    } else {
                        self.duplicates += 1;
                    }
                }
            }
        }
    }
}

/// How far a scan got.
pub(crate) struct Scanned {
    /// Bytes of whole lines (up to the last newline).
    pub(crate) bytes: u64,
    /// Whole lines.
    pub(crate) lines: u64,
    /// The records after the last newline, not merged: the caller merges them after saving
    /// what whole lines gave (a line being written is read again next time).
    pub(crate) tail: Option<ChunkOut>,
}

/// Scan one reader into `all` (two parsing workers, merged in order here); line numbers in
/// diagnostics start after `base_line`.
pub(crate) fn scan<R: Read + Send>(
    mut reader: R,
    name: &Utf8Path,
    ctx: &Ctx<'_>,
    all: &mut Collected,
    base_line: u64,
) -> std::io::Result<Scanned> {
    std::thread::scope(|s| {
        let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
        let (done_tx, done_rx) = mpsc::sync_channel::<ChunkOut>(4);
        let mut senders = Vec::new();
        let mut workers = Vec::new();
        for _ in 0..2 {
            let (tx, rx) = mpsc::sync_channel::<Chunk>(2);
            senders.push(tx);
            let done_tx = done_tx.clone();
            workers.push(s.spawn(move || {
                for chunk in rx {
                    if done_tx.send(process(chunk, ctx)).is_err() {
                        return;
                    }
                }
            }));
        }
        drop(done_tx);
        let reader = &mut reader;
        let read = s.spawn(move || read_chunks(reader, &senders, &free_rx));
        let mut pending: BTreeMap<u64, ChunkOut> = BTreeMap::new();
        let mut next = 0u64;
        let mut done = Scanned { bytes: 0, lines: 0, tail: None };
        for r in done_rx {
            pending.insert(r.idx, r);
            while let Some(mut r) = pending.remove(&next) {
                next += 1;
                let data = std::mem::take(&mut r.data);
                if r.tail {
                    done.tail = Some(r);
                    continue;
                }
                done.bytes += data.len() as u64;
                let lines = r.lines;
                all.merge(r, name, base_line + done.lines);
                done.lines += lines;
                let _ = free_tx.send(data);
            }
        }
        if workers.into_iter().map(|w| w.join()).any(|r| r.is_err()) {
            return Err(std::io::Error::other("a usage worker stopped"));
        }
        read.join().unwrap_or_else(|_| Err(std::io::Error::other("the usage reader stopped")))?;
        Ok(done)
    })
}

fn read_chunks<R: Read>(
    reader: &mut R,
    senders: &[mpsc::SyncSender<Chunk>],
    free: &mpsc::Receiver<Vec<u8>>,
) -> std::io::Result<()> {
    let mut chunks = LineChunks::new(reader);
    let mut idx = 0u64;
    loop {
        let mut buf = free.try_recv().unwrap_or_else(|_| Vec::with_capacity(BUF_CAPACITY));
        let eof = chunks.next_into(&mut buf)?;
        // At the end, what follows the last newline goes alone, as the tail.
        let tail = if eof {
            let cut = buf.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
            buf.split_off(cut)
        } else {
            Vec::new()
        };
        for (data, is_tail) in [(buf, false), (tail, true)] {
            if data.is_empty() {
                continue;
            }
            let Some(tx) = senders.get((idx % senders.len().max(1) as u64) as usize) else {
                return Ok(());
            };
            if tx.send(Chunk { idx, data, tail: is_tail }).is_err() {
                return Ok(());
            }
            idx += 1;
        }
        if eof {
            return Ok(());
        }
    }
}
