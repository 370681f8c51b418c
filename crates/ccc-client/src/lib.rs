//! The AgentOS session recorder and CCC client: records agent sessions to local files and
//! lets data leave the machine only as the privacy tier and the license allow.
//!
//! What it is for: [`Recorder`] (`start_session`, `log_turn`, `end_session`,
//! `upload_minimized_metrics`, `license_handshake`) validates every event against the v1
//! schema and appends it to `events.jsonl` ([`JsonlLog`]: one locked `write_all` per line,
//! torn lines skipped on read), writes the window record to `windows.jsonl` and GLM turns to
//! `glm_counts.jsonl`. Uploads never happen inline: they go to the durable on-disk [`Outbox`]
//! and a [`Sender`] delivers them (`POST /v1/metrics`, `POST /v1/events`) with idempotency
//! keys, timeouts, backoff with jitter and `Retry-After`. [`config`] reads `PRIVACY_TIER`,
//! `AGENTOS_CCC_BASE_URL`, `CCC_API_KEY`, `LICENSE_PACK_PATH`, `AGENTOS_DATA_DIR`.
//! [`api`] reads a live CCC ([`CccApi`]: readiness, usage, quotas, samples, rollups, metrics).
//!
//! What it is not: it decides nothing about privacy itself (that is `agentos-privacy`),
//! verifies no signatures (`agentos-licensing`) and computes no metrics: the window record and
//! the summary come from the [`Metrics`] engine the recorder is opened with (the `agentos` CLI
//! plugs in `agentos-rollup`; this crate does not depend on it).
//! In the `local` tier it opens no socket and writes no outbox.
//!
//! ```no_run
//! use agentos_ccc_client::{Metrics, Recorder, RecorderConfig, SessionStart, TurnInput};
//! # fn example(metrics: impl Metrics + 'static) -> Result<(), agentos_ccc_client::Error> {
//! let mut rec = Recorder::open(RecorderConfig::from_env(None)?, metrics)?;
//! let id = rec.start_session(SessionStart { repo_id: "r".into(), branch: "main".into(),
//!     commit: "abc".into(), ..Default::default() })?;
//! rec.log_turn(TurnInput { model: "glm/4.6".into(), tokens_in: 1, tokens_out: 2,
//!     ..Default::default() })?;
//! rec.end_session(Some("done".into()))?;
//! # let _ = id; Ok(()) }
//! ```
#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod api;
pub mod config;
mod error;
pub mod eventlog;
mod fsutil;
pub mod http;
mod metrics;
pub mod outbox;
pub mod receiver;
mod recorder;
mod state;

pub use agentos_event_schema::v1::{
    Cost, Decision, Feature, FeatureStatus, InputKind, Measurement, Outcome, OutcomeKind, Value,
};
pub use agentos_event_schema::{SessionId, TurnId};
pub use agentos_privacy::Tier as PrivacyTier;
pub use api::{ApiError, CccApi};
pub use config::{OtlpConfig, RecorderConfig, default_data_dir};
pub use error::Error;
pub use eventlog::{Appender, JsonlLog, LogDiagnostic};
pub use http::{Attempt, Failure, ProblemKind, Sender, Timeouts};
pub use metrics::{Metrics, MetricsError, WindowFold};
pub use outbox::{
    Batch, BatchInfo, BatchKind, FlushOptions, FlushReport, LastError, Outbox, OutboxStatus, Target,
};
pub use receiver::{Handled, Receiver};
pub use recorder::{
    OtlpExport, OtlpReport, Preview, PreviewPayload, Recorder, SessionReport, SessionStart,
    TurnInput, UploadGate, UploadOutcome, append_event, event_line, is_glm,
};

#[cfg(test)]
mod tests;
