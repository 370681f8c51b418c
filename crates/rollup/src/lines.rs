//! A bounded JSONL line reader for the small side files (`windows.jsonl`): a line longer than
//! [`MAX_LINE`](crate::chunks::MAX_LINE) is skipped without being kept, so memory stays bounded whatever
//! the file holds.

use std::io::{BufRead, ErrorKind};

/// What [`BoundedLines::next_line`] read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// The input is exhausted.
    Eof,
    /// A line is in the buffer (without its newline); `torn` when the input ended without one.
    Text { torn: bool },
    /// A line longer than the limit was skipped (its bytes are not kept).
    TooLong,
}

/// Reads lines of at most `max` bytes from a [`BufRead`].
pub(crate) struct BoundedLines<R> {
    reader: R,
    max: usize,
}

impl<R: BufRead> BoundedLines<R> {
    pub(crate) fn new(reader: R, max: usize) -> Self {
        BoundedLines { reader, max }
    }

    /// Read the next line into `buf` (cleared first).
    pub(crate) fn next_line(&mut self, buf: &mut Vec<u8>) -> std::io::Result<Line> {
        buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok(match (any, too_long) {
                    (false, _) => Line::Eof,
                    (true, true) => Line::TooLong,
                    (true, false) => Line::Text { torn: true },
                });
            }
            any = true;
            let (take, done) = match available.iter().position(|&b| b == b'\n') {
                Some(p) => (p, true),
                None => (available.len(), false),
            };
            if !too_long {
                if buf.len() + take > self.max {
                    too_long = true;
                    buf.clear();
                    buf.shrink_to(64 * 1024);
                } else {
                    buf.extend_from_slice(available.get(..take).unwrap_or_default());
                }
            }
            self.reader.consume(if done { take + 1 } else { take });
            if done {
                return Ok(if too_long { Line::TooLong } else { Line::Text { torn: false } });
            }
        }
    }
}
