//! Line-aligned chunks of a log for the parallel scanners (the rollup's and the usage
//! report's): about [`CHUNK`] bytes of whole lines at a time, a line longer than [`MAX_LINE`]
//! replaced by [`OVERLONG_LINE`] without being kept, so memory stays bounded whatever the file
//! holds.

use std::io::Read;

/// Bytes handed to a worker at a time (plus the rest of the line that straddles the boundary).
pub(crate) const CHUNK: usize = 1 << 20;
/// Longest line kept: an event line is a few hundred bytes; a longer one (a binary file, a
/// runaway writer) is dropped by the reader and reported, so memory stays bounded.
pub(crate) const MAX_LINE: usize = 64 << 20;
/// What the reader puts in place of a dropped over-long line (a control character first, so
/// it can never be a real line of JSON).
pub(crate) const OVERLONG_LINE: &str = "\u{1}line longer than 64 MiB";

/// Reads a log as chunks of whole lines.
pub(crate) struct LineChunks<R> {
    reader: R,
    carry: Vec<u8>,
}

impl<R: Read> LineChunks<R> {
    pub(crate) fn new(reader: R) -> Self {
        LineChunks { reader, carry: Vec::new() }
    }

    /// Fill `buf` (cleared first) with the next chunk: whole lines, or at the end of the
    /// input everything that is left (its last line may lack a newline: a torn line).
    /// Returns whether the input is exhausted.
    pub(crate) fn next_into(&mut self, buf: &mut Vec<u8>) -> std::io::Result<bool> {
        buf.clear();
        buf.append(&mut self.carry);
        // Whether `buf` holds a newline; only newly read bytes are scanned (a line longer than
        // a chunk stays linear).
        let mut has_newline = buf.contains(&b'\n');
        loop {
            let want = CHUNK.saturating_sub(buf.len()).max(64 * 1024) as u64;
            let before = buf.len();
            if read_retrying(&mut self.reader, buf, want)? == 0 {
                return Ok(true);
            }
            has_newline = has_newline || buf.get(before..).is_some_and(|b| b.contains(&b'\n'));
            if !has_newline && buf.len() > MAX_LINE {
                // `buf` is all one line: keep its place (line numbers) but not its bytes.
                let (rest, found) = skip_past_newline(&mut self.reader)?;
                buf.clear();
                buf.extend_from_slice(OVERLONG_LINE.as_bytes());
                buf.push(b'\n');
                buf.extend_from_slice(&rest);
                has_newline = true;
                if !found {
                    return Ok(true);
                }
            }
            if buf.len() >= CHUNK && has_newline {
                break;
            }
        }
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
    let mut block = Vec::with_capacity(64 * 1024);
    loop {
        block.clear();
        if read_retrying(reader, &mut block, 64 * 1024)? == 0 {
            return Ok((Vec::new(), false));
        }
        if let Some(p) = block.iter().position(|&b| b == b'\n') {
            return Ok((block.split_off(p + 1), true));
        }
    }
}

fn read_retrying<R: Read>(reader: &mut R, buf: &mut Vec<u8>, want: u64) -> std::io::Result<usize> {
    loop {
        match reader.by_ref().take(want).read_to_end(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}
