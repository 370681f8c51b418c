//! Counting an event once by `event_id` (issue #8 point 7) and resuming from a checkpoint
//! (point 10): every result is compared with an independent expectation or a full read.

use std::io::Write;

use agentos_event_schema::v1::FeatureStatus;
use agentos_rollup::{Rollup, SummaryOptions, summarize_files, summarize_incremental};
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

/// A turn of session `s` with id `id`: 10 tokens in, `cost` USD, feature `f` at `status`.
fn turn(id: &str, s: &str, cost: f64, status: &str, day: u32) -> String {
    json!({"type": "turn", "event_id": id, "ts": format!("2026-11-{day:02}T10:00:00Z"),
        "turn": {"turn_id": id, "session_id": s, "model": "m", "subagent": "main",
            "tokens_in": 10, "tokens_out": 1, "input_kind": "text", "latency_ms": 1.0,
            "attribution": {"m": 1.0}, "capacity_used": 0.5},
        "measurement": {"cls": 1.0, "impf": 0.5, "churn_score": 0.1, "feature_delta": 1.0},
        "feature": {"feature_id": "f", "spec_ref": "s", "status": status},
        "cost": {"provider": "p", "estimated_usd": cost}})
    .to_string()
}

/// A minimal valid turn line with event id `id` (1 token in).
fn small_turn(id: &str) -> String {
    json!({"type": "turn", "event_id": id, "turn": {"turn_id": "t", "session_id": "s",
        "model": "m", "subagent": "a", "tokens_in": 1, "tokens_out": 0, "input_kind": "text",
        "latency_ms": 0}})
    .to_string()
        + "\n"
}

/// The checkpoint's ids base files (`state/rollup_ids.*.bin`) under the data dir `dir`.
fn ids_base_files(dir: &Utf8Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir.join("state"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|f| f.to_string_lossy().starts_with("rollup_ids.")))
        .collect()
}

fn session(id: &str, s: &str, day: u32) -> String {
    json!({"type": "session", "event_id": id, "session": {"session_id": s, "repo_id": "r",
        "branch": "b", "commit": "c", "license_id": "l", "privacy_tier": "local",
        "created_at": format!("2026-11-{day:02}T09:00:00Z")}})
    .to_string()
}

fn legacy_turn(s: &str) -> String {
    json!({"type": "turn", "turn": {"turn_id": "t", "session_id": s, "model": "m",
        "subagent": "main", "tokens_in": 10, "tokens_out": 1, "input_kind": "text",
        "latency_ms": 1.0}})
    .to_string()
}

fn append(path: &Utf8Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("{e}"));
    f.write_all(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
}

fn full(paths: &[Utf8PathBuf]) -> Rollup {
    summarize_files(paths, &opts()).unwrap_or_else(|e| panic!("{e}"))
}

fn incremental(paths: &[Utf8PathBuf], ck: &Utf8Path) -> Rollup {
    summarize_incremental(paths, &opts(), ck).unwrap_or_else(|e| panic!("{e}"))
}

/// A data dir whose log holds `n` small turns with ids `b00000`, `b00001`, …,
/// rolled up once so the checkpoint exists: the temp dir, the dir, the log, the checkpoint path,
/// and the log's text.
struct Rolled {
    _d: tempfile::TempDir,
    dir: Utf8PathBuf,
    log: Utf8PathBuf,
    ck: Utf8PathBuf,
    paths: Vec<Utf8PathBuf>,
    text: String,
}

fn rolled_up_small_turns(n: u64) -> Rolled {
    let (_d, dir) = tmp();
    let log = dir.join("events.jsonl");
    let ck = dir.join("state/rollup_checkpoint.bin");
    let paths = vec![log.clone()];
    let text: String = (0..n).map(|i| small_turn(&format!("b{i:05}"))).collect();
    std::fs::write(&log, &text).unwrap_or_default();
    assert_eq!(incremental(&paths, &ck).summary.turns, n);
    Rolled { _d, dir, log, ck, paths, text }
}

/// Everything a rollup reports but the list of kept diagnostics.
fn shape(r: &Rollup) -> Json {
    json!({"summary": r.summary, "sessions": r.sessions, "days": r.days,
        "duplicates": r.duplicates})
}

/// 17 turns of one session, $0.01 each (the issue's example).
fn seventeen() -> String {
    let mut text = session("e-s", "s1", 1) + "\n";
    for i in 0..17 {
        text += &(turn(&format!("e{i}"), "s1", 0.01, "proposed", 1) + "\n");
    }
    text
}

#[test]
fn a_file_named_twice_or_copied_counts_each_event_once() {
    let (_d, dir) = tmp();
    let a = dir.join("events.jsonl");
    let copy = dir.join("copy.jsonl");
    std::fs::write(&a, seventeen()).unwrap_or_default();
    std::fs::write(&copy, seventeen()).unwrap_or_default();
    for paths in [vec![a.clone()], vec![a.clone(), a.clone()], vec![a.clone(), copy.clone()]] {
        let r = full(&paths);
        assert_eq!(r.summary.turns, 17, "{paths:?}");
        assert!((r.summary.cost_usd - 0.17).abs() < 1e-12, "{}", r.summary.cost_usd);
        assert_eq!(r.summary.sessions, 1);
        assert_eq!(r.sessions.first().map(|s| s.row.tokens_in), Some(170));
        assert_eq!(r.summary.diagnostics, 0);
    }
    // The copy's 18 events were all seen already; the same file named twice is not read again.
    assert_eq!(full(&[a.clone(), copy]).duplicates, 18);
    assert_eq!(full(&[a.clone(), a]).duplicates, 0);
}

#[test]
fn legacy_lines_without_an_id_count_as_they_come_but_a_file_is_read_once() {
    let (_d, dir) = tmp();
    let a = dir.join("legacy.jsonl");
    std::fs::write(&a, format!("{}\n{}\n", legacy_turn("s"), legacy_turn("s"))).unwrap_or_default();
    assert_eq!(full(std::slice::from_ref(&a)).summary.turns, 2);
    assert_eq!(full(&[a.clone(), a]).summary.turns, 2);
}

/// Duplicates far apart (in chunks handled by different workers): the first one counts,
/// whatever its content, and the result does not depend on worker timing.
#[test]
fn the_first_of_repeated_ids_counts_across_chunks() {
    let (_d, dir) = tmp();
    let a = dir.join("events.jsonl");
    let mut text = String::new();
    let n = 6000; // ≈ 3.5 MB: several 1 MiB chunks
    for i in 0..n {
        text += &(turn(&format!("e{i}"), "s", 1.0, "proposed", 1) + "\n");
    }
    // Every 100th event again, with another cost and status: not counted.
    for i in (0..n).step_by(100) {
        text += &(turn(&format!("e{i}"), "s", 1000.0, "shipped", 2) + "\n");
    }
    std::fs::write(&a, &text).unwrap_or_default();
    for _ in 0..3 {
        let r = full(std::slice::from_ref(&a));
        assert_eq!(r.summary.turns, n);
        assert_eq!(r.duplicates, n / 100);
        assert!((r.summary.cost_usd - n as f64).abs() < 1e-6, "{}", r.summary.cost_usd);
        assert_eq!(r.days.len(), 1, "{:?}", r.days.keys().collect::<Vec<_>>());
        let shipped = r.summary.features_by_status.get(&FeatureStatus::Shipped);
        assert_eq!(shipped, Some(&0));
    }
}

#[test]
fn a_checkpointed_rollup_equals_a_full_one_after_each_append() {
    let (_d, dir) = tmp();
    let a = dir.join("events.jsonl");
    let b = dir.join("other.jsonl");
    let ck = dir.join("state/rollup_checkpoint.bin");
    let paths = vec![a.clone(), b.clone(), dir.join("missing.jsonl")];
    let steps: Vec<(Utf8PathBuf, String)> = vec![
        (a.clone(), session("e-s1", "s1", 1) + "\n" + &turn("e1", "s1", 0.5, "proposed", 1) + "\n"),
        (b.clone(), turn("e2", "s2", 0.25, "proposed", 2) + "\nnot json\n"),
        // A torn last line: not consumed, read again once completed.
        (a.clone(), turn("e3", "s1", 1.0, "implemented", 3) + "\n{\"type\": \"turn\", \"ev"),
        (a.clone(), "ent_id\": \"x\"}\n".to_owned() + &turn("e1", "s1", 9.0, "shipped", 4) + "\n"),
        (b.clone(), legacy_turn("s2") + "\n" + &turn("e4", "s2", 2.0, "shipped", 5) + "\n"),
        (a.clone(), turn("e5", "s1", 0.125, "implemented", 6) + "\n"),
    ];
    for (i, (path, text)) in steps.iter().enumerate() {
        append(path, text);
        let want = full(&paths);
        let got = incremental(&paths, &ck);
        assert_eq!(shape(&got), shape(&want), "after step {i}");
        assert!(ck.exists());
        // Nothing appended: the same again.
        assert_eq!(shape(&incremental(&paths, &ck)), shape(&want), "rerun after step {i}");
    }
    let last = full(&paths);
    // Independent totals: e1 0.5 + e2 0.25 + e3 1.0 + e4 2.0 + e5 0.125 (the repeated e1 and
    // the legacy turn add nothing and $0); 5 counted turns with ids + 1 legacy turn.
    assert_eq!(last.summary.turns, 6);
    assert!((last.summary.cost_usd - 3.875).abs() < 1e-12);
    assert_eq!(last.duplicates, 1);
    // "not json" and the completed line (an event without its required fields).
    assert_eq!(last.summary.diagnostics, 2);
}

#[test]
fn a_rewritten_shortened_or_replaced_file_is_read_in_full() {
    let (_d, dir) = tmp();
    let a = dir.join("events.jsonl");
    let ck = dir.join("state/rollup_checkpoint.bin");
    let paths = vec![a.clone()];
    std::fs::write(&a, seventeen()).unwrap_or_default();
    incremental(&paths, &ck);
    // Shorter, different content (same inode).
    std::fs::write(&a, turn("x1", "s9", 3.0, "shipped", 9) + "\n").unwrap_or_default();
    assert_eq!(shape(&incremental(&paths, &ck)), shape(&full(&paths)));
    assert_eq!(incremental(&paths, &ck).summary.turns, 1);
    // Same length, one byte changed in the prefix.
    let text = seventeen();
    std::fs::write(&a, &text).unwrap_or_default();
    incremental(&paths, &ck);
    std::fs::write(&a, text.replacen("\"e3\"", "\"f3\"", 1)).unwrap_or_default();
    assert_eq!(shape(&incremental(&paths, &ck)), shape(&full(&paths)));
    // Rotated: moved away, a new file in its place.
    std::fs::rename(&a, dir.join("events.jsonl.1")).unwrap_or_default();
    std::fs::write(&a, turn("y1", "s8", 4.0, "shipped", 8) + "\n").unwrap_or_default();
    let r = incremental(&paths, &ck);
    assert_eq!(shape(&r), shape(&full(&paths)));
    assert_eq!(r.summary.turns, 1);
    assert!((r.summary.cost_usd - 4.0).abs() < 1e-12);
}

#[test]
fn a_corrupt_checkpoint_is_ignored() {
    let (_d, dir) = tmp();
    let a = dir.join("events.jsonl");
    let ck = dir.join("ck.bin");
    let paths = vec![a.clone()];
    std::fs::write(&a, seventeen()).unwrap_or_default();
    incremental(&paths, &ck);
    let mut bytes = std::fs::read(&ck).unwrap_or_default();
    let mid = bytes.len() / 2;
    if let Some(b) = bytes.get_mut(mid) {
        *b ^= 0x55;
    }
    for garbage in [bytes, b"AGOSRCK".to_vec(), Vec::new(), vec![0xff; 100]] {
        std::fs::write(&ck, garbage).unwrap_or_default();
        assert_eq!(shape(&incremental(&paths, &ck)), shape(&full(&paths)));
    }
}

/// The checkpoint is really used: bytes before its offset (past the fingerprinted prefix and
/// tail) are not read again. Changing a consumed line in the middle changes a full read but
/// not the resumed one.
#[test]
fn only_appended_bytes_are_read_after_a_checkpoint() {
    let (_d, dir) = tmp();
    let a = dir.join("events.jsonl");
    let ck = dir.join("ck.bin");
    let paths = vec![a.clone()];
    let mut text = String::new();
    for i in 0..1000 {
        text += &(turn(&format!("e{i:04}"), "s", 1.0, "proposed", 1) + "\n");
    }
    std::fs::write(&a, &text).unwrap_or_default();
    let before = incremental(&paths, &ck);
    assert_eq!(before.summary.turns, 1000);
    let edited = text.replacen(r#""e0500","feature""#, r#""e0499","feature""#, 1);
    assert!(edited != text, "the edit applies");
    std::fs::write(&a, &edited).unwrap_or_default();
    // A full read sees e0499 twice (one turn fewer); the resumed read does not re-read it.
    assert_eq!(full(&paths).summary.turns, 999);
    append(&a, &(turn("new", "s", 1.0, "proposed", 1) + "\n"));
    assert_eq!(incremental(&paths, &ck).summary.turns, 1001);
}

/// Past 4 096 ids the checkpoint keeps them in a base file (`state/rollup_ids.*.bin`) and
/// only a delta in the checkpoint: repeats of ids in either are still caught, and a damaged
/// base file means a full read.
#[test]
fn ids_in_the_base_file_and_in_the_delta_both_count_once() {
    let n = 70_000u64;
    let Rolled { _d: _tmp, dir, log: a, ck, paths, .. } = rolled_up_small_turns(n);
    let base_files = || ids_base_files(&dir);
    assert_eq!(base_files().len(), 1, "{:?}", base_files());
    // New ids go to the delta; repeats of base ids and of delta ids are not counted.
    append(&a, &(small_turn("d1") + &small_turn("b00005") + &small_turn("d2")));
    assert_eq!(shape(&incremental(&paths, &ck)), shape(&full(&paths)));
    append(&a, &(small_turn("d1") + &small_turn("b69999") + &small_turn("d3")));
    let r = incremental(&paths, &ck);
    assert_eq!(shape(&r), shape(&full(&paths)));
    assert_eq!((r.summary.turns, r.duplicates), (n + 3, 3));
    assert_eq!(base_files().len(), 1);
    // A damaged base file: the checkpoint is not used, the result is still right.
    let base = base_files().remove(0);
    let mut bytes = std::fs::read(&base).unwrap_or_default();
    if let Some(b) = bytes.get_mut(100) {
        *b ^= 1;
    }
    std::fs::write(&base, bytes).unwrap_or_default();
    append(&a, &small_turn("d4"));
    let r = incremental(&paths, &ck);
    assert_eq!(shape(&r), shape(&full(&paths)));
    assert_eq!(r.summary.turns, n + 4);
}

/// A resumed rollup that meets few new ids looks them up in the base file where it lies (it
/// does not read it whole: a change in its middle that keeps its size and modification time
/// goes unseen, as a change in an already-read line of the log does); once many bytes are
/// appended it reads the base whole, finds the damage by its checksum and reads everything
/// again. A missing base file means a full read too.
#[test]
fn a_large_base_is_searched_in_place_and_verified_when_read_whole() {
    let n = 70_000u64;
    let Rolled { _d: _tmp, dir, log: a, ck, paths, text } = rolled_up_small_turns(n);
    let base = ids_base_files(&dir).pop().unwrap_or_else(|| panic!("no base file"));
    // A consumed line in the middle of the log now repeats an earlier id: a full read counts
    // one turn fewer, a resumed one does not see it.
    let edited = text.replacen("\"b35001\"", "\"b35000\"", 1);
    assert!(edited != text);
    std::fs::write(&a, &edited).unwrap_or_default();
    // Damage the middle of the base file, keeping its size and modification time.
    let mut bytes = std::fs::read(&base).unwrap_or_default();
    let mid = bytes.len() / 2;
    if let Some(b) = bytes.get_mut(mid) {
        *b ^= 0x5a;
    }
    let mtime =
        std::fs::metadata(&base).and_then(|m| m.modified()).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&base, &bytes).unwrap_or_default();
    std::fs::File::options()
        .write(true)
        .open(&base)
        .and_then(|f| f.set_modified(mtime))
        .unwrap_or_else(|e| panic!("{e}"));
    // Two new ids and a repeat of a base id (found by positional reads): resumed.
    append(&a, &(small_turn("d1") + &small_turn("b00007") + &small_turn("d2")));
    let r = incremental(&paths, &ck);
    assert_eq!((r.summary.turns, r.duplicates), (n + 2, 1));
    // ~660 KB appended: the base is read whole, fails its checksum, and everything is read.
    let more: String = (0..3000).map(|i| small_turn(&format!("m{i}"))).collect();
    append(&a, &more);
    let r = incremental(&paths, &ck);
    assert_eq!(shape(&r), shape(&full(&paths)));
    assert_eq!((r.summary.turns, r.duplicates), (n + 2 + 3000 - 1, 2));
    // The full read wrote a new base; removing it means a full read again.
    for e in std::fs::read_dir(dir.join("state")).into_iter().flatten().flatten() {
        if e.file_name().to_string_lossy().starts_with("rollup_ids.") {
            std::fs::remove_file(e.path()).unwrap_or_default();
        }
    }
    append(&a, &small_turn("d3"));
    let r = incremental(&paths, &ck);
    assert_eq!(shape(&r), shape(&full(&paths)));
    assert_eq!(r.summary.turns, n + 2 + 3000 - 1 + 1);
}

/// Issue #9: an outcome kind (or input kind) this version does not know is counted, not
/// skipped: under `other`, before and after a checkpoint, never as a key of its own.
#[test]
fn unknown_outcome_and_input_kinds_count_under_other_across_a_checkpoint() {
    let (_d, dir) = tmp();
    let a = dir.join("events.jsonl");
    let ck = dir.join("rollup.ckpt");
    let with = |id: &str, input: &str, kind: &str, count: u64| {
        let mut t: Json = serde_json::from_str(&turn(id, "s1", 0.01, "proposed", 1))
            .unwrap_or_else(|e| panic!("{e}"));
        t["turn"]["input_kind"] = json!(input);
        t["outcome"] = json!({"kind": kind, "count": count});
        t.to_string() + "\n"
    };
    let first = session("e-s", "s1", 1)
        + "\n"
        + &with("e1", "text", "tests_passed", 2)
        + &with("e2", "audio/v2", "release_cut", 4)
        + &with("e3", "text", "other", 1);
    std::fs::write(&a, &first).unwrap_or_default();
    let before = incremental(std::slice::from_ref(&a), &ck);
    append(&a, &with("e4", "video", "secret kind", 5));
    let after = incremental(std::slice::from_ref(&a), &ck);
    // Hand count: other = 4 (release_cut) + 1 (other) + 5 (secret kind).
    assert_eq!((before.summary.turns, after.summary.turns), (3, 4));
    assert_eq!(after.summary.diagnostics, 0);
    let outcomes = serde_json::to_value(&after.summary.outcomes).unwrap_or_default();
    assert_eq!(outcomes["other"], 10, "{outcomes}");
    assert_eq!(outcomes["tests_passed"], 2, "{outcomes}");
    assert_eq!(serde_json::to_value(&before.summary.outcomes).unwrap_or_default()["other"], 5);
    let text = serde_json::to_string(&after.summary).unwrap_or_default();
    assert!(!text.contains("release_cut") && !text.contains("secret kind"), "{text}");
    assert_eq!(shape(&after), shape(&full(std::slice::from_ref(&a))));
}

/// The ids base is rewritten once more than 4 096 ids were counted since it was written (the
/// checkpoint a resumed run rewrites stays small); until then it stays as it is.
#[test]
fn the_ids_base_is_rewritten_once_the_delta_passes_4096_ids() {
    let n = 70_000u64;
    let Rolled { _d: _tmp, dir, log: a, ck, paths, .. } = rolled_up_small_turns(n);
    let first = ids_base_files(&dir);
    assert_eq!(first.len(), 1, "{first:?}");
    // 3 000 new ids: in the delta. 1 200 more (4 200 in all): a new base.
    for (batch, count, same) in [("c", 3000u64, true), ("d", 1200, false)] {
        let more: String = (0..count).map(|i| small_turn(&format!("{batch}{i}"))).collect();
        append(&a, &more);
        let r = incremental(&paths, &ck);
        assert_eq!(shape(&r), shape(&full(&paths)), "{batch}");
        let now = ids_base_files(&dir);
        assert_eq!(now.len(), 1, "{now:?}");
        assert_eq!(now == first, same, "{batch}: {now:?} vs {first:?}");
    }
    assert_eq!(incremental(&paths, &ck).summary.turns, n + 4200);
}
