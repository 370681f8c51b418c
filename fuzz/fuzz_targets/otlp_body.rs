//! The OTLP receiver's body decoding (JSON and protobuf, logs and metrics) and the mapping of
//! Claude Code's `api_request` events to v1 turns.
#![no_main]

use agentos_event_schema::v1::PrivacyTier;
use agentos_otel::receive::{claude_code_requests, metric_names};
use agentos_otel::{parse_logs, protobuf};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let logs = match pick % 4 {
        0 => parse_logs(body).ok(),
        1 => protobuf::decode_logs(body).ok(),
        2 => {
            let _ = metric_names(body);
            None
        }
        _ => {
            let _ = protobuf::count_metrics(body);
            None
        }
    };
    if let Some(req) = logs {
        let received = claude_code_requests(&req);
        for r in &received.requests {
            let _ = (r.event_id(), r.fingerprint());
            let turn = r.turn_event();
            let _ = serde_json::to_vec(&turn);
            let _ = r.session_event(PrivacyTier::Local);
        }
    }
});
