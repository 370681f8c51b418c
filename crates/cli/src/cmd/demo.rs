//! `agentos demo`: record the bundled sample sessions in the local tier, roll them up and
//! print the report.

use std::collections::BTreeMap;
use std::process::ExitCode;

use agentos_rollup::SummaryOptions;
use agentos_rollup::efficiency::efficiency_file;
use anyhow::Context as _;
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::json;

use super::render::{render_efficiency, render_report, report_json};
use super::rollup::{By, summarize, write_outputs};
use crate::{Global, Source};

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The bundled sample sessions.
const DEMO_SESSIONS: &str = include_str!("../demo_sessions.json");

#[derive(serde::Deserialize)]
struct DemoData {
    sessions: Vec<DemoSession>,
}

#[derive(serde::Deserialize)]
struct DemoSession {
    repo_id: String,
    branch: String,
    commit: String,
    notes: String,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    /// How long before now the session started, so the samples span several days.
    #[serde(default)]
    days_ago: f64,
    turns: Vec<DemoTurn>,
}

#[derive(serde::Deserialize)]
struct DemoTurn {
    model: String,
    subagent: String,
    tokens_in: u64,
    tokens_out: u64,
    input_kind: agentos_event_schema::v1::InputKind,
    latency_ms: f64,
    capacity_used: Option<f64>,
    #[serde(default)]
    attribution: BTreeMap<String, f64>,
    measurement: Option<agentos_event_schema::v1::Measurement>,
    feature: Option<agentos_event_schema::v1::Feature>,
    cost: Option<agentos_event_schema::v1::Cost>,
    value: Option<agentos_event_schema::v1::Value>,
    outcome: Option<agentos_event_schema::v1::Outcome>,
}

/// The file that marks a directory as the demo's own: only such a directory is ever
/// replaced by the next demo.
const DEMO_MARKER: &str = ".agentos-demo";

/// The sub-directory of the data dir the demo records into (one, reused by every run).
const DEMO_SUBDIR: &str = "demo";

/// Whether `dir` is missing or empty.
fn is_empty(dir: &Utf8Path) -> anyhow::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut it) => Ok(it.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e).with_context(|| format!("cannot read {dir}")),
    }
}

/// Where the demo records: `--data-dir DIR` itself when it is new, empty, or an earlier
/// demo's directory; else the one `demo` directory inside the data dir, so real data is never
/// mixed with samples and runs do not pile up.
fn demo_dir(g: &Global) -> anyhow::Result<Utf8PathBuf> {
    let base = g.data_dir();
    if g.data_dir_source == Source::Flag && (is_empty(&base)? || base.join(DEMO_MARKER).is_file()) {
        return Ok(base);
    }
    Ok(base.join(DEMO_SUBDIR))
}

/// Make `dir` an empty demo directory: an earlier demo's is cleared, anything else that is
/// not empty is left alone (an error).
fn prepare(dir: &Utf8Path) -> anyhow::Result<()> {
    if dir.join(DEMO_MARKER).is_file() {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("cannot clear the earlier demo in {dir}"))?;
    } else if !is_empty(dir)? {
        anyhow::bail!(
            "{dir} exists and was not made by the demo; move it aside, or give an empty --data-dir"
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {dir}"))?;
    let marker = dir.join(DEMO_MARKER);
    std::fs::write(
        &marker,
        "sample data of `agentos demo`; the next demo replaces this directory\n",
    )
    .with_context(|| format!("cannot write {marker}"))
}

/// `demo-*` directories left by earlier versions (one per run) next to `dir`.
fn old_demo_dirs(data_dir: &Utf8Path) -> usize {
    std::fs::read_dir(data_dir)
        .map(|it| {
            it.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("demo-"))
                .filter(|e| e.path().join("events.jsonl").is_file())
                .count()
        })
        .unwrap_or(0)
}

pub fn demo(a: DemoArgs, g: &Global) -> anyhow::Result<ExitCode> {
    use agentos_ccc_client::{Recorder, RecorderConfig, SessionStart, TurnInput};

    let data: DemoData = serde_json::from_str(DEMO_SESSIONS)
        .context("internal error: bundled demo data is invalid")?;
    let dir = demo_dir(g)?;
    prepare(&dir)?;
    // Local tier, no server, no license: nothing leaves the machine.
    let mut config = RecorderConfig::from_vars(Some(dir.clone()), &|_| None)?;
    config.tier = agentos_event_schema::v1::PrivacyTier::Local;
    let mut recorder =
        Recorder::open(config, crate::metrics::RollupMetrics)?.with_auto_flush(false);
    // Sample sessions happened in the past: each turn follows the previous one after its
    // latency plus a few minutes of human review; the session ends two minutes later.
    let now = agentos_event_schema::Timestamp::now().as_unix_seconds_f64();
    let at = |secs: f64| agentos_event_schema::Timestamp::from_unix_seconds_f64(secs);
    for s in data.sessions {
        let mut clock = now - s.days_ago * 86_400.0;
        recorder.start_session(SessionStart {
            repo_id: s.repo_id,
            branch: s.branch,
            commit: s.commit,
            session_id: None,
            metadata: s.metadata,
            started_at: at(clock),
        })?;
        for t in s.turns {
            clock += t.latency_ms / 1000.0 + 240.0;
            recorder.log_turn(TurnInput {
                model: t.model,
                subagent: t.subagent,
                tokens_in: t.tokens_in,
                tokens_out: t.tokens_out,
                input_kind: t.input_kind,
                latency_ms: t.latency_ms,
                capacity_used: t.capacity_used,
                attribution: t.attribution,
                measurement: t.measurement,
                feature: t.feature,
                cost: t.cost,
                value: t.value,
                outcome: t.outcome,
                decision: None,
                at: at(clock),
            })?;
        }
        let ended = at(clock + 120.0).unwrap_or_else(agentos_event_schema::Timestamp::now);
        recorder.finish_session_at(Some(s.notes), ended)?;
    }
    let events = recorder.events_path();
    let r = match summarize(std::slice::from_ref(&events), &SummaryOptions::default())? {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    let written = write_outputs(&r, &dir.join("metrics_summary.json"))?;
    let windows = dir.join("windows.jsonl");
    let eff = efficiency_file(&windows)?;
    if a.json {
        let mut v = report_json(&r, By::Model, None);
        if let Some(o) = v.as_object_mut() {
            o.insert("data_dir".to_owned(), json!(dir));
            o.insert("efficiency".to_owned(), json!(eff.providers));
        }
        outln!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "Recorded {} sample sessions in the local tier (nothing left this machine).\n",
        r.summary.sessions
    );
    out!("{}", render_report(&r, By::Model, None));
    outln!();
    out!("{}", render_efficiency(&eff, &windows));
    outln!("\nFiles are in {dir} (the next demo replaces them):");
    let mut files = vec![events, windows, dir.join("glm_counts.jsonl")];
    files.extend(written);
    for f in files.iter().filter(|f| f.exists()) {
        outln!("  {f}");
    }
    outln!("\nTry: agentos --data-dir {dir} report --by session");
    let base = g.data_dir();
    let old = old_demo_dirs(&base);
    if old > 0 {
        outln!(
            "\n{} from earlier versions of the demo can go: rm -r {base}/demo-*",
            if old == 1 {
                "1 sample directory".to_owned()
            } else {
                format!("{old} sample directories")
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
