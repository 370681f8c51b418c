//! The tolerant, bounded line reader shared by the importers (and, later, the CCC log
//! backfill): lines of a file from a byte offset, with their 1-based numbers.
//!
//! Memory stays bounded whatever the input: a line longer than the cap is read through in
//! chunks and reported as [`Line::TooLong`], never held whole. A last line without `\n` is
//! [`Line::Torn`] (a writer may still be appending it): the caller does not consume it, so the
//! next run reads it again once complete. Blank lines are returned as such for counting.

use std::io::{self, Read};

/// Lines longer than this are skipped with a reason (16 MiB).
pub const MAX_LINE_BYTES: usize = 16 << 20;

const CHUNK: usize = 1 << 20;

/// One item read.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A complete line (without its `\n` and any trailing `\r`).
    Full {
        /// 1-based line number.
        no: u64,
        /// The bytes.
        bytes: &'a [u8],
    },
    /// A complete line longer than the cap, read through and dropped.
    TooLong {
        /// 1-based line number.
        no: u64,
        /// Its length in bytes.
        len: u64,
    },
    /// The file ends without `\n` after this many bytes: an incomplete last line, not consumed.
    Torn {
        /// 1-based line number.
        no: u64,
        /// Its length in bytes.
        len: u64,
    },
}

/// Reads lines of `reader` whose first byte is at `offset` of the file and whose first line is
/// number `first_line`.
#[derive(Debug)]
pub struct LineReader<R> {
    reader: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    cap: usize,
    /// File offset just past the last complete line returned.
    consumed: u64,
    next_no: u64,
}

impl<R: Read> LineReader<R> {
    /// A reader with the default cap ([`MAX_LINE_BYTES`]).
    pub fn new(reader: R, offset: u64, first_line: u64) -> Self {
        Self::with_cap(reader, offset, first_line, MAX_LINE_BYTES)
    }

    /// A reader that drops lines longer than `cap` bytes.
    pub fn with_cap(reader: R, offset: u64, first_line: u64, cap: usize) -> Self {
        Self::with_buffer(reader, offset, first_line, cap, Vec::new())
    }

    /// [`LineReader::with_cap`] reusing `buf`'s allocation (see [`LineReader::into_buffer`]):
    /// a thread reading many files allocates its buffer once.
    pub fn with_buffer(
        reader: R,
        offset: u64,
        first_line: u64,
        cap: usize,
        mut buf: Vec<u8>,
    ) -> Self {
        let want = CHUNK.min(cap.max(1024) + 1);
        if buf.len() < want {
            buf.resize(want, 0);
        }
        LineReader {
            reader,
            buf,
            start: 0,
            end: 0,
            eof: false,
            cap: cap.max(1),
            consumed: offset,
            next_no: first_line.max(1),
        }
    }

    /// The buffer, for the next reader.
    pub fn into_buffer(self) -> Vec<u8> {
        self.buf
    }

    /// The file offset just past the last complete line returned (where a later run resumes).
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// The number the next line will get.
    pub fn next_line_no(&self) -> u64 {
        self.next_no
    }

    /// The next item, `None` at the end of the file.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                let s = self.start;
                let line_end = s + i;
                self.start = line_end + 1;
                self.consumed += i as u64 + 1;
                let no = self.next_no;
                self.next_no += 1;
                if i > self.cap {
                    return Ok(Some(Line::TooLong { no, len: i as u64 }));
                }
                let mut bytes = &self.buf[s..line_end];
                if let [rest @ .., b'\r'] = bytes {
                    bytes = rest;
                }
                return Ok(Some(Line::Full { no, bytes }));
            }
            let pending = self.end - self.start;
            if pending > self.cap {
                return self.skip_long().map(Some);
            }
            if self.eof {
                if pending == 0 {
                    return Ok(None);
                }
                self.start = self.end;
                return Ok(Some(Line::Torn { no: self.next_no, len: pending as u64 }));
            }
            self.fill()?;
        }
    }

    /// Make room and read more bytes after the pending ones.
    fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2).min(self.cap + CHUNK).max(self.end + 1);
            self.buf.resize(grown, 0);
        }
        let n = read_retry(&mut self.reader, &mut self.buf[self.end..])?;
        if n == 0 {
            self.eof = true;
        }
        self.end += n;
        Ok(())
    }

    /// The pending bytes start a line longer than the cap: read to its end without keeping it.
    fn skip_long(&mut self) -> io::Result<Line<'static>> {
        let no = self.next_no;
        let mut len = (self.end - self.start) as u64;
        self.start = 0;
        self.end = 0;
        loop {
            let n = read_retry(&mut self.reader, &mut self.buf[..])?;
            if n == 0 {
                self.eof = true;
                // Still incomplete: not consumed, like any torn last line.
                return Ok(Line::Torn { no, len });
            }
            if let Some(i) = memchr::memchr(b'\n', &self.buf[..n]) {
                len += i as u64;
                self.consumed += len + 1;
                self.next_no += 1;
                self.start = i + 1;
                self.end = n;
                return Ok(Line::TooLong { no, len });
            }
            len += n as u64;
        }
    }
}

fn read_retry(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Whether a line is empty or only whitespace.
pub fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// Whether a line looks like one JSON object from the outside (first and last non-blank bytes
/// are `{` and `}`): the cheap check for lines the importers do not need to parse.
pub fn looks_like_object(bytes: &[u8]) -> bool {
    let first = bytes.iter().position(|b| !b.is_ascii_whitespace());
    let last = bytes.iter().rposition(|b| !b.is_ascii_whitespace());
    matches!((first, last), (Some(f), Some(l)) if f < l && bytes[f] == b'{' && bytes[l] == b'}')
}
