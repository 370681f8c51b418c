//! The tracker's six pane and export parsers: never a panic on any text (what they cannot
//! read is a null plus an error code), and every result serialises.
#![no_main]

use agentos_tracker::{
    CcusageScope, parse_ccusage_counts, parse_claude_monitor_realtime, parse_claude_usage,
    parse_codex_ccusage, parse_codex_status, parse_proxy_telemetry_stream,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(body);
    let json = match pick % 7 {
        0 => parse_codex_status(&text).map(|r| serde_json::to_string(&r)),
        1 => parse_claude_usage(&text).map(|r| serde_json::to_string(&r)),
        2 => parse_claude_monitor_realtime(&text).map(|r| serde_json::to_string(&r)),
        3 => parse_codex_ccusage(&text, CcusageScope::Daily).map(|r| serde_json::to_string(&r)),
        4 => parse_codex_ccusage(&text, CcusageScope::Session).map(|r| serde_json::to_string(&r)),
        5 => parse_ccusage_counts(&text).map(|r| serde_json::to_string(&r)),
        _ => parse_proxy_telemetry_stream(&text).map(|r| serde_json::to_string(&r)),
    };
    if let Ok(j) = json {
        assert!(j.is_ok(), "a parse result does not serialise");
    }
});
