//! The Python tracker's own `windows.jsonl` rows (reference §7.3.3: `window`, `finalized_at`,
//! `features {codex, claude, glm}`, `quality_score`, `providers.{p}` with `before` / `after` /
//! `delta` of 5-hour and weekly capacities) turned into efficiency observations exactly as the
//! tracker's estimator takes them (reference §3.3):
//!
//! * per provider of the row: features = `features[provider]` (0 when absent); capacity = for
//!   `glm` with a GLM count for the window, that count; else the first of the provider's delta
//!   fields (`codex`: `weekly_pct`, `fiveh_pct`; `claude`: `all_models_pct`, `session_pct`;
//!   `glm`: `prompts_used`) whose value is a number — a delta of 0 is taken, it does not fall
//!   through —; else (`glm`) the GLM count; else none;
//! * and one more `glm` observation when `features` has `glm` or the window has GLM counts:
//!   features = `features.glm`, capacity = the window's GLM count.
//!
//! GLM counts are the tracker's `glm_counts.jsonl` rows `{window, prompts_used}`, summed per
//! window. A window finalized again (the tracker appends a new row) counts once: its latest row.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::efficiency::Observation;

/// One finalized window of the tracker.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TrackerWindow {
    pub(crate) window: String,
    features: BTreeMap<String, f64>,
    providers: Vec<(String, Json)>,
    quality: Option<f64>,
}

/// A number as Python's `float()` takes it from JSON: a number, or a string of one.
fn float(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse::<f64>().ok(),
        Json::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
    .filter(|x| x.is_finite())
}

/// Whether `v` has the tracker row's shape (`window` and `providers`, no `window_id`).
pub(crate) fn is_tracker_row(v: &Json) -> bool {
    v.get("window_id").is_none()
        && v.get("window").is_some()
        && v.get("providers").is_some_and(Json::is_object)
}

/// Read one tracker row; why not when it is malformed.
pub(crate) fn parse(v: &Json) -> Result<TrackerWindow, String> {
    let window = match v.get("window") {
        Some(Json::String(s)) if !s.is_empty() => s.clone(),
        Some(Json::Null) | None => "unknown".to_owned(),
        Some(Json::String(_)) => "unknown".to_owned(),
        Some(other) => return Err(format!("\"window\" is {other}, not a string")),
    };
    let features = match v.get("features") {
        Some(Json::Object(m)) => {
            m.iter().filter_map(|(k, x)| Some((k.clone(), float(x)?))).collect()
        }
        Some(Json::Null) | None => BTreeMap::new(),
        Some(other) => return Err(format!("\"features\" is {other}, not an object")),
    };
    let providers = v
        .get("providers")
        .and_then(Json::as_object)
        .map(|m| m.iter().map(|(k, x)| (k.clone(), x.clone())).collect())
        .unwrap_or_default();
    let quality = v.get("quality_score").or_else(|| v.get("quality")).and_then(float);
    Ok(TrackerWindow { window, features, providers, quality })
}

/// The delta fields a provider's capacity is taken from, in order of preference.
fn capacity_fields(provider: &str) -> &'static [&'static str] {
    match provider {
        "codex" => &["weekly_pct", "fiveh_pct"],
        "claude" => &["all_models_pct", "session_pct"],
        "glm" => &["prompts_used"],
        _ => &[],
    }
}

/// GLM prompts per window from the tracker's `glm_counts.jsonl` rows (others are ignored).
pub(crate) fn glm_counts<'a>(rows: impl IntoIterator<Item = &'a Json>) -> BTreeMap<String, f64> {
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    for r in rows {
        let window = r.get("window").and_then(Json::as_str).filter(|w| !w.is_empty());
        if let (Some(w), Some(n)) = (window, r.get("prompts_used").and_then(float)) {
            *out.entry(w.to_owned()).or_default() += n;
        }
    }
    out
}

/// The observations of `windows` per provider (reference §3.3, step 2).
pub(crate) fn observations(
    windows: &[TrackerWindow],
    glm: &BTreeMap<String, f64>,
) -> BTreeMap<String, Vec<Observation>> {
    let mut out: BTreeMap<String, Vec<Observation>> = BTreeMap::new();
    for w in windows {
        let count = glm.get(&w.window).copied();
        let features = |p: &str| w.features.get(p).copied().unwrap_or(0.0);
        let mut push = |provider: &str, features: f64, capacity: Option<f64>| {
            out.entry(provider.to_owned()).or_default().push(Observation {
                window_id: w.window.clone(),
                features,
                capacity,
                quality: w.quality,
            });
        };
        for (provider, info) in &w.providers {
            let delta = info.get("delta");
            let from_delta = || {
                capacity_fields(provider)
                    .iter()
                    .find_map(|f| delta.and_then(|d| d.get(*f)).and_then(float))
            };
            let capacity = match (provider.as_str(), count) {
                ("glm", Some(c)) => Some(c),
                ("glm", None) => from_delta(),
                _ => from_delta(),
            };
            push(provider, features(provider), capacity);
        }
        if w.features.contains_key("glm") || count.is_some() {
            push("glm", features("glm"), count);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn capacity_is_the_first_numeric_delta_and_zero_does_not_fall_through() {
        let row = json!({"window": "W1", "features": {"codex": 2, "claude": 1},
            "providers": {"codex": {"delta": {"weekly_pct": 0, "fiveh_pct": 7}},
                          "claude": {"delta": {"all_models_pct": null, "session_pct": "4"}}}});
        assert!(is_tracker_row(&row));
        let w = parse(&row).unwrap_or_else(|e| panic!("{e}"));
        let obs = observations(&[w], &BTreeMap::new());
        assert_eq!(obs["codex"][0].capacity, Some(0.0));
        assert_eq!(obs["claude"][0].capacity, Some(4.0));
        assert!(!obs.contains_key("glm"));
    }

    #[test]
    fn glm_counts_give_the_extra_glm_observation() {
        let row = json!({"window": "W1", "features": {"codex": 0, "claude": 0, "glm": 2},
            "providers": {"codex": {"delta": {"weekly_pct": 1}}}});
        let w = parse(&row).unwrap_or_else(|e| panic!("{e}"));
        let counts = glm_counts(&[
            json!({"window": "W1", "prompts_used": 30}),
            json!({"window": "W1", "prompts_used": "10"}),
            json!({"session_id": "x"}),
        ]);
        let obs = observations(&[w], &counts);
        assert_eq!((obs["glm"][0].features, obs["glm"][0].capacity), (2.0, Some(40.0)));
    }
}
