//! The tracker's store reader (corrupt lines reported `file:line` and skipped, rows sorted).
#![no_main]

use agentos_tracker::store::read_rows_from;
use camino::Utf8Path;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Utf8Path::new("windows.jsonl");
    let all = match read_rows_from(data, path, None) {
        Ok(l) => l,
        Err(e) => panic!("reading from memory failed: {e}"),
    };
    let lines = data.split(|&b| b == b'\n').count() as u64;
    for c in &all.corrupt {
        assert!(c.line >= 1 && c.line <= lines, "corrupt line {} of {lines}", c.line);
    }
    for r in &all.rows {
        let _ = (r.str("provider"), r.parsed_raw(), r.parsed().len());
    }
    let one = match read_rows_from(data, path, Some("w1")) {
        Ok(l) => l,
        Err(e) => panic!("reading from memory failed: {e}"),
    };
    assert!(one.rows.len() <= all.rows.len(), "a window filter added rows");
});
