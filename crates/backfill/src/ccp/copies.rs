//! Byte-identical copies among the usage files (a tag snapshot made with `cp`): found on a
//! thread of their own, each before the reading reaches it, so a copy is not read line by
//! line (every line in it is a line of the file it copies), only counted, named in the report
//! and remembered in the ledger as that file is.

use std::fs::File;
use std::io::Read;

use camino::Utf8Path;

use super::Job;
use super::report::{CcpReport, FileReport};
use crate::ledger::{FileEntry, Ledger};

/// For each job in turn, the path of the file it is a byte-identical copy of, handed to
/// `verdict` as soon as it is known (it returns `false` to stop): an earlier job that is not
/// itself a copy, or a file left unchanged since it was read (`unchanged`: path and size).
/// Only files of equal size are compared, byte for byte, so the check costs nothing when there
/// are no copies; empty files are nobody's copy. A file that cannot be read now is not a copy
/// (it is read, and fails, as a job). Runs beside the reading (which asks for job `i`'s
/// verdict before reading it), so comparing a copy delays nothing.
pub(super) fn find(
    jobs: &[Job],
    unchanged: &[(String, u64)],
    mut verdict: impl FnMut(Option<String>) -> bool,
) {
    let mut copy: Vec<bool> = Vec::with_capacity(jobs.len());
    for job in jobs {
        let size = job.stat.size;
        let earlier = jobs.iter().zip(&copy).filter(|(_, copy)| !**copy).map(|(j, _)| {
            // Jobs first (what this run reads), then the files read by earlier runs.
            (j.path.as_str(), j.stat.size)
        });
        let kept = unchanged.iter().map(|(p, s)| (p.as_str(), *s));
        let original = earlier
            .chain(kept)
            .filter(|&(path, s)| s == size && size > 0 && path != job.path.as_str())
            .find(|&(path, _)| same_bytes(Utf8Path::new(path), &job.path).unwrap_or(false))
            .map(|(path, _)| path.to_owned());
        copy.push(original.is_some());
        if !verdict(original) {
            return;
        }
    }
}

/// A link to a log found first by its own path, `original`: a copy in all but bytes, never
/// read. Listed `unchanged` when its original is, else as a `copy` counted as one.
pub(super) fn link(report: &mut CcpReport, path: &Utf8Path, original: &str, unchanged: bool) {
    let why = format!("the same file as {original} (a link)");
    let (action, note) = if unchanged {
        ("unchanged", why)
    } else {
        report.duplicate_files += 1;
        ("copy", format!("{why}: its lines are that file's, not counted again"))
    };
    report.files_skipped += 1;
    report.file(FileReport { path: path.to_string(), action, lines: 0, note: Some(note) });
}

/// Count and name the copies not read, and remember each in the ledger as its original is now
/// remembered (how far it was read, its fingerprint), so the next run skips it as unchanged.
/// A copy whose original was not read to the size it had when they were compared (it grew
/// meanwhile, or could not be read) is not remembered: the next run reads it, and its
/// lines count once all the same. Whether the ledger changed.
pub(super) fn remember(
    report: &mut CcpReport,
    ledger: &mut Ledger,
    copied: &[(&Job, String)],
) -> bool {
    let mut changed = false;
    for &(job, ref original) in copied {
        // Read (compared whole), its lines not counted again.
        report.files_read += 1;
        report.duplicate_files += 1;
        report.file(FileReport {
            path: job.path.to_string(),
            action: "copy",
            lines: 0,
            note: Some(format!(
                "byte-identical to {original}: its lines are that file's, not counted again"
            )),
        });
        let entry = ledger.files.get(original).filter(|e| e.size == job.stat.size);
        let Some(entry) = entry.cloned() else { continue };
        if let Some(old) = job.resume.as_deref().filter(|old| *old != job.path.as_str()) {
            ledger.files.remove(old);
        }
        let copy = FileEntry::read(
            &job.stat,
            (entry.fp_len, entry.fingerprint),
            entry.consumed,
            entry.next_line,
        );
        ledger.files.insert(job.path.to_string(), copy);
        changed = true;
    }
    changed
}

/// Whether two files hold the same bytes (compared in 1 MiB pieces).
fn same_bytes(a: &Utf8Path, b: &Utf8Path) -> std::io::Result<bool> {
    let (mut fa, mut fb) = (File::open(a)?, File::open(b)?);
    if fa.metadata()?.len() != fb.metadata()?.len() {
        return Ok(false);
    }
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = fill(&mut fa, &mut ba)?;
        let m = fill(&mut fb, &mut bb)?;
        if n != m || ba[..n] != bb[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

/// Read until `buf` is full or the file ends; the bytes read.
fn fill(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
