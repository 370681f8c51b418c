//! Backfill of CCC/CCP's own usage logs (`docs/backfill.md`): every `usage.jsonl` line
//! classified (`parse.rs`), a request's lines joined by rid and decision time (`join.rs`), each
//! request written as one `turn` event with ids from its key (`event.rs`), counted by outcome,
//! model and day (`report.rs`).
//!
//! It shares the importer's machinery: the per-file ledger (a re-run skips unchanged files by
//! a stat, resumes grown ones, follows a rotation by inode), the bounded tolerant line reader,
//! and the event writer; its dedupe is its own (`seen.rs`: keys by day, bounded in memory).
//! A run has three stages — reading and scanning the files (`reader.rs`), joining the requests
//! in file order, rendering them — run by one worker a core (at most three, `stages.rs`); a
//! side thread looks for byte-identical copies (`copies.rs`). Memory holds only the join window,
//! the batches in flight and a bounded number of keys (`seen.rs`): the events are rendered
//! while reading and handed, in batches of whole lines, either straight to the caller's
//! appender ([`backfill_ccp`]: each event written once) or to a spool file in the state
//! directory ([`prepare_ccp`]: nothing reaches the event log before the whole input was read,
//! for `--strict`). Either way the caller forces the events to disk and then
//! [`CcpPending::commit`]s: the ledger, the seen keys and the pending decisions never get
//! ahead of the events.

mod copies;
mod discover;
mod event;
pub(crate) mod fast;
mod join;
pub(crate) mod parse;
mod reader;
mod report;
mod requests;
mod results;
mod seen;
mod seenfile;
mod stages;
mod sym;
#[cfg(test)]
mod tests;

use std::fs::File;

use agentos_event_schema::prices::PriceTable;
use camino::{Utf8Path, Utf8PathBuf};

pub use agentos_event_schema::facts::TurnFacts;
pub use join::JOIN_WINDOW_SECS;
pub use report::{CcpReport, FileReport, MAX_LISTED, ModelCounts};
pub use results::{CcpResults, MetricsFile, ProbeRow, RollupFile, SummaryFile, UsageSnapshot};

use crate::ledger::{FileEntry, Ledger, Plan, Stat, fingerprint};
use crate::run::lock_state_dir;
use crate::spool::SpoolWriter;
use crate::{Error, Progress};
use join::{Finished, Joiner, Open};
use reader::{Batch, Msg};
use requests::{BATCH_REQUESTS, Requests, feed_batch};
use seen::Seen;
use stages::Joining;

const LEDGER: &str = "ledger.json";
const PENDING: &str = "pending.json";
const SPOOL: &str = "spool.jsonl";
const LOCK: &str = "backfill.lock";
/// Largest pending file read (the decisions of one join window).
const MAX_PENDING_BYTES: u64 = 256 << 20;

/// What to backfill and where the backfill keeps its state.
#[derive(Clone, Debug)]
pub struct CcpOptions {
    /// The CCP checkout (its `logs/` is read).
    pub root: Utf8PathBuf,
    /// The backfill's own state (ledger, seen keys, pending decisions, lock), e.g.
    /// `<data dir>/backfill/ccp`.
    pub state_dir: Utf8PathBuf,
    /// Write only requests whose decision is at or after this time (µs since the epoch).
    /// Files are then read whole and the ledger is left as it was, so a later run without it
    /// still finds the older requests (the seen keys keep the written ones from counting twice).
    pub since_us: Option<i64>,
    /// The current time (µs): decisions a join window older than this without a completion
    /// are failed requests; younger ones wait for the next run.
    pub now_us: i64,
    /// Fail on the first bad line instead of skipping it.
    pub strict: bool,
    /// Estimates each request's cost (`turn.cost`, `price_table` = the table's id).
    pub prices: Option<PriceTable>,
}

/// The result of [`prepare_ccp`]: the rendered events and the state to commit after them.
/// Holds the backfill lock until dropped; dropping it without committing writes nothing.
#[derive(Debug)]
pub struct CcpPending {
    report: CcpReport,
    state_dir: Utf8PathBuf,
    commit_ledger: bool,
    /// Whether a copy was remembered in the ledger (saved even when nothing was read).
    ledger_changed: bool,
    ledger: Ledger,
    seen: Option<Seen>,
    pending: Vec<Open>,
    /// The spool holding the events ([`prepare_ccp`] only; removed on drop).
    spool: Option<Utf8PathBuf>,
    _lock: File,
}

struct Job {
    path: Utf8PathBuf,
    stat: Stat,
    /// Where to start: the ledger entry to resume (its path, for a rotated file).
    resume: Option<String>,
    action: &'static str,
}

/// Workers running the stages (reading, joining, rendering: [`stages`]): one a core, up to
/// one a stage.
fn workers() -> usize {
    #[cfg(test)]
    if let n @ 1.. = TEST_WORKERS.load(std::sync::atomic::Ordering::Relaxed) {
        return n;
    }
    std::thread::available_parallelism().map_or(2, |n| n.get().min(3))
}

/// Tests of whole runs set the number of workers here (nextest runs each test in a process of
/// its own; 0: one a core).
#[cfg(test)]
pub(crate) static TEST_WORKERS: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

/// Event lines handed to the appender at a time (about 1 MB of whole lines): small enough to
/// be still in the core's cache when the kernel copies them into the page cache (4 MB batches
/// doubled the kernel's time, `docs/benchmarks.md`).
const BATCH_BYTES: usize = 1 << 20;

/// Read what changed under `opts.root` since the last run, join the requests and render their
/// events to a spool in the state directory, handed over later by
/// [`CcpPending::write_event_batches`]. Writes nothing else. `progress` is called after each
/// file.
pub fn prepare_ccp(
    opts: &CcpOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<CcpPending, Error> {
    let path = opts.state_dir.join(SPOOL);
    let mut spool: Option<SpoolWriter> = None;
    let run = backfill_ccp(opts, progress, &mut |lines: &str| -> Result<(), Error> {
        let w = match &mut spool {
            Some(w) => w,
            None => spool.insert(SpoolWriter::create(&path)?),
        };
        w.write(lines.as_bytes())
    });
    let created = spool.is_some();
    let finished = spool.map_or(Ok(()), SpoolWriter::finish);
    match (run, finished) {
        (Ok(mut p), Ok(())) => {
            p.spool = created.then_some(path);
            Ok(p)
        }
        (run, finished) => {
            // Only a spool this run created (a spool left by a crash is emptied by the next
            // run's create).
            if created {
                let _ = std::fs::remove_file(&path);
            }
            Err(run.err().or(finished.err()).unwrap_or_else(|| {
                Error::Encode(serde::ser::Error::custom("the spool could not be finished"))
            }))
        }
    }
}

/// Where [`backfill_ccp`] puts the events it renders, called by its rendering stage (on one of
/// its workers, one call at a time: hence `Send`). Any `FnMut(&str) -> Result<(), E>` is one
/// that takes the lines alone.
pub trait EventSink<E>: Send {
    /// Whole event lines, each ending in `\n` (about 1 MB at a time), in order.
    fn lines(&mut self, lines: &str) -> Result<(), E>;
    /// What the next event line says, told as it is rendered (before the batch holding it
    /// reaches [`EventSink::lines`]): one call per line, in the lines' order.
    fn turn(&mut self, _facts: &TurnFacts<'_>) {}
}

impl<E, F: FnMut(&str) -> Result<(), E> + Send> EventSink<E> for F {
    fn lines(&mut self, lines: &str) -> Result<(), E> {
        self(lines)
    }
}

/// Read what changed under `opts.root` since the last run, join the requests and hand their
/// event lines to `sink` as they are rendered, in batches of whole lines, on the rendering
/// thread: each event is written once. The ledger, seen
/// keys and pending decisions are only written by [`CcpPending::commit`], which the caller
/// calls after forcing the appended lines to disk; a run that fails or is interrupted before
/// that leaves them as they were, so the next run renders exactly the same events again (same
/// ids, same bytes: readers drop the repeats by `event_id`). `progress` is called after each
/// file.
pub fn backfill_ccp<E, S>(
    opts: &CcpOptions,
    progress: &(dyn Fn(Progress) + Sync),
    sink: &mut S,
) -> Result<CcpPending, E>
where
    E: From<Error> + Send,
    S: EventSink<E> + ?Sized,
{
    let dir = &opts.state_dir;
    let lock = lock_state_dir(dir, LOCK)?;
    let mut ledger = Ledger::load(&dir.join(LEDGER))?;
    let mut pending = load_pending(&dir.join(PENDING))?;
    let mut report = CcpReport { results: results::read(&opts.root), ..CcpReport::default() };

    let logs = opts.root.join("logs");
    if !logs.is_dir() {
        return Err(Error::NotADirectory { path: logs }.into());
    }
    let mut diags = Vec::new();
    let files = discover::usage_files(&opts.root, &mut diags);
    // The report lists the files in this order, whatever became of each.
    let order: std::collections::HashMap<String, usize> =
        files.iter().enumerate().map(|(i, p)| (p.to_string(), i)).collect();
    for d in diags {
        report.files_skipped += 1;
        report.file(FileReport {
            path: d.file,
            action: "unreadable",
            lines: 0,
            note: Some(d.reason),
        });
    }

    // (device, inode) of the files found, and the path each was first found by: the same
    // file by two paths is read once.
    let mut identities: std::collections::HashMap<(u64, u64), String> = Default::default();
    let mut jobs = Vec::new();
    // (path, size) of the files not read, for the copy check.
    let mut unchanged: Vec<(String, u64)> = Vec::new();
    for path in files {
        let meta = match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => m,
            Ok(_) => {
                let why = "not a regular file (a pipe, socket or device): not read";
                not_read(&mut report, &path, "skipped", why.to_owned());
                continue;
            }
            Err(e) => {
                unreadable(&mut report, &path, &e);
                continue;
            }
        };
        let stat = Stat::of(&meta);
        let identity = (stat.dev, stat.ino);
        if identity != (0, 0) {
            if let Some(original) = identities.get(&identity) {
                let original_unchanged = unchanged.iter().any(|(p, _)| p == original);
                copies::link(&mut report, &path, original, original_unchanged);
                continue;
            }
            identities.insert(identity, path.to_string());
        }
        report.files_seen += 1;
        if opts.since_us.is_some() {
            jobs.push(Job { path, stat, resume: None, action: "read whole (--since)" });
            continue;
        }
        let prefix = |len: u64| File::open(&path).and_then(|f| fingerprint(f, len)).map(|p| p.1);
        let planned = ledger.plan(path.as_str(), &stat, prefix).and_then(|plan| {
            Ok(match plan {
                Plan::Unchanged => None,
                Plan::Appended => Some((Some(path.to_string()), "appended")),
                other => match ledger.moved_from(path.as_str(), &stat, prefix)? {
                    Some(old) => Some((Some(old), "rotated")),
                    None if other == Plan::New => Some((None, "new")),
                    None => Some((None, "rewritten")),
                },
            })
        });
        match planned {
            Ok(None) => {
                if let Some(e) = ledger.files.get(path.as_str()) {
                    unchanged.push((path.to_string(), e.size));
                }
                report.files_skipped += 1;
                report.file(FileReport {
                    path: path.to_string(),
                    action: "unchanged",
                    lines: 0,
                    note: None,
                });
            }
            Ok(Some((resume, action))) => jobs.push(Job { path, stat, resume, action }),
            Err(e) => unreadable(&mut report, &path, &e),
        }
    }

    let mut pending_out = CcpPending {
        report: CcpReport::default(),
        state_dir: dir.clone(),
        commit_ledger: opts.since_us.is_none(),
        ledger_changed: false,
        ledger: Ledger::default(),
        seen: None,
        pending: Vec::new(),
        spool: None,
        _lock: lock,
    };
    // The copies remembered in the ledger as their originals are (after these were read), and
    // the files listed in the order found.
    let finish = |mut out: CcpPending, mut report: CcpReport, mut ledger: Ledger, copied| {
        out.ledger_changed = copies::remember(&mut report, &mut ledger, copied);
        report.files.sort_by_key(|f| order.get(&f.path));
        out.report = report;
        out.ledger = ledger;
        out
    };
    if jobs.is_empty() && pending.is_empty() {
        return Ok(finish(pending_out, report, ledger, &[]));
    }

    let mut seen = Seen::open(dir);
    // A decision left pending may have been written since by a `since_us` run (which reads
    // whole files and keeps no pending list): then it only swallows its lines.
    for o in &mut pending {
        o.known = seen.contains(o.req.key, o.req.at_us)?;
    }
    let bytes_total: u64 = jobs.iter().map(|j| j.stat.size).sum();
    let mut joiner = Joiner::new(pending);
    let entries: Vec<Option<FileEntry>> = jobs
        .iter()
        .map(|job| job.resume.as_deref().and_then(|p| ledger.files.get(p)).cloned())
        .collect();
    // A byte-identical copy of another file is not read: its lines are that file's. Each is
    // found on a thread of its own, before the reading reaches it.
    let (copies_tx, copies_rx) = std::sync::mpsc::channel::<Option<String>>();
    let mut copied: Vec<(&Job, String)> = Vec::new();
    let mut keep = Vec::new();
    let mut renderer = event::Renderer::new(opts.prices.as_ref());
    let mut buf = String::with_capacity(BATCH_BYTES + (64 << 10));
    std::thread::scope(|s| -> Result<(), E> {
        s.spawn(|| copies::find(&jobs, &unchanged, |copy| copies_tx.send(copy).is_ok()));
        let mut reader = reader::Reader::new(&jobs, &entries, copies_rx);
        let mut requests = Requests {
            report: &mut report,
            seen: &mut seen,
            since: opts.since_us,
            ready: Vec::new(),
            batch: Vec::with_capacity(BATCH_REQUESTS),
        };
        let mut done = Vec::new();
        let (mut bytes_done, mut current, mut file_lines) = (0, 0, 0);
        let mut join = |input: Joining, out: &mut Vec<Finished>| -> Result<Option<Batch>, E> {
            let msg = match input {
                Joining::Next(msg) => msg,
                Joining::Ended => {
                    // Sorted while the last events are rendered, so that the commit merges.
                    requests.seen.sort_fresh();
                    return Ok(None);
                }
                Joining::End => {
                    requests.report.lines(&joiner.counts);
                    keep = std::mem::take(&mut joiner).finish(opts.now_us, &mut done);
                    requests.drain(&mut done)?;
                    requests.send();
                    out.append(&mut requests.ready);
                    return Ok(None);
                }
            };
            let (i, outcome) = match msg {
                Msg::Lines(batch) => {
                    let name = jobs.get(current).map_or("", |j| j.path.as_str());
                    file_lines += feed_batch(
                        &batch,
                        name,
                        &mut joiner,
                        &mut requests,
                        &mut done,
                        opts.strict,
                    )?;
                    out.append(&mut requests.ready);
                    return Ok(Some(batch));
                }
                Msg::Done { job, entry } => (job, Ok(entry)),
                Msg::Failed { job, error } => (job, Err(error)),
                Msg::Copy { job, original } => {
                    current = job + 1;
                    if let Some(j) = jobs.get(job) {
                        copied.push((j, original));
                        bytes_done += j.stat.size;
                    }
                    return Ok(None);
                }
            };
            current = i + 1;
            let lines = std::mem::take(&mut file_lines);
            joiner.end_file();
            let Some(job) = jobs.get(i) else { return Ok(None) };
            let entry = match outcome {
                Ok(entry) => entry,
                Err(e) => {
                    unreadable(requests.report, &job.path, &e);
                    return Ok(None);
                }
            };
            requests.report.files_read += 1;
            requests.report.file(FileReport {
                path: job.path.to_string(),
                action: job.action,
                lines,
                note: None,
            });
            if let Some(old) = job.resume.as_deref().filter(|old| *old != job.path.as_str()) {
                ledger.files.remove(old);
            }
            ledger.files.insert(job.path.to_string(), entry);
            bytes_done += job.stat.size;
            progress(Progress {
                bytes_done,
                bytes_total,
                files_done: i as u64 + 1,
                files_total: jobs.len() as u64,
            });
            Ok(None)
        };
        let mut render = |batch: Finished| -> Result<(), E> {
            for r in &batch {
                renderer.render(r, &mut buf, &mut |facts| sink.turn(facts))?;
                buf.push('\n');
                if buf.len() >= BATCH_BYTES {
                    hand_over(&mut buf, sink)?;
                }
            }
            Ok(())
        };
        let read = &mut |free, out: &mut Vec<Msg>| reader.next(free, out);
        stages::run(workers(), read, &mut join, &mut render, &|| {
            E::from(Error::Encode(serde::ser::Error::custom("a backfill worker failed")))
        })
    })?;
    hand_over(&mut buf, sink)?;
    report.pending = keep.len() as u64;
    pending_out.seen = Some(seen);
    pending_out.pending = keep;
    Ok(finish(pending_out, report, ledger, &copied))
}

/// Hand the whole lines in `buf` to `sink` and empty it.
fn hand_over<E, S: EventSink<E> + ?Sized>(buf: &mut String, sink: &mut S) -> Result<(), E> {
    if buf.is_empty() {
        return Ok(());
    }
    sink.lines(buf)?;
    buf.clear();
    Ok(())
}

/// A file found but not read: listed with `action` and why.
fn not_read(report: &mut CcpReport, path: &Utf8Path, action: &'static str, note: String) {
    report.files_skipped += 1;
    report.file(FileReport { path: path.to_string(), action, lines: 0, note: Some(note) });
}

fn unreadable(report: &mut CcpReport, path: &Utf8Path, e: &std::io::Error) {
    not_read(report, path, "unreadable", format!("cannot read: {e}"));
}

/// The requests left in flight by the last run. Damage is reported on the state directory:
/// the file alone is no way to start over (the lines of those requests are consumed).
fn load_pending(path: &Utf8Path) -> Result<Vec<Open>, Error> {
    let Some(bytes) = agentos_fsio::read_bounded(path, MAX_PENDING_BYTES)? else {
        return Ok(Vec::new());
    };
    serde_json::from_slice(&bytes).map_err(|e| Error::State {
        path: path.parent().unwrap_or(path).to_owned(),
        reason: format!("{PENDING}: not a list of pending requests (line {})", e.line()),
    })
}

impl CcpPending {
    /// What was found and what the events will be.
    pub fn report(&self) -> &CcpReport {
        &self.report
    }

    /// Call `f` with batches of the spooled event lines ([`prepare_ccp`]), each line ending in
    /// `\n` (what an appender writes in one go). Nothing after [`backfill_ccp`], which handed
    /// them over already.
    pub fn write_event_batches<E: From<Error>>(
        &self,
        f: impl FnMut(&str) -> Result<(), E>,
    ) -> Result<(), E> {
        match &self.spool {
            Some(spool) if self.report.events > 0 => crate::spool::batches(spool, f),
            _ => Ok(()),
        }
    }

    /// Record that the events were written: the seen keys, then the pending decisions and the
    /// ledger (not with `--since`), each atomically. Call only after every event line was
    /// appended.
    pub fn commit(mut self) -> Result<CcpReport, Error> {
        if let Some(seen) = &mut self.seen {
            seen.commit()?;
            // The dedupe index of builds before the seen keys: never read, and its keys are
            // of no day; the seen keys replace it.
            for legacy in [crate::dedupe::BASE, crate::dedupe::LOG] {
                let _ = std::fs::remove_file(self.state_dir.join(legacy));
            }
            if self.commit_ledger {
                let bytes = serde_json::to_vec(&self.pending)?;
                agentos_fsio::write_atomic(&self.state_dir.join(PENDING), &bytes)?;
                self.ledger.save(&self.state_dir.join(LEDGER))?;
            }
        } else if self.commit_ledger && self.ledger_changed {
            self.ledger.save(&self.state_dir.join(LEDGER))?;
        }
        Ok(std::mem::take(&mut self.report))
    }
}

impl Drop for CcpPending {
    fn drop(&mut self) {
        if let Some(spool) = &self.spool {
            let _ = std::fs::remove_file(spool);
        }
    }
}
