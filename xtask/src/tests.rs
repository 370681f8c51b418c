//! Unit tests of the diff and the benchmark table.

use serde_json::json;

use crate::{bench, diff};

#[test]
fn diff_of_equal_texts_is_empty() {
    assert_eq!(diff::unified("a\nb\n", "a\nb\n", 3), "");
}

#[test]
fn diff_shows_changes_with_context_and_line_numbers() {
    let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
    let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\n";
    assert_eq!(
        diff::unified(old, new, 1),
        "@@ -4 +4 @@\n 4\n-5\n+five\n 6\n@@ -10 +10 @@\n 10\n+11\n"
    );
}

#[test]
fn diff_reports_a_deleted_line() {
    let d = diff::unified("{\n  \"a\": 1,\n  \"b\": 2\n}\n", "{\n  \"b\": 2\n}\n", 3);
    assert!(d.contains("-  \"a\": 1,\n"), "{d}");
    assert!(d.starts_with("@@ -1 +1 @@\n"), "{d}");
    assert!(!d.lines().skip(1).any(|l| l.starts_with('+')), "{d}");
}

#[test]
fn diff_notices_a_missing_trailing_newline() {
    assert!(!diff::unified("a\n", "a", 3).is_empty());
}

#[test]
fn bench_collects_only_json_result_lines() {
    let out = "warming up\nverify  10000 ops  1.2 us/op\n{\"bench\":\"verify\",\"ops\":10000,\"us_per_op\":1.25}\n{\"bench\": broken\n  {\"bench\":\"x\"}\n{\"other\":1}\n";
    assert_eq!(
        bench::collect(out),
        [json!({"bench": "verify", "ops": 10000, "us_per_op": 1.25}), json!({"bench": "x"})]
    );
}

#[test]
fn bench_table_aligns_columns_of_all_keys() {
    let results = [
        json!({"bench": "verify", "ops": 10000, "us_per_op": 1.25}),
        json!({"bench": "rollup", "events": 100000, "ms": 41.5}),
    ];
    assert_eq!(
        bench::table(&results),
        "bench   ops    us_per_op  events  ms\n\
         ------  -----  ---------  ------  ------\n\
         verify  10000  1.250\n\
         rollup                    100000  41.500\n"
    );
}

/// rust-analyzer's tidy rule: every Rust file opens with a `//!` line saying what it is for.
#[test]
fn every_rust_file_opens_with_a_module_doc() {
    fn walk(dir: &std::path::Path, missing: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    walk(&path, missing);
                }
            } else if name.ends_with(".rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if !text.starts_with("//!") {
                    missing.push(path.display().to_string());
                }
            }
        }
    }
    let root = crate::repo_root();
    let mut missing = Vec::new();
    for dir in ["crates", "xtask", "tests"] {
        walk(&root.join(dir), &mut missing);
    }
    missing.sort();
    assert!(missing.is_empty(), "files without a `//!` first line: {missing:#?}");
}
