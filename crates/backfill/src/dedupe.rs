//! The global dedupe index, across files and runs: every response key imported so far with
//! the usage imported for it and the session it belongs to, plus each session's facts and the
//! time span its last session event said. It is what makes a re-import add nothing, a copy
//! in a resumed session count once, and a response seen mid-stream in an earlier run grow by
//! exactly its missing tokens (a correction turn).
//!
//! On disk: a compact binary file (`index.bin`), written atomically, read whole with a size
//! cap and a SHA-256 check; it is only loaded when some source file changed.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use camino::Utf8Path;

use crate::record::{SessionMeta, Usage};
use crate::{Agent, Error, events};

const MAGIC: &[u8; 8] = b"AOSIMP1\n";
/// Largest index read (about 60 bytes per response: 17 million responses).
const MAX_INDEX_BYTES: u64 = 1 << 30;

/// Keys are already uniform hashes: use their low bits.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes.iter().take(8) {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u128(&mut self, i: u128) {
        self.0 = i as u64;
    }
}

/// A map keyed by response keys.
pub(crate) type KeyMap<V> = HashMap<u128, V, BuildHasherDefault<KeyHasher>>;

/// What was imported for one response key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyRec {
    pub session: u32,
    pub usage: Usage,
}

/// One agent session as imported so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SessionRec {
    pub agent: Agent,
    /// The session id as written in events (already in the recorder's alphabet).
    pub id: String,
    pub meta: SessionMeta,
    /// Time span of the last session event written (`first > last`: none yet).
    pub first: i64,
    pub last: i64,
}

/// Every key imported, sorted, with a table of where each value of the top 16 bits starts:
/// 64 bytes a key (a hash map would take twice that), found in a handful of probes since keys
/// are uniform hashes.
#[derive(Debug, Default)]
pub(crate) struct KeyTable {
    entries: Vec<(u128, KeyRec)>,
    starts: Vec<u32>,
}

impl KeyTable {
    fn bucket(key: u128) -> usize {
        (key >> 112) as usize
    }

    fn range(&self, key: u128) -> std::ops::Range<usize> {
        let b = Self::bucket(key);
        match (self.starts.get(b), self.starts.get(b + 1)) {
            (Some(&s), Some(&e)) => s as usize..e as usize,
            _ => 0..self.entries.len(),
        }
    }

    fn position(&self, key: u128) -> Option<usize> {
        let r = self.range(key);
        let start = r.start;
        self.entries.get(r)?.binary_search_by_key(&key, |e| e.0).ok().map(|i| start + i)
    }

    /// What was imported for `key`.
    pub fn get(&self, key: u128) -> Option<KeyRec> {
        self.position(key).map(|i| self.entries[i].1)
    }

    /// Change what was imported for a known key.
    pub fn set(&mut self, key: u128, rec: KeyRec) {
        if let Some(i) = self.position(key) {
            self.entries[i].1 = rec;
        }
    }

    /// Add new keys (not already present).
    pub fn extend(&mut self, new: impl IntoIterator<Item = (u128, KeyRec)>) {
        self.entries.extend(new);
        self.entries.sort_unstable_by_key(|e| e.0);
        self.reindex();
    }

    fn reindex(&mut self) {
        self.starts.clear();
        self.starts.reserve(1 << 16 | 1);
        let mut i = 0usize;
        for b in 0..=(1usize << 16) {
            while i < self.entries.len() && Self::bucket(self.entries[i].0) < b {
                i += 1;
            }
            self.starts.push(i as u32);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The index.
#[derive(Debug, Default)]
pub(crate) struct Index {
    pub sessions: Vec<SessionRec>,
    by_id: HashMap<(Agent, String), u32>,
    pub keys: KeyTable,
}

impl Index {
    /// The session `raw` of `agent` (its event id form), added when new.
    pub fn session(&mut self, agent: Agent, raw: &str) -> u32 {
        let id = events::session_id(agent, raw);
        if let Some(&i) = self.by_id.get(&(agent, id.clone())) {
            return i;
        }
        let i = self.sessions.len() as u32;
        self.sessions.push(SessionRec {
            agent,
            id: id.clone(),
            meta: SessionMeta { id: id.clone(), ..SessionMeta::default() },
            first: i64::MAX,
            last: i64::MIN,
        });
        self.by_id.insert((agent, id), i);
        i
    }

    /// The index at `path`; empty when there is none.
    pub fn load(path: &Utf8Path) -> Result<Index, Error> {
        let Some(bytes) = agentos_fsio::read_bounded(path, MAX_INDEX_BYTES)? else {
            return Ok(Index::default());
        };
        decode(&bytes).ok_or_else(|| Error::State {
            path: path.to_owned(),
            reason: "checksum or layout mismatch".to_owned(),
        })
    }

    /// Write the index atomically.
    pub fn save(&self, path: &Utf8Path) -> Result<(), Error> {
        agentos_fsio::write_atomic(path, &self.encode())?;
        Ok(())
    }

    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(64 + self.keys.len() * 60 + self.sessions.len() * 128);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&(self.sessions.len() as u64).to_le_bytes());
        for s in &self.sessions {
            b.push(s.agent.code());
            put_str(&mut b, Some(&s.id));
            put_str(&mut b, s.meta.cwd.as_deref());
            put_str(&mut b, s.meta.branch.as_deref());
            put_str(&mut b, s.meta.version.as_deref());
            put_str(&mut b, s.meta.commit.as_deref());
            b.extend_from_slice(&s.first.to_le_bytes());
            b.extend_from_slice(&s.last.to_le_bytes());
        }
        // Sorted, so the same index always writes the same bytes.
        b.extend_from_slice(&(self.keys.len() as u64).to_le_bytes());
        for (k, r) in &self.keys.entries {
            b.extend_from_slice(&k.to_le_bytes());
            b.extend_from_slice(&r.session.to_le_bytes());
            let u = r.usage;
            for v in [u.input, u.output, u.cache_write, u.cache_write_1h, u.cache_read] {
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
        let sum = events::sha256(&[&b]);
        b.extend_from_slice(&sum);
        b
    }
}

/// Strings: `u32` length (`u32::MAX` for none), then the bytes.
fn put_str(b: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => b.extend_from_slice(&u32::MAX.to_le_bytes()),
        Some(s) => {
            b.extend_from_slice(&(s.len() as u32).to_le_bytes());
            b.extend_from_slice(s.as_bytes());
        }
    }
}

struct Cursor<'a> {
    b: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.b.len() {
            return None;
        }
        let (head, tail) = self.b.split_at(n);
        self.b = tail;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)?.try_into().ok().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)?.try_into().ok().map(u64::from_le_bytes)
    }
    fn i64(&mut self) -> Option<i64> {
        self.take(8)?.try_into().ok().map(i64::from_le_bytes)
    }
    fn u128(&mut self) -> Option<u128> {
        self.take(16)?.try_into().ok().map(u128::from_le_bytes)
    }
    fn str(&mut self) -> Option<Option<String>> {
        let n = self.u32()?;
        if n == u32::MAX {
            return Some(None);
        }
        let bytes = self.take(n as usize)?;
        String::from_utf8(bytes.to_vec()).ok().map(Some)
    }
}

fn decode(bytes: &[u8]) -> Option<Index> {
    let body_len = bytes.len().checked_sub(32)?;
    let (body, sum) = bytes.split_at(body_len);
    if events::sha256(&[body]) != sum {
        return None;
    }
    let mut c = Cursor { b: body };
    if c.take(8)? != MAGIC {
        return None;
    }
    let mut index = Index::default();
    let n_sessions = c.u64()?;
    for _ in 0..n_sessions {
        let agent = Agent::from_code(c.u8()?)?;
        let id = c.str()??;
        let meta = SessionMeta {
            id: id.clone(),
            cwd: c.str()?,
            branch: c.str()?,
            version: c.str()?,
            commit: c.str()?,
        };
        let (first, last) = (c.i64()?, c.i64()?);
        let i = index.sessions.len() as u32;
        index.by_id.insert((agent, id.clone()), i);
        index.sessions.push(SessionRec { agent, id, meta, first, last });
    }
    let n_keys = c.u64()?;
    // Each key takes 60 bytes: a count the body cannot hold is damage, not a reason to reserve.
    if n_keys.checked_mul(60)? > c.b.len() as u64 {
        return None;
    }
    index.keys.entries.reserve_exact(n_keys as usize);
    let mut previous = None;
    for _ in 0..n_keys {
        let key = c.u128()?;
        let session = c.u32()?;
        if session as usize >= index.sessions.len() {
            return None;
        }
        let usage = Usage {
            input: c.u64()?,
            output: c.u64()?,
            cache_write: c.u64()?,
            cache_write_1h: c.u64()?,
            cache_read: c.u64()?,
        };
        if previous.is_some_and(|p| p >= key) {
            return None; // Written sorted: anything else is damage.
        }
        previous = Some(key);
        index.keys.entries.push((key, KeyRec { session, usage }));
    }
    index.keys.reindex();
    c.b.is_empty().then_some(index)
}
