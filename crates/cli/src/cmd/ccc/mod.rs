//! `agentos ccc status|usage|quotas|samples|rollups|metrics|config|watch`: CCC's live state read
//! through `agentos_ccc_client::api` (all logic there), as tables or `--json`.
//! `ccc quotas reload` is the only command that changes anything in CCC.
//! With CCC down every command says so in one line and exits 2; `status` first prints what
//! the data dir holds.

mod config;
mod render;
mod watch;

use std::process::ExitCode;

use agentos_ccc_client::api::{
    CccApi, CcpMetrics, ReadTimeouts, RollupsQuery, SamplesQuery, assemble,
};
use anyhow::Context as _;
use serde_json::json;

use crate::Global;

pub use config::ConfigArgs;
pub use watch::WatchArgs;

/// The commands.
#[derive(Debug, clap::Subcommand)]
pub enum CccCmd {
    /// Is CCC up and ready: /healthz, /readyz (providers catalog and upstream probes), the
    /// models it tracks, and the last snapshot in the data dir. Exit 1 when not ready.
    Status(StatusArgs),
    /// Quota use and speeds per model (/v1/usage with /v1/quotas); `--json` prints the
    /// `ccp.usage.v1` per-model snapshots.
    Usage(ReadArgs),
    /// The quotas config CCC loaded (/v1/quotas); `ccc quotas reload` makes CCC re-read it.
    Quotas(QuotasArgs),
    /// Completed requests CCC persisted (/v1/usage/samples).
    Samples(SamplesArgs),
    /// Hour or day rollups CCC persisted (/v1/usage/rollups).
    Rollups(RollupsArgs),
    /// Requests, latency, reroutes and store health from /metrics.
    Metrics(MetricsArgs),
    /// CCC's providers.yaml and quotas.json next to what CCC loaded: differences, catalog
    /// problems CCC would reject, routes that never match, suggestions. Exit 1 on a problem.
    /// Never writes CCC's files.
    Config(ConfigArgs),
    /// Poll CCC and append snapshots and new requests to <data dir>/ccc_usage.jsonl,
    /// detecting restarts and never counting a request twice.
    Watch(WatchArgs),
}

/// Where CCC is.
#[derive(Debug, Clone, clap::Args)]
pub struct Conn {
    /// CCC base URL. Default: $AGENTOS_CCC_BASE_URL, else http://127.0.0.1:8082.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
}

/// Options of a plain read.
#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    #[command(flatten)]
    pub conn: Conn,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Options of `status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub conn: Conn,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Providers /readyz probes (2 s each in CCC): the wait is 2·N+1 s. Default: 5.
    #[arg(long, value_name = "N")]
    pub providers: Option<usize>,
}

/// `quotas` and its one action.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct QuotasArgs {
    #[command(subcommand)]
    pub action: Option<QuotasAction>,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// What to do with CCC's quotas.
#[derive(Debug, clap::Subcommand)]
pub enum QuotasAction {
    /// Make CCC re-read its quotas file (POST /v1/quotas/reload); it keeps its samples.
    Reload(ReloadArgs),
}

/// Options of `quotas reload`.
#[derive(Debug, clap::Args)]
pub struct ReloadArgs {
    #[command(flatten)]
    pub conn: Conn,
    /// Load exactly this file (an absolute path on CCC's machine) instead of CCC's lookup.
    #[arg(long, value_name = "PATH")]
    pub file: Option<String>,
}

/// Options of `samples`.
#[derive(Debug, clap::Args)]
pub struct SamplesArgs {
    #[command(flatten)]
    pub read: ReadArgs,
    /// From when: epoch seconds, RFC 3339, or an age such as 30m, 6h, 2d. Default (CCC's):
    /// one hour ago.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only this model (exact name).
    #[arg(long)]
    pub model: Option<String>,
}

/// Options of `rollups`.
#[derive(Debug, clap::Args)]
pub struct RollupsArgs {
    #[command(flatten)]
    pub read: ReadArgs,
    /// `hour` or `day`.
    #[arg(long, value_parser = ["hour", "day"], default_value = "hour")]
    pub granularity: String,
    /// From when: epoch seconds, RFC 3339, or an age such as 6h, 2d. Default (CCC's): 24
    /// hours ago.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only this model (exact name).
    #[arg(long)]
    pub model: Option<String>,
}

/// Options of `metrics`.
#[derive(Debug, clap::Args)]
pub struct MetricsArgs {
    #[command(flatten)]
    pub read: ReadArgs,
    /// Print /metrics as CCC sent it.
    #[arg(long, conflicts_with = "json")]
    pub raw: bool,
}

/// The client for `conn`: `--base-url`, else the environment; plain `http://` to another
/// machine only with `--allow-insecure-http` / `AGENTOS_ALLOW_INSECURE_HTTP`.
fn client(conn: &Conn, timeouts: ReadTimeouts, g: &Global) -> anyhow::Result<CccApi> {
    let api = match &conn.base_url {
        Some(url) => {
            let key = std::env::var("CCC_API_KEY").ok();
            CccApi::new(url, key, timeouts)?
        }
        None => CccApi::from_env(timeouts)?,
    };
    Ok(api.with_cleartext(g.cleartext()))
}

pub fn run(c: CccCmd, g: &Global) -> anyhow::Result<ExitCode> {
    match c {
        CccCmd::Status(a) => status(&a, g),
        CccCmd::Usage(a) => usage(&a, g),
        CccCmd::Quotas(a) => quotas(a, g),
        CccCmd::Samples(a) => samples(&a, g),
        CccCmd::Rollups(a) => rollups(&a, g),
        CccCmd::Metrics(a) => metrics(&a, g),
        CccCmd::Config(a) => config::run(&a, g),
        CccCmd::Watch(a) => watch::run(&a, g),
    }
}

fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(v)?;
    outln!("{text}");
    Ok(())
}

fn status(a: &StatusArgs, g: &Global) -> anyhow::Result<ExitCode> {
    let mut timeouts = ReadTimeouts::default();
    if let Some(n) = a.providers {
        timeouts.readyz_providers = n;
    }
    let api = client(&a.conn, timeouts, g)?;
    let local = watch::local_status(&g.data_dir());
    let live = (|| -> Result<_, agentos_ccc_client::ApiError> {
        api.healthz()?;
        let ready = api.readyz()?;
        let usage = api.usage()?;
        Ok((ready, usage))
    })();
    let (ready, usage) = match live {
        Ok(x) => x,
        Err(e) => {
            // Down: what the data dir knows, then the one error line (exit 2).
            if a.json {
                print_json(&json!({"base_url": api.base_url(), "ccc": null,
                    "error": e.to_string(), "local": local}))?;
            } else {
                out!("{}", render::local(&local));
            }
            return Err(e.into());
        }
    };
    let ok = ready.is_ready();
    if a.json {
        print_json(&json!({
            "base_url": api.base_url(),
            "ccc": {
                "healthy": true,
                "ready": ok,
                "readyz_status": ready.status,
                "catalog_error": ready.body.error,
                "providers_source": ready.body.source,
                "providers": ready.body.providers,
                "unreachable_providers": ready.unreachable_providers(),
                "license": ready.body.license,
                "models": usage.models.keys().collect::<Vec<_>>(),
                "quotas_path": usage.path,
            },
            "local": local,
        }))?;
    } else {
        out!("{}", render::status(api.base_url(), &ready, &usage));
        out!("{}", render::local(&local));
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn usage(a: &ReadArgs, g: &Global) -> anyhow::Result<ExitCode> {
    let api = client(&a.conn, ReadTimeouts::default(), g)?;
    let usage = api.usage()?;
    let quotas = api.quotas()?;
    let snaps = assemble(&usage, &quotas, None);
    if a.json {
        print_json(&snaps)?;
    } else {
        out!("{}", render::usage(&snaps, &quotas));
    }
    Ok(ExitCode::SUCCESS)
}

fn quotas(a: QuotasArgs, g: &Global) -> anyhow::Result<ExitCode> {
    if let Some(QuotasAction::Reload(r)) = a.action {
        let api = client(&r.conn, ReadTimeouts::default(), g)?;
        api.reload_quotas(r.file.as_deref())?;
        let q = api.quotas()?;
        outln!("CCC reloaded its quotas from {} at {}.", shown_path(&q.path), q.loaded);
        return Ok(ExitCode::SUCCESS);
    }
    let api = client(&a.read.conn, ReadTimeouts::default(), g)?;
    let q = api.quotas()?;
    if a.read.json {
        print_json(&q)?;
    } else {
        out!("{}", render::quotas(&q));
    }
    Ok(ExitCode::SUCCESS)
}

fn shown_path(p: &str) -> String {
    if p.is_empty() { "(no file: CCC's defaults)".to_owned() } else { p.to_owned() }
}

fn samples(a: &SamplesArgs, g: &Global) -> anyhow::Result<ExitCode> {
    let api = client(&a.read.conn, ReadTimeouts::default(), g)?;
    let since = a.since.as_deref().map(parse_since).transpose()?;
    let resp = api.samples(&SamplesQuery { since, model: a.model.clone() })?;
    if a.read.json {
        print_json(&resp)?;
    } else {
        out!("{}", render::samples(&resp));
    }
    Ok(ExitCode::SUCCESS)
}

fn rollups(a: &RollupsArgs, g: &Global) -> anyhow::Result<ExitCode> {
    let api = client(&a.read.conn, ReadTimeouts::default(), g)?;
    let since = a.since.as_deref().map(parse_since).transpose()?;
    let resp = api.rollups(&RollupsQuery {
        granularity: Some(a.granularity.clone()),
        model: a.model.clone(),
        since,
    })?;
    if a.read.json {
        print_json(&resp)?;
    } else {
        out!("{}", render::rollups(&resp));
    }
    Ok(ExitCode::SUCCESS)
}

fn metrics(a: &MetricsArgs, g: &Global) -> anyhow::Result<ExitCode> {
    let api = client(&a.read.conn, ReadTimeouts::default(), g)?;
    if a.raw {
        out!("{}", api.metrics_text()?);
        return Ok(ExitCode::SUCCESS);
    }
    let e = api.metrics()?;
    for s in &e.skipped {
        eprintln!("warning: /metrics line {} skipped: {}", s.line, s.reason);
    }
    let m = CcpMetrics::from_exposition(&e);
    if a.read.json {
        print_json(&m)?;
    } else {
        out!("{}", render::metrics(&m));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--since`: epoch seconds, RFC 3339, or an age (`90s`, `30m`, `6h`, `2d`) before now.
pub fn parse_since(s: &str) -> anyhow::Result<f64> {
    let s = s.trim();
    if let Ok(epoch) = s.parse::<f64>()
        && epoch.is_finite()
    {
        return Ok(epoch);
    }
    if let Ok(age) = parse_duration(s) {
        let now = jiff::Timestamp::now().as_millisecond() as f64 / 1000.0;
        return Ok(now - age.as_secs_f64());
    }
    let ts: jiff::Timestamp = s.parse().with_context(|| {
        format!("--since {s:?} is neither epoch seconds, RFC 3339, nor an age such as 6h")
    })?;
    Ok(ts.as_millisecond() as f64 / 1000.0)
}

/// `500ms`, `10s`, `5m`, `2h`, `1d` (a bare number is seconds).
pub fn parse_duration(s: &str) -> anyhow::Result<std::time::Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().with_context(|| format!("{s:?} is not a duration such as 10s"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86_400.0,
        _ => anyhow::bail!("{s:?} is not a duration such as 10s (units: ms, s, m, h, d)"),
    };
    std::time::Duration::try_from_secs_f64(secs)
        .with_context(|| format!("{s:?} is not a duration such as 10s"))
}
