//! Integration tests of the tracker's parsers: every fixture of the Python tracker, with the
//! values the reference (§7.6) states or a reading of the fixture gives, and hostile input;
//! the window store and commands (§7.2–7.5).

mod alias;
mod ccusage;
mod claude_monitor;
mod claude_usage;
mod codex_status;
mod glm_counts;
mod hostile;
mod proxy_telemetry;
mod store;
mod store_load;
mod window;

/// The text of `fixtures/tracker/<rel>`.
pub fn fixture(rel: &str) -> String {
    let path = format!("{}/../../fixtures/tracker/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}
