//! Counting an event once: the set of `event_id`s already counted, kept as 128-bit FNV-1a
//! hashes (16 bytes per event, stable across versions, so the set can be checkpointed).
//!
//! Why hashes: an id is opaque text of any length; its 128-bit hash is fixed-size, and two
//! distinct ids collide with probability ~n²/2¹²⁹ (about 10⁻²⁷ for a billion events).
//! Events without an `event_id` (or with an empty one: legacy Python lines) cannot be told
//! apart from a repeat and are counted as they come; naming the same file twice is caught
//! earlier, by device and inode.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use crate::idsfile::IdsFile;

/// FNV-1a, 128 bits: the hash of an `event_id`.
pub(crate) fn id_hash(id: &str) -> u128 {
    id_hash_bytes(id.as_bytes())
}

/// FNV-1a, 128 bits, of any bytes (also the checkpoint's fingerprints and check sum).
pub(crate) fn id_hash_bytes(bytes: &[u8]) -> u128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let mut h = OFFSET;
    for b in bytes {
        h ^= u128::from(*b);
        h = h.wrapping_mul(PRIME);
    }
    h
}

/// A checksum of a whole checkpoint: FNV-1a's multiply over 16-byte words (fast on megabytes
/// of ids; it guards against torn or damaged files, not against an adversary).
pub(crate) fn checksum(bytes: &[u8]) -> u128 {
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d ^ bytes.len() as u128;
    let mut words = bytes.chunks_exact(16);
    for w in &mut words {
        let mut b = [0u8; 16];
        b.copy_from_slice(w);
        h = (h ^ u128::from_le_bytes(b)).wrapping_mul(PRIME);
        h ^= h >> 64;
    }
    id_hash_bytes(words.remainder()) ^ h
}

/// [`checksum`] computed on the way, for a file written piece by piece: the same value for
/// the same bytes however they are split. `len` is the total the pieces will add up to.
pub(crate) struct Checksum {
    h: u128,
    word: [u8; 16],
    filled: usize,
}

impl Checksum {
    pub(crate) fn new(len: u64) -> Checksum {
        Checksum {
            h: 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d ^ u128::from(len),
            word: [0; 16],
            filled: 0,
        }
    }

    fn mix(&mut self, w: [u8; 16]) {
        const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
        self.h = (self.h ^ u128::from_le_bytes(w)).wrapping_mul(PRIME);
        self.h ^= self.h >> 64;
    }

    pub(crate) fn update(&mut self, mut bytes: &[u8]) {
        if self.filled > 0 {
            let take = (16 - self.filled).min(bytes.len());
            self.word[self.filled..self.filled + take].copy_from_slice(&bytes[..take]);
            self.filled += take;
            bytes = &bytes[take..];
            if self.filled < 16 {
                return;
            }
            self.mix(self.word);
            self.filled = 0;
        }
        let mut words = bytes.chunks_exact(16);
        for w in &mut words {
            let mut b = [0u8; 16];
            b.copy_from_slice(w);
            self.mix(b);
        }
        let rest = words.remainder();
        self.word[..rest.len()].copy_from_slice(rest);
        self.filled = rest.len();
    }

    pub(crate) fn finish(&self) -> u128 {
        id_hash_bytes(&self.word[..self.filled]) ^ self.h
    }
}

/// The keys are hashes already: use (the mix of) their bits.
#[derive(Clone, Copy, Default)]
pub(crate) struct Passthrough(u64);

impl Hasher for Passthrough {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u128(&mut self, i: u128) {
        self.0 = (i as u64) ^ ((i >> 64) as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A new base is written once the ids added since the last one pass this many (64 KiB), or a
/// 256th of the base: each resumed run then rewrites only a small delta, and the base is
/// rewritten once every few hundred runs (the two costs balance near the square root of the
/// base's size).
const COMPACT_MIN: usize = 1 << 12;

/// The sorted base of the ids counted: in memory, or left in its file and searched there.
#[derive(Debug)]
pub(crate) enum Base {
    Mem(Vec<u128>),
    Disk(IdsFile),
}

impl Default for Base {
    fn default() -> Base {
        Base::Mem(Vec::new())
    }
}

/// Ids counted so far: `base` and `delta` (sorted, as loaded from a checkpoint: no hashing on
/// load) and `fresh` (added by this run); `filter` over those held in memory.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    base: Base,
    delta: Vec<u128>,
    fresh: Fresh,
    filter: Filter,
}

/// Bits of an id's top that index [`Filter`] (4 Mi bits: 512 KiB, within a core's cache).
const FILTER_BITS: u32 = 22;

/// One bit per value of an id's top [`FILTER_BITS`] bits, set for every id held in memory: an
/// id whose bit is clear is none of them, known without a search (a search of a large sorted
/// run misses the cache; most ids looked up are new). Allocated at the first id.
#[derive(Debug, Default)]
struct Filter(Vec<u64>);

impl Filter {
    fn slot(h: u128) -> (usize, u64) {
        let top = (h >> (128 - FILTER_BITS)) as usize;
        (top / 64, 1 << (top % 64))
    }

    fn set(&mut self, h: u128) {
        if self.0.is_empty() {
            self.0 = vec![0; (1 << FILTER_BITS) / 64];
        }
        let (word, bit) = Filter::slot(h);
        if let Some(w) = self.0.get_mut(word) {
            *w |= bit;
        }
    }

    /// Whether `h` may be held.
    fn may_hold(&self, h: u128) -> bool {
        let (word, bit) = Filter::slot(h);
        self.0.get(word).is_some_and(|w| w & bit != 0)
    }
}

/// How many of the latest ids are kept in a hash set before they join the sorted run.
const RECENT_MAX: usize = 1 << 16;

/// The ids added by this run: a sorted run searched by bisection, and a small hash set of the
/// latest, merged into the run in place when it fills. 16 bytes an id (a hash set of a million
/// ids takes 34 MiB, 50 MiB while it grows); the same answers.
#[derive(Debug, Default)]
struct Fresh {
    sorted: Vec<u128>,
    recent: HashSet<u128, BuildHasherDefault<Passthrough>>,
}

impl Fresh {
    fn contains(&self, h: u128) -> bool {
        self.recent.contains(&h) || holds(&self.sorted, h)
    }

    /// Add `h`, known to be in neither part.
    fn insert(&mut self, h: u128) {
        self.recent.insert(h);
        if self.recent.len() >= RECENT_MAX {
            self.flush();
        }
    }

    /// Merge the hash set into the sorted run, from the back, in place.
    fn flush(&mut self) {
        let mut add: Vec<u128> = self.recent.drain().collect();
        add.sort_unstable();
        let v = &mut self.sorted;
        let (mut i, mut j) = (v.len(), add.len());
        v.reserve_exact(add.len());
        v.resize(i + j, 0);
        for k in (0..v.len()).rev() {
            let from_v = match (
                i.checked_sub(1).and_then(|x| v.get(x)),
                j.checked_sub(1).and_then(|y| add.get(y)),
            ) {
                (Some(a), Some(b)) => a > b,
                (Some(_), None) => true,
                _ => false,
            };
            let next = if from_v {
                i -= 1;
                v.get(i).copied()
            } else {
                j -= 1;
                add.get(j).copied()
            };
            if let (Some(x), Some(slot)) = (next, v.get_mut(k)) {
                *slot = x;
            }
        }
    }

    fn into_sorted(mut self) -> Vec<u128> {
        self.flush();
        self.sorted
    }
}

/// What a checkpoint keeps of a [`Seen`].
pub(crate) struct SeenParts {
    /// A new sorted base to write; `None`: the loaded one stays.
    pub(crate) base: Option<Vec<u128>>,
    /// The sorted ids not in the base.
    pub(crate) delta: Vec<u128>,
}

/// Whether the sorted `v` holds `h`. Ids are uniform hashes, so the search starts where `h`
/// would be in a uniform spread and widens from there by doubling steps: it lands within a
/// few cache lines of the answer where a plain bisection of a large run misses the cache at
/// most of its steps. Any other order is still searched exactly, in O(log n).
fn holds(v: &[u128], h: u128) -> bool {
    let n = v.len();
    if n < 64 {
        return v.binary_search(&h).is_ok();
    }
    // (top 64 bits of h) × n / 2⁶⁴: in 0..n.
    let guess = ((u128::from((h >> 64) as u64) * n as u128) >> 64) as usize;
    let below = |i: usize| v.get(i).is_some_and(|x| *x < h);
    // The answer (the first index not below h) lies in lo..=hi.
    let (mut lo, mut hi) = (0, n);
    let mut step = 1;
    if below(guess) {
        lo = guess + 1;
        while let Some(probe) = guess.checked_add(step).filter(|p| *p < n) {
            if !below(probe) {
                hi = probe;
                break;
            }
            lo = probe + 1;
            step *= 2;
        }
    } else {
        hi = guess;
        while let Some(probe) = guess.checked_sub(step) {
            if below(probe) {
                lo = probe + 1;
                break;
            }
            hi = probe;
            step *= 2;
        }
    }
    let at = lo + v.get(lo..hi).map_or(0, |w| w.partition_point(|x| *x < h));
    v.get(at) == Some(&h)
}

fn strictly_sorted(v: &[u128]) -> bool {
    v.windows(2).all(|w| matches!(w, [a, b] if a < b))
}

fn merge(a: Vec<u128>, b: Vec<u128>) -> Vec<u128> {
    if a.is_empty() {
        return b;
    }
    if b.is_empty() {
        return a;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x <= y => a.next(),
            (Some(_), Some(_)) | (None, Some(_)) => b.next(),
            (Some(_), None) => a.next(),
            (None, None) => break,
        };
        out.extend(next);
    }
    out
}

impl Seen {
    /// From a checkpoint's sorted ids (`None` when they are not sorted and distinct; a base
    /// left on disk is checked when it is read whole).
    pub(crate) fn from_sorted(base: Base, delta: Vec<u128>) -> Option<Seen> {
        let sorted = match &base {
            Base::Mem(v) => strictly_sorted(v),
            Base::Disk(_) => true,
        };
        if !(sorted && strictly_sorted(&delta)) {
            return None;
        }
        let mut filter = Filter::default();
        let in_memory = match &base {
            Base::Mem(v) => v.as_slice(),
            Base::Disk(_) => &[],
        };
        for h in in_memory.iter().chain(&delta) {
            filter.set(*h);
        }
        Some(Seen { base, delta, fresh: Fresh::default(), filter })
    }

    pub(crate) fn contains(&self, h: u128) -> bool {
        let in_memory = self.filter.may_hold(h)
            && (self.fresh.contains(h)
                || holds(&self.delta, h)
                || matches!(&self.base, Base::Mem(v) if holds(v, h)));
        in_memory || matches!(&self.base, Base::Disk(f) if f.contains(h))
    }

    /// Record `h`, which the caller found not [`contains`](Seen::contains)ed (the base is
    /// not searched again: on disk that costs ~2 × log₂(base) positional reads per id).
    pub(crate) fn insert_new(&mut self, h: u128) {
        self.filter.set(h);
        self.fresh.insert(h);
    }

    /// Split for the checkpoint: a new base when the delta has grown large, else the old base
    /// and a longer delta. `None` when the base left on disk could not be read (a lookup
    /// failed) or, read whole to write a new base, failed its checksum or order: the lookups
    /// may have been wrong, so the caller reads everything again.
    pub(crate) fn into_parts(self) -> Option<SeenParts> {
        let delta = merge(self.delta, self.fresh.into_sorted());
        let base_len = match &self.base {
            Base::Mem(v) => v.len(),
            Base::Disk(f) => {
                if f.failed() {
                    return None;
                }
                usize::try_from(f.len()).unwrap_or(usize::MAX)
            }
        };
        if delta.len() <= COMPACT_MIN.max(base_len / 256) {
            return Some(SeenParts { base: None, delta });
        }
        let base = match self.base {
            Base::Mem(v) => v,
            Base::Disk(f) => f.load().filter(|v| strictly_sorted(v))?,
        };
        Some(SeenParts { base: Some(merge(base, delta)), delta: Vec::new() })
    }
}

#[cfg(test)]
mod tests {
    use agentos_testkit::agent_history::Rng;

    use super::holds;

    /// The guided search answers as a bisection does: on uniform runs and on runs crowded
    /// at one end (the guess far from the answer), for every element, its neighbours, and
    /// values beyond both ends.
    #[test]
    fn the_guided_search_answers_as_bisection_does() {
        let mut rng = Rng::new(7);
        for n in [0usize, 1, 63, 64, 65, 1000, 50_000] {
            let uniform: Vec<u128> = (0..n)
                .map(|_| u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64()))
                .collect();
            let low: Vec<u128> = (0..n as u128).map(|i| i * 3 + 1).collect();
            let high: Vec<u128> = (0..n as u128).map(|i| u128::MAX - 3 * (n as u128 - i)).collect();
            for mut v in [uniform, low, high] {
                v.sort_unstable();
                v.dedup();
                let mut probes: Vec<u128> = vec![0, 1, u128::MAX, u128::MAX - 1];
                for x in &v {
                    probes.extend([*x, x.wrapping_add(1), x.wrapping_sub(1)]);
                }
                for _ in 0..1000 {
                    probes.push(u128::from(rng.next_u64()) << 64);
                }
                for p in probes {
                    assert_eq!(holds(&v, p), v.binary_search(&p).is_ok(), "n {n}, {p}");
                }
            }
        }
    }
}
