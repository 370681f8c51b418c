//! The validator (`agentos schema validate`) and the rollup agree on every line (issue #8,
//! point 6): a generated corpus of good and hostile lines, each judged by both.

use agentos_event_schema::catalog::SchemaKind;
use agentos_event_schema::validate;
use agentos_rollup::{SummaryOptions, summarize_reader};
use camino::Utf8Path;
use serde_json::{Value as Json, json};

fn bases() -> Vec<Json> {
    vec![
        json!({"type": "session", "event_id": "e0", "ts": "2026-11-22T01:00:00Z",
            "schema_version": "1.1.0",
            "session": {"session_id": "s", "repo_id": "r", "branch": "b", "commit": "c",
                "license_id": "l", "privacy_tier": "local",
                "created_at": "2026-11-22T01:00:00.000000Z", "metadata": {"k": "v"}}}),
        json!({"type": "turn", "event_id": "e1", "ts": "2026-11-22T01:02:03.000000Z",
            "schema_version": "1.1.0",
            "turn": {"turn_id": "t1", "session_id": "s", "model": "glm/4.6", "subagent": "main",
                "tokens_in": 10, "tokens_out": 20, "input_kind": "text", "latency_ms": 5.5,
                "attribution": {"glm/4.6": 1.0}, "capacity_used": 0.25},
            "measurement": {"cls": 1.0, "impf": 0.5, "churn_score": 0.1, "feature_delta": 1.0,
                "errors": ["e"]},
            "feature": {"feature_id": "f", "spec_ref": "s", "status": "shipped", "notes": "n"},
            "cost": {"provider": "glm", "unit_costs": {"in": 0.1}, "estimated_usd": 0.02},
            "value": {"summary": "v", "links": ["l"], "evidence_refs": ["r"]},
            "decision": {"reroute_mode": "hybrid", "preferred_attempt": 2,
                "gap_seconds_p50": 1.0, "warn_pct_auto": 0.5},
            "outcome": {"kind": "tests_passed", "count": 3}}),
        // Billed to a provider whose capacity is a share of its weekly quota (0 ..= 1), with
        // two attributed models (weights sum to ≤ 1): rules JSON Schema cannot express.
        json!({"type": "turn", "event_id": "e3", "ts": "2026-11-22T01:02:03Z",
            "schema_version": "1.1.0",
            "turn": {"turn_id": "t2", "session_id": "s", "model": "claude-sonnet-4.5",
                "subagent": "main", "tokens_in": 1, "tokens_out": 2, "input_kind": "text",
                "latency_ms": 1.0, "attribution": {"a": 0.5, "b": 0.5}, "capacity_used": 0.5},
            "cost": {"provider": "anthropic", "unit_costs": {}, "estimated_usd": 0.01}}),
        json!({"type": "session_end", "event_id": "e2", "ts": "2026-11-22T02:00:00Z",
            "schema_version": "1.1.0", "session_id": "s", "ended_at": "2026-11-22T02:00:00+01:00",
            "notes": "done"}),
    ]
}

/// Values a hostile writer puts anywhere.
fn hostile_values() -> Vec<Json> {
    let big = |s: &str| serde_json::from_str::<Json>(s).unwrap_or(Json::Null);
    vec![
        Json::Null,
        json!(true),
        json!(-1),
        json!(0),
        json!(1.0),
        json!(1.5),
        json!(1e2),
        json!(u64::MAX),
        big("18446744073709551616"),
        big("-9223372036854775809"),
        big("1e300"),
        json!(""),
        json!("x"),
        json!("2026-11-22T01:02:03Z"),
        json!("2026-13-01T00:00:00Z"),
        json!("2026-11-22T01:02:03"),
        json!("2026-11-22 01:02:03Z"),
        json!("2026-11-22t01:02:03z"),
        json!("2026-11-22T23:59:60Z"),
        json!("+002026-11-22T01:02:03Z"),
        json!("2026-11-22T01:02:03.1234567891Z"),
        json!([]),
        json!(["x"]),
        json!([1]),
        json!({}),
        json!({"a": 1}),
        json!({"a": "x"}),
        json!("shipped"),
        json!("text"),
        json!("local"),
        json!("tests_passed"),
    ]
}

/// Every pointer to a value in `v` (objects' members and array elements).
fn pointers(v: &Json, at: String, out: &mut Vec<String>) {
    match v {
        Json::Object(m) => {
            for (k, x) in m {
                let p = format!("{at}/{k}");
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        Json::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        _ => {}
    }
}

fn corpus() -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for base in bases() {
        lines.push(base.to_string().into_bytes());
        let mut ptrs = Vec::new();
        pointers(&base, String::new(), &mut ptrs);
        for p in &ptrs {
            for v in hostile_values() {
                let mut e = base.clone();
                if let Some(slot) = e.pointer_mut(p) {
                    *slot = v;
                }
                lines.push(e.to_string().into_bytes());
            }
            // The member removed.
            let mut e = base.clone();
            if let Some((parent, key)) = p.rsplit_once('/')
                && let Some(Json::Object(o)) = e.pointer_mut(parent)
            {
                o.remove(key);
            }
            lines.push(e.to_string().into_bytes());
        }
        // An unknown member at every object (tolerated by both).
        let mut e = base.clone();
        if let Some(o) = e.as_object_mut() {
            o.insert("zz_new".to_owned(), json!({"x": [1, 2.5]}));
        }
        lines.push(e.to_string().into_bytes());
        // `type` not first (the rollup's slow path), pretty-printed separators.
        let text = serde_json::to_string_pretty(&base).unwrap_or_default().replace('\n', " ");
        let moved = text.replacen("\"type\"", "\"aaa\": 0, \"type\"", 1);
        lines.push(text.into_bytes());
        lines.push(moved.into_bytes());
        // Invalid UTF-8 inside a string, a lone surrogate escape, truncation, garbage.
        let text = base.to_string();
        let mut bytes = text.clone().into_bytes();
        if let Some(i) = text.find("\"s\"") {
            bytes.insert(i + 1, 0xff);
        }
        lines.push(bytes);
        lines.push(text.replacen("\"s\"", "\"\\ud800\"", 1).into_bytes());
        for cut in [1, text.len() / 2, text.len() - 1] {
            lines.push(text.as_bytes().get(..cut).unwrap_or_default().to_vec());
        }
    }
    lines.push(b"[1, 2]".to_vec());
    lines.push(b"{\"type\": \"weird\"}".to_vec());
    lines.push(b"42".to_vec());
    lines
}

fn validator_accepts(line: &[u8]) -> bool {
    validate::parse_json(line).is_ok_and(|v| validate::validate(SchemaKind::V1Event, &v).is_empty())
}

/// The rollup's verdict, and why it refused the line.
fn rollup_verdict(line: &[u8]) -> (bool, String) {
    let mut text = line.to_vec();
    text.push(b'\n');
    match summarize_reader(Utf8Path::new("x.jsonl"), text.as_slice(), &SummaryOptions::default()) {
        Ok(r) => (
            r.summary.diagnostics == 0,
            r.diagnostics.first().map(|d| d.message.clone()).unwrap_or_default(),
        ),
        Err(e) => panic!("rollup failed: {e}"),
    }
}

#[test]
fn validator_and_rollup_agree_on_every_generated_line() {
    let corpus = corpus();
    let mut accepted = 0usize;
    let mut disagreements = Vec::new();
    for line in &corpus {
        let v = validator_accepts(line);
        let (r, why) = rollup_verdict(line);
        if v != r {
            disagreements.push(format!(
                "validator {v}, rollup {r} ({why}): {}",
                String::from_utf8_lossy(line)
            ));
        }
        accepted += usize::from(r);
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    // Both verdicts are well represented.
    assert!(accepted > 100 && corpus.len() - accepted > 1000, "{accepted} of {}", corpus.len());
}

/// A repeated key: the validator (a JSON value keeps the last one, as Python's json does) and
/// the rollup read the same line, counting the last value (found by `fuzz/event_differential`:
/// the rollup's borrowed structs refused a repeated key, or judged its first value).
#[test]
fn a_repeated_key_is_read_as_its_last_value_by_validator_and_rollup_alike() {
    let turn = r#"{"type": "turn", "event_id": "e1", "ts": "2026-11-22T01:02:03Z", "turn": {"turn_id": "t1", "session_id": "s", "model": "m", "subagent": "main", "tokens_in": 7, "tokens_out": 2, "input_kind": "text", "latency_ms": 1.0, "tokens_in": 10}}"#;
    let end_bad_first = r#"{"type": "session_end", "session_id": "s", "ended_at": "2026-1", "ended_at": "2026-11-22T01:09:59Z"}"#;
    let end_bad_last = r#"{"type": "session_end", "session_id": "s", "ended_at": "2026-11-22T01:09:59Z", "ended_at": "2026-1"}"#;
    for (line, valid) in [(turn, true), (end_bad_first, true), (end_bad_last, false)] {
        assert_eq!(validator_accepts(line.as_bytes()), valid, "validator: {line}");
        assert_eq!(rollup_verdict(line.as_bytes()).0, valid, "rollup: {line}");
    }
    // The turn counts with its last `tokens_in`: 10, not 7 (nor 17).
    let text = format!("{turn}\n");
    let r = summarize_reader(Utf8Path::new("x.jsonl"), text.as_bytes(), &SummaryOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let tokens_in: u64 = r.summary.usage_by_model.values().map(|u| u.tokens_in).sum();
    assert_eq!((r.summary.turns, tokens_in), (1, 10));
}
