//! The v1 event line reader and the rollup's fast path against `Event` + schema validation:
//! the rollup counts a line exactly when the validator accepts it (issue #17, differential),
//! and its turn-line scanner reads what serde reads (issue #13).
#![no_main]

use agentos_event_schema::catalog::SchemaKind;
use agentos_event_schema::v1::Event;
use agentos_event_schema::validate;
use agentos_rollup::{SummaryOptions, summarize_reader};
use camino::Utf8Path;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // One line: the rollup splits on `\n`, the validator sees the line alone.
    if data.contains(&b'\n') || data.len() > 64 * 1024 {
        return;
    }
    let parsed = validate::parse_json(data);
    let valid =
        parsed.as_ref().is_ok_and(|v| validate::validate(SchemaKind::V1Event, v).is_empty());
    // What the validator accepts, the typed reader reads.
    if valid {
        assert!(
            serde_json::from_slice::<Event>(data).is_ok(),
            "valid line the `Event` type refuses"
        );
    } else {
        let _ = serde_json::from_slice::<Event>(data);
    }
    // The rollup's turn-line scanner reads what serde reads.
    if let Ok(line) = std::str::from_utf8(data) {
        assert!(
            agentos_rollup::fuzzing::turn_paths_agree(line),
            "the turn scanner and serde disagree"
        );
    }
    let mut text = data.to_vec();
    text.push(b'\n');
    let rollup = match summarize_reader(
        Utf8Path::new("x.jsonl"),
        text.as_slice(),
        &SummaryOptions::default(),
    ) {
        Ok(r) => r,
        Err(e) => panic!("rollup failed on one line: {e}"),
    };
    let counted = rollup.summary.diagnostics == 0;
    // A blank line is neither counted nor refused by the rollup; the validator refuses it.
    let blank = data.iter().all(u8::is_ascii_whitespace);
    if !blank {
        assert_eq!(
            valid,
            counted,
            "validator {valid}, rollup {counted} ({:?})",
            rollup.diagnostics.first().map(|d| d.message.as_str())
        );
    }
});
