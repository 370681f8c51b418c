//! Entry points for the fuzz targets in `fuzz/` (not part of the API; hidden from the docs):
//! the bounded line reader of the side files over bytes, the turn-line scanner against serde.

use std::io::BufReader;

use crate::lines::{BoundedLines, Line};

/// One item [`bounded_lines`] read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A line (without its newline); `torn` when the input ended without one.
    Text {
        /// The bytes kept.
        bytes: Vec<u8>,
        /// No newline at the end.
        torn: bool,
    },
    /// A line over `max` bytes, skipped.
    TooLong,
}

/// Every line of `bytes` read with lines of at most `max` bytes through a buffer of
/// `capacity` bytes (at least 1), as `windows.jsonl` is read.
pub fn bounded_lines(bytes: &[u8], max: usize, capacity: usize) -> std::io::Result<Vec<Item>> {
    let mut lines = BoundedLines::new(BufReader::with_capacity(capacity.max(1), bytes), max);
    let mut buf = Vec::new();
    let mut out = Vec::new();
    loop {
        match lines.next_line(&mut buf)? {
            Line::Eof => return Ok(out),
            Line::Text { torn } => out.push(Item::Text { bytes: buf.clone(), torn }),
            Line::TooLong => out.push(Item::TooLong),
        }
    }
}

/// Whether the rollup's turn-line scanner and serde read `line` alike: where the scanner
/// reads a line (a `"type":"turn"` line of the common shape), serde reads the same view;
/// everything else is serde's alone.
pub fn turn_paths_agree(line: &str) -> bool {
    let line = line.trim_ascii();
    if crate::view::peek_type(line.as_bytes()) != Some(b"turn") {
        return true;
    }
    match crate::turnscan::scan(line) {
        None => true,
        Some(t) => {
            let fast = format!("{:?}", crate::view::Line::Turn(t));
            crate::view::with_line_serde(line, |l| format!("{l:?}")) == Ok(fast)
        }
    }
}
