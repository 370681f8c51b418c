//! The trend per day × model: hand-computed counts and percentiles, the sketch against exact
//! nearest-rank percentiles, and `model_trend.json` merged by day and idempotent.

use super::*;
use crate::model_trend::{ALPHA, ModelDay, Sketch, update_model_trend};

fn within(got: Option<f64>, want: f64) -> bool {
    got.is_some_and(|g| (g - want).abs() <= ALPHA * want + 1e-9)
}

fn at(ts: &str, model: &str, latency: f64, tokens_out: u64, more: Json) -> Json {
    let mut extra = json!({"ts": ts, "turn": {"latency_ms": latency, "tokens_out": tokens_out}});
    if let (Some(e), Json::Object(m)) = (extra.as_object_mut(), more) {
        for (k, v) in m {
            if k == "turn" {
                if let (Some(t), Json::Object(tm)) =
                    (e.get_mut("turn").and_then(Json::as_object_mut), v)
                {
                    t.extend(tm);
                }
            } else {
                e.insert(k, v);
            }
        }
    }
    turn("s", model, extra)
}

fn cell<'a>(rows: &'a [ModelDay], date: &str, model: &str) -> &'a ModelDay {
    rows.iter()
        .find(|r| r.date == date && r.model == model)
        .unwrap_or_else(|| panic!("no row {date} {model} in {rows:?}"))
}

#[test]
fn a_hand_built_day_gives_hand_computed_counts_and_percentiles() {
    let d = "2026-11-02T10:00:00Z";
    let events = [
        at(
            d,
            "m",
            100.0,
            30,
            json!({"turn": {"ccp": {"end": "completed", "failed": false, "status": 200,
                "fallbacks": 0, "ttft_ms": 40, "stream_ms": 60}},
                "decision": {"reroute_decision": "quota_warn_attempt"},
                "cost": {"provider": "p", "estimated_usd": 0.25}}),
        ),
        at(
            d,
            "m",
            200.0,
            50,
            json!({"turn": {"ccp": {"end": "completed", "failed": false, "status": null,
                "first_attempt_status": 429, "err_type": "429", "fallbacks": 1}},
                "decision": {"reroute_decision": "quota_block"},
                "cost": {"provider": "p", "estimated_usd": 0.5}}),
        ),
        at(
            d,
            "m",
            300.0,
            0,
            json!({"turn": {"ccp": {"end": "error", "failed": true, "status": 200,
                "err_type": "idle_timeout", "ttft_ms": 80, "stream_ms": 0}}}),
        ),
        at(
            d,
            "m",
            0.0,
            0,
            json!({"turn": {"ccp": {"end": "no_completion", "failed": true, "status": null,
                "fallbacks": 0}}}),
        ),
        // A live turn: no `ccp`.
        at(d, "m", 1000.0, 20, json!({})),
        // `ccp` of another shape and a quota decision that is neither: a plain turn.
        at(
            d,
            "m",
            400.0,
            0,
            json!({"turn": {"ccp": [1, 2]}, "decision": {"reroute_decision": "quota_pass"}}),
        ),
        at(d, "n", 7.0, 1, json!({})),
        at("2026-11-03T00:00:00Z", "m", 9.0, 2, json!({})),
        // No time: not in the trend.
        turn("s", "m", json!({})),
    ];
    let r = roll(&lines(&events));
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert_eq!(r.model_days.len(), 3, "{:?}", r.model_days);
    let m = cell(&r.model_days, "2026-11-02", "m");
    assert_eq!((m.requests, m.failed, m.fallbacks), (6, 2, 1));
    assert_eq!((m.status_429, m.idle_timeouts, m.quota_warn, m.quota_block), (1, 1, 1, 1));
    assert_eq!((m.tokens_in, m.tokens_out), (60, 100));
    assert!(close(m.cost_usd, 0.75));
    // Latencies without the no-completion request: 100 200 300 400 1000.
    // p50: rank ⌈0.5·5⌉ = 3 → 300; p95: rank ⌈0.95·5⌉ = 5 → 1000.
    assert_eq!(m.latency_samples, 5);
    assert!(within(m.latency_ms_p50, 300.0), "{:?}", m.latency_ms_p50);
    assert!(within(m.latency_ms_p95, 1000.0), "{:?}", m.latency_ms_p95);
    // TTFT 40, 80: p50 rank 1 → 40, p90 rank 2 → 80.
    assert_eq!(m.ttft_samples, 2);
    assert!(within(m.ttft_ms_p50, 40.0) && within(m.ttft_ms_p90, 80.0), "{m:?}");
    // Output 100 tokens; effective seconds 0.06+0.2+0.3+0+1+0.4, dirty 0.1+0.2+0.3+0+1+0.4.
    assert!(m.out_elr_tps.is_some_and(|v| close(v, 100.0 / 1.96)), "{m:?}");
    assert!(m.out_dirty_tps.is_some_and(|v| close(v, 50.0)), "{m:?}");
    let n = cell(&r.model_days, "2026-11-02", "n");
    assert_eq!((n.requests, n.failed, n.ttft_samples), (1, 0, 0));
    assert_eq!(n.latency_ms_p50, Some(7.0), "one sample: the exact value (clamped to min/max)");
    assert_eq!(n.ttft_ms_p50, None);
    let next = cell(&r.model_days, "2026-11-03", "m");
    assert_eq!((next.requests, next.tokens_out), (1, 2));
}

#[test]
fn the_sketch_is_within_alpha_of_exact_nearest_rank_and_merges_exactly() {
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for n in [1usize, 2, 3, 10, 99, 1000, 5000] {
        let values: Vec<f64> = (0..n)
            .map(|i| match i % 5 {
                0 => 0.0,
                1 => (next() % 1000) as f64 / 1e6, // under a µs… to a ms
                _ => (next() % 10_000_000) as f64 / 100.0,
            })
            .collect();
        let (mut whole, mut a, mut b) = (Sketch::default(), Sketch::default(), Sketch::default());
        for (i, v) in values.iter().enumerate() {
            whole.add(*v);
            if i % 3 == 0 { a.add(*v) } else { b.add(*v) }
        }
        a.merge(&b);
        assert_eq!(a, whole, "merge = sequential");
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        for pct in [1u64, 25, 50, 90, 95, 99, 100] {
            let rank = ((pct as usize * n).div_ceil(100)).max(1);
            let exact = sorted[rank - 1];
            let got = whole.percentile(pct).unwrap_or(f64::NAN);
            let err = (got - exact).abs();
            assert!(
                err <= ALPHA * exact + 1e-9 || (exact < 1e-3 && err < 1e-3),
                "n {n} p{pct}: {got} vs {exact}"
            );
        }
    }
    assert_eq!(Sketch::default().percentile(50), None);
}

#[test]
fn model_trend_file_merges_days_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let base = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap_or_default();
    let path = base.join("model_trend.json");
    let day1 = at("2026-02-01T09:00:00Z", "m", 5.0, 1, json!({}));
    let day2 = at("2026-02-02T09:00:00Z", "m", 5.0, 1, json!({}));
    let day2b = at("2026-02-02T10:00:00Z", "k", 5.0, 1, json!({}));
    let r = roll(&lines(&[day1.clone(), day2.clone()]));
    update_model_trend(&path, &r).unwrap_or_else(|e| panic!("{e}"));
    let once = std::fs::read(&path).unwrap_or_default();
    update_model_trend(&path, &r).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(std::fs::read(&path).unwrap_or_default(), once, "re-run: identical bytes");
    // A later rollup that sees only day 2 (day 1's log rotated away) replaces day 2 whole
    // and keeps day 1.
    let r = roll(&lines(&[day2b]));
    let t = update_model_trend(&path, &r).unwrap_or_else(|e| panic!("{e}"));
    let keys: Vec<(&str, &str)> =
        t.rows.iter().map(|r| (r.date.as_str(), r.model.as_str())).collect();
    assert_eq!(keys, [("2026-02-01", "m"), ("2026-02-02", "k")]);
    std::fs::write(&path, b"not json").unwrap_or_default();
    assert!(matches!(update_model_trend(&path, &r), Err(Error::Corrupt { .. })));
}
