//! `agentos session start|turn|end`, `upload-metrics`, `outbox status|flush`,
//! `privacy preview`: the recorder from the command line. Configuration comes from the
//! environment (`PRIVACY_TIER`, `AGENTOS_CCC_BASE_URL`, `CCC_API_KEY`, `LICENSE_PACK_PATH`,
//! `AGENTOS_DATA_DIR`); `--tier`, `--base-url` and `--data-dir` override it.

use std::collections::BTreeMap;
use std::process::ExitCode;

use agentos_ccc_client::{
    Cost, Feature, FeatureStatus, FlushReport, InputKind, Measurement, Outcome, OutcomeKind,
    PrivacyTier, Recorder, RecorderConfig, SessionStart, TurnInput, UploadGate, UploadOutcome,
    Value,
};
use agentos_event_schema::provider::provider_for_model;
use agentos_privacy::TierPolicy;
use anyhow::{Context, bail};

use crate::Global;

mod words;

use words::{count, explain};

/// Flags that override the upload configuration from the environment.
#[derive(Debug, Clone, clap::Args)]
pub struct UploadFlags {
    /// Privacy tier: local, minimized or full (default: $PRIVACY_TIER, else local).
    #[arg(long, value_name = "TIER")]
    pub tier: Option<PrivacyTier>,
    /// CCC base URL (default: $AGENTOS_CCC_BASE_URL, else http://127.0.0.1:8082).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
}

/// Session commands.
#[derive(Debug, clap::Subcommand)]
pub enum SessionCmd {
    /// Start a session; prints its id. The session stays active across invocations.
    ///
    /// One session at a time per data dir: while one is active, `start` fails (whatever
    /// --session-id says); run parallel sessions in separate --data-dir directories.
    Start(StartArgs),
    /// Log one turn of the active session; prints the turn id.
    ///
    /// Numbers are checked before anything is written: costs, latencies and measurements
    /// within ±1e15 (costs, latency, impf ≥ 0), --capacity a share of the weekly quota (0 to 1;
    /// a prompt count for GLM / Z.ai), --attribution weights 0 to 1 summing to at most 1.
    Turn(Box<TurnArgs>),
    /// End the active session: window record, metrics summary, and (minimized/full) queue
    /// the summary upload and try to deliver it. Ends it once: a second `end` finds no active
    /// session; an `end` retried after a failure appends nothing twice.
    End(EndArgs),
}

/// Arguments of `session start`.
#[derive(Debug, clap::Args)]
pub struct StartArgs {
    /// Repository identifier (not a path).
    #[arg(long)]
    pub repo_id: String,
    /// Branch.
    #[arg(long)]
    pub branch: String,
    /// Commit the session starts from.
    #[arg(long)]
    pub commit: String,
    /// Use this session id instead of a fresh UUID: 1 to 128 ASCII letters, digits, '-',
    /// '_', '.' or ':'.
    #[arg(long)]
    pub session_id: Option<String>,
    /// Metadata label, `key=value` (repeatable).
    #[arg(long = "meta", value_name = "K=V")]
    pub meta: Vec<String>,
    #[command(flatten)]
    pub upload: UploadFlags,
}

/// Arguments of `session turn`.
#[derive(Debug, clap::Args)]
pub struct TurnArgs {
    /// Model name (e.g. claude-sonnet-4.5, glm/4.6).
    #[arg(long)]
    pub model: String,
    /// Agent or subagent that made the call.
    #[arg(long, default_value = "main")]
    pub subagent: String,
    /// Input tokens.
    #[arg(long)]
    pub tokens_in: u64,
    /// Output tokens.
    #[arg(long)]
    pub tokens_out: u64,
    /// Input kind.
    #[arg(long, value_enum, default_value_t = InputKindArg::Text)]
    pub input_kind: InputKindArg,
    /// Latency in milliseconds.
    #[arg(long, default_value_t = 0.0)]
    pub latency_ms: f64,
    /// Capacity consumed: the share (0 to 1) of the provider's weekly quota; for GLM / Z.ai,
    /// the number of prompts.
    #[arg(long)]
    pub capacity: Option<f64>,
    /// Cognitive Load Score (measurement: give --cls, --impf, --churn, --feature-delta together).
    #[arg(long)]
    pub cls: Option<f64>,
    /// Interaction minutes per feature.
    #[arg(long)]
    pub impf: Option<f64>,
    /// Churn score.
    #[arg(long)]
    pub churn: Option<f64>,
    /// Features completed by this turn.
    #[arg(long)]
    pub feature_delta: Option<f64>,
    /// Feature worked on.
    #[arg(long, requires = "feature_status")]
    pub feature_id: Option<String>,
    /// Feature status after the turn: proposed, implemented or shipped.
    #[arg(long, requires = "feature_id")]
    pub feature_status: Option<String>,
    /// Where the feature is specified.
    #[arg(long, requires = "feature_id")]
    pub spec_ref: Option<String>,
    /// Value attribution, `MODEL=WEIGHT` (repeatable): weights 0 to 1, summing to at most 1.
    #[arg(long = "attribution", value_name = "MODEL=W")]
    pub attribution: Vec<String>,
    /// Record the turn under this id (safe to retry: a turn already logged under this id in
    /// the session is not logged again). Default: a fresh UUID.
    #[arg(long)]
    pub turn_id: Option<String>,
    /// Estimated cost in US dollars.
    #[arg(long)]
    pub cost_usd: Option<f64>,
    /// Who was paid (default: the model's provider from the model table, e.g.
    /// claude-* → anthropic, gpt-*/o1/o3 → openai, glm-* → zai; see `agentos paths`).
    #[arg(long, requires = "cost_usd")]
    pub provider: Option<String>,
    /// Outcome kind: tests_passed, pr_merged, bug_fixed, feature_shipped, docs_written, other.
    #[arg(long)]
    pub value_kind: Option<String>,
    /// What was achieved, in words.
    #[arg(long)]
    pub value_summary: Option<String>,
    /// Link to the outcome (repeatable).
    #[arg(long = "value-link", value_name = "URL")]
    pub value_links: Vec<String>,
    #[command(flatten)]
    pub upload: UploadFlags,
}

/// `--input-kind` values (the v1 `InputKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputKindArg {
    /// Text prompt.
    Text,
    /// Image input.
    Image,
    /// Anything else.
    Other,
}

impl From<InputKindArg> for InputKind {
    fn from(k: InputKindArg) -> Self {
        match k {
            InputKindArg::Text => InputKind::Text,
            InputKindArg::Image => InputKind::Image,
            InputKindArg::Other => InputKind::Other,
        }
    }
}

/// Arguments of `session end`.
#[derive(Debug, clap::Args)]
pub struct EndArgs {
    /// Free-text notes.
    #[arg(long)]
    pub notes: Option<String>,
    #[command(flatten)]
    pub upload: UploadFlags,
}

/// Arguments of `upload-metrics`.
#[derive(Debug, clap::Args)]
pub struct UploadMetricsArgs {
    #[command(flatten)]
    pub upload: UploadFlags,
}

/// Outbox commands.
#[derive(Debug, clap::Subcommand)]
pub enum OutboxCmd {
    /// Pending and dead-lettered uploads, and the last error.
    Status(OutboxStatusArgs),
    /// Try to deliver everything pending now.
    Flush(OutboxFlushArgs),
}

/// Arguments of `outbox status`.
#[derive(Debug, clap::Args)]
pub struct OutboxStatusArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub upload: UploadFlags,
}

/// Arguments of `outbox flush`.
#[derive(Debug, clap::Args)]
pub struct OutboxFlushArgs {
    /// Ignore backoff and Retry-After schedules.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub upload: UploadFlags,
}

/// Privacy commands.
#[derive(Debug, clap::Subcommand)]
pub enum PrivacyCmd {
    /// Print the exact payloads the current tier would upload; sends nothing.
    Preview(PreviewArgs),
}

/// Arguments of `privacy preview`.
#[derive(Debug, clap::Args)]
pub struct PreviewArgs {
    /// Print JSON `{"tier","uploads","message","payloads":[{"route","source","body"}]}`.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub upload: UploadFlags,
}

fn recorder(global: &Global, flags: &UploadFlags) -> anyhow::Result<Recorder> {
    let mut config = RecorderConfig::from_env(global.data_dir.clone())?;
    if let Some(tier) = flags.tier {
        config.tier = tier;
    }
    if let Some(url) = &flags.base_url {
        config.set_base_url(url)?;
    }
    config.cleartext = global.cleartext();
    Ok(Recorder::open(config, crate::metrics::RollupMetrics)?)
}

/// `--value-kind`: a known outcome kind only (the events we write carry known values; an
/// unknown kind is only tolerated on read).
fn known_outcome_kind(s: &str) -> anyhow::Result<OutcomeKind> {
    let kind = OutcomeKind::from(s);
    if !kind.is_known() {
        anyhow::bail!("unknown outcome kind {s:?}: use one of {}", OutcomeKind::KNOWN.join(", "));
    }
    Ok(kind)
}

fn pairs(items: &[String], flag: &str) -> anyhow::Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|item| match item.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
            _ => bail!("{flag} {item:?} must look like KEY=VALUE"),
        })
        .collect()
}

pub fn run(cmd: SessionCmd, global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {
        SessionCmd::Start(a) => start(a, global),
        SessionCmd::Turn(a) => turn(*a, global),
        SessionCmd::End(a) => end(a, global),
    }
}

fn start(a: StartArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let mut rec = recorder(global, &a.upload)?;
    if let UploadGate::Denied { message } = rec.upload_gate() {
        eprintln!("{message}");
    }
    let metadata: BTreeMap<String, String> = pairs(&a.meta, "--meta")?.into_iter().collect();
    let id = rec
        .start_session(SessionStart {
            repo_id: a.repo_id,
            branch: a.branch,
            commit: a.commit,
            session_id: a.session_id.map(Into::into),
            metadata,
            started_at: None,
        })
        .map_err(explain)?;
    outln!("{id}");
    Ok(ExitCode::SUCCESS)
}

fn turn(a: TurnArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let measurement = match (a.cls, a.impf, a.churn, a.feature_delta) {
        (None, None, None, None) => None,
        (Some(cls), Some(impf), Some(churn_score), Some(feature_delta)) => Some(Measurement {
            cls,
            impf,
            churn_score,
            feature_delta,
            errors: Vec::new(),
            extra: Default::default(),
        }),
        _ => {
            bail!("--cls, --impf, --churn and --feature-delta form one measurement: give all four")
        }
    };
    let feature = match (a.feature_id, a.feature_status) {
        (Some(id), Some(status)) => Some(Feature {
            feature_id: id.into(),
            spec_ref: a.spec_ref.unwrap_or_default(),
            status: status.parse::<FeatureStatus>().map_err(anyhow::Error::msg)?,
            notes: None,
            extra: Default::default(),
        }),
        _ => None,
    };
    let cost = a.cost_usd.map(|usd| Cost {
        provider: a.provider.clone().unwrap_or_else(|| provider_for_model(&a.model).to_owned()),
        unit_costs: BTreeMap::new(),
        estimated_usd: usd,
        price_table: None,
        extra: Default::default(),
    });
    let outcome = a
        .value_kind
        .as_deref()
        .map(known_outcome_kind)
        .transpose()?
        .map(|kind| Outcome { kind, count: 1, extra: Default::default() });
    let value = (a.value_summary.is_some() || !a.value_links.is_empty()).then(|| Value {
        summary: a.value_summary.unwrap_or_default(),
        links: a.value_links,
        evidence_refs: Vec::new(),
        extra: Default::default(),
    });
    let mut attribution = BTreeMap::new();
    for (model, w) in pairs(&a.attribution, "--attribution")? {
        let w: f64 = w
            .parse()
            .with_context(|| format!("--attribution {model}={w}: weight is not a number"))?;
        attribution.insert(model, w);
    }
    let mut rec = recorder(global, &a.upload)?;
    let input = TurnInput {
        model: a.model,
        subagent: a.subagent,
        tokens_in: a.tokens_in,
        tokens_out: a.tokens_out,
        input_kind: a.input_kind.into(),
        latency_ms: a.latency_ms,
        capacity_used: a.capacity,
        attribution,
        measurement,
        feature,
        cost,
        value,
        outcome,
        decision: None,
        at: None,
    };
    let id = match a.turn_id {
        Some(id) => rec.log_turn_as(id.into(), input),
        None => rec.log_turn(input),
    }
    .map_err(explain)?;
    outln!("{id}");
    Ok(ExitCode::SUCCESS)
}

fn end(a: EndArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let mut rec = recorder(global, &a.upload)?;
    let report = rec.finish_session(a.notes).map_err(explain)?;
    for d in &report.diagnostics {
        eprintln!("warning: {d}");
    }
    let fpc = report.summary.features_per_capacity.map_or("n/a".to_owned(), |v| format!("{v:.4}"));
    outln!(
        "ended session {} ({}); {} written (features_per_capacity {fpc})",
        report.session_id,
        count(report.window.providers.len() as u64, "provider", "providers"),
        rec.summary_path()
    );
    print_upload(&report.upload);
    Ok(ExitCode::SUCCESS)
}

/// Print what happened to an upload; returns whether it was denied.
fn print_upload(outcome: &UploadOutcome) -> bool {
    match outcome {
        UploadOutcome::LocalOnly => outln!("local tier: nothing sent"),
        UploadOutcome::Denied(message) => {
            eprintln!("{message}");
            return true;
        }
        UploadOutcome::Queued { key, flush } => {
            outln!("queued metrics upload {key}");
            if let Some(report) = flush {
                print_flush(report);
            }
        }
    }
    false
}

fn print_flush(report: &FlushReport) {
    let batches = |n: usize| count(n as u64, "batch", "batches");
    if !report.delivered.is_empty() {
        outln!("delivered {}", batches(report.delivered.len()));
    }
    if !report.dead_lettered.is_empty() {
        eprintln!("dead-lettered {} rejected by CCC", batches(report.dead_lettered.len()));
    }
    if let Some(p) = &report.problem {
        eprintln!("{}", crate::hints::failure(p));
    }
    if report.waiting > 0 {
        let when = report.next_attempt_at.map(|t| t.to_string()).unwrap_or_default();
        outln!("{} waiting for their retry time {when}", batches(report.waiting));
    }
    if report.held > 0 {
        outln!("{} held: the current tier does not send them", batches(report.held));
    }
    outln!("{} pending", batches(report.remaining));
}

pub fn upload_metrics(args: UploadMetricsArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let mut rec = recorder(global, &args.upload)?;
    let (outcome, _) = rec.upload_metrics_report()?;
    outln!("{} written", rec.summary_path());
    let denied = print_upload(&outcome);
    Ok(if denied { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

pub fn run_outbox(cmd: OutboxCmd, global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {
        OutboxCmd::Status(a) => {
            let rec = recorder(global, &a.upload)?;
            let st = rec.outbox_status()?;
            let events = st
                .pending
                .iter()
                .filter(|b| b.kind == agentos_ccc_client::BatchKind::Events)
                .count();
            if a.json {
                let v = serde_json::json!({
                    "tier": rec.config().tier,
                    "pending_batches": st.pending.len(),
                    "pending_event_batches": events,
                    "pending_metrics_batches": st.pending.len() - events,
                    "queued_events": st.queued_events,
                    "dead_lettered": st.dead_lettered,
                    "not_uploaded_tier_unknown": st.not_uploaded_tier_unknown,
                    "unreadable_lines": st.unreadable_lines,
                    "delivered_batches": st.delivered_batches,
                    "last_error": st.last_error,
                    "last_success_at": st.last_success_at,
                    "next_attempt_at": st.pending.iter().filter_map(|b| b.next_attempt_at).min(),
                });
                outln!("{}", serde_json::to_string_pretty(&v)?);
                return Ok(ExitCode::SUCCESS);
            }
            outln!("tier: {}", rec.config().tier);
            if !rec.config().tier.uses_network() {
                outln!("local tier: nothing is queued or sent");
            }
            outln!(
                "pending: {} ({events} event, {} metrics), {} not yet batched",
                count(st.pending.len() as u64, "batch", "batches"),
                st.pending.len() - events,
                count(st.queued_events as u64, "event", "events")
            );
            outln!(
                "dead-lettered: {} (in {}/dead)",
                count(st.dead_lettered as u64, "batch", "batches"),
                rec.outbox().dir()
            );
            outln!("delivered: {}", count(st.delivered_batches, "batch", "batches"));
            if st.not_uploaded_tier_unknown > 0 {
                outln!(
                    "not uploaded: tier unknown: {} whose session's privacy tier is unknown",
                    count(st.not_uploaded_tier_unknown, "event", "events")
                );
            }
            if st.unreadable_lines > 0 {
                outln!(
                    "not uploaded: unreadable: {} of events.jsonl",
                    count(st.unreadable_lines, "line", "lines")
                );
            }
            match &st.last_error {
                Some(e) => outln!("last error: {} {}", e.at, e.message),
                None => outln!("last error: none"),
            }
            if let Some(next) = st.pending.iter().filter_map(|b| b.next_attempt_at).min() {
                outln!("next attempt: {next}");
            }
            Ok(ExitCode::SUCCESS)
        }
        OutboxCmd::Flush(a) => {
            let rec = recorder(global, &a.upload)?;
            match rec.upload_gate() {
                UploadGate::LocalOnly => {
                    outln!("local tier: nothing is sent");
                    return Ok(ExitCode::SUCCESS);
                }
                UploadGate::Denied { message } => {
                    eprintln!("{message}");
                    return Ok(ExitCode::from(1));
                }
                UploadGate::Allowed { .. } => {}
            }
            let Some(report) = rec.flush(a.force)? else {
                outln!("nothing is sent in this tier");
                return Ok(ExitCode::SUCCESS);
            };
            print_flush(&report);
            let ok = report.problem.is_none() && report.dead_lettered.is_empty();
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}

pub fn run_privacy(cmd: PrivacyCmd, global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {
        PrivacyCmd::Preview(a) => {
            let rec = recorder(global, &a.upload)?;
            let preview = rec.preview()?;
            // Payloads are shown only when uploads are allowed: a denied tier sends nothing.
            let (uploads, message, payloads) = match &preview.gate {
                UploadGate::LocalOnly => (
                    "local",
                    "local tier: nothing would be sent (no outbox, no network)".to_owned(),
                    &[][..],
                ),
                UploadGate::Denied { message } => {
                    ("denied", format!("{message}; nothing would be sent"), &[][..])
                }
                UploadGate::Allowed { entitlement, plan, kid } => (
                    "allowed",
                    format!(
                        "uploads allowed: license plan {plan} (key {kid}) grants {entitlement}"
                    ),
                    &preview.payloads[..],
                ),
            };
            if a.json {
                let payloads: Vec<_> = payloads
                    .iter()
                    .map(|p| serde_json::json!({"route": p.route, "source": p.source, "body": p.body}))
                    .collect();
                let v = serde_json::json!({"tier": preview.tier, "uploads": uploads,
                    "message": message, "base_url": rec.config().base_url, "payloads": payloads});
                outln!("{}", serde_json::to_string_pretty(&v)?);
                return Ok(ExitCode::SUCCESS);
            }
            outln!("tier: {}", preview.tier);
            outln!("{message}");
            if payloads.is_empty() {
                return Ok(ExitCode::SUCCESS);
            }
            outln!("nothing is sent by this command; payloads in sending order:");
            for p in payloads {
                outln!("\nPOST {}{}  ({})", rec.config().base_url, p.route, p.source);
                outln!("{}", serde_json::to_string_pretty(&p.body)?);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
