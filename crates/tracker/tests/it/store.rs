//! The store: stamped Python-style lines, concurrent appends under the lock, torn and corrupt
//! lines, the reference's sort order, the atomic delete rewrite.

use std::sync::Arc;

use agentos_tracker::store::{
    SCHEMA_VERSION, TOOL_VERSION, TrackerDir, TrackerFile, append_row, read_rows,
    rewrite_without_line,
};
use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

pub fn scratch() -> (tempfile::TempDir, Utf8PathBuf) {
    let t = tempfile::tempdir().expect("tempdir");
    let p = Utf8PathBuf::from_path_buf(t.path().to_path_buf()).expect("utf-8 temp dir");
    (t, p)
}

#[derive(Serialize)]
struct Demo<'a> {
    window: &'a str,
    provider: &'a str,
    captured_at: String,
    n: u32,
}

#[test]
fn layout_is_the_python_one_inside_a_tracker_subdir() {
    let names: Vec<&str> = TrackerFile::ALL.iter().map(|f| f.file_name()).collect();
    assert_eq!(
        names,
        [
            "snapshots.jsonl",
            "windows.jsonl",
            "glm_counts.jsonl",
            "codex_ccusage.jsonl",
            "claude_monitor.jsonl",
            "proxy_telemetry.jsonl",
            "churn.jsonl",
            "anomalies.jsonl"
        ]
    );
    let d = TrackerDir::in_data_dir(Utf8Path::new("/data"));
    assert_eq!(d.path(TrackerFile::Windows), "/data/tracker/windows.jsonl");
    assert_eq!(d.state_dir(), "/data/tracker/state");
    let py = TrackerDir::new("data/week0/live");
    assert_eq!(py.path(TrackerFile::Snapshots), "data/week0/live/snapshots.jsonl");
}

#[test]
fn a_row_is_one_python_style_line_with_the_stamps_last() {
    let (_t, dir) = scratch();
    let path = dir.join("sub/glm_counts.jsonl");
    let row = Demo { window: "W0-01", provider: "glm", captured_at: "t1".into(), n: 3 };
    append_row(&path, &row).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        format!(
            "{{\"window\": \"W0-01\", \"provider\": \"glm\", \"captured_at\": \"t1\", \"n\": 3, \"schema_version\": \"{SCHEMA_VERSION}\", \"tool_version\": \"{TOOL_VERSION}\"}}\n"
        )
    );
    assert_eq!((SCHEMA_VERSION, TOOL_VERSION), ("1.0.0", "0.1.0"));
}

#[test]
fn concurrent_appends_lose_nothing_and_tear_nothing() {
    let (_t, dir) = scratch();
    let path = Arc::new(dir.join("snapshots.jsonl"));
    let big = "x".repeat(20_000); // several pipe/page sizes per line
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let path = Arc::clone(&path);
            let big = big.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    #[derive(Serialize)]
                    struct Row<'a> {
                        window: String,
                        thread: u32,
                        i: u32,
                        pad: &'a str,
                    }
                    let row = Row { window: format!("W{t}"), thread: t, i, pad: &big };
                    append_row(&path, &row).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let loaded = read_rows(&path, None).unwrap();
    assert!(loaded.corrupt.is_empty(), "{:?}", loaded.corrupt);
    assert_eq!(loaded.rows.len(), 400);
    let mut seen: Vec<(u64, u64)> = loaded
        .rows
        .iter()
        .map(|r| (r.value["thread"].as_u64().unwrap(), r.value["i"].as_u64().unwrap()))
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 400);
    // Each thread's rows are in its own order in the file.
    for t in 0..8u64 {
        let mine: Vec<u64> = loaded
            .rows
            .iter()
            .filter(|r| r.value["thread"] == t)
            .map(|r| r.value["i"].as_u64().unwrap())
            .collect();
        assert_eq!(mine, (0..50).collect::<Vec<_>>());
    }
}

#[test]
fn corrupt_lines_are_reported_by_line_and_skipped_and_a_torn_tail_is_closed() {
    let (_t, dir) = scratch();
    let path = dir.join("snapshots.jsonl");
    std::fs::write(
        &path,
        "{\"window\": \"W0-01\", \"captured_at\": \"b\"}\nnot json\n\n[1]\n{\"window\": \"W0-01\", \"captured_at\": \"a\"}\n{\"window\": \"W0-0",
    )
    .unwrap();
    let loaded = read_rows(&path, None).unwrap();
    let at: Vec<&str> = loaded.rows.iter().map(|r| r.str_or_empty("captured_at")).collect();
    assert_eq!(at, ["a", "b"], "sorted by captured_at");
    let lines: Vec<u64> = loaded.corrupt.iter().map(|c| c.line).collect();
    assert_eq!(lines, [2, 4, 6]);
    assert!(loaded.corrupt[0].to_string().starts_with(&format!("{path}:2: not valid JSON")));
    assert!(loaded.corrupt[2].to_string().contains("torn last line"));
    // The next append starts on a line of its own.
    append_row(&path, &Demo { window: "W0-01", provider: "p", captured_at: "c".into(), n: 1 })
        .unwrap();
    let loaded = read_rows(&path, Some("W0-01")).unwrap();
    assert_eq!(loaded.rows.len(), 3);
    assert_eq!(loaded.corrupt.len(), 3);
}

#[test]
fn rows_sort_by_captured_or_finalized_then_provider_and_filter_by_window() {
    let (_t, dir) = scratch();
    let path = dir.join("x.jsonl");
    let lines = [
        r#"{"window": "W1", "captured_at": "2", "provider": "b"}"#,
        r#"{"window": "W1", "finalized_at": "1"}"#,
        r#"{"window": "W1", "captured_at": "2", "provider": "a"}"#,
        r#"{"window": "W2", "captured_at": "0"}"#,
        r#"{"window": "W1", "captured_at": "", "provider": "z"}"#,
    ];
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let rows = read_rows(&path, Some("W1")).unwrap().rows;
    let order: Vec<u64> = rows.iter().map(|r| r.line).collect();
    // keys: ("2","b"), ("1",""), ("2","a"), ("","z") → 5, 2, 3, 1
    assert_eq!(order, [5, 2, 3, 1]);
    assert_eq!(read_rows(&path, Some("")).unwrap().rows.len(), 5, "empty filter keeps all");
    assert!(read_rows(&dir.join("missing.jsonl"), None).unwrap().rows.is_empty());
}

#[test]
fn an_over_long_line_is_skipped_without_stopping_the_read() {
    let (_t, dir) = scratch();
    let path = dir.join("x.jsonl");
    let long =
        format!("{{\"pad\": \"{}\"}}", "y".repeat(agentos_tracker::store::MAX_LINE_BYTES + 10));
    std::fs::write(&path, format!("{long}\n{{\"window\": \"W\"}}\n")).unwrap();
    let loaded = read_rows(&path, None).unwrap();
    assert_eq!(loaded.rows.len(), 1);
    assert_eq!(loaded.rows[0].line, 2);
    assert_eq!(loaded.corrupt.len(), 1);
    assert_eq!(loaded.corrupt[0].line, 1);
}

#[test]
fn the_delete_rewrite_removes_one_line_and_keeps_the_rest_byte_for_byte() {
    let (_t, dir) = scratch();
    let path = dir.join("snapshots.jsonl");
    let text = "{\"a\":1}\n  {\"b\": 2}\nbroken\n{\"c\": 3}\n";
    std::fs::write(&path, text).unwrap();
    assert!(!rewrite_without_line(&path, 2, "{\"a\":1}").unwrap(), "wrong line: nothing");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    assert!(rewrite_without_line(&path, 2, "{\"b\": 2}").unwrap());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\":1}\nbroken\n{\"c\": 3}\n");
    let leftovers: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
