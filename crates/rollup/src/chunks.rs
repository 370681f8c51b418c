//! Line-aligned chunks of a log for the parallel scanners (the rollup's and the usage
//! report's): about [`CHUNK`] bytes of whole lines at a time, a line longer than [`MAX_LINE`]
//! replaced by [`OVERLONG_LINE`] without being kept, so memory stays bounded whatever the file
//! holds.

use std::io::Read;

/// Bytes handed to a worker at a time (plus the rest of the line that straddles the boundary).
pub(crate) const CHUNK: usize = 1 << 20;
/// The capacity a fresh chunk buffer is made with: a chunk of lines shorter than 64 KiB never
/// makes [`LineChunks::next_into`] reallocate it (it reads at most 64 KiB past [`CHUNK`]).
pub(crate) const BUF_CAPACITY: usize = CHUNK + READ_MIN;
/// The least a read asks for.
const READ_MIN: usize = 64 * 1024;
/// Longest line kept: an event line is a few hundred bytes; a longer one (a binary file, a
/// runaway writer) is dropped by the reader and reported, so memory stays bounded.
pub(crate) const MAX_LINE: usize = 64 << 20;
/// What the reader puts in place of a dropped over-long line (a control character first, so
/// it can never be a real line of JSON).
pub(crate) const OVERLONG_LINE: &str = "\u{1}line longer than 64 MiB";

/// Where the lines of a chunk lie: the pieces `split(|b| *b == b'\n')` gives (an empty one
/// included), each newline found by the `memchr` crate's vector search (the standard library's
/// searches go a byte or a word at a time: a few percent of a rollup).
pub(crate) struct LineRanges<'a> {
    text: &'a [u8],
    /// Where the next piece starts; `None` after the last.
    at: Option<usize>,
}

impl<'a> LineRanges<'a> {
    pub(crate) fn new(text: &'a [u8]) -> Self {
        LineRanges { text, at: Some(0) }
    }
}

impl Iterator for LineRanges<'_> {
    type Item = std::ops::Range<usize>;

    fn next(&mut self) -> Option<Self::Item> {
        let at = self.at?;
        let rest = self.text.get(at..).unwrap_or_default();
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                self.at = Some(at + i + 1);
                Some(at..at + i)
            }
            None => {
                self.at = None;
                Some(at..self.text.len())
            }
        }
    }
}

/// Reads a log as chunks of whole lines.
pub(crate) struct LineChunks<R> {
    reader: R,
    carry: Vec<u8>,
}

impl<R: Read> LineChunks<R> {
    pub(crate) fn new(reader: R) -> Self {
        LineChunks { reader, carry: Vec::new() }
    }

    /// Fill `buf` with the next chunk: whole lines, or at the end of the input everything
    /// that is left (its last line may lack a newline: a torn line). `buf`'s old bytes are
    /// overwritten in place: a recycled buffer is read into as it is, not zeroed again (as
    /// `read_to_end` would, chunk after chunk). Returns whether the input is exhausted.
    pub(crate) fn next_into(&mut self, buf: &mut Vec<u8>) -> std::io::Result<bool> {
        // `buf[..filled]` is the chunk so far; the rest of `buf` is scratch to read into.
        let mut filled = self.carry.len();
        if buf.len() < filled {
            buf.resize(filled, 0);
        }
        if let Some(dst) = buf.get_mut(..filled) {
            dst.copy_from_slice(&self.carry);
        }
        self.carry.clear();
        // Whether the chunk holds a newline; only newly read bytes are scanned (a line longer
        // than a chunk stays linear).
        let mut has_newline = buf.get(..filled).is_some_and(|b| b.contains(&b'\n'));
        loop {
            let want = CHUNK.saturating_sub(filled).max(READ_MIN);
            if buf.len() < filled + want {
                buf.resize(filled + want, 0);
            }
            let n = read_retrying(
                &mut self.reader,
                buf.get_mut(filled..filled + want).unwrap_or_default(),
            )?;
            if n == 0 {
                buf.truncate(filled);
                return Ok(true);
            }
            has_newline =
                has_newline || buf.get(filled..filled + n).is_some_and(|b| b.contains(&b'\n'));
            filled += n;
            if !has_newline && filled > MAX_LINE {
                // The chunk is all one line: keep its place (line numbers) but not its bytes.
                let (rest, found) = skip_past_newline(&mut self.reader)?;
                buf.clear();
                buf.extend_from_slice(OVERLONG_LINE.as_bytes());
                buf.push(b'\n');
                buf.extend_from_slice(&rest);
                buf.shrink_to(BUF_CAPACITY);
                filled = buf.len();
                has_newline = true;
                if !found {
                    return Ok(true);
                }
            }
            if filled >= CHUNK && has_newline {
                break;
            }
        }
        buf.truncate(filled);
        // `buf` holds a newline here: what follows the last one waits for the next chunk.
        if let Some(p) = buf.iter().rposition(|&b| b == b'\n') {
            self.carry.extend_from_slice(buf.get(p + 1..).unwrap_or_default());
            buf.truncate(p + 1);
        }
        Ok(false)
    }
}

/// Read and drop bytes up to and including the next newline; returns what followed it in the
/// last block read, and whether a newline was found before the end of the input.
fn skip_past_newline<R: Read>(reader: &mut R) -> std::io::Result<(Vec<u8>, bool)> {
    let mut block = vec![0u8; 64 * 1024];
    loop {
        let n = read_retrying(reader, &mut block)?;
        if n == 0 {
            return Ok((Vec::new(), false));
        }
        let got = block.get(..n).unwrap_or_default();
        if let Some(p) = got.iter().position(|&b| b == b'\n') {
            return Ok((got.get(p + 1..).unwrap_or_default().to_vec(), true));
        }
    }
}

/// One `read` into `dst` (0: the end of the input), retried when interrupted.
fn read_retrying<R: Read>(reader: &mut R, dst: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match reader.read(dst) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader over `data` that records how many bytes each `read` asks for, and hands out
    /// at most `step` at a time (as a pipe would).
    struct Recording<'a> {
        data: &'a [u8],
        step: usize,
        asked: Vec<usize>,
    }

    impl Read for Recording<'_> {
        fn read(&mut self, dst: &mut [u8]) -> std::io::Result<usize> {
            self.asked.push(dst.len());
            let n = dst.len().min(self.step).min(self.data.len());
            let (head, rest) = self.data.split_at(n);
            dst.get_mut(..n).unwrap_or_default().copy_from_slice(head);
            self.data = rest;
            Ok(n)
        }
    }

    fn log(lines: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..lines {
            out.extend_from_slice(
                format!("{{\"n\":{i},\"pad\":\"{}\"}}\n", "p".repeat(i % 97)).as_bytes(),
            );
        }
        out.extend_from_slice(b"{\"torn\":");
        out
    }

    /// Chunks are whole lines and give the input back byte for byte, whatever a recycled
    /// buffer held before; the reader is asked for at least 64 KiB at a time (no small probe
    /// reads, no zeroing of a buffer per chunk).
    #[test]
    fn recycled_buffers_are_read_into_in_place() {
        let data = log(60_000);
        assert!(data.len() > 3 * CHUNK);
        for step in [usize::MAX, 5000] {
            let mut reader = Recording { data: &data, step, asked: Vec::new() };
            let mut chunks = LineChunks::new(&mut reader);
            // A dirty recycled buffer, longer than a chunk.
            let mut buf = vec![b'x'; CHUNK + 200_000];
            let mut back = Vec::new();
            loop {
                let eof = chunks.next_into(&mut buf).unwrap();
                if !eof {
                    assert_eq!(buf.last(), Some(&b'\n'), "a chunk ends on a line end");
                }
                back.extend_from_slice(&buf);
                if eof {
                    break;
                }
            }
            assert!(back == data, "the chunks give the input back (step {step})");
            assert!(reader.asked.iter().all(|&n| n >= 64 * 1024), "{:?}", reader.asked);
        }
    }

    /// A fresh buffer of [`BUF_CAPACITY`] is never reallocated by a log of short lines.
    #[test]
    fn a_fresh_buffer_keeps_its_capacity() {
        let data = log(60_000);
        let mut chunks = LineChunks::new(data.as_slice());
        let mut buf = Vec::with_capacity(BUF_CAPACITY);
        let cap = buf.capacity();
        while !chunks.next_into(&mut buf).unwrap() {
            assert_eq!(buf.capacity(), cap);
        }
        assert_eq!(buf.capacity(), cap);
    }

    /// A line longer than [`MAX_LINE`] is replaced, the lines around it kept.
    #[test]
    fn an_overlong_line_is_replaced() {
        let mut data = b"{\"a\":1}\n".to_vec();
        // Longer than the limit by more than one read (the read that crosses it holds no end).
        data.extend(std::iter::repeat_n(b'z', MAX_LINE + 200_000));
        data.extend_from_slice(b"\n{\"b\":2}\n");
        let mut chunks = LineChunks::new(data.as_slice());
        let mut buf = Vec::new();
        let mut back = Vec::new();
        loop {
            let eof = chunks.next_into(&mut buf).unwrap();
            back.extend_from_slice(&buf);
            if eof {
                break;
            }
        }
        let want = format!("{{\"a\":1}}\n{OVERLONG_LINE}\n{{\"b\":2}}\n");
        assert!(back == want.as_bytes(), "{} bytes back", back.len());
    }

    /// The pieces are exactly those of a split at every newline, empty ones included.
    #[test]
    fn line_ranges_split_as_a_split_at_newlines_does() {
        let long = "x".repeat(1000) + "\n" + &"y".repeat(77) + "\n";
        let texts =
            ["", "\n", "a", "a\n", "a\nb", "\n\n", "é\nü\n\nx", "{}\r\n{}", "\n a \n", &long];
        for text in texts {
            let b = text.as_bytes();
            let got: Vec<&[u8]> = LineRanges::new(b).map(|r| &b[r]).collect();
            let want: Vec<&[u8]> = b.split(|&c| c == b'\n').collect();
            assert_eq!(got, want, "{text:?}");
        }
    }
}
