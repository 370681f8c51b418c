//! Validate one `events.jsonl` line against the v1 contract and print every violation.
//!
//! `cargo run -p agentos-event-schema --features validate --example validate_line -- 'LINE'`
//! (without an argument it checks a built-in line with a negative latency). Exit code 0 when
//! the line is valid, 1 when it breaks the contract, 2 when it is not JSON.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use agentos_event_schema::catalog::SchemaKind;
use agentos_event_schema::validate::{unknown_fields, validate};

const SAMPLE: &str = r#"{"type":"turn","turn":{"turn_id":"t1","session_id":"s1","model":"m","subagent":"main","tokens_in":1,"tokens_out":2,"input_kind":"text","latency_ms":-5.0}}"#;

fn main() {
    let line = std::env::args().nth(1).unwrap_or_else(|| SAMPLE.to_owned());
    let value: serde_json::Value = match serde_json::from_str(&line) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("not JSON: {e}");
            std::process::exit(2);
        }
    };
    let violations = validate(SchemaKind::V1Event, &value);
    for v in &violations {
        println!("invalid {v}");
    }
    for v in unknown_fields(SchemaKind::V1Event, &value) {
        println!("unknown field (kept, not an error) {v}");
    }
    if violations.is_empty() {
        println!("valid v1 event");
    } else {
        std::process::exit(1);
    }
}
