//! The ledger: appended bytes only, rewritten files from the start without double counting,
//! torn last lines, unreadable files.

use crate::common::{Env, Totals, append_lines, claude_line, totals, write_lines};

const M: &str = "claude-opus-4-5-20251101";

#[test]
fn an_appended_file_is_read_from_where_the_last_run_stopped() {
    let env = Env::with_fixture();
    env.import();
    let p = env.project("-home-dev-proj");
    let s = "bbbbbbbb-0000-4000-8000-000000000001";
    let f = p.join(format!("{s}.jsonl"));
    write_lines(&f, &[claude_line(s, "2026-02-01T10:00:00Z", "m1", Some("r1"), M, 1, 2, 0, 0)]);
    env.import();
    let size_before = std::fs::metadata(&f).unwrap().len();
    let added = [
        claude_line(s, "2026-02-01T10:01:00Z", "m2", Some("r2"), M, 3, 4, 0, 0),
        claude_line(s, "2026-02-01T10:02:00Z", "m3", Some("r3"), M, 5, 6, 0, 0),
    ];
    append_lines(&f, &added);
    let (report, events) = env.import();
    let appended = std::fs::metadata(&f).unwrap().len() - size_before;
    assert_eq!(report.bytes_read, appended, "only the appended bytes are read");
    assert_eq!((report.files_appended, report.files_unchanged, report.lines), (1, 5, 2));
    assert_eq!(totals(&events), Totals::new(2, 3 + 5, 4 + 6, 0, 0, 0));
}

#[test]
fn a_file_rewritten_shorter_is_read_again_without_double_counting() {
    let env = Env::new();
    let p = env.project("-home-dev-proj");
    let s = "bbbbbbbb-0000-4000-8000-000000000002";
    let f = p.join(format!("{s}.jsonl"));
    let l1 = claude_line(s, "2026-02-01T10:00:00Z", "m1", Some("r1"), M, 1, 2, 0, 0);
    let l2 = claude_line(s, "2026-02-01T10:01:00Z", "m2", Some("r2"), M, 3, 4, 0, 0);
    let l3 = claude_line(s, "2026-02-01T10:02:00Z", "m3", Some("r3"), M, 5, 6, 0, 0);
    write_lines(&f, &[l1.clone(), l2, l3]);
    env.import();
    // Rewritten: shorter, keeps the first response, adds one.
    let l4 = claude_line(s, "2026-02-01T11:00:00Z", "m4", Some("r4"), M, 7, 8, 0, 0);
    write_lines(&f, &[l1, l4]);
    let (report, events) = env.import();
    assert_eq!((report.files_rewritten, report.responses, report.duplicates), (1, 1, 1));
    assert_eq!(totals(&events), Totals::new(1, 7, 8, 0, 0, 0));
    assert_eq!(totals(&env.events()), Totals::new(4, 1 + 3 + 5 + 7, 2 + 4 + 6 + 8, 0, 0, 0));
}

#[test]
fn a_torn_last_line_is_reported_and_read_once_complete() {
    let env = Env::new();
    let p = env.project("-home-dev-proj");
    let s = "bbbbbbbb-0000-4000-8000-000000000003";
    let f = p.join(format!("{s}.jsonl"));
    let l1 = claude_line(s, "2026-02-01T10:00:00Z", "m1", Some("r1"), M, 1, 2, 0, 0);
    let l2 = claude_line(s, "2026-02-01T10:01:00Z", "m2", Some("r2"), M, 3, 4, 0, 0);
    let (head, tail) = l2.split_at(l2.len() / 2);
    std::fs::write(&f, format!("{l1}\n{head}")).unwrap();
    let (report, events) = env.import();
    assert_eq!(totals(&events).responses, 1);
    assert_eq!(report.malformed_lines, 1);
    assert!(
        report.malformed[0].ends_with(&format!(
            "{s}.jsonl:2: incomplete last line (read again once it is complete)"
        )),
        "{:?}",
        report.malformed
    );
    append_lines(&f, &[tail.to_owned()]);
    let (report, events) = env.import();
    assert_eq!((report.files_appended, report.malformed_lines), (1, 0));
    assert_eq!(totals(&events), Totals::new(1, 3, 4, 0, 0, 0));
}

#[test]
fn unreadable_files_are_reported_and_skipped() {
    let env = Env::with_fixture();
    let p = env.project("-home-dev-proj");
    // A dangling link: unreadable whoever runs the test.
    std::os::unix::fs::symlink(env.root.join("nowhere.jsonl"), p.join("gone.jsonl")).unwrap();
    let locked = p.join("locked.jsonl");
    let s = "bbbbbbbb-0000-4000-8000-000000000004";
    write_lines(
        &locked,
        &[claude_line(s, "2026-02-01T10:00:00Z", "m1", Some("r1"), M, 1, 2, 0, 0)],
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let root = std::fs::File::open(&locked).is_ok(); // root reads it anyway
    let (report, events) = env.import();
    assert_eq!(totals(&events).responses, 9 + u64::from(root));
    assert!(
        report.unreadable.iter().any(|u| u.contains("gone.jsonl: cannot read")),
        "{:?}",
        report.unreadable
    );
    if !root {
        assert!(
            report.unreadable.iter().any(|u| u.contains("locked.jsonl: cannot read")),
            "{:?}",
            report.unreadable
        );
        assert_eq!(report.files_failed, 2);
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).unwrap();
}
