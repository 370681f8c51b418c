//! The generator's truth checked against an independent recount of the files it wrote (the
//! counting rules of `agent-transcripts.md`, implemented here without the generator's state).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::truth::{day, zone};
use super::{History, Options, Tokens};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "jsonl") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn u(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or(0)
}

fn second(ts: &str) -> i64 {
    ts.parse::<jiff::Timestamp>().unwrap().as_second()
}

/// Claude: global dedupe on (message.id, requestId), the largest usage wins; `<synthetic>`
/// skipped. Codex: delta = total − previous total (re-emissions 0), input uncached.
fn recount(claude: &Path, codex: &Path, tz: &str) -> BTreeMap<(String, String), Tokens> {
    let tz = zone(tz).unwrap();
    // (message.id, requestId) → (usage size, second, model, tokens) of the largest line.
    type Best = HashMap<(String, Option<String>), (u64, i64, String, Tokens)>;
    let mut best = Best::new();
    for f in files(claude) {
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            if v["type"] != "assistant" || v["message"]["model"] == "<synthetic>" {
                continue;
            }
            let m = &v["message"];
            let us = &m["usage"];
            let t = Tokens {
                input: u(us, "input_tokens"),
                output: u(us, "output_tokens"),
                cache_write_5m: u(&us["cache_creation"], "ephemeral_5m_input_tokens"),
                cache_write_1h: u(&us["cache_creation"], "ephemeral_1h_input_tokens"),
                cache_read: u(us, "cache_read_input_tokens"),
            };
            assert_eq!(t.cache_write(), u(us, "cache_creation_input_tokens"));
            let key = (
                m["id"].as_str().unwrap().to_owned(),
                v.get("requestId").and_then(Value::as_str).map(str::to_owned),
            );
            let at = second(v["timestamp"].as_str().unwrap());
            let model = m["model"].as_str().unwrap().to_owned();
            let e = best.entry(key).or_insert((0, at, model.clone(), Tokens::default()));
            if t.total() >= e.0 {
                *e = (t.total(), at, model, t);
            }
        }
    }
    let mut out: BTreeMap<(String, String), Tokens> = BTreeMap::new();
    for (_, at, model, t) in best.values() {
        out.entry((day(*at, &tz), model.clone())).or_default().add(t);
    }
    for f in files(codex) {
        let (mut model, mut prev) = (String::new(), (0u64, 0u64, 0u64));
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let p = &v["payload"];
            if v["type"] == "turn_context" {
                model = p["model"].as_str().unwrap().to_owned();
            }
            if v["type"] != "event_msg" || p["type"] != "token_count" || p["info"].is_null() {
                continue;
            }
            let tot = &p["info"]["total_token_usage"];
            let now =
                (u(tot, "input_tokens"), u(tot, "cached_input_tokens"), u(tot, "output_tokens"));
            if now == prev {
                continue;
            }
            let (input, cached, output) = (now.0 - prev.0, now.1 - prev.1, now.2 - prev.2);
            prev = now;
            let t =
                Tokens { input: input - cached, output, cache_read: cached, ..Tokens::default() };
            let at = second(v["timestamp"].as_str().unwrap());
            out.entry((day(at, &tz), model.clone())).or_default().add(&t);
        }
    }
    out
}

fn generate(bytes: u64) -> (tempfile::TempDir, History) {
    let dir = tempfile::tempdir().unwrap();
    let h = History::generate(
        &dir.path().join("claude"),
        &dir.path().join("codex"),
        &Options::with_bytes(bytes),
    )
    .unwrap();
    (dir, h)
}

#[test]
fn truth_equals_an_independent_recount_in_two_zones() {
    let (dir, h) = generate(3_000_000);
    let (claude, codex) = (dir.path().join("claude"), dir.path().join("codex"));
    let utc = h.daily("UTC").unwrap();
    let la = h.daily("America/Los_Angeles").unwrap();
    assert_eq!(utc, recount(&claude, &codex, "UTC"));
    assert_eq!(la, recount(&claude, &codex, "America/Los_Angeles"));
    // Responses lie near midnight in both zones: the zones disagree on some cells.
    let differ = utc.iter().filter(|(k, v)| la.get(*k) != Some(*v)).count();
    assert!(differ > 0, "UTC and Los Angeles agree on every cell");
    let sum = |m: &BTreeMap<(String, String), Tokens>| {
        let mut t = Tokens::default();
        m.values().for_each(|v| t.add(v));
        t
    };
    assert_eq!(sum(&utc), h.total());
    assert_eq!(sum(&la), h.total());
}

#[test]
fn the_history_has_every_feature_the_counting_rules_cover() {
    let (dir, h) = generate(3_000_000);
    let s = &h.stats;
    assert!(s.bytes >= 3_000_000);
    for (what, n) in [
        ("sub-agent files", s.subagent_files),
        ("resumed sessions", s.resumed_sessions),
        ("copied lines", s.copied_lines),
        ("streaming lines", s.streaming_lines),
        ("synthetic lines", s.synthetic_lines),
        ("codex sessions", s.codex_sessions),
        ("totals-only sessions", s.totals_only_sessions),
        ("re-emissions", s.reemissions),
    ] {
        assert!(n > 0, "no {what}");
    }
    let all: Vec<PathBuf> = files(&dir.path().join("claude"))
        .into_iter()
        .chain(files(&dir.path().join("codex")))
        .collect();
    assert_eq!(all.len() as u64, s.files);
    let text: String = all.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
    assert_eq!(text.len() as u64, s.bytes);
    assert_eq!(text.lines().count() as u64, s.lines);
    for needle in [
        "\"cwd\":null",
        "\"costUSD\":null",
        "\"isSidechain\":true",
        "\"ephemeral_1h_input_tokens\":0",
        "\"info\":null",
        "\"version\":\"2.0\"",
        "claude-opus-4-1-20250805",
        "claude-haiku-4-5-20251001",
        "claude-opus-4-5-20251101",
        "gpt-5.1-codex",
        "\"model\":\"gpt-5\"",
    ] {
        assert!(text.contains(needle), "no {needle}");
    }
    // A Codex session switches models mid-session.
    let switched = files(&dir.path().join("codex")).iter().any(|f| {
        let t = std::fs::read_to_string(f).unwrap();
        let models: std::collections::BTreeSet<&str> = t
            .lines()
            .filter(|l| l.contains("\"turn_context\""))
            .map(|l| l.split("\"model\":\"").nth(1).unwrap().split('"').next().unwrap())
            .collect();
        models.len() > 1
    });
    assert!(switched);
    // Lines of 1–3 KB on average.
    let avg = s.bytes / s.lines;
    assert!((1000..=3000).contains(&avg), "average line {avg} bytes");
}

#[test]
fn the_same_seed_writes_the_same_bytes() {
    let (a, ha) = generate(400_000);
    let (b, hb) = generate(400_000);
    let read = |d: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        files(d)
            .into_iter()
            .map(|f| (f.strip_prefix(d).unwrap().into(), std::fs::read(f).unwrap()))
            .collect()
    };
    assert_eq!(read(a.path()), read(b.path()));
    assert_eq!(ha.responses, hb.responses);
    let c = tempfile::tempdir().unwrap();
    let opts = Options { seed: 2, ..Options::with_bytes(400_000) };
    History::generate(&c.path().join("claude"), &c.path().join("codex"), &opts).unwrap();
    assert_ne!(read(a.path()), read(c.path()));
}

#[test]
fn appends_and_new_sessions_keep_the_truth_exact() {
    let (dir, mut h) = generate(600_000);
    let before = h.responses.len();
    let size = std::fs::metadata(&h.claude_files()[0]).unwrap().len();
    let added = h.append_to_claude_session(0, 4).unwrap();
    assert_eq!(std::fs::metadata(&h.claude_files()[0]).unwrap().len(), size + added);
    h.add_claude_session().unwrap();
    h.add_codex_session().unwrap();
    assert!(h.responses.len() > before + 4);
    let (claude, codex) = (dir.path().join("claude"), dir.path().join("codex"));
    assert_eq!(h.daily("UTC").unwrap(), recount(&claude, &codex, "UTC"));
}

#[test]
fn quirk_free_histories_have_no_null_fields_and_every_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options { quirks: false, ..Options::with_bytes(500_000) };
    let h =
        History::generate(&dir.path().join("claude"), &dir.path().join("codex"), &opts).unwrap();
    for f in h.claude_files() {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            assert!(!line.contains("\"cwd\":null") && !line.contains("costUSD"));
            let v: Value = serde_json::from_str(line).unwrap();
            if v["type"] == "assistant" && v["message"]["model"] != "<synthetic>" {
                assert!(v["requestId"].is_string());
            }
        }
    }
}

#[test]
fn unknown_or_unsafe_zone_names_are_errors() {
    assert!(zone("UTC").is_ok());
    assert!(zone("America/Los_Angeles").is_ok());
    for bad in ["Mars/Olympus_Mons", "../../etc/passwd", "", "America//X"] {
        assert!(zone(bad).is_err(), "{bad:?}");
    }
}
