//! The routing proxy's telemetry stream (reference §7.6.6): share routed to GLM, latency
//! percentiles, error rate.

use serde::Serialize;
use serde_json::Value;

use crate::py;
use crate::{Error, Errors, check_size};

/// A summary of proxy telemetry events. Serialises as the tracker's dict: `{total,
/// routed_to_glm_pct, latency_p50_ms, latency_p95_ms, error_rate_pct, errors}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProxyTelemetry {
    /// How many events (JSON objects) were read.
    pub total: usize,
    /// The percentage of events routed to GLM (`model` or `lane` naming `glm`, or `model`
    /// holding `z.`).
    pub routed_to_glm_pct: f64,
    /// The median `latency_ms` (linear interpolation); null when no event has one.
    pub latency_p50_ms: Option<f64>,
    /// The 95th percentile `latency_ms`; null when no event has one.
    pub latency_p95_ms: Option<f64>,
    /// The percentage of events that failed (neither status nor reason says ok, and a status
    /// is given).
    pub error_rate_pct: f64,
    /// `json-parse:{message}` per unreadable line, `latency:invalid`; only `no-events` when
    /// there are no events.
    pub errors: Errors,
}

/// Statuses and reasons that mean the request went through.
const OK: &[&str] = &["ok", "success", "200", "routed", "cached"];

/// Parse newline-delimited JSON telemetry events (`{ts, rid, lane, model, status, input_tokens,
/// output_tokens, reason, latency_ms}`). Blank lines and JSON that is not an object are skipped.
///
/// # Errors
/// [`Error::TooLarge`] for input past [`crate::MAX_INPUT_BYTES`].
pub fn parse_proxy_telemetry_stream(text: &str) -> Result<ProxyTelemetry, Error> {
    check_size(text)?;
    let mut out = ProxyTelemetry::default();
    let (mut routed, mut failed) = (0usize, 0usize);
    let mut latencies = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let event = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(event)) => event,
            Ok(_) => continue,
            Err(e) => {
                out.errors.push(format!("json-parse:{e}"));
                continue;
            }
        };
        out.total += 1;
        let text_of = |k: &str| match event.get(k) {
            None | Some(Value::Null) => String::new(),
            Some(v) => py::str_of(v),
        };
        let (model, lane) = (text_of("model"), text_of("lane"));
        if model.to_lowercase().contains("glm")
            || lane.to_lowercase().contains("glm")
            || model.contains("z.")
        {
            routed += 1;
        }
        match event.get("latency_ms") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(v) => match py::float(v) {
                Some(ms) => latencies.push(ms),
                None => out.errors.push("latency:invalid"),
            },
        }
        let status = text_of("status").trim().to_lowercase();
        let reason = text_of("reason").trim().to_lowercase();
        let ok =
            status.is_empty() || OK.contains(&status.as_str()) || OK.contains(&reason.as_str());
        if !ok {
            failed += 1;
        }
    }
    if out.total == 0 {
        return Ok(ProxyTelemetry {
            errors: {
                let mut e = Errors::default();
                e.push("no-events");
                e
            },
            ..ProxyTelemetry::default()
        });
    }
    let total = out.total as f64;
    {
        out.routed_to_glm_pct = 100.0 * routed as f64 / total;
        out.error_rate_pct = 100.0 * failed as f64 / total;
    }
    latencies.sort_by(f64::total_cmp);
    out.latency_p50_ms = percentile(&latencies, 50.0);
    out.latency_p95_ms = percentile(&latencies, 95.0);
    Ok(out)
}

/// The `p`th percentile of sorted `x` by linear interpolation: `k = p/100·(n−1)`, between
/// `x[floor k]` and `x[ceil k]`.
fn percentile(x: &[f64], p: f64) -> Option<f64> {
    let last = x.len().checked_sub(1)?;
    let k = p / 100.0 * last as f64;
    let (f, c) = (k.floor(), k.ceil());
    let (fi, ci) = ((f as usize).min(last), (c as usize).min(last));
    if fi == ci {
        return Some(x[fi]);
    }
    Some(x[fi] * (c - k) + x[ci] * (k - f))
}
