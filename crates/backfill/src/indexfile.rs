//! The dedupe index on disk: a sorted base file (`index.bin`) searched in place by positional
//! reads, and an append-only log of what changed since (`index.log`), merged into a new base
//! only once it grows past a share of the base. A run that adds a few responses reads a few
//! buckets of the base and appends one checksummed chunk to the log: proportional to what it
//! adds, not to the history.
//!
//! Base layout (integers little-endian): a 96-byte header (magic, this base's id, the id of
//! the base it was merged from, the byte length of the sessions section, the key count, the
//! file length, SHA-256 of the key records), the sessions, a table of where each of the
//! [`BUCKETS`] values of a key's top bits starts, SHA-256 of all of that (checked on every
//! open), then the key records, sorted, [`KEY_BYTES`] each (their SHA-256 is checked whenever
//! they are read whole, i.e. at every merge).
//!
//! Log layout: magic, the id of the base it extends, then chunks: `u64` body length, the body
//! (changed sessions, changed keys), SHA-256 of the body. A chunk is appended and synced in one
//! go before the ledger is written, so a torn last chunk belongs to a run that never
//! committed: it is ignored and cut off at the next append. A log made for the base this base
//! was merged from is left over from a merge that stopped before removing it: already in the
//! base, ignored. Anything else (other magic, another base's id, a bad chunk followed by more
//! bytes) is damage and is refused.

use std::fs::File;

use camino::Utf8Path;
use sha2::Digest as _;

use crate::dedupe::{KeyRec, SessionRec};
use crate::record::{SessionMeta, Usage};
use crate::{Agent, Error, events};

pub(crate) const BASE_MAGIC: &[u8; 8] = b"AOSIMP2\n";
pub(crate) const LOG_MAGIC: &[u8; 8] = b"AOSILG1\n";
/// Keys are uniform hashes: their top bits spread them evenly over the buckets.
pub(crate) const BUCKET_BITS: u32 = 12;
pub(crate) const BUCKETS: usize = 1 << BUCKET_BITS;
/// A key record: key, session, five token counts.
pub(crate) const KEY_BYTES: usize = 16 + 4 + 5 * 8;
const HEADER_BYTES: usize = 8 + 16 + 16 + 8 + 8 + 8 + 32;
const TABLE_BYTES: usize = (BUCKETS + 1) * 4;
/// Key records encoded at a time when a base is written.
const WRITE_BLOCK: usize = 4096;
/// Largest sessions section read (a few hundred bytes a session).
const MAX_SESSIONS_BYTES: u64 = 256 << 20;
/// Largest log read (it is merged long before).
pub(crate) const MAX_LOG_BYTES: u64 = 1 << 30;
/// Largest key count (1 GiB of records).
const MAX_KEYS: u64 = (1 << 30) / KEY_BYTES as u64;

/// An id naming one base file.
pub(crate) type BaseId = [u8; 16];

/// The open base: its sessions and how to find its keys.
#[derive(Debug, Default)]
pub(crate) struct Base {
    pub id: BaseId,
    pub prev: BaseId,
    pub sessions: Vec<SessionRec>,
    /// How many sessions the base holds (its keys refer to no other).
    n_sessions: usize,
    pub n_keys: u64,
    pub file_len: u64,
    starts: Vec<u32>,
    keys_offset: u64,
    keys_sum: [u8; 32],
    file: Option<File>,
}

fn damaged(path: &Utf8Path, reason: &str) -> Error {
    Error::State { path: path.to_owned(), reason: reason.to_owned() }
}

fn bucket(key: u128) -> usize {
    (key >> (128 - BUCKET_BITS)) as usize
}

#[cfg(unix)]
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(not(unix))]
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file.try_clone()?;
    f.seek(SeekFrom::Start(offset))?;
    f.read_exact(buf)
}

impl Base {
    /// The base at `path`: its header, sessions and bucket table (checked); none is empty.
    pub fn open(path: &Utf8Path) -> Result<Base, Error> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Base::default()),
            Err(e) => return Err(Error::io("open", path, e)),
        };
        let meta = file.metadata().map_err(|e| Error::io("read", path, e))?;
        if !meta.is_file() {
            return Err(damaged(path, "not a regular file"));
        }
        let len = meta.len();
        let mut head = [0u8; HEADER_BYTES];
        if len < (HEADER_BYTES + TABLE_BYTES + 32) as u64 {
            return Err(damaged(path, "too short"));
        }
        read_at(&file, &mut head, 0).map_err(|e| Error::io("read", path, e))?;
        let mut c = Cursor { b: &head };
        if c.take(8) != Some(BASE_MAGIC) {
            return Err(damaged(path, "unknown index format"));
        }
        let field = |c: &mut Cursor<'_>| c.u64().ok_or_else(|| damaged(path, "short header"));
        let id: BaseId = c.array().ok_or_else(|| damaged(path, "short header"))?;
        let prev: BaseId = c.array().ok_or_else(|| damaged(path, "short header"))?;
        let sessions_len = field(&mut c)?;
        let n_keys = field(&mut c)?;
        let file_len = field(&mut c)?;
        let keys_sum: [u8; 32] = c.array().ok_or_else(|| damaged(path, "short header"))?;
        if sessions_len > MAX_SESSIONS_BYTES || n_keys > MAX_KEYS {
            return Err(damaged(path, "sizes out of range"));
        }
        let keys_offset = (HEADER_BYTES + TABLE_BYTES + 32) as u64 + sessions_len;
        if file_len != len || keys_offset + n_keys * KEY_BYTES as u64 != len {
            return Err(damaged(path, "length mismatch (torn or foreign)"));
        }
        let mut rest = vec![0u8; sessions_len as usize + TABLE_BYTES + 32];
        read_at(&file, &mut rest, HEADER_BYTES as u64).map_err(|e| Error::io("read", path, e))?;
        let (body, sum) = rest.split_at(rest.len() - 32);
        if events::sha256(&[&head, body]) != sum {
            return Err(damaged(path, "checksum mismatch"));
        }
        let (sbytes, tbytes) = body.split_at(sessions_len as usize);
        let sessions = decode_sessions(sbytes).ok_or_else(|| damaged(path, "bad sessions"))?;
        let starts: Vec<u32> =
            tbytes.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let ordered = starts.windows(2).all(|w| w[0] <= w[1]);
        if !ordered
            || starts.first() != Some(&0)
            || starts.last().map(|&l| u64::from(l)) != Some(n_keys)
        {
            return Err(damaged(path, "bad bucket table"));
        }
        Ok(Base {
            id,
            prev,
            n_sessions: sessions.len(),
            sessions,
            n_keys,
            file_len,
            starts,
            keys_offset,
            keys_sum,
            file: Some(file),
        })
    }

    /// What the base holds for `key`, read in place (one bucket).
    pub fn get(
        &self,
        path: &Utf8Path,
        key: u128,
        buf: &mut Vec<u8>,
    ) -> Result<Option<KeyRec>, Error> {
        let Some(file) = &self.file else { return Ok(None) };
        let b = bucket(key);
        let (s, e) = (self.starts[b] as usize, self.starts[b + 1] as usize);
        if s == e {
            return Ok(None);
        }
        buf.resize((e - s) * KEY_BYTES, 0);
        read_at(file, buf, self.keys_offset + (s * KEY_BYTES) as u64)
            .map_err(|e| Error::io("read", path, e))?;
        let keys = |i: usize| key_at(&buf[i * KEY_BYTES..]);
        let (mut lo, mut hi) = (0usize, e - s);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let k = keys(mid);
            if bucket(k) != b {
                return Err(damaged(path, "key out of its bucket"));
            }
            match k.cmp(&key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    return Ok(decode_key(&buf[mid * KEY_BYTES..], self.n_sessions).map(|r| r.1));
                }
            }
        }
        Ok(None)
    }

    /// Every key record, read whole and checked against the header's checksum.
    pub fn all_keys(&self, path: &Utf8Path) -> Result<Vec<(u128, KeyRec)>, Error> {
        let Some(file) = &self.file else { return Ok(Vec::new()) };
        let mut out = Vec::with_capacity(self.n_keys as usize);
        let mut ctx = sha2::Sha256::new();
        let per = (1 << 20) / KEY_BYTES;
        let mut buf = vec![0u8; per * KEY_BYTES];
        let mut done = 0u64;
        let mut previous = None;
        while done < self.n_keys {
            let n = (self.n_keys - done).min(per as u64) as usize;
            let chunk = &mut buf[..n * KEY_BYTES];
            read_at(file, chunk, self.keys_offset + done * KEY_BYTES as u64)
                .map_err(|e| Error::io("read", path, e))?;
            ctx.update(&*chunk);
            for rec in chunk.chunks_exact(KEY_BYTES) {
                let (k, r) = decode_key(rec, self.n_sessions)
                    .ok_or_else(|| damaged(path, "key of an unknown session"))?;
                if previous.is_some_and(|p| p >= k) {
                    return Err(damaged(path, "keys out of order"));
                }
                previous = Some(k);
                out.push((k, r));
            }
            done += n as u64;
        }
        if ctx.finalize().as_slice() != self.keys_sum {
            return Err(damaged(path, "checksum mismatch"));
        }
        Ok(out)
    }
}

/// Write a base of `sessions` and `keys` (sorted, distinct) atomically.
pub(crate) fn write_base(
    path: &Utf8Path,
    id: BaseId,
    prev: BaseId,
    sessions: &[SessionRec],
    keys: &[(u128, KeyRec)],
) -> Result<(), Error> {
    let mut sbytes = Vec::new();
    encode_sessions(&mut sbytes, sessions.iter());
    let keys_at = HEADER_BYTES + sbytes.len() + TABLE_BYTES + 32;
    let file_len = (keys_at + keys.len() * KEY_BYTES) as u64;
    // The key records are encoded twice, a block at a time: once for their checksum (which the
    // header holds), then as they are written, so the file is never held in memory whole.
    let encoded = |block: &[(u128, KeyRec)], out: &mut Vec<u8>| {
        out.clear();
        for (k, r) in block {
            encode_key(out, *k, r);
        }
    };
    let mut block = Vec::with_capacity(WRITE_BLOCK * KEY_BYTES);
    let mut keys_hash = sha2::Sha256::new();
    for part in keys.chunks(WRITE_BLOCK) {
        encoded(part, &mut block);
        keys_hash.update(&block);
    }
    let mut b = Vec::with_capacity(keys_at);
    b.extend_from_slice(BASE_MAGIC);
    b.extend_from_slice(&id);
    b.extend_from_slice(&prev);
    b.extend_from_slice(&(sbytes.len() as u64).to_le_bytes());
    b.extend_from_slice(&(keys.len() as u64).to_le_bytes());
    b.extend_from_slice(&file_len.to_le_bytes());
    b.extend_from_slice(&keys_hash.finalize());
    b.extend_from_slice(&sbytes);
    let mut i = 0usize;
    for bucket_no in 0..=BUCKETS {
        while i < keys.len() && bucket(keys[i].0) < bucket_no {
            i += 1;
        }
        b.extend_from_slice(&(i as u32).to_le_bytes());
    }
    let sum = events::sha256(&[&b[..HEADER_BYTES], &b[HEADER_BYTES..]]);
    b.extend_from_slice(&sum);
    agentos_fsio::write_atomic_with(path, |w| {
        w.write_all(&b)?;
        for part in keys.chunks(WRITE_BLOCK) {
            encoded(part, &mut block);
            w.write_all(&block)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// One run's changes, as appended to the log.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Chunk {
    /// Sessions by number (a number one past the last adds one).
    pub sessions: Vec<(u32, SessionRec)>,
    pub keys: Vec<(u128, KeyRec)>,
}

/// A log read: its chunks and where the last whole one ends.
#[derive(Debug, Default)]
pub(crate) struct Log {
    pub chunks: Vec<Chunk>,
    /// Bytes of header and whole chunks (0 when there is no usable log).
    pub valid_len: u64,
    /// The file's length as read.
    pub file_len: u64,
}

/// The log at `path` for `base`; refuses a log of another base or with damage before its end.
pub(crate) fn read_log(path: &Utf8Path, base: &Base) -> Result<Log, Error> {
    let Some(bytes) = agentos_fsio::read_bounded(path, MAX_LOG_BYTES)? else {
        return Ok(Log::default());
    };
    let file_len = bytes.len() as u64;
    if bytes.len() < 24 {
        // A header torn while the log was created: nothing was ever committed to it.
        return if LOG_MAGIC.starts_with(&bytes[..bytes.len().min(8)]) {
            Ok(Log { file_len, ..Log::default() })
        } else {
            Err(damaged(path, "unknown index log format"))
        };
    }
    if &bytes[..8] != LOG_MAGIC {
        return Err(damaged(path, "unknown index log format"));
    }
    let of: &[u8] = &bytes[8..24];
    if of == base.prev && of != base.id {
        // Left over from a merge that stopped before removing it: already in the base.
        return Ok(Log { file_len, ..Log::default() });
    }
    if of != base.id {
        return Err(damaged(path, "the index log belongs to another index"));
    }
    let mut log = Log { chunks: Vec::new(), valid_len: 24, file_len };
    let mut at = 24usize;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let Some(len) = rest.get(..8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
        else {
            break; // Torn length.
        };
        let Some(end) = usize::try_from(len).ok().and_then(|l| l.checked_add(8 + 32)) else {
            break;
        };
        if end > rest.len() {
            break; // Torn chunk.
        }
        let body = &rest[8..end - 32];
        let ok = events::sha256(&[body]) == rest[end - 32..end];
        let chunk = if ok { decode_chunk(body) } else { None };
        match chunk {
            Some(c) => log.chunks.push(c),
            None if end == rest.len() => break, // A torn last chunk.
            None => return Err(damaged(path, "a damaged chunk in the index log")),
        }
        at += end;
        log.valid_len = at as u64;
    }
    Ok(log)
}

/// A log header for `base`.
pub(crate) fn log_header(base: BaseId) -> Vec<u8> {
    let mut b = LOG_MAGIC.to_vec();
    b.extend_from_slice(&base);
    b
}

/// A chunk as appended (length, body, checksum).
pub(crate) fn encode_chunk(chunk: &Chunk) -> Vec<u8> {
    let mut body =
        Vec::with_capacity(16 + chunk.keys.len() * KEY_BYTES + chunk.sessions.len() * 128);
    body.extend_from_slice(&(chunk.sessions.len() as u64).to_le_bytes());
    for (i, s) in &chunk.sessions {
        body.extend_from_slice(&i.to_le_bytes());
        encode_session(&mut body, s);
    }
    body.extend_from_slice(&(chunk.keys.len() as u64).to_le_bytes());
    for (k, r) in &chunk.keys {
        encode_key(&mut body, *k, r);
    }
    let mut out = Vec::with_capacity(body.len() + 40);
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&events::sha256(&[&body]));
    out
}

fn decode_chunk(body: &[u8]) -> Option<Chunk> {
    let mut c = Cursor { b: body };
    let n = c.u64()?;
    let mut chunk = Chunk::default();
    for _ in 0..n {
        let i = c.u32()?;
        chunk.sessions.push((i, decode_session(&mut c)?));
    }
    let n = c.u64()?;
    if n.checked_mul(KEY_BYTES as u64)? != c.b.len() as u64 {
        return None;
    }
    for rec in c.b.chunks_exact(KEY_BYTES) {
        chunk.keys.push(decode_key(rec, u32::MAX as usize)?);
    }
    Some(chunk)
}

fn encode_key(b: &mut Vec<u8>, k: u128, r: &KeyRec) {
    b.extend_from_slice(&k.to_le_bytes());
    b.extend_from_slice(&r.session.to_le_bytes());
    let u = r.usage;
    for v in [u.input, u.output, u.cache_write, u.cache_write_1h, u.cache_read] {
        b.extend_from_slice(&v.to_le_bytes());
    }
}

fn key_at(b: &[u8]) -> u128 {
    let mut k = [0u8; 16];
    k.copy_from_slice(&b[..16]);
    u128::from_le_bytes(k)
}

/// A key record; `None` when its session is not below `sessions`.
fn decode_key(b: &[u8], sessions: usize) -> Option<(u128, KeyRec)> {
    let mut c = Cursor { b: b.get(..KEY_BYTES)? };
    let key = c.u128()?;
    let session = c.u32()?;
    if session as usize >= sessions {
        return None;
    }
    let usage = Usage {
        input: c.u64()?,
        output: c.u64()?,
        cache_write: c.u64()?,
        cache_write_1h: c.u64()?,
        cache_read: c.u64()?,
    };
    Some((key, KeyRec { session, usage }))
}

fn encode_sessions<'a>(b: &mut Vec<u8>, sessions: impl ExactSizeIterator<Item = &'a SessionRec>) {
    b.extend_from_slice(&(sessions.len() as u64).to_le_bytes());
    for s in sessions {
        encode_session(b, s);
    }
}

fn encode_session(b: &mut Vec<u8>, s: &SessionRec) {
    b.push(s.agent.code());
    put_str(b, Some(&s.id));
    put_str(b, s.meta.cwd.as_deref());
    put_str(b, s.meta.branch.as_deref());
    put_str(b, s.meta.version.as_deref());
    put_str(b, s.meta.commit.as_deref());
    b.extend_from_slice(&s.first.to_le_bytes());
    b.extend_from_slice(&s.last.to_le_bytes());
}

fn decode_sessions(b: &[u8]) -> Option<Vec<SessionRec>> {
    let mut c = Cursor { b };
    let n = c.u64()?;
    // Each session takes at least 37 bytes: a count the section cannot hold is damage.
    if n.checked_mul(37)? > c.b.len() as u64 {
        return None;
    }
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        out.push(decode_session(&mut c)?);
    }
    c.b.is_empty().then_some(out)
}

fn decode_session(c: &mut Cursor<'_>) -> Option<SessionRec> {
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
    Some(SessionRec { agent, id, meta, first, last })
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
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }
    fn i64(&mut self) -> Option<i64> {
        self.array().map(i64::from_le_bytes)
    }
    fn u128(&mut self) -> Option<u128> {
        self.array().map(u128::from_le_bytes)
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
