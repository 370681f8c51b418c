//! The request keys the CCP backfill has seen: those of earlier runs (`seen/` in the state
//! directory, one file a month, [`seenfile`](super::seenfile)) and those of this run, so that a
//! request read twice — a rotation read again, an archive move, a tag snapshot — counts once.
//!
//! A copy of a line carries the line's own time, so a key only ever needs looking up among the
//! keys of its own UTC day. Keys are held by day: a day is loaded when a key of it is first
//! looked up, and once more than [`HELD_KEYS`] keys are held, the days used longest ago leave
//! memory, this run's keys of them written to an unnamed scratch file (gone with the process,
//! even on a crash) to be read back if the day is needed again. Memory is then the budget
//! plus the busiest day, however long the history; CCP's files are each in time order, so a
//! file brings each day in once.
//!
//! Nothing under `seen/` changes before [`Seen::commit`], which the caller runs once the
//! events are on disk: each month with new keys is rewritten a day at a time and replaced
//! atomically.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::hash::BuildHasherDefault;
use std::io::{Seek, SeekFrom, Write};

use camino::{Utf8Path, Utf8PathBuf};

use super::join::FxHasher;
use super::seenfile::{DAY_US, MonthFile, MonthWriter, decode_keys, encode_keys, month_of};
use crate::Error;
use crate::dedupe::{KeyMap, in_dir};
use crate::indexfile::read_at;

/// The directory of the month files, in the state directory.
pub(crate) const DIR: &str = "seen";
/// Keys held in memory before the days used longest ago are let go (about 10 MiB of tables).
const HELD_KEYS: usize = 1 << 18;
/// What a day in memory costs, counted in keys (so that lines spread over many days, junk
/// times included, cannot fill memory with empty days either).
const DAY_COST: usize = 8;
/// Keys noted for days not in memory held before they are written as blocks.
const LATE_KEYS: usize = 1 << 14;

/// This run's keys of one day, written to the scratch file when the day left memory.
#[derive(Clone, Copy, Debug)]
struct Block {
    offset: u64,
    count: usize,
    /// Keys to record at the commit (not those only seen: `--since`).
    remember: bool,
}

/// One day in memory.
#[derive(Debug, Default)]
struct Day {
    /// Every key known for the day: earlier runs' and this run's.
    keys: KeyMap<()>,
    /// This run's keys to record, not in a block yet.
    fresh: Vec<u128>,
    /// This run's keys only seen (not to record), not in a block yet.
    passing: Vec<u128>,
    /// When it was last used (a tick of [`Seen::tick`]).
    used: u64,
}

/// Day numbers are consecutive integers, not uniform hashes: hashed (FxHash) rather than taken
/// as they are.
type DayMap<V> = HashMap<i64, V, BuildHasherDefault<FxHasher>>;

/// The keys seen, by day.
#[derive(Debug)]
pub(crate) struct Seen {
    dir: Utf8PathBuf,
    /// Where the scratch file is made (not a RAM disk like `/tmp` may be), and what damage is
    /// reported on: the month files are one record with the ledger, and removing the whole
    /// directory is what makes the next run read everything again.
    state_dir: Utf8PathBuf,
    days: DayMap<Day>,
    /// The month files' tables, by month (`None`: no file).
    months: HashMap<i64, Option<MonthFile>>,
    scratch: Option<File>,
    scratch_len: u64,
    blocks: DayMap<Vec<Block>>,
    /// Keys noted for days not in memory, to record and only seen, not in a block yet: a
    /// request finished late (a decision that never got its completion, failed at the end of
    /// the run) does not bring its whole day back into memory.
    late: DayMap<(Vec<u128>, Vec<u128>)>,
    late_count: usize,
    /// Keys held in `days`, plus [`DAY_COST`] a day.
    held: usize,
    budget: usize,
    tick: u64,
}

impl Seen {
    /// The keys kept in `state_dir` (read a day at a time, when needed).
    pub fn open(state_dir: &Utf8Path) -> Seen {
        Seen {
            dir: state_dir.join(DIR),
            state_dir: state_dir.to_owned(),
            days: DayMap::default(),
            months: HashMap::new(),
            scratch: None,
            scratch_len: 0,
            blocks: DayMap::default(),
            late: DayMap::default(),
            late_count: 0,
            held: 0,
            budget: budget(),
            tick: 0,
        }
    }

    /// Whether `key`, of a line at `at_us`, was seen: by an earlier run or by this one.
    pub fn contains(&mut self, key: u128, at_us: i64) -> Result<bool, Error> {
        let day = at_us.div_euclid(DAY_US);
        let known = self.day(day).map(|d| d.keys.contains_key(&key));
        known.map_err(|e| in_dir(&self.state_dir, e))
    }

    /// Note `key` of a line at `at_us` as seen; `remember`: recorded at the commit too.
    pub fn insert(&mut self, key: u128, at_us: i64, remember: bool) -> Result<(), Error> {
        let day = at_us.div_euclid(DAY_US);
        self.note(day, key, remember).map_err(|e| in_dir(&self.state_dir, e))
    }

    fn note(&mut self, day: i64, key: u128, remember: bool) -> Result<(), Error> {
        if !self.days.contains_key(&day) {
            // Not looked up first: it may be known already, and is then recorded twice (the
            // commit and the loading of the day drop repeats).
            let (fresh, passing) = self.late.entry(day).or_default();
            if remember {
                fresh.push(key)
            } else {
                passing.push(key)
            }
            self.late_count += 1;
            if self.late_count >= LATE_KEYS {
                self.write_late()?;
            }
            return Ok(());
        }
        let d = self.day(day)?;
        if d.keys.insert(key, ()).is_none() {
            if remember {
                d.fresh.push(key)
            } else {
                d.passing.push(key)
            }
            self.held += 1;
            self.let_go(day)?;
        }
        Ok(())
    }

    /// Day `day` in memory (loaded when it is not), marked as used now.
    fn day(&mut self, day: i64) -> Result<&mut Day, Error> {
        self.tick += 1;
        if !self.days.contains_key(&day) {
            let d = self.load(day)?;
            self.held += d.keys.len() + DAY_COST;
            self.days.insert(day, d);
            self.let_go(day)?;
        }
        let tick = self.tick;
        let d = self.days.entry(day).or_default();
        d.used = tick;
        Ok(d)
    }

    /// Day `day` as earlier runs, this run's blocks and its late keys left it.
    fn load(&mut self, day: i64) -> Result<Day, Error> {
        let mut keys = Vec::new();
        if let Some(month) = self.month(day)? {
            month.read_day(day, &mut keys)?;
        }
        for b in self.blocks.get(&day).into_iter().flatten() {
            read_block(self.scratch.as_ref(), &self.state_dir, *b, &mut keys)?;
        }
        let (fresh, passing) = self.late.remove(&day).unwrap_or_default();
        self.late_count = self.late_count.saturating_sub(fresh.len() + passing.len());
        keys.extend_from_slice(&fresh);
        keys.extend_from_slice(&passing);
        let mut map = KeyMap::with_capacity_and_hasher(keys.len(), BuildHasherDefault::default());
        map.extend(keys.into_iter().map(|k| (k, ())));
        Ok(Day { keys: map, fresh, passing, ..Day::default() })
    }

    /// Write the late keys as blocks of their days.
    fn write_late(&mut self) -> Result<(), Error> {
        for (day, (fresh, passing)) in std::mem::take(&mut self.late) {
            self.write_blocks(day, fresh, &passing)?;
        }
        self.late_count = 0;
        Ok(())
    }

    /// The month file holding `day` (its table read once a run).
    fn month(&mut self, day: i64) -> Result<Option<&MonthFile>, Error> {
        let (month, name) = month_of(day);
        if !self.months.contains_key(&month) {
            let file = MonthFile::open(&self.dir.join(name))?;
            self.months.insert(month, file);
        }
        Ok(self.months.get(&month).and_then(Option::as_ref))
    }

    /// Over the budget: the days used longest ago (never `keep`) leave memory until a quarter
    /// of the budget is free, this run's keys of them written to the scratch file.
    fn let_go(&mut self, keep: i64) -> Result<(), Error> {
        if self.held <= self.budget {
            return Ok(());
        }
        let mut by_use: Vec<(u64, i64)> =
            self.days.iter().filter(|(d, _)| **d != keep).map(|(d, v)| (v.used, *d)).collect();
        by_use.sort_unstable();
        for (_, day) in by_use {
            if self.held <= self.budget - self.budget / 4 {
                break;
            }
            let Some(d) = self.days.remove(&day) else { continue };
            self.held -= d.keys.len() + DAY_COST;
            self.write_blocks(day, d.fresh, &d.passing)?;
        }
        Ok(())
    }

    /// Write a day's keys to remember and keys only seen as its blocks; the first sorted now,
    /// by the joining stage, so that the commit only merges sorted runs.
    fn write_blocks(
        &mut self,
        day: i64,
        mut fresh: Vec<u128>,
        passing: &[u128],
    ) -> Result<(), Error> {
        fresh.sort_unstable();
        self.write_block(day, &fresh, true)?;
        self.write_block(day, passing, false)
    }

    fn write_block(&mut self, day: i64, keys: &[u128], remember: bool) -> Result<(), Error> {
        if keys.is_empty() {
            return Ok(());
        }
        let io = |e| Error::io("write a scratch file in", &self.state_dir, e);
        let file = match &mut self.scratch {
            Some(f) => f,
            None => self.scratch.insert(tempfile::tempfile_in(&self.state_dir).map_err(io)?),
        };
        let mut bytes = Vec::new();
        encode_keys(keys, &mut bytes);
        file.seek(SeekFrom::End(0)).and_then(|_| file.write_all(&bytes)).map_err(io)?;
        let block = Block { offset: self.scratch_len, count: keys.len(), remember };
        self.scratch_len += bytes.len() as u64;
        self.blocks.entry(day).or_default().push(block);
        Ok(())
    }

    /// Sort the keys to remember that are still in memory, so that [`Seen::commit`] only
    /// merges sorted runs (called while the last events are still being written).
    pub fn sort_fresh(&mut self) {
        for d in self.days.values_mut() {
            d.fresh.sort_unstable();
        }
    }

    /// Record this run's keys to remember: every month that has some is rewritten (a day at a
    /// time, earlier runs' keys with this run's) and replaced atomically.
    pub fn commit(&mut self) -> Result<(), Error> {
        self.write_months().map_err(|e| in_dir(&self.state_dir, e))
    }

    fn write_months(&mut self) -> Result<(), Error> {
        self.write_late()?;
        let mut months: BTreeMap<i64, (String, BTreeSet<i64>)> = BTreeMap::new();
        let fresh = self.days.iter().filter(|(_, d)| !d.fresh.is_empty()).map(|(day, _)| *day);
        let spilled = self.blocks.iter().filter(|(_, b)| b.iter().any(|b| b.remember));
        for day in fresh.chain(spilled.map(|(day, _)| *day)) {
            let (month, name) = month_of(day);
            months.entry(month).or_insert_with(|| (name, BTreeSet::new())).1.insert(day);
        }
        for (month, (name, mut days)) in months {
            let path = self.dir.join(&name);
            // Its table as read when its days were loaded (the lock keeps it so).
            let old = match self.months.remove(&month) {
                Some(table) => table,
                None => MonthFile::open(&path)?,
            };
            days.extend(old.iter().flat_map(|m| m.days.iter().map(|e| e.day)));
            let mut failed = None;
            let written = agentos_fsio::write_atomic_with(&path, |out| {
                let mut w = MonthWriter::start(out)?;
                let mut keys = Vec::new();
                for &day in &days {
                    keys.clear();
                    if let Err(e) = self.to_record(day, old.as_ref(), &mut keys) {
                        failed = Some(e);
                        return Err(std::io::Error::other("a key could not be read"));
                    }
                    // Sorted runs, mostly (the month's, the blocks', the fresh keys' once
                    // sorted): the stable sort merges runs instead of sorting anew.
                    keys.sort();
                    keys.dedup();
                    w.day(day, &keys)?;
                }
                w.finish()
            });
            if let Some(e) = failed {
                return Err(e);
            }
            written?;
        }
        for d in self.days.values_mut() {
            d.fresh.clear();
        }
        self.blocks.clear();
        self.months.clear();
        Ok(())
    }

    /// The keys of `day` once this run is recorded (unsorted, maybe repeated).
    fn to_record(
        &self,
        day: i64,
        old: Option<&MonthFile>,
        out: &mut Vec<u128>,
    ) -> Result<(), Error> {
        if let Some(m) = old {
            m.read_day(day, out)?;
        }
        for b in self.blocks.get(&day).into_iter().flatten().filter(|b| b.remember) {
            read_block(self.scratch.as_ref(), &self.state_dir, *b, out)?;
        }
        if let Some(d) = self.days.get(&day) {
            out.extend_from_slice(&d.fresh);
        }
        Ok(())
    }
}

fn read_block(
    scratch: Option<&File>,
    state_dir: &Utf8Path,
    b: Block,
    out: &mut Vec<u128>,
) -> Result<(), Error> {
    let mut bytes = vec![0u8; b.count * 16];
    let read = scratch
        .map_or(Err(std::io::ErrorKind::NotFound.into()), |f| read_at(f, &mut bytes, b.offset));
    read.map_err(|e| Error::io("read a scratch file in", state_dir, e))?;
    decode_keys(&bytes, out);
    Ok(())
}

#[cfg(not(test))]
fn budget() -> usize {
    HELD_KEYS
}

/// Tests of whole runs set a small budget here (nextest runs each test in a process of its
/// own; 0: the real one).
#[cfg(test)]
pub(crate) static TEST_BUDGET: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

#[cfg(test)]
fn budget() -> usize {
    match TEST_BUDGET.load(std::sync::atomic::Ordering::Relaxed) {
        0 => HELD_KEYS,
        n => n,
    }
}

#[cfg(test)]
impl Seen {
    fn with_budget(mut self, keys: usize) -> Seen {
        self.budget = keys;
        self
    }
}

#[cfg(test)]
mod tests;
