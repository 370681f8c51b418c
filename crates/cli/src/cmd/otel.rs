//! `agentos otel export`, `otel receive`: send AgentOS's numbers to an OpenTelemetry collector (OTLP/HTTP
//! JSON) through the durable outbox, as far as the privacy tier and the license allow.
//! Configuration: `PRIVACY_TIER`, `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`;
//! `--tier`, `--endpoint` override them. `otel receive` records Claude Code's OTLP telemetry.

use std::process::ExitCode;
use std::time::Duration;

use agentos_ccc_client::{
    OtlpConfig, OtlpExport, OtlpReport, PrivacyTier, Receiver, Recorder, RecorderConfig,
};
use agentos_event_schema::Timestamp;
use agentos_otel::ExportOptions;
use anyhow::Context;
use serde_json::json;

use crate::Global;
use crate::cmd::ccc::{parse_duration, parse_since};

/// OpenTelemetry commands.
#[derive(Debug, clap::Subcommand)]
pub enum OtelCmd {
    /// Export to an OTLP/HTTP collector: `minimized` sends the summary's figures as metrics,
    /// `full` also the redacted turns of full-tier sessions as log records, `local` nothing
    /// (no connection is made). Batches wait in <data dir>/otel-outbox until the collector
    /// takes them; a re-run sends what is new and retries what is waiting.
    Export(ExportArgs),
    /// Receive Claude Code's own telemetry (OTLP/HTTP JSON) and record each API request as a
    /// turn in events.jsonl, once: requests already recorded or imported from transcripts are
    /// skipped. Point Claude Code at it with CLAUDE_CODE_ENABLE_TELEMETRY=1,
    /// OTEL_LOGS_EXPORTER=otlp, OTEL_EXPORTER_OTLP_PROTOCOL=http/json and
    /// OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318. Runs until interrupted.
    Receive(ReceiveArgs),
}

/// Arguments of `otel receive`.
#[derive(Debug, clap::Args)]
pub struct ReceiveArgs {
    /// Address to listen on (loopback by default; another address exposes the receiver).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4318")]
    pub listen: std::net::SocketAddr,
    /// Largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, value_name = "BYTES", default_value_t = agentos_ccc_client::receiver::DEFAULT_MAX_BODY)]
    pub max_body: usize,
    /// Privacy tier recorded on sessions first seen here (default: $PRIVACY_TIER, else local).
    #[arg(long, value_name = "TIER")]
    pub tier: Option<PrivacyTier>,
    /// Print one JSON object per request (`{"status","recorded","duplicates","rejected",
    /// "ignored","reason"}`) after a first `{"listening": ADDR}`.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `otel export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// OTLP/HTTP endpoint; /v1/logs and /v1/metrics are appended (default:
    /// $OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318). Headers come from
    /// $OTEL_EXPORTER_OTLP_HEADERS (key=value,…).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Leave out turns before this time: YYYY-MM-DD (UTC), RFC 3339, epoch seconds or an age
    /// such as 7d. Applies to turns not exported yet.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Keep running: export what is new every --interval until interrupted.
    #[arg(long)]
    pub follow: bool,
    /// Pause between exports with --follow.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub interval: String,
    /// Retry waiting batches now, ignoring their backoff.
    #[arg(long)]
    pub force: bool,
    /// Privacy tier: local, minimized or full (default: $PRIVACY_TIER, else local).
    #[arg(long, value_name = "TIER")]
    pub tier: Option<PrivacyTier>,
    /// Print JSON `{"tier","exported","message","events_queued","metrics_key","delivered",
    /// "pending","problem"}` (one line per round with --follow).
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: OtelCmd, global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {
        OtelCmd::Export(a) => export(&a, global),
        OtelCmd::Receive(a) => receive(&a, global),
    }
}

/// `--since`: a UTC day, or what `ccc samples --since` takes.
fn since(text: &str) -> anyhow::Result<Timestamp> {
    let t = text.trim();
    let secs = match t.parse::<jiff::civil::Date>() {
        Ok(day) => day.to_zoned(jiff::tz::TimeZone::UTC)?.timestamp().as_second() as f64,
        Err(_) => parse_since(t)?,
    };
    Timestamp::from_unix_seconds_f64(secs).with_context(|| format!("--since {t:?} is out of range"))
}

fn export(a: &ExportArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let mut config = RecorderConfig::from_env(global.data_dir.clone())?;
    if let Some(tier) = a.tier {
        config.tier = tier;
    }
    config.cleartext = global.cleartext();
    let tier = config.tier;
    let otlp = OtlpConfig::from_vars(a.endpoint.as_deref(), &|n| std::env::var(n).ok())?;
    let options = ExportOptions {
        since: a.since.as_deref().map(since).transpose()?,
        ..ExportOptions::default()
    };
    let interval = parse_duration(&a.interval)?;
    let rec = Recorder::open(config, crate::metrics::RollupMetrics)?;
    loop {
        let outcome = rec.export_otlp(&otlp, options.clone(), a.force)?;
        let code = print(&outcome, tier, &otlp, a.json);
        let finished = !matches!(outcome, OtlpExport::Done(_));
        if !a.follow || finished {
            return Ok(code);
        }
        std::thread::sleep(interval.max(Duration::from_millis(100)));
    }
}

fn print(outcome: &OtlpExport, tier: PrivacyTier, otlp: &OtlpConfig, as_json: bool) -> ExitCode {
    let (message, code, report) = match outcome {
        OtlpExport::LocalOnly => (
            "local tier: nothing exported (no connection made)".to_owned(),
            ExitCode::SUCCESS,
            None,
        ),
        OtlpExport::Denied(m) => (m.clone(), ExitCode::from(1), None),
        OtlpExport::Done(r) => (done_message(r, &otlp.endpoint), done_code(r), Some(r)),
        _ => ("nothing exported".to_owned(), ExitCode::SUCCESS, None),
    };
    if as_json {
        let v = json!({
            "tier": tier.to_string(),
            "exported": report.is_some(),
            "message": message,
            "endpoint": otlp.endpoint,
            "events_queued": report.map(|r| r.events_queued),
            "metrics_key": report.and_then(|r| r.metrics_key.clone()),
            "delivered": report.map(|r| r.flush.delivered.len()),
            "dead_lettered": report.map(|r| r.flush.dead_lettered.len()),
            "pending": report.map(|r| r.flush.remaining),
            "problem": report.and_then(|r| r.flush.problem.as_ref().map(crate::hints::failure)),
        });
        outln!("{v}");
    } else if report.is_some_and(|r| r.flush.problem.is_some()) || code != ExitCode::SUCCESS {
        eprintln!("{message}");
    } else {
        outln!("{message}");
    }
    code
}

/// 1 when something was not delivered (rejected, or the collector is unreachable or failing:
/// the batches stay queued), like `outbox flush`.
fn done_code(r: &OtlpReport) -> ExitCode {
    if r.flush.dead_lettered.is_empty() && r.flush.problem.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn done_message(r: &OtlpReport, endpoint: &str) -> String {
    let batches = |n: usize| if n == 1 { "1 batch".to_owned() } else { format!("{n} batches") };
    let mut line = format!(
        "{} queued, {} delivered to {endpoint}, {} pending",
        crate::plural(r.events_queued as u64, "event"),
        batches(r.flush.delivered.len()),
        batches(r.flush.remaining),
    );
    if !r.flush.dead_lettered.is_empty() {
        line.push_str(&format!(
            "; {} rejected by the collector (kept in otel-outbox/dead)",
            batches(r.flush.dead_lettered.len())
        ));
    }
    if let Some(p) = &r.flush.problem {
        line.push_str(&format!("; {}", crate::hints::failure(p)));
    }
    line
}

fn receive(a: &ReceiveArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let mut config = RecorderConfig::from_env(global.data_dir.clone())?;
    if let Some(tier) = a.tier {
        config.tier = tier;
    }
    let mut receiver =
        Receiver::bind(a.listen, &config.data_dir, config.tier)?.with_max_body(a.max_body);
    let addr = receiver.local_addr()?;
    if !addr.ip().is_loopback() {
        eprintln!(
            "warning: listening on {addr}, not loopback: anyone who can reach it can write turns into this data dir"
        );
    }
    if a.json {
        outln!("{}", json!({"listening": addr.to_string()}));
    } else {
        outln!("listening on {addr}, recording into {}", config.data_dir.join("events.jsonl"));
    }
    loop {
        let h = receiver.serve_one()?;
        if a.json {
            outln!(
                "{}",
                json!({"status": h.status, "recorded": h.recorded, "duplicates": h.duplicates,
                    "rejected": h.rejected, "ignored": h.ignored, "reason": h.reason})
            );
        } else if let Some(reason) = &h.reason {
            outln!("{} refused: {reason}", h.status);
        } else {
            outln!(
                "{} recorded, {} already there, {} rejected, {} ignored",
                crate::plural(h.recorded as u64, "turn"),
                h.duplicates,
                h.rejected,
                h.ignored
            );
        }
    }
}
