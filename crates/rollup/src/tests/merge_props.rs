//! Property test: the rollup of concatenated logs equals the merge of their rollups (issue
//! #17): two logs scanned apart, their partial aggregates merged, finish as one log read whole.

use camino::Utf8Path;
use proptest::prelude::*;
use serde_json::{Value as Json, json};

use crate::scan::{Totals, scan};
use crate::summary::finish;
use crate::*;

/// One generated event line; every number is exact in binary, so sums do not depend on the
/// order they are added in.
fn line(i: usize, kind: u8, session: u8, model: u8, n: u8) -> String {
    let s = format!("s{session}");
    let model = ["glm-4.6", "claude-sonnet-4.5", "gpt-5"][usize::from(model % 3)];
    let status = ["proposed", "implemented", "shipped"][usize::from(n % 3)];
    let ts = format!("2026-11-{:02}T{:02}:00:00Z", 1 + usize::from(n % 3), i % 24);
    let ev = match kind % 4 {
        0 => json!({"type": "session", "event_id": format!("e{i}"), "ts": ts,
            "session": {"session_id": s, "repo_id": "r", "branch": "b", "commit": "c",
                "license_id": "l", "privacy_tier": "local", "created_at": ts, "metadata": {}}}),
        3 => json!({"type": "session_end", "event_id": format!("e{i}"), "ts": ts,
            "session_id": s, "ended_at": ts}),
        _ => json!({"type": "turn", "event_id": format!("e{i}"), "ts": ts,
            "turn": {"turn_id": format!("t{i}"), "session_id": s,
                "model": model,
                "subagent": "main", "tokens_in": u64::from(n) * 10, "tokens_out": u64::from(n),
                "input_kind": "text", "latency_ms": f64::from(n) * 0.5,
                "attribution": {}, "capacity_used": f64::from(n % 8) / 8.0},
            "measurement": {"cls": f64::from(n % 4) * 0.25, "impf": 0.5, "churn_score": 0.25,
                "feature_delta": 1.0, "errors": []},
            "feature": {"feature_id": format!("f{}", n % 3), "spec_ref": "s",
                "status": status, "notes": ""},
            "cost": {"provider": "glm", "unit_costs": {}, "estimated_usd": f64::from(n) * 0.125}}),
    };
    ev.to_string()
}

fn totals_of(text: &str) -> Totals {
    let mut totals = Totals::default();
    let opts = SummaryOptions::default();
    if let Err(e) = scan(0, 0, Utf8Path::new("x.jsonl"), text.as_bytes(), &opts, 0, &mut totals) {
        panic!("scan failed: {e}");
    }
    totals
}

fn summary_json(r: Result<Rollup, Error>) -> Json {
    match r {
        Ok(r) => {
            let mut v = serde_json::to_value(&r.summary).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.remove("generated_at");
            }
            v
        }
        Err(e) => panic!("rollup failed: {e}"),
    }
}

proptest! {
    // 64 cases of up to 40 lines: each case is three small scans.
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn the_rollup_of_concatenated_logs_equals_the_merge_of_their_rollups(
        events in proptest::collection::vec((any::<u8>(), 0u8..4, any::<u8>(), any::<u8>()), 1..40),
        cut in any::<prop::sample::Index>(),
    ) {
        let lines: Vec<String> = events
            .iter()
            .enumerate()
            .map(|(i, &(k, s, m, n))| line(i, k, s, m, n) + "\n")
            .collect();
        let at = cut.index(lines.len() + 1);
        let (a, b) = (lines[..at].concat(), lines[at..].concat());
        let whole = summary_json(summarize_reader(Utf8Path::new("x.jsonl"), (a.clone() + &b).as_bytes(), &SummaryOptions::default()));
        let mut ta = totals_of(&a);
        let tb = totals_of(&b);
        ta.acc.merge(tb.acc);
        ta.diagnostics += tb.diagnostics;
        let merged = summary_json(finish(ta, &SummaryOptions::default(), true));
        // Every turn line counts (ids are distinct): the whole read is not vacuous.
        let turns = events.iter().filter(|e| matches!(e.0 % 4, 1 | 2)).count();
        prop_assert_eq!(&whole["turns"], &json!(turns));
        prop_assert_eq!(whole, merged);
    }
}
