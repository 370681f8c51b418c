//! Integration tests of the recorder and outbox against a fake CCC on 127.0.0.1.

mod crash;
mod lifecycle;
// The real metrics engine, exactly as the `agentos` CLI plugs it into the recorder (one copy).
#[path = "../../../cli/src/metrics.rs"]
mod metrics;
mod otlp;
mod outbox;
mod receive;
mod scenarios;
mod support;
