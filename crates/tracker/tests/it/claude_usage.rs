//! Claude `/usage` on every fixture (reference §7.6.2's observed values) and the section rules.

use agentos_tracker::{ClaudeUsage, parse_claude_usage};

use crate::fixture;

fn parse(rel: &str) -> ClaudeUsage {
    parse_claude_usage(&fixture(rel)).unwrap()
}

#[test]
fn wide_pane() {
    let u = parse("claude/usage_wide_90_1_0.txt");
    assert_eq!(u.session_pct, Some(1));
    assert_eq!(u.session_resets.as_deref(), Some("8:59pm (Asia/Irkutsk)"));
    assert_eq!(u.all_models_pct, Some(90));
    assert_eq!(u.all_models_resets.as_deref(), Some("Oct 20, 1:59am (Asia/Irkutsk)"));
    assert_eq!(u.opus_pct, Some(0));
    assert_eq!(u.errors, []);
}

#[test]
fn week_without_qualifier_is_all_models() {
    let u = parse("claude/usage_wide_weekly_only.txt");
    assert_eq!(u.session_pct, Some(1));
    assert_eq!(u.session_resets.as_deref(), Some("8:59pm (Asia/Irkutsk)"));
    assert_eq!(u.all_models_pct, Some(90));
    assert_eq!(u.all_models_resets.as_deref(), Some("Oct 20, 1:59am (Asia/Irkutsk)"));
    assert_eq!(u.opus_pct, None);
    assert_eq!(u.errors, []);
}

#[test]
fn narrow_pane_keeps_only_the_resets_line() {
    let u = parse("claude/usage_narrow_90_1_0.txt");
    assert_eq!(u.session_pct, Some(1));
    assert_eq!(u.session_resets.as_deref(), Some("9pm"));
    assert_eq!(u.all_models_pct, Some(90));
    assert_eq!(u.all_models_resets.as_deref(), Some("Oct"));
    assert_eq!(u.opus_pct, Some(0));
    assert_eq!(u.errors, []);
}

#[test]
fn failed_or_dismissed_panes_are_not_loaded() {
    for rel in ["claude/usage_failed_to_load.txt", "claude/usage_status_dismissed.txt"] {
        let u = parse(rel);
        let mut expected = ClaudeUsage::default();
        assert_eq!(u.errors, ["usage-not-loaded"], "{rel}");
        expected.errors = u.errors.clone();
        assert_eq!(u, expected, "{rel}: every value null");
    }
}

#[test]
fn missing_percentages_are_named() {
    let pane = "Current session\n Resets 5pm\n\nCurrent week (all models)\n Resets Mon\n";
    let u = parse_claude_usage(pane).unwrap();
    assert_eq!(u.session_pct, None);
    assert_eq!(u.session_resets.as_deref(), Some("5pm"));
    assert_eq!(u.all_models_pct, None);
    assert_eq!(u.all_models_resets.as_deref(), Some("Mon"));
    assert_eq!(u.errors, ["section-missing-week", "section-missing-session"]);
}

#[test]
fn no_sections_is_all_null_without_errors() {
    let u = parse_claude_usage("> /usage\n Esc to exit\n").unwrap();
    assert_eq!(u, ClaudeUsage::default());
}

#[test]
fn other_week_qualifiers_count_as_all_models_last_wins() {
    let pane = "\x1b[2mCurrent week (all models)\x1b[0m\n 20% used\n\
                CURRENT WEEK (Sonnet)\n 35% u s e d\n Resets Fri\n";
    let u = parse_claude_usage(pane).unwrap();
    assert_eq!(u.all_models_pct, Some(35));
    assert_eq!(u.all_models_resets.as_deref(), Some("Fri"));
    assert_eq!(u.errors, []);
}

#[test]
fn serialises_as_the_tracker_dict() {
    let json = serde_json::to_string(&parse("claude/usage_wide_weekly_only.txt")).unwrap();
    assert_eq!(
        json,
        r#"{"session_pct":1,"session_resets":"8:59pm (Asia/Irkutsk)","all_models_pct":90,"all_models_resets":"Oct 20, 1:59am (Asia/Irkutsk)","opus_pct":null,"errors":[]}"#
    );
}
