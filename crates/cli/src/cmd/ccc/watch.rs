//! `agentos ccc watch`: poll CCC and append to `<data dir>/ccc_usage.jsonl` (one whole line
//! per record, under the log's lock) — the new requests CCC persisted, then one snapshot line
//! per poll. The state (previous observation, request keys, running count) is restored from
//! the file, so a later watch continues where the last one stopped; the rules against double
//! counting are `agentos_ccc_client::api::Watcher`'s.

use std::process::ExitCode;

use agentos_ccc_client::JsonlLog;
use agentos_ccc_client::api::{
    ApiError, CcpMetrics, Observation, ReadTimeouts, SamplesQuery, SnapshotLine, WatchLine,
    Watcher, assemble,
};
use camino::Utf8Path;
use serde::Serialize;

use super::{Conn, client, parse_duration};
use crate::Global;

/// The file, in the data dir (the name the rollup reads `model_health` from).
pub use agentos_rollup::CCC_WATCH_FILE as WATCH_FILE;

/// Shortest interval of a watch without `--count` (it would hammer CCC).
const MIN_ENDLESS_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// Options of `watch`.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub conn: Conn,
    /// Time between polls: 500ms, 10s, 5m …
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub interval: String,
    /// Stop after this many polls (default: until interrupted).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
}

/// What the data dir knows without CCC.
#[derive(Debug, Serialize)]
pub struct LocalStatus {
    /// The data dir.
    pub data_dir: String,
    /// Snapshot lines in the watch file.
    pub snapshots: u64,
    /// Request lines in the watch file.
    pub requests: u64,
    /// The last snapshot.
    pub last_snapshot: Option<SnapshotLine>,
    /// Lines skipped (torn or not ours).
    pub skipped_lines: usize,
}

/// Read the watch file (streamed; a torn last line is skipped).
pub fn local_status(dir: &Utf8Path) -> LocalStatus {
    let mut st = LocalStatus {
        data_dir: dir.to_string(),
        snapshots: 0,
        requests: 0,
        last_snapshot: None,
        skipped_lines: 0,
    };
    let log = JsonlLog::new(dir.join(WATCH_FILE));
    let scanned = log.scan(|_, v| match serde_json::from_value::<WatchLine>(v) {
        Ok(WatchLine::Snapshot(s)) => {
            st.snapshots += 1;
            st.last_snapshot = Some(*s);
        }
        Ok(WatchLine::Request(_)) => st.requests += 1,
        Ok(_) | Err(_) => st.skipped_lines += 1,
    });
    if let Ok(diags) = scanned {
        st.skipped_lines += diags.len();
    }
    st
}

pub fn run(a: &WatchArgs, g: &Global) -> anyhow::Result<ExitCode> {
    let interval = parse_duration(&a.interval)?;
    if a.count.is_none() && interval < MIN_ENDLESS_INTERVAL {
        anyhow::bail!(
            "--interval {} is too short to poll CCC without end (at least 100ms, or give --count N)",
            a.interval
        );
    }
    let api = client(&a.conn, ReadTimeouts::default(), g)?;
    let log = JsonlLog::new(g.data_dir().join(WATCH_FILE));
    let mut w = Watcher::default();
    let diags = log.scan(|_, v| {
        if let Ok(line) = serde_json::from_value::<WatchLine>(v) {
            w.restore(&line);
        }
    })?;
    for d in diags.iter().take(5) {
        eprintln!("warning: {d}");
    }
    let mut polls = 0u64;
    let mut succeeded = 0u64;
    let mut last_err: Option<ApiError> = None;
    loop {
        match poll(&api, &mut w) {
            Ok((requests, snapshot)) => {
                let mut app = log.appender()?;
                for r in &requests {
                    app.append_line(&serde_json::to_string(&WatchLine::Request(Box::new(
                        r.clone(),
                    )))?)?;
                }
                app.append_line(&serde_json::to_string(&WatchLine::Snapshot(Box::new(
                    snapshot.clone(),
                )))?)?;
                drop(app);
                succeeded += 1;
                outln!("{}", summary(&snapshot));
            }
            Err(e) => {
                eprintln!("warning: {e}");
                last_err = Some(e);
            }
        }
        polls += 1;
        if a.count.is_some_and(|n| polls >= n) {
            break;
        }
        std::thread::sleep(interval);
    }
    match (succeeded, last_err) {
        (0, Some(e)) => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// One poll: the new requests and the snapshot line (nothing written yet).
fn poll(
    api: &agentos_ccc_client::CccApi,
    w: &mut Watcher,
) -> Result<(Vec<agentos_ccc_client::api::RequestLine>, SnapshotLine), ApiError> {
    let usage = api.usage()?;
    let quotas = api.quotas()?;
    // /metrics is optional: without it counters are neither compared nor counted.
    let (counters, counters_read) = match api.metrics() {
        Ok(e) => (CcpMetrics::from_exposition(&e).request_counters(), true),
        Err(e) if e.is_down() => return Err(e),
        Err(_) => (Default::default(), false),
    };
    let (requests, persistence) =
        match api.samples(&SamplesQuery { since: w.samples_since(), model: None }) {
            Ok(r) => (w.new_requests(&r), true),
            Err(ApiError::PersistenceDisabled { .. }) => (Vec::new(), false),
            Err(e) => return Err(e),
        };
    let observation = Observation {
        loaded: quotas.loaded.clone(),
        models: usage.models.keys().cloned().collect(),
        counters,
        counters_read,
    };
    let delta = w.observe(&observation);
    let snapshot = SnapshotLine {
        ts: usage.ts,
        base_url: api.base_url().to_owned(),
        restart: delta.restart,
        signals: delta.signals,
        requests_delta: delta.requests,
        requests_watched: w.requests_watched(),
        new_requests: requests.len(),
        persistence,
        observation,
        models: assemble(&usage, &quotas, None),
    };
    Ok((requests, snapshot))
}

fn summary(s: &SnapshotLine) -> String {
    let mut line = format!(
        "{} UTC  {} models, +{} requests ({} in total), {} new persisted",
        super::render::utc(s.ts),
        s.models.len(),
        s.requests_delta,
        s.requests_watched,
        s.new_requests
    );
    if s.restart {
        line.push_str("; CCC restarted since the last poll");
    } else if !s.signals.is_empty() {
        line.push_str("; CCC reloaded its quotas (or restarted)");
    }
    if !s.persistence {
        line.push_str("; CCC keeps no request history (persistence off)");
    }
    line
}
