//! Unit tests of the CLI's own helpers (terminal-safe cells and tables, where `--data-dir`
//! points for `agentos window`).

use crate::table::{MAX_CELL_WIDTH, cell, sanitize, table, table_left_aligned};
use unicode_width::UnicodeWidthStr as _;

fn display_width(s: &str) -> usize {
    s.width()
}

#[test]
fn control_characters_and_bidi_are_escaped() {
    assert_eq!(
        cell("a\nb\r\t\u{1b}[31m\u{7f}\u{85}\u{202e}z"),
        "a\\nb\\r\\t\\u{1b}[31m\\u{7f}\\u{85}\\u{202e}z"
    );
}

#[test]
fn long_cells_are_cut_by_display_width() {
    let long = "x".repeat(70_000);
    let c = cell(&long);
    assert_eq!(c.chars().count(), MAX_CELL_WIDTH);
    assert!(c.ends_with('…'));
    // Exactly the limit is not cut; one more is.
    assert_eq!(sanitize("abcde", 5), "abcde");
    assert_eq!(sanitize("abcdef", 5), "abcd…");
    // Wide characters count two columns each: 4 columns + ellipsis.
    assert_eq!(sanitize("日本語です", 5), "日本…");
    // An escape is never split in the middle.
    assert_eq!(sanitize("ab\n", 3), "ab…");
}

#[test]
fn table_pads_by_display_width_and_never_panics_on_huge_cells() {
    let rows =
        vec![vec!["日本".to_owned(), "1".to_owned()], vec!["x".repeat(70_000), "22".to_owned()]];
    let t = table(&["model", "n"], &rows);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 4);
    let widths: Vec<usize> = lines.iter().map(|l| display_width(l)).collect();
    // Every line is as wide as the header line's rule.
    assert!(widths.iter().skip(1).all(|w| *w == widths[1]), "{t}");
}

#[test]
fn leading_columns_can_be_left_aligned_while_numbers_stay_right_aligned() {
    let rows = vec![vec!["2026-01-10".to_owned(), "a".to_owned(), "7".to_owned()]];
    let t = table_left_aligned(&["date", "models", "tokens"], &rows, 2);
    let row = t.lines().nth(2).unwrap_or_default();
    // "models" is 6 wide: "a" is followed by 5 spaces of padding, then the column gap; the
    // number is padded on its left to the width of "tokens".
    assert_eq!(row, "2026-01-10  a            7");
    let header = t.lines().next().unwrap_or_default();
    assert_eq!(header, "date        models  tokens");
}

/// Where `--data-dir` was written decides what it names for `agentos window`.
#[test]
fn window_data_dir_after_window_names_the_tracker_dir() {
    use crate::cmd::window::{DataDirPlacement::*, data_dir_placement};
    let at = |args: &[&str]| {
        data_dir_placement(std::iter::once("agentos").chain(args.iter().copied()).map(Into::into))
    };
    assert_eq!(at(&["window", "--data-dir", "d", "ingest", "codex"]), AfterWindow);
    assert_eq!(at(&["window", "ingest", "codex", "--data-dir", "d"]), AfterWindow);
    assert_eq!(at(&["window", "ingest", "codex", "--data-dir=d"]), AfterWindow);
    assert_eq!(at(&["--data-dir", "d", "window", "ingest", "codex"]), NotAfterWindow);
    assert_eq!(at(&["--data-dir=d", "window", "audit"]), NotAfterWindow);
    assert_eq!(at(&["--data-dir", "window", "audit", "--window", "W"]), NotAfterWindow);
    assert_eq!(at(&["--data-dir", "a", "window", "--data-dir", "b", "audit"]), AfterWindow);
    assert_eq!(at(&["window", "audit", "--", "--data-dir"]), NotAfterWindow);
    assert_eq!(at(&["usage", "daily", "--data-dir", "d"]), NotAfterWindow);
    assert_eq!(at(&[]), NotAfterWindow);
}
