//! The session recorder: validated local events first, uploads only through the outbox.
//!
//! Every event is validated and appended to `events.jsonl` first, in every tier. Only in
//! the `full` tier with a license granting `telemetry_full` does recording then touch the
//! outbox: the watermark is created if missing (before the append), and after the append the
//! outbox catches up with the log ([`Outbox::catch_up`]), queueing this event and anything a
//! crashed earlier process appended but did not queue. Other tiers do no outbox I/O at all.
//!
//! `state/active_session.json` holds the active session's id, start time, tier and where it
//! began in the logs; the outbox uses the tier for sessions that started before its
//! watermark. Starting, logging turns and ending (`lifecycle.rs`) happen under the data-dir
//! session lock: one active session per data dir, ended once, nothing recorded twice when a
//! failed call is retried.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use agentos_event_schema::catalog::SchemaKind;
use agentos_event_schema::v1::{
    Cost, Decision, Envelope, Event, Feature, InputKind, Measurement, MetricsSummary, Outcome,
    SCHEMA_VERSION, Value, WindowRecord,
};
use agentos_event_schema::{SessionId, Timestamp, validate};
use agentos_licensing::VerifiedLicense;
use agentos_privacy::{Tier, TierPolicy};
use camino::Utf8PathBuf;
use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::Error;
use crate::config::RecorderConfig;
use crate::eventlog::{JsonlLog, LogDiagnostic};
use crate::http::{Sender, Timeouts};
use crate::metrics::Metrics;
use crate::outbox::{BATCH_MAX_EVENTS, FlushOptions, FlushReport, Outbox, OutboxStatus};
use crate::state::{ActiveSession, StateFiles};

mod lifecycle;
mod otlp;

pub use otlp::{OtlpExport, OtlpReport};

/// What `start_session` needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionStart {
    /// Repository identifier (not a path).
    pub repo_id: String,
    /// Branch.
    pub branch: String,
    /// Commit the session starts from.
    pub commit: String,
    /// Use this id instead of a fresh UUID.
    pub session_id: Option<SessionId>,
    /// Free-form labels.
    pub metadata: BTreeMap<String, String>,
    /// When the session started, for sessions recorded after the fact (imports, samples);
    /// `None` means now.
    pub started_at: Option<Timestamp>,
}

/// What `log_turn` needs: the turn plus its optional blocks.
#[derive(Clone, Debug, PartialEq)]
pub struct TurnInput {
    /// Model name.
    pub model: String,
    /// Agent or subagent.
    pub subagent: String,
    /// Input tokens.
    pub tokens_in: u64,
    /// Output tokens.
    pub tokens_out: u64,
    /// Input kind.
    pub input_kind: InputKind,
    /// Latency, ms.
    pub latency_ms: f64,
    /// Capacity consumed.
    pub capacity_used: Option<f64>,
    /// Value attribution weights by model.
    pub attribution: BTreeMap<String, f64>,
    /// Quality measurements.
    pub measurement: Option<Measurement>,
    /// Feature worked on.
    pub feature: Option<Feature>,
    /// Cost.
    pub cost: Option<Cost>,
    /// Value delivered.
    pub value: Option<Value>,
    /// Outcome kind.
    pub outcome: Option<Outcome>,
    /// CCP routing decision.
    pub decision: Option<Decision>,
    /// When the turn happened, for turns recorded after the fact; `None` means now.
    pub at: Option<Timestamp>,
}

impl Default for TurnInput {
    fn default() -> Self {
        TurnInput {
            model: String::new(),
            subagent: "main".to_owned(),
            tokens_in: 0,
            tokens_out: 0,
            input_kind: InputKind::Text,
            latency_ms: 0.0,
            capacity_used: None,
            attribution: BTreeMap::new(),
            measurement: None,
            feature: None,
            cost: None,
            value: None,
            outcome: None,
            decision: None,
            at: None,
        }
    }
}

/// Whether uploads may happen, decided once per [`Recorder`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UploadGate {
    /// `local` tier: nothing is ever sent or queued.
    LocalOnly,
    /// The license grants the tier's entitlement.
    Allowed {
        /// The entitlement checked.
        entitlement: &'static str,
        /// The license plan.
        plan: String,
        /// The key id that verified the license.
        kid: String,
    },
    /// No valid license for this tier: recorded locally only, nothing queued.
    Denied {
        /// One line saying why and what to do.
        message: String,
    },
}

/// What happened to an upload request.
#[derive(Clone, Debug, PartialEq)]
pub enum UploadOutcome {
    /// `local` tier: nothing sent, nothing queued.
    LocalOnly,
    /// The license does not allow it: nothing queued (one line why).
    Denied(String),
    /// Queued in the outbox under this key; `flush` is the delivery attempt made right after
    /// (none when auto-flush is off).
    Queued {
        /// Idempotency key.
        key: String,
        /// The bounded delivery attempt.
        flush: Option<FlushReport>,
    },
}

/// What ending a session produced.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionReport {
    /// The session ended.
    pub session_id: SessionId,
    /// The window record appended to `windows.jsonl`.
    pub window: WindowRecord,
    /// The refreshed `metrics_summary.json`.
    pub summary: MetricsSummary,
    /// The summary upload.
    pub upload: UploadOutcome,
    /// Lines skipped while reading `events.jsonl`.
    pub diagnostics: Vec<LogDiagnostic>,
}

/// One payload `privacy preview` shows.
#[derive(Clone, Debug, PartialEq)]
pub struct PreviewPayload {
    /// `POST` route.
    pub route: &'static str,
    /// Where it comes from (pending batch, queued events, next summary).
    pub source: String,
    /// The exact body (keys not yet assigned are shown as placeholders).
    pub body: Json,
}

/// What the current tier would upload.
#[derive(Clone, Debug, PartialEq)]
pub struct Preview {
    /// The tier.
    pub tier: Tier,
    /// Whether uploads are allowed now.
    pub gate: UploadGate,
    /// The payloads, in sending order.
    pub payloads: Vec<PreviewPayload>,
}

/// Records sessions to the data dir and queues what the tier and license allow for upload.
/// The window record and the summary come from the [`Metrics`] engine it is opened with.
///
/// ```no_run
/// use agentos_ccc_client::{Metrics, Recorder, RecorderConfig, SessionStart, TurnInput};
/// # fn example(metrics: impl Metrics + 'static) -> Result<(), agentos_ccc_client::Error> {
/// let mut rec = Recorder::open(RecorderConfig::from_env(None)?, metrics)?;
/// rec.start_session(SessionStart { repo_id: "r".into(), branch: "main".into(),
///     commit: "abc".into(), ..Default::default() })?;
/// rec.log_turn(TurnInput { model: "claude-sonnet-4.5".into(), tokens_in: 10,
///     tokens_out: 20, ..Default::default() })?;
/// rec.end_session(None)?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Recorder {
    config: RecorderConfig,
    events: JsonlLog,
    windows: JsonlLog,
    glm: JsonlLog,
    outbox: Outbox,
    metrics: Arc<dyn Metrics>,
    active: Option<ActiveSession>,
    gate: OnceCell<UploadGate>,
    timeouts: Timeouts,
    flush_budget: Duration,
    auto_flush: bool,
}

impl Recorder {
    /// Open the data dir (created if missing) and restore the active session, if any.
    /// `metrics` computes the window record and the summary (an adapter over
    /// `agentos-rollup`; this crate computes no metrics itself).
    pub fn open(
        config: RecorderConfig,
        metrics: impl Metrics + 'static,
    ) -> Result<Recorder, Error> {
        let dir = config.data_dir.clone();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create directory", &dir, e))?;
        let state = StateFiles::in_data_dir(&dir);
        let active = state.active()?;
        let events = JsonlLog::new(dir.join("events.jsonl"));
        Ok(Recorder {
            outbox: Outbox::new(dir.join("outbox"))
                .with_event_log(events.clone(), state.active_path()),
            events,
            windows: JsonlLog::new(dir.join("windows.jsonl")),
            glm: JsonlLog::new(dir.join("glm_counts.jsonl")),
            metrics: Arc::new(metrics),
            config,
            active,
            gate: OnceCell::new(),
            timeouts: Timeouts::default(),
            flush_budget: Duration::from_secs(20),
            auto_flush: true,
        })
    }

    /// Use these HTTP timeouts.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Bound each automatic flush (after `end_session` / `upload_minimized_metrics`).
    pub fn with_flush_budget(mut self, budget: Duration) -> Self {
        self.flush_budget = budget;
        self
    }

    /// Whether `end_session` / `upload_minimized_metrics` try one delivery right after
    /// queueing (default on). Off: only [`Recorder::flush`] sends.
    pub fn with_auto_flush(mut self, on: bool) -> Self {
        self.auto_flush = on;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &RecorderConfig {
        &self.config
    }

    /// `<data_dir>/events.jsonl`.
    pub fn events_path(&self) -> Utf8PathBuf {
        self.events.path().to_owned()
    }

    /// `<data_dir>/windows.jsonl`.
    pub fn windows_path(&self) -> Utf8PathBuf {
        self.windows.path().to_owned()
    }

    /// `<data_dir>/glm_counts.jsonl`.
    pub fn glm_counts_path(&self) -> Utf8PathBuf {
        self.glm.path().to_owned()
    }

    /// `<data_dir>/metrics_summary.json`.
    pub fn summary_path(&self) -> Utf8PathBuf {
        self.config.data_dir.join("metrics_summary.json")
    }

    /// The data dir's state files (shared with the outbox).
    fn state(&self) -> StateFiles {
        StateFiles::in_data_dir(&self.config.data_dir)
    }

    /// The outbox (used in every tier but `local`).
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The active session, if one is open (possibly started by another process).
    pub fn active_session(&self) -> Option<&SessionId> {
        self.active.as_ref().map(|a| &a.session_id)
    }

    /// Load and verify the installed license and check the tier's entitlement. `Ok(None)`
    /// in the `local` tier (no license is read at all).
    pub fn license_handshake(&self) -> Result<Option<VerifiedLicense>, Error> {
        let Some(entitlement) = self.config.tier.required_entitlement() else {
            return Ok(None);
        };
        let license = agentos_licensing::load_installed(&self.config.license)?;
        license.check_entitlement(entitlement)?;
        Ok(Some(license))
    }

    /// Whether uploads are allowed (license checked once per recorder).
    pub fn upload_gate(&self) -> &UploadGate {
        self.gate.get_or_init(|| {
            let tier = self.config.tier;
            match (self.license_handshake(), tier.required_entitlement()) {
                (Ok(Some(lic)), Some(entitlement)) => UploadGate::Allowed {
                    entitlement,
                    plan: lic.claims().plan.clone(),
                    kid: lic.kid().to_owned(),
                },
                (Ok(_), _) => UploadGate::LocalOnly,
                (Err(e), _) => {
                    // `Error::License` displays as "uploads denied: …"; say that only once.
                    let why = match e {
                        Error::License(inner) => inner.to_string(),
                        other => other.to_string(),
                    };
                    UploadGate::Denied {
                        message: format!(
                            "uploads denied for the {tier} tier: {why}; recording locally only, nothing is queued"
                        ),
                    }
                }
            }
        })
    }

    fn uploads_allowed(&self) -> bool {
        matches!(self.upload_gate(), UploadGate::Allowed { .. })
    }

    /// Recompute `metrics_summary.json` from `events.jsonl` and, in the minimized/full tiers
    /// with a valid license, queue its aggregate projection and try one bounded delivery.
    pub fn upload_minimized_metrics(&mut self) -> Result<(), Error> {
        self.upload_metrics_report().map(|_| ())
    }

    /// [`Recorder::upload_minimized_metrics`], saying what happened.
    pub fn upload_metrics_report(&mut self) -> Result<(UploadOutcome, MetricsSummary), Error> {
        let summary = self.refresh_summary()?;
        Ok((self.queue_summary(&summary)?, summary))
    }

    /// Roll `events.jsonl` up and write `metrics_summary.json` (atomically), through the
    /// [`Metrics`] engine (the rollup resumes from its checkpoint in the data dir, so only
    /// what was appended since is read).
    pub fn refresh_summary(&self) -> Result<MetricsSummary, Error> {
        self.metrics
            .refresh_summary(&self.config.data_dir, &self.events_path(), &self.summary_path())
            .map_err(Error::Metrics)
    }

    fn queue_summary(&self, summary: &MetricsSummary) -> Result<UploadOutcome, Error> {
        // What the tier may send is privacy's decision; the license gate comes second.
        let Some(payload) = agentos_privacy::summary_payload(self.config.tier, summary) else {
            return Ok(UploadOutcome::LocalOnly);
        };
        if let UploadGate::Denied { message } = self.upload_gate() {
            return Ok(UploadOutcome::Denied(message.clone()));
        }
        let key = self.outbox.enqueue_metrics(&payload)?;
        let flush = if self.auto_flush { self.flush(false)? } else { None };
        Ok(UploadOutcome::Queued { key, flush })
    }

    /// Try to deliver the outbox now (bounded by the flush budget). `None` when this tier or
    /// license sends nothing (no socket is opened). `force` ignores backoff and
    /// `Retry-After` schedules.
    pub fn flush(&self, force: bool) -> Result<Option<FlushReport>, Error> {
        let tier = self.config.tier;
        if !tier.uses_network() || !self.uploads_allowed() {
            return Ok(None);
        }
        let sender = Sender::new(&self.config.base_url, self.config.api_key.clone(), self.timeouts)
            .with_cleartext(self.config.cleartext);
        let opts = FlushOptions {
            allow_events: tier.uploads_events(),
            allow_metrics: tier.uploads_summary(),
            force,
            budget: self.flush_budget,
        };
        self.outbox.flush(&sender, &opts).map(Some)
    }

    /// The outbox status (reads only).
    pub fn outbox_status(&self) -> Result<OutboxStatus, Error> {
        self.outbox.status()
    }

    /// What the current tier would upload, computed without sending or writing anything.
    pub fn preview(&self) -> Result<Preview, Error> {
        let tier = self.config.tier;
        let gate = self.upload_gate().clone();
        let mut payloads = Vec::new();
        if tier.uses_network() {
            for batch in self.outbox.pending()? {
                let allowed = if batch.kind.carries_events() {
                    tier.uploads_events()
                } else {
                    tier.uploads_summary()
                };
                if allowed {
                    payloads.push(PreviewPayload {
                        route: batch.kind.route(),
                        source: format!("pending batch {}", batch.key),
                        body: batch.body,
                    });
                }
            }
            if tier.uploads_events() {
                let queued = self.outbox.queued_events()?;
                for chunk in queued.chunks(BATCH_MAX_EVENTS) {
                    payloads.push(PreviewPayload {
                        route: crate::outbox::EVENTS_ROUTE,
                        source: "queued events (batched at the next flush)".to_owned(),
                        body: json!({
                            "idempotency_key": "<assigned when batched>",
                            "schema_version": SCHEMA_VERSION,
                            "events": chunk,
                        }),
                    });
                }
            }
            let summary = self.metrics.summary(&self.events_path()).map_err(Error::Metrics)?;
            if let Some(summary) = agentos_privacy::summary_payload(tier, &summary) {
                payloads.push(PreviewPayload {
                    route: crate::outbox::METRICS_ROUTE,
                    source: "summary the next `upload-metrics` or `session end` would queue"
                        .to_owned(),
                    body: json!({
                        "idempotency_key": "<assigned when queued>",
                        "summary": summary,
                    }),
                });
            }
        }
        Ok(Preview { tier, gate, payloads })
    }

    /// Full tier with a license that allows uploads.
    fn uploads_events(&self) -> bool {
        self.config.tier.uploads_events() && self.uploads_allowed()
    }

    /// Validate and append locally (always); then, full tier and licensed only, let the
    /// outbox catch up with the log (which queues the redacted form of this event and of
    /// anything an interrupted earlier call appended but did not queue). Other tiers touch
    /// no outbox file. Only what can fail before the append fails the call: once the line
    /// is written, an outbox that cannot catch up (read-only, disk full) is left to catch up
    /// later, so a retry never records the event twice.
    fn record(&self, event: &Event) -> Result<(), Error> {
        let upload = self.uploads_events();
        if upload {
            self.outbox.ensure_watermark()?;
        }
        append_validated(&self.events, SchemaKind::V1Event, "event", event)?;
        if upload {
            // The event is recorded: the log is the truth, and the outbox catches up from it
            // at the next recording or flush. Failing here would make the caller retry and
            // record the event twice.
            let _ = self.outbox.catch_up();
        }
        Ok(())
    }
}

/// Whether a model is a GLM model: its provider in the model table is Z.ai
/// (`agentos_event_schema::provider::is_glm_model`; `glm/4.6` and `z.ai/glm-4.6` both are).
pub fn is_glm(model: &str) -> bool {
    agentos_event_schema::provider::is_glm_model(model)
}

/// Validate `record` against `kind`'s schema, then append it as one line.
/// A fresh envelope whose `ts` is when the event happened (now, unless recorded after the
/// fact).
fn envelope_at(ts: Timestamp) -> Envelope {
    Envelope { ts: Some(ts), ..Envelope::now() }
}

fn append_validated<T: Serialize>(
    log: &JsonlLog,
    kind: SchemaKind,
    what: &'static str,
    record: &T,
) -> Result<(), Error> {
    log.append_line(&validated_line(kind, what, record)?)
}

fn validated_line<T: Serialize>(
    kind: SchemaKind,
    what: &'static str,
    record: &T,
) -> Result<String, Error> {
    let value = serde_json::to_value(record).map_err(|source| Error::Encode { what, source })?;
    let violations = validate::validate(kind, &value);
    if !violations.is_empty() {
        let details: Vec<String> = violations.iter().map(|v| v.to_string()).collect();
        return Err(Error::Invalid { kind: what, details: details.join("; ") });
    }
    Ok(value.to_string())
}

/// The `events.jsonl` line for `event`: schema-validated, compact JSON, no newline. For
/// writers that hold an [`crate::Appender`] across a batch.
pub fn event_line(event: &Event) -> Result<String, Error> {
    validated_line(SchemaKind::V1Event, "event", event)
}

/// Validate an event and append it to `log` (the path the recorder uses for every event).
pub fn append_event(log: &JsonlLog, event: &Event) -> Result<(), Error> {
    append_validated(log, SchemaKind::V1Event, "event", event)
}
