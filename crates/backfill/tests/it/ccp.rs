//! The CCC log backfill against generated log trees (truth kept by the generator) and the
//! real captures: counts, bad lines, copies, idempotency, appends and rotations between runs,
//! `--since`, `strict`.

use std::path::Path;

use agentos_backfill::ccp::{CcpOptions, CcpReport, JOIN_WINDOW_SECS, prepare_ccp};
use agentos_backfill::{Error, Progress};
use agentos_testkit::ccp_logs::{CcpTree, Truth, utc_day};
use camino::{Utf8Path, Utf8PathBuf};

pub(crate) fn utf8(p: &Path) -> Utf8PathBuf {
    Utf8PathBuf::from_path_buf(p.to_owned()).unwrap()
}

pub(crate) fn opts(root: &Utf8Path, state: &Utf8Path, now_ts: f64) -> CcpOptions {
    CcpOptions {
        root: root.to_owned(),
        state_dir: state.to_owned(),
        since_us: None,
        now_us: (now_ts * 1e6) as i64,
        strict: false,
        prices: None,
    }
}

/// One run: prepare, append the events to `events`, commit.
pub(crate) fn run(o: &CcpOptions, events: &Utf8Path) -> CcpReport {
    let pending = prepare_ccp(o, &|_: Progress| {}).unwrap();
    let mut out = std::fs::OpenOptions::new().create(true).append(true).open(events).unwrap();
    pending
        .write_event_batches(|b| {
            use std::io::Write;
            out.write_all(b.as_bytes()).map_err(|e| Error::Io {
                action: "write",
                path: events.to_owned(),
                source: e,
            })
        })
        .unwrap();
    pending.commit().unwrap()
}

/// The `ts` of the last complete line of `bytes` that has one.
fn last_ts(bytes: &[u8]) -> f64 {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .rev()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()?["ts"].as_f64())
        .unwrap()
}

pub(crate) fn later(t: &CcpTree) -> f64 {
    t.end_ts + 3.0 * JOIN_WINDOW_SECS as f64
}

pub(crate) fn assert_truth(r: &CcpReport, t: &Truth) {
    assert_eq!(r.requests, t.requests, "requests");
    assert_eq!(r.completed, t.completed, "completed");
    assert_eq!(r.failed, t.failed, "failed");
    assert_eq!(r.no_completion, t.no_completion, "no_completion");
    assert_eq!(r.error_status, t.error_status, "error_status");
    assert_eq!(r.fallbacks, t.fallbacks, "fallbacks");
    assert_eq!(r.fallback_status_unknown, t.fallback_status_unknown, "B1");
    assert_eq!(r.tokens_unknown, t.tokens_unknown, "tokens_unknown");
    assert_eq!(r.input_tokens, t.input_tokens, "input_tokens");
    assert_eq!(r.output_tokens, t.output_tokens, "output_tokens");
    let by_model: std::collections::BTreeMap<String, [u64; 4]> = r
        .by_model
        .iter()
        .map(|(k, m)| (k.clone(), [m.requests, m.failed, m.input_tokens, m.output_tokens]))
        .collect();
    assert_eq!(by_model, t.by_model, "by_model");
    assert_eq!(r.by_day, t.by_day, "by_day");
    assert_eq!(r.bad_lines, t.bad_lines, "bad_lines: {:?}", r.bad);
    assert_eq!(r.duplicate_files, t.duplicate_files, "duplicate_files");
}

/// Every written line is a valid v1 turn event; ids are unique.
pub(crate) fn check_events(path: &Utf8Path, want: u64) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut ids = std::collections::HashSet::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let errs = agentos_event_schema::validate::validate(
            agentos_event_schema::catalog::SchemaKind::V1Event,
            &v,
        );
        assert!(errs.is_empty(), "{line}: {errs:?}");
        assert!(ids.insert(v["event_id"].as_str().unwrap().to_owned()), "repeated id");
    }
    assert_eq!(ids.len() as u64, want);
}

#[test]
fn generated_tree_counts_exactly_and_a_rerun_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = utf8(&dir.path().join("ccp"));
    let tree = CcpTree::generate(root.as_std_path(), 400, 7).unwrap();
    let state = utf8(&dir.path().join("state"));
    let events = utf8(&dir.path().join("events.jsonl"));
    let o = opts(&root, &state, later(&tree));
    let r = run(&o, &events);
    assert_truth(&r, &tree.truth);
    // Placeholders are read (copies included) but never counted as requests.
    assert!(r.placeholder_lines >= tree.truth.placeholders);
    assert_eq!(r.pending, 0);
    assert!(r.bad.iter().all(|b| b.contains(".jsonl") && b.contains(':')), "{:?}", r.bad);
    check_events(&events, tree.truth.requests);

    let before = std::fs::read(&events).unwrap();
    let again = run(&o, &events);
    assert_eq!(again.requests, 0);
    assert_eq!(again.files_read, 0);
    assert_eq!(again.files_skipped, again.files_seen);
    assert_eq!(std::fs::read(&events).unwrap(), before, "a re-run writes nothing");

    // Without the ledger (state lost), the index still keeps every request from counting twice.
    std::fs::remove_file(state.join("ledger.json")).unwrap();
    let third = run(&o, &events);
    assert_eq!(third.requests, 0, "{third:?}");
    assert_eq!(std::fs::read(&events).unwrap(), before);
}

/// A tag snapshot taken after a run, of a file that run read (its torn last line included):
/// the next run compares it, does not read it, names it and remembers it, so the run after
/// finds it unchanged; a copy that then grows is read like any grown file.
#[test]
fn a_copy_made_after_a_run_is_not_read_and_is_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let root = utf8(&dir.path().join("ccp"));
    let tree = CcpTree::generate(root.as_std_path(), 300, 11).unwrap();
    let state = utf8(&dir.path().join("state"));
    let events = utf8(&dir.path().join("events.jsonl"));
    let o = opts(&root, &state, later(&tree));
    run(&o, &events);
    let before = std::fs::read(&events).unwrap();
    let tag = root.join("logs/usage_v2_tag.jsonl");
    std::fs::copy(root.join("logs/usage.jsonl"), &tag).unwrap();

    let r = run(&o, &events);
    assert_eq!((r.requests, r.lines, r.bad_lines, r.files_read), (0, 0, 0, 1), "{r:?}");
    assert_eq!(r.duplicate_files, 1);
    let f = r.files.iter().find(|f| f.path == tag.as_str()).unwrap();
    assert_eq!((f.action, f.lines), ("copy", 0));
    assert!(f.note.as_deref().unwrap().contains("logs/usage.jsonl"), "{f:?}");
    assert_eq!(std::fs::read(&events).unwrap(), before);

    let r = run(&o, &events);
    let f = r.files.iter().find(|f| f.path == tag.as_str()).unwrap();
    assert_eq!((f.action, r.duplicate_files, r.files_read), ("unchanged", 0, 0));

    // Grown past its original: no longer a copy, read from where its original's reading
    // stopped (the torn line, now complete, is one more request).
    let mut grown = std::fs::read(&tag).unwrap();
    grown.extend_from_slice(b"\n");
    std::fs::write(&tag, &grown).unwrap();
    let r = run(&o, &events);
    let f = r.files.iter().find(|f| f.path == tag.as_str()).unwrap();
    assert_eq!((f.action, f.lines, r.files_read), ("appended", 1, 1), "{r:?}");
}

/// Files of several thousand lines (read in many batches, on a thread of its own): every
/// line of every file is counted once, in the file it belongs to, and the truth holds.
#[test]
fn long_files_count_each_line_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = utf8(&dir.path().join("ccp"));
    let tree = CcpTree::generate(root.as_std_path(), 12_000, 17).unwrap();
    let state = utf8(&dir.path().join("state"));
    let events = utf8(&dir.path().join("events.jsonl"));
    let r = run(&opts(&root, &state, later(&tree)), &events);
    assert_truth(&r, &tree.truth);
    let mut total = 0;
    // The byte-identical copy is not read at all.
    let (copies, read): (Vec<_>, Vec<_>) = r.files.iter().partition(|f| f.action == "copy");
    assert_eq!(copies.len() as u64, tree.truth.duplicate_files, "{:?}", r.files);
    assert!(copies.iter().all(|f| f.lines == 0), "{copies:?}");
    // Listed in the order of reading: the tag copy after `usage.jsonl`, before `logs/dev/`.
    let at = |p: &dyn Fn(&str) -> bool| r.files.iter().position(|f| p(&f.path)).unwrap();
    let copy_at = at(&|p| p == copies[0].path);
    assert!(at(&|p| p.ends_with("logs/usage.jsonl")) < copy_at, "{:?}", r.files);
    assert!(copy_at < at(&|p| p.contains("/dev/")), "{:?}", r.files);
    for f in &read {
        let bytes = std::fs::read(&f.path).unwrap();
        let newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        assert_eq!(f.lines, newlines, "{}", f.path);
        total += newlines;
    }
    assert!(r.files.iter().any(|f| f.lines > 5_000), "{:?}", r.files);
    assert_eq!(r.lines, total);
    // Each placeholder line is counted once per file read that holds it.
    let placeholders: u64 = read
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f.path).unwrap();
            let placeholder = |l: &&str| {
                l.contains("\"reason\":\"streaming\"")
                    && !l.contains("stream_ms")
                    && !l.contains("decision_reason")
            };
            text.lines().filter(placeholder).count() as u64
        })
        .sum();
    assert_eq!(r.placeholder_lines, placeholders);
}

#[test]
fn appends_and_a_rotation_between_runs_count_each_request_once() {
    let dir = tempfile::tempdir().unwrap();
    let full = utf8(&dir.path().join("full"));
    let tree = CcpTree::generate(full.as_std_path(), 300, 11).unwrap();
    // The same history, delivered in three steps to a live directory.
    let live = utf8(&dir.path().join("live"));
    let logs = live.join("logs");
    std::fs::create_dir_all(logs.join("archive")).unwrap();
    std::fs::create_dir_all(logs.join("dev")).unwrap();
    let src = full.join("logs");
    for f in ["archive/usage-20261101-000000.jsonl", "dev/usage.jsonl", "usage.jsonl.3"] {
        std::fs::copy(src.join(f), logs.join(f)).unwrap();
    }
    // Step 1: usage.jsonl holds the first half of what becomes `.2`.
    let two = std::fs::read(src.join("usage.jsonl.2")).unwrap();
    let half = two.iter().take(two.len() / 2).rposition(|&b| b == b'\n').unwrap() + 1;
    std::fs::write(logs.join("usage.jsonl"), &two[..half]).unwrap();
    let state = utf8(&dir.path().join("state"));
    let events = utf8(&dir.path().join("events.jsonl"));
    // "Now" is right after the last line delivered: the tail's decisions stay pending.
    let now = |bytes: &[u8]| last_ts(bytes) + 1.0;
    let a = run(&opts(&live, &state, now(&two[..half])), &events);
    // Step 2: the rest is appended; then CCP rotates it to `.2` and starts `.1`.
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(logs.join("usage.jsonl")).unwrap();
    f.write_all(&two[half..]).unwrap();
    drop(f);
    let b = run(&opts(&live, &state, now(&two)), &events);
    assert!(b.files.iter().any(|f| f.action == "appended"), "{:?}", b.files);
    std::fs::rename(logs.join("usage.jsonl"), logs.join("usage.jsonl.2")).unwrap();
    std::fs::copy(src.join("usage.jsonl.1"), logs.join("usage.jsonl")).unwrap();
    let one = std::fs::read(src.join("usage.jsonl.1")).unwrap();
    let c = run(&opts(&live, &state, now(&one)), &events);
    assert!(c.files.iter().any(|f| f.action == "rotated" && f.lines == 0), "{:?}", c.files);
    // Step 3: `.1` rotates, the last file appears with the tag copy; time passes.
    std::fs::rename(logs.join("usage.jsonl.2"), logs.join("usage.jsonl.3b")).unwrap();
    std::fs::rename(logs.join("usage.jsonl"), logs.join("usage.jsonl.1")).unwrap();
    std::fs::copy(src.join("usage.jsonl"), logs.join("usage.jsonl")).unwrap();
    std::fs::copy(src.join("usage_go_repro_quick.jsonl"), logs.join("usage_go_repro_quick.jsonl"))
        .unwrap();
    let d = run(&opts(&live, &state, later(&tree)), &events);
    let total = |f: fn(&CcpReport) -> u64| f(&a) + f(&b) + f(&c) + f(&d);
    let t = &tree.truth;
    assert_eq!(total(|r| r.requests), t.requests);
    assert_eq!(total(|r| r.completed), t.completed);
    assert_eq!(total(|r| r.failed), t.failed);
    assert_eq!(total(|r| r.input_tokens), t.input_tokens);
    assert_eq!(total(|r| r.output_tokens), t.output_tokens);
    assert_eq!(total(|r| r.fallbacks), t.fallbacks);
    assert_eq!(d.pending, 0);
    check_events(&events, t.requests);
}

#[test]
fn since_writes_only_later_requests_and_a_full_run_adds_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let root = utf8(&dir.path().join("ccp"));
    let tree = CcpTree::generate(root.as_std_path(), 300, 5).unwrap();
    let days: Vec<&String> = tree.truth.by_day.keys().collect();
    assert!(days.len() >= 3, "{days:?}");
    let since_day = days[days.len() / 2].clone();
    let want: u64 =
        tree.truth.by_day.iter().filter(|(d, _)| **d >= since_day).map(|(_, n)| n).sum();
    let since_us = tree
        .requests
        .iter()
        .find(|r| utc_day(r.ts) == since_day)
        .map(|r| ((r.ts / 86_400.0).floor() * 86_400.0 * 1e6) as i64)
        .unwrap();
    let state = utf8(&dir.path().join("state"));
    let events = utf8(&dir.path().join("events.jsonl"));
    let mut o = opts(&root, &state, later(&tree));
    o.since_us = Some(since_us);
    let r = run(&o, &events);
    assert_eq!(r.requests, want);
    assert!(r.by_day.keys().all(|d| *d >= since_day));
    assert_eq!(r.before_since, tree.truth.requests - want);
    // A later run without it writes exactly the older requests.
    o.since_us = None;
    let rest = run(&o, &events);
    assert_eq!(rest.requests, tree.truth.requests - want);
    check_events(&events, tree.truth.requests);
}

#[test]
fn strict_stops_at_the_first_bad_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = utf8(&dir.path().join("ccp"));
    let tree = CcpTree::generate(root.as_std_path(), 50, 3).unwrap();
    let state = utf8(&dir.path().join("state"));
    let mut o = opts(&root, &state, later(&tree));
    o.strict = true;
    let err = prepare_ccp(&o, &|_: Progress| {}).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::BadLine { .. }), "{text}");
    assert!(text.contains("usage.jsonl.1:2: text after") && !text.contains("copied"), "{text}");
    assert!(!state.join("ledger.json").exists());
}

#[test]
fn dry_run_leaves_no_state() {
    let dir = tempfile::tempdir().unwrap();
    let root = utf8(&dir.path().join("ccp"));
    let tree = CcpTree::generate(root.as_std_path(), 40, 9).unwrap();
    let state = utf8(&dir.path().join("state"));
    let o = opts(&root, &state, later(&tree));
    let p = prepare_ccp(&o, &|_: Progress| {}).unwrap();
    assert_eq!(p.report().requests, tree.truth.requests);
    drop(p);
    let left: Vec<String> = std::fs::read_dir(&state)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "backfill.lock")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The real captures (`fixtures/ccp/usage_*.jsonl`, copies of `../shared/ccp/captures/`),
/// counted by hand from the files: basic = 2 non-stream + 1 stream (placeholder, 0 tokens);
/// license_block = 1; warn_block = 2 (a warn and a block decision, both completed).
#[test]
fn real_captures() {
    let captures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ccp");
    let dir = tempfile::tempdir().unwrap();
    let root = utf8(dir.path());
    std::fs::create_dir_all(root.join("logs/archive")).unwrap();
    for name in ["usage_basic", "usage_license_block", "usage_warn_block"] {
        std::fs::copy(
            captures.join(format!("{name}.jsonl")),
            root.join(format!("logs/archive/{name}.jsonl")),
        )
        .unwrap();
    }
    let events = root.join("events.jsonl");
    let r = run(&opts(&root, &root.join("state"), 2e9), &events);
    assert_eq!(r.requests, 6);
    assert_eq!(r.completed, 6);
    assert_eq!(r.failed, 0);
    assert_eq!(r.placeholder_lines, 1);
    assert_eq!(r.tokens_unknown, 1, "the stream logged 0 tokens");
    assert_eq!((r.input_tokens, r.output_tokens), (500, 250));
    assert_eq!(r.by_model["claude-haiku-4.5"].requests, 5);
    assert_eq!(r.by_model["claude-sonnet-4.5"].requests, 1);
    assert_eq!(r.bad_lines, 0);
    check_events(&events, 6);
}

fn dec(ts: f64, rid: &str, why: &str) -> String {
    format!(
        r#"{{"ts":{ts},"rid":"{rid}","lane":"zai","model":"glm-4.6","input_tokens":0,"output_tokens":0,"status":-1,"reason":"","op":"","latency_ms":0,"err_type":"","upstream":"zai","h2":true,"event":"decision","decision":"{why}","decision_reason":"{why}","reroute_mode":"hybrid","reroute_decision":"quota_pass"}}"#
    )
}

fn done(ts: f64, rid: &str, tokens: (u64, u64), status: i64, why: &str) -> String {
    format!(
        r#"{{"ts":{ts},"rid":"{rid}","lane":"zai","model":"glm-4.6","input_tokens":{},"output_tokens":{},"status":{status},"reason":"ok","op":"nonstream","latency_ms":100,"stream_ms":100,"err_type":"","upstream":"zai","h2":true,"decision_reason":"{why}","reroute_mode":"hybrid","reroute_decision":"quota_pass"}}"#,
        tokens.0, tokens.1
    )
}

fn write_log(root: &Utf8Path, name: &str, lines: &[String]) {
    let p = root.join("logs").join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
}

const T0: f64 = 1_793_491_200.5;

#[test]
fn a_reused_rid_is_two_requests_and_each_completion_joins_its_own_decision() {
    let dir = tempfile::tempdir().unwrap();
    let root = utf8(dir.path());
    let later = T0 + 2.0 * JOIN_WINDOW_SECS as f64;
    write_log(
        &root,
        "usage.jsonl",
        &[
            dec(T0, "abcd0001", "pass_through"),
            done(T0 + 1.0, "abcd0001", (10, 1), 200, "pass_through"),
            // The same rid a while later (32-bit rids repeat), completed with other numbers.
            dec(later, "abcd0001", "pass_through"),
            done(later + 1.0, "abcd0001", (20, 2), 200, "pass_through"),
            // A decision alone, then time moves a window on: failed; its rid comes back
            // later with a completion of its own.
            dec(later + 5.0, "abcd0002", "pass_through"),
            dec(later + 10.0 + JOIN_WINDOW_SECS as f64, "abcd0003", "pass_through"),
            dec(later + 20.0 + JOIN_WINDOW_SECS as f64, "abcd0002", "pass_through"),
            done(later + 21.0 + JOIN_WINDOW_SECS as f64, "abcd0002", (5, 5), 200, "pass_through"),
            done(later + 30.0 + JOIN_WINDOW_SECS as f64, "abcd0003", (1, 1), 200, "pass_through"),
        ],
    );
    let events = root.join("events.jsonl");
    let r = run(&opts(&root, &root.join("state"), later + 4.0 * JOIN_WINDOW_SECS as f64), &events);
    assert_eq!((r.requests, r.completed, r.no_completion), (5, 4, 1), "{r:?}");
    assert_eq!((r.input_tokens, r.output_tokens), (10 + 20 + 5 + 1, 1 + 2 + 5 + 1));
    check_events(&events, 5);
}

#[test]
fn a_young_decision_waits_for_its_completion_in_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = utf8(dir.path());
    let state = root.join("state");
    let events = root.join("events.jsonl");
    write_log(&root, "usage.jsonl", &[dec(T0, "abcd0001", "pass_through")]);
    let a = run(&opts(&root, &state, T0 + 5.0), &events);
    assert_eq!((a.requests, a.pending), (0, 1));
    // CCP rotates the file and writes the completion to the new one.
    std::fs::rename(root.join("logs/usage.jsonl"), root.join("logs/usage.jsonl.1")).unwrap();
    write_log(&root, "usage.jsonl", &[done(T0 + 30.0, "abcd0001", (7, 3), 200, "pass_through")]);
    let b = run(&opts(&root, &state, T0 + 40.0), &events);
    assert_eq!((b.requests, b.completed, b.failed, b.pending), (1, 1, 0, 0), "{b:?}");
    assert_eq!((b.input_tokens, b.output_tokens), (7, 3));
    // A decision nobody completes fails once it is a window old, in whatever run sees that.
    write_log(
        &root,
        "usage.jsonl",
        &[
            done(T0 + 30.0, "abcd0001", (7, 3), 200, "pass_through"),
            dec(T0 + 50.0, "abcd0002", "pass_through"),
        ],
    );
    let c = run(&opts(&root, &state, T0 + 60.0), &events);
    assert_eq!((c.requests, c.pending), (0, 1), "{c:?}");
    let d = run(&opts(&root, &state, T0 + 60.0 + 2.0 * JOIN_WINDOW_SECS as f64), &events);
    assert_eq!((d.requests, d.no_completion, d.pending), (1, 1, 0), "{d:?}");
    check_events(&events, 2);
}

#[test]
fn b1_fallback_status_is_the_first_attempts_and_empty_bodies_have_unknown_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let root = utf8(dir.path());
    write_log(
        &root,
        "usage.jsonl",
        &[
            dec(T0, "abcd0001", "pass_through"),
            dec(T0 + 0.2, "abcd0001", "fallback"),
            done(T0 + 1.0, "abcd0001", (30, 40), 429, "fallback"),
            dec(T0 + 2.0, "abcd0002", "pass_through"),
            done(T0 + 3.0, "abcd0002", (0, 0), 200, "pass_through"),
            dec(T0 + 4.0, "abcd0003", "pass_through"),
            done(T0 + 5.0, "abcd0003", (0, 0), 503, "pass_through"),
        ],
    );
    let events = root.join("events.jsonl");
    let r = run(&opts(&root, &root.join("state"), T0 + 1e5), &events);
    assert_eq!((r.requests, r.completed, r.error_status), (3, 2, 1), "{r:?}");
    assert_eq!((r.fallbacks, r.fallback_status_unknown, r.tokens_unknown), (1, 1, 1));
    let text = std::fs::read_to_string(&events).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let ccp = &first["turn"]["ccp"];
    assert_eq!(ccp["first_attempt_status"], 429);
    assert!(ccp["status"].is_null(), "{ccp}");
    assert_eq!(first["turn"]["subagent"], "zai");
    assert_eq!(first["decision"]["reroute_mode"], "hybrid");
    check_events(&events, 3);
}

#[test]
fn a_since_run_between_two_runs_does_not_count_a_pending_request_twice() {
    let dir = tempfile::tempdir().unwrap();
    let root = utf8(dir.path());
    let state = root.join("state");
    let events = root.join("events.jsonl");
    write_log(&root, "usage.jsonl", &[dec(T0, "abcd0001", "pass_through")]);
    assert_eq!(run(&opts(&root, &state, T0 + 5.0), &events).pending, 1);
    write_log(
        &root,
        "usage.jsonl",
        &[dec(T0, "abcd0001", "pass_through"), done(T0 + 9.0, "abcd0001", (4, 2), 200, "x")],
    );
    let mut o = opts(&root, &state, T0 + 40.0);
    o.since_us = Some(((T0 - 60.0) * 1e6) as i64);
    assert_eq!(run(&o, &events).requests, 1);
    o.since_us = None;
    let again = run(&o, &events);
    assert_eq!((again.requests, again.pending), (0, 0), "{again:?}");
    check_events(&events, 1);
}

/// A line holding the same object twice (a writer that repeated itself), and a completion
/// with no decision repeated across two objects of one line: each request counts once, the
/// second copies as duplicate lines.
#[test]
fn the_same_request_twice_on_one_line_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = utf8(dir.path());
    let c = done(T0 + 1.0, "abcd0001", (10, 1), 200, "pass_through");
    let orphan = done(T0 + 50.0, "abcd0009", (7, 3), 200, "pass_through");
    write_log(
        &root,
        "usage.jsonl",
        &[dec(T0, "abcd0001", "pass_through"), format!("{c}{c}"), format!("{orphan}{orphan}")],
    );
    let events = root.join("events.jsonl");
    let r = run(&opts(&root, &root.join("state"), T0 + 1e5), &events);
    assert_eq!(r.requests, 2, "{r:?}");
    assert_eq!((r.input_tokens, r.output_tokens), (17, 4));
    assert_eq!(r.no_decision, 1);
    assert_eq!(r.duplicate_lines, 2);
    check_events(&events, 2);
}

/// A link to a log (under `logs/dev`, where trees link logs of other checkouts), a link back
/// up the tree and a named pipe with a log's name: the log is read once, the link is a copy
/// of it and the pipe is listed as skipped, each with why, and the run neither walks round the
/// loop nor waits on the pipe.
#[cfg(unix)]
#[test]
fn links_and_pipes_are_listed_not_read_twice_or_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = utf8(dir.path());
    write_log(
        &root,
        "usage.jsonl",
        &[dec(T0, "abcd0001", "pass_through"), done(T0 + 1.0, "abcd0001", (7, 3), 200, "ok")],
    );
    let dev = root.join("logs/dev/other");
    std::fs::create_dir_all(&dev).unwrap();
    std::os::unix::fs::symlink(root.join("logs/usage.jsonl"), dev.join("usage.jsonl")).unwrap();
    std::os::unix::fs::symlink("..", dev.join("up")).unwrap();
    let pipe = root.join("logs/usage.jsonl.1");
    let made = std::process::Command::new("mkfifo").arg(pipe.as_str()).status();
    let has_pipe = made.is_ok_and(|s| s.success());

    let events = root.join("events.jsonl");
    let o = opts(&root, &root.join("state"), T0 + 10.0 * JOIN_WINDOW_SECS as f64);
    let r = run(&o, &events);
    assert_eq!((r.requests, r.input_tokens, r.output_tokens, r.files_read), (1, 7, 3, 1), "{r:?}");
    let link = r.files.iter().find(|f| f.path == dev.join("usage.jsonl").as_str()).unwrap();
    assert_eq!(link.action, "copy");
    let note = link.note.as_deref().unwrap_or_default();
    assert!(note.contains(root.join("logs/usage.jsonl").as_str()), "{note}");
    // The loop `logs/dev/other/up` → `logs/dev` is listed once: the link is met once.
    assert_eq!(r.duplicate_files, 1);
    assert_eq!(r.files.iter().filter(|f| f.action == "copy").count(), 1);
    assert_eq!(r.files.iter().filter(|f| f.action == "skipped").count(), usize::from(has_pipe));
    if has_pipe {
        let p = r.files.iter().find(|f| f.path == pipe.as_str()).unwrap();
        assert_eq!(p.action, "skipped");
        assert!(p.note.as_deref().unwrap_or_default().contains("not a regular file"), "{p:?}");
    }
    assert_eq!(r.files_skipped, 1 + u64::from(has_pipe));
    check_events(&events, 1);
    // Again: the log is unchanged, and so is its link.
    let again = run(&o, &events);
    assert_eq!((again.requests, again.duplicate_files, again.files_read), (0, 0, 0), "{again:?}");
    let link = again.files.iter().find(|f| f.path == dev.join("usage.jsonl").as_str()).unwrap();
    assert_eq!(link.action, "unchanged");
    check_events(&events, 1);
}

/// A damaged list of requests in flight is reported on the state directory (removing the file
/// alone would not read their lines again); removing the directory, as the error says, reads
/// everything again.
#[test]
fn damaged_pending_requests_name_the_state_dir_to_remove() {
    let dir = tempfile::tempdir().unwrap();
    let root = utf8(dir.path());
    write_log(&root, "usage.jsonl", &[dec(T0, "abcd0001", "pass_through")]);
    let state = root.join("state");
    let events = root.join("events.jsonl");
    // Young enough to stay in flight.
    let o = opts(&root, &state, T0 + 1.0);
    let r = run(&o, &events);
    assert_eq!((r.requests, r.pending), (0, 1), "{r:?}");
    std::fs::write(state.join("pending.json"), "{\"x\":").unwrap();
    match prepare_ccp(&o, &|_: Progress| {}) {
        Err(Error::State { path, reason }) => {
            assert_eq!(path, state);
            assert!(reason.starts_with("pending.json: "), "{reason}");
        }
        other => panic!("{:?}", other.map(|p| p.report().clone())),
    }
    std::fs::remove_dir_all(&state).unwrap();
    let later = opts(&root, &state, T0 + 10.0 * JOIN_WINDOW_SECS as f64);
    let r = run(&later, &events);
    assert_eq!((r.requests, r.no_completion), (1, 1), "{r:?}");
}
