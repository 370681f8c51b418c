//! The CCC log line classifier (BOM, several objects, trailing prose): never a panic, a
//! problem never quotes the line's text, and the lean scanner reads what serde reads.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    assert!(agentos_backfill::fuzzing::ccp_fast_agrees(data), "the lean scanner differs from serde");
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
