//! `--agentos-py`: the Python client's `windows.jsonl` (`fixtures/agentos-py/events`, 9
//! events: 3 sessions, 5 turns, 1 session_end, counted by hand) imported once, with ids.

use std::path::Path;

use agentos_backfill::Error;
use agentos_backfill::agentos_py::{PyOptions, PyReport, prepare_py};
use camino::{Utf8Path, Utf8PathBuf};

fn run(o: &PyOptions, events: &Utf8Path) -> PyReport {
    let p = prepare_py(o).unwrap();
    let mut out = std::fs::OpenOptions::new().create(true).append(true).open(events).unwrap();
    p.write_event_batches(|b| {
        use std::io::Write;
        out.write_all(b.as_bytes()).map_err(|e| Error::Io {
            action: "write",
            path: events.to_owned(),
            source: e,
        })
    })
    .unwrap();
    p.commit().unwrap()
}

#[test]
fn python_events_are_imported_once_with_stable_ids() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/agentos-py/events/python_written.jsonl");
    let t = tempfile::tempdir().unwrap();
    let root = Utf8PathBuf::from_path_buf(t.path().to_owned()).unwrap();
    let py = root.join("py");
    std::fs::create_dir_all(&py).unwrap();
    let original = std::fs::read_to_string(&fixture).unwrap();
    // A tracker window summary shares the file name: not an event.
    let with_window = format!("{original}{{\"window\":\"w1\",\"features\":2}}\nnot json\n");
    std::fs::write(py.join("windows.jsonl"), &with_window).unwrap();
    let o = PyOptions { dir: py.clone(), state_dir: root.join("state"), strict: false };
    let events = root.join("events.jsonl");
    let r = run(&o, &events);
    assert_eq!(r.events, 9, "{r:?}");
    assert_eq!(r.by_type["session"], 3);
    assert_eq!(r.by_type["turn"], 5);
    assert_eq!(r.by_type["session_end"], 1);
    assert_eq!((r.not_events, r.bad_lines), (1, 1));
    let first = std::fs::read_to_string(&events).unwrap();
    for line in first.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["event_id"].as_str().unwrap().len(), 36, "{line}");
        assert!(v.get("schema_version").is_none(), "legacy lines stay legacy");
    }
    assert_eq!(run(&o, &events).file, "unchanged");
    // Rewritten (the Python tool's `delete` rewrites the file): nothing counted again.
    std::fs::write(py.join("windows.jsonl"), format!("\n{with_window}")).unwrap();
    let again = run(&o, &events);
    assert_eq!((again.file.as_str(), again.events, again.duplicates), ("rewritten", 0, 9));
    assert_eq!(std::fs::read_to_string(&events).unwrap(), first);
}
