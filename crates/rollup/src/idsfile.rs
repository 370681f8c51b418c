//! The base file of the event ids a checkpoint counted (`rollup_ids.<gen>.<pid>.bin`: a
//! little-endian `u64` count, then that many sorted 16-byte id hashes). Written atomically and
//! never changed afterwards, so a resumed rollup that meets only a few new ids does not read
//! it: it checks the file cheaply (device, inode, length, modification time, and a hash of its
//! first and last 4 KiB, all recorded when it was written) and looks ids up by binary search
//! with positional reads (~20 reads of 16 bytes per id at a million ids). When many ids are
//! new, or a new base must be written, it is read whole and its full checksum verified.

use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};

use camino::Utf8Path;
use serde::{Deserialize, Serialize};

use crate::dedupe::checksum;

/// Bytes hashed at each end of the file by the cheap check.
const ENDS: u64 = 4 << 10;

/// What the checkpoint records of its base file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IdsRef {
    pub(crate) file: String,
    pub(crate) count: u64,
    /// Checksum of the whole file.
    pub(crate) check: String,
    dev: u64,
    ino: u64,
    mtime_ns: i128,
    /// Checksums of its first and last 4 KiB.
    ends: String,
}

/// A `u64` count and that many 16-byte ids, nothing after.
pub(crate) fn decode_ids(bytes: &[u8]) -> Option<Vec<u128>> {
    let (n, rest) = bytes.split_at_checked(8)?;
    let n = u64::from_le_bytes(n.try_into().ok()?);
    if rest.len() as u64 != n.checked_mul(16)? {
        return None;
    }
    Some(
        rest.chunks_exact(16)
            .map(|c| <[u8; 16]>::try_from(c).map(u128::from_le_bytes).unwrap_or(0))
            .collect(),
    )
}

pub(crate) fn encode_ids(out: &mut Vec<u8>, ids: &[u128]) {
    out.reserve(8 + 16 * ids.len());
    out.extend_from_slice(&(ids.len() as u64).to_le_bytes());
    for id in ids {
        out.extend_from_slice(&id.to_le_bytes());
    }
}

fn ends_of(head: &[u8], tail: &[u8]) -> String {
    format!("{:032x}{:032x}", checksum(head), checksum(tail))
}

#[cfg(unix)]
fn stamp(meta: &std::fs::Metadata) -> (u64, u64, i128) {
    use std::os::unix::fs::MetadataExt;
    (
        meta.dev(),
        meta.ino(),
        i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
    )
}

#[cfg(not(unix))]
fn stamp(meta: &std::fs::Metadata) -> (u64, u64, i128) {
    let t = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128);
    (0, 0, t)
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, at)
}

#[cfg(not(unix))]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(at))?;
    f.read_exact(buf)
}

/// Write `ids` as a base file named `name` in `dir` (atomically) and describe it.
pub(crate) fn write_base(
    dir: &Utf8Path,
    name: String,
    ids: &[u128],
) -> Result<IdsRef, crate::Error> {
    let mut bytes = Vec::new();
    encode_ids(&mut bytes, ids);
    let path = dir.join(&name);
    crate::write_atomic(&path, &bytes)?;
    let meta = std::fs::metadata(&path)
        .map_err(|source| crate::Error::Write { path: path.clone(), source })?;
    let (dev, ino, mtime_ns) = stamp(&meta);
    let n = bytes.len();
    let e = (ENDS as usize).min(n);
    Ok(IdsRef {
        file: name,
        count: ids.len() as u64,
        check: format!("{:032x}", checksum(&bytes)),
        dev,
        ino,
        mtime_ns,
        ends: ends_of(bytes.get(..e).unwrap_or_default(), bytes.get(n - e..).unwrap_or_default()),
    })
}

/// An opened base file that passed the cheap check.
#[derive(Debug)]
pub(crate) struct IdsFile {
    file: File,
    count: u64,
    check: String,
    /// A positional read failed: a lookup may have answered wrongly.
    failed: AtomicBool,
}

impl IdsFile {
    /// Open the base file `r` names in `dir` if it is still the file written then; `None`
    /// otherwise (missing, replaced, modified, truncated).
    pub(crate) fn open(dir: &Utf8Path, r: &IdsRef) -> Option<IdsFile> {
        let name = Utf8Path::new(&r.file).file_name()?;
        let file = File::open(dir.join(name)).ok()?;
        let meta = file.metadata().ok()?;
        let len = 8 + r.count.checked_mul(16)?;
        if meta.len() != len || stamp(&meta) != (r.dev, r.ino, r.mtime_ns) {
            return None;
        }
        let e = ENDS.min(len);
        let mut head = vec![0u8; e as usize];
        let mut tail = vec![0u8; e as usize];
        read_at(&file, &mut head, 0).ok()?;
        read_at(&file, &mut tail, len - e).ok()?;
        let mut count = [0u8; 8];
        read_at(&file, &mut count, 0).ok()?;
        (u64::from_le_bytes(count) == r.count && ends_of(&head, &tail) == r.ends).then(|| IdsFile {
            file,
            count: r.count,
            check: r.check.clone(),
            failed: AtomicBool::new(false),
        })
    }

    /// Whether `h` is in the file (binary search by positional reads).
    pub(crate) fn contains(&self, h: u128) -> bool {
        let (mut lo, mut hi) = (0u64, self.count);
        let mut buf = [0u8; 16];
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if read_at(&self.file, &mut buf, 8 + 16 * mid).is_err() {
                self.failed.store(true, Ordering::Relaxed);
                return false;
            }
            match u128::from_le_bytes(buf).cmp(&h) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    }

    /// How many ids the file holds.
    pub(crate) fn len(&self) -> u64 {
        self.count
    }

    /// Whether a lookup could not read the file.
    pub(crate) fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// Every id, when the whole file matches its recorded checksum.
    pub(crate) fn load(&self) -> Option<Vec<u128>> {
        let len = usize::try_from(8 + self.count.checked_mul(16)?).ok()?;
        let mut bytes = vec![0u8; len];
        read_at(&self.file, &mut bytes, 0).ok()?;
        if format!("{:032x}", checksum(&bytes)) != self.check {
            return None;
        }
        decode_ids(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use camino::Utf8PathBuf;

    use super::*;

    /// Positional binary search answers as a set does, for members and non-members alike,
    /// at every size from empty to several pages; a changed file is not opened.
    #[test]
    fn the_positional_lookup_agrees_with_a_set() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let dir = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap_or_default();
        let mut x: u128 = 0x1234_5678_9abc_def0_0fed_cba9_8765_4321;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in [0usize, 1, 2, 3, 17, 1000, 5000] {
            let set: BTreeSet<u128> = (0..n).map(|_| next()).collect();
            let ids: Vec<u128> = set.iter().copied().collect();
            let r = write_base(&dir, format!("ids{n}.bin"), &ids).unwrap_or_else(|e| panic!("{e}"));
            let Some(f) = IdsFile::open(&dir, &r) else { panic!("base {n} does not open") };
            assert_eq!(f.len(), ids.len() as u64);
            for id in &ids {
                assert!(f.contains(*id), "{n}: member {id:x} not found");
                for probe in [id.wrapping_add(1), id.wrapping_sub(1)] {
                    assert_eq!(f.contains(probe), set.contains(&probe), "{n}: {probe:x}");
                }
            }
            for _ in 0..200 {
                let probe = next();
                assert_eq!(f.contains(probe), set.contains(&probe));
            }
            for probe in [0, u128::MAX] {
                assert_eq!(f.contains(probe), set.contains(&probe));
            }
            assert!(!f.failed());
            assert_eq!(f.load(), Some(ids.clone()));
            if n > 0 {
                // Modified in place (another modification time): not the file recorded.
                let path = dir.join(&r.file);
                let file =
                    File::options().write(true).open(&path).unwrap_or_else(|e| panic!("{e}"));
                let t =
                    file.metadata().and_then(|m| m.modified()).unwrap_or_else(|e| panic!("{e}"));
                file.set_modified(t + std::time::Duration::from_secs(1))
                    .unwrap_or_else(|e| panic!("{e}"));
                assert!(IdsFile::open(&dir, &r).is_none(), "{n}: a modified base opens");
                file.set_modified(t).unwrap_or_else(|e| panic!("{e}"));
                assert!(IdsFile::open(&dir, &r).is_some(), "{n}: the same base does not open");
                drop(file);
                std::fs::remove_file(&path).unwrap_or_default();
                assert!(IdsFile::open(&dir, &r).is_none(), "{n}: a missing base opens");
            }
        }
    }
}
