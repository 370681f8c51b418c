//! Integration tests of the recorder and outbox against a fake CCC on 127.0.0.1.

mod crash;
mod lifecycle;
mod metrics;
mod outbox;
mod scenarios;
mod support;
