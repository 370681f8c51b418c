//! The base file of the event ids a checkpoint counted (`rollup_ids.<gen>.<pid>.bin`: a
//! little-endian `u64` count, then that many sorted 16-byte id hashes), a [`BaseFile`]: a
//! resumed rollup that meets only a few new ids does not read it, it looks ids up by binary
//! search with positional reads (~20 reads of 16 bytes per id at a million ids). When many ids
//! are new, or a new base must be written, it is read whole and its full checksum verified.

use camino::Utf8Path;

use crate::basefile::{self, BaseFile, BaseRef};

/// What the checkpoint records of its ids base file.
pub(crate) type IdsRef = BaseRef;

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

/// Write `ids` as a base file named `name` in `dir` (atomically) and describe it.
pub(crate) fn write_base(
    dir: &Utf8Path,
    name: String,
    ids: &[u128],
) -> Result<IdsRef, crate::Error> {
    let mut bytes = Vec::new();
    encode_ids(&mut bytes, ids);
    basefile::write_base(dir, name, &bytes, ids.len() as u64)
}

/// An opened ids base file that passed the cheap check.
#[derive(Debug)]
pub(crate) struct IdsFile(BaseFile);

impl IdsFile {
    /// Open the base file `r` names in `dir` if it is still the file written then; `None`
    /// otherwise (missing, replaced, modified, truncated, or not holding `r.count` ids).
    pub(crate) fn open(dir: &Utf8Path, r: &IdsRef) -> Option<IdsFile> {
        let file = BaseFile::open(dir, r)?;
        let mut count = [0u8; 8];
        (file.read_at(&mut count, 0) && u64::from_le_bytes(count) == r.count)
            .then_some(IdsFile(file))
    }

    /// Whether `h` is in the file (binary search by positional reads).
    pub(crate) fn contains(&self, h: u128) -> bool {
        let (mut lo, mut hi) = (0u64, self.0.count());
        let mut buf = [0u8; 16];
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if !self.0.read_at(&mut buf, 8 + 16 * mid) {
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
        self.0.count()
    }

    /// Whether a lookup could not read the file.
    pub(crate) fn failed(&self) -> bool {
        self.0.failed()
    }

    /// Every id, when the whole file matches its recorded checksum.
    pub(crate) fn load(&self) -> Option<Vec<u128>> {
        decode_ids(&self.0.load()?)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::fs::File;

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
