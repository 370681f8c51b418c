//! The global dedupe index, across files and runs: every response key imported so far with
//! the usage imported for it and the session it belongs to, plus each session's facts and the
//! time span its last session event said. It is what makes a re-import add nothing, a copy
//! in a resumed session count once, and a response seen mid-stream in an earlier run grow by
//! exactly its missing tokens (a correction turn).
//!
//! On disk (`indexfile`): a sorted base searched in place plus an append-only log of changes,
//! merged into a new base only occasionally; it is only opened when some source file changed.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write;

use camino::{Utf8Path, Utf8PathBuf};

use crate::indexfile::{self, Base, BaseId, Chunk};
use crate::record::{SessionMeta, Usage};
use crate::{Agent, Error, events};

/// The base file.
pub(crate) const BASE: &str = "index.bin";
/// The log of changes since the base.
pub(crate) const LOG: &str = "index.log";
/// The log is merged into a new base once it would grow past this many bytes or a quarter of
/// the base, whichever is more.
const MERGE_AT_LEAST: u64 = 8 << 20;
/// With more lookups than this, the base's keys are read whole rather than a bucket each.
const IN_PLACE_LOOKUPS: usize = indexfile::BUCKETS / 4;

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

/// The index: every session (held whole: a few per source file), and the keys of the base
/// (on disk, or read whole when a run looks up many), the log and this run.
#[derive(Debug, Default)]
pub(crate) struct Index {
    pub sessions: Vec<SessionRec>,
    by_id: HashMap<(Agent, String), u32>,
    dir: Utf8PathBuf,
    base: Base,
    /// The base's keys, when read whole.
    loaded: Option<Vec<(u128, KeyRec)>>,
    /// Keys set by the log.
    logged: KeyMap<KeyRec>,
    /// Keys set by this run (each once), seen by lookups after the commit.
    fresh: Vec<(u128, KeyRec)>,
    /// Sessions added or changed by this run.
    dirty: BTreeSet<u32>,
    /// Bytes of the log that hold whole chunks; its length on disk.
    log_valid: u64,
    log_len: u64,
    /// The log is merged into a new base once it would pass this size.
    pub merge_at: u64,
    buf: Vec<u8>,
}

impl Index {
    /// The index kept in `dir` (empty when there is none): the base's sessions and bucket
    /// table, and the log of changes since.
    pub fn open(dir: &Utf8Path) -> Result<Index, Error> {
        Self::open_files(dir).map_err(|e| in_dir(dir, e))
    }

    fn open_files(dir: &Utf8Path) -> Result<Index, Error> {
        let base_path = dir.join(BASE);
        let base = Base::open(&base_path)?;
        let log = indexfile::read_log(&dir.join(LOG), &base)?;
        let mut index = Index {
            sessions: Vec::new(),
            by_id: HashMap::new(),
            dir: dir.to_owned(),
            merge_at: MERGE_AT_LEAST.max(base.file_len / 4),
            log_valid: log.valid_len,
            log_len: log.file_len,
            base,
            ..Index::default()
        };
        index.sessions = std::mem::take(&mut index.base.sessions);
        index.base.sessions.clear();
        for chunk in log.chunks {
            for (i, s) in chunk.sessions {
                match (i as usize).cmp(&index.sessions.len()) {
                    std::cmp::Ordering::Less => index.sessions[i as usize] = s,
                    std::cmp::Ordering::Equal => index.sessions.push(s),
                    std::cmp::Ordering::Greater => {
                        return Err(Error::State {
                            path: dir.join(LOG),
                            reason: "a session out of order".to_owned(),
                        });
                    }
                }
            }
            for (k, r) in chunk.keys {
                if r.session as usize >= index.sessions.len() {
                    return Err(Error::State {
                        path: dir.join(LOG),
                        reason: "a key of an unknown session".to_owned(),
                    });
                }
                index.logged.insert(k, r);
            }
        }
        for (i, s) in index.sessions.iter().enumerate() {
            index.by_id.insert((s.agent, s.id.clone()), i as u32);
        }
        Ok(index)
    }

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
        self.dirty.insert(i);
        i
    }

    /// Session `s`, to change (recorded at the next commit).
    pub fn session_mut(&mut self, s: u32) -> &mut SessionRec {
        self.dirty.insert(s);
        &mut self.sessions[s as usize]
    }

    /// Get ready for about `lookups` lookups: many are cheaper against the base read whole.
    pub fn expect_lookups(&mut self, lookups: usize) -> Result<(), Error> {
        if lookups > IN_PLACE_LOOKUPS && self.loaded.is_none() && self.base.n_keys > 0 {
            let all = self.base.all_keys(&self.dir.join(BASE)).map_err(|e| in_dir(&self.dir, e))?;
            self.loaded = Some(all);
        }
        Ok(())
    }

    /// What was imported for `key` as of the last commit.
    pub fn get(&mut self, key: u128) -> Result<Option<KeyRec>, Error> {
        if let Some(r) = self.logged.get(&key) {
            return Ok(Some(*r));
        }
        if let Some(all) = &self.loaded {
            return Ok(all.binary_search_by_key(&key, |e| e.0).ok().map(|i| all[i].1));
        }
        if self.base.n_keys == 0 {
            return Ok(None);
        }
        let r = self.base.get(&self.dir.join(BASE), key, &mut self.buf);
        let r = r.map_err(|e| in_dir(&self.dir, e))?;
        if r.is_some_and(|r| r.session as usize >= self.sessions.len()) {
            return Err(Error::State {
                path: self.dir.clone(),
                reason: format!("{BASE}: a key of an unknown session"),
            });
        }
        Ok(r)
    }

    /// Record what was imported for `key` (new or changed; once a run).
    pub fn set(&mut self, key: u128, rec: KeyRec) {
        self.fresh.push((key, rec));
    }

    /// Record this run's changes: one chunk appended to the log and synced, or, when the log
    /// would grow too large, a new base of everything written atomically (and the log removed).
    pub fn commit(&mut self) -> Result<(), Error> {
        if self.fresh.is_empty() && self.dirty.is_empty() {
            return Ok(());
        }
        let mut keys = std::mem::take(&mut self.fresh);
        keys.sort_unstable_by_key(|e| e.0);
        let sessions = std::mem::take(&mut self.dirty)
            .into_iter()
            .map(|i| (i, self.sessions[i as usize].clone()))
            .collect();
        let chunk = Chunk { sessions, keys };
        let grown = self.log_valid.max(24) + (chunk.keys.len() * indexfile::KEY_BYTES) as u64;
        if grown > self.merge_at {
            return self.merge(chunk.keys);
        }
        let bytes = indexfile::encode_chunk(&chunk);
        let path = self.dir.join(LOG);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("open", &path, e))?;
        let mut out = Vec::with_capacity(bytes.len() + 24);
        let at = if self.log_valid < 24 {
            // No usable log (none, a torn header, or one left over from a merge): a new one.
            out.extend_from_slice(&indexfile::log_header(self.base.id));
            0
        } else {
            self.log_valid
        };
        out.extend_from_slice(&bytes);
        if self.log_len != at {
            // Cut off a torn chunk of a run that never committed.
            file.set_len(at).map_err(|e| Error::io("truncate", &path, e))?;
        }
        use std::io::{Seek, SeekFrom};
        file.seek(SeekFrom::Start(at)).map_err(|e| Error::io("seek", &path, e))?;
        file.write_all(&out).map_err(|e| Error::io("write", &path, e))?;
        file.sync_all().map_err(|e| Error::io("sync", &path, e))?;
        if at == 0 {
            sync_dir(&self.dir)?;
        }
        self.log_valid = at + out.len() as u64;
        self.log_len = self.log_valid;
        for (k, r) in chunk.keys {
            self.logged.insert(k, r);
        }
        Ok(())
    }

    /// Everything into a new base; the log is then left over and removed.
    fn merge(&mut self, fresh: Vec<(u128, KeyRec)>) -> Result<(), Error> {
        let base_path = self.dir.join(BASE);
        let mut all = match self.loaded.take() {
            Some(all) => all,
            None => self.base.all_keys(&base_path).map_err(|e| in_dir(&self.dir, e))?,
        };
        // Later wins: the base, then the log, then this run; a stable sort keeps that order
        // among equal keys and the dedup keeps the last.
        if all.is_empty() && self.logged.is_empty() {
            all = fresh; // A first import: no second copy, and no key twice.
        } else {
            all.reserve(self.logged.len() + fresh.len());
            all.extend(std::mem::take(&mut self.logged));
            all.extend(fresh);
            all.sort_by_key(|e| e.0);
        }
        all.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 = later.1;
            }
            same
        });
        let id = new_id(all.len());
        indexfile::write_base(&base_path, id, self.base.id, &self.sessions, &all)?;
        let log = self.dir.join(LOG);
        match std::fs::remove_file(&log) {
            Ok(()) => sync_dir(&self.dir)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", &log, e)),
        }
        self.base = Base::open(&base_path)?;
        self.base.sessions.clear();
        self.merge_at = MERGE_AT_LEAST.max(self.base.file_len / 4);
        self.log_valid = 0;
        self.log_len = 0;
        Ok(())
    }
}

/// Damage to either index file is reported on the state directory: the two are one index,
/// and removing the directory (not one file) is what makes the next import start over.
pub(crate) fn in_dir(dir: &Utf8Path, e: Error) -> Error {
    match e {
        Error::State { path, reason } => Error::State {
            path: dir.to_owned(),
            reason: format!("{}: {reason}", path.file_name().unwrap_or(path.as_str())),
        },
        e => e,
    }
}

fn sync_dir(dir: &Utf8Path) -> Result<(), Error> {
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io("sync", dir, e))?;
    Ok(())
}

/// A fresh base id: unique enough to tell this base from any other.
fn new_id(keys: usize) -> BaseId {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let sum = events::sha256(&[
        &now.to_le_bytes(),
        &std::process::id().to_le_bytes(),
        &(keys as u64).to_le_bytes(),
    ]);
    let mut id = [0u8; 16];
    id.copy_from_slice(&sum[..16]);
    id
}
