//! The tolerant JSONL readers (torn last line, over-long lines, CRLF, BOM, blank lines) held
//! to a plain split of the same bytes: backfill's `LineReader` (fed in fuzzer-chosen pieces)
//! and the rollup's bounded side-file reader.
#![no_main]

use std::io::Read;

use agentos_backfill::lines::{Line, LineReader};
use agentos_rollup::fuzzing::{Item, bounded_lines};
use libfuzzer_sys::fuzz_target;

/// A reader that hands out at most `step` bytes per call.
struct Pieces<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fuzz_target!(|input: &[u8]| {
    let [cap, step, data @ ..] = input else {
        return;
    };
    let cap = usize::from(*cap % 64) + 1;
    let step = usize::from(*step % 16) + 1;
    // The expected items: lines split on `\n`, the last one torn when it has no newline.
    let mut expected = Vec::new();
    let mut rest = data;
    let mut no = 1u64;
    while !rest.is_empty() {
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                let line = &rest[..i];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                expected.push((no, Some(line.to_vec()), i as u64, false));
                rest = &rest[i + 1..];
            }
            None => {
                expected.push((no, None, rest.len() as u64, true));
                rest = &[];
            }
        }
        no += 1;
    }

    let mut reader = LineReader::with_cap(Pieces { data, step }, 0, 1, cap);
    let mut got = Vec::new();
    loop {
        match reader.next_line() {
            Ok(None) => break,
            Ok(Some(Line::Full { no, bytes })) => got.push((no, Some(bytes.to_vec()), 0, false)),
            Ok(Some(Line::TooLong { no, len })) => got.push((no, None, len, false)),
            Ok(Some(Line::Torn { no, len })) => got.push((no, None, len, true)),
            Err(e) => panic!("reading from memory failed: {e}"),
        }
    }
    assert_eq!(got.len(), expected.len(), "items: {got:?} vs {expected:?}");
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g.0, e.0, "line numbers");
        match (&g.1, e.3) {
            (Some(bytes), false) => assert_eq!(Some(bytes), e.1.as_ref(), "line {}", e.0),
            (None, true) => assert_eq!(g.2, e.2, "torn length"),
            (None, false) => {
                let full = e.1.as_ref().map_or(0, Vec::len);
                assert!(full > cap || e.2 as usize > cap, "line {} of {full} bytes dropped", e.0);
            }
            _ => panic!("line {}: {g:?} vs {e:?}", e.0),
        }
    }
    let whole = data.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) as u64;
    assert_eq!(reader.consumed(), whole, "consumed");

    let items = match bounded_lines(data, cap, step) {
        Ok(i) => i,
        Err(e) => panic!("reading from memory failed: {e}"),
    };
    let mut pieces: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    if data.ends_with(b"\n") || data.is_empty() {
        pieces.pop();
    }
    assert_eq!(items.len(), pieces.len(), "rollup items");
    let last = pieces.len().saturating_sub(1);
    for (i, (item, piece)) in items.iter().zip(&pieces).enumerate() {
        let torn = i == last && !data.ends_with(b"\n");
        match item {
            Item::Text { bytes, torn: t } => {
                assert_eq!(bytes.as_slice(), *piece, "rollup line {i}");
                assert_eq!(*t, torn, "rollup torn flag");
            }
            Item::TooLong => assert!(piece.len() > cap, "rollup dropped a short line"),
        }
    }
});
