//! `read_watch_health`: the last snapshot of `ccc_usage.jsonl`, torn and foreign lines skipped.

use camino::Utf8PathBuf;

use crate::read_watch_health;

fn file(dir: &tempfile::TempDir, text: &str) -> Utf8PathBuf {
    let path = Utf8PathBuf::from_path_buf(dir.path().join("ccc_usage.jsonl"))
        .unwrap_or_else(|p| panic!("{p:?}"));
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    path
}

#[test]
fn no_file_or_no_snapshot_is_none() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let missing = Utf8PathBuf::from_path_buf(dir.path().join("nope.jsonl"))
        .unwrap_or_else(|p| panic!("{p:?}"));
    assert_eq!(read_watch_health(&missing).ok().flatten(), None);
    let only_requests = file(
        &dir,
        "{\"kind\":\"request\",\"key\":\"a@1\",\"sample\":{\"ts\":1.0,\"model\":\"m\"}}\n",
    );
    assert_eq!(read_watch_health(&only_requests).ok().flatten(), None);
}

#[test]
fn the_last_whole_snapshot_wins_and_old_requests_fall_out_of_the_window() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let snap = |ts: f64, block: bool, buffer: bool| {
        serde_json::json!({"kind": "snapshot", "ts": ts, "restart": false, "models": [
            {"model": "m", "weekly_seconds": 100, "weekly_pct": 0.95,
             "flags": {"warn": true, "block": block, "weekly_buffer": buffer}}]})
        .to_string()
    };
    let req = |ts: f64, status: u16| {
        serde_json::json!({"kind": "request", "key": format!("r@{ts}"),
            "sample": {"ts": ts, "model": "m", "status": status}})
        .to_string()
    };
    // requests at 850 (outside 1000 − 100), 950 and 990 (inside); the last snapshot line is
    // torn (no newline), so the one at ts 1000 is the last whole one
    let text = format!(
        "{}\n{}\n{}\nnot json\n{}\n{}\n{}",
        snap(900.0, true, false),
        req(850.0, 429),
        req(950.0, 429),
        req(990.0, 200),
        snap(1000.0, false, true),
        &snap(1100.0, true, true)[..20],
    );
    let health = read_watch_health(&file(&dir, &text))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("a snapshot"));
    let m = &health["m"];
    assert_eq!(m["state"], "buffer");
    assert_eq!(m["as_of"].as_f64(), Some(1000.0));
    assert_eq!(m["events"]["requests"].as_u64(), Some(2));
    assert_eq!(m["events"]["status_429"].as_u64(), Some(1));
}

#[test]
fn states_of_raw_usage_views_and_snapshots() {
    use crate::{health_notes, health_state};
    use serde_json::json;
    assert_eq!(health_state(&json!({"block": true, "warn": true})), "block");
    assert_eq!(health_state(&json!({"warn": true})), "warn");
    assert_eq!(health_state(&json!({"flags": {"warn": true}})), "warn");
    assert_eq!(health_state(&json!({})), "ok");
    assert_eq!(health_state(&json!({"state": "buffer", "warn": true})), "buffer");
    let health = [
        ("a".to_owned(), json!({"state": "ok"})),
        ("b\nfake".to_owned(), json!({"block": true, "rolling_pct": 1.0, "weekly_pct": 0.5})),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        health_notes(&health),
        ["model b fake blocked by its quota (rolling 100%, weekly 50%)"]
    );
}
