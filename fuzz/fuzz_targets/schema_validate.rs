//! `schema validate`: parse untrusted bytes and validate them against a schema of the
//! catalogue (the first byte picks it); never a panic, and a valid value reads as JSON again.
#![no_main]

use agentos_event_schema::catalog::SchemaKind;
use agentos_event_schema::validate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let kind = SchemaKind::ALL[usize::from(pick) % SchemaKind::ALL.len()];
    let Ok(value) = validate::parse_json(body) else {
        return;
    };
    let violations = validate::validate(kind, &value);
    let _ = validate::unknown_fields(kind, &value);
    for v in &violations {
        let _ = v.to_string();
    }
});
