//! The lean turn-line scanner against serde: on real-shaped lines, the fixture's turn lines
//! and systematic mutations of them, whatever the scanner reads serde reads the same (the
//! views' `Debug`, `f64` bits included), and `with_line` gives serde's verdict on every line.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::turnscan;
use crate::view::{self, Line};

/// Lines the CCP backfill writes (from its run on the bench's 1M-line tree: a completion, an
/// idle timeout, a decision without completion, a 429 fallback).
const BACKFILL: [&str; 4] = [
    r#"{"type":"turn","event_id":"00f9fdac-3231-9a92-c64a-d96ffc7e9976","ts":"2026-11-01T00:00:42.694142Z","schema_version":"1.1.0","turn":{"turn_id":"f4434531-5712-a01b-b8af-dda0d4be55ef","session_id":"ccp-2026-11-01","model":"claude-haiku-4.5","subagent":"anthropic","tokens_in":11118,"tokens_out":2324,"input_kind":"text","latency_ms":9830.0,"attribution":{},"capacity_used":null,"responded_at":"2026-11-01T00:00:42.694142Z","ccp":{"source":"ccp-usage-log","rid":"c2808322","end":"completed","failed":false,"status":200,"fallbacks":0,"tokens_unknown":false,"op":"nonstream","upstream":"anth","stream_ms":9830.0,"decision_reason":"pass_through"}},"cost":{"provider":"anthropic","estimated_usd":0.022738,"price_table":"agentos-2026-11-30"},"decision":{"reroute_mode":"hybrid","reroute_decision":"quota_pass","preferred_attempt":1,"warn_pct_cfg":0.8}}"#,
    r#"{"type":"turn","event_id":"957c6c14-cbff-4271-5c95-5209bfce61e4","ts":"2026-11-01T00:00:54.260169Z","schema_version":"1.1.0","turn":{"turn_id":"32529d37-b935-e1f7-d634-9d2f37ac4f8a","session_id":"ccp-2026-11-01","model":"glm-4.6","subagent":"zai","tokens_in":0,"tokens_out":0,"input_kind":"text","latency_ms":30972.0,"attribution":{},"capacity_used":null,"responded_at":"2026-11-01T00:00:54.260169Z","ccp":{"source":"ccp-usage-log","rid":"48bc8f9e","end":"error","failed":true,"status":200,"fallbacks":0,"tokens_unknown":false,"op":"stream","err_type":"idle_timeout","upstream":"zai","ttft_ms":192.0,"stream_ms":15486.0,"decision_reason":"pass_through"}},"cost":{"provider":"zai","estimated_usd":0.0,"price_table":"agentos-2026-11-30"}}"#,
    r#"{"type":"turn","event_id":"11f9fdac-3231-9a92-c64a-d96ffc7e9976","ts":"2026-11-02T10:00:00Z","schema_version":"1.1.0","turn":{"turn_id":"a4434531-5712-a01b-b8af-dda0d4be55ef","session_id":"ccp-2026-11-02","model":"gpt-5","subagent":"openai","tokens_in":0,"tokens_out":0,"input_kind":"text","latency_ms":0.0,"attribution":{},"capacity_used":null,"ccp":{"source":"ccp-usage-log","rid":"d2808322","end":"no_completion","failed":true,"fallbacks":0,"tokens_unknown":true,"decision_reason":"quota_block"}},"decision":{"reroute_mode":"hybrid","reroute_decision":"quota_block","preferred_attempt":false,"warn_pct_auto":0.72,"warn_pct_confidence":null,"gap_seconds_p50":12,"gap_seconds_p95":48.5,"gap_samples":14}}"#,
    r#"{"type":"turn","event_id":"22f9fdac-3231-9a92-c64a-d96ffc7e9976","ts":"2026-11-03T23:59:59.5Z","schema_version":"1.1.0","turn":{"turn_id":"b4434531-5712-a01b-b8af-dda0d4be55ef","session_id":"ccp-2026-11-03","model":"claude-sonnet-4.5","subagent":"anthropic","tokens_in":1200,"tokens_out":34,"input_kind":"text","latency_ms":1523.25,"attribution":{},"capacity_used":null,"ccp":{"source":"ccp-usage-log","rid":"e2808322","end":"completed","failed":false,"status":200,"first_attempt_status":429,"fallbacks":1,"err_type":"429","ttft_ms":0.5,"stream_ms":0.0}},"cost":{"provider":"anthropic","estimated_usd":1e-7,"price_table":"agentos-2026-11-30"},"decision":{"reroute_decision":"quota_warn_attempt","preferred_attempt":2}}"#,
];

/// What the recorder and the importers write: every payload, the v1 additions.
const RECORDED: [&str; 2] = [
    r#"{"type":"turn","event_id":"e1","ts":"2026-10-01T12:00:00.123456Z","schema_version":"1.0.0","turn":{"turn_id":"t1","session_id":"s1","model":"glm/4.6","subagent":"reviewer","tokens_in":1200,"tokens_out":340,"input_kind":"image","latency_ms":1523.25,"attribution":{"glm/4.6":0.6,"anthropic/sample":0.4},"capacity_used":0.5},"measurement":{"cls":1.0,"impf":3.0,"churn_score":0.1,"feature_delta":1.0,"errors":["lint: 2 warnings"]},"feature":{"feature_id":"F-42","spec_ref":"docs/spec.md#café","status":"shipped","notes":"naïve"},"cost":{"provider":"zai","unit_costs":{"input_per_1k":0.0006,"output_per_1k":0.0022},"estimated_usd":0.00147},"value":{"summary":"Sample task — tests green","links":["https://example.invalid/pr/7"],"evidence_refs":["artifacts/test_runs/run-7.log"]},"outcome":{"kind":"merged","count":2}}"#,
    r#"{"type":"turn","event_id":"e2","ts":"2026-10-01T12:00:01Z","turn":{"turn_id":"t2","session_id":"s2","model":"claude-opus-4.1","subagent":"main","tokens_in":3,"tokens_out":512,"input_kind":"text","latency_ms":4200,"cache_creation_tokens":1000,"cache_creation_1h_tokens":200,"cache_read_tokens":55000,"sidechain":true,"responded_at":"2026-10-01T12:00:05+02:00","revises":"t1"},"outcome":{"kind":"reverted"}}"#,
];

/// Values put in place of each field (and under an unknown key): every JSON type, the
/// numbers whose reading differs by type (`-0`, `1.0`, overflow, beyond `u64`), escapes.
const VALUES: [&str; 53] = [
    "null",
    "true",
    "false",
    "0",
    "1",
    "2",
    "-1",
    "-0",
    "0.0",
    "-0.0",
    "1.0",
    "1.5",
    "-1.5",
    "1e2",
    "1E+2",
    "5e-324",
    "1e400",
    "-1e400",
    "1e-400",
    "0e999",
    "1e0400",
    "429",
    "429.0",
    "4.29e2",
    "0.1",
    "18446744073709551615",
    "18446744073709551616",
    "9007199254740993",
    "123456789012345678901234567890",
    "0.30000000000000000000000000000000000000001",
    r#""""#,
    r#""x""#,
    r#""é ✓""#,
    r#""a\u0062""#,
    r#""a\\b""#,
    "\"tab\tinside\"",
    r#""a longer string \u0062 with an escape""#,
    r#""claude-sonnet-4.5-20250929-long-model-name""#,
    r#""2026-11-01T00:00:42.694142Z""#,
    r#""2026-11-01T00:00:42+01:00""#,
    r#""2026-13-01T00:00:00Z""#,
    r#""no_completion""#,
    r#""idle_timeout""#,
    r#""429""#,
    r#""quota_block""#,
    r#""quota_preemptive_warn""#,
    r#""proposed""#,
    r#""Shipped""#,
    "[]",
    r#"["a","b"]"#,
    "[1]",
    "{}",
    r#"{"a":{"b":[1e400,"\u00e9"]}}"#,
];

/// A JSON object's members in their written order (nested objects split likewise).
#[derive(Clone)]
enum Json {
    Raw(String),
    Obj(Vec<(String, Json)>),
}

struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some(kv) = m.next_entry::<String, Box<RawValue>>()? {
                    out.push(kv);
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn split(text: &str) -> Json {
    if !text.starts_with('{') {
        return Json::Raw(text.to_owned());
    }
    let m: Members = serde_json::from_str(text).unwrap();
    Json::Obj(m.0.into_iter().map(|(k, v)| (k, split(v.get()))).collect())
}

fn render(j: &Json, colon: &str, comma: &str) -> String {
    match j {
        Json::Raw(s) => s.clone(),
        Json::Obj(members) => {
            let inner: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{}{colon}{}", serde_json::json!(k), render(v, colon, comma)))
                .collect();
            format!("{{{}}}", inner.join(comma))
        }
    }
}

/// Every object's path in `j` (as member indices), `j` itself first.
fn paths(j: &Json, at: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    if let Json::Obj(members) = j {
        out.push(at.clone());
        for (i, (_, v)) in members.iter().enumerate() {
            at.push(i);
            paths(v, at, out);
            at.pop();
        }
    }
}

fn members_at<'j>(j: &'j mut Json, path: &[usize]) -> &'j mut Vec<(String, Json)> {
    let Json::Obj(members) = j else { unreachable!("paths lead to objects") };
    match path.split_first() {
        None => members,
        Some((i, rest)) => members_at(&mut members[*i].1, rest),
    }
}

/// The line mutated: each member of each object removed, repeated, replaced by each of
/// [`VALUES`]; an unknown member of each value added; members reversed; other separators.
fn mutations(line: &str) -> Vec<String> {
    let base = split(line);
    let mut all = Vec::new();
    paths(&base, &mut Vec::new(), &mut all);
    let mut out = vec![render(&base, ": ", ", "), render(&base, " : ", " ,\t")];
    let mut push = |j: &Json| out.push(render(j, ":", ","));
    for path in &all {
        let n = members_at(&mut base.clone(), path).len();
        for i in 0..n {
            let mut j = base.clone();
            members_at(&mut j, path).remove(i);
            push(&j);
            let mut j = base.clone();
            let m = members_at(&mut j, path);
            let dup = m[i].clone();
            m.push(dup);
            push(&j);
            for v in VALUES {
                let mut j = base.clone();
                members_at(&mut j, path)[i].1 = Json::Raw(v.to_owned());
                push(&j);
            }
        }
        for v in VALUES {
            let mut j = base.clone();
            members_at(&mut j, path).push(("zz_extra".to_owned(), Json::Raw(v.to_owned())));
            push(&j);
        }
        let mut j = base.clone();
        let m = members_at(&mut j, path);
        if path.is_empty() {
            m[1..].reverse();
        } else {
            m.reverse();
        }
        push(&j);
    }
    out
}

fn fast(line: &str) -> Option<String> {
    turnscan::scan(line).map(|t| format!("{:?}", Line::Turn(t)))
}

fn reference(line: &str) -> Result<String, String> {
    view::with_line_serde(line, |l| format!("{l:?}"))
}

/// Whatever the scanner reads, serde reads the same; returns whether the scanner read it
/// (`with_line` asks it only about lines that start with `"type":"turn"`).
fn agree(line: &str) -> bool {
    if view::peek_type(line.trim_ascii().as_bytes()) != Some(b"turn") {
        return false;
    }
    match fast(line.trim_ascii()) {
        Some(v) => {
            assert_eq!(Ok(v), reference(line.trim_ascii()), "{line}");
            true
        }
        None => false,
    }
}

#[test]
fn the_scanner_reads_the_common_lines() {
    for line in BACKFILL.iter().chain(&RECORDED) {
        assert!(agree(line), "not read by the scanner: {line}");
    }
    let fixture = include_str!("../../../../fixtures/agentos-py/events/python_written.jsonl");
    let turns: Vec<&str> = fixture.lines().filter(|l| l.contains(r#""type": "turn""#)).collect();
    let turns_compact: Vec<&str> =
        fixture.lines().filter(|l| l.contains(r#""type":"turn""#)).collect();
    assert!(!turns.is_empty() && !turns_compact.is_empty());
    for line in turns.iter().chain(&turns_compact) {
        let read = agree(line);
        // Python escapes non-ASCII by default: those lines are serde's.
        assert_eq!(read, !line.contains('\\'), "{line}");
    }
}

#[test]
fn the_scanner_agrees_with_serde_on_every_mutation() {
    let (mut lines, mut read, mut refused) = (0usize, 0usize, 0usize);
    for base in BACKFILL.iter().chain(&RECORDED) {
        for line in mutations(base) {
            lines += 1;
            if agree(&line) {
                read += 1;
            } else if lines % 7 == 0 {
                // Left to serde: `with_line` gives serde's verdict, message included.
                let got = view::with_line(&line, |l| format!("{l:?}"));
                let want = reference(&line);
                refused += usize::from(want.is_err());
                assert_eq!(got, want, "{line}");
            }
        }
    }
    // Both sides of the fence are exercised.
    assert!(read * 3 > lines, "{read} of {lines} read by the scanner");
    assert!(read < lines && refused > 0, "{read} of {lines}, {refused} refused");
}

/// The cases the scanner must leave to serde (serde refuses them or reads them its own way),
/// and those it must read, by hand.
#[test]
fn the_scanner_declines_what_it_cannot_vouch_for() {
    let line = BACKFILL[0];
    let with = |from: &str, to: &str| {
        assert!(line.contains(from), "{from}");
        line.replacen(from, to, 1)
    };
    let declined = [
        with(r#""tokens_in":11118"#, r#""tokens_in":11118.0"#),
        with(r#""tokens_in":11118"#, r#""tokens_in":-0"#),
        with(r#""tokens_in":11118"#, r#""tokens_in":18446744073709551616"#),
        with(r#""latency_ms":9830.0"#, r#""latency_ms":1e400"#),
        with(r#""latency_ms":9830.0"#, r#""latency_ms":-1"#),
        with(r#""model":"claude-haiku-4.5""#, r#""model":"claude-haiku-4\u002e5""#),
        with(r#""stream_ms":9830.0"#, r#""stream_ms":9830.0,"x":[1]"#),
        with(r#""model":"claude-haiku-4.5""#, r#""model":"a","model":"b""#),
        with(r#""ts":"2026-11-01T00:00:42.694142Z""#, r#""ts":"2026-11-01""#),
        // `turn.ccp`'s values are read as numbers: serde refuses an overflow there.
        with(r#""op":"nonstream""#, r#""op":1e400"#),
        with(r#""capacity_used":null"#, r#""capacity_used":null}"#),
        format!("{line} x"),
    ];
    for l in &declined {
        assert!(fast(l).is_none(), "{l}");
    }
    let read = [
        with(r#""latency_ms":9830.0"#, r#""latency_ms":-0"#),
        with(r#""latency_ms":9830.0"#, r#""latency_ms":1e-400"#),
        with(r#""turn":{"#, r#""zz":1e400,"turn":{"#),
        with(r#""ccp":{"#, r#""ccp":{"status":429,"#),
        format!(" {line}\t"),
    ];
    for l in &read {
        assert!(agree(l), "{l}");
    }
    // A repeated `ccp` key counts again, as serde reads it; -0 stays -0.
    assert!(fast(&read[3]).is_some_and(|v| v.contains("saw_429: true")));
    assert!(fast(&read[0]).is_some_and(|v| v.contains("NonNeg(-0.0)")));
}
