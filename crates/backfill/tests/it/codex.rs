//! Codex rollouts read across runs: the cumulative total carried in the ledger.

use crate::common::{Env, Totals, append_lines, totals, write_lines};

fn token_count(ts: &str, total: (u64, u64, u64), last: Option<(u64, u64, u64)>) -> String {
    let u = |(i, c, o): (u64, u64, u64)| {
        serde_json::json!({"input_tokens": i, "cached_input_tokens": c, "output_tokens": o,
            "reasoning_output_tokens": 0, "total_tokens": i + o})
    };
    let mut info = serde_json::json!({"total_token_usage": u(total)});
    if let Some(l) = last {
        info["last_token_usage"] = u(l);
    }
    serde_json::json!({"timestamp": ts, "type": "event_msg",
        "payload": {"type": "token_count", "info": info, "rate_limits": null}})
    .to_string()
}

#[test]
fn a_totals_only_session_appended_between_runs_counts_the_difference() {
    let env = Env::new();
    let day = env.codex_day("2026/03/01");
    let id = "cccccccc-0000-4000-8000-000000000001";
    let f = day.join(format!("rollout-2026-03-01T10-00-00-{id}.jsonl"));
    write_lines(
        &f,
        &[
            serde_json::json!({"timestamp": "2026-03-01T10:00:00Z", "type": "session_meta",
                "payload": {"id": id, "cwd": "/w/x", "cli_version": "0.30.0"}})
            .to_string(),
            serde_json::json!({"timestamp": "2026-03-01T10:00:01Z", "type": "turn_context",
                "payload": {"model": "gpt-5-codex"}})
            .to_string(),
            token_count("2026-03-01T10:01:00Z", (300, 100, 30), None),
        ],
    );
    let (_, first) = env.import();
    assert_eq!(totals(&first), Totals::new(1, 200, 30, 0, 0, 100));
    append_lines(
        &f,
        &[
            token_count("2026-03-01T10:02:00Z", (300, 100, 30), None),
            serde_json::json!({"timestamp": "2026-03-01T10:02:30Z", "type": "turn_context",
                "payload": {"model": "gpt-5"}})
            .to_string(),
            token_count("2026-03-01T10:03:00Z", (1000, 400, 90), None),
        ],
    );
    let (report, second) = env.import();
    assert_eq!((report.files_appended, report.responses, report.duplicates), (1, 1, 1));
    // Delta of totals: input 700 of which 300 cached, output 60; the model switched.
    let t = second.iter().find(|e| e["type"] == "turn").unwrap();
    assert_eq!(t["turn"]["model"], "gpt-5");
    assert_eq!(t["turn"]["session_id"], id);
    assert_eq!(totals(&second), Totals::new(1, 400, 60, 0, 0, 300));
    assert_eq!(totals(&env.events()), Totals::new(2, 600, 90, 0, 0, 400));
}
