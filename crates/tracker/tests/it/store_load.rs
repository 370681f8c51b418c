//! The store loader (reference §7.2 with the §9.7 fix): missing file, blank lines, corrupt and
//! over-long lines reported `file:line` and skipped, the exact window filter, the stable sort.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use agentos_tracker::store::load::{Options, load};

static N: AtomicU32 = AtomicU32::new(0);

/// A scratch file removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn with(text: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!(
            "agentos-tracker-load-{}-{}.jsonl",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&p, text).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn ids(rows: &[serde_json::Map<String, serde_json::Value>]) -> Vec<&str> {
    rows.iter().map(|r| r["id"].as_str().unwrap_or("?")).collect()
}

#[test]
fn a_missing_file_is_no_rows() {
    let l =
        load(&std::env::temp_dir().join("agentos-no-such-tracker-file.jsonl"), Options::default())
            .unwrap();
    assert!(l.rows.is_empty() && l.diagnostics.is_empty());
}

#[test]
fn corrupt_lines_are_reported_with_file_and_line_and_skipped() {
    let f = Scratch::with(concat!(
        "{\"id\":\"a\",\"window\":\"W1\",\"captured_at\":\"2\"}\n",
        "\n",
        "{\"id\":\"secret-text\n",
        "  [1, 2]  \n",
        "{\"id\":\"b\",\"window\":\"W1\",\"captured_at\":\"1\"}\n",
        "{\"id\":\"torn",
    ));
    let l = load(&f.0, Options::default()).unwrap();
    assert_eq!(ids(&l.rows), ["b", "a"]);
    let lines: Vec<u64> = l.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(lines, [3, 4, 6]);
    let first = l.diagnostics[0].to_string();
    assert!(first.starts_with(&format!("{}:3: not JSON", f.0.display())), "{first}");
    assert!(l.diagnostics[1].reason.contains("not a JSON object"), "{:?}", l.diagnostics[1]);
    assert!(l.diagnostics[2].reason.contains("torn last line"), "{:?}", l.diagnostics[2]);
    // The line's text never reaches a diagnostic.
    assert!(l.diagnostics.iter().all(|d| !d.to_string().contains("secret-text")));
}

#[test]
fn rows_sort_stably_by_time_then_provider_and_filter_by_exact_window() {
    // Sort key (captured_at or finalized_at or "", provider or ""): e (no time) first, then
    // c/d at "1" by provider (a < b), then f before g (same key: file order kept).
    let f = Scratch::with(concat!(
        "{\"id\":\"g\",\"window\":\"W1\",\"captured_at\":\"3\",\"provider\":\"x\"}\n",
        "{\"id\":\"c\",\"window\":\"W1\",\"captured_at\":\"1\",\"provider\":\"b\"}\n",
        "{\"id\":\"d\",\"window\":\"W1\",\"finalized_at\":\"1\",\"provider\":\"a\"}\n",
        "{\"id\":\"e\",\"window\":\"W1 \"}\n",
        "{\"id\":\"f\",\"window\":\"W10\",\"captured_at\":\"3\",\"provider\":\"x\"}\n",
    ));
    let l = load(&f.0, Options::default()).unwrap();
    assert_eq!(ids(&l.rows), ["e", "d", "c", "g", "f"]);
    let l = load(&f.0, Options { window: Some("W1"), ..Options::default() }).unwrap();
    assert_eq!(ids(&l.rows), ["d", "c", "g"]);
    let l = load(&f.0, Options { window: Some(""), keep_raw_text: true }).unwrap();
    assert_eq!(l.rows.len(), 5, "an empty filter keeps every row");
}

#[test]
fn raw_text_is_dropped_when_asked() {
    let f = Scratch::with("{\"id\":\"a\",\"raw_text\":\"pane\"}\n");
    let kept = load(&f.0, Options::default()).unwrap();
    assert_eq!(kept.rows[0]["raw_text"], "pane");
    let lean = load(&f.0, Options { window: None, keep_raw_text: false }).unwrap();
    assert!(!lean.rows[0].contains_key("raw_text"));
}

#[test]
fn a_directory_is_an_error_not_a_panic() {
    let e = load(&std::env::temp_dir(), Options::default()).unwrap_err();
    assert!(e.to_string().starts_with("cannot read "), "{e}");
}
