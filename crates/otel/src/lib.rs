//! AgentOS ↔ OpenTelemetry: the mapping of turns to OTLP log records (GenAI semantic
//! conventions) and of rollup figures to OTLP metrics, in OTLP/HTTP JSON, and of Claude Code's
//! own OTLP telemetry to v1 turns ([`receive`], [`protobuf`]). No I/O: callers send and receive
//! the bodies (`agentos-ccc-client`: the outbox under the privacy tier and license gate, and
//! the receiver).
#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod logs;
mod logs_body;
mod metrics;
pub mod model;
pub mod protobuf;
pub mod receive;
pub mod semconv;

pub use logs::{LogsBatch, event_ids, logs_request};
pub use logs_body::LogsBody;
pub use metrics::{metrics_request, names};

use agentos_event_schema::Timestamp;

/// The route of a logs request under an OTLP/HTTP endpoint.
pub const LOGS_PATH: &str = "/v1/logs";
/// The route of a metrics request.
pub const METRICS_PATH: &str = "/v1/metrics";
/// The instrumentation scope name.
pub const SCOPE_NAME: &str = "agentos";

/// What goes around the records: the resource and a time filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportOptions {
    /// `service.name`.
    pub service_name: String,
    /// `service.version`.
    pub service_version: String,
    /// More resource attributes (e.g. from `OTEL_RESOURCE_ATTRIBUTES`).
    pub resource: Vec<(String, String)>,
    /// Turns earlier than this are left out.
    pub since: Option<Timestamp>,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            service_name: "agentos".to_owned(),
            service_version: env!("CARGO_PKG_VERSION").to_owned(),
            resource: Vec::new(),
            since: None,
        }
    }
}

fn scope() -> model::Scope {
    model::Scope { name: SCOPE_NAME.to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() }
}

/// What can go wrong turning a body into bytes or reading one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A body could not be encoded (not expected for these types).
    #[error("could not encode the OTLP body: {0}")]
    Encode(#[source] serde_json::Error),
    /// A body is not OTLP/HTTP JSON of the expected message.
    #[error("not an OTLP JSON {what}: {reason}")]
    Decode {
        /// The message expected.
        what: &'static str,
        /// Why (serde's one-line message; never the body).
        reason: String,
    },
}

/// The JSON bytes of a request.
pub fn to_json<T: serde::Serialize>(request: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(request).map_err(Error::Encode)
}

/// Read an `ExportLogsServiceRequest` from OTLP/HTTP JSON.
pub fn parse_logs(body: &[u8]) -> Result<model::ExportLogsServiceRequest, Error> {
    serde_json::from_slice(body).map_err(|e| decode_error("logs request", &e))
}

/// Where and what kind of error, never the input's text (serde quotes offending values, which
/// could be a prompt or a secret).
pub(crate) fn decode_error(what: &'static str, e: &serde_json::Error) -> Error {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "JSON of the wrong shape",
        serde_json::error::Category::Eof => "truncated JSON",
    };
    Error::Decode { what, reason: format!("{kind} at line {} column {}", e.line(), e.column()) }
}

#[cfg(test)]
mod tests;
