//! The store's reader (reference §7.2 with the §9.7 fix): missing file, blank lines, corrupt
//! lines reported `file:line` and skipped, the exact window filter, the stable sort.

use std::sync::atomic::{AtomicU32, Ordering};

use agentos_tracker::store::{Row, read_rows};
use camino::{Utf8Path, Utf8PathBuf};

static N: AtomicU32 = AtomicU32::new(0);

/// A scratch file removed on drop.
struct Scratch(Utf8PathBuf);

impl Scratch {
    fn with(text: &str) -> Scratch {
        let p = tmp().join(format!(
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

fn tmp() -> Utf8PathBuf {
    Utf8PathBuf::try_from(std::env::temp_dir()).unwrap()
}

fn ids(rows: &[Row]) -> Vec<&str> {
    rows.iter().map(|r| r.str("id").unwrap_or("?")).collect()
}

#[test]
fn a_missing_file_is_no_rows() {
    let l = read_rows(&tmp().join("agentos-no-such-tracker-file.jsonl"), None).unwrap();
    assert!(l.rows.is_empty() && l.corrupt.is_empty());
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
    let l = read_rows(&f.0, None).unwrap();
    assert_eq!(ids(&l.rows), ["b", "a"]);
    let lines: Vec<u64> = l.corrupt.iter().map(|d| d.line).collect();
    assert_eq!(lines, [3, 4, 6]);
    let first = l.corrupt[0].to_string();
    assert!(first.starts_with(&format!("{}:3: not valid JSON", f.0)), "{first}");
    assert!(l.corrupt[1].message.contains("not a JSON object"), "{:?}", l.corrupt[1]);
    assert!(l.corrupt[2].message.contains("torn last line"), "{:?}", l.corrupt[2]);
    // The line's text never reaches a diagnostic.
    assert!(l.corrupt.iter().all(|d| !d.to_string().contains("secret-text")));
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
    let l = read_rows(&f.0, None).unwrap();
    assert_eq!(ids(&l.rows), ["e", "d", "c", "g", "f"]);
    let l = read_rows(&f.0, Some("W1")).unwrap();
    assert_eq!(ids(&l.rows), ["d", "c", "g"]);
    let l = read_rows(&f.0, Some("")).unwrap();
    assert_eq!(l.rows.len(), 5, "an empty filter keeps every row");
}

#[test]
fn a_directory_is_an_error_not_a_panic() {
    let dir: &Utf8Path = &tmp();
    assert!(read_rows(dir, None).is_err());
}
