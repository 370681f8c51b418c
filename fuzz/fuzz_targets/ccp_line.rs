//! The CCC log line classifier (BOM, several objects, trailing prose): never a panic, and a
//! problem never quotes the line's text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (_kinds, problem) = agentos_backfill::fuzzing::ccp_line(data);
    if let Some(p) = problem {
        // A distinctive run of the input (12+ letters) never shows up in the reason.
        if let Ok(text) = std::str::from_utf8(data) {
            for word in text.split(|c: char| !c.is_ascii_alphabetic()) {
                if word.len() >= 12 {
                    assert!(!p.contains(word), "the reason quotes the line: {p}");
                }
            }
        }
    }
});
