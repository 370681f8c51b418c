//! The Prometheus text parser and `CcpMetrics` over the captured `/metrics`.

use agentos_testkit::fake_ccc::capture;

use crate::api::{
    CcpMetrics, Exposition, INFLATED_FAMILIES, MetricKind, MetricsDrift, metrics_drift,
};

fn capture_text() -> String {
    String::from_utf8(capture("metrics_preemptive.prom")).unwrap_or_else(|e| panic!("{e}"))
}

fn parse(text: &str) -> Exposition {
    Exposition::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

/// `(series name, value)` of every sample line starting with `prefix`, by plain splitting.
fn lines_of(text: &str, prefix: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("{l}"));
            (series.to_owned(), value.parse().unwrap_or_else(|e| panic!("{l}: {e}")))
        })
        .collect()
}

#[test]
fn request_totals_come_from_the_request_counter_and_histogram() {
    let text = capture_text();
    let m = CcpMetrics::from_exposition(&parse(&text));
    let want: f64 = lines_of(&text, "ccp_requests_total{").iter().map(|(_, v)| v).sum();
    assert_eq!(m.requests, want);
    let want_429: f64 = lines_of(&text, "ccp_requests_total{")
        .iter()
        .filter(|(s, _)| s.contains("status=\"429\""))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(m.status_429, want_429);
    // histogram: anthropic/nonstream count and sum as printed
    let count =
        lines_of(&text, "ccp_request_duration_seconds_count{lane=\"anthropic\",op=\"nonstream\"}");
    let sum =
        lines_of(&text, "ccp_request_duration_seconds_sum{lane=\"anthropic\",op=\"nonstream\"}");
    let lane = m
        .lanes
        .iter()
        .find(|l| l.lane == "anthropic" && l.op == "nonstream")
        .unwrap_or_else(|| panic!("{:?}", m.lanes));
    assert_eq!(lane.count, count[0].1);
    assert_eq!(lane.seconds, sum[0].1);
    assert_eq!(m.partial_writes, lines_of(&text, "ccp_partial_writes_total ")[0].1);
    assert_eq!(m.store_writes, Some(lines_of(&text, "ccp_store_writes_total ")[0].1));
    assert_eq!(m.rerouted["preemptive"]["claude-haiku-4.5"], 1.0);
    // B2: the inflated families are listed, never summed into anything.
    assert_eq!(m.inflated_families, INFLATED_FAMILIES.map(str::to_owned).to_vec());
    assert!(m.unknown_families.is_empty(), "{:?}", m.unknown_families);
}

#[test]
fn histograms_group_buckets_by_labels_in_bound_order() {
    let text = capture_text();
    let e = parse(&text);
    assert_eq!(
        e.family("ccp_request_duration_seconds").map(|f| f.kind),
        Some(MetricKind::Histogram)
    );
    let hs = e.histograms("ccp_request_duration_seconds");
    let want_series = lines_of(&text, "ccp_request_duration_seconds_count{").len();
    assert_eq!(hs.len(), want_series);
    for h in &hs {
        let bounds: Vec<f64> = h.buckets.iter().map(|b| b.0).collect();
        assert_eq!(bounds, [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, f64::INFINITY]);
        assert_eq!(h.buckets.last().map(|b| b.1), Some(h.count), "+Inf bucket = count");
    }
    let rollup = e.histograms("ccp_rollup_duration_seconds");
    assert_eq!(rollup.len(), 1);
    assert_eq!(rollup[0].labels.get("granularity").map(String::as_str), Some("hour"));
}

#[test]
fn order_of_lines_does_not_matter() {
    let text = capture_text();
    let reversed: String = text.lines().rev().map(|l| format!("{l}\n")).collect();
    let a = CcpMetrics::from_exposition(&parse(&text));
    let b = CcpMetrics::from_exposition(&parse(&reversed));
    assert_eq!(a, b);
    let ea = parse(&text);
    let eb = parse(&reversed);
    for (name, f) in &ea.families {
        assert_eq!(eb.family(name).map(|g| g.kind), Some(f.kind), "{name}");
        assert_eq!(eb.histograms(name), ea.histograms(name), "{name}");
    }
}

#[test]
fn missing_families_read_as_empty() {
    let e = parse("ccp_requests_total{lane=\"zai\",op=\"stream\",status=\"200\"} 4\n");
    let m = CcpMetrics::from_exposition(&e);
    assert_eq!(m.requests, 4.0);
    assert_eq!(m.store_writes, None);
    assert!(m.rerouted.is_empty() && m.upstream_ready.is_empty() && m.inflated_families.is_empty());
    assert_eq!(m.lanes.len(), 1);
    assert_eq!(m.lanes[0].mean_seconds(), None);
    // an empty body is an empty exposition (CCP with nothing observed prints families only)
    assert!(parse("").families.is_empty());
}

#[test]
fn escaped_and_raw_label_values() {
    let text = concat!(
        "# TYPE ccp_wasted_retry_ms_total counter\n",
        "ccp_wasted_retry_ms_total{model=\"a\\\"b\\\\c\\nd\"} 7\n",
        "ccp_wasted_retry_ms_total{model=\"raw\\path\",} 5 1700000000000\n",
        "ccp_wasted_retry_ms_total{model=\"x,y=z}\"} 1e3\n",
    );
    let e = parse(text);
    assert!(e.skipped.is_empty(), "{:?}", e.skipped);
    let m = CcpMetrics::from_exposition(&e);
    assert_eq!(m.wasted_retry_ms.get("a\"b\\c\nd"), Some(&7.0));
    assert_eq!(m.wasted_retry_ms.get("raw\\path"), Some(&5.0));
    assert_eq!(m.wasted_retry_ms.get("x,y=z}"), Some(&1000.0));
}

#[test]
fn a_broken_line_is_skipped_not_fatal_and_garbage_is_an_error() {
    let text = format!(
        "{}ccp_requests_total{{lane=\"zai\",op=\"stream\",status=\"200\" 3\nccp_store_size_bytes abc\n",
        capture_text()
    );
    let e = parse(&text);
    assert_eq!(e.skipped.len(), 2, "{:?}", e.skipped);
    let total = text.lines().count();
    assert_eq!(e.skipped[1].line, total);
    assert!(Exposition::parse("<html>\n<body>oops</body>\n").is_err());
    assert!(Exposition::parse("{\"models\":{}}").is_err());
}

#[test]
fn special_values() {
    let e = parse("a +Inf\nb -Inf\nc NaN\nd 1.5e-07\n");
    assert_eq!(e.sum("a", &[]), f64::INFINITY);
    assert_eq!(e.sum("b", &[]), f64::NEG_INFINITY);
    assert!(e.sum("c", &[]).is_nan());
    assert_eq!(e.sum("d", &[]), 1.5e-7);
}

#[test]
fn the_capture_shows_no_drift_and_new_families_labels_and_types_do() {
    let text = capture_text();
    assert_eq!(metrics_drift(&parse(&text)), []);
    let grown = format!(
        "{text}# TYPE ccp_ttft_ms histogram\nccp_ttft_ms_bucket{{lane=\"zai\",le=\"+Inf\"}} 1\n\
         ccp_partial_writes_total{{lane=\"zai\"}} 2\n# TYPE ccp_store_size_bytes counter\n"
    );
    let drift = metrics_drift(&parse(&grown));
    assert_eq!(
        drift,
        [
            MetricsDrift::NewLabel {
                family: "ccp_partial_writes_total".into(),
                label: "lane".into()
            },
            MetricsDrift::KindChanged {
                family: "ccp_store_size_bytes".into(),
                expected: MetricKind::Gauge,
                found: MetricKind::Counter
            },
            MetricsDrift::NewFamily { family: "ccp_ttft_ms".into() },
        ]
    );
}

#[test]
fn any_prefix_or_byte_flip_of_the_capture_parses_without_panic() {
    let text = capture_text();
    let full = parse(&text);
    for cut in (0..=text.len()).filter(|c| text.is_char_boundary(*c)) {
        // every prefix: Ok (possibly with skipped lines) or the not-Prometheus error
        if let Ok(e) = Exposition::parse(&text[..cut]) {
            let _ = CcpMetrics::from_exposition(&e);
        }
    }
    let bytes = text.as_bytes();
    for (i, flip) in (0..bytes.len())
        .step_by(7)
        .zip([b'"', b'{', b'}', b'\\', b',', b' ', b'\n', b'='].iter().cycle())
    {
        let mut b = bytes.to_vec();
        b[i] = *flip;
        if let Ok(t) = std::str::from_utf8(&b)
            && let Ok(e) = Exposition::parse(t)
        {
            let _ = CcpMetrics::from_exposition(&e);
        }
    }
    assert!(full.skipped.is_empty());
}
