//! claude-monitor's realtime screen (reference §7.6.3).

use agentos_tracker::{ClaudeMonitor, parse_claude_monitor_realtime};

use crate::fixture;

#[test]
fn realtime_sample() {
    // `Token Usage: [...] 0.0%`, `Tokens: 0 / ~153,378`, `Burn Rate: 0.0`, `Cost Rate: $0.00`,
    // `Sent Messages: 0`.
    let m = parse_claude_monitor_realtime(&fixture("claude_monitor/realtime_sample.txt")).unwrap();
    assert_eq!(
        m,
        ClaudeMonitor {
            token_usage_pct: Some(0.0),
            tokens_used: Some(0),
            token_limit: Some(153_378),
            burn_rate_per_min: Some(0.0),
            cost_rate_per_min: Some(0.0),
            message_count: Some(0),
            ..ClaudeMonitor::default()
        }
    );
    assert_eq!(m.errors, []);
}

#[test]
fn help_text_has_nothing() {
    for rel in [
        "claude_monitor/claude_monitor_help.txt",
        "claude_monitor/claude_monitor_realtime_help.txt",
    ] {
        let m = parse_claude_monitor_realtime(&fixture(rel)).unwrap();
        assert_eq!(m.token_usage_pct, None);
        assert_eq!(m.tokens_used, None);
        assert_eq!(m.token_limit, None);
        assert_eq!(m.burn_rate_per_min, None);
        assert_eq!(m.cost_rate_per_min, None);
        assert_eq!(m.message_count, None);
        assert_eq!(m.errors, ["token-usage-missing", "token-count-missing", "insufficient-data"]);
    }
}

#[test]
fn busy_screen() {
    let screen = "Token Usage:  [#####] 41.5%\nTokens:  63,652 / 153,378 (89,726 left)\n\
                  Burn Rate: 512.25 tokens/min\nCost Rate: $0.37 $/min\nSent Messages: 1234 messages\n";
    let m = parse_claude_monitor_realtime(screen).unwrap();
    assert_eq!(m.token_usage_pct, Some(41.5));
    assert_eq!(m.tokens_used, Some(63_652));
    assert_eq!(m.token_limit, Some(153_378));
    assert_eq!(m.burn_rate_per_min, Some(512.25));
    assert_eq!(m.cost_rate_per_min, Some(0.37));
    assert_eq!(m.message_count, Some(1234));
    assert_eq!(m.errors, []);
}

#[test]
fn malformed_numbers_read_as_missing() {
    // Python's float("1.2.3") raises; here the value is missing and named.
    let m = parse_claude_monitor_realtime("Token Usage: [] 1.2.3%\nTokens: 5 / 1.2.3\n").unwrap();
    assert_eq!(m.token_usage_pct, None);
    assert_eq!(m.tokens_used, None);
    assert_eq!(m.errors, ["token-usage-missing", "token-count-missing", "insufficient-data"]);
}

#[test]
fn serialises_as_the_tracker_dict() {
    let m = parse_claude_monitor_realtime(&fixture("claude_monitor/realtime_sample.txt")).unwrap();
    assert_eq!(
        serde_json::to_string(&m).unwrap(),
        r#"{"token_usage_pct":0.0,"tokens_used":0,"token_limit":153378,"burn_rate_per_min":0.0,"cost_rate_per_min":0.0,"message_count":0,"errors":[]}"#
    );
}
