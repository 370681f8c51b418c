//! `model_health`, bounded in memory: from a CCC `/v1/usage` response file, or from the
//! snapshots and requests `agentos ccc watch` keeps in `ccc_usage.jsonl`.

use std::collections::BTreeMap;
use std::io::Read;

use camino::Utf8Path;
use serde_json::Value as Json;

use crate::Error;
use crate::lines::{BoundedLines, Line};

/// Largest `/v1/usage` response read: a real one is a few KiB (one entry per model).
pub const MAX_USAGE_JSON: u64 = 16 << 20;

/// The `models` map of a CCC `/v1/usage` response in `path` (model → model view), for
/// [`SummaryOptions::model_health`](crate::SummaryOptions::model_health). At most
/// [`MAX_USAGE_JSON`] bytes are read: a larger file is refused, not loaded.
pub fn read_model_health(path: &Utf8Path) -> Result<BTreeMap<String, Json>, Error> {
    let read_err = |source| Error::Read { path: path.to_owned(), source };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    file.take(MAX_USAGE_JSON + 1).read_to_end(&mut bytes).map_err(read_err)?;
    let corrupt = |message: String| Error::Input {
        path: path.to_owned(),
        what: "CCC /v1/usage response",
        message,
    };
    if bytes.len() as u64 > MAX_USAGE_JSON {
        return Err(corrupt(format!("larger than {} MiB, not read", MAX_USAGE_JSON >> 20)));
    }
    let value: Json =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(format!("not JSON: {e}")))?;
    let models = value
        .get("models")
        .and_then(Json::as_object)
        .ok_or_else(|| corrupt("no \"models\" object".to_owned()))?;
    Ok(models.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// The file `agentos ccc watch` appends to in the data dir.
pub const CCC_WATCH_FILE: &str = "ccc_usage.jsonl";

/// Longest line of [`CCC_WATCH_FILE`] kept (a snapshot of many models is a few hundred KiB).
const MAX_WATCH_LINE: usize = 16 << 20;

/// Per-model request counts over the weekly window.
#[derive(Default)]
struct Events {
    requests: u64,
    fallbacks: u64,
    status_429: u64,
    idle_timeouts: u64,
    stream_errors: u64,
}

/// `model_health` from the file `agentos ccc watch` keeps ([`CCC_WATCH_FILE`]); `None` when
/// the file is absent or holds no snapshot.
///
/// Each model of the last snapshot keeps its `ccp.usage.v1` fields (rolling and weekly use vs
/// quota, warn/block and reason, the weekly buffer, ELR/dirty speeds, TTFT p50/p90, the
/// hour-of-day profile) and gets `state` (`block`, `buffer` — weekly use at AgentOS's 90 %
/// line —, `warn` or `ok`), `as_of` and `ccc_restarted`, and `events`: the requests CCC
/// persisted in the weekly window before the snapshot — fallbacks (decision `fallback` or
/// `quota_overshoot`), 429s, idle timeouts and stream errors. A model with requests in the
/// window but absent from the snapshot (CCC restarted since) gets `events` and state
/// `unknown`. Two streaming passes; memory holds one line and a counter per model.
pub fn read_watch_health(path: &Utf8Path) -> Result<Option<BTreeMap<String, Json>>, Error> {
    let mut last: Option<Json> = None;
    if !each_watch_line(path, |line| {
        if line.get("kind").and_then(Json::as_str) == Some("snapshot") {
            last = Some(line);
        }
    })? {
        return Ok(None);
    }
    let Some(snapshot) = last else { return Ok(None) };
    let as_of = snapshot.get("ts").and_then(Json::as_f64).unwrap_or(0.0);
    let snaps: Vec<Json> =
        snapshot.get("models").and_then(Json::as_array).cloned().unwrap_or_default();
    let window = snaps
        .iter()
        .filter_map(|m| m.get("weekly_seconds").and_then(Json::as_f64))
        .find(|w| *w > 0.0)
        .unwrap_or(604_800.0);
    let mut events: BTreeMap<String, Events> = BTreeMap::new();
    each_watch_line(path, |line| {
        if line.get("kind").and_then(Json::as_str) != Some("request") {
            return;
        }
        let Some(s) = line.get("sample") else { return };
        let ts = s.get("ts").and_then(Json::as_f64).unwrap_or(f64::NEG_INFINITY);
        if ts <= as_of - window {
            return;
        }
        let model = s.get("model").and_then(Json::as_str).unwrap_or_default();
        let e = events.entry(model.to_owned()).or_default();
        e.requests += 1;
        let text = |k: &str| s.get(k).and_then(Json::as_str).unwrap_or_default();
        if matches!(text("decision"), "fallback" | "quota_overshoot") {
            e.fallbacks += 1;
        }
        if s.get("status").and_then(Json::as_i64) == Some(429) {
            e.status_429 += 1;
        }
        match text("err_type") {
            "idle_timeout" => e.idle_timeouts += 1,
            "stream_error" => e.stream_errors += 1,
            _ => {}
        }
    })?;
    let restarted = snapshot.get("restart").and_then(Json::as_bool).unwrap_or(false);
    let events_json = |e: Option<&Events>| {
        let e = e.map_or([0; 5], |e| {
            [e.requests, e.fallbacks, e.status_429, e.idle_timeouts, e.stream_errors]
        });
        serde_json::json!({"window_seconds": window, "requests": e[0], "fallbacks": e[1],
            "status_429": e[2], "idle_timeouts": e[3], "stream_errors": e[4]})
    };
    let mut out = BTreeMap::new();
    for mut m in snaps {
        let Some(name) = m.get("model").and_then(Json::as_str).map(str::to_owned) else {
            continue;
        };
        let flag =
            |k: &str| m.pointer(&format!("/flags/{k}")).and_then(Json::as_bool) == Some(true);
        let state = if flag("block") {
            "block"
        } else if flag("weekly_buffer") {
            "buffer"
        } else if flag("warn") {
            "warn"
        } else {
            "ok"
        };
        if let Some(obj) = m.as_object_mut() {
            obj.insert("state".into(), state.into());
            obj.insert("as_of".into(), as_of.into());
            obj.insert("ccc_restarted".into(), restarted.into());
            obj.insert("events".into(), events_json(events.get(&name)));
        }
        out.insert(name, m);
    }
    for (name, e) in &events {
        if !out.contains_key(name) {
            out.insert(
                name.clone(),
                serde_json::json!({"model": name, "state": "unknown", "as_of": as_of,
                    "ccc_restarted": restarted, "events": events_json(Some(e))}),
            );
        }
    }
    Ok(Some(out))
}

/// Call `f` with every JSON line of `path` (torn, over-long and non-JSON lines skipped);
/// `false` when the file does not exist.
fn each_watch_line(path: &Utf8Path, mut f: impl FnMut(Json)) -> Result<bool, Error> {
    let read_err = |source| Error::Read { path: path.to_owned(), source };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(read_err(e)),
    };
    let mut lines = BoundedLines::new(std::io::BufReader::new(file), MAX_WATCH_LINE);
    let mut buf = Vec::new();
    loop {
        match lines.next_line(&mut buf).map_err(read_err)? {
            Line::Eof => return Ok(true),
            Line::Text { torn: false } => {
                if let Ok(v) = serde_json::from_slice::<Json>(&buf) {
                    f(v);
                }
            }
            Line::Text { torn: true } | Line::TooLong => {}
        }
    }
}

/// A model's figures in one `ccc watch` snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WatchPoint {
    /// Fraction of the weekly limit used.
    pub weekly_pct: f64,
    /// Fraction of the rolling cap used.
    pub rolling_pct: f64,
    /// Output tokens per streaming second over the rolling window.
    pub elr_out_tps: f64,
    /// Output tokens per wall-clock second.
    pub dirty_out_tps: f64,
}

/// Per UTC day (`YYYY-MM-DD`) and model, the figures of the day's last `ccc watch` snapshot in
/// `path` (empty when there is no such file): quota use and speeds over time, bounded by days
/// × models, however often the watch polled.
pub fn watch_history(
    path: &Utf8Path,
) -> Result<BTreeMap<String, BTreeMap<String, WatchPoint>>, Error> {
    let mut days: BTreeMap<String, BTreeMap<String, WatchPoint>> = BTreeMap::new();
    each_watch_line(path, |line| {
        if line.get("kind").and_then(Json::as_str) != Some("snapshot") {
            return;
        }
        let day = line
            .get("ts")
            .and_then(Json::as_f64)
            .filter(|t| t.is_finite())
            .and_then(|t| jiff::Timestamp::from_second(t.floor() as i64).ok())
            .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string());
        let Some(day) = day else { return };
        let entry = days.entry(day).or_default();
        for m in line.get("models").and_then(Json::as_array).into_iter().flatten() {
            let Some(model) = m.get("model").and_then(Json::as_str) else { continue };
            let num = |p: &str| m.pointer(p).and_then(Json::as_f64).unwrap_or(0.0);
            entry.insert(
                model.to_owned(),
                WatchPoint {
                    weekly_pct: num("/weekly_pct"),
                    rolling_pct: num("/rolling_pct"),
                    elr_out_tps: num("/speeds/elr_out_tps_rolling"),
                    dirty_out_tps: num("/speeds/dirty_out_tps_rolling"),
                },
            );
        }
    })?;
    Ok(days)
}

/// A model's health state in `model_health`: its `state` when given (`ccc watch` snapshots),
/// else derived from CCC's `block`/`warn` (a raw `/v1/usage` model view): `block`, `warn` or
/// `ok`.
pub fn health_state(view: &Json) -> String {
    if let Some(s) = view.get("state").and_then(Json::as_str) {
        return s.to_owned();
    }
    let flag = |k: &str| {
        view.get(k).or_else(|| view.pointer(&format!("/flags/{k}"))).and_then(Json::as_bool)
            == Some(true)
    };
    if flag("block") {
        "block".to_owned()
    } else if flag("warn") {
        "warn".to_owned()
    } else {
        "ok".to_owned()
    }
}

/// One line per model of `model_health` that needs attention (state `block`, `buffer` or
/// `warn`), sorted by model: what `progress.log.md` lists as notable.
pub fn health_notes(health: &BTreeMap<String, Json>) -> Vec<String> {
    let pct = |v: &Json, k: &str| v.get(k).and_then(Json::as_f64).unwrap_or(0.0) * 100.0;
    health
        .iter()
        .filter_map(|(model, v)| {
            let state = health_state(v);
            let why = match state.as_str() {
                "block" => "blocked by its quota",
                "buffer" => "inside the 10-point weekly buffer",
                "warn" => "past its warn threshold",
                _ => return None,
            };
            Some(format!(
                "model {} {why} (rolling {:.0}%, weekly {:.0}%)",
                model.replace(['\n', '\r'], " "),
                pct(v, "rolling_pct"),
                pct(v, "weekly_pct")
            ))
        })
        .collect()
}
