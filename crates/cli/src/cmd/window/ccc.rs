//! The CCC overlay of `window preview` and the quotas `window advise` reads: each model's
//! snapshot asked of CCC now (`/v1/usage` + `/v1/quotas` through `CccApi`, the environment's
//! `AGENTOS_CCC_BASE_URL` / `CCC_API_KEY` as `agentos ccc` reads them), with fallbacks over the
//! weekly window from the `ccc watch` file when there is one. CCC down is one line.

use std::collections::BTreeMap;
use std::time::Duration;

use agentos_ccc_client::api::{CccApi, ModelSnapshot, ReadTimeouts, assemble};
use agentos_rollup::{CCC_WATCH_FILE, read_watch_health};
use camino::Utf8Path;
use serde::Serialize;
use serde_json::Value as Json;

use crate::table::sanitize;

/// What CCC said, or why it did not.
#[derive(Clone, Debug, Serialize)]
pub struct Overlay {
    /// The base URL asked.
    pub base_url: String,
    /// Why CCC could not be read (`None`: it answered).
    pub error: Option<String>,
    /// Per model, sorted by (provider, model).
    pub models: Vec<ModelSnapshot>,
    /// Fallbacks per model over the weekly window, from the `ccc watch` file (`None`: no file).
    pub fallbacks: Option<BTreeMap<String, u64>>,
    /// When CCC was asked (RFC 3339).
    pub asked_at: String,
}

/// Ask CCC (short timeouts) and read the watch file of `data_dir`.
pub fn read(data_dir: &Utf8Path, cleartext: agentos_transport::Cleartext) -> Overlay {
    let timeouts = ReadTimeouts {
        connect: Duration::from_millis(500),
        total: Duration::from_secs(3),
        ..ReadTimeouts::default()
    };
    let asked_at = jiff::Timestamp::now().to_string();
    let down = |base_url: String, e: String| Overlay {
        base_url,
        error: Some(e),
        models: Vec::new(),
        fallbacks: None,
        asked_at: asked_at.clone(),
    };
    let api = match CccApi::from_env(timeouts) {
        Ok(api) => api.with_cleartext(cleartext),
        Err(e) => return down(String::new(), e.to_string()),
    };
    let url = api.base_url().to_owned();
    let (usage, quotas) = match api.usage().and_then(|u| Ok((u, api.quotas()?))) {
        Ok(x) => x,
        Err(e) => return down(url, e.to_string()),
    };
    let mut models = assemble(&usage, &quotas, None);
    models.sort_by(|a, b| (&a.provider, &a.model).cmp(&(&b.provider, &b.model)));
    let fallbacks = read_watch_health(&data_dir.join(CCC_WATCH_FILE)).ok().flatten().map(|h| {
        h.into_iter()
            .filter_map(|(m, v)| {
                Some((m, v.get("events")?.get("fallbacks").and_then(Json::as_u64)?))
            })
            .collect()
    });
    Overlay { base_url: url, error: None, models, fallbacks, asked_at: asked_at.clone() }
}

fn tokens(n: i64) -> String {
    crate::numbers::compact(n as f64)
}

/// The overlay's lines: one when CCC is down, else a heading and a line per provider/model.
pub fn lines(o: &Overlay) -> Vec<String> {
    if let Some(e) = &o.error {
        let at = if o.base_url.is_empty() { String::new() } else { format!(" at {}", o.base_url) };
        return vec![format!(
            "CCC{at}: not reachable ({}), showing local data only",
            sanitize(e, 200)
        )];
    }
    let mut out = vec![format!("CCC at {} (asked {}):", o.base_url, o.asked_at)];
    for m in &o.models {
        let rolling = match m.rolling_tokens_budget {
            Some(b) => format!(
                "rolling {:.1}% ({} of {} tokens)",
                100.0 * m.rolling_pct,
                tokens(m.rolling_tokens_used),
                tokens(b)
            ),
            None => format!("rolling {:.1}% (no cap)", 100.0 * m.rolling_pct),
        };
        let weekly = match (m.weekly_tokens_used, m.weekly_tokens_budget) {
            (Some(u), Some(b)) => {
                format!(
                    "weekly {:.1}% ({} of {} tokens)",
                    100.0 * m.weekly_pct,
                    tokens(u),
                    tokens(b)
                )
            }
            _ => format!(
                "weekly {:.1}% ({})",
                100.0 * m.weekly_pct,
                m.weekly_limit_type.as_deref().unwrap_or("no limit")
            ),
        };
        let state = if m.flags.block {
            format!("block ({})", sanitize(&m.flags.reason, 20))
        } else if m.flags.weekly_buffer {
            "inside the 10-point weekly buffer".to_owned()
        } else if m.flags.warn {
            "warn".to_owned()
        } else {
            "ok".to_owned()
        };
        let fallbacks = match &o.fallbacks {
            Some(f) => f.get(&m.model).copied().unwrap_or(0).to_string(),
            None => "n/a (no ccc watch file)".to_owned(),
        };
        out.push(format!(
            "  - {}/{}: {rolling}, {weekly}, state={state}, ELR {:.1} tok/s, dirty {:.1} tok/s, TTFT p50 {:.0} ms / p90 {:.0} ms, fallbacks={fallbacks}",
            sanitize(m.provider.as_deref().unwrap_or("unknown"), 40),
            sanitize(&m.model, 60),
            m.speeds.elr_out_tps_rolling,
            m.speeds.dirty_out_tps_rolling,
            m.speeds.ttft_ms_p50,
            m.speeds.ttft_ms_p90,
        ));
    }
    if o.models.is_empty() {
        out.push("  (no model has traffic since CCC started)".to_owned());
    }
    out
}
