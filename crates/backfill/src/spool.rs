//! The spool: event lines rendered while reading go to a file in the backfill's state
//! directory rather than memory, and are handed to the caller's appender in batches of whole
//! lines afterwards. Removed when its owner is dropped (committed or not).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};

use camino::{Utf8Path, Utf8PathBuf};

use crate::Error;

/// Event lines handed over per batch (about 1 MB: still in the core's cache when written).
const BATCH_BYTES: usize = 1 << 20;

/// A spool being written.
#[derive(Debug)]
pub(crate) struct SpoolWriter {
    path: Utf8PathBuf,
    out: BufWriter<File>,
}

impl SpoolWriter {
    /// Create (or empty) the spool at `path`.
    pub fn create(path: &Utf8Path) -> Result<SpoolWriter, Error> {
        let file = File::create(path).map_err(|e| Error::io("create", path, e))?;
        Ok(SpoolWriter { path: path.to_owned(), out: BufWriter::with_capacity(1 << 20, file) })
    }

    /// Append whole lines, each ending in `\n`.
    pub fn write(&mut self, lines: &[u8]) -> Result<(), Error> {
        self.out.write_all(lines).map_err(|e| Error::io("write", &self.path, e))
    }

    /// Append one line (a `\n` is added).
    pub fn line(&mut self, line: &[u8]) -> Result<(), Error> {
        let io = |e| Error::io("write", &self.path, e);
        self.out.write_all(line).map_err(io)?;
        self.out.write_all(b"\n").map_err(io)
    }

    /// Flush and close.
    pub fn finish(mut self) -> Result<(), Error> {
        self.out.flush().map_err(|e| Error::io("write", &self.path, e))
    }
}

/// Call `f` with the spool's lines in batches, each line ending in `\n`.
pub(crate) fn batches<E: From<Error>>(
    path: &Utf8Path,
    mut f: impl FnMut(&str) -> Result<(), E>,
) -> Result<(), E> {
    let io = |e| Error::io("read", path, e);
    let file = File::open(path).map_err(io)?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut batch = Vec::with_capacity(BATCH_BYTES + (1 << 20));
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut chunk).map_err(io)?;
        batch.extend_from_slice(&chunk[..n]);
        let cut = if n == 0 {
            batch.len()
        } else if batch.len() >= BATCH_BYTES {
            batch.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
        } else {
            0
        };
        if cut > 0 {
            let text = std::str::from_utf8(&batch[..cut])
                .map_err(|_| Error::Encode(serde::ser::Error::custom("the spool is not UTF-8")))?;
            f(text)?;
            batch.drain(..cut);
        }
        if n == 0 {
            return Ok(());
        }
    }
}
