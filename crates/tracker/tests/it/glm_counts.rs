//! GLM prompt counts (reference §7.6.4).

use agentos_tracker::parse_ccusage_counts;
use serde_json::json;

use crate::fixture;

#[test]
fn sample() {
    let g = parse_ccusage_counts(&fixture("glm/ccusage_sample.json")).unwrap();
    assert_eq!(
        serde_json::to_value(&g).unwrap(),
        json!({
            "account": "claude",
            "generated_at": "2025-11-05T10:02:17Z",
            "blocks": [{"window_id": "W0-02", "prompts_used": 118.0, "provider": "glm-4.6",
                        "duration_minutes": 300, "notes": "Pro block"}],
            "prompts_used": 118.0,
            "errors": []
        })
    );
}

#[test]
fn empty_blocks() {
    let g = parse_ccusage_counts(&fixture("glm/ccusage_missing_blocks.json")).unwrap();
    assert_eq!(g.prompts_used, 0.0);
    assert!(g.blocks.is_empty());
    assert_eq!(g.account, json!("claude"));
    assert_eq!(g.errors, ["no-blocks"]);
}

#[test]
fn blocks_sum_and_unusable_ones_are_skipped() {
    let text = r#"{"blocks":[{"window_id":"W0-01","prompts_used":"12.5"},{"prompts_used":null},
        7,{"prompts_used":[1]},{"window_id":"W0-09","prompts_used":30}]}"#;
    let g = parse_ccusage_counts(text).unwrap();
    assert_eq!(g.blocks.len(), 2);
    assert_eq!(g.prompts_used, 12.5 + 30.0);
    assert_eq!(g.account, serde_json::Value::Null);
    assert_eq!(g.errors, []);
}

#[test]
fn invalid_documents() {
    let g = parse_ccusage_counts("not json").unwrap();
    assert_eq!(g.errors, ["invalid-json"]);
    // The reference crashes on a top-level value that is not an object; here it is invalid.
    let g = parse_ccusage_counts("[1,2]").unwrap();
    assert_eq!(g.errors, ["invalid-json"]);
    let g = parse_ccusage_counts(r#"{"account":"a","blocks":{"x":1}}"#).unwrap();
    assert_eq!(g.errors, ["invalid-blocks"]);
    assert_eq!(g.prompts_used, 0.0);
}
