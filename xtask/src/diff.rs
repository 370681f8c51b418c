//! A line diff for readable drift reports (`-` committed, `+` generated), built on `similar`.

use std::time::{Duration, Instant};

use similar::{Algorithm, DiffTag};

/// Past this the diff algorithm settles for a coarser (still correct) script.
const DIFF_DEADLINE: Duration = Duration::from_secs(2);

/// A unified-style diff of `old` → `new` with `context` unchanged lines around each change,
/// hunks headed `@@ -<old line> +<new line> @@` (1-based, where the hunk starts). Empty when the
/// texts are equal. Lines are compared without their line endings, so a text that differs only
/// in line endings or a trailing newline gets a one-line note instead of a hunk.
pub fn unified(old: &str, new: &str, context: usize) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = similar::capture_diff_slices_deadline(
        Algorithm::Myers,
        &a,
        &b,
        Instant::now().checked_add(DIFF_DEADLINE),
    );
    let mut out = String::new();
    for hunk in similar::group_diff_ops(ops, context) {
        if hunk.iter().all(|op| op.tag() == DiffTag::Equal) {
            continue;
        }
        let (la, lb) =
            hunk.first().map_or((0, 0), |op| (op.old_range().start, op.new_range().start));
        out.push_str(&format!("@@ -{} +{} @@\n", la + 1, lb + 1));
        for op in &hunk {
            let (tag, old_range, new_range) = op.as_tag_tuple();
            if tag == DiffTag::Equal {
                old_range.for_each(|i| out.push_str(&format!(" {}\n", a[i])));
                continue;
            }
            old_range.for_each(|i| out.push_str(&format!("-{}\n", a[i])));
            new_range.for_each(|j| out.push_str(&format!("+{}\n", b[j])));
        }
    }
    if out.is_empty() {
        // Only line endings or a trailing newline differ.
        return "@@ whitespace or trailing newline differs @@\n".to_owned();
    }
    out
}
