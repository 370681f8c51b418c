//! The per-session state a checkpoint keeps out of itself: a base file of sessions
//! (`rollup_sessions.<gen>.<pid>.bin`, a [`BaseFile`]) rewritten only occasionally, and in the
//! checkpoint only the sessions changed since (the working set). A resumed run that reads
//! few bytes leaves the base on disk and fetches just the sessions its new lines touch, by
//! binary search with positional reads; the summary's session count comes from counts
//! recorded with the base. Everything else (a report of sessions, many bytes appended, legacy
//! turns without a time in the base) reads the base whole, verified by its checksum.
//!
//! File format: the magic `AGOSSES` + a format byte, a little-endian `u64` count, an index of
//! that many entries (`u128` hash of the session id, `u64` offset of its record in the file,
//! `u32` length of the record) sorted by hash then id, then the records (`codec.rs`), in index
//! order.

use camino::Utf8Path;
use serde::{Deserialize, Serialize};

use crate::acc::SessAcc;
use crate::basefile::{self, BaseFile, BaseRef};
use crate::codec::{decode_session, encode_session};
use crate::dedupe::id_hash;
use crate::sessions::Sessions;

const MAGIC: &[u8; 8] = b"AGOSSES\x01";
/// Bytes of one index entry.
const ENTRY: u64 = 16 + 8 + 4;
/// Bytes before the index.
const HEAD: u64 = 8 + 8;
/// A new base is written once the working set holds more sessions than this (~33 KiB), or a
/// 128th of the base: each resumed run then rewrites a small working set, and the base is
/// rewritten once every few hundred runs (the two costs balance near the square root of
/// the base's size).
const DELTA_MIN: usize = 256;

/// What the checkpoint records of its sessions base.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SessRef {
    pub(crate) base: BaseRef,
    /// Sessions of the base that were announced (a `session` event seen).
    announced: u64,
    /// Sessions of the base with turns that carry no time.
    undated: u64,
    /// Sessions of the base now in the working set that were announced in the base.
    shadowed: u64,
}

/// Write every session of `base` and `work` (a session in both: the one in `work`) as the
/// base file `name` in `dir`, streamed: each record is encoded once to learn its length (for
/// the index, which comes first) and again to be written, so the file is never held whole in
/// memory (it would double a large history's peak).
pub(crate) fn write_sessions(
    dir: &Utf8Path,
    name: String,
    base: &Sessions,
    work: &Sessions,
) -> Result<SessRef, crate::Error> {
    let mut all: Vec<(u128, &str, &SessAcc)> = work
        .iter()
        .chain(base.iter().filter(|(id, _)| !work.contains_key(id)))
        .map(|(id, s)| (id_hash(id), id, s))
        .collect();
    all.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let mut record = Vec::with_capacity(256);
    let mut lens = Vec::with_capacity(all.len());
    let mut records_len = 0u64;
    for (_, id, s) in &all {
        record.clear();
        encode_session(&mut record, id, s);
        lens.push(record.len() as u32);
        records_len += record.len() as u64;
    }
    let start = HEAD + ENTRY * all.len() as u64;
    let base_ref =
        basefile::write_base_streamed(dir, name, start + records_len, all.len() as u64, |w| {
            w.write_all(MAGIC)?;
            w.write_all(&(all.len() as u64).to_le_bytes())?;
            let mut at = start;
            for ((h, _, _), len) in all.iter().zip(&lens) {
                w.write_all(&h.to_le_bytes())?;
                w.write_all(&at.to_le_bytes())?;
                w.write_all(&len.to_le_bytes())?;
                at += u64::from(*len);
            }
            for (_, id, s) in &all {
                record.clear();
                encode_session(&mut record, id, s);
                w.write_all(&record)?;
            }
            Ok(())
        })?;
    Ok(SessRef {
        base: base_ref,
        announced: all.iter().filter(|(_, _, s)| s.announced).count() as u64,
        undated: all.iter().filter(|(_, _, s)| s.undated.is_some()).count() as u64,
        shadowed: 0,
    })
}

fn entry(b: &[u8]) -> Option<(u128, u64, u32)> {
    let (h, rest) = b.split_at_checked(16)?;
    let (at, len) = rest.split_at_checked(8)?;
    Some((
        u128::from_le_bytes(h.try_into().ok()?),
        u64::from_le_bytes(at.try_into().ok()?),
        u32::from_le_bytes(len.try_into().ok()?),
    ))
}

/// An opened sessions base that passed the cheap check.
#[derive(Debug)]
pub(crate) struct SessFile(BaseFile);

impl SessFile {
    /// Open the base `r` names in `dir` if it is still the file written then.
    pub(crate) fn open(dir: &Utf8Path, r: &SessRef) -> Option<SessFile> {
        let file = BaseFile::open(dir, &r.base)?;
        let mut head = [0u8; HEAD as usize];
        let ok = file.read_at(&mut head, 0)
            && head.get(..8) == Some(MAGIC.as_slice())
            && head.get(8..).and_then(|c| c.try_into().ok()).map(u64::from_le_bytes)
                == Some(r.base.count);
        ok.then_some(SessFile(file))
    }

    fn entry_at(&self, i: u64) -> Option<(u128, u64, u32)> {
        let mut buf = [0u8; ENTRY as usize];
        if !self.0.read_at(&mut buf, HEAD + ENTRY * i) {
            return None;
        }
        entry(&buf)
    }

    /// The stored state of session `id`, if the base holds it (binary search by positional
    /// reads). A read or decode failure answers `None` and marks the file failed.
    pub(crate) fn get(&self, id: &str) -> Option<SessAcc> {
        let h = id_hash(id);
        let (mut lo, mut hi) = (0u64, self.0.count());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (eh, _, _) = self.entry_at(mid)?;
            if eh < h {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        // Every entry with this hash (a collision of ids is possible, if unlikely).
        for i in lo..self.0.count() {
            let (eh, at, len) = self.entry_at(i)?;
            if eh != h {
                break;
            }
            let mut rec = vec![0u8; len as usize];
            if !self.0.read_at(&mut rec, at) {
                return None;
            }
            let Some((rid, s)) = decode_session(&rec) else {
                self.0.fail();
                return None;
            };
            if rid == id {
                return Some(s);
            }
        }
        None
    }

    /// Every session, when the whole file matches its checksum and holds what its index says.
    pub(crate) fn load(&self) -> Option<Sessions> {
        let bytes = self.0.load()?;
        let n = usize::try_from(self.0.count()).ok()?;
        let index = bytes.get(HEAD as usize..HEAD as usize + n.checked_mul(ENTRY as usize)?)?;
        let mut out = Sessions::with_capacity(n);
        let mut last = None;
        for e in index.chunks_exact(ENTRY as usize) {
            let (h, at, len) = entry(e)?;
            let at = usize::try_from(at).ok()?;
            let (id, s) = decode_session(bytes.get(at..at.checked_add(len as usize)?)?)?;
            if id_hash(&id) != h || last.is_some_and(|l| l > h) || out.contains_key(&id) {
                return None;
            }
            last = Some(h);
            out.insert(&id, s);
        }
        Some(out)
    }
}

/// The base's sessions not yet in the working set: all in memory, or left in their file.
#[derive(Debug)]
enum Base {
    Mem(Sessions),
    Disk(SessFile),
}

/// The stored sessions a rollup resumes with, beside the working set (`Acc::sessions`: every
/// session changed since the base was written). A session moves from here into the working
/// set before anything is added to it, so the working set always holds whole states.
#[derive(Debug)]
pub(crate) struct Stored {
    base: Base,
    r: SessRef,
}

impl Default for Stored {
    fn default() -> Stored {
        Stored { base: Base::Mem(Sessions::default()), r: SessRef::default() }
    }
}

impl Stored {
    /// The base `r` names in `dir`, beside the working set `work`: left on disk when `lazy`
    /// and the summary can do without reading it, else read whole (but for the sessions in
    /// `work`, whose state there is newer). `None` when it is missing or not the file written.
    pub(crate) fn open(dir: &Utf8Path, r: SessRef, work: &Sessions, lazy: bool) -> Option<Stored> {
        if r.base.count == 0 {
            return Some(Stored { base: Base::Mem(Sessions::default()), r });
        }
        let file = SessFile::open(dir, &r)?;
        let base = if lazy && r.undated == 0 {
            Base::Disk(file)
        } else {
            let mut all = file.load()?;
            all.retain(|id, _| !work.contains_key(id));
            Base::Mem(all)
        };
        Some(Stored { base, r })
    }

    /// Move the stored state of each of `ids` not in `work` yet into `work`.
    pub(crate) fn fault_in<'a>(&mut self, ids: impl Iterator<Item = &'a str>, work: &mut Sessions) {
        if self.r.base.count == 0 {
            return;
        }
        for id in ids {
            if work.contains_key(id) {
                continue;
            }
            let found = match &mut self.base {
                Base::Mem(m) => m.remove(id),
                Base::Disk(f) => f.get(id),
            };
            if let Some(s) = found {
                self.r.shadowed += u64::from(s.announced);
                work.insert(id, s);
            }
        }
    }

    /// Whether a lookup in the base left on disk failed: the working set may be wrong.
    pub(crate) fn failed(&self) -> bool {
        matches!(&self.base, Base::Disk(f) if f.0.failed())
    }

    /// Whether the base must be rewritten to hold `work`; then it is read into memory if it
    /// was left on disk (`None` when that read fails its checksum: the caller reads
    /// everything again).
    pub(crate) fn compact(&mut self, work: &Sessions) -> Option<bool> {
        let base_len = usize::try_from(self.r.base.count).unwrap_or(usize::MAX);
        if work.len() <= DELTA_MIN.max(base_len / 128) {
            return Some(false);
        }
        if let Base::Disk(f) = &self.base {
            let mut all = f.load()?;
            all.retain(|id, _| !work.contains_key(id));
            self.base = Base::Mem(all);
        }
        Some(true)
    }

    /// The sessions of the base not in the working set, when in memory.
    pub(crate) fn rest(&self) -> Option<&Sessions> {
        match &self.base {
            Base::Mem(m) => Some(m),
            Base::Disk(_) => None,
        }
    }

    /// What the checkpoint records while this base stays.
    pub(crate) fn reference(&self) -> &SessRef {
        &self.r
    }

    /// Sessions announced, here and in `work`.
    pub(crate) fn announced(&self, work: &Sessions) -> u64 {
        let here = match &self.base {
            Base::Mem(m) => m.values().filter(|s| s.announced).count() as u64,
            Base::Disk(_) => self.r.announced.saturating_sub(self.r.shadowed),
        };
        here + work.values().filter(|s| s.announced).count() as u64
    }
}
