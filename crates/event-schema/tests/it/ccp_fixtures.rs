//! Every real CCP capture parses into its typed model, validates and carries no unknown field;
//! the tolerant cases from the CCP repository parse too.

use agentos_event_schema::catalog::SchemaKind;
use agentos_event_schema::{ccp, v1, validate};
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::{fixtures, read};

fn typed<T: DeserializeOwned>(value: &Json) -> Result<(), String> {
    serde_json::from_value::<T>(value.clone()).map(drop).map_err(|e| e.to_string())
}

/// Deserialise `value` into the Rust type behind `kind`.
fn parse_as(kind: SchemaKind, value: &Json) -> Result<(), String> {
    match kind {
        SchemaKind::V1Event => typed::<v1::Event>(value),
        SchemaKind::V1Session => typed::<v1::Session>(value),
        SchemaKind::V1Turn => typed::<v1::Turn>(value),
        SchemaKind::V1Measurement => typed::<v1::Measurement>(value),
        SchemaKind::V1Feature => typed::<v1::Feature>(value),
        SchemaKind::V1Cost => typed::<v1::Cost>(value),
        SchemaKind::V1Value => typed::<v1::Value>(value),
        SchemaKind::V1Decision => typed::<v1::Decision>(value),
        SchemaKind::V1Window => typed::<v1::WindowRecord>(value),
        SchemaKind::V1GlmCount => typed::<v1::GlmCount>(value),
        SchemaKind::V1MetricsSummary => typed::<v1::MetricsSummary>(value),
        SchemaKind::CcpUsageLine => typed::<ccp::UsageLine>(value),
        SchemaKind::CcpUsage => typed::<ccp::UsageResponse>(value),
        SchemaKind::CcpQuotas => typed::<ccp::QuotasResponse>(value),
        SchemaKind::CcpQuotasConfig => typed::<ccp::QuotasConfig>(value),
        SchemaKind::CcpReadyz => typed::<ccp::ReadyzResponse>(value),
        SchemaKind::CcpUsageSamples => typed::<ccp::SamplesResponse>(value),
        SchemaKind::CcpUsageRollups => typed::<ccp::RollupsResponse>(value),
        SchemaKind::CcpMetricsSummary => typed::<ccp::MetricsSummary>(value),
        SchemaKind::CcpLicenseClaims => typed::<ccp::LicenseClaims>(value),
        SchemaKind::CcpLicensePack => typed::<ccp::LicensePack>(value),
        SchemaKind::CcpPubkeys => typed::<ccp::PubkeyBundle>(value),
        // `SchemaKind` is `#[non_exhaustive]`: a new kind fails here until it is mapped.
        other => Err(format!("no Rust type mapped for {other:?}")),
    }
}

/// Every JSON document of `fixtures/ccp/` as (label, value): one per `.json` file and one per
/// line of each `.jsonl` file.
fn capture_documents() -> Vec<(String, Json)> {
    let mut names: Vec<_> = std::fs::read_dir(fixtures().join("ccp"))
        .expect("fixtures/ccp exists")
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut docs = Vec::new();
    for name in names {
        let text = read(&format!("ccp/{name}"));
        if name.ends_with(".jsonl") {
            for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{name}:{}: not JSON: {e}", i + 1));
                docs.push((format!("{name}:{}", i + 1), value));
            }
        } else if name.ends_with(".json") {
            let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            docs.push((name, value));
        }
    }
    docs
}

#[test]
fn every_capture_is_recognised_parses_validates_and_has_no_unknown_field() {
    let docs = capture_documents();
    assert!(docs.len() >= 20, "expected all captures, found {}", docs.len());
    let mut kinds = Vec::new();
    for (label, value) in &docs {
        let kind =
            ccp::detect_kind(value).unwrap_or_else(|| panic!("{label}: kind not recognised"));
        parse_as(kind, value).unwrap_or_else(|e| panic!("{label}: as {}: {e}", kind.name()));
        assert_eq!(validate::validate(kind, value), vec![], "{label} against {}", kind.name());
        assert_eq!(validate::unknown_fields(kind, value), vec![], "{label}: unknown fields");
        kinds.push(format!("{label}: {}", kind.name()));
    }
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_yaml_snapshot!("capture_kinds", kinds);
    });
}

#[test]
fn usage_lines_keep_go_omitempty_semantics_on_a_round_trip() {
    for (label, value) in capture_documents() {
        if ccp::detect_kind(&value) != Some(SchemaKind::CcpUsageLine) {
            continue;
        }
        let line: ccp::UsageLine = serde_json::from_value(value.clone()).expect("parses");
        let written = serde_json::to_value(&line).expect("serialises");
        let again: ccp::UsageLine = serde_json::from_value(written.clone()).expect("re-parses");
        assert_eq!(again, line, "{label}");
        assert_eq!(validate::validate(SchemaKind::CcpUsageLine, &written), vec![], "{label}");
    }
}

#[test]
fn quotas_example_keeps_its_schema_key_in_extra() {
    let value: Json = serde_json::from_str(&read("ccp-repo-data/quotas.example.json")).unwrap();
    assert_eq!(ccp::detect_kind(&value), Some(SchemaKind::CcpQuotasConfig));
    let config: ccp::QuotasConfig = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(
        config.extra.get("$schema"),
        Some(&Json::from("https://example.com/schemas/ccp.quotas.v1.json"))
    );
    assert_eq!(config.windows.rolling_seconds, 18_000);
    assert_eq!(config.models["claude-haiku-4.5"].rolling_tokens, 300_000);
    assert_eq!(validate::validate(SchemaKind::CcpQuotasConfig, &value), vec![]);
    let unknown = validate::unknown_fields(SchemaKind::CcpQuotasConfig, &value);
    assert_eq!(unknown.iter().map(|v| v.pointer.as_str()).collect::<Vec<_>>(), ["/$schema"]);
}

#[test]
fn trial_license_parses_as_claims() {
    let value: Json = serde_json::from_str(&read("ccp-repo-data/trial_license.json")).unwrap();
    assert_eq!(ccp::detect_kind(&value), Some(SchemaKind::CcpLicenseClaims));
    let claims: ccp::LicenseClaims = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(claims.schema, ccp::LICENSE_SCHEMA_V1);
    assert_eq!((claims.plan.as_str(), claims.exp), ("trial", 1_761_707_395));
    assert_eq!(claims.device.as_deref(), Some(""));
    assert_eq!(claims.kid.as_deref(), Some("2025-10-22-a"));
    assert_eq!(validate::validate(SchemaKind::CcpLicenseClaims, &value), vec![]);
    assert_eq!(validate::unknown_fields(SchemaKind::CcpLicenseClaims, &value), vec![]);
}

#[test]
fn pubkeys_parse_as_a_bundle() {
    let value: Json = serde_json::from_str(&read("ccp-repo-data/PUBKEYS.json")).unwrap();
    assert_eq!(ccp::detect_kind(&value), Some(SchemaKind::CcpPubkeys));
    let bundle: ccp::PubkeyBundle = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(bundle.version, "2025-10-24");
    assert_eq!(bundle.keys.len(), 1);
    assert_eq!(
        (bundle.keys[0].id.as_str(), bundle.keys[0].key_type.as_str()),
        ("default", "ed25519")
    );
    assert_eq!(validate::validate(SchemaKind::CcpPubkeys, &value), vec![]);
}

/// The leading JSON object of a file that continues with prose (as the CCP repo's
/// `expected_usage_*.json` do).
fn leading_object(text: &str) -> Json {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Json>();
    stream.next().expect("a leading value").expect("the leading value is JSON")
}

#[test]
fn expected_usage_files_parse_as_usage_responses_in_percent_scale() {
    for (file, rolling, warn) in
        [("expected_usage_50.json", 50.0, false), ("expected_usage_warn.json", 85.0, true)]
    {
        let text = read(&format!("ccp-repo-data/{file}"));
        assert!(serde_json::from_str::<Json>(&text).is_err(), "{file} has trailing prose");
        let value = leading_object(&text);
        let usage: ccp::UsageResponse =
            serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{file}: {e}"));
        let model = &usage.models["claude-haiku-4.5"];
        // Percent scale, not CCP's fractions: converting is the caller's business.
        assert_eq!((model.rolling_pct, model.warn, model.block), (rolling, warn, false), "{file}");
        assert_eq!(usage.ts, 0.0, "{file}: absent ts reads as 0");
        assert_eq!(validate::validate(SchemaKind::CcpUsage, &value), vec![], "{file}");
    }
}

#[test]
fn the_python_r35_snapshot_parses_as_a_usage_response() {
    let value: Json =
        serde_json::from_str(&read("agentos-py/ccc/ccc_usage_r35_full.json")).unwrap();
    assert_eq!(ccp::detect_kind(&value), Some(SchemaKind::CcpUsage));
    let usage: ccp::UsageResponse = serde_json::from_value(value.clone()).unwrap();
    let haiku = &usage.models["claude-haiku-4.5"];
    assert_eq!((haiku.warn_pct_auto, haiku.gap_seconds_p95), (0.72, 48.0));
    assert!(usage.models.contains_key("claude-3.5-sonnet"));
    assert_eq!(validate::validate(SchemaKind::CcpUsage, &value), vec![]);
}

#[test]
fn unrelated_json_is_not_recognised() {
    for value in [
        serde_json::json!({"DEV-TRIAL-7D": {"plan": "trial"}}),
        serde_json::json!([1, 2]),
        serde_json::json!("text"),
        serde_json::json!({}),
    ] {
        assert_eq!(ccp::detect_kind(&value), None, "{value}");
    }
}

#[test]
fn a_new_ccp_field_is_tolerated_but_named() {
    let mut value: Json = serde_json::from_str(&read("ccp/v1_usage.json")).unwrap();
    value["models"]["claude-haiku-4.5"]["speeds"]["rolling"]["out_p99_tps"] = Json::from(1.5);
    value["brand_new"] = Json::from(true);
    assert_eq!(validate::validate(SchemaKind::CcpUsage, &value), vec![]);
    let unknown = validate::unknown_fields(SchemaKind::CcpUsage, &value);
    let mut pointers: Vec<_> = unknown.iter().map(|v| v.pointer.as_str()).collect();
    pointers.sort();
    assert_eq!(
        pointers,
        ["/brand_new", "/models/claude-haiku-4.5/speeds/rolling/out_p99_tps"],
        "{unknown:?}"
    );
    assert!(unknown[0].message.contains("ccp-usage"), "{}", unknown[0].message);
}

#[test]
fn a_wrongly_typed_ccp_field_is_reported_at_its_pointer() {
    let mut value: Json = serde_json::from_str(&read("ccp/v1_quotas.json")).unwrap();
    value["config"]["models"]["claude-haiku-4.5"]["rolling_tokens"] = Json::from("lots");
    let violations = validate::validate(SchemaKind::CcpQuotas, &value);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].pointer, "/config/models/claude-haiku-4.5/rolling_tokens");
}
