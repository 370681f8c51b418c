//! The Prometheus text-format parser and the CCP families read from it.
#![no_main]

use agentos_ccc_client::api::{CcpMetrics, Exposition};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(e) = Exposition::parse(text) {
        let _ = CcpMetrics::from_exposition(&e);
        let _ = e.histograms("ccp_request_duration_seconds");
        let _ = e.sum("ccp_requests_total", &[("lane", "a")]);
    }
});
