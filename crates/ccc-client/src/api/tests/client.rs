//! `CccApi` against `FakeCcc` (the captures byte for byte) and scripted failures.

use std::time::Duration;

use agentos_testkit::fake_ccc::{ccp_error, ccp_json};
use agentos_testkit::{FakeCcc, Reply, TestServer, refused_url};

use super::{api, capture, capture_value, quick};
use crate::api::{ApiError, CccApi, ReadTimeouts, RollupsQuery, SamplesQuery};

#[test]
fn usage_reads_every_model_of_the_capture() {
    let ccc = FakeCcc::from_captures();
    let usage = api(&ccc.url()).usage().unwrap_or_else(|e| panic!("{e}"));
    let want = capture_value("v1_usage.json");
    let models = want["models"].as_object().unwrap_or_else(|| panic!("models"));
    assert_eq!(usage.models.len(), models.len());
    for (name, m) in models {
        let got = &usage.models[name];
        assert_eq!(got.rolling_in, m["rolling_in"].as_i64().unwrap_or(-1), "{name}");
        assert_eq!(got.rolling_out, m["rolling_out"].as_i64().unwrap_or(-1), "{name}");
        assert_eq!(got.rolling_pct, m["rolling_pct"].as_f64().unwrap_or(-1.0), "{name}");
        assert_eq!(
            got.speeds.ttft_ms.p90,
            m["speeds"]["ttft_ms"]["p90"].as_f64().unwrap_or(-1.0),
            "{name}"
        );
        // absent (omitempty) reads as zero
        assert_eq!(got.gap_samples, m.get("gap_samples").and_then(|v| v.as_i64()).unwrap_or(0));
    }
    assert_eq!(usage.path, want["path"].as_str().unwrap_or_default());
    assert_eq!(usage.ts, want["ts"].as_f64().unwrap_or_default());
}

#[test]
fn quotas_read_the_capture_and_reads_never_reload() {
    let ccc = FakeCcc::from_captures();
    let c = api(&ccc.url());
    let quotas = c.quotas().unwrap_or_else(|e| panic!("{e}"));
    let want = capture_value("v1_quotas.json");
    assert_eq!(quotas.loaded, want["loaded"].as_str().unwrap_or_default());
    assert_eq!(
        quotas.config.windows.rolling_seconds,
        want["config"]["windows"]["rolling_seconds"].as_i64().unwrap_or(-1)
    );
    for (name, m) in want["config"]["models"].as_object().unwrap_or_else(|| panic!("models")) {
        assert_eq!(
            quotas.config.models[name].rolling_tokens,
            m["rolling_tokens"].as_i64().unwrap_or(-1)
        );
    }
    c.usage().unwrap_or_else(|e| panic!("{e}"));
    c.healthz().unwrap_or_else(|e| panic!("{e}"));
    c.readyz().unwrap_or_else(|e| panic!("{e}"));
    c.metrics().unwrap_or_else(|e| panic!("{e}"));
    let reqs = ccc.requests();
    assert!(reqs.iter().all(|r| r.method == "GET"), "{reqs:?}");
    assert!(reqs.iter().all(|r| !r.path.contains("reload")), "{reqs:?}");
}

#[test]
fn reload_posts_only_when_asked_and_reports_ccc_s_reason() {
    let ccc = FakeCcc::from_captures();
    let c = api(&ccc.url());
    c.reload_quotas(Some("/etc/ccp/quotas.json")).unwrap_or_else(|e| panic!("{e}"));
    let reqs = ccc.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path, "/v1/quotas/reload?file=%2Fetc%2Fccp%2Fquotas.json");

    let reason =
        "invalid quotas: invalid character 'b' looking for beginning of object key string\n";
    ccc.set("/v1/quotas/reload", ccp_error(400, reason));
    match c.reload_quotas(None) {
        Err(ApiError::Status { status: 400, excerpt, url }) => {
            assert_eq!(excerpt, reason.trim());
            assert_eq!(url, format!("{}/v1/quotas/reload", ccc.url()));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn readyz_tells_catalog_broken_503_from_upstream_down_200() {
    let ccc = FakeCcc::from_captures();
    let c = api(&ccc.url());
    let ok = c.readyz().unwrap_or_else(|e| panic!("{e}"));
    assert!(ok.is_ready() && !ok.catalog_broken());
    let providers = capture_value("readyz_ok.json")["providers"].as_object().map_or(0, |p| p.len());
    assert_eq!(ok.body.providers.len(), providers);

    // 200 with one provider down: an upstream is unreachable, the catalog is fine.
    let mut down = capture_value("readyz_ok.json");
    down["providers"]["zai"] = serde_json::json!({"ok": false, "status": 0, "error": "dial tcp: connection refused", "url": "x"});
    ccc.set("/readyz", ccp_json(200, down.to_string().as_bytes()));
    let r = c.readyz().unwrap_or_else(|e| panic!("{e}"));
    assert!(!r.catalog_broken());
    assert_eq!(r.unreachable_providers(), ["zai"]);
    assert!(!r.is_ready());

    // 503: the catalog is broken; CCP's reason is kept.
    ccc.set("/readyz", ccp_json(503, &capture("readyz_catalog_error_503.json")));
    let r = c.readyz().unwrap_or_else(|e| panic!("{e}"));
    assert!(r.catalog_broken() && !r.is_ready());
    let want = capture_value("readyz_catalog_error_503.json");
    assert_eq!(r.body.error.as_deref(), want["error"].as_str());

    // A 503 that is not CCP's JSON (a proxy's page) is an unexpected status.
    ccc.set("/readyz", Reply::text(503, "upstream connect error"));
    assert!(matches!(c.readyz(), Err(ApiError::Status { status: 503, .. })));
}

#[test]
fn readyz_waits_two_seconds_per_provider_plus_one() {
    // CCP's defaults: 2 s per probe, 1 s slack, so N providers get 2·N+1 s.
    let t = ReadTimeouts::default();
    assert_eq!(t.readyz(5), Duration::from_secs(11));
    assert_eq!(t.readyz(2), Duration::from_secs(5));
    assert_eq!(t.readyz(0), Duration::from_secs(3), "at least one probe");
}

#[test]
fn slow_readyz_with_five_providers_is_waited_for() {
    // Five providers, each probe taking the (scaled) probe time: the body arrives after
    // 5 × probe, within 5 × probe + slack.
    let t = quick();
    let body = capture("readyz_ok.json");
    let server =
        TestServer::always(Reply::Delay(t.readyz_probe * 5, Box::new(ccp_json(200, &body))));
    let c = CccApi::new(&server.url(), None, t).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.readyz_timeout(), t.readyz(5));
    let r = c.readyz().unwrap_or_else(|e| panic!("{e}"));
    assert!(r.is_ready());
    // Having seen two providers, the next call waits for two.
    assert_eq!(c.readyz_timeout(), t.readyz(2));
}

#[test]
fn readyz_slower_than_its_timeout_is_a_timeout_naming_the_url() {
    let t = ReadTimeouts {
        readyz_probe: Duration::from_millis(100),
        readyz_slack: Duration::from_millis(100),
        readyz_providers: 1,
        ..quick()
    };
    let server = TestServer::always(Reply::Delay(
        Duration::from_secs(3),
        Box::new(ccp_json(200, &capture("readyz_ok.json"))),
    ));
    let c = CccApi::new(&server.url(), None, t).unwrap_or_else(|e| panic!("{e}"));
    match c.readyz() {
        Err(e @ ApiError::Timeout { .. }) => {
            assert!(e.is_down());
            let ApiError::Timeout { url, after } = &e else { unreachable!() };
            assert_eq!(url, &format!("{}/readyz", server.url()));
            assert_eq!(*after, Duration::from_millis(200));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ccc_down_is_unreachable_with_the_url() {
    let url = refused_url();
    let c = api(&url);
    for result in [c.healthz().err(), c.usage().err(), c.quotas().err(), c.metrics().err()] {
        match result {
            Some(e @ ApiError::Unreachable { .. }) => {
                assert!(e.is_down());
                assert!(e.to_string().contains(&url), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }
    let dropped = TestServer::always(Reply::Drop);
    assert!(api(&dropped.url()).usage().is_err_and(|e| e.is_down()));
}

#[test]
fn rollups_and_samples_404_mean_persistence_is_off() {
    let ccc = FakeCcc::from_captures();
    ccc.remove("/v1/usage/samples");
    ccc.remove("/v1/usage/rollups");
    ccc.remove("/v1/usage/rollups?granularity=day");
    let c = api(&ccc.url());
    match c.rollups(&RollupsQuery::default()) {
        Err(e @ ApiError::PersistenceDisabled { .. }) => {
            assert!(e.to_string().contains("persistence is disabled"), "{e}");
            assert!(!e.is_down());
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c.samples(&SamplesQuery::default()),
        Err(ApiError::PersistenceDisabled { .. })
    ));
}

#[test]
fn rollups_and_samples_send_their_parameters() {
    let ccc = FakeCcc::from_captures();
    let c = api(&ccc.url());
    let day = c
        .rollups(&RollupsQuery {
            granularity: Some("day".into()),
            model: Some("claude haiku/4.5".into()),
            since: Some(1_795_300_000.5),
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(day.granularity, "day");
    assert!(day.models.is_empty());
    let hour = c.rollups(&RollupsQuery::default()).unwrap_or_else(|e| panic!("{e}"));
    let want = capture_value("v1_usage_rollups_hour.json");
    let want_count: i64 = want["models"]
        .as_object()
        .map(|m| {
            m.values()
                .flat_map(|rows| rows.as_array().into_iter().flatten())
                .map(|r| r["count"].as_i64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(-1);
    let got_count: i64 = hour.models.values().flatten().map(|r| r.count).sum();
    assert_eq!(got_count, want_count);
    let samples = c
        .samples(&SamplesQuery { since: Some(1_795_310_000.25), model: None })
        .unwrap_or_else(|e| panic!("{e}"));
    let want = capture_value("v1_usage_samples.json");
    let want_n: usize = want["models"]
        .as_object()
        .map_or(0, |m| m.values().map(|v| v.as_array().map_or(0, Vec::len)).sum());
    assert_eq!(samples.models.values().map(Vec::len).sum::<usize>(), want_n);
    let paths: Vec<String> = ccc.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            "/v1/usage/rollups?granularity=day&model=claude%20haiku%2F4.5&since=1795300000.5",
            "/v1/usage/rollups",
            "/v1/usage/samples?since=1795310000.25",
        ]
    );
}

#[test]
fn garbage_and_truncated_bodies_are_malformed_with_a_pointer() {
    let ccc = FakeCcc::from_captures();
    let c = api(&ccc.url());
    ccc.set("/v1/usage", Reply::text(200, "<html>hello</html>"));
    match c.usage() {
        Err(ApiError::Malformed { pointer, url, .. }) => {
            assert_eq!(pointer, "");
            assert_eq!(url, format!("{}/v1/usage", ccc.url()));
        }
        other => panic!("{other:?}"),
    }
    let full = capture("v1_usage.json");
    ccc.set("/v1/usage", ccp_json(200, &full[..full.len() / 2]));
    match c.usage() {
        Err(ApiError::Malformed { message, .. }) => assert!(message.contains("EOF"), "{message}"),
        other => panic!("{other:?}"),
    }
    ccc.set(
        "/v1/quotas",
        ccp_json(
            200,
            br#"{"config":{"windows":{"rolling_seconds":"five hours"}},"path":"","loaded":"x"}"#,
        ),
    );
    match c.quotas() {
        Err(ApiError::Malformed { pointer, .. }) => {
            assert_eq!(pointer, "/config/windows/rolling_seconds");
        }
        other => panic!("{other:?}"),
    }
    ccc.set("/v1/quotas", ccp_json(200, &[capture("v1_quotas.json"), b"{}".to_vec()].concat()));
    assert!(matches!(c.quotas(), Err(ApiError::Malformed { .. })), "trailing data");
    ccc.set("/metrics", Reply::text(200, "this is { not prometheus\n"));
    assert!(matches!(c.metrics(), Err(ApiError::Malformed { .. })));
}

#[test]
fn the_api_key_is_sent_and_never_shown() {
    let key = "sk-ccc-secret-4242";
    let server = TestServer::always(Reply::text(500, &format!("store error: echo {key}\n")));
    let c = CccApi::new(&server.url(), Some(format!("{key}\n")), quick())
        .unwrap_or_else(|e| panic!("{e}"));
    let e = c.usage().err().unwrap_or_else(|| panic!("expected an error"));
    assert!(matches!(e, ApiError::Status { status: 500, .. }), "{e:?}");
    assert!(!e.to_string().contains(key), "{e}");
    assert!(!format!("{e:?}").contains(key));
    assert!(!format!("{c:?}").contains(key));
    assert!(e.to_string().contains("<redacted>"), "{e}");
    let reqs = server.requests();
    assert_eq!(reqs[0].header("authorization"), Some(format!("Bearer {key}").as_str()));
}

#[test]
fn base_url_comes_from_the_environment() {
    let env = |name: &str| match name {
        "AGENTOS_CCC_BASE_URL" => Some("http://127.0.0.1:9/".to_owned()),
        _ => None,
    };
    let c = CccApi::from_vars(&env, quick()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.base_url(), "http://127.0.0.1:9");
    let c = CccApi::from_vars(&|_| None, quick()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.base_url(), "http://127.0.0.1:8082");
    let bad = |name: &str| (name == "AGENTOS_CCC_BASE_URL").then(|| "ftp://x".to_owned());
    assert!(matches!(CccApi::from_vars(&bad, quick()), Err(ApiError::BaseUrl(_))));
}

#[test]
fn the_python_client_s_doc_shapes_served_live() {
    // expected_usage_*.json (CCP repo docs): a JSON object, then prose. Served as is, the
    // prose makes the body malformed; the object alone reads (no `ts`, `window` kept as an
    // unknown key, percent scale kept as given: the doc is not CCP's truth).
    let dir = agentos_testkit::fake_ccc::captures_dir().join("../ccp-repo-data");
    for name in ["expected_usage_50.json", "expected_usage_warn.json"] {
        let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{e}"));
        let ccc = FakeCcc::from_captures();
        ccc.set("/v1/usage", ccp_json(200, &bytes));
        match api(&ccc.url()).usage() {
            Err(ApiError::Malformed { pointer, message, .. }) => {
                assert_eq!(pointer, "");
                assert!(message.contains("trailing characters"), "{message}");
            }
            other => panic!("{name}: {other:?}"),
        }
        let object_end = bytes.iter().rposition(|b| *b == b'}').unwrap_or(0) + 1;
        let object: serde_json::Value =
            serde_json::from_slice(&bytes[..object_end]).unwrap_or_else(|e| panic!("{name}: {e}"));
        ccc.set("/v1/usage", ccp_json(200, &bytes[..object_end]));
        let u = api(&ccc.url()).usage().unwrap_or_else(|e| panic!("{name}: {e}"));
        for (model, m) in object["models"].as_object().unwrap_or_else(|| panic!("models")) {
            assert_eq!(u.models[model].rolling_pct, m["rolling_pct"].as_f64().unwrap_or(-1.0));
            assert_eq!(u.models[model].warn, m["warn"].as_bool().unwrap_or(false));
        }
        assert_eq!(u.ts, 0.0);
    }
}

#[test]
fn every_truncation_of_every_json_capture_is_malformed_never_a_panic() {
    let ccc = FakeCcc::from_captures();
    let c = api(&ccc.url());
    for (route, file) in [("/v1/usage", "v1_usage.json"), ("/v1/quotas", "v1_quotas.json")] {
        let full = capture(file);
        // a few dozen cut points per document (each is one request to the fake)
        for cut in (1..full.len() - 1).step_by(full.len() / 40 + 1) {
            ccc.set(route, ccp_json(200, &full[..cut]));
            let result =
                if route == "/v1/usage" { c.usage().map(|_| ()) } else { c.quotas().map(|_| ()) };
            assert!(
                matches!(result, Err(ApiError::Malformed { .. })),
                "{route} cut at {cut}: {result:?}"
            );
        }
    }
}

/// A timeout short enough for a dripping server, generous for a connect on 127.0.0.1.
fn brief() -> ReadTimeouts {
    ReadTimeouts { total: Duration::from_millis(600), ..quick() }
}

#[test]
fn the_key_never_goes_in_clear_to_another_machine_unless_allowed() {
    use agentos_transport::Cleartext;
    let ccc = FakeCcc::from_captures();
    // 0x7f.1 resolves to 127.0.0.1 but is not loopback written literally: "another machine".
    let port = ccc.url().rsplit(':').next().unwrap_or_default().to_owned();
    let url = format!("http://0x7f.1:{port}");
    let c =
        CccApi::new(&url, Some("sk-ccc-secret".into()), quick()).unwrap_or_else(|e| panic!("{e}"));
    let e = c.usage().err().unwrap_or_else(|| panic!("sent in clear"));
    assert!(matches!(e, ApiError::Cleartext(_)), "{e:?}");
    assert!(e.to_string().contains("unencrypted") && !e.to_string().contains("sk-ccc"), "{e}");
    assert!(matches!(c.reload_quotas(None), Err(ApiError::Cleartext(_))));
    assert!(matches!(c.healthz(), Err(ApiError::Cleartext(_))));
    assert!(ccc.requests().is_empty(), "sent in clear");
    let allowed = c.with_cleartext(Cleartext::Allowed);
    assert!(allowed.usage().is_ok());
    // From the environment: the variable allows it, its absence does not.
    let env = |allow: bool| {
        let url = url.clone();
        move |name: &str| match name {
            "AGENTOS_CCC_BASE_URL" => Some(url.clone()),
            "AGENTOS_ALLOW_INSECURE_HTTP" if allow => Some("1".to_owned()),
            _ => None,
        }
    };
    let from = |allow| CccApi::from_vars(&env(allow), quick()).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(from(false).usage(), Err(ApiError::Cleartext(_))));
    assert!(from(true).usage().is_ok());
}

#[test]
fn a_redirect_is_not_followed() {
    let ccc = FakeCcc::from_captures();
    let redirect = TestServer::always(
        Reply::empty(302).with_header("Location", &format!("{}/v1/usage", ccc.url())),
    );
    let e = api(&redirect.url()).usage().err().unwrap_or_else(|| panic!("followed"));
    assert!(matches!(e, ApiError::Status { status: 302, .. }), "{e:?}");
    assert!(ccc.requests().is_empty(), "the redirect was followed");
}

#[test]
fn a_body_over_its_cap_is_refused_and_one_at_the_cap_is_read() {
    let cap = agentos_transport::caps::SMALL as usize;
    let over = TestServer::always(Reply::text(200, &"x".repeat(cap + 1)));
    let e = api(&over.url()).healthz().err().unwrap_or_else(|| panic!("read"));
    assert!(matches!(e, ApiError::TooLarge { limit, .. } if limit == cap as u64), "{e:?}");
    let at = TestServer::always(Reply::text(200, &"x".repeat(cap)));
    assert_eq!(api(&at.url()).healthz(), Ok(()));
}

#[test]
fn a_dripping_body_is_a_timeout() {
    let server = TestServer::always(Reply::Drip {
        status: 200,
        chunk: b" ".to_vec(),
        every: Duration::from_millis(100),
        times: 50,
    });
    let c = CccApi::new(&server.url(), None, brief()).unwrap_or_else(|e| panic!("{e}"));
    let e = c.usage().err().unwrap_or_else(|| panic!("read"));
    assert!(matches!(e, ApiError::Timeout { .. }), "{e:?}");
}
