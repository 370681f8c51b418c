//! `summarize_appending`: turns handed over as facts count exactly as their lines read back.

use std::io::Write as _;

use agentos_event_schema::facts::{CcpFacts, CostFacts, TurnFacts};
use agentos_testkit::agent_history::Rng;

use super::*;

/// A fact's strings, owned by the test.
struct Owned {
    event_id: String,
    session: String,
    model: String,
    end: &'static str,
    err_type: &'static str,
    provider: String,
    reroute: Option<&'static str>,
}

/// One random turn: what its writer knows, and the strings the facts borrow.
fn random_turn(rng: &mut Rng, i: u64, ids: &[String]) -> (Owned, TurnFacts<'static>) {
    let pick = |rng: &mut Rng, o: &[&'static str]| o[rng.below(o.len() as u64) as usize];
    let event_id = match rng.below(40) {
        // A repeat of an id counted already (before or among these), and ids that dedupe nothing.
        0 if !ids.is_empty() => ids[rng.below(ids.len() as u64) as usize].clone(),
        1 => String::new(),
        _ => format!("{:032x}-{i}", rng.next_u64()),
    };
    let owned = Owned {
        event_id,
        session: format!("ccp-2026-11-0{}", 1 + rng.below(3)),
        model: pick(rng, &["claude-sonnet-4.5", "glm-4.6", "gpt-5", "odd \"model\"\n"]).to_owned(),
        end: pick(rng, &["completed", "error", "no_completion"]),
        err_type: pick(rng, &["", "", "idle_timeout", "429", "upstream"]),
        provider: pick(rng, &["anthropic", "zai", "openai"]).to_owned(),
        reroute: [None, Some("quota_pass"), Some("quota_block"), Some("quota_warn_attempt")]
            [rng.below(4) as usize],
    };
    let maybe = |rng: &mut Rng, most: u64| {
        let v = rng.below(most) as f64 + 0.25;
        (rng.below(3) > 0).then_some(v)
    };
    let ts_us = 1_793_491_200_000_000 + rng.below(3 * 86_400_000_000) as i64;
    let facts = TurnFacts {
        event_id: "",
        ts_us,
        session_id: "",
        model: "",
        tokens_in: rng.below(50_000),
        tokens_out: rng.below(5_000),
        // Now and then a latency no line may carry: the line and its facts are both refused.
        latency_ms: if rng.below(500) == 0 { -1.0 } else { rng.below(90_000) as f64 + 0.5 },
        responded_at_us: (rng.below(4) > 0).then_some(ts_us),
        ccp: (rng.below(8) > 0).then(|| CcpFacts {
            end: "",
            failed: rng.below(4) == 0,
            status: [Some(200), Some(429), Some(502), None][rng.below(4) as usize],
            fallbacks: rng.below(3),
            first_attempt_status: [None, None, Some(429)][rng.below(3) as usize],
            err_type: "",
            ttft_ms: maybe(rng, 2_000),
            stream_ms: maybe(rng, 60_000),
        }),
        cost: (rng.below(4) > 0)
            .then(|| CostFacts { provider: "", estimated_usd: rng.below(1_000_000) as f64 / 1e6 }),
        reroute_decision: None,
    };
    (owned, facts)
}

/// `f` with its strings from `o`.
fn with_strings<'a>(f: &TurnFacts<'static>, o: &'a Owned) -> TurnFacts<'a> {
    TurnFacts {
        event_id: &o.event_id,
        session_id: &o.session,
        model: &o.model,
        ccp: f.ccp.map(|c| CcpFacts { end: o.end, err_type: o.err_type, ..c }),
        cost: f.cost.map(|c| CostFacts { provider: &o.provider, ..c }),
        reroute_decision: o.reroute,
        ..*f
    }
}

/// The line the facts describe, written by serde_json (not by any writer under test).
fn line_of(f: &TurnFacts<'_>) -> String {
    let time = |us: i64| Timestamp::from_unix_micros(us).unwrap().to_string();
    let mut turn = json!({"turn_id": "t", "session_id": f.session_id, "model": f.model,
        "subagent": "lane", "tokens_in": f.tokens_in, "tokens_out": f.tokens_out,
        "input_kind": "text", "latency_ms": f.latency_ms, "attribution": {},
        "capacity_used": null});
    if let Some(at) = f.responded_at_us {
        turn["responded_at"] = json!(time(at));
    }
    if let Some(c) = &f.ccp {
        let mut ccp = json!({"source": "ccp-usage-log", "rid": "r", "end": c.end,
            "failed": c.failed, "status": c.status, "fallbacks": c.fallbacks});
        if let Some(s) = c.first_attempt_status {
            ccp["first_attempt_status"] = json!(s);
        }
        if !c.err_type.is_empty() {
            ccp["err_type"] = json!(c.err_type);
        }
        for (k, v) in [("ttft_ms", c.ttft_ms), ("stream_ms", c.stream_ms)] {
            if let Some(v) = v {
                ccp[k] = json!(v);
            }
        }
        turn["ccp"] = ccp;
    }
    let mut ev = json!({"type": "turn", "event_id": f.event_id, "ts": time(f.ts_us),
        "schema_version": "1.1.0", "turn": turn});
    if let Some(c) = &f.cost {
        ev["cost"] = json!({"provider": c.provider, "estimated_usd": c.estimated_usd,
            "price_table": "test"});
    }
    if let Some(d) = f.reroute_decision {
        ev["decision"] = json!({"reroute_mode": "hybrid", "reroute_decision": d});
    }
    format!("{ev}\n")
}

fn opts() -> SummaryOptions {
    SummaryOptions {
        generated_at: Some("2026-12-01T00:00:00Z".parse().unwrap()),
        ..SummaryOptions::default()
    }
}

fn append(path: &Utf8Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).create(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// A rollup as text, without the skipped lines it kept: a resumed rollup keeps only those it
/// read itself (`summary.diagnostics` counts them all).
fn shown(r: Rollup) -> String {
    format!("{:?}", Rollup { diagnostics: Vec::new(), ..r })
}

fn full_read(path: &Utf8Path) -> String {
    shown(summarize_files(&[path.to_owned()], &opts()).unwrap())
}

/// Equal, or where they first differ.
fn same(got: &str, want: &str) {
    if let Some(at) = got.bytes().zip(want.bytes()).position(|(a, b)| a != b) {
        let from = at.saturating_sub(300);
        panic!(
            "differ at {at}:\n got {}\nwant {}",
            &got[from..(at + 200).min(got.len())],
            &want[from..(at + 200).min(want.len())]
        );
    }
    assert_eq!(got.len(), want.len());
}

/// A random turn's line and its `event_id`.
fn random_line(rng: &mut Rng, ids: &[String]) -> (String, String) {
    let (o, f) = random_turn(rng, 0, ids);
    (line_of(&with_strings(&f, &o)), o.event_id)
}

/// Write `n` turns to the log and hand their facts over; the bytes appended.
fn hand_over(
    rng: &mut Rng,
    path: &Utf8Path,
    a: &mut Appending,
    n: u64,
    ids: &mut Vec<String>,
) -> u64 {
    let mut text = String::new();
    for i in 0..n {
        let (o, f) = random_turn(rng, i, ids);
        let f = with_strings(&f, &o);
        text.push_str(&line_of(&f));
        a.turn(&f);
        ids.push(o.event_id.clone());
    }
    append(path, &text);
    text.len() as u64
}

#[test]
fn facts_count_as_their_lines_read_back_and_the_checkpoint_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let root = Utf8Path::from_path(dir.path()).unwrap();
    let (path, checkpoint) = (root.join("events.jsonl"), root.join("state/checkpoint.bin"));
    std::fs::create_dir_all(root.join("state")).unwrap();
    let mut rng = Rng::new(11);
    // What the log held before: turns the facts may repeat, a bad line, all rolled up once.
    let mut ids = Vec::new();
    let mut before = String::new();
    for _ in 0..300 {
        let (line, id) = random_line(&mut rng, &ids);
        before.push_str(&line);
        ids.push(id);
    }
    append(&path, &format!("{before}not json\n"));
    summarize_incremental(std::slice::from_ref(&path), &opts(), &checkpoint).unwrap();
    // Appended since that rollup: read when the appending starts.
    append(&path, &random_line(&mut rng, &ids).0);

    // Several merges' worth of facts, then lines of another writer after them.
    let mut a = summarize_appending(&path, &opts(), &checkpoint).unwrap();
    let appended = hand_over(&mut rng, &path, &mut a, 10_000, &mut ids);
    append(&path, &format!("{}{{}}\n", random_line(&mut rng, &ids).0));
    let got = a.finish(appended).unwrap();
    let full = summarize_files(std::slice::from_ref(&path), &opts()).unwrap();
    assert!(full.duplicates > 0, "some facts repeat ids");
    // The lines it read or was told of are skipped in the same words, at the same lines.
    let refused = got.diagnostics.iter().filter(|d| d.message.contains("latency_ms")).count();
    assert!(refused > 0, "a fact no line may carry is a skipped line: {:?}", got.diagnostics);
    for d in &got.diagnostics {
        assert!(full.diagnostics.contains(d), "{d} is not what reading the lines says");
    }
    same(&shown(got), &shown(full));

    // The checkpoint it saved resumes like any other.
    append(&path, &random_line(&mut rng, &ids).0);
    let resumed = summarize_incremental(std::slice::from_ref(&path), &opts(), &checkpoint).unwrap();
    same(&shown(resumed), &full_read(&path));
}

#[test]
fn a_torn_end_or_a_short_append_makes_it_read_the_lines() {
    let dir = tempfile::tempdir().unwrap();
    let root = Utf8Path::from_path(dir.path()).unwrap();
    let (path, checkpoint) = (root.join("events.jsonl"), root.join("checkpoint.bin"));
    let mut rng = Rng::new(12);
    let mut ids = Vec::new();

    // The log is missing when the appending starts (its writer creates it).
    let mut a = summarize_appending(&path, &opts(), &checkpoint).unwrap();
    let appended = hand_over(&mut rng, &path, &mut a, 20, &mut ids);
    same(&shown(a.finish(appended).unwrap()), &full_read(&path));
    std::fs::remove_file(&path).unwrap();
    std::fs::remove_file(&checkpoint).unwrap();

    // The log ends in a torn line: the facts come after it, not after whole lines.
    append(&path, "{\"type\":\"tu");
    let mut a = summarize_appending(&path, &opts(), &checkpoint).unwrap();
    let appended = hand_over(&mut rng, &path, &mut a, 50, &mut ids);
    same(&shown(a.finish(appended).unwrap()), &full_read(&path));

    // The caller says it appended more than the log holds.
    append(&path, "\n");
    let mut a = summarize_appending(&path, &opts(), &checkpoint).unwrap();
    let appended = hand_over(&mut rng, &path, &mut a, 50, &mut ids);
    same(&shown(a.finish(appended + 1).unwrap()), &full_read(&path));
}
