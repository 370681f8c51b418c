//! Codex ccusage, every scope (reference §7.6.5).

use agentos_tracker::ccusage::{CodexCcusage, Daily, Sessions, Weekly};
use agentos_tracker::{CcusageScope, parse_codex_ccusage};
use serde_json::json;

use crate::fixture;

fn sessions(text: &str) -> Sessions {
    match parse_codex_ccusage(text, CcusageScope::from_name("session")).unwrap() {
        CodexCcusage::Sessions(s) => s,
        other => panic!("not sessions: {other:?}"),
    }
}

fn daily(text: &str) -> Daily {
    match parse_codex_ccusage(text, CcusageScope::from_name("Daily")).unwrap() {
        CodexCcusage::Daily(d) => d,
        other => panic!("not daily: {other:?}"),
    }
}

fn weekly(text: &str) -> Weekly {
    match parse_codex_ccusage(text, CcusageScope::from_name("WEEKLY")).unwrap() {
        CodexCcusage::Weekly(w) => w,
        other => panic!("not weekly: {other:?}"),
    }
}

#[test]
fn scope_names() {
    assert_eq!(CcusageScope::from_name("daily"), CcusageScope::Daily);
    assert_eq!(CcusageScope::from_name("Weekly"), CcusageScope::Weekly);
    assert_eq!(CcusageScope::from_name("sessions"), CcusageScope::Session);
    assert_eq!(CcusageScope::from_name(""), CcusageScope::Session);
}

#[test]
fn sessions_sample() {
    let s = sessions(&fixture("ccusage/codex_sessions_sample.json"));
    // 51 sessions (grep -c sessionId); totals from the file's `totals` block.
    assert_eq!(s.session_count, 51);
    assert_eq!(s.sessions.len(), 51);
    assert_eq!(s.total_tokens, 7_372_723_263);
    assert_eq!(s.cost_usd, 1463.2939497500001);
    let latest = s.latest_session.as_ref().unwrap();
    assert_eq!(
        latest.session_id,
        json!("2025/10/19/rollout-2025-10-19T01-57-49-0199f878-7b4c-7423-9b83-c2bd6e6749d6")
    );
    assert_eq!(latest.last_activity, "2025-10-19T06:32:52.714Z");
    assert_eq!(latest.total_tokens, Some(142_302_700));
    assert_eq!(s.errors, []);
    let first = &s.sessions[0];
    assert_eq!(first.total_tokens, Some(116_966_092));
    assert_eq!(first.cost_usd, 21.5710655);
    assert_eq!(first.last_activity, "2025-10-06T08:02:24.975Z");
}

#[test]
fn sessions_without_totals_sum_and_ties_go_to_the_later_one() {
    let text = r#"{"sessions":[
        {"sessionId":"a","totalTokens":10,"costUSD":1.5,"lastActivity":"2025-10-02"},
        {"sessionId":"b","totalTokens":"20.9","costUSD":null,"lastActivity":"2025-10-02"},
        {"sessionId":"c","totalTokens":null,"costUSD":2},
        "junk"]}"#;
    let s = sessions(text);
    assert_eq!(s.session_count, 3);
    assert_eq!(s.total_tokens, 10 + 20);
    assert_eq!(s.cost_usd, 1.5 + 0.0 + 2.0);
    assert_eq!(s.latest_session.as_ref().unwrap().session_id, json!("b"));
    assert_eq!(s.sessions[2].last_activity, "");
    assert_eq!(s.sessions[2].total_tokens, None);
    assert_eq!(s.errors, []);
    let s = sessions(r#"{"sessions":[]}"#);
    assert_eq!(s.errors, ["no-sessions"]);
    assert_eq!(s.latest_session, None);
    let s = sessions(r#"{"sessions":{}}"#);
    assert_eq!(s.errors, ["invalid-sessions"]);
}

#[test]
fn daily_sample() {
    let d = daily(&fixture("ccusage/codex_daily_sample.json"));
    assert_eq!(
        serde_json::to_value(&d).unwrap(),
        json!({
            "scope": "daily",
            "generated_at": "2025-10-19T12:05:00Z",
            "reset_at": "2025-10-20T21:11:00Z",
            "days": [
                {"date": "2025-10-18", "total_tokens": 654321, "percent_used": 11.2, "cost_usd": 42.17},
                {"date": "2025-10-19", "total_tokens": 123456, "percent_used": 12.5, "cost_usd": 15.75}
            ],
            "total_tokens": 777777,
            "cost_usd": 57.92,
            "errors": []
        })
    );
}

#[test]
fn daily_falsy_values_fall_through() {
    // A real 0 falls through to the alternative key, as Python's `or` does.
    let text = r#"{"generatedAt":"g","reset_at":"r","daily":[
        {"date":"d1","totalTokens":0,"tokens":5,"percentUsed":0,"costUSD":0,"cost":1.25},
        {"tokens":7,"percent":3.5}]}"#;
    let d = daily(text);
    assert_eq!(d.generated_at, json!("g"));
    assert_eq!(d.reset_at, json!("r"));
    assert_eq!(d.days[0].total_tokens, Some(5));
    assert_eq!(d.days[0].percent_used, None);
    assert_eq!(d.days[0].cost_usd, Some(1.25));
    assert_eq!(d.days[1].date, "");
    assert_eq!(d.days[1].percent_used, Some(3.5));
    assert_eq!(d.total_tokens, 5 + 7);
    assert_eq!(d.cost_usd, 1.25);
    assert_eq!(d.errors, []);
    assert_eq!(daily(r#"{"days":[]}"#).errors, ["no-days"]);
    assert_eq!(daily(r#"{"days":3}"#).errors, ["invalid-days"]);
}

#[test]
fn weekly_sample() {
    let w = weekly(&fixture("ccusage/codex_weekly_sample.json"));
    assert_eq!(
        serde_json::to_value(&w).unwrap(),
        json!({
            "scope": "weekly",
            "generated_at": "2025-10-20T07:00:00Z",
            "reset_at": "2025-10-25T21:11:00Z",
            "weekly": {
                "start_date": "2025-10-19",
                "end_date": "2025-10-25",
                "percent_used": 9.2,
                "tokens_used": 987654321,
                "tokens_remaining": 123456789,
                "cost_usd": 180.25
            },
            "total_tokens": 987654321,
            "errors": []
        })
    );
}

#[test]
fn weekly_fallbacks() {
    let w = weekly(r#"{"week":{"start":"s","end":"e","percent":1,"totalTokens":9}}"#);
    let week = w.weekly.as_ref().unwrap();
    assert_eq!(week.start_date, json!("s"));
    assert_eq!(week.end_date, json!("e"));
    assert_eq!(week.tokens_used, Some(9));
    assert_eq!(week.tokens_remaining, None);
    assert_eq!(w.total_tokens, 9);
    let w = weekly(r#"{"currentWeek":[]}"#);
    assert_eq!(w.errors, ["invalid-week"]);
    assert_eq!(w.weekly, None);
    assert_eq!(w.total_tokens, 0);
}

#[test]
fn invalid_json_in_every_scope() {
    let text = fixture("ccusage/codex_invalid_sample.json");
    for scope in [CcusageScope::Session, CcusageScope::Daily, CcusageScope::Weekly] {
        let r = parse_codex_ccusage(&text, scope).unwrap();
        assert_eq!(*r.errors(), ["invalid-json"], "{scope:?}");
    }
    let s = sessions(&text);
    assert_eq!((s.session_count, s.total_tokens, s.cost_usd), (0, 0, 0.0));
    assert_eq!(s.latest_session, None);
    assert_eq!(serde_json::to_value(&s).unwrap()["scope"], json!("session"));
}
