//! Redact one event for the `full` tier and print exactly what would be uploaded.
//!
//! `cargo run -p agentos-privacy --example redact_full -- 'LINE'` reads one `events.jsonl`
//! line (without an argument, a built-in turn with a free-text session id and an unknown key) and
//! prints the redacted JSON, pretty. Exit code 2 when the line is not a v1 event.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use agentos_event_schema::v1::Event;
use agentos_privacy::{Tier, event_payload};

const SAMPLE: &str = r#"{"type":"turn","turn":{"turn_id":"t1","session_id":"fix the login bug","model":"glm-4.6","subagent":"reviewer","tokens_in":1200,"tokens_out":300,"input_kind":"text","latency_ms":850.0},"notes_from_tool":"do not leak this"}"#;

fn main() {
    let line = std::env::args().nth(1).unwrap_or_else(|| SAMPLE.to_owned());
    let event: Event = match serde_json::from_str(&line) {
        Ok(event) => event,
        Err(e) => {
            eprintln!("not a v1 event: {e}");
            std::process::exit(2);
        }
    };
    let payload = event_payload(Tier::Full, &event).unwrap_or_default();
    match serde_json::to_string_pretty(&payload) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("cannot render: {e}"),
    }
}
