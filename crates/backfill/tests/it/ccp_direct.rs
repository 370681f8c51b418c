//! The CCC log backfill appending straight to the event log (`backfill_ccp`): each event is
//! handed over once, never through the spool, byte for byte what the spooled run writes; a
//! run interrupted mid-append commits nothing and the next run writes the same events again.

use std::io::Write as _;

use agentos_backfill::ccp::{CcpOptions, CcpReport, backfill_ccp};
use agentos_backfill::{Error, Progress};
use agentos_testkit::ccp_logs::CcpTree;
use camino::Utf8Path;

use crate::ccp::{assert_truth, check_events, later, opts, run, utf8};

fn io_err(path: &Utf8Path, e: std::io::Error) -> Error {
    Error::Io { action: "write", path: path.to_owned(), source: e }
}

/// One direct run appending to `events`; fails if the spool exists when a batch arrives.
fn direct(o: &CcpOptions, events: &Utf8Path) -> (CcpReport, u64) {
    let mut out = std::fs::OpenOptions::new().create(true).append(true).open(events).unwrap();
    let spool = o.state_dir.join("spool.jsonl");
    let mut batches = 0u64;
    let pending = backfill_ccp(o, &|_: Progress| {}, &mut |lines: &str| -> Result<(), Error> {
        assert!(!spool.exists(), "the events went through the spool");
        assert!(lines.ends_with('\n') && !lines.contains("\n\n"), "whole lines");
        batches += 1;
        out.write_all(lines.as_bytes()).map_err(|e| io_err(events, e))
    })
    .unwrap();
    out.sync_data().unwrap();
    (pending.commit().unwrap(), batches)
}

#[test]
fn direct_append_writes_each_event_once_and_as_the_spooled_run_does() {
    let dir = tempfile::tempdir().unwrap();
    let root = utf8(&dir.path().join("ccp"));
    let tree = CcpTree::generate(root.as_std_path(), 400, 7).unwrap();
    let spooled = utf8(&dir.path().join("spooled.jsonl"));
    let o = opts(&root, &utf8(&dir.path().join("state-spool")), later(&tree));
    let want = run(&o, &spooled);

    let events = utf8(&dir.path().join("events.jsonl"));
    let o = opts(&root, &utf8(&dir.path().join("state")), later(&tree));
    let (r, batches) = direct(&o, &events);
    assert_truth(&r, &tree.truth);
    assert!(batches >= 1);
    assert_eq!(serde_json::to_value(&r).unwrap(), serde_json::to_value(&want).unwrap());
    assert_eq!(std::fs::read(&events).unwrap(), std::fs::read(&spooled).unwrap());
    check_events(&events, tree.truth.requests);
    assert!(!o.state_dir.join("spool.jsonl").exists());

    // A re-run hands nothing over.
    let before = std::fs::read(&events).unwrap();
    let (again, batches) = direct(&o, &events);
    assert_eq!((again.requests, again.events, batches), (0, 0, 0));
    assert_eq!(std::fs::read(&events).unwrap(), before);
}

#[test]
fn an_interrupted_append_commits_nothing_and_the_next_run_writes_the_same_events() {
    let dir = tempfile::tempdir().unwrap();
    let root = utf8(&dir.path().join("ccp"));
    let tree = CcpTree::generate(root.as_std_path(), 400, 11).unwrap();
    let clean = utf8(&dir.path().join("clean.jsonl"));
    run(&opts(&root, &utf8(&dir.path().join("state-clean")), later(&tree)), &clean);
    let clean = std::fs::read(&clean).unwrap();

    let state = utf8(&dir.path().join("state"));
    let events = utf8(&dir.path().join("events.jsonl"));
    let o = opts(&root, &state, later(&tree));
    // The first batch is cut in the middle of a line (a crash mid-write), then the run fails.
    let mut torn = Vec::new();
    let err = backfill_ccp(&o, &|_: Progress| {}, &mut |lines: &str| -> Result<(), Error> {
        let cut = lines.len() / 2;
        torn = lines.as_bytes()[..cut].to_vec();
        std::fs::write(&events, &torn).map_err(|e| io_err(&events, e))?;
        Err(io_err(&events, std::io::Error::other("disk gone")))
    })
    .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(!torn.is_empty() && !torn.ends_with(b"\n"));
    for f in ["ledger.json", "pending.json", "spool.jsonl"] {
        assert!(!state.join(f).exists(), "{f} written by a failed run");
    }

    // The next run (on a fresh line, as the event log's appender starts after a torn tail)
    // writes exactly the events of an uninterrupted run: nothing was committed.
    std::fs::OpenOptions::new().append(true).open(&events).unwrap().write_all(b"\n").unwrap();
    let (r, _) = direct(&o, &events);
    assert_truth(&r, &tree.truth);
    let all = std::fs::read(&events).unwrap();
    assert_eq!(&all[..torn.len() + 1], [&torn[..], b"\n"].concat().as_slice());
    assert_eq!(&all[torn.len() + 1..], clean.as_slice());
    // The whole lines before the torn one are the clean run's first lines: readers drop them
    // again by event_id.
    let whole = &torn[..torn.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)];
    assert!(clean.starts_with(whole));
}
