//! Byte-identical copies among the usage files (a tag snapshot made with `cp`): counted and
//! named in the report, their lines swallowed by the join as repeats.

use std::fs::File;
use std::io::Read;

use camino::Utf8Path;

use super::report::CcpReport;

/// Count the files read in this run that are byte-identical to another file (a tag snapshot
/// made with `cp`). Only files of equal size and first bytes are compared, byte for byte, so
/// the check costs nothing when there are no copies.
pub(super) fn count(
    report: &mut CcpReport,
    read: &[(String, u64, String)],
    others: &[(String, u64, String)],
) {
    use std::collections::HashMap;
    let mut groups: HashMap<(u64, &str), Vec<(&str, bool)>> = HashMap::new();
    for (list, fresh) in [(others, false), (read, true)] {
        for (path, size, fp) in list {
            groups.entry((*size, fp.as_str())).or_default().push((path.as_str(), fresh));
        }
    }
    for paths in groups.into_values().filter(|g| g.len() > 1 && g.iter().any(|p| p.1)) {
        // One path per distinct content, in order: a later equal file copies the first.
        let mut distinct: Vec<&str> = Vec::new();
        for (path, fresh) in paths {
            let mut first = None;
            for d in &distinct {
                match same_bytes(Utf8Path::new(d), Utf8Path::new(path)) {
                    Ok(true) => {
                        first = Some(*d);
                        break;
                    }
                    Ok(false) => {}
                    Err(_) => {
                        first = Some("");
                        break;
                    }
                }
            }
            match first {
                Some("") => {} // Unreadable now: not a copy we can vouch for.
                Some(first) if fresh => {
                    report.duplicate_files += 1;
                    let note = format!("byte-identical to {first}: nothing in it counted again");
                    if let Some(f) = report.files.iter_mut().find(|f| f.path == path) {
                        f.note = Some(note);
                    }
                }
                Some(_) => {}
                None => distinct.push(path),
            }
        }
    }
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
