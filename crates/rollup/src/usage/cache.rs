//! The usage cache (`<data dir>/state/usage_cache.bin`): what a scan of `events.jsonl` gave —
//! cells per (UTC quarter-hour, session, model), session details and how far it read, with the
//! `event_id` hashes counted beside it (`usage_cache.ids.bin`, read only when new lines must be
//! deduplicated) — so the next report reads only the bytes appended since.
//!
//! It is used only when it fits: same format version, same file (device and inode), the file
//! at least as long as what was read, the same bytes at the start (first 64 KiB) and just
//! before the offset (last 4 KiB), and the same prices (costs are summed at read time).
//! Anything else — a rewritten, truncated or rotated log, other prices, a damaged cache — means
//! a full read, never an error. Written atomically (temp + fsync + rename) and only when
//! something new was read; a cache that cannot be written is skipped (it is only a speed-up).

use std::io::{Read, Seek, SeekFrom};

use camino::Utf8Path;

use crate::codec::Reader as R;

use super::scan::{Cell, Collected, SessionMeta, Tok};
use crate::dedupe::{checksum, id_hash_bytes};

const MAGIC: &[u8; 8] = b"AOSUSE03";
/// The ids file's magic.
const IDS_MAGIC: &[u8; 8] = b"AOSUID01";
/// Largest cache read (a cache over this is ignored: a full read rebuilds it).
const MAX_CACHE: u64 = 1 << 30;
const HEAD: u64 = 64 * 1024;
const TAIL: u64 = 4 * 1024;

/// Where the cache of a data dir lives.
pub(crate) const CACHE_FILE: &str = "state/usage_cache.bin";

/// The `event_id` hashes counted, beside the cache: read only when there are new lines to
/// dedupe (a report on an unchanged log reads the cells alone).
pub(crate) fn ids_path(cache: &Utf8Path) -> camino::Utf8PathBuf {
    cache.with_extension("ids.bin")
}

/// Which file, read how far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mark {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    pub(crate) offset: u64,
    pub(crate) lines: u64,
    pub(crate) head: u128,
    pub(crate) tail: u128,
    pub(crate) prices: u128,
}

#[cfg(unix)]
pub(crate) fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
pub(crate) fn identity(_: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

/// Fingerprints of the first 64 KiB and of the 4 KiB before `offset` of `file`.
pub(crate) fn fingerprints(file: &mut std::fs::File, offset: u64) -> std::io::Result<(u128, u128)> {
    let mut read = |from: u64, len: u64| -> std::io::Result<u128> {
        file.seek(SeekFrom::Start(from))?;
        let mut buf = Vec::new();
        file.by_ref().take(len).read_to_end(&mut buf)?;
        if (buf.len() as u64) < len {
            return Err(std::io::Error::other("file shorter than recorded"));
        }
        Ok(id_hash_bytes(&buf))
    };
    let head = read(0, offset.min(HEAD))?;
    let tail_len = offset.min(TAIL);
    let tail = read(offset - tail_len, tail_len)?;
    Ok((head, tail))
}

struct W(Vec<u8>);

impl W {
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u128(&mut self, v: u128) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn opt(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.0.push(1);
                self.str(s);
            }
            None => self.0.push(0),
        }
    }
}

/// The usage cache's own fields on top of the shared little-endian reader.
trait CacheFields {
    fn str(&mut self) -> Option<String>;
    fn opt(&mut self) -> Option<Option<String>>;
}

impl CacheFields for R<'_> {
    fn str(&mut self) -> Option<String> {
        let n = usize::try_from(self.u64()?).ok()?;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
    fn opt(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            1 => self.str().map(Some),
            _ => None,
        }
    }
}

/// The cache's bytes for `c` read up to `mark`.
/// The ids file: magic, the sorted ids, a checksum.
fn encode_ids(ids: &[u128]) -> Vec<u8> {
    let mut w = W(IDS_MAGIC.to_vec());
    for id in ids {
        w.u128(*id);
    }
    let sum = checksum(&w.0);
    w.u128(sum);
    w.0
}

fn encode(c: &Collected, mark: &Mark, ids: &[u8]) -> Vec<u8> {
    let mut w = W(MAGIC.to_vec());
    for v in [mark.dev, mark.ino, mark.offset, mark.lines] {
        w.u64(v);
    }
    for v in [mark.head, mark.tail, mark.prices] {
        w.u128(v);
    }
    for v in [c.lines, c.duplicates, c.undated, c.diagnostics] {
        w.u64(v);
    }
    w.u64(c.sessions.len() as u64);
    for (name, meta) in c.sessions.iter().zip(&c.meta) {
        w.str(name);
        w.opt(meta.agent.as_deref());
        w.opt(meta.cwd.as_deref());
        w.opt(meta.branch.as_deref());
        w.u64(meta.created.map_or(u64::MAX, |c| c as u64));
        w.u64(meta.last_active.map_or(u64::MAX, |l| l as u64));
    }
    w.u64(c.models.len() as u64);
    for m in &c.models {
        w.str(m);
    }
    let mut cells: Vec<_> = c.cells.iter().collect();
    cells.sort_unstable_by_key(|(k, _)| **k);
    w.u64(cells.len() as u64);
    for (&(qh, s, m), cell) in cells {
        w.u32(qh as u32);
        w.u32(s);
        w.u32(m);
        let t = cell.tokens;
        for v in [t.input, t.output, t.cache_write, t.cache_write_1h, t.cache_read] {
            w.u64(v);
        }
        w.u64(cell.cost.to_bits());
        w.u64(cell.unpriced);
        w.u64(cell.responses);
        w.u64(cell.last as u64);
    }
    // Which ids file belongs to this cache.
    w.u128(checksum(ids));
    let sum = checksum(&w.0);
    w.u128(sum);
    w.0
}

fn decode(bytes: &[u8]) -> Option<(Collected, Mark, u128)> {
    let body_len = bytes.len().checked_sub(16)?;
    let (body, sum) = (bytes.get(..body_len)?, bytes.get(body_len..)?);
    if u128::from_le_bytes(sum.try_into().ok()?) != checksum(body) {
        return None;
    }
    let mut r = R(body);
    if r.take(8)? != MAGIC {
        return None;
    }
    let mark = Mark {
        dev: r.u64()?,
        ino: r.u64()?,
        offset: r.u64()?,
        lines: r.u64()?,
        head: r.u128()?,
        tail: r.u128()?,
        prices: r.u128()?,
    };
    let mut c = Collected {
        lines: r.u64()?,
        duplicates: r.u64()?,
        undated: r.u64()?,
        diagnostics: r.u64()?,
        ..Collected::default()
    };
    let n = r.u64()?;
    for _ in 0..n {
        let name = r.str()?;
        let agent = r.opt()?;
        let cwd = r.opt()?;
        let branch = r.opt()?;
        let created = r.u64()?;
        let last = r.u64()?;
        let i = c.session(&name) as usize;
        let meta = c.meta.get_mut(i)?;
        *meta = SessionMeta {
            agent,
            cwd,
            branch,
            created: (created != u64::MAX).then_some(created as i64),
            last_active: (last != u64::MAX).then_some(last as i64),
        };
    }
    let n = r.u64()?;
    for _ in 0..n {
        let m = r.str()?;
        Collected::intern(&mut c.model_ix, &mut c.models, &m);
    }
    let n = r.u64()?;
    for _ in 0..n {
        let key = (r.u32()? as i32, r.u32()?, r.u32()?);
        if key.1 as usize >= c.sessions.len() || key.2 as usize >= c.models.len() {
            return None;
        }
        let tokens = Tok {
            input: r.u64()?,
            output: r.u64()?,
            cache_write: r.u64()?,
            cache_write_1h: r.u64()?,
            cache_read: r.u64()?,
        };
        let cell = Cell {
            tokens,
            cost: f64::from_bits(r.u64()?),
            unpriced: r.u64()?,
            responses: r.u64()?,
            last: r.u64()? as i64,
        };
        c.cells.insert(key, cell);
    }
    let ids = r.u128()?;
    r.0.is_empty().then_some((c, mark, ids))
}

/// The ids of the ids file at `path` when its checksum is `expected`.
fn decode_ids(path: &Utf8Path, expected: u128) -> Option<Vec<u128>> {
    let bytes = agentos_fsio::read_bounded(path, MAX_CACHE).ok()??;
    if checksum(&bytes) != expected {
        return None;
    }
    // The whole file's checksum is the cache's record of it: no second pass needed.
    let body = bytes.get(..bytes.len().checked_sub(16)?)?;
    let (magic, ids) = (body.get(..8)?, body.get(8..)?);
    if magic != IDS_MAGIC || ids.len() % 16 != 0 {
        return None;
    }
    Some(ids.chunks_exact(16).filter_map(|c| c.try_into().ok().map(u128::from_le_bytes)).collect())
}

/// The cached scan of `file` when it fits (see the module docs). Its ids are read too when
/// `file` grew past what was read (new lines must be deduplicated against them); a missing or
/// mismatched ids file then means no cache.
pub(crate) fn load(
    cache: &Utf8Path,
    file: &mut std::fs::File,
    meta: &std::fs::Metadata,
    prices: u128,
) -> Option<(Collected, Mark)> {
    let bytes = agentos_fsio::read_bounded(cache, MAX_CACHE).ok()??;
    let (mut c, mark, ids) = decode(&bytes)?;
    let (dev, ino) = identity(meta);
    if (mark.dev, mark.ino) != (dev, ino) || meta.len() < mark.offset || mark.prices != prices {
        return None;
    }
    let (head, tail) = fingerprints(file, mark.offset).ok()?;
    if (head, tail) != (mark.head, mark.tail) {
        return None;
    }
    if meta.len() > mark.offset {
        c.seen = super::seen::Seen::from_list(decode_ids(&ids_path(cache), ids)?);
    }
    Some((c, mark))
}

/// Write the cache (atomically); `false` when it could not be written.
pub(crate) fn save(cache: &Utf8Path, c: &Collected, mark: &Mark) -> bool {
    if let Some(dir) = cache.parent()
        && std::fs::create_dir_all(dir).is_err()
    {
        return false;
    }
    // The ids first: a crash between the two writes leaves a cache whose ids checksum does
    // not match, which reads as no cache.
    let ids = encode_ids(&c.seen.sorted());
    agentos_fsio::write_atomic(&ids_path(cache), &ids).is_ok()
        && agentos_fsio::write_atomic(cache, &encode(c, mark, &ids)).is_ok()
}
