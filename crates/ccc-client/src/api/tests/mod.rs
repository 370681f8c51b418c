//! Tests of the read API: the client against a fake CCC serving the captures byte for byte
//! (`client.rs`), the Prometheus parser (`prometheus.rs`), the snapshot and the watch logic
//! (`watch.rs`). Expected values are read from the captures by the tests themselves
//! (`serde_json::Value`, plain text splitting), never from the code under test.

mod client;
mod config;
mod prometheus;
mod watch;

use std::time::Duration;

use agentos_testkit::fake_ccc::capture;

use super::{CccApi, ReadTimeouts};

/// A capture as an untyped JSON value.
fn capture_value(name: &str) -> serde_json::Value {
    serde_json::from_slice(&capture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Short timeouts: the tests never wait long for a fake on 127.0.0.1.
fn quick() -> ReadTimeouts {
    ReadTimeouts {
        connect: Duration::from_secs(2),
        total: Duration::from_secs(5),
        readyz_probe: Duration::from_millis(200),
        readyz_slack: Duration::from_secs(2),
        readyz_providers: 5,
    }
}

fn api(url: &str) -> CccApi {
    CccApi::new(url, None, quick()).unwrap_or_else(|e| panic!("{e}"))
}
