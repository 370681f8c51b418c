//! The per-session window record, computed from a session's turns (issue #9: in `rollup`, not
//! in the recorder); expected numbers worked out by hand.

use agentos_event_schema::v1::{OutcomeKind, TurnEvent};
use agentos_event_schema::{SessionId, Timestamp};
use agentos_rollup::{SessionWindow, window_record};

fn turn(json: &str) -> TurnEvent {
    serde_json::from_str(json).unwrap()
}

fn turns() -> Vec<TurnEvent> {
    let base = |model: &str, tin: u64, tout: u64, rest: &str| {
        turn(&format!(
            r#"{{"type":"turn","turn":{{"turn_id":"t","session_id":"s","model":"{model}",
            "subagent":"main","tokens_in":{tin},"tokens_out":{tout},"input_kind":"text",
            "latency_ms":1.0{rest}}}"#
        ))
    };
    vec![
        // glm-4.6 is served by Z.ai; claude-sonnet-4.5 by Anthropic (the model table).
        base(
            "glm-4.6",
            100,
            10,
            r#","capacity_used":0.25},"measurement":{"cls":0.5,"impf":0.5,"churn_score":0.2,"feature_delta":1.0,"errors":[]},"outcome":{"kind":"tests_passed","count":2}"#,
        ),
        base(
            "glm-4.6",
            50,
            5,
            r#","capacity_used":0.5},"cost":{"provider":"zai","unit_costs":{},"estimated_usd":0.75}"#,
        ),
        base(
            "claude-sonnet-4.5",
            7,
            3,
            r#"},"measurement":{"cls":0.5,"impf":0.5,"churn_score":0.4,"feature_delta":0.5,"errors":[]},"outcome":{"kind":"tests_passed","count":1}"#,
        ),
    ]
}

#[test]
fn a_window_sums_each_providers_turns_and_takes_quality_from_the_mean_churn() {
    let sid = SessionId::from("s");
    let (start, end): (Timestamp, Timestamp) =
        ("2026-01-01T10:00:00Z".parse().unwrap(), "2026-01-01T11:00:00Z".parse().unwrap());
    let w = window_record(&sid, start, end, &turns());
    assert_eq!(
        (w.window_id.as_str(), &w.session_id, w.started_at, w.ended_at),
        ("s", &sid, start, end)
    );
    let names: Vec<&str> = w.providers.keys().map(String::as_str).collect();
    assert_eq!(names, ["anthropic", "zai"], "{:?}", w.providers);
    let zai = &w.providers["zai"];
    assert_eq!((zai.turns, zai.tokens_in, zai.tokens_out), (2, 150, 15));
    assert_eq!(zai.capacity_used, Some(0.75));
    assert_eq!((zai.features, zai.cost_usd), (1.0, 0.75));
    let anthropic = &w.providers["anthropic"];
    assert_eq!((anthropic.turns, anthropic.tokens_in, anthropic.tokens_out), (1, 7, 3));
    assert_eq!((anthropic.capacity_used, anthropic.features), (None, 0.5));
    // Mean churn of the two measured turns: (0.2 + 0.4) / 2 = 0.3, quality 1 − 0.3 = 0.7.
    assert!((w.quality.unwrap() - 0.7).abs() < 1e-12, "{:?}", w.quality);
    assert_eq!(w.outcomes.get(&OutcomeKind::TestsPassed), Some(&3));

    // Fed one turn at a time, the same record; no measured turn, no quality.
    let mut fold = SessionWindow::new();
    turns().iter().for_each(|t| fold.add_turn(t));
    assert_eq!(fold.finish(&sid, start, end), w);
    assert_eq!(window_record(&sid, start, end, &turns()[1..2]).quality, None);
}
