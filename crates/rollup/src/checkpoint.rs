//! Resuming a rollup where the last one stopped: a checkpoint records, per input file, its
//! identity and how far whole lines were read, plus the merged partial aggregate and the ids
//! already counted; the next rollup reads only what was appended since.
//!
//! File format (`state/rollup_checkpoint.bin`, written atomically): the magic
//! `AGOSRCK` + a format byte, a little-endian `u64` length and that many bytes of JSON
//! ([`Header`]: files, aggregate but its sessions, counts, the base files), a `u64` length and
//! that many bytes of sessions (`codec.rs`: the working set, the sessions changed since the
//! sessions base), a `u64` count and that many 16-byte little-endian `event_id` hashes
//! (sorted: the ids counted since the last ids base), then a 16-byte checksum of everything
//! before it. The two bases live next to it, `rollup_ids.<gen>.<pid>.bin` (`idsfile.rs`) and
//! `rollup_sessions.<gen>.<pid>.bin` (`sessfile.rs`), each named, counted, identified and
//! checksummed in the header; each is rewritten only when what changed since outgrows a
//! fraction of it, so a resumed run writes little, and neither is even read when few bytes
//! were appended and only the summary is wanted (ids and sessions are looked up where they
//! lie). A checkpoint that is missing, truncated, of another format or fails its hash, or
//! whose base file is missing or not the one written, is ignored: the rollup reads
//! everything, as without a checkpoint.
//!
//! A file is resumed only when it is the same file (device and inode on Unix), at least as
//! long as the checkpoint's offset, and its first 64 KiB (prefix) and the 4 KiB before the
//! offset (tail) hash as recorded; anything else (rewritten, shortened, rotated or replaced)
//! makes the whole rollup start again from the beginning of every file.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::acc::Acc;
use crate::basefile::remove_others;
use crate::codec::{decode_sessions, encode_sessions};
use crate::dedupe::{Base, Seen, SeenParts, checksum};
use crate::idsfile::{IdsFile, IdsRef, decode_ids, encode_ids, write_base};
use crate::scan::{Totals, scan};
use crate::sessfile::{SessRef, Stored, write_sessions};
use crate::summary::{Refresh, Rollup, SummaryOptions, finish};
use crate::{Error, write_atomic};

const MAGIC: &[u8; 8] = b"AGOSRCK\x03";
/// Bytes hashed at the start of a file.
const PREFIX: u64 = 64 << 10;
/// Bytes hashed just before the offset.
const TAIL: u64 = 4 << 10;
/// Largest checkpoint read (16 bytes per event id: ~60 million events).
const MAX_CHECKPOINT: u64 = 1 << 30;

/// One input file as opened for a rollup.
pub(crate) struct Input {
    /// Index in the caller's list.
    pub(crate) idx: usize,
    pub(crate) path: Utf8PathBuf,
    /// `None`: missing, or the same file as an earlier entry.
    pub(crate) file: Option<File>,
    pub(crate) id: (u64, u64),
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

/// Open every path; a missing file, or one that is the same file (device and inode) as an
/// earlier entry, has no handle.
pub(crate) fn open_inputs(paths: &[Utf8PathBuf]) -> Result<Vec<Input>, Error> {
    let mut out: Vec<Input> = Vec::new();
    for (idx, path) in paths.iter().enumerate() {
        let read_err = |source| Error::Read { path: path.clone(), source };
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                out.push(Input { idx, path: path.clone(), file: None, id: (0, 0) });
                continue;
            }
            Err(source) => return Err(read_err(source)),
        };
        let id = identity(&file.metadata().map_err(read_err)?);
        let repeat = id != (0, 0) && out.iter().any(|i| i.file.is_some() && i.id == id);
        out.push(Input { idx, path: path.clone(), file: (!repeat).then_some(file), id });
    }
    Ok(out)
}

/// The files to read, each once.
pub(crate) fn open_distinct(paths: &[Utf8PathBuf]) -> Result<Vec<(usize, File)>, Error> {
    Ok(open_inputs(paths)?.into_iter().filter_map(|i| i.file.map(|f| (i.idx, f))).collect())
}

/// Where a file was left.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct FileMark {
    path: Utf8PathBuf,
    present: bool,
    dev: u64,
    ino: u64,
    /// Bytes of whole lines consumed.
    offset: u64,
    /// Lines consumed.
    lines: u64,
    /// Hash of the first min(64 KiB, offset) bytes.
    prefix: String,
    /// Hash of the min(4 KiB, offset) bytes before `offset`.
    tail: String,
}

#[derive(Serialize)]
struct HeaderOut<'a> {
    generation: u64,
    ids: IdsRef,
    sessions: SessRef,
    files: &'a [FileMark],
    diagnostics: u64,
    duplicates: u64,
    acc: &'a Acc,
}

/// The JSON part of a checkpoint.
#[derive(Deserialize)]
struct Header {
    generation: u64,
    ids: IdsRef,
    sessions: SessRef,
    files: Vec<FileMark>,
    diagnostics: u64,
    duplicates: u64,
    acc: Acc,
}

fn hash_range(file: &File, start: u64, len: u64) -> std::io::Result<String> {
    let mut f = file;
    f.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::with_capacity(len as usize);
    f.take(len).read_to_end(&mut buf)?;
    if (buf.len() as u64) < len {
        return Ok(String::new());
    }
    Ok(format!("{:032x}", checksum(&buf)))
}

fn mark(input: &Input, offset: u64, lines: u64) -> std::io::Result<FileMark> {
    let (prefix, tail) = match &input.file {
        Some(f) => (hash_range(f, 0, offset.min(PREFIX))?, {
            let t = offset.min(TAIL);
            hash_range(f, offset - t, t)?
        }),
        None => (String::new(), String::new()),
    };
    Ok(FileMark {
        path: input.path.clone(),
        present: input.file.is_some(),
        dev: input.id.0,
        ino: input.id.1,
        offset,
        lines,
        prefix,
        tail,
    })
}

/// Whether `input` is still the file `m` describes, grown or not.
fn still_valid(input: &Input, m: &FileMark) -> bool {
    if input.path != m.path || input.file.is_some() != m.present {
        return false;
    }
    let Some(f) = &input.file else { return true };
    let size = f.metadata().map(|x| x.len()).unwrap_or(0);
    (m.dev, m.ino) == input.id
        && size >= m.offset
        && mark(input, m.offset, m.lines)
            .is_ok_and(|now| now.prefix == m.prefix && now.tail == m.tail)
}

struct Loaded {
    header: Header,
    /// The ids counted since the base (sorted, not yet checked).
    delta: Vec<u128>,
}

fn load(path: &Utf8Path) -> Option<Loaded> {
    let file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    if len > MAX_CHECKPOINT {
        return None;
    }
    // Sized once: growing by doubling would touch twice the memory of a ~3 MB checkpoint.
    let mut bytes = Vec::with_capacity(usize::try_from(len).ok()?.saturating_add(1));
    file.take(MAX_CHECKPOINT).read_to_end(&mut bytes).ok()?;
    let body_len = bytes.len().checked_sub(16)?;
    let (body, check) = bytes.split_at(body_len);
    if check != checksum(body).to_le_bytes() {
        return None;
    }
    let rest = body.strip_prefix(MAGIC.as_slice())?;
    let (len, rest) = split_u64(rest)?;
    let (json, rest) = rest.split_at_checked(usize::try_from(len).ok()?)?;
    let mut header: Header = serde_json::from_slice(json).ok()?;
    let (len, rest) = split_u64(rest)?;
    let (sessions, rest) = rest.split_at_checked(usize::try_from(len).ok()?)?;
    header.acc.sessions = decode_sessions(sessions)?;
    Some(Loaded { delta: decode_ids(rest)?, header })
}

/// Appended bytes up to which the base file is searched where it lies rather than read whole
/// (~370 events of ~700 bytes; each new id costs ~2 × log₂(base) positional reads).
const LAZY_MAX: u64 = 256 << 10;

/// The base `r` names next to the checkpoint: searched on disk when `few` ids are to be
/// looked up, else read whole and verified. `None` when it is missing or not the file written.
fn open_base(dir: &Utf8Path, r: &IdsRef, few: bool) -> Option<Base> {
    if r.count == 0 {
        return Some(Base::Mem(Vec::new()));
    }
    let file = IdsFile::open(dir, r)?;
    if few { Some(Base::Disk(file)) } else { file.load().map(Base::Mem) }
}

fn split_u64(b: &[u8]) -> Option<(u64, &[u8])> {
    let (n, rest) = b.split_at_checked(8)?;
    Some((u64::from_le_bytes(n.try_into().ok()?), rest))
}

/// What a run leaves for the next one besides the header.
struct Parts<'a> {
    seen: SeenParts,
    loaded_ids: IdsRef,
    stored: &'a Stored,
    /// Whether the sessions base is rewritten (with the working set in it).
    compact: bool,
}

/// Write the base files that changed, then the checkpoint; then remove base files no longer
/// referenced (best effort).
fn save(path: &Utf8Path, mut header: HeaderOut<'_>, parts: Parts<'_>) -> Result<(), Error> {
    let dir = path.parent().map(Utf8Path::to_owned).unwrap_or_else(|| Utf8PathBuf::from("."));
    let Parts { seen, loaded_ids, stored, compact } = parts;
    let new_ids = seen.base.is_some();
    header.ids = match seen.base {
        Some(base) => {
            let file = format!("rollup_ids.{}.{}.bin", header.generation, std::process::id());
            write_base(&dir, file, &base)?
        }
        None => loaded_ids,
    };
    let work = &header.acc.sessions;
    // A new sessions base holds the working set; else the working set goes in the checkpoint.
    let compact = match (compact, stored.rest()) {
        (true, Some(rest)) => {
            let file = format!("rollup_sessions.{}.{}.bin", header.generation, std::process::id());
            header.sessions = write_sessions(&dir, file, rest, work)?;
            true
        }
        _ => {
            header.sessions = stored.reference().clone();
            false
        }
    };
    let json = serde_json::to_vec(&header)
        .map_err(|source| Error::Encode { what: "checkpoint", source })?;
    let sessions = if compact { 0 } else { 130 * work.len() };
    let mut out =
        Vec::with_capacity(MAGIC.len() + json.len() + sessions + 16 * seen.delta.len() + 40);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    // The sessions are encoded in place, after their length (filled in after).
    let at = out.len();
    out.extend_from_slice(&0u64.to_le_bytes());
    if !compact {
        encode_sessions(&mut out, work);
    }
    let n = (out.len() - at - 8) as u64;
    if let Some(slot) = out.get_mut(at..at + 8) {
        slot.copy_from_slice(&n.to_le_bytes());
    }
    encode_ids(&mut out, &seen.delta);
    let check = checksum(&out);
    out.extend_from_slice(&check.to_le_bytes());
    write_atomic(path, &out)?;
    // A new base replaces the old; without a base (a full read of a small or rewritten
    // history) none of the old ones is needed either.
    if new_ids || header.ids.count == 0 {
        remove_others(&dir, "rollup_ids.", &header.ids.file);
    }
    if compact || header.sessions.base.count == 0 {
        remove_others(&dir, "rollup_sessions.", &header.sessions.base.file);
    }
    Ok(())
}

/// [`summarize_files`](crate::summarize_files), resumed from the checkpoint at `checkpoint`
/// and leaving a new one there: only what was appended since the last call is read. The
/// result is the one a full read gives (the summary's numbers and counts; the kept
/// [`Rollup::diagnostics`] list only the lines read by this call, `summary.diagnostics`
/// counts all). A checkpoint that does not fit (other files, a file rewritten, shortened or
/// replaced, an unreadable or corrupt checkpoint) is ignored: everything is read. With a
/// session filter nothing is checkpointed; under `strict`, a checkpoint that counted
/// skipped lines is ignored so they fail the call. Failing to write the checkpoint does not
/// fail the rollup (the next call reads more).
pub fn summarize_incremental(
    paths: &[Utf8PathBuf],
    opts: &SummaryOptions,
    checkpoint: &Utf8Path,
) -> Result<Rollup, Error> {
    resume(paths, opts, checkpoint, true)
}

/// [`summarize_incremental`] for the summary alone (what `session end` refreshes): without
/// the per-session rows, so a resumed run with little appended need not read the per-session
/// state of the whole history. The same checkpoint, the same numbers.
pub fn refresh_incremental(
    paths: &[Utf8PathBuf],
    opts: &SummaryOptions,
    checkpoint: &Utf8Path,
) -> Result<Refresh, Error> {
    let r = resume(paths, opts, checkpoint, false)?;
    Ok(Refresh { summary: r.summary, diagnostics: r.diagnostics, duplicates: r.duplicates })
}

fn resume(
    paths: &[Utf8PathBuf],
    opts: &SummaryOptions,
    checkpoint: &Utf8Path,
    rows: bool,
) -> Result<Rollup, Error> {
    if opts.session.is_some() {
        return crate::summarize_files(paths, opts);
    }
    let rows = rows && !opts.no_session_rows;
    match run(paths, opts, checkpoint, true, rows)? {
        Some(r) => Ok(r),
        None => run(paths, opts, checkpoint, false, rows)?
            .ok_or_else(|| Error::Internal("a rollup without checkpoint gave up".to_owned())),
    }
}

/// One rollup, resumed from the checkpoint when `resume` and it fits; with the per-session
/// rows when `rows`. `None` when a base file it relied on turned out unreadable or damaged:
/// nothing was written, and the caller reads everything again.
fn run(
    paths: &[Utf8PathBuf],
    opts: &SummaryOptions,
    checkpoint: &Utf8Path,
    resume: bool,
    rows: bool,
) -> Result<Option<Rollup>, Error> {
    match read_to_end(paths, opts, checkpoint, resume, rows, false)? {
        Some(read) => read.close(opts, checkpoint, rows),
        None => Ok(None),
    }
}

/// A rollup that has read every input to its end, neither saved nor finished yet.
pub(crate) struct ReadToEnd {
    pub(crate) inputs: Vec<Input>,
    pub(crate) totals: Totals,
    pub(crate) generation: u64,
    /// Per input: the bytes and lines of whole lines consumed.
    pub(crate) reached: Vec<(u64, u64)>,
    /// Diagnostics of the consumed lines, over every run.
    pub(crate) consumed_diags: u64,
    loaded_ids: IdsRef,
}

/// [`run`]'s reading: resumed from the checkpoint when `resume` and it fits; `None` as there.
/// `more`: many lines are still to come (read whole what is searched where it lies when few
/// bytes were appended).
pub(crate) fn read_to_end(
    paths: &[Utf8PathBuf],
    opts: &SummaryOptions,
    checkpoint: &Utf8Path,
    resume: bool,
    rows: bool,
    more: bool,
) -> Result<Option<ReadToEnd>, Error> {
    let inputs = open_inputs(paths)?;
    let dir = checkpoint.parent().map(Utf8Path::to_owned).unwrap_or_else(|| Utf8PathBuf::from("."));
    let resumed = resume.then(|| load(checkpoint)).flatten().and_then(|l| {
        let fits = l.header.files.len() == inputs.len()
            && inputs.iter().zip(&l.header.files).all(|(i, m)| still_valid(i, m))
            && !(opts.strict && l.header.diagnostics > 0);
        if !fits {
            return None;
        }
        let appended: u64 = inputs
            .iter()
            .zip(&l.header.files)
            .filter_map(|(i, m)| {
                Some(i.file.as_ref()?.metadata().ok()?.len().saturating_sub(m.offset))
            })
            .sum();
        let few = !more && appended <= LAZY_MAX;
        let base = open_base(&dir, &l.header.ids, few)?;
        let lazy = !rows && few;
        let stored = Stored::open(&dir, l.header.sessions.clone(), &l.header.acc.sessions, lazy)?;
        Some((Seen::from_sorted(base, l.delta)?, stored, l.header))
    });
    let (totals, generation, starts, consumed_diags, loaded_ids) = match resumed {
        Some((seen, stored, header)) => {
            let starts: Vec<(u64, u64)> =
                header.files.iter().map(|m| (m.offset, m.lines)).collect();
            let totals = Totals {
                acc: header.acc,
                stored,
                seen,
                kept: Vec::new(),
                diagnostics: header.diagnostics,
                duplicates: header.duplicates,
            };
            (totals, header.generation + 1, starts, header.diagnostics, header.ids)
        }
        None => (Totals::default(), 0, vec![(0, 0); inputs.len()], 0, IdsRef::default()),
    };
    let mut read =
        ReadToEnd { inputs, totals, generation, reached: starts, consumed_diags, loaded_ids };
    for i in 0..read.inputs.len() {
        read.read_rest(i, opts)?;
    }
    Ok(Some(read))
}

impl ReadToEnd {
    /// Read input `i` from where it was reached to its end.
    pub(crate) fn read_rest(&mut self, i: usize, opts: &SummaryOptions) -> Result<(), Error> {
        let (Some(input), Some(reached)) = (self.inputs.get(i), self.reached.get_mut(i)) else {
            return Ok(());
        };
        let Some(mut f) = input.file.as_ref() else {
            return Ok(());
        };
        let (offset, lines) = *reached;
        let read_err = |source| Error::Read { path: input.path.clone(), source };
        f.seek(SeekFrom::Start(offset)).map_err(read_err)?;
        let span = scan(input.idx, self.generation, &input.path, f, opts, lines, &mut self.totals)?;
        self.consumed_diags += span.diagnostics;
        *reached = (offset + span.bytes, lines + span.lines);
        Ok(())
    }

    /// Save the checkpoint and finish the rollup; `None` as [`run`] says.
    pub(crate) fn close(
        mut self,
        opts: &SummaryOptions,
        checkpoint: &Utf8Path,
        rows: bool,
    ) -> Result<Option<Rollup>, Error> {
        let mut marks = Vec::with_capacity(self.inputs.len());
        for (input, (offset, lines)) in self.inputs.iter().zip(&self.reached) {
            let read_err = |source| Error::Read { path: input.path.clone(), source };
            marks.push(mark(input, *offset, *lines).map_err(read_err)?);
        }
        let mut totals = self.totals;
        let Some(seen) = std::mem::take(&mut totals.seen).into_parts() else {
            return Ok(None);
        };
        if totals.stored.failed() {
            return Ok(None);
        }
        let Some(compact) = totals.stored.compact(&totals.acc.sessions) else {
            return Ok(None);
        };
        let header = HeaderOut {
            generation: self.generation,
            ids: IdsRef::default(),
            sessions: SessRef::default(),
            files: &marks,
            diagnostics: self.consumed_diags,
            duplicates: totals.duplicates,
            acc: &totals.acc,
        };
        let parts = Parts {
            seen,
            loaded_ids: std::mem::take(&mut self.loaded_ids),
            stored: &totals.stored,
            compact,
        };
        // Not fatal: without a checkpoint the next call reads everything.
        let _ = save(checkpoint, header, parts);
        finish(totals, opts, rows).map(Some)
    }
}
