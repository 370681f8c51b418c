//! The Claude Code transcript reader over arbitrary bytes: never a panic, never an I/O error
//! from memory, and it consumes only whole lines.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let counts = match agentos_backfill::fuzzing::claude_file(data) {
        Ok(c) => c,
        Err(e) => panic!("reading from memory failed: {e}"),
    };
    let whole = data.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) as u64;
    assert_eq!(counts.consumed, whole, "consumed is not the end of the last whole line");
});
