//! Whole CCP runs with a key budget so small that days leave memory all the time, or with one
//! to four workers: the same events, report and month files as with the real budget and one
//! worker a core, copies and `--since` included.

use std::sync::atomic::Ordering;

use agentos_testkit::ccp_logs::CcpTree;

use super::seen::{DIR, TEST_BUDGET};
use super::*;

fn utf8(p: &std::path::Path) -> Utf8PathBuf {
    Utf8PathBuf::from_path_buf(p.to_owned()).unwrap()
}

/// A generated log tree of `requests` under `dir/ccp`, and a time well past its end (no
/// decision is left waiting for its completion).
fn generated(dir: &std::path::Path, requests: usize, seed: u64) -> (Utf8PathBuf, CcpTree, f64) {
    let root = utf8(&dir.join("ccp"));
    let tree = CcpTree::generate(root.as_std_path(), requests, seed).unwrap();
    let now = tree.end_ts + 3.0 * JOIN_WINDOW_SECS as f64;
    (root, tree, now)
}

/// One run that appends to a string and commits: its report and its event lines.
fn run(
    root: &Utf8Path,
    state: &Utf8Path,
    now_ts: f64,
    since_ts: Option<f64>,
) -> (CcpReport, String) {
    let opts = CcpOptions {
        root: root.to_owned(),
        state_dir: state.to_owned(),
        since_us: since_ts.map(|t| (t * 1e6) as i64),
        now_us: (now_ts * 1e6) as i64,
        strict: false,
        prices: None,
    };
    let mut events = String::new();
    let pending = backfill_ccp(&opts, &|_| {}, &mut |lines: &str| -> Result<(), Error> {
        events.push_str(lines);
        Ok(())
    })
    .unwrap();
    (pending.commit().unwrap(), events)
}

/// The month files of a state directory, by name.
fn months(state: &Utf8Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(state.join(DIR))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().into_string().unwrap(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    out.sort();
    out
}

fn json(r: &CcpReport) -> serde_json::Value {
    serde_json::to_value(r).unwrap()
}

#[test]
fn days_let_go_from_memory_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // About a hundred requests a day for five weeks, across a month's end.
    let (root, tree, now) = generated(dir.path(), 4000, 9);
    let (real, real_events) = run(&root, &utf8(&dir.path().join("real")), now, None);
    assert_eq!(real.requests, tree.truth.requests);

    // A budget below one day's keys: every new day sends the others out.
    TEST_BUDGET.store(40, Ordering::Relaxed);
    let small = utf8(&dir.path().join("small"));
    let (r, events) = run(&root, &small, now, None);
    assert_eq!(json(&r), json(&real));
    assert_eq!(events, real_events);
    let m = months(&small);
    assert!(m.len() >= 2, "{:?}", m.iter().map(|x| &x.0).collect::<Vec<_>>());
    assert_eq!(m, months(&utf8(&dir.path().join("real"))));

    // A snapshot of the first half of the oldest rotation: every request in it known.
    let logs = root.join("logs");
    let oldest = ["usage.jsonl.3", "usage.jsonl.2", "usage.jsonl.1", "usage.jsonl"]
        .iter()
        .map(|n| logs.join(n))
        .find(|p| p.exists())
        .unwrap();
    let bytes = std::fs::read(&oldest).unwrap();
    let half: Vec<u8> = bytes
        .split_inclusive(|b| *b == b'\n')
        .take(bytes.iter().filter(|b| **b == b'\n').count() / 2)
        .flatten()
        .copied()
        .collect();
    std::fs::write(logs.join("usage_half.jsonl"), &half).unwrap();
    let (again, more) = run(&root, &small, now, None);
    assert_eq!(again.requests, 0, "{:?}", again.files);
    assert!(again.duplicate_lines > 0);
    assert!(more.is_empty());

    // `--since` on a fresh state, then a full run: the two together are the whole history,
    // each request once.
    let since_state = utf8(&dir.path().join("since"));
    let mid = tree.end_ts - (tree.end_ts - 1_793_491_200.0) / 2.0;
    let (later, _) = run(&root, &since_state, now, Some(mid));
    let (rest, _) = run(&root, &since_state, now, None);
    assert!(later.requests > 0 && rest.requests > 0);
    assert_eq!(later.requests + rest.requests, tree.truth.requests);
}

#[test]
fn any_number_of_workers_writes_the_same_events_report_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (root, tree, now) = generated(dir.path(), 3000, 11);
    let runs: Vec<_> = [1, 2, 3, 4]
        .into_iter()
        .map(|workers| {
            super::TEST_WORKERS.store(workers, Ordering::Relaxed);
            let state = utf8(&dir.path().join(format!("w{workers}")));
            let (r, events) = run(&root, &state, now, None);
            assert_eq!(r.requests, tree.truth.requests, "{workers} workers");
            assert_eq!(events.lines().count() as u64, tree.truth.requests);
            (json(&r), events, months(&state))
        })
        .collect();
    for (i, got) in runs.iter().enumerate().skip(1) {
        assert!(*got == runs[0], "{} workers differ from one", i + 1);
    }
}

#[test]
fn the_index_of_earlier_builds_is_removed_when_the_seen_keys_are_committed() {
    let dir = tempfile::tempdir().unwrap();
    let (root, tree, now) = generated(dir.path(), 40, 3);
    let state = utf8(&dir.path().join("state"));
    std::fs::create_dir_all(&state).unwrap();
    let legacy = [crate::dedupe::BASE, crate::dedupe::LOG].map(|n| state.join(n));
    for p in &legacy {
        std::fs::write(p, b"an earlier build's dedupe index").unwrap();
    }
    let (r, _) = run(&root, &state, now, None);
    assert_eq!(r.requests, tree.truth.requests);
    for p in &legacy {
        assert!(!p.exists(), "{p} is left");
    }
    assert!(!months(&state).is_empty(), "the seen keys replace it");
}
