//! `review` of CCC's config files against the CCP repository's own files and the captures.

use agentos_event_schema::ccp::{QuotasResponse, ReadyzResponse, UsageResponse};
use agentos_testkit::fake_ccc::{capture, captures_dir};

use crate::api::{
    ConfigError, ConfigInputs, Readiness, Severity, parse_providers, parse_quotas_file, review,
};

fn repo_data(name: &str) -> String {
    std::fs::read_to_string(captures_dir().join("../ccp-repo-data").join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn typed<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_slice(&capture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn subjects(f: &[crate::api::Finding], s: Severity) -> Vec<String> {
    f.iter().filter(|x| x.severity == s).map(|x| x.subject.clone()).collect()
}

#[test]
fn ccp_s_example_catalog_fails_validation_and_has_a_route_that_never_matches() {
    let cat =
        parse_providers(&repo_data("providers.example.yaml")).unwrap_or_else(|e| panic!("{e}"));
    // by hand from the file: 5 providers, `local` has neither key_env nor scoped_env (openai
    // has scoped_env); 4 routes, the 4th (`local/*`) has a '/'
    assert_eq!(cat.providers.len(), 5);
    assert_eq!(cat.routes.len(), 4);
    assert_eq!(cat.providers["openai"].scoped_env.len(), 2);
    let f = review(&ConfigInputs { providers: Some(&cat), ..ConfigInputs::default() });
    assert_eq!(subjects(&f, Severity::Problem), ["providers/local", "routes/3"]);
    assert!(f.iter().any(|x| x.message.contains("can never match")), "{f:?}");
}

#[test]
fn catalog_rules() {
    let cat = parse_providers(
        "providers:\n  a:\n    key_env: K\n    header_mode: bearer\nroutes:\n  - pattern: x*\n    provider: b\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let f = review(&ConfigInputs { providers: Some(&cat), ..ConfigInputs::default() });
    let problems: Vec<&str> =
        f.iter().filter(|x| x.severity == Severity::Problem).map(|x| x.message.as_str()).collect();
    assert_eq!(problems.len(), 3, "{problems:?}"); // no base_url, bad header_mode, unknown provider
    let empty = parse_providers("").unwrap_or_else(|e| panic!("{e}"));
    let f = review(&ConfigInputs { providers: Some(&empty), ..ConfigInputs::default() });
    assert_eq!(subjects(&f, Severity::Problem), ["providers"]);
    assert!(matches!(parse_providers("providers: [1, 2"), Err(ConfigError::Providers(_))));
    assert!(matches!(parse_providers("providers:\n  a: 3\n"), Err(ConfigError::Providers(_))));
}

#[test]
fn the_example_quotas_file_next_to_what_ccc_loaded() {
    let file =
        parse_quotas_file(&repo_data("quotas.example.json")).unwrap_or_else(|e| panic!("{e}"));
    let loaded: QuotasResponse = typed("v1_quotas.json");
    let f = review(&ConfigInputs {
        quotas_file: Some((&file, "/home/dev/ccp/configs/quotas.example.json")),
        loaded: Some(&loaded),
        ..ConfigInputs::default()
    });
    // by hand: haiku differs (file: 300000 rolling, 40 hours; loaded: 1000, 100000 tokens),
    // sonnet is the same; the paths differ; both file models have an hours limit
    assert_eq!(subjects(&f, Severity::Differs), ["quotas", "quotas/claude-haiku-4.5"]);
    assert_eq!(
        subjects(&f, Severity::Suggestion),
        ["quotas/claude-haiku-4.5", "quotas/claude-sonnet-4.5"]
    );
    assert!(subjects(&f, Severity::Problem).is_empty(), "{f:?}");
    // `$schema` is ignored like CCP does, kept as an unknown key
    assert!(file.extra.contains_key("$schema"));
    match parse_quotas_file("{\"windows\":{\"rolling_seconds\":\"5h\"}}") {
        Err(ConfigError::Quotas { pointer, .. }) => assert_eq!(pointer, "/windows/rolling_seconds"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn usage_suggestions_and_a_broken_catalog() {
    let loaded: QuotasResponse = typed("v1_quotas.json");
    let mut usage: UsageResponse = typed("v1_usage.json");
    if let Some(m) = usage.models.get_mut("claude-sonnet-4.5") {
        m.weekly_pct = 0.93;
    }
    let readyz =
        Readiness { status: 503, body: typed::<ReadyzResponse>("readyz_catalog_error_503.json") };
    let f = review(&ConfigInputs {
        loaded: Some(&loaded),
        usage: Some(&usage),
        readyz: Some(&readyz),
        ..ConfigInputs::default()
    });
    // claude-haiku-force429 has traffic in the capture and no quota; sonnet at 93 %
    let usage_subjects: Vec<String> = subjects(&f, Severity::Suggestion)
        .into_iter()
        .filter(|s| s.starts_with("usage/"))
        .collect();
    assert_eq!(usage_subjects, ["usage/claude-haiku-force429", "usage/claude-sonnet-4.5"]);
    assert_eq!(subjects(&f, Severity::Problem), ["providers"]);
}
