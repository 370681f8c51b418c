//! Export to an OpenTelemetry collector: the same outbox machinery as CCC uploads (durable
//! batches, idempotency keys, backoff, dead letters), in its own directory
//! `<data_dir>/otel-outbox/` with OTLP bodies, under the same privacy tier and license gate.
//!
//! `local` sends nothing and touches no file; `minimized` sends the summary's aggregate figures
//! as metrics; `full` also sends the turns of full-tier sessions, redacted, as log records, and
//! the per-model figures privacy allows.
//! The first export sweeps up the history already recorded (its watermark starts at the
//! beginning of `events.jsonl`); later ones send what was appended since.

use agentos_otel::ExportOptions;
use agentos_privacy::TierPolicy;

use super::{Recorder, UploadGate};
use crate::Error;
use crate::config::OtlpConfig;
use crate::http::Sender;
use crate::outbox::{BatchKind, FlushOptions, FlushReport, Outbox, Target};

/// What an export did.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum OtlpExport {
    /// `local` tier: nothing sent, nothing queued, no socket opened.
    LocalOnly,
    /// The license does not allow uploads in this tier (one line why); nothing queued.
    Denied(String),
    /// Queued and delivered as far as the collector allowed.
    Done(OtlpReport),
}

/// The numbers of an export.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OtlpReport {
    /// Events newly queued from `events.jsonl` (full tier).
    pub events_queued: usize,
    /// The key of the metrics batch queued now (`None` when one was still pending).
    pub metrics_key: Option<String>,
    /// The delivery attempt.
    pub flush: FlushReport,
}

impl Recorder {
    /// The OTLP outbox (`<data_dir>/otel-outbox/`) with these export options.
    pub fn otlp_outbox(&self, options: ExportOptions) -> Outbox {
        Outbox::new(self.config.data_dir.join("otel-outbox"))
            .with_event_log(self.events.clone(), self.state().active_path())
            .with_target(Target::Otlp(options))
    }

    /// Queue what the tier allows for `otlp` (new full-tier events; the current summary's
    /// figures unless a metrics batch is still waiting) and try to deliver it, bounded by the
    /// flush budget. `force` ignores backoff schedules.
    pub fn export_otlp(
        &self,
        otlp: &OtlpConfig,
        options: ExportOptions,
        force: bool,
    ) -> Result<OtlpExport, Error> {
        let tier = self.config.tier;
        if !tier.uses_network() {
            return Ok(OtlpExport::LocalOnly);
        }
        if let UploadGate::Denied { message } = self.upload_gate() {
            return Ok(OtlpExport::Denied(message.clone()));
        }
        let outbox = self.otlp_outbox(options);
        let mut report = OtlpReport::default();
        if tier.uploads_events() {
            // The flush catches up from the log while it delivers.
            outbox.ensure_watermark_at_start()?;
        }
        let summary = self.refresh_summary()?;
        if let Some(payload) = agentos_privacy::summary_payload(tier, &summary) {
            // The figures are cumulative: a newer snapshot makes a waiting one redundant, but
            // the waiting one is kept (its key may already be known to the collector) and
            // the next export sends the newer figures.
            let waiting = outbox.pending_info()?.iter().any(|b| b.kind == BatchKind::OtlpMetrics);
            if !waiting {
                // Model names leave only where privacy says (the full tier).
                let per_model =
                    agentos_privacy::per_model_payload(tier, &summary).unwrap_or_default();
                report.metrics_key = Some(outbox.enqueue_metrics_with(&payload, &per_model)?);
            }
        }
        let sender = Sender::otlp(&otlp.endpoint, otlp.headers.clone(), self.timeouts)
            .with_cleartext(self.config.cleartext);
        let opts = FlushOptions {
            allow_events: tier.uploads_events(),
            allow_metrics: tier.uploads_summary(),
            force,
            budget: self.flush_budget,
        };
        report.flush = outbox.flush(&sender, &opts)?;
        report.events_queued = report.flush.events_queued;
        Ok(OtlpExport::Done(report))
    }
}
