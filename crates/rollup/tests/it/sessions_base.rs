//! The checkpoint's sessions base (`state/rollup_sessions.*.bin`, issue #8 point 10): past
//! 256 changed sessions the per-session state lives in a base file, and a resumed summary
//! refresh fetches only the sessions its new lines touch. Every result is compared with a
//! full read and with counts made by hand; a base file that is torn, foreign, missing or
//! damaged means a full read.

use std::io::Write;

use agentos_rollup::{
    Rollup, SummaryOptions, refresh_incremental, summarize_files, summarize_incremental,
};
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::{Value as Json, json};

fn tmp() -> (tempfile::TempDir, Utf8PathBuf) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap_or_default();
    (dir, path)
}

fn opts() -> SummaryOptions {
    SummaryOptions {
        generated_at: "2026-11-30T00:00:00Z".parse().ok(),
        ..SummaryOptions::default()
    }
}

fn session(s: u32, day: u32) -> String {
    json!({"type": "session", "event_id": format!("s{s}-{day}"), "session": {
        "session_id": format!("sess-{s:05}"), "repo_id": "r", "branch": "b", "commit": "c",
        "license_id": "l", "privacy_tier": "local",
        "created_at": format!("2026-11-{day:02}T09:00:00Z")}})
    .to_string()
        + "\n"
}

/// A turn of session `s`: `tokens` in, `cost` USD (binary fractions: sums are exact).
fn turn(id: &str, s: u32, tokens: u64, cost: f64, day: u32) -> String {
    json!({"type": "turn", "event_id": id, "ts": format!("2026-11-{day:02}T10:00:00Z"),
        "turn": {"turn_id": id, "session_id": format!("sess-{s:05}"), "model": "m",
            "subagent": "main", "tokens_in": tokens, "tokens_out": 1, "input_kind": "text",
            "latency_ms": 1.0, "capacity_used": 0.25},
        "cost": {"provider": "p", "estimated_usd": cost}})
    .to_string()
        + "\n"
}

fn end(s: u32, day: u32) -> String {
    json!({"type": "session_end", "event_id": format!("e{s}-{day}"),
        "session_id": format!("sess-{s:05}"), "ended_at": format!("2026-11-{day:02}T11:00:00Z")})
    .to_string()
        + "\n"
}

/// A turn without a time (legacy Python log): its session's day gets it.
fn undated_turn(s: u32) -> String {
    json!({"type": "turn", "turn": {"turn_id": "t", "session_id": format!("sess-{s:05}"),
        "model": "m", "subagent": "main", "tokens_in": 7, "tokens_out": 1,
        "input_kind": "text", "latency_ms": 1.0, "capacity_used": 0.5}})
    .to_string()
        + "\n"
}

/// 1 500 sessions, one turn each ($1, 10 tokens); the even ones announced by a `session`
/// event (750), the others known only from their turn.
const SESSIONS: u32 = 1500;

fn history() -> String {
    let mut text = String::new();
    for s in 0..SESSIONS {
        if s.is_multiple_of(2) {
            text += &session(s, 1 + s % 28);
        }
        text += &turn(&format!("t{s}"), s, 10, 1.0, 1 + s % 28);
    }
    text
}

fn append(path: &Utf8Path, text: &str) {
    let mut f =
        std::fs::OpenOptions::new().append(true).open(path).unwrap_or_else(|e| panic!("{e}"));
    f.write_all(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
}

fn full(paths: &[Utf8PathBuf]) -> Rollup {
    summarize_files(paths, &opts()).unwrap_or_else(|e| panic!("{e}"))
}

fn shape(r: &Rollup) -> Json {
    json!({"summary": r.summary, "sessions": r.sessions, "days": r.days,
        "duplicates": r.duplicates})
}

fn refresh(paths: &[Utf8PathBuf], ck: &Utf8Path) -> Json {
    let r = refresh_incremental(paths, &opts(), ck).unwrap_or_else(|e| panic!("{e}"));
    json!({"summary": r.summary, "duplicates": r.duplicates})
}

fn summary_of(r: &Rollup) -> Json {
    json!({"summary": r.summary, "duplicates": r.duplicates})
}

fn rows(paths: &[Utf8PathBuf], ck: &Utf8Path) -> Rollup {
    summarize_incremental(paths, &opts(), ck).unwrap_or_else(|e| panic!("{e}"))
}

fn base_files(dir: &Utf8Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("state"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("rollup_sessions."))
        .collect();
    names.sort();
    names
}

/// A data dir holding the history, rolled up once (the sessions went to a base file).
fn setup() -> (tempfile::TempDir, Utf8PathBuf, Vec<Utf8PathBuf>, Utf8PathBuf) {
    let (d, dir) = tmp();
    let a = dir.join("events.jsonl");
    std::fs::write(&a, history()).unwrap_or_default();
    let paths = vec![a];
    let ck = dir.join("state/rollup_checkpoint.bin");
    let r = rows(&paths, &ck);
    assert_eq!((r.summary.sessions, r.summary.turns), (750, 1500));
    assert_eq!(base_files(&dir).len(), 1, "{:?}", base_files(&dir));
    (d, dir, paths, ck)
}

/// New lines touching sessions of the base (a turn, a `session` event announcing one known
/// only from its turn, a `session_end`), a new session, and again a session already moved
/// out of the base: the summary refresh (base left on disk) and the full rollup with its
/// per-session rows (base read whole) both give what a full read gives, and the hand counts.
#[test]
fn a_resumed_rollup_over_a_sessions_base_equals_a_full_read() {
    let (_d, dir, paths, ck) = setup();
    let a = &paths[0];
    let steps: Vec<(String, u64, u64, f64)> = vec![
        // (lines, sessions announced, turns, cost) after the step, counted by hand.
        (turn("x1", 4, 5, 0.5, 5), 750, 1501, 1500.5),
        (session(7, 8), 751, 1501, 1500.5),
        (end(9, 10), 751, 1501, 1500.5),
        (session(5000, 3) + &turn("x2", 5000, 3, 0.25, 3), 752, 1502, 1500.75),
        (turn("x3", 4, 1, 0.125, 5) + &turn("x4", 7, 1, 0.125, 8), 752, 1504, 1501.0),
        // A repeated id: not counted again.
        (turn("x1", 4, 5, 0.5, 5), 752, 1504, 1501.0),
    ];
    for (i, (text, sessions, turns, cost)) in steps.iter().enumerate() {
        append(a, text);
        let want = full(&paths);
        assert_eq!(refresh(&paths, &ck), summary_of(&want), "refresh after step {i}");
        assert_eq!(want.summary.sessions, *sessions, "step {i}");
        assert_eq!(want.summary.turns, *turns, "step {i}");
        assert!((want.summary.cost_usd - cost).abs() < 1e-9, "step {i}");
        // Nothing appended since: the rows come from the base read whole and the working set.
        assert_eq!(shape(&rows(&paths, &ck)), shape(&want), "rows after step {i}");
    }
    let r = rows(&paths, &ck);
    let row = |s: u32| r.sessions.iter().find(|x| x.session_id == format!("sess-{s:05}"));
    // Session 4: 10 + 5 + 1 tokens in 3 turns; session 9 ended; session 7 now announced.
    assert_eq!(row(4).map(|x| (x.row.turns, x.row.tokens_in)), Some((3, 16)));
    assert_eq!(row(9).map(|x| x.ended), Some(true));
    assert_eq!(
        row(7).map(|x| x.started.map(|t| t.to_string())),
        Some(Some("2026-11-08T09:00:00.000000Z".to_owned()))
    );
    assert_eq!(r.sessions.len(), SESSIONS as usize + 1);
    // The base stayed: only the working set was rewritten.
    assert_eq!(base_files(&dir).len(), 1);
}

/// Legacy turns without a time in the base: their session's day gets them, so the refresh
/// reads the base whole; the numbers still equal a full read.
#[test]
fn undated_turns_in_the_base_still_land_on_their_sessions_day() {
    let (_d, dir) = tmp();
    let a = dir.join("events.jsonl");
    std::fs::write(&a, history() + &undated_turn(2) + &undated_turn(3)).unwrap_or_default();
    let paths = vec![a.clone()];
    let ck = dir.join("state/rollup_checkpoint.bin");
    assert_eq!(shape(&rows(&paths, &ck)), shape(&full(&paths)));
    append(&a, &turn("x1", 2, 1, 0.5, 3));
    let want = full(&paths);
    assert_eq!(refresh(&paths, &ck), summary_of(&want));
    // Day 3: the 54 sessions s ≡ 2 (mod 28) one turn each, the new turn of session 2 (1
    // token), and its undated turn (7 tokens: session 2 was created on day 3). Day 4: its 54
    // turns and session 3's undated one (session 3 is first seen on day 4).
    assert_eq!(want.days.get("2026-11-03").map(|d| (d.turns, d.tokens_in)), Some((56, 548)));
    assert_eq!(want.days.get("2026-11-04").map(|d| (d.turns, d.tokens_in)), Some((55, 547)));
    assert_eq!(shape(&rows(&paths, &ck)), shape(&want));
}

/// Resuming runs that each touch 100 base sessions: once more than 256 sessions changed
/// since the base, a new base is written (the old one removed) and the working set starts
/// empty again; the numbers never change.
#[test]
fn the_sessions_base_is_rewritten_once_the_working_set_outgrows_it() {
    let (_d, dir, paths, ck) = setup();
    let first = base_files(&dir);
    for round in 0..3u32 {
        let text: String =
            (0..100).map(|i| turn(&format!("r{round}-{i}"), round * 100 + i, 2, 0.5, 2)).collect();
        append(&paths[0], &text);
        let want = full(&paths);
        assert_eq!(refresh(&paths, &ck), summary_of(&want), "round {round}");
        assert_eq!(want.summary.turns, 1500 + 100 * u64::from(round + 1));
        let now = base_files(&dir);
        assert_eq!(now.len(), 1, "{now:?}");
        // 100 and 200 changed sessions stay in the working set; 300 make a new base.
        assert_eq!(now == first, round < 2, "round {round}: {now:?} vs {first:?}");
    }
    assert_eq!(shape(&rows(&paths, &ck)), shape(&full(&paths)));
}

/// Edit a line the checkpoint already consumed (same length, past the fingerprinted prefix,
/// before the fingerprinted tail): turn t700 now costs $3 instead of $1. A full read sees the
/// edit, a resumed read does not: the two are told apart by the total cost.
fn edit_consumed_line(path: &Utf8Path) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let edited: String = text
        .split_inclusive('\n')
        .map(|l| {
            if l.contains("\"event_id\":\"t700\"") {
                l.replacen("\"estimated_usd\":1.0", "\"estimated_usd\":3.0", 1)
            } else {
                l.to_owned()
            }
        })
        .collect();
    assert!(edited != text && edited.len() == text.len());
    std::fs::write(path, edited).unwrap_or_default();
}

fn set_mtime(p: &std::path::Path, t: std::time::SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(p)
        .and_then(|f| f.set_modified(t))
        .unwrap_or_else(|e| panic!("{e}"));
}

/// A sessions base that is torn (shorter), foreign (another history's base under its name),
/// missing or damaged in the middle is not used: the rollup reads everything again and gives
/// the numbers of a full read. A damage in the middle that keeps the size and modification
/// time is found when the base is read whole (a report of sessions); an intact base is used
/// (the edit of a consumed line goes unseen).
#[test]
fn a_torn_foreign_missing_or_damaged_sessions_base_means_a_full_read() {
    let (_o, other_dir) = tmp();
    let other = other_dir.join("events.jsonl");
    std::fs::write(&other, history() + &turn("o1", 1, 1, 1.0, 1)).unwrap_or_default();
    rows(std::slice::from_ref(&other), &other_dir.join("state/rollup_checkpoint.bin"));
    let foreign = base_files(&other_dir).pop().unwrap_or_default();
    let foreign = other_dir.join("state").join(foreign);

    type Damage = fn(&std::path::Path, &Utf8Path);
    let cases: Vec<(&str, Damage)> = vec![
        ("intact", |_, _| {}),
        ("torn", |p, _| {
            let bytes = std::fs::read(p).unwrap_or_default();
            std::fs::write(p, bytes.get(..bytes.len() / 2).unwrap_or_default()).unwrap_or_default();
        }),
        ("foreign", |p, foreign| {
            std::fs::copy(foreign, p).unwrap_or_default();
        }),
        ("missing", |p, _| std::fs::remove_file(p).unwrap_or_default()),
        ("damaged", |p, _| {
            let meta = std::fs::metadata(p).unwrap_or_else(|e| panic!("{e}"));
            let mtime = meta.modified().unwrap_or_else(|e| panic!("{e}"));
            let mut bytes = std::fs::read(p).unwrap_or_default();
            let mid = bytes.len() / 2;
            if let Some(b) = bytes.get_mut(mid) {
                *b ^= 0x40;
            }
            std::fs::write(p, &bytes).unwrap_or_default();
            set_mtime(p, mtime);
        }),
    ];
    for (name, damage) in cases {
        let (_d, dir, paths, ck) = setup();
        edit_consumed_line(&paths[0]);
        let base = dir.join("state").join(base_files(&dir).remove(0));
        damage(base.as_std_path(), &foreign);
        append(&paths[0], &turn("x1", 4, 5, 0.5, 5));
        let want = full(&paths);
        // By hand: 1 500 turns at $1, t700 now at $3, the new one at $0.50.
        assert_eq!(want.summary.turns, 1501, "{name}");
        assert!((want.summary.cost_usd - 1502.5).abs() < 1e-9, "{name}");
        let resumed = rows_or_refresh(name == "damaged", &paths, &ck);
        if name == "intact" {
            // Resumed: the edit is not seen ($2 less), everything else is the same.
            assert!((resumed.0 - 1500.5).abs() < 1e-9, "{name}: {}", resumed.0);
            assert_eq!(resumed.1, 1501, "{name}");
        } else {
            assert_eq!(resumed.2, summary_of(&want), "{name}");
            assert!((resumed.0 - 1502.5).abs() < 1e-9, "{name}: {}", resumed.0);
        }
    }
}

/// (cost, turns, summary) of a resumed run: with rows (the base read whole) or the refresh.
fn rows_or_refresh(with_rows: bool, paths: &[Utf8PathBuf], ck: &Utf8Path) -> (f64, u64, Json) {
    let j = if with_rows { summary_of(&rows(paths, ck)) } else { refresh(paths, ck) };
    let cost = j["summary"]["cost_usd"].as_f64().unwrap_or(f64::NAN);
    let turns = j["summary"]["turns"].as_u64().unwrap_or(0);
    (cost, turns, j)
}

/// A history rewritten small (a full read that needs no base) leaves no base file behind.
#[test]
fn a_full_read_without_a_base_removes_the_old_base_files() {
    let (_d, dir, paths, ck) = setup();
    let ids = |dir: &Utf8Path| {
        std::fs::read_dir(dir.join("state"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("rollup_ids."))
            .count()
    };
    // 1 500 sessions and 2 250 ids: a sessions base, the ids in the checkpoint. Grown past
    // 4 096 ids: an ids base too.
    let more: String = (0..2000).map(|i| turn(&format!("m{i}"), 4, 1, 0.5, 2)).collect();
    append(&paths[0], &more);
    rows(&paths, &ck);
    assert_eq!((base_files(&dir).len(), ids(&dir)), (1, 1));
    std::fs::write(&paths[0], session(1, 1) + &turn("a", 1, 10, 1.0, 1)).unwrap_or_default();
    let r = rows(&paths, &ck);
    assert_eq!((r.summary.sessions, r.summary.turns), (1, 1));
    assert_eq!((base_files(&dir).len(), ids(&dir)), (0, 0));
    assert_eq!(shape(&r), shape(&full(&paths)));
}

/// A `session` event for an id given as written.
fn session_named(id: &str, event: &str) -> String {
    json!({"type": "session", "event_id": event, "session": {
        "session_id": id, "repo_id": "r", "branch": "b", "commit": "c",
        "license_id": "l", "privacy_tier": "local", "created_at": "2026-11-02T09:00:00Z"}})
    .to_string()
        + "\n"
}

/// A timed turn of a session given by id.
fn turn_named(id: &str, event: &str) -> String {
    json!({"type": "turn", "event_id": event, "ts": "2026-11-02T10:00:00Z",
        "turn": {"turn_id": event, "session_id": id, "model": "m", "subagent": "main",
            "tokens_in": 1, "tokens_out": 1, "input_kind": "text", "latency_ms": 1.0}})
    .to_string()
        + "\n"
}

/// Issue #17: an adversarial history of many distinct sessions that never end — ids that
/// differ only in case, a trailing character or their last of 128 characters, sessions
/// announced twice, turns of sessions never announced — gives the exact count (counted here
/// by hand), read whole, resumed after an append that touches old sessions, and with or
/// without the per-session rows.
#[test]
fn many_never_ended_sessions_are_counted_exactly() {
    let (_d, dir) = tmp();
    let log = dir.join("events.jsonl");
    let long = "x".repeat(122);
    let mut ids: Vec<String> = Vec::new();
    for i in 0..3000u32 {
        ids.push(format!("s{i}"));
        ids.push(format!("S{i}"));
        ids.push(format!("s{i}."));
        // 128 characters, told apart by the last one only.
        ids.push(format!("{i:05}{long}a"));
        ids.push(format!("{i:05}{long}b"));
    }
    let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
    let announced = distinct.len() as u64;
    let mut text = String::new();
    for (n, id) in ids.iter().enumerate() {
        text.push_str(&session_named(id, &format!("a{n}")));
        text.push_str(&turn_named(id, &format!("t{n}")));
    }
    // Turns of sessions no `session` event announces: counted as turns, never as sessions.
    for n in 0..500 {
        text.push_str(&turn_named(&format!("ghost-{n}"), &format!("g{n}")));
    }
    let turns = ids.len() as u64 + 500;
    std::fs::write(&log, &text).unwrap_or_else(|e| panic!("{e}"));
    let files = [log.clone()];
    let ck = dir.join("state").join("rollup_checkpoint.bin");
    let full = summarize_files(&files, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((full.summary.sessions, full.summary.turns), (announced, turns));
    assert_eq!(full.sessions.len() as u64, announced + 500);
    let first = summarize_incremental(&files, &opts(), &ck).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.summary.sessions, announced);
    // Appended: each old session announced again (a new event id), plus new ones.
    let mut more = String::new();
    for (n, id) in ids.iter().enumerate().step_by(7) {
        more.push_str(&session_named(id, &format!("again{n}")));
        more.push_str(&turn_named(id, &format!("more{n}")));
    }
    for n in 0..100 {
        more.push_str(&session_named(&format!("new-{n}"), &format!("new{n}")));
    }
    let again = ids.iter().step_by(7).count() as u64;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .and_then(|mut f| f.write_all(more.as_bytes()))
        .unwrap_or_else(|e| panic!("{e}"));
    let (announced, turns) = (announced + 100, turns + again);
    for no_session_rows in [false, true] {
        let o = SummaryOptions { no_session_rows, ..opts() };
        let resumed = summarize_incremental(&files, &o, &ck).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((resumed.summary.sessions, resumed.summary.turns), (announced, turns));
        assert_eq!(resumed.sessions.is_empty(), no_session_rows);
        let refreshed = refresh_incremental(&files, &o, &ck).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(refreshed.summary.sessions, announced);
    }
    let whole = summarize_files(&files, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(whole.summary.sessions, announced);
    let rows: u64 = whole.sessions.iter().map(|s| s.row.turns).sum();
    assert_eq!(rows, turns);
}
