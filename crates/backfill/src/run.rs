//! One import run: find the source files, decide from the ledger which to read and from
//! where, read them in parallel, merge what they yield into the dedupe index, and plan the
//! events. Nothing is written until the caller appends the events and commits.

use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use agentos_event_schema::prices::PriceTable;
use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use crate::dedupe::{Index, KeyMap, KeyRec};
use crate::discover::{self, SourceFile};
use crate::events::{self, SessionFacts, TurnFacts};
use crate::ledger::{FINGERPRINT_BYTES, FileEntry, Ledger, Plan, Stat, fingerprint};
use crate::received::Received;
use crate::record::{Diagnostic, FileOut, Response, Strings};
use crate::{Agent, Error, PrivacyTier, claude, codex};

/// Where to look.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sources {
    /// Claude Code config dirs (see [`discover::claude_dirs`]).
    pub claude_dirs: Vec<Utf8PathBuf>,
    /// Codex homes (see [`discover::codex_homes`]).
    pub codex_homes: Vec<Utf8PathBuf>,
}

/// What to import and where the import keeps its state.
#[derive(Clone, Debug)]
pub struct Options {
    /// The sources.
    pub sources: Sources,
    /// The import's own state (ledger, index, lock), e.g. `<data dir>/import`.
    pub state_dir: Utf8PathBuf,
    /// The tier written into session events.
    pub privacy_tier: PrivacyTier,
    /// Files read in parallel (at least 1).
    pub threads: usize,
    /// The price table that estimates each imported response's cost (written as the turn's
    /// `cost` with `price_table` set to the table's id); `None` writes no estimates. A cost
    /// the transcript itself recorded (`costUSD`) is kept as recorded.
    pub prices: Option<PriceTable>,
    /// The OTLP receiver's list of the requests it recorded (`<data dir>/` +
    /// `agentos_otel::receive::RECEIVED_FINGERPRINTS`): a response whose session, model and
    /// final usage match one is not written again (counted in `Report::already_received`).
    /// `None` consults nothing.
    pub received_fingerprints: Option<Utf8PathBuf>,
}

/// How far the reading got (for a progress bar).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of files read so far.
    pub bytes_done: u64,
    /// Bytes to read in all.
    pub bytes_total: u64,
    /// Files read so far.
    pub files_done: u64,
    /// Files to read in all.
    pub files_total: u64,
}

/// At most this many problem lines are listed (the counts are exact).
pub const MAX_LISTED_PROBLEMS: usize = 50;

/// What an import found and did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Report {
    /// Source files found (one per file, however many paths lead to it).
    pub files_seen: u64,
    /// Files read (new, appended or rewritten).
    pub files_read: u64,
    /// Of those, files never read before.
    pub files_new: u64,
    /// Of those, files read from where the last run stopped.
    pub files_appended: u64,
    /// Of those, files rewritten or shortened, read again from the start.
    pub files_rewritten: u64,
    /// Files skipped because nothing changed (a stat told).
    pub files_unchanged: u64,
    /// Files that could not be read (listed in `unreadable`), skipped.
    pub files_failed: u64,
    /// Bytes read.
    pub bytes_read: u64,
    /// Lines read (blank ones included).
    pub lines: u64,
    /// Blank lines (skipped).
    pub blank_lines: u64,
    /// Lines that carried usage.
    pub usage_lines: u64,
    /// API responses imported (one turn event each).
    pub responses: u64,
    /// Correction turns: responses imported earlier whose final usage turned out larger.
    pub corrections: u64,
    /// Readings of a response already counted (streaming snapshots, copies in resumed
    /// sessions, re-imports, Codex re-emissions), dropped.
    pub duplicates: u64,
    /// New responses the OTLP receiver had already recorded (same session, model and usage):
    /// entered in the dedupe index, not written again.
    pub already_received: u64,
    /// API-error placeholders (`<synthetic>`), skipped.
    pub synthetic: u64,
    /// Session events written (new sessions, and sessions whose time span grew).
    pub sessions: u64,
    /// Events written in all.
    pub events: u64,
    /// Lines skipped as malformed (listed in `malformed`, up to `MAX_LISTED_PROBLEMS`, 50).
    pub malformed_lines: u64,
    /// `file:line: reason` for skipped lines.
    pub malformed: Vec<String>,
    /// `path: reason` for files and directories that could not be read.
    pub unreadable: Vec<String>,
}

impl Report {
    fn malformed_line(&mut self, d: &Diagnostic) {
        if self.malformed.len() < MAX_LISTED_PROBLEMS {
            self.malformed.push(d.to_string());
        }
    }

    fn unreadable(&mut self, path: &Utf8Path, e: &std::io::Error) {
        self.files_failed += 1;
        if self.unreadable.len() < MAX_LISTED_PROBLEMS {
            self.unreadable.push(format!("{path}: cannot read: {e}"));
        }
    }
}

/// The result of [`prepare`]: the events to write and the state to commit after them. Holds
/// the import lock until dropped, so concurrent imports run one after the other.
#[derive(Debug)]
pub struct Pending {
    report: Report,
    state_dir: Utf8PathBuf,
    tier: PrivacyTier,
    prices: Option<PriceTable>,
    changes: Option<Changes>,
    _lock: File,
}

#[derive(Debug)]
struct Changes {
    ledger: Ledger,
    index: Index,
    strings: Strings,
    sessions: Vec<u32>,
    turns: Vec<Planned>,
    before: KeyMap<KeyRec>,
}

#[derive(Clone, Copy, Debug)]
struct Planned {
    resp: Response,
    rank: u32,
}

struct Job {
    file: SourceFile,
    plan: Plan,
    stat: Stat,
}

const LEDGER: &str = "ledger.json";
/// Turns rendered per batch (about 5 MB of lines).
const BATCH_TURNS: usize = 8192;
/// Session lines per batch (about 1 MB: still in the core's cache when written).
const BATCH_BYTES: usize = 1 << 20;
const LOCK: &str = "import.lock";

/// Find and read what changed since the last run; plan the events. Writes nothing but the
/// lock file. `progress` is called from the reading threads after each file.
pub fn prepare(opts: &Options, progress: &(dyn Fn(Progress) + Sync)) -> Result<Pending, Error> {
    let dir = &opts.state_dir;
    let lock = lock_state_dir(dir, LOCK)?;
    let mut ledger = Ledger::load(&dir.join(LEDGER))?;
    let mut report = Report::default();

    let mut diags = Vec::new();
    let mut files = Vec::new();
    for d in &opts.sources.claude_dirs {
        files.extend(discover::claude_files(d, &mut diags));
    }
    for h in &opts.sources.codex_homes {
        files.extend(discover::codex_files(h, &mut diags));
    }
    for d in &diags {
        report.files_failed += 1;
        if report.unreadable.len() < MAX_LISTED_PROBLEMS {
            report.unreadable.push(d.to_string());
        }
    }

    let mut seen = HashSet::new();
    let mut jobs = Vec::new();
    for file in files {
        let meta = match std::fs::metadata(&file.path) {
            Ok(m) if m.is_file() => m,
            Ok(_) => continue,
            Err(e) => {
                report.unreadable(&file.path, &e);
                continue;
            }
        };
        let stat = Stat::of(&meta);
        if (stat.dev, stat.ino) != (0, 0) && !seen.insert((stat.dev, stat.ino)) {
            continue; // The same file by another path (e.g. both config dirs are one).
        }
        report.files_seen += 1;
        let prefix =
            |len: u64| File::open(&file.path).and_then(|f| fingerprint(f, len)).map(|p| p.1);
        match ledger.plan(file.path.as_str(), &stat, prefix) {
            Ok(Plan::Unchanged) => report.files_unchanged += 1,
            Ok(plan) => jobs.push(Job { file, plan, stat }),
            Err(e) => report.unreadable(&file.path, &e),
        }
    }
    if jobs.is_empty() {
        return Ok(Pending {
            report,
            state_dir: dir.clone(),
            tier: opts.privacy_tier,
            prices: opts.prices.clone(),
            changes: None,
            _lock: lock,
        });
    }

    let mut index = Index::open(dir)?;
    let outs = read_all(&jobs, &ledger, opts.threads.max(1), progress);

    // Files in the order that decides which session a copied response belongs to: the one
    // whose responses start earliest, then by path.
    let mut order: Vec<(usize, FileOut, FileEntry)> = Vec::with_capacity(outs.len());
    for (i, r) in outs {
        match r {
            Ok((out, entry)) => order.push((i, out, entry)),
            Err(e) => report.unreadable(&jobs[i].file.path, &e),
        }
    }
    order.sort_by(|a, b| {
        (a.1.first_ts, &jobs[a.0].file.path).cmp(&(b.1.first_ts, &jobs[b.0].file.path))
    });

    let mut strings = Strings::default();
    // This run's responses, and where each key is among them.
    // Sized once: growing by doubling would briefly hold two copies.
    let most: usize = order.iter().map(|o| o.1.responses.len()).sum();
    index.expect_lookups(most)?;
    let mut turns: Vec<Planned> = Vec::with_capacity(most);
    let mut slot: KeyMap<u32> = KeyMap::default();
    slot.reserve(most);
    // For corrections: the usage imported before (rare, so apart).
    let mut before: KeyMap<KeyRec> = KeyMap::default();
    let mut readings = 0u64;
    // By value: each file's records are freed once merged.
    for (rank, (i, out, entry)) in order.into_iter().enumerate() {
        let job = &jobs[i];
        let agent = job.file.agent;
        report.files_read += 1;
        match job.plan {
            Plan::New => report.files_new += 1,
            Plan::Appended => report.files_appended += 1,
            _ => report.files_rewritten += 1,
        }
        report.bytes_read += out.bytes;
        report.lines += out.lines;
        report.blank_lines += out.blank;
        report.usage_lines += out.usage_lines;
        report.synthetic += out.synthetic;
        report.malformed_lines += out.malformed;
        for d in &out.diagnostics {
            report.malformed_line(d);
        }
        readings += out.accepted;
        let sessions: Vec<u32> = out
            .sessions
            .iter()
            .map(|m| {
                let s = index.session(agent, &m.id);
                index.session_mut(s).meta.fill_from(m);
                s
            })
            .collect();
        let names: Vec<u32> = out.strings.list.iter().map(|s| strings.intern(s)).collect();
        let rank = rank as u32;
        for r in &out.responses {
            let g = Response {
                model: names.get(r.model as usize).copied().unwrap_or(0),
                subagent: names.get(r.subagent as usize).copied().unwrap_or(0),
                session: sessions.get(r.session as usize).copied().unwrap_or(0),
                ..*r
            };
            let old = index.get(r.key)?;
            if let Some(old) = old {
                if agent != Agent::ClaudeCode || !g.usage.larger_than(&old.usage) {
                    continue; // Already imported with at least this usage.
                }
                before.insert(r.key, old);
            }
            match slot.get(&r.key) {
                Some(&k) => {
                    let p = &mut turns[k as usize];
                    let prev_rank = p.rank;
                    p.resp.merge(&g, agent, u64::from(prev_rank), u64::from(rank));
                    if (g.first_ts, rank) < (p.resp.first_ts, prev_rank) {
                        p.rank = rank;
                    }
                }
                None => {
                    slot.insert(r.key, turns.len() as u32);
                    turns.push(Planned { resp: g, rank });
                }
            }
        }
        ledger.files.insert(job.file.path.to_string(), entry);
    }
    drop(slot);

    // Corrections stay in the session of the response they correct.
    for p in &mut turns {
        if let Some(old) = before.get(&p.resp.key) {
            p.resp.session = old.session;
        }
    }
    skip_received(opts, &mut turns, &before, &mut index, &strings, &mut report)?;
    turns.sort_unstable_by_key(|p| (p.resp.ts, p.resp.key));
    let mut span: BTreeMap<u32, (i64, i64)> = BTreeMap::new();
    for p in &turns {
        let r = &p.resp;
        match before.get(&r.key) {
            None => {
                report.responses += 1;
                index.set(r.key, KeyRec { session: r.session, usage: r.usage });
            }
            Some(old) => {
                report.corrections += 1;
                index.set(
                    r.key,
                    KeyRec { session: old.session, usage: r.usage.max_each(&old.usage) },
                );
            }
        }
        let s = span.entry(r.session).or_insert((r.ts, r.ts));
        s.0 = s.0.min(r.ts);
        s.1 = s.1.max(r.ts);
    }
    let mut emit = Vec::new();
    for (s, (first, last)) in span {
        let rec = &index.sessions[s as usize];
        let (f, l) = (rec.first.min(first), rec.last.max(last));
        if (f, l) != (rec.first, rec.last) {
            let rec = index.session_mut(s);
            rec.first = f;
            rec.last = l;
            emit.push(s);
        }
    }
    report.duplicates =
        readings.saturating_sub(report.responses + report.corrections + report.already_received);
    report.sessions = emit.len() as u64;
    report.events = report.sessions + report.responses + report.corrections;
    Ok(Pending {
        report,
        state_dir: dir.clone(),
        tier: opts.privacy_tier,
        prices: opts.prices.clone(),
        changes: Some(Changes { ledger, index, strings, sessions: emit, turns, before }),
        _lock: lock,
    })
}

/// Drop the new responses the OTLP receiver already recorded (see [`Received`]), entering
/// them in the dedupe index so a later run treats them as imported.
fn skip_received(
    opts: &Options,
    turns: &mut Vec<Planned>,
    before: &KeyMap<KeyRec>,
    index: &mut Index,
    strings: &Strings,
    report: &mut Report,
) -> Result<(), Error> {
    let Some(path) = &opts.received_fingerprints else { return Ok(()) };
    let received = Received::load(path)?;
    if received.is_empty() {
        return Ok(());
    }
    let mut taken = Vec::new();
    turns.retain(|p| {
        let r = &p.resp;
        let session = &index.sessions[r.session as usize].id;
        if before.contains_key(&r.key) || !received.has(session, strings.get(r.model), &r.usage) {
            return true;
        }
        taken.push(*r);
        false
    });
    for r in taken {
        report.already_received += 1;
        index.set(r.key, KeyRec { session: r.session, usage: r.usage });
    }
    Ok(())
}

/// Create the state directory `dir` and hold its lock file `name` (exclusive, until the
/// returned file is dropped): runs sharing the state run one after the other.
pub(crate) fn lock_state_dir(dir: &Utf8Path, name: &str) -> Result<File, Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let lock_path = dir.join(name);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io("open", &lock_path, e))?;
    lock.lock().map_err(|e| Error::io("lock", &lock_path, e))?;
    Ok(lock)
}

type ReadResult = std::io::Result<(FileOut, FileEntry)>;

/// Read every job on `threads` threads, largest files first.
fn read_all(
    jobs: &[Job],
    ledger: &Ledger,
    threads: usize,
    progress: &(dyn Fn(Progress) + Sync),
) -> Vec<(usize, ReadResult)> {
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(jobs[i].stat.size));
    let bytes_total = jobs.iter().map(|j| j.stat.size).sum();
    let files_total = jobs.len() as u64;
    let next = AtomicUsize::new(0);
    let bytes_done = AtomicU64::new(0);
    let files_done = AtomicU64::new(0);
    let worker = || {
        let mut got = Vec::new();
        let mut buf = Vec::new();
        loop {
            let n = next.fetch_add(1, Ordering::Relaxed);
            let Some(&i) = order.get(n) else { break };
            let job = &jobs[i];
            let r = read_job(job, ledger.files.get(job.file.path.as_str()), &mut buf);
            if buf.len() > 2 * FINGERPRINT_BYTES as usize * 256 {
                // After a long line: give the memory back rather than keep it per thread.
                buf = Vec::new();
            }
            progress(Progress {
                bytes_done: bytes_done.fetch_add(job.stat.size, Ordering::Relaxed) + job.stat.size,
                bytes_total,
                files_done: files_done.fetch_add(1, Ordering::Relaxed) + 1,
                files_total,
            });
            got.push((i, r));
        }
        got
    };
    let mut all = Vec::with_capacity(jobs.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.min(jobs.len())).map(|_| s.spawn(worker)).collect();
        for h in handles {
            all.extend(h.join().unwrap_or_default());
        }
    });
    all
}

/// Read one file from where its plan says.
fn read_job(job: &Job, entry: Option<&FileEntry>, buf: &mut Vec<u8>) -> ReadResult {
    let (offset, first_line, state) = match (&job.plan, entry) {
        (Plan::Appended, Some(e)) => (e.consumed, e.next_line, e.codex.clone().unwrap_or_default()),
        _ => (0, 1, Default::default()),
    };
    let path = &job.file.path;
    let mut file = File::open(path)?;
    let fp = fingerprint(&file, FINGERPRINT_BYTES)?;
    file.seek(SeekFrom::Start(offset))?;
    let name = path.as_str();
    let fallback = &job.file.fallback_session;
    let out = match job.file.agent {
        Agent::ClaudeCode => claude::read(&file, name, offset, first_line, fallback, buf)?,
        Agent::Codex => codex::read(&file, name, offset, first_line, state, fallback, buf)?,
    };
    // The stat from before reading: if the file grew meanwhile, the next run sees it.
    let entry = FileEntry {
        agent: Some(job.file.agent),
        codex: out.codex.clone(),
        ..FileEntry::read(&job.stat, fp, out.consumed, out.next_line)
    };
    Ok((out, entry))
}

impl Pending {
    /// What was found and what the events will be.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// Call `f` with each event line (compact JSON, no newline): session events first, then
    /// turns in time order.
    pub fn write_events<E: From<Error>>(
        &self,
        mut f: impl FnMut(&str) -> Result<(), E>,
    ) -> Result<(), E> {
        self.write_event_batches(|batch| batch.lines().try_for_each(&mut f))
    }

    /// Call `f` with batches of event lines, each line ending in `\n` (what an appender
    /// writes in one go); the same lines in the same order as [`Pending::write_events`].
    pub fn write_event_batches<E: From<Error>>(
        &self,
        mut f: impl FnMut(&str) -> Result<(), E>,
    ) -> Result<(), E> {
        let Some(c) = &self.changes else { return Ok(()) };
        let mut batch = String::new();
        for &s in &c.sessions {
            let rec = &c.index.sessions[s as usize];
            let ev = events::session_event(&SessionFacts {
                agent: rec.agent,
                id: &rec.id,
                cwd: rec.meta.cwd.as_deref(),
                branch: rec.meta.branch.as_deref(),
                version: rec.meta.version.as_deref(),
                commit: rec.meta.commit.as_deref(),
                first: rec.first,
                last: rec.last,
                tier: self.tier,
            });
            batch.push_str(&serde_json::to_string(&ev).map_err(Error::from)?);
            batch.push('\n');
            if batch.len() >= BATCH_BYTES {
                f(&batch)?;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            f(&batch)?;
        }
        // Turns are rendered on two threads, a slice of the batch each, and handed on in order.
        for chunk in c.turns.chunks(BATCH_TURNS) {
            let (a, b) = chunk.split_at(chunk.len() / 2);
            let (ra, rb) = std::thread::scope(|s| {
                let h = s.spawn(|| self.render(c, a));
                let rb = self.render(c, b);
                let ra = h.join().unwrap_or_else(|_| {
                    Err(Error::Encode(serde::ser::Error::custom(
                        "an event rendering thread failed",
                    )))
                });
                (ra, rb)
            });
            for part in [ra.map_err(E::from)?, rb.map_err(E::from)?] {
                if !part.is_empty() {
                    f(&part)?;
                }
            }
        }
        Ok(())
    }

    fn render(&self, c: &Changes, turns: &[Planned]) -> Result<String, Error> {
        let mut out = Vec::with_capacity(turns.len() * 700);
        for p in turns {
            let r = &p.resp;
            crate::line::write_turn(
                &mut out,
                &TurnFacts {
                    key: r.key,
                    session: &c.index.sessions[r.session as usize].id,
                    model: c.strings.get(r.model),
                    subagent: c.strings.get(r.subagent),
                    usage: r.usage,
                    sidechain: r.sidechain,
                    at: r.ts,
                    cost: r.cost,
                    revises: c.before.get(&r.key).map(|k| k.usage),
                    prices: self.prices.as_ref(),
                },
            )?;
            out.push(b'\n');
        }
        // serde_json writes UTF-8 only.
        String::from_utf8(out).map_err(|_| Error::Encode(serde::ser::Error::custom("not UTF-8")))
    }

    /// Record that the events were written: the dedupe index, then the ledger, each
    /// atomically. Call only after every line of [`Pending::write_events`] was appended.
    pub fn commit(mut self) -> Result<Report, Error> {
        if let Some(c) = &mut self.changes {
            c.index.commit()?;
            c.ledger.save(&self.state_dir.join(LEDGER))?;
        }
        Ok(self.report)
    }
}
