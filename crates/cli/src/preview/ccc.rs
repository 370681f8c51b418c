//! The CCC panel's data: each model's `ccp.usage.v1` snapshot asked of CCC now (quota use
//! against the 10-point weekly buffer, warn/block state, speeds, TTFT, the hour-of-day
//! profile) and, from the `ccc watch` file when there is one, its fallbacks, 429s and idle
//! timeouts over the weekly window. CCC down is one line; the rest of the view carries on.

use std::collections::BTreeMap;
use std::time::Duration;

use agentos_ccc_client::api::{CccApi, ModelSnapshot, ReadTimeouts, assemble};
use agentos_rollup::{CCC_WATCH_FILE, read_watch_health};
use camino::Utf8Path;
use serde_json::Value as Json;

/// One model as CCC sees it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CccModel {
    pub model: String,
    /// `block`, `buffer`, `warn` or `ok`.
    pub state: &'static str,
    /// Why blocked (`rolling`, `weekly`), when blocked.
    pub reason: Option<String>,
    pub rolling_pct: f64,
    pub weekly_pct: f64,
    pub elr_out_tps: f64,
    pub dirty_out_tps: f64,
    pub ttft_ms_p50: f64,
    pub ttft_ms_p90: f64,
    /// Output ELR per hour of day (`None` below CCC's sample floor).
    pub hod: Vec<Option<f64>>,
    /// Over the weekly window, from `ccc watch` (`None` without a watch file).
    pub fallbacks: Option<u64>,
    pub status_429: Option<u64>,
    pub idle_timeouts: Option<u64>,
}

fn state(s: &ModelSnapshot) -> &'static str {
    if s.flags.block {
        "block"
    } else if s.flags.weekly_buffer {
        "buffer"
    } else if s.flags.warn {
        "warn"
    } else {
        "ok"
    }
}

fn row(s: &ModelSnapshot, events: Option<&Json>) -> CccModel {
    let count = |k: &str| events.and_then(|e| e.get(k)).and_then(Json::as_u64);
    CccModel {
        model: s.model.clone(),
        state: state(s),
        reason: (s.flags.block && s.flags.reason != "none").then(|| s.flags.reason.clone()),
        rolling_pct: s.rolling_pct,
        weekly_pct: s.weekly_pct,
        elr_out_tps: s.speeds.elr_out_tps_rolling,
        dirty_out_tps: s.speeds.dirty_out_tps_rolling,
        ttft_ms_p50: s.speeds.ttft_ms_p50,
        ttft_ms_p90: s.speeds.ttft_ms_p90,
        hod: s.speeds.hod_elr_out_tps.clone(),
        fallbacks: count("fallbacks"),
        status_429: count("status_429"),
        idle_timeouts: count("idle_timeouts"),
    }
}

/// Ask CCC (short timeouts: a frame must not wait long) and read the watch file of `data_dir`.
/// The status line, and the models (empty when CCC is down).
pub fn read(
    data_dir: Option<&Utf8Path>,
    cleartext: agentos_transport::Cleartext,
) -> (String, Vec<CccModel>) {
    let timeouts = ReadTimeouts {
        connect: Duration::from_millis(500),
        total: Duration::from_secs(2),
        ..ReadTimeouts::default()
    };
    let api = match CccApi::from_env(timeouts) {
        Ok(api) => api.with_cleartext(cleartext),
        Err(e) => return (format!("CCC: {e}"), Vec::new()),
    };
    let url = api.base_url().to_owned();
    let (usage, quotas) = match api.usage().and_then(|u| Ok((u, api.quotas()?))) {
        Ok(x) => x,
        Err(e) => return (format!("CCC at {url} is down ({e}): local data only"), Vec::new()),
    };
    let events: BTreeMap<String, Json> = data_dir
        .and_then(|d| read_watch_health(&d.join(CCC_WATCH_FILE)).ok().flatten())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(m, v)| Some((m, v.get("events")?.clone())))
        .collect();
    let models: Vec<CccModel> =
        assemble(&usage, &quotas, None).iter().map(|s| row(s, events.get(&s.model))).collect();
    let watch = if events.is_empty() { "; no `ccc watch` file for fallbacks and 429s" } else { "" };
    (format!("CCC at {url}: up, {} models{watch}", models.len()), models)
}
