//! Proxy telemetry (reference §7.6.6).

use agentos_tracker::parse_proxy_telemetry_stream;

use crate::fixture;

#[test]
fn sample() {
    let t = parse_proxy_telemetry_stream(&fixture("proxy/telemetry_sample.jsonl")).unwrap();
    assert_eq!(t.total, 8);
    // R1..R4 each have one glm lane event: 4 of 8.
    assert_eq!(t.routed_to_glm_pct, 50.0);
    // Sorted latencies 260 280 295 300 340 380 420 600: p50 k=3.5 → (300+340)/2;
    // p95 k=6.65 → 420·0.35 + 600·0.65 = 537, 536.9999999999999 in binary floating point.
    assert_eq!(t.latency_p50_ms, Some(320.0));
    assert_eq!(t.latency_p95_ms, Some(536.9999999999999));
    // One event (R3 baseline, status error, reason fail) of 8.
    assert_eq!(t.error_rate_pct, 12.5);
    assert_eq!(t.errors, []);
}

#[test]
fn no_events() {
    for text in ["", "\n  \n", "[1]\n\"x\"\n", "{not json\n"] {
        let t = parse_proxy_telemetry_stream(text).unwrap();
        assert_eq!(t.total, 0);
        assert_eq!(t.routed_to_glm_pct, 0.0);
        assert_eq!(t.latency_p50_ms, None);
        assert_eq!(t.latency_p95_ms, None);
        assert_eq!(t.error_rate_pct, 0.0);
        assert_eq!(t.errors, ["no-events"], "{text:?}");
    }
}

#[test]
fn classification_latencies_and_parse_errors() {
    let text = concat!(
        r#"{"model":"Z.ai/x","status":"500","latency_ms":"10"}"#,
        "\n",
        r#"{"model":"anthropic","lane":"GLM-lane","status":"","latency_ms":null}"#,
        "\n",
        "{oops\n",
        r#"{"model":"m","status":"timeout","reason":"cached","latency_ms":"slow"}"#,
        "\n",
        r#"{"model":"m","status":"Failed","latency_ms":30}"#,
        "\n",
        r#"{"status":200,"latency_ms":""}"#,
        "\n",
    );
    let t = parse_proxy_telemetry_stream(text).unwrap();
    assert_eq!(t.total, 5);
    // `Z.ai` lower-cases to no `glm` and `z.` is case-sensitive: only the GLM lane is routed.
    assert_eq!(t.routed_to_glm_pct, 100.0 * 1.0 / 5.0);
    // Errors: status 500 and `failed`; empty status, reason cached and status 200 are not.
    assert_eq!(t.error_rate_pct, 100.0 * 2.0 / 5.0);
    // Latencies 10 and 30: p50 k=0.5 → 20; p95 k=0.95 → 10·0.05 + 30·0.95.
    assert_eq!(t.latency_p50_ms, Some(20.0));
    assert_eq!(t.latency_p95_ms, Some(10.0 * (1.0 - 0.95) + 30.0 * 0.95));
    assert_eq!(t.errors.len(), 2);
    assert!(t.errors.as_slice()[0].starts_with("json-parse:"), "{:?}", t.errors);
    assert_eq!(t.errors.as_slice()[1], "latency:invalid");
}
