//! The streaming summary: read big chunks, split them at newlines, parse in two workers,
//! merge partial aggregates. Memory grows with sessions, models, features and days, never with
//! the number of events.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use agentos_event_schema::Timestamp;
use agentos_event_schema::v1::{
    CapacityAlert, FeatureStatus, MetricsSummary, ModelValue, OutcomeKind, Period, SCHEMA_VERSION,
    Usage,
};
use camino::{Utf8Path, Utf8PathBuf};

use crate::view::{self, Line};
use crate::{CAPACITY_ADVICE, Error, WEEKLY_BUFFER_LINE, provider_of};

/// Bytes handed to a worker at a time (plus the rest of the line that straddles the boundary).
const CHUNK: usize = 1 << 20;
/// Longest line kept: an event line is a few hundred bytes; a longer one (a binary file, a
/// runaway writer) is dropped by the reader and reported, so memory stays bounded.
pub(crate) const MAX_LINE: usize = 64 << 20;
/// What the reader puts in place of a dropped over-long line (a control character first, so
/// it can never be a real line of JSON).
const OVERLONG_LINE: &str = "\u{1}line longer than 64 MiB";

/// At most this many diagnostics are kept in [`Rollup::diagnostics`]; all are counted in
/// `summary.diagnostics`.
pub const MAX_KEPT_DIAGNOSTICS: usize = 1000;

/// How to roll up.
#[derive(Clone, Debug, Default)]
pub struct SummaryOptions {
    /// Fail on the first malformed or schema-invalid line instead of skipping it. A torn last
    /// line (no trailing newline: a writer was interrupted) is still only reported.
    pub strict: bool,
    /// A CCC `/v1/usage` `models` map (model → model view), copied into the summary's
    /// `model_health` and read for `weekly_pct` (capacity alerts).
    pub model_health: Option<BTreeMap<String, serde_json::Value>>,
    /// Only count events of this session (reports for one session).
    pub session: Option<String>,
    /// Weekly capacity per provider, in the unit of `capacity_used` (default 1.0: capacity is
    /// a fraction of the weekly limit). Providers that count prompts (`glm…`, `zai…`) get no
    /// alert from events unless listed here.
    pub weekly_capacity: BTreeMap<String, f64>,
    /// Value of `generated_at` (default: now).
    pub generated_at: Option<Timestamp>,
}

/// A line that was skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file.
    pub file: Utf8PathBuf,
    /// 1-based line number.
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// Totals of a slice of the log (a session, a day).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Row {
    /// Turns.
    pub turns: u64,
    /// Input tokens.
    pub tokens_in: u64,
    /// Output tokens.
    pub tokens_out: u64,
    /// Estimated cost, USD.
    pub cost_usd: f64,
    /// Σ feature_delta.
    pub features: f64,
    /// Σ capacity_used.
    pub capacity_used: f64,
    /// `features / capacity_used`; `null` when capacity is 0.
    pub features_per_capacity: Option<f64>,
}

/// One session's totals.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SessionRow {
    /// The session id.
    pub session_id: String,
    /// When it started (its `created_at`, else its first timed event).
    pub started: Option<Timestamp>,
    /// Whether a `session_end` was seen.
    pub ended: bool,
    /// Its totals.
    #[serde(flatten)]
    pub row: Row,
}

/// The result of a rollup.
#[derive(Clone, Debug)]
pub struct Rollup {
    /// The summary (`metrics_summary.json`).
    pub summary: MetricsSummary,
    /// Skipped lines (at most [`MAX_KEPT_DIAGNOSTICS`]; `summary.diagnostics` counts all).
    pub diagnostics: Vec<Diagnostic>,
    /// Per session, ordered by start time then id.
    pub sessions: Vec<SessionRow>,
    /// Per UTC day (`YYYY-MM-DD`; `unknown` for turns with no time in sessions with no time).
    pub days: BTreeMap<String, Row>,
}

// ---------------------------------------------------------------------------------------------
// Accumulators

/// A fast non-cryptographic hasher (the rustc "Fx" multiply-rotate) for the in-memory maps:
/// keys are ids and model names from local files, SipHash's DoS resistance buys nothing here.
#[derive(Clone, Copy, Default)]
struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(K);
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<Fx>>;

/// Neumaier-compensated sum: order-insensitive to the last few bits, so the two-worker merge
/// gives the same numbers as a sequential pass.
#[derive(Clone, Copy, Debug, Default)]
struct Sum {
    s: f64,
    c: f64,
}

impl Sum {
    fn add(&mut self, x: f64) {
        let t = self.s + x;
        if self.s.abs() >= x.abs() {
            self.c += (self.s - t) + x;
        } else {
            self.c += (x - t) + self.s;
        }
        self.s = t;
    }
    fn merge(&mut self, o: Sum) {
        self.add(o.s);
        self.add(o.c);
    }
    fn get(self) -> f64 {
        self.s + self.c
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Mean {
    sum: Sum,
    n: u64,
}

impl Mean {
    fn add(&mut self, x: f64) {
        self.sum.add(x);
        self.n += 1;
    }
    fn merge(&mut self, o: Mean) {
        self.sum.merge(o.sum);
        self.n += o.n;
    }
    fn get(self) -> Option<f64> {
        (self.n > 0).then(|| self.sum.get() / self.n as f64)
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct RowAcc {
    turns: u64,
    tokens_in: u64,
    tokens_out: u64,
    cost: Sum,
    features: Sum,
    capacity: Sum,
}

impl RowAcc {
    fn merge(&mut self, o: &RowAcc) {
        self.turns += o.turns;
        self.tokens_in = self.tokens_in.saturating_add(o.tokens_in);
        self.tokens_out = self.tokens_out.saturating_add(o.tokens_out);
        self.cost.merge(o.cost);
        self.features.merge(o.features);
        self.capacity.merge(o.capacity);
    }
    fn row(&self) -> Row {
        let capacity = self.capacity.get();
        let features = self.features.get();
        Row {
            turns: self.turns,
            tokens_in: self.tokens_in,
            tokens_out: self.tokens_out,
            cost_usd: self.cost.get(),
            features,
            capacity_used: capacity,
            features_per_capacity: (capacity != 0.0).then(|| features / capacity),
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct UsageAcc {
    turns: u64,
    tokens_in: u64,
    tokens_out: u64,
    cost: Sum,
}

impl UsageAcc {
    fn merge(&mut self, o: &UsageAcc) {
        self.turns += o.turns;
        self.tokens_in = self.tokens_in.saturating_add(o.tokens_in);
        self.tokens_out = self.tokens_out.saturating_add(o.tokens_out);
        self.cost.merge(o.cost);
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct AttrAcc {
    weight: Sum,
    features: Sum,
}

/// Position of a line in the input, for "latest status wins".
type Pos = (usize, u64, u64);

#[derive(Clone, Debug, Default)]
struct SessAcc {
    row: RowAcc,
    created: Option<jiff::Timestamp>,
    first_seen: Option<jiff::Timestamp>,
    ended: bool,
    /// Turns of this session that carry no time: attributed to the session's day at the end.
    /// Whether a `session` event (non-empty id) was seen: only those count as sessions.
    announced: bool,
    /// Turns without a time (Python logs), boxed: most sessions have none.
    undated: Option<Box<Undated>>,
}

#[derive(Clone, Debug, Default)]
struct Undated {
    row: RowAcc,
    capacity: HashMap<String, Sum>,
}

impl SessAcc {
    fn merge(&mut self, o: SessAcc) {
        self.row.merge(&o.row);
        self.created = min_opt(self.created, o.created);
        self.first_seen = min_opt(self.first_seen, o.first_seen);
        self.ended |= o.ended;
        self.announced |= o.announced;
        if let Some(u) = o.undated {
            let mine = self.undated.get_or_insert_with(Box::default);
            mine.row.merge(&u.row);
            for (p, s) in u.capacity {
                mine.capacity.entry(p).or_default().merge(s);
            }
        }
    }
    fn start(&self) -> Option<jiff::Timestamp> {
        self.created.or(self.first_seen)
    }
}

fn min_opt(a: Option<jiff::Timestamp>, b: Option<jiff::Timestamp>) -> Option<jiff::Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// A partial aggregate (one worker's share; merged at the end).
#[derive(Debug, Default)]
struct Acc {
    turns: u64,
    features_sum: Sum,
    capacity_sum: Sum,
    cls: Mean,
    impf: Mean,
    churn: Mean,
    attribution: HashMap<String, AttrAcc>,
    /// model → provider → usage.
    usage: HashMap<String, HashMap<String, UsageAcc>>,
    cost: Sum,
    features: HashMap<String, (Pos, FeatureStatus)>,
    outcomes: [u64; OutcomeKind::ALL.len()],
    period: Option<(jiff::Timestamp, jiff::Timestamp)>,
    sessions: HashMap<String, SessAcc>,
    /// UTC day number (days since the epoch) → totals of timed turns.
    days: HashMap<i64, RowAcc>,
    /// provider → day → capacity of timed turns.
    provider_days: HashMap<String, HashMap<i64, Sum>>,
}

fn day_of(t: jiff::Timestamp) -> i64 {
    t.as_second().div_euclid(86_400)
}

fn day_name(day: i64) -> String {
    match Timestamp::from_unix_seconds(day.saturating_mul(86_400)) {
        Some(t) => t.utc_date(),
        None => "unknown".to_owned(),
    }
}

/// Largest magnitude a number added into the totals may have. Every JSON number is a finite
/// f64, but sums and products of values near `f64::MAX` overflow to ±inf or NaN, which JSON
/// cannot hold (serde_json would write `null` into a field that is never null). No real
/// count, capacity, weight or cost comes near 1e15, so a line with such a number is skipped
/// with a diagnostic instead.
pub const MAX_MAGNITUDE: f64 = 1e15;

fn check_magnitudes(t: &view::TurnLine<'_>) -> Result<(), String> {
    let check = |name: &str, x: f64| {
        if x.abs() <= MAX_MAGNITUDE {
            Ok(())
        } else {
            Err(format!(
                "{name} = {x} is out of range: numbers added into totals must be within ±1e15"
            ))
        }
    };
    if let Some(m) = &t.measurement {
        check("measurement.cls", m.cls)?;
        check("measurement.impf", m.impf.0)?;
        check("measurement.churn_score", m.churn_score)?;
        check("measurement.feature_delta", m.feature_delta)?;
    }
    if let Some(c) = t.turn.capacity_used {
        check("turn.capacity_used", c.0)?;
    }
    for (_, w) in &t.turn.attribution.0 {
        check("turn.attribution", *w)?;
    }
    if let Some(c) = &t.cost {
        check("cost.estimated_usd", c.estimated_usd.0)?;
    }
    Ok(())
}

/// Get-or-insert without allocating the key when it is present (`None` cannot happen; it
/// keeps the code panic-free).
fn slot<'m, V: Default>(map: &'m mut HashMap<String, V>, key: &str) -> Option<&'m mut V> {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), V::default());
    }
    map.get_mut(key)
}

impl Acc {
    fn see_time(&mut self, t: jiff::Timestamp) {
        self.period = Some(match self.period {
            Some((a, b)) => (a.min(t), b.max(t)),
            None => (t, t),
        });
    }

    /// Add one accepted line; `Err` (nothing added) when a number is beyond [`MAX_MAGNITUDE`].
    fn apply(
        &mut self,
        line: Line<'_>,
        pos: Pos,
        session_filter: Option<&str>,
    ) -> Result<(), String> {
        match line {
            Line::Session(s) => {
                let id = s.session.session_id.as_ref();
                if session_filter.is_some_and(|f| f != id) {
                    return Ok(());
                }
                let created = s.session.created_at.0;
                self.see_time(created);
                if let Some(ts) = s.ts {
                    self.see_time(ts.0);
                }
                if let Some(sess) = slot(&mut self.sessions, id) {
                    sess.created = min_opt(sess.created, Some(created));
                    sess.announced |= !id.is_empty();
                }
            }
            Line::End(e) => {
                let id = e.session_id.as_ref();
                if session_filter.is_some_and(|f| f != id) {
                    return Ok(());
                }
                self.see_time(e.ended_at.0);
                if let Some(ts) = e.ts {
                    self.see_time(ts.0);
                }
                if let Some(sess) = slot(&mut self.sessions, id) {
                    sess.ended = true;
                    let at = e.ts.map_or(e.ended_at.0, |t| t.0);
                    sess.first_seen = min_opt(sess.first_seen, Some(at));
                }
            }
            Line::Turn(t) => {
                check_magnitudes(&t)?;
                self.apply_turn(t, pos, session_filter);
            }
        }
        Ok(())
    }

    fn apply_turn(&mut self, t: view::TurnLine<'_>, pos: Pos, session_filter: Option<&str>) {
        let turn = &t.turn;
        if session_filter.is_some_and(|f| f != turn.session_id.as_ref()) {
            return;
        }
        self.turns += 1;
        let mut feature_delta = 0.0;
        if let Some(m) = &t.measurement {
            self.cls.add(m.cls);
            self.impf.add(m.impf.0);
            self.churn.add(m.churn_score);
            self.features_sum.add(m.feature_delta);
            feature_delta = m.feature_delta;
        }
        let capacity = turn.capacity_used.map(|c| c.0);
        if let Some(c) = capacity {
            self.capacity_sum.add(c);
        }
        for (model, w) in &turn.attribution.0 {
            if let Some(a) = slot(&mut self.attribution, model) {
                a.weight.add(*w);
                a.features.add(*w * feature_delta);
            }
        }
        let cost_usd = t.cost.as_ref().map_or(0.0, |c| c.estimated_usd.0);
        let provider = provider_of(&turn.model, t.cost.as_ref().map(|c| c.provider.as_ref()));
        if let Some(u) = slot(&mut self.usage, &turn.model).and_then(|m| slot(m, provider)) {
            u.turns += 1;
            u.tokens_in = u.tokens_in.saturating_add(turn.tokens_in);
            u.tokens_out = u.tokens_out.saturating_add(turn.tokens_out);
            u.cost.add(cost_usd);
        }
        self.cost.add(cost_usd);
        if let Some(f) = &t.feature {
            let id = f.feature_id.as_ref();
            match self.features.get_mut(id) {
                Some(cur) if cur.0 < pos => *cur = (pos, f.status),
                Some(_) => {}
                None => {
                    self.features.insert(id.to_owned(), (pos, f.status));
                }
            }
        }
        if let Some(o) = &t.outcome
            && let Some(i) = OutcomeKind::ALL.iter().position(|k| *k == o.kind)
            && let Some(n) = self.outcomes.get_mut(i)
        {
            *n = n.saturating_add(o.count);
        }
        let mut row = RowAcc {
            turns: 1,
            tokens_in: turn.tokens_in,
            tokens_out: turn.tokens_out,
            ..RowAcc::default()
        };
        row.cost.add(cost_usd);
        row.features.add(feature_delta);
        if let Some(c) = capacity {
            row.capacity.add(c);
        }
        if let Some(ts) = t.ts {
            self.see_time(ts.0);
            let day = day_of(ts.0);
            self.days.entry(day).or_default().merge(&row);
            if let Some(c) = capacity
                && let Some(p) = slot(&mut self.provider_days, provider)
            {
                p.entry(day).or_default().add(c);
            }
        }
        let Some(sess) = slot(&mut self.sessions, &turn.session_id) else { return };
        sess.row.merge(&row);
        match t.ts {
            Some(ts) => sess.first_seen = min_opt(sess.first_seen, Some(ts.0)),
            None => {
                let u = sess.undated.get_or_insert_with(Box::default);
                u.row.merge(&row);
                if let Some(c) = capacity
                    && let Some(s) = slot(&mut u.capacity, provider)
                {
                    s.add(c);
                }
            }
        }
    }

    fn merge(&mut self, o: Acc) {
        self.turns += o.turns;
        self.features_sum.merge(o.features_sum);
        self.capacity_sum.merge(o.capacity_sum);
        self.cls.merge(o.cls);
        self.impf.merge(o.impf);
        self.churn.merge(o.churn);
        for (k, a) in o.attribution {
            let s = self.attribution.entry(k).or_default();
            s.weight.merge(a.weight);
            s.features.merge(a.features);
        }
        for (m, providers) in o.usage {
            let mine = self.usage.entry(m).or_default();
            for (p, u) in providers {
                mine.entry(p).or_default().merge(&u);
            }
        }
        self.cost.merge(o.cost);
        for (id, (pos, status)) in o.features {
            match self.features.get_mut(&id) {
                Some(cur) if cur.0 < pos => *cur = (pos, status),
                Some(_) => {}
                None => {
                    self.features.insert(id, (pos, status));
                }
            }
        }
        for (a, b) in self.outcomes.iter_mut().zip(o.outcomes) {
            *a = a.saturating_add(b);
        }
        if let Some((a, b)) = o.period {
            self.see_time(a);
            self.see_time(b);
        }
        for (id, s) in o.sessions {
            self.sessions.entry(id).or_default().merge(s);
        }
        for (d, r) in o.days {
            self.days.entry(d).or_default().merge(&r);
        }
        for (p, days) in o.provider_days {
            let mine = self.provider_days.entry(p).or_default();
            for (d, s) in days {
                mine.entry(d).or_default().merge(s);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading

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

struct ChunkInfo {
    idx: u64,
    lines: u64,
    diags: Vec<ChunkDiag>,
}

fn process_chunk(
    acc: &mut Acc,
    chunk: &Chunk,
    file_idx: usize,
    opts: &SummaryOptions,
    stop: &AtomicBool,
) -> ChunkInfo {
    let mut info = ChunkInfo { idx: chunk.idx, lines: 0, diags: Vec::new() };
    let data = chunk.data.as_slice();
    let ends_with_newline = data.last() == Some(&b'\n');
    let body =
        if ends_with_newline { data.get(..data.len() - 1).unwrap_or_default() } else { data };
    if body.is_empty() && ends_with_newline {
        info.lines = 1;
        return info;
    }
    if data.is_empty() {
        return info;
    }
    let filter = opts.session.as_deref();
    // Validate UTF-8 once per chunk (fast); only a chunk with invalid bytes is checked per line.
    let whole = std::str::from_utf8(body).ok();
    let mut lines = body.split(|&b| b == b'\n').peekable();
    let mut text_lines = whole.map(|t| t.split('\n'));
    loop {
        let (raw, is_last) = match text_lines.as_mut() {
            Some(it) => match it.next() {
                Some(l) => (Ok(l), false),
                None => break,
            },
            None => match lines.next() {
                Some(l) => {
                    (std::str::from_utf8(l).map_err(|e| e.to_string()), lines.peek().is_none())
                }
                None => break,
            },
        };
        info.lines += 1;
        let raw = match raw {
            Ok(r) => r,
            Err(e) => {
                if opts.strict {
                    stop.store(true, Ordering::Relaxed);
                }
                info.diags.push(ChunkDiag {
                    line: info.lines,
                    message: format!("invalid utf-8: {e}"),
                    torn: false,
                });
                continue;
            }
        };
        let line = raw.trim_ascii();
        if line.is_empty() {
            continue;
        }
        if line == OVERLONG_LINE {
            if opts.strict {
                stop.store(true, Ordering::Relaxed);
            }
            let message = "line longer than 64 MiB: not an event, skipped".to_owned();
            info.diags.push(ChunkDiag { line: info.lines, message, torn: false });
            continue;
        }
        let pos = (file_idx, chunk.idx, info.lines);
        if let Err(message) = view::with_line(line, |l| acc.apply(l, pos, filter)).and_then(|r| r) {
            let is_last = is_last || (whole.is_some() && line_is_last(body, raw));
            let torn = chunk.last && is_last && !ends_with_newline;
            if torn {
                info.diags.push(ChunkDiag {
                    line: info.lines,
                    message: format!("torn last line (no trailing newline), skipped: {message}"),
                    torn,
                });
            } else {
                if opts.strict {
                    stop.store(true, Ordering::Relaxed);
                }
                info.diags.push(ChunkDiag { line: info.lines, message, torn });
            }
        }
    }
    info
}

/// Whether `line` (a slice of `body`) is its last line.
fn line_is_last(body: &[u8], line: &str) -> bool {
    let end = line.as_ptr() as usize + line.len();
    end == body.as_ptr() as usize + body.len()
}

/// Roll up everything `reader` yields, naming it `name` in diagnostics.
pub fn summarize_reader<R: Read + Send>(
    name: &Utf8Path,
    reader: R,
    opts: &SummaryOptions,
) -> Result<Rollup, Error> {
    let mut acc = Acc::default();
    let mut out = Diags::default();
    scan(0, name, reader, opts, &mut acc, &mut out)?;
    finish(acc, out, opts)
}

/// Stream one or more `events.jsonl` files (a missing file counts as empty) into a summary.
/// Malformed or schema-invalid lines are skipped and reported (`strict`: the first one is an
/// [`Error::InvalidLine`]).
pub fn summarize_files(paths: &[Utf8PathBuf], opts: &SummaryOptions) -> Result<Rollup, Error> {
    let mut acc = Acc::default();
    let mut out = Diags::default();
    for (i, path) in paths.iter().enumerate() {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(Error::Read { path: path.clone(), source }),
        };
        scan(i, path, file, opts, &mut acc, &mut out)?;
    }
    finish(acc, out, opts)
}

#[derive(Default)]
struct Diags {
    kept: Vec<Diagnostic>,
    count: u64,
}

fn scan<R: Read + Send>(
    file_idx: usize,
    name: &Utf8Path,
    mut reader: R,
    opts: &SummaryOptions,
    total: &mut Acc,
    out: &mut Diags,
) -> Result<(), Error> {
    let stop = AtomicBool::new(false);
    let read_err = |source| Error::Read { path: name.to_owned(), source };
    let (results, read_result) = std::thread::scope(|s| {
        let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for _ in 0..2 {
            let (tx, rx) = mpsc::sync_channel::<Chunk>(2);
            senders.push(tx);
            let free_tx = free_tx.clone();
            let stop = &stop;
            handles.push(s.spawn(move || {
                let mut acc = Acc::default();
                let mut infos = Vec::new();
                for chunk in rx {
                    infos.push(process_chunk(&mut acc, &chunk, file_idx, opts, stop));
                    let _ = free_tx.send(chunk.data);
                }
                (acc, infos)
            }));
        }
        drop(free_tx);
        let read_result = read_chunks(&mut reader, &senders, &free_rx, &stop);
        drop(senders);
        let results: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
        (results, read_result)
    });
    let mut infos = Vec::new();
    for r in results {
        let (acc, i) = r.map_err(|_| Error::Internal("a rollup worker stopped".to_owned()))?;
        total.merge(acc);
        infos.extend(i);
    }
    read_result.map_err(read_err)?;
    infos.sort_by_key(|i| i.idx);
    let mut base = 0u64;
    for info in infos {
        for d in info.diags {
            let diag =
                Diagnostic { file: name.to_owned(), line: base + d.line, message: d.message };
            if opts.strict && !d.torn {
                return Err(Error::InvalidLine {
                    file: diag.file,
                    line: diag.line,
                    message: diag.message,
                });
            }
            out.count += 1;
            if out.kept.len() < MAX_KEPT_DIAGNOSTICS {
                out.kept.push(diag);
            }
        }
        base += info.lines;
    }
    Ok(())
}

fn read_chunks<R: Read>(
    reader: &mut R,
    senders: &[mpsc::SyncSender<Chunk>],
    free: &mpsc::Receiver<Vec<u8>>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    let mut carry: Vec<u8> = Vec::new();
    let mut idx = 0u64;
    let workers = senders.len().max(1) as u64;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut buf = free.try_recv().unwrap_or_else(|_| Vec::with_capacity(CHUNK + 4096));
        buf.clear();
        buf.append(&mut carry);
        let mut eof = false;
        // Whether `buf` holds a newline; only newly read bytes are scanned (a line longer than
        // a chunk stays linear).
        let mut has_newline = buf.contains(&b'\n');
        loop {
            let want = (CHUNK.saturating_sub(buf.len())).max(64 * 1024) as u64;
            let before = buf.len();
            let n = read_retrying(reader, &mut buf, want)?;
            if n == 0 {
                eof = true;
                break;
            }
            has_newline = has_newline || buf.get(before..).is_some_and(|b| b.contains(&b'\n'));
            if !has_newline && buf.len() > MAX_LINE {
                // `buf` is all one line: keep its place (line numbers) but not its bytes.
                let (rest, found) = skip_past_newline(reader)?;
                buf.clear();
                buf.extend_from_slice(OVERLONG_LINE.as_bytes());
                buf.push(b'\n');
                buf.extend_from_slice(&rest);
                has_newline = true;
                if !found {
                    eof = true;
                    break;
                }
            }
            if buf.len() >= CHUNK && has_newline {
                break;
            }
        }
        if !eof {
            match buf.iter().rposition(|&b| b == b'\n') {
                Some(p) => carry.extend_from_slice(buf.get(p + 1..).unwrap_or_default()),
                None => continue,
            }
            let keep = buf.len() - carry.len();
            buf.truncate(keep);
        }
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

/// Read and drop bytes up to and including the next newline; returns what followed it in the
/// last block read, and whether a newline was found before the end of the input.
fn skip_past_newline<R: Read>(reader: &mut R) -> std::io::Result<(Vec<u8>, bool)> {
    let mut block = Vec::with_capacity(64 * 1024);
    loop {
        block.clear();
        if read_retrying(reader, &mut block, 64 * 1024)? == 0 {
            return Ok((Vec::new(), false));
        }
        if let Some(p) = block.iter().position(|&b| b == b'\n') {
            return Ok((block.split_off(p + 1), true));
        }
    }
}

fn read_retrying<R: Read>(reader: &mut R, buf: &mut Vec<u8>, want: u64) -> std::io::Result<usize> {
    loop {
        match reader.by_ref().take(want).read_to_end(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Finishing

fn prompt_counted(provider: &str) -> bool {
    let p = provider.to_ascii_lowercase();
    p.starts_with("glm") || p.starts_with("zai") || p.starts_with("z.ai")
}

fn finish(mut acc: Acc, diags: Diags, opts: &SummaryOptions) -> Result<Rollup, Error> {
    // Undated turns go to their session's day.
    let mut days: BTreeMap<Option<i64>, RowAcc> = BTreeMap::new();
    for (d, r) in &acc.days {
        days.entry(Some(*d)).or_default().merge(r);
    }
    for s in acc.sessions.values() {
        let Some(u) = &s.undated else { continue };
        let day = s.start().map(day_of);
        days.entry(day).or_default().merge(&u.row);
        if let Some(d) = day {
            for (p, c) in &u.capacity {
                acc.provider_days.entry(p.clone()).or_default().entry(d).or_default().merge(*c);
            }
        }
    }

    // Weekly use: Σ capacity over the 7 UTC days ending on the period's last day.
    let mut weekly: BTreeMap<String, f64> = BTreeMap::new();
    if let Some((_, end)) = acc.period {
        let last = day_of(end);
        for (p, by_day) in &acc.provider_days {
            let cap = match opts.weekly_capacity.get(p) {
                Some(c) if *c > 0.0 => *c,
                Some(_) => continue,
                None if prompt_counted(p) => continue,
                None => 1.0,
            };
            let mut sum = Sum::default();
            for (d, c) in by_day {
                if *d > last - 7 && *d <= last {
                    sum.merge(*c);
                }
            }
            weekly.insert(p.clone(), sum.get() / cap);
        }
    }
    if let Some(health) = &opts.model_health {
        for (model, v) in health {
            let Some(pct) = v.get("weekly_pct").and_then(|x| x.as_f64()) else { continue };
            let provider = match v.get("provider").and_then(|x| x.as_str()) {
                Some(p) if !p.is_empty() => p,
                _ => provider_of(model, None),
            };
            let w = weekly.entry(provider.to_owned()).or_insert(pct);
            *w = w.max(pct);
        }
    }
    let capacity_alerts = weekly
        .iter()
        .filter(|(_, w)| **w >= WEEKLY_BUFFER_LINE - 1e-9)
        .map(|(p, w)| CapacityAlert {
            provider: p.clone(),
            weekly_used: *w,
            threshold: WEEKLY_BUFFER_LINE,
            advice: CAPACITY_ADVICE.to_owned(),
        })
        .collect();

    let mut features_by_status: BTreeMap<FeatureStatus, u64> =
        [FeatureStatus::Proposed, FeatureStatus::Implemented, FeatureStatus::Shipped]
            .into_iter()
            .map(|s| (s, 0))
            .collect();
    for (_, status) in acc.features.values() {
        *features_by_status.entry(*status).or_default() += 1;
    }
    let shipped = features_by_status.get(&FeatureStatus::Shipped).copied().unwrap_or(0);
    let cost_usd = acc.cost.get();

    let mut usage_by_model: BTreeMap<String, Usage> = BTreeMap::new();
    let mut usage_by_provider: BTreeMap<String, Usage> = BTreeMap::new();
    for (model, providers) in &acc.usage {
        let mut m = UsageAcc::default();
        for (p, u) in providers {
            m.merge(u);
            let mut pu = UsageAcc::default();
            if let Some(prev) = usage_by_provider.get(p) {
                pu = UsageAcc {
                    turns: prev.turns,
                    tokens_in: prev.tokens_in,
                    tokens_out: prev.tokens_out,
                    cost: Sum { s: prev.cost_usd, c: 0.0 },
                };
            }
            pu.merge(u);
            usage_by_provider.insert(p.clone(), usage(&pu));
        }
        usage_by_model.insert(model.clone(), usage(&m));
    }

    let mut value_per_model: BTreeMap<String, ModelValue> = BTreeMap::new();
    for (model, u) in &usage_by_model {
        value_per_model.insert(
            model.clone(),
            ModelValue {
                turns: u.turns,
                tokens_in: u.tokens_in,
                tokens_out: u.tokens_out,
                cost_usd: u.cost_usd,
                ..ModelValue::default()
            },
        );
    }
    let mut model_value = BTreeMap::new();
    for (model, a) in &acc.attribution {
        model_value.insert(model.clone(), a.weight.get());
        let v = value_per_model.entry(model.clone()).or_default();
        v.attribution_weight = a.weight.get();
        v.features_attributed = a.features.get();
    }
    for v in value_per_model.values_mut() {
        v.cost_per_attributed_feature =
            (v.features_attributed > 0.0).then(|| v.cost_usd / v.features_attributed);
    }

    let features_shipped = acc.features_sum.get();
    let capacity_used = acc.capacity_sum.get();
    let outcomes = OutcomeKind::ALL.iter().copied().zip(acc.outcomes).collect();
    let summary = MetricsSummary {
        schema_version: SCHEMA_VERSION.to_owned(),
        generated_at: Some(opts.generated_at.unwrap_or_else(Timestamp::now)),
        period: acc.period.map(|(a, b)| Period { start: a.into(), end: b.into() }),
        sessions: acc.sessions.values().filter(|s| s.announced).count() as u64,
        turns: acc.turns,
        features_shipped,
        capacity_used,
        features_per_capacity: (capacity_used != 0.0).then(|| features_shipped / capacity_used),
        avg_cls: acc.cls.get(),
        avg_impf: acc.impf.get(),
        avg_churn_score: acc.churn.get(),
        model_value,
        model_health: opts.model_health.clone().filter(|m| !m.is_empty()),
        features_by_status,
        usage_by_model,
        usage_by_provider,
        cost_usd,
        cost_per_shipped_feature: (shipped > 0).then(|| cost_usd / shipped as f64),
        outcomes,
        value_per_model,
        capacity_alerts,
        diagnostics: diags.count,
        extra: Default::default(),
    };

    let mut sessions: Vec<SessionRow> = acc
        .sessions
        .iter()
        .map(|(id, s)| SessionRow {
            session_id: id.clone(),
            started: s.start().map(Timestamp::from),
            ended: s.ended,
            row: s.row.row(),
        })
        .collect();
    sessions.sort_by(|a, b| (a.started, &a.session_id).cmp(&(b.started, &b.session_id)));
    let days = days
        .into_iter()
        .map(|(d, r)| (d.map_or_else(|| "unknown".to_owned(), day_name), r.row()))
        .collect();
    Ok(Rollup { summary, diagnostics: diags.kept, sessions, days })
}

fn usage(u: &UsageAcc) -> Usage {
    Usage {
        turns: u.turns,
        tokens_in: u.tokens_in,
        tokens_out: u.tokens_out,
        cost_usd: u.cost.get(),
    }
}
