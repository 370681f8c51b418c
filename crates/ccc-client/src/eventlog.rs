//! Append-only JSON Lines logs (`events.jsonl`, `windows.jsonl`, `glm_counts.jsonl`).
//!
//! Each append is one `write_all` of the whole line plus `\n` on a file opened in append mode,
//! under an exclusive file lock, so concurrent writers (threads or processes) never interleave
//! or lose lines. If the file does not end with `\n` (a writer crashed mid-line), the append
//! starts with a `\n`, so the torn fragment stays a bad line of its own and the new record is
//! intact. Readers skip bad lines and report each one as a [`LogDiagnostic`].

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};

use camino::{Utf8Path, Utf8PathBuf};
use serde_json::Value as Json;

use crate::Error;

/// Longest line a reader keeps in memory (64 MiB, as the rollup): a longer line is skipped
/// with a diagnostic, read through without being held.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// One JSON Lines log file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonlLog {
    path: Utf8PathBuf,
    max_line: usize,
}

/// A line skipped on read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogDiagnostic {
    /// The file.
    pub file: Utf8PathBuf,
    /// 1-based line number; 0 when not known (a scan that started mid-file).
    pub line: u64,
    /// Byte offset of the line's start.
    pub offset: u64,
    /// Why it was skipped.
    pub message: String,
}

impl fmt::Display for LogDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(f, "{} (at byte {}): {}", self.file, self.offset, self.message)
        }
    }
}

impl JsonlLog {
    /// A log at `path` (created on first append).
    pub fn new(path: impl Into<Utf8PathBuf>) -> Self {
        JsonlLog { path: path.into(), max_line: MAX_LINE_BYTES }
    }

    /// Readers skip lines longer than `bytes` (default [`MAX_LINE_BYTES`]).
    pub fn with_max_line(mut self, bytes: usize) -> Self {
        self.max_line = bytes;
        self
    }

    /// The file.
    pub fn path(&self) -> &Utf8Path {
        &self.path
    }

    /// Append one record (a JSON text without newline) as one line. Locks, writes, unlocks.
    pub fn append_line(&self, line: &str) -> Result<(), Error> {
        self.appender()?.append_line(line)
    }

    /// Serialize `value` compactly and append it as one line.
    pub fn append_json<T: serde::Serialize>(&self, value: &T) -> Result<(), Error> {
        let line = serde_json::to_string(value)
            .map_err(|source| Error::Encode { what: "log record", source })?;
        self.append_line(&line)
    }

    /// Open the log and hold its lock for a batch of appends (released on drop). Other writers
    /// wait until the [`Appender`] is dropped.
    pub fn appender(&self) -> Result<Appender, Error> {
        let open = || OpenOptions::new().read(true).append(true).create(true).open(&self.path);
        let mut file = match open() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // First append into a fresh data dir: create it, then try once more.
                if let Some(dir) = self.path.parent().filter(|d| !d.as_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| Error::io("create directory", dir, e))?;
                }
                open()
            }
            other => other,
        }
        .map_err(|e| Error::io("open", &self.path, e))?;
        file.lock().map_err(|e| Error::io("lock", &self.path, e))?;
        let len = file.metadata().map_err(|e| Error::io("stat", &self.path, e))?.len();
        let mut torn = false;
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))
                .and_then(|_| file.read_exact(&mut last))
                .map_err(|e| Error::io("read", &self.path, e))?;
            torn = last[0] != b'\n';
        }
        Ok(Appender {
            file,
            path: self.path.clone(),
            torn,
            buf: Vec::new(),
            early: EarlySync::new(EARLY_SYNC_BYTES),
        })
    }

    /// Parse every line, calling `f` with each JSON value and its line number; returns the
    /// lines skipped (not JSON, longer than the line limit, or a torn last line). A missing
    /// file is empty.
    pub fn scan(&self, f: impl FnMut(u64, Json)) -> Result<Vec<LogDiagnostic>, Error> {
        self.scan_containing("", f)
    }

    /// [`JsonlLog::scan`] restricted to lines whose text contains `needle` (e.g. a session
    /// id): other complete-looking lines are not parsed, which makes finding one session's
    /// events in a large log cheap. Lines that may be broken (not UTF-8, not ending in `}`)
    /// are always parsed, so they are still reported.
    pub fn scan_containing(
        &self,
        needle: &str,
        mut f: impl FnMut(u64, Json),
    ) -> Result<Vec<LogDiagnostic>, Error> {
        self.scan_lines(0, needle, |line, _, v| f(line, v))
    }

    /// [`JsonlLog::scan_containing`] from byte `offset` (a line start, e.g. the end of the file
    /// when a session began) to the end; `f` gets each line's byte offset. Diagnostics carry
    /// the byte offset and no line number (`line` 0) unless `offset` is 0. An `offset` beyond
    /// the end (the file was replaced) scans the whole file.
    pub fn scan_from(
        &self,
        offset: u64,
        needle: &str,
        mut f: impl FnMut(u64, Json),
    ) -> Result<Vec<LogDiagnostic>, Error> {
        self.scan_lines(offset, needle, |_, at, v| f(at, v))
    }

    fn scan_lines(
        &self,
        offset: u64,
        needle: &str,
        mut f: impl FnMut(u64, u64, Json),
    ) -> Result<Vec<LogDiagnostic>, Error> {
        let mut file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("open", &self.path, e)),
        };
        let len = file.metadata().map_err(|e| Error::io("stat", &self.path, e))?.len();
        let offset = if offset > len { 0 } else { offset };
        file.seek(SeekFrom::Start(offset)).map_err(|e| Error::io("read", &self.path, e))?;
        let mut lines = BoundedLines::new(file, offset, self.max_line);
        let mut diagnostics = Vec::new();
        let mut line_no = 0u64;
        // Line numbers are known only when the scan starts at the top of the file.
        let number = |n: u64| if offset == 0 { n } else { 0 };
        loop {
            let next = lines.next().map_err(|e| Error::io("read", &self.path, e))?;
            let (start, complete) = match next {
                LineRead::Eof => break,
                LineRead::TooLong { start, len, .. } => {
                    line_no += 1;
                    diagnostics.push(self.diag(
                        number(line_no),
                        start,
                        &format!(
                            "line of {len} bytes is longer than the {} byte limit; skipped",
                            self.max_line
                        ),
                    ));
                    continue;
                }
                LineRead::Line { start, complete } => (start, complete),
            };
            line_no += 1;
            let buf = lines.line();
            // A well-formed-looking line of something else is skipped unparsed; anything that
            // might be broken (not UTF-8, not ending in `}`) is parsed so it gets reported.
            if !needle.is_empty()
                && std::str::from_utf8(buf)
                    .is_ok_and(|t| !t.contains(needle) && t.trim_end().ends_with('}'))
            {
                continue;
            }
            let text = String::from_utf8_lossy(buf);
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            if !complete {
                diagnostics.push(self.diag(
                    number(line_no),
                    start,
                    "torn last line (a writer stopped mid-line); skipped",
                ));
                break;
            }
            match serde_json::from_str::<Json>(text) {
                Ok(v) => f(number(line_no), start, v),
                Err(e) => diagnostics.push(self.diag(
                    number(line_no),
                    start,
                    &format!("not JSON ({e}); skipped"),
                )),
            }
        }
        Ok(diagnostics)
    }

    /// The last lines of the file: every complete, parsable line within its final `max_bytes`
    /// bytes, oldest first. Reads only that tail (a line cut by the window's start, a torn last
    /// line and unparsable lines are left out). A missing file is empty.
    pub fn tail(&self, max_bytes: u64) -> Result<Vec<Json>, Error> {
        let mut file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("open", &self.path, e)),
        };
        let len = file.metadata().map_err(|e| Error::io("stat", &self.path, e))?.len();
        // One byte more than asked, so a line starting exactly at the window is kept whole.
        let start = len.saturating_sub(max_bytes.saturating_add(1));
        let mut buf = Vec::new();
        file.seek(SeekFrom::Start(start))
            .and_then(|_| file.take(len - start).read_to_end(&mut buf))
            .map_err(|e| Error::io("read", &self.path, e))?;
        let mut body = buf.as_slice();
        if start > 0 {
            let cut = body.iter().position(|b| *b == b'\n').map_or(body.len(), |i| i + 1);
            body = body.get(cut..).unwrap_or_default();
        }
        Ok(body
            .split_inclusive(|b| *b == b'\n')
            .filter(|line| line.last() == Some(&b'\n'))
            .filter_map(|line| serde_json::from_slice::<Json>(line).ok())
            .collect())
    }

    /// Every parsable line, plus the skipped ones.
    pub fn read_all(&self) -> Result<(Vec<Json>, Vec<LogDiagnostic>), Error> {
        let mut lines = Vec::new();
        let diagnostics = self.scan(|_, v| lines.push(v))?;
        Ok((lines, diagnostics))
    }

    fn diag(&self, line: u64, offset: u64, message: &str) -> LogDiagnostic {
        LogDiagnostic { file: self.path.clone(), line, offset, message: message.to_owned() }
    }
}

/// An open, locked log; each [`Appender::append_line`] is still one `write_all` of a whole
/// line. Dropping it releases the lock.
///
/// A long run of appends (an import, a backfill) starts the disk's work early: every
/// [`EARLY_SYNC_BYTES`] appended, a side thread syncs the file without anyone waiting for it,
/// so the caller's final [`Appender::sync`] has little left to wait for.
#[derive(Debug)]
pub struct Appender {
    file: File,
    path: Utf8PathBuf,
    torn: bool,
    buf: Vec<u8>,
    early: EarlySync,
}

/// Bytes appended between two early syncs (see [`Appender`]).
pub const EARLY_SYNC_BYTES: u64 = 8 << 20;

/// The side thread of [`Appender`]'s early syncs, started at the first threshold crossed. Its
/// errors are ignored: the caller's own [`Appender::sync`] reports what failed.
#[derive(Debug)]
struct EarlySync {
    every: u64,
    since: u64,
    worker: Option<(std::sync::mpsc::SyncSender<()>, std::thread::JoinHandle<()>)>,
}

impl EarlySync {
    fn new(every: u64) -> EarlySync {
        EarlySync { every, since: 0, worker: None }
    }

    fn appended(&mut self, file: &File, bytes: usize) {
        self.since += bytes as u64;
        if self.since < self.every {
            return;
        }
        self.since = 0;
        if self.worker.is_none() {
            let Ok(handle) = file.try_clone() else { return };
            let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
            let thread = std::thread::spawn(move || {
                while rx.recv().is_ok() {
                    let _ = handle.sync_data();
                }
            });
            self.worker = Some((tx, thread));
        }
        if let Some((tx, _)) = &self.worker {
            // Already busy syncing: that sync or the caller's final one covers these bytes.
            let _ = tx.try_send(());
        }
    }
}

impl Drop for EarlySync {
    fn drop(&mut self) {
        if let Some((tx, thread)) = self.worker.take() {
            drop(tx);
            let _ = thread.join();
        }
    }
}

impl Appender {
    /// Append one record as one line.
    pub fn append_line(&mut self, line: &str) -> Result<(), Error> {
        if line.contains('\n') {
            return Err(Error::EmbeddedNewline { path: self.path.clone() });
        }
        self.buf.clear();
        if self.torn {
            self.buf.push(b'\n');
        }
        self.buf.extend_from_slice(line.as_bytes());
        self.buf.push(b'\n');
        if let Err(e) = self.file.write_all(&self.buf).and_then(|()| self.file.flush()) {
            // Part of the line may be on disk: start the next append on a fresh line.
            self.torn = true;
            return Err(Error::io("append to", &self.path, e));
        }
        self.torn = false;
        Ok(())
    }

    /// Append several records at once: `lines` is whole lines, each ending in `\n` (none
    /// empty), written with one `write_all` (an importer's batch; still whole lines under the
    /// lock).
    pub fn append_lines(&mut self, lines: &str) -> Result<(), Error> {
        if lines.is_empty() {
            return Ok(());
        }
        // An empty line inside: looked for with a vector search (batches are megabytes).
        let empty_inside = memchr::memmem::find(lines.as_bytes(), b"\n\n").is_some();
        if !lines.ends_with('\n') || lines.starts_with('\n') || empty_inside {
            return Err(Error::EmbeddedNewline { path: self.path.clone() });
        }
        let write = |file: &mut File, torn: bool| {
            if torn {
                file.write_all(b"\n")?;
            }
            file.write_all(lines.as_bytes())?;
            file.flush()
        };
        if let Err(e) = write(&mut self.file, self.torn) {
            self.torn = true;
            return Err(Error::io("append to", &self.path, e));
        }
        self.torn = false;
        self.early.appended(&self.file, lines.len());
        Ok(())
    }

    /// Force the appended lines to disk (fsync).
    pub fn sync(&self) -> Result<(), Error> {
        self.file.sync_data().map_err(|e| Error::io("sync", &self.path, e))
    }
}

/// What [`BoundedLines::next`] read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LineRead {
    /// A line (in [`BoundedLines::line`], with its `\n` when `complete`), starting at `start`.
    Line {
        /// Byte offset of its start.
        start: u64,
        /// Whether it ends in `\n` (else it is a torn last line).
        complete: bool,
    },
    /// A line longer than the limit: read through, not kept.
    TooLong {
        /// Byte offset of its start.
        start: u64,
        /// Its length in bytes.
        len: u64,
        /// Whether it ends in `\n`.
        complete: bool,
    },
    /// End of input.
    Eof,
}

/// Reads lines while holding at most `max` bytes of one line: memory stays bounded whatever
/// the input (a 1 GB line costs a buffer of `max`, not 1 GB).
pub(crate) struct BoundedLines<R> {
    reader: BufReader<R>,
    buf: Vec<u8>,
    max: usize,
    pos: u64,
}

impl<R: Read> BoundedLines<R> {
    /// Lines of `reader`, whose first byte is at offset `pos` of the file.
    pub(crate) fn new(reader: R, pos: u64, max: usize) -> Self {
        BoundedLines {
            reader: BufReader::with_capacity(64 * 1024, reader),
            buf: Vec::new(),
            max,
            pos,
        }
    }

    /// The bytes of the last [`LineRead::Line`].
    pub(crate) fn line(&self) -> &[u8] {
        &self.buf
    }

    /// Read the next line.
    pub(crate) fn next(&mut self) -> std::io::Result<LineRead> {
        self.buf.clear();
        let start = self.pos;
        let mut len = 0u64;
        let mut too_long = false;
        loop {
            let avail = self.reader.fill_buf()?;
            if avail.is_empty() {
                return Ok(match (len, too_long) {
                    (0, _) => LineRead::Eof,
                    (_, true) => LineRead::TooLong { start, len, complete: false },
                    (_, false) => LineRead::Line { start, complete: false },
                });
            }
            let newline = avail.iter().position(|b| *b == b'\n');
            let take = newline.map_or(avail.len(), |i| i + 1);
            if !too_long {
                // The limit counts the line without its newline.
                let content = self.buf.len() + take - usize::from(newline.is_some());
                if content > self.max {
                    too_long = true;
                    self.buf = Vec::new();
                } else {
                    self.buf.extend_from_slice(avail.get(..take).unwrap_or_default());
                }
            }
            self.reader.consume(take);
            len += take as u64;
            self.pos += take as u64;
            if newline.is_some() {
                return Ok(if too_long {
                    LineRead::TooLong { start, len, complete: true }
                } else {
                    LineRead::Line { start, complete: true }
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Past the threshold the side thread starts and syncs; the lines are whole and in order,
    /// and dropping the appender waits for it.
    #[test]
    fn early_syncs_start_past_the_threshold_and_keep_every_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8PathBuf::from_path_buf(dir.path().join("events.jsonl")).unwrap();
        let log = JsonlLog::new(&path);
        let mut out = log.appender().unwrap();
        out.early = EarlySync::new(256);
        let batch: String = (0..4).map(|i| format!("{{\"n\":{i}}}\n")).collect();
        out.append_lines(&batch).unwrap();
        assert!(out.early.worker.is_none(), "under the threshold: no thread");
        for _ in 0..20 {
            out.append_lines(&batch).unwrap();
        }
        assert!(out.early.worker.is_some(), "past the threshold: the side thread runs");
        out.sync().unwrap();
        drop(out);
        let (lines, bad) = log.read_all().unwrap();
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(lines.len(), 84);
        let ns: Vec<u64> = lines.iter().map(|v| v["n"].as_u64().unwrap()).collect();
        assert!(ns.chunks(4).all(|c| c == [0, 1, 2, 3]));
        // The lock went with the appender (and its side thread's handle).
        assert!(File::open(&path).unwrap().try_lock().is_ok());
    }
}
