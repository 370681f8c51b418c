//! Unit tests of the price table: the bundled file, the family matcher, the cost of a
//! response (hand-calculated), overrides.

use super::*;

fn families() -> Vec<&'static str> {
    vec![
        "claude-opus-4",
        "claude-opus-4-1",
        "claude-opus-4-5",
        "claude-sonnet-4-5",
        "gpt-5",
        "gpt-5-codex",
        "gpt-5.1-codex",
        "gpt-5.1-codex-max",
        "glm-4.5",
        "glm-4.5-air",
    ]
}

#[test]
fn the_bundled_table_parses_and_names_its_date() {
    let t = PriceTable::parse(BUNDLED_JSON).expect("bundled table");
    assert_eq!(t.date, "2026-11-30");
    assert_eq!(t.id, "agentos-2026-11-30");
    assert!(t.models.len() > 30);
    assert_eq!(PriceTable::bundled(), t);
}

#[test]
fn dated_and_prefixed_ids_resolve_to_their_family() {
    let f = families();
    let cases = [
        ("claude-sonnet-4-5-20250929", Some("claude-sonnet-4-5")),
        ("anthropic/claude-sonnet-4-5-20250929", Some("claude-sonnet-4-5")),
        ("openrouter/anthropic/claude-opus-4-1", Some("claude-opus-4-1")),
        ("us.anthropic.claude-opus-4-5-20251101-v1:0", Some("claude-opus-4-5")),
        ("claude-opus-4-5@20251101", Some("claude-opus-4-5")),
        ("Claude-Sonnet-4.5", Some("claude-sonnet-4-5")),
        ("claude-sonnet-4-5[1m]", Some("claude-sonnet-4-5")),
        ("claude-opus-4-20250514", Some("claude-opus-4")),
        ("claude-opus-4-1-20250805", Some("claude-opus-4-1")),
        ("gpt-5", Some("gpt-5")),
        ("gpt-5-2025-08-07", Some("gpt-5")),
        ("gpt-5-codex", Some("gpt-5-codex")),
        ("openai/gpt-5-codex", Some("gpt-5-codex")),
        ("gpt-5.1-codex-max", Some("gpt-5.1-codex-max")),
        ("gpt-5.1-codex", Some("gpt-5.1-codex")),
        ("glm-4.5-air", Some("glm-4.5-air")),
        ("glm-4.5", Some("glm-4.5")),
        // Other models, not neighbours of a known one.
        ("claude-opus-4-9", None),
        ("gpt-5.3-codex", None),
        ("gpt-5-pro", None),
        ("gpt-50", None),
        ("glm-4.6", None),
        ("", None),
        ("<synthetic>", None),
    ];
    for (model, want) in cases {
        assert_eq!(family_of(f.iter().copied(), model), want, "{model}");
    }
}

#[test]
fn the_longest_family_wins_whatever_the_table_order() {
    let mut f = families();
    f.reverse();
    assert_eq!(family_of(f.iter().copied(), "gpt-5.1-codex-max"), Some("gpt-5.1-codex-max"));
    assert_eq!(family_of(f.iter().copied(), "claude-opus-4-5-20251101"), Some("claude-opus-4-5"));
}

#[test]
fn a_response_costs_what_the_list_prices_say() {
    let t = PriceTable::bundled();
    let (family, sonnet) = t.lookup("claude-sonnet-4-5-20250929").expect("priced");
    assert_eq!(family, "claude-sonnet-4-5");
    // 1,000 in × $3 + 2,000 out × $15 + 3,000 5m writes × $3.75 + 4,000 1h writes × $6
    // + 10,000 reads × $0.30, per 1M: (3,000 + 30,000 + 11,250 + 24,000 + 3,000) / 1e6.
    let tokens = Tokens {
        input: 1_000,
        output: 2_000,
        cache_write: 7_000,
        cache_write_1h: 4_000,
        cache_read: 10_000,
    };
    assert!((sonnet.cost(&tokens) - 0.071_25).abs() < 1e-12, "{}", sonnet.cost(&tokens));
    // OpenAI: no cache writes; cached input at $0.125.
    let (_, codex) = t.lookup("gpt-5-codex").expect("priced");
    let tokens =
        Tokens { input: 1_000_000, output: 100_000, cache_read: 2_000_000, ..Tokens::default() };
    // 1.25 + 1.0 + 0.25
    assert!((codex.cost(&tokens) - 2.5).abs() < 1e-12);
}

#[test]
fn one_hour_cache_writes_cost_twice_the_input_price_for_claude() {
    let t = PriceTable::bundled();
    for (family, p) in t.models.iter().filter(|(f, _)| f.starts_with("claude")) {
        let w1h = p.cache_write_1h.expect("claude families give 1h writes");
        assert!((w1h - 2.0 * p.input).abs() < 1e-9, "{family}: {w1h} vs {}", p.input);
    }
}

#[test]
fn above_the_threshold_every_token_of_the_response_pays_the_long_context_rate() {
    let t = PriceTable::bundled();
    let (_, sonnet) = t.lookup("claude-sonnet-4-20250514").expect("priced");
    // 200,000 input in all: not above the threshold.
    let at = Tokens { input: 100_000, cache_read: 100_000, output: 1_000, ..Tokens::default() };
    // 100,000 × 3 + 100,000 × 0.3 + 1,000 × 15 = 345,000 → $0.345
    assert!((sonnet.cost(&at) - 0.345).abs() < 1e-12, "{}", sonnet.cost(&at));
    // One more token: 100,001 × 6 + 100,000 × 0.6 + 1,000 × 22.5 = 682,506 → $0.682506
    let above = Tokens { input: 100_001, ..at };
    assert!((sonnet.cost(&above) - 0.682_506).abs() < 1e-12, "{}", sonnet.cost(&above));
}

#[test]
fn missing_cache_prices_fall_back_to_the_input_price() {
    let t = PriceTable::parse(
        r#"{"id":"x","date":"2026-01-01","models":{"m":{"input":2,"output":4}}}"#,
    )
    .expect("table");
    let (_, p) = t.lookup("m").expect("priced");
    let tokens = Tokens {
        cache_write: 1_000_000,
        cache_write_1h: 500_000,
        cache_read: 1_000_000,
        ..Tokens::default()
    };
    assert!((p.cost(&tokens) - 4.0).abs() < 1e-12);
}

#[test]
fn an_unknown_model_is_unpriced_not_free() {
    assert!(PriceTable::bundled().lookup("my-local-llama").is_none());
}

#[test]
fn overrides_replace_and_extend_families() {
    let mut t = PriceTable::bundled();
    let over = PriceTable::parse(
        r#"{"id":"mine","date":"2026-12-01","models":{"gpt-5":{"input":1,"output":1},"my-llm":{"input":0.5,"output":0.5}}}"#,
    )
    .expect("table");
    t.overlay(over);
    assert_eq!(t.lookup("gpt-5").map(|(_, p)| p.output), Some(1.0));
    assert!(t.lookup("my-llm-7b").is_none(), "a sibling name is not the family");
    assert_eq!(t.lookup("my-llm").map(|(_, p)| p.input), Some(0.5));
    assert_eq!(t.lookup("gpt-5-codex").map(|(_, p)| p.output), Some(10.0), "kept");
}

#[test]
fn bad_tables_are_refused_with_the_field() {
    let negative = r#"{"id":"x","date":"d","models":{"m":{"input":-1,"output":1}}}"#;
    let e = PriceTable::parse(negative).expect_err("negative");
    assert!(e.to_string().contains("m.input"), "{e}");
    let upper = r#"{"id":"x","date":"d","models":{"GPT-5":{"input":1,"output":1}}}"#;
    assert!(matches!(PriceTable::parse(upper), Err(PriceError::Family(_))));
    assert!(matches!(PriceTable::parse("[1]"), Err(PriceError::Json(_))));
}

#[cfg(feature = "validate")]
#[test]
fn the_bundled_table_validates_against_its_generated_schema() {
    let v: serde_json::Value = serde_json::from_str(BUNDLED_JSON).expect("json");
    assert_eq!(crate::validate::validate(crate::catalog::SchemaKind::V1Prices, &v), vec![]);
    let mut bad = v.clone();
    bad["models"]["gpt-5"]["input"] = serde_json::json!(-1);
    assert!(!crate::validate::validate(crate::catalog::SchemaKind::V1Prices, &bad).is_empty());
}
