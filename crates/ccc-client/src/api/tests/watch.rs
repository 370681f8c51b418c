//! Restart detection, counting across restarts, request dedupe, and the `ccp.usage.v1`
//! snapshot, from the captures.

use std::collections::BTreeMap;

use agentos_event_schema::ccp::{QuotasResponse, SamplesResponse, UsageResponse, UsageSample};
use agentos_testkit::fake_ccc::capture;

use super::capture_value;
use crate::api::{
    Observation, RestartSignal, USAGE_SNAPSHOT_SCHEMA, WatchLine, Watcher, assemble, sample_key,
};

fn typed<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_slice(&capture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn obs(loaded: &str, models: &[&str], counters: &[(&str, f64)]) -> Observation {
    Observation {
        loaded: loaded.to_owned(),
        models: models.iter().map(|m| (*m).to_owned()).collect(),
        counters: counters.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
        counters_read: true,
    }
}

#[test]
fn the_restart_capture_shows_models_disappearing() {
    let before: UsageResponse = typed("v1_usage.json");
    let after: UsageResponse = typed("v1_usage_after_restart.json");
    let mut w = Watcher::default();
    let o = |u: &UsageResponse| Observation {
        loaded: "2026-11-22T01:26:03Z".into(),
        models: u.models.keys().cloned().collect(),
        counters: BTreeMap::new(),
        counters_read: false,
    };
    assert!(!w.observe(&o(&before)).restart, "the first poll is no restart");
    let d = w.observe(&o(&after));
    let mut want: Vec<String> = capture_value("v1_usage.json")["models"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    want.sort();
    assert!(d.restart);
    assert_eq!(d.signals, [RestartSignal::ModelsDisappeared { models: want }]);
}

#[test]
fn counters_are_counted_once_across_a_restart() {
    let mut w = Watcher::default();
    // first poll: 10 requests already served before the watch began: not counted
    w.observe(&obs("t0", &["m"], &[("zai|stream|200", 10.0)]));
    // +5
    let d = w.observe(&obs("t0", &["m"], &[("zai|stream|200", 15.0)]));
    assert_eq!((d.requests, d.restart), (5.0, false));
    // restart, then 3 requests: the counter went down to 3; all 3 are new
    let d = w.observe(&obs("t1", &["m"], &[("zai|stream|200", 3.0)]));
    assert!(d.restart);
    assert!(d.signals.iter().any(|s| matches!(s, RestartSignal::CounterDown { before, after, .. } if *before == 15.0 && *after == 3.0)));
    assert!(d.signals.iter().any(|s| matches!(s, RestartSignal::LoadedChanged { .. })));
    assert_eq!(d.requests, 3.0);
    // restart seen through another series going down: a series that grew past its old value
    // since the restart counts whole
    // a new series counts whole: +2
    let d =
        w.observe(&obs("t1", &["m"], &[("zai|stream|200", 3.0), ("anthropic|nonstream|200", 2.0)]));
    assert_eq!((d.requests, d.restart), (2.0, false));
    let d =
        w.observe(&obs("t2", &["m"], &[("zai|stream|200", 4.0), ("anthropic|nonstream|200", 1.0)]));
    assert!(d.restart);
    assert_eq!(d.requests, 5.0);
    // a quotas reload alone (`loaded` changes, counters grow) counts only the increase
    let d =
        w.observe(&obs("t3", &["m"], &[("zai|stream|200", 6.0), ("anthropic|nonstream|200", 1.0)]));
    assert!(!d.restart);
    assert_eq!(d.signals.len(), 1);
    assert_eq!(d.requests, 2.0);
    assert_eq!(w.requests_watched(), 5.0 + 3.0 + 2.0 + 5.0 + 2.0);
}

#[test]
fn requests_served_again_after_a_restart_are_written_once() {
    let samples: SamplesResponse = typed("v1_usage_samples.json");
    let want: usize = capture_value("v1_usage_samples.json")["models"]
        .as_object()
        .map_or(0, |m| m.values().map(|v| v.as_array().map_or(0, Vec::len)).sum());
    let mut w = Watcher::default();
    let first = w.new_requests(&samples);
    assert_eq!(first.len(), want);
    assert!(first.windows(2).all(|p| p[0].sample.ts <= p[1].sample.ts));
    assert!(w.new_requests(&samples).is_empty(), "served again: nothing new");
    // restored from the file: the same
    let mut restored = Watcher::default();
    for line in &first {
        let text =
            serde_json::to_string(&WatchLine::Request(Box::new(line.clone()))).unwrap_or_default();
        let back: WatchLine = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        restored.restore(&back);
    }
    assert!(restored.new_requests(&samples).is_empty());
    let newest = first.iter().map(|l| l.sample.ts).fold(f64::MIN, f64::max);
    assert_eq!(restored.samples_since(), Some(newest - 5.0));
}

#[test]
fn requests_without_rid_dedupe_on_model_and_second() {
    let s = |model: &str, ts: f64| UsageSample {
        ts,
        model: model.to_owned(),
        ..UsageSample::default()
    };
    assert_eq!(sample_key(&s("m", 100.2)), sample_key(&s("m", 100.9)));
    assert_ne!(sample_key(&s("m", 100.2)), sample_key(&s("m", 101.0)));
    assert_ne!(sample_key(&s("m", 100.2)), sample_key(&s("n", 100.2)));
    let with_rid = UsageSample { rid: "ab12cd34".into(), ..s("m", 100.2) };
    assert_eq!(sample_key(&with_rid), format!("ab12cd34@{:016x}", 100.2f64.to_bits()));
}

#[test]
fn the_key_cap_forgets_the_oldest() {
    let mut w = Watcher::new(2);
    let resp = |rids: &[&str]| SamplesResponse {
        models: [(
            "m".to_owned(),
            rids.iter()
                .map(|r| UsageSample {
                    rid: (*r).into(),
                    ts: 1.0,
                    model: "m".into(),
                    ..UsageSample::default()
                })
                .collect(),
        )]
        .into(),
        ..SamplesResponse::default()
    };
    assert_eq!(w.new_requests(&resp(&["a", "b", "c"])).len(), 3);
    // "b" and "c" are remembered, "a" (the oldest) was forgotten
    assert_eq!(w.new_requests(&resp(&["b", "c"])).len(), 0);
    assert_eq!(w.new_requests(&resp(&["a"])).len(), 1);
}

#[test]
fn snapshot_maps_usage_and_quotas_as_the_contract_says() {
    let usage: UsageResponse = typed("v1_usage.json");
    let quotas: QuotasResponse = typed("v1_quotas.json");
    let snaps = assemble(&usage, &quotas, Some("<embedded>"));
    let u = capture_value("v1_usage.json");
    let q = capture_value("v1_quotas.json");
    assert_eq!(snaps.len(), u["models"].as_object().map_or(0, |m| m.len()));
    for s in &snaps {
        let m = &u["models"][&s.model];
        let cfg = &q["config"]["models"][&s.model];
        assert_eq!(s.schema, USAGE_SNAPSHOT_SCHEMA);
        assert_eq!(
            s.rolling_tokens_used,
            m["rolling_in"].as_i64().unwrap_or(0) + m["rolling_out"].as_i64().unwrap_or(0)
        );
        assert_eq!(s.rolling_tokens_budget, cfg["rolling_tokens"].as_i64());
        assert_eq!(
            s.rolling_seconds,
            q["config"]["windows"]["rolling_seconds"].as_i64().unwrap_or(-1)
        );
        assert_eq!(s.source.loaded_at, q["loaded"].as_str().unwrap_or_default());
        assert_eq!(s.source.providers_path.as_deref(), Some("<embedded>"));
        assert_eq!(s.speeds.ttft_ms_p50, m["speeds"]["ttft_ms"]["p50"].as_f64().unwrap_or(-1.0));
        assert_eq!(s.speeds.ttft_ms_p95, None);
        assert_eq!(s.speeds.hod_elr_out_tps.len(), 24);
        let tokens_limit = cfg["weekly_limit_type"].as_str() == Some("tokens");
        if tokens_limit {
            let limit = cfg["weekly_limit_value"].as_i64().unwrap_or(0);
            let pct = m["weekly_pct"].as_f64().unwrap_or(0.0);
            assert_eq!(s.weekly_tokens_budget, Some(limit));
            assert_eq!(s.weekly_tokens_used, Some((pct * limit as f64).round() as i64));
        } else {
            assert_eq!((s.weekly_tokens_used, s.weekly_tokens_budget), (None, None));
        }
        assert_eq!(s.flags.warn, m["warn"].as_bool().unwrap_or(false));
        assert_eq!(s.flags.reason, "none");
    }
    // the haiku model: 100 in + 50 out of a 1000-token rolling cap (hand: 150 used);
    // weekly 0.0015 × 100000 = 150 tokens
    let haiku =
        snaps.iter().find(|s| s.model == "claude-haiku-4.5").unwrap_or_else(|| panic!("haiku"));
    assert_eq!((haiku.rolling_tokens_used, haiku.weekly_tokens_used), (150, Some(150)));
}

#[test]
fn snapshot_reasons_and_the_weekly_buffer() {
    let quotas: QuotasResponse = typed("v1_quotas.json");
    let mut usage: UsageResponse = typed("v1_usage.json");
    let m = usage.models.get_mut("claude-haiku-4.5").unwrap_or_else(|| panic!("haiku"));
    m.rolling_pct = 1.0;
    m.block = true;
    let s = assemble(&usage, &quotas, None);
    assert_eq!(
        s.iter().find(|s| s.model == "claude-haiku-4.5").map(|s| s.flags.reason.as_str()),
        Some("rolling")
    );
    let m = usage.models.get_mut("claude-haiku-4.5").unwrap_or_else(|| panic!("haiku"));
    m.rolling_pct = 0.5;
    m.weekly_pct = 1.2;
    let s = assemble(&usage, &quotas, None);
    let h = s.iter().find(|s| s.model == "claude-haiku-4.5").unwrap_or_else(|| panic!("haiku"));
    assert_eq!(h.flags.reason, "weekly");
    assert!(h.flags.weekly_buffer);
    let m = usage.models.get_mut("claude-haiku-4.5").unwrap_or_else(|| panic!("haiku"));
    m.weekly_pct = 0.89;
    m.block = false;
    let s = assemble(&usage, &quotas, None);
    assert!(!s.iter().any(|s| s.flags.weekly_buffer));
}

#[test]
fn a_poll_without_metrics_neither_detects_nor_counts_through_counters() {
    let mut w = Watcher::default();
    w.observe(&obs("t0", &["m"], &[("zai|stream|200", 10.0)]));
    let unread = Observation { counters_read: false, ..obs("t0", &["m"], &[]) };
    let d = w.observe(&unread);
    assert!(d.signals.is_empty() && d.requests == 0.0, "{d:?}");
    let d = w.observe(&obs("t0", &["m"], &[("zai|stream|200", 12.0)]));
    assert_eq!(d.requests, 0.0, "the previous poll had no counters to compare with");
    let d = w.observe(&obs("t0", &["m"], &[("zai|stream|200", 13.0)]));
    assert_eq!(d.requests, 1.0);
}
