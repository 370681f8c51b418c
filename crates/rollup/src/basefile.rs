//! A checkpoint's base file: written atomically next to the checkpoint and never changed
//! afterwards, so a resumed rollup can use it without reading it. The checkpoint records what
//! identifies it (name, length, device, inode, modification time, a hash of its first and last
//! 4 KiB, all taken when it was written) and its whole checksum; opening checks the cheap part
//! and reads are positional, while a whole read verifies the checksum. The ids base
//! (`idsfile.rs`) and the sessions base (`sessfile.rs`) are such files.

use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};

use camino::Utf8Path;
use serde::{Deserialize, Serialize};

use std::io::Write;

use crate::dedupe::{Checksum, checksum};

/// Bytes hashed at each end of the file by the cheap check.
const ENDS: u64 = 4 << 10;

/// What the checkpoint records of a base file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BaseRef {
    /// File name, in the checkpoint's directory (empty: no base).
    pub(crate) file: String,
    /// Entries it holds.
    pub(crate) count: u64,
    /// Bytes.
    len: u64,
    /// Checksum of the whole file.
    check: String,
    dev: u64,
    ino: u64,
    mtime_ns: i128,
    /// Checksums of its first and last 4 KiB.
    ends: String,
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

/// Write `bytes` (holding `count` entries) as the base file `name` in `dir`, atomically, and
/// describe it.
pub(crate) fn write_base(
    dir: &Utf8Path,
    name: String,
    bytes: &[u8],
    count: u64,
) -> Result<BaseRef, crate::Error> {
    write_base_streamed(dir, name, bytes.len() as u64, count, |w| w.write_all(bytes))
}

/// [`write_base`] with the `len` bytes streamed by `write` to the file rather than held in
/// memory: the checksum and the end stamps are computed on the way. Fails (writing nothing)
/// when `write` produces another length.
pub(crate) fn write_base_streamed(
    dir: &Utf8Path,
    name: String,
    len: u64,
    count: u64,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<BaseRef, crate::Error> {
    let path = dir.join(&name);
    let e = ENDS.min(len);
    let mut tap =
        Tap { sum: Checksum::new(len), head: Vec::new(), tail: Vec::new(), pos: 0, len, e };
    agentos_fsio::write_atomic_with(&path, |w| {
        let mut t = TapWriter { inner: w, tap: &mut tap };
        write(&mut t)?;
        if t.tap.pos == len {
            Ok(())
        } else {
            Err(std::io::Error::other("the base file came out at another length than announced"))
        }
    })
    .map_err(|e| match e {
        agentos_fsio::Error::Io { source, .. } => {
            crate::Error::Write { path: path.clone(), source }
        }
        other => crate::Error::Write { path: path.clone(), source: std::io::Error::other(other) },
    })?;
    let meta = std::fs::metadata(&path)
        .map_err(|source| crate::Error::Write { path: path.clone(), source })?;
    let (dev, ino, mtime_ns) = stamp(&meta);
    Ok(BaseRef {
        file: name,
        count,
        len,
        check: format!("{:032x}", tap.sum.finish()),
        dev,
        ino,
        mtime_ns,
        ends: ends_of(&tap.head, &tap.tail),
    })
}

/// What is computed of a base file as it is written: its checksum and its first and last
/// `e` bytes.
struct Tap {
    sum: Checksum,
    head: Vec<u8>,
    tail: Vec<u8>,
    pos: u64,
    len: u64,
    e: u64,
}

struct TapWriter<'a> {
    inner: &'a mut dyn Write,
    tap: &'a mut Tap,
}

impl Write for TapWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        let done = &buf[..n];
        let t = &mut *self.tap;
        t.sum.update(done);
        let (start, end) = (t.pos, t.pos + n as u64);
        if start < t.e {
            let upto = (t.e.min(end) - start) as usize;
            t.head.extend_from_slice(&done[..upto]);
        }
        let tail_from = t.len.saturating_sub(t.e);
        if end > tail_from {
            let from = tail_from.saturating_sub(start) as usize;
            t.tail.extend_from_slice(&done[from.min(n)..]);
        }
        t.pos = end;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Remove the files in `dir` named `<prefix>*.bin` but `keep` (best effort).
pub(crate) fn remove_others(dir: &Utf8Path, prefix: &str, keep: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(prefix) && name.ends_with(".bin") && name != keep {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// An opened base file that passed the cheap check.
#[derive(Debug)]
pub(crate) struct BaseFile {
    file: File,
    r: BaseRef,
    /// A positional read failed: an answer built on it may be wrong.
    failed: AtomicBool,
}

impl BaseFile {
    /// Open the base file `r` names in `dir` if it is still the file written then; `None`
    /// otherwise (missing, replaced, modified, truncated).
    pub(crate) fn open(dir: &Utf8Path, r: &BaseRef) -> Option<BaseFile> {
        let name = Utf8Path::new(&r.file).file_name()?;
        let file = File::open(dir.join(name)).ok()?;
        let meta = file.metadata().ok()?;
        if meta.len() != r.len || stamp(&meta) != (r.dev, r.ino, r.mtime_ns) {
            return None;
        }
        let e = ENDS.min(r.len);
        let mut head = vec![0u8; usize::try_from(e).ok()?];
        let mut tail = head.clone();
        read_at(&file, &mut head, 0).ok()?;
        read_at(&file, &mut tail, r.len - e).ok()?;
        (ends_of(&head, &tail) == r.ends).then(|| BaseFile {
            file,
            r: r.clone(),
            failed: AtomicBool::new(false),
        })
    }

    /// The entries the checkpoint says it holds.
    pub(crate) fn count(&self) -> u64 {
        self.r.count
    }

    /// Fill `buf` from offset `at`; `false` (and [`BaseFile::failed`] from then on) when the
    /// file cannot be read there.
    pub(crate) fn read_at(&self, buf: &mut [u8], at: u64) -> bool {
        let ok = read_at(&self.file, buf, at).is_ok();
        if !ok {
            self.failed.store(true, Ordering::Relaxed);
        }
        ok
    }

    /// Mark an answer built on the file as unreliable (a record did not decode).
    pub(crate) fn fail(&self) {
        self.failed.store(true, Ordering::Relaxed);
    }

    /// Whether a read failed or a record was not what it should be.
    pub(crate) fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// Every byte, when the whole file matches its recorded checksum.
    pub(crate) fn load(&self) -> Option<Vec<u8>> {
        let mut bytes = vec![0u8; usize::try_from(self.r.len).ok()?];
        read_at(&self.file, &mut bytes, 0).ok()?;
        (format!("{:032x}", checksum(&bytes)) == self.r.check).then_some(bytes)
    }
}
