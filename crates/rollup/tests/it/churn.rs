//! Churn on small git repositories built here with fixed dates.

use std::process::Command;

use agentos_rollup::churn::{ChurnOptions, Tag, churn, parse_tag};
use camino::{Utf8Path, Utf8PathBuf};

use agentos_testkit::git_repo::Repo;

const DAY: i64 = 86_400;
const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

/// Commits by day after `T0`, files given as lines.
trait DayCommits {
    fn commit(&self, day: i64, subject: &str, file: &str, lines: &[&str]);
}

impl DayCommits for Repo {
    fn commit(&self, day: i64, subject: &str, file: &str, lines: &[&str]) {
        let mut text = lines.join("\n");
        text.push('\n');
        self.commit_text(T0 + day * DAY, subject, file, &text);
    }
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn ten() -> Vec<String> {
    (1..=10).map(|i| format!("line {i}")).collect()
}

#[test]
fn tags_are_parsed_as_the_prd_defines_them() {
    assert_eq!(
        parse_tag("xfeat::F-12::W0-03::impl add parser"),
        Tag::Feature { feature: "F-12".into(), window: "W0-03".into(), stage: "impl".into() }
    );
    assert_eq!(parse_tag("xproto::F-12::W0-03::spike"), Tag::Prototype);
    assert_eq!(parse_tag("xfeat::F-12::W0-03"), Tag::Untagged);
    assert_eq!(parse_tag("fix: xfeat::F::W::s"), Tag::Untagged);
    assert_eq!(parse_tag("xfeat::::W::s"), Tag::Untagged);
}

#[test]
fn churn_counts_deleted_and_rewritten_lines_per_horizon() {
    let repo = Repo::new();
    let mut a = ten();
    repo.commit(0, "xfeat::F1::W1::impl first cut", "a.txt", &refs(&a));
    // F2: 4 lines, then its own fix rewrites one and adds one (the rewrite is churn of commit 1).
    repo.commit(1, "xfeat::F2::W2::impl", "b.txt", &["b1", "b2", "b3", "b4"]);
    repo.commit(2, "xfeat::F2::W3::fix", "b.txt", &["b1", "B2", "b3", "b4", "b5"]);
    // A prototype: excluded entirely.
    let proto: Vec<String> = (0..50).map(|i| format!("p{i}")).collect();
    repo.commit(2, "xproto::F9::W2::spike", "proto.txt", &refs(&proto));
    // Day 3: rewrite one line of F1 (within 7 days).
    a[0] = "line 1 rewritten".into();
    repo.commit(3, "refactor", "a.txt", &refs(&a));
    // Day 10: delete one line (within 14 days).
    a.remove(9);
    repo.commit(10, "cleanup", "a.txt", &refs(&a));
    // Day 20: rewrite two lines (within 28 days).
    a[1] = "line 2 v2".into();
    a[2] = "line 3 v2".into();
    repo.commit(20, "tweak", "a.txt", &refs(&a));
    // Day 40: unrelated, so every horizon is covered by history.
    repo.commit(40, "docs", "README", &["hello"]);

    let report = churn(repo.root(), &ChurnOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.prototype_commits, 1);
    assert_eq!(report.untagged_commits, 4);
    let ids: Vec<&str> = report.features.iter().map(|f| f.feature_id.as_str()).collect();
    assert_eq!(ids, vec!["F1", "F2"]);

    let f1 = &report.features[0];
    assert_eq!((f1.commits, f1.lines_added), (1, 10));
    let scores: Vec<(u32, u64, Option<f64>, bool)> =
        f1.horizons.iter().map(|h| (h.days, h.churned, h.churn_score, h.complete)).collect();
    assert_eq!(
        scores,
        vec![(7, 1, Some(0.1), true), (14, 2, Some(0.2), true), (28, 4, Some(0.4), true)]
    );
    assert!(f1.quality.is_some_and(|q| (q - 0.8).abs() < 1e-12));

    let f2 = &report.features[1];
    assert_eq!(f2.windows, vec!["W2", "W3"]);
    assert_eq!((f2.commits, f2.lines_added), (2, 6));
    assert_eq!(f2.horizons.iter().map(|h| h.churned).collect::<Vec<_>>(), vec![1, 1, 1]);
    assert!(f2.quality.is_some_and(|q| (q - (1.0 - 1.0 / 6.0)).abs() < 1e-12));
}

#[test]
fn quality_is_clamped_and_recent_horizons_are_incomplete() {
    let repo = Repo::new();
    repo.commit(0, "xfeat::F1::W1::impl", "a.txt", &["1", "2", "3", "4"]);
    // Everything rewritten two days later: churn 1.0 → quality clamped to 0.5.
    repo.commit(2, "rewrite", "a.txt", &["one", "two", "three", "four"]);
    repo.commit(9, "xfeat::F2::W2::impl", "c.txt", &["x"]);
    let opts = ChurnOptions { horizons: vec![3] };
    let report = churn(repo.root(), &opts).unwrap_or_else(|e| panic!("{e}"));
    let f1 = &report.features[0];
    // Custom horizon plus 14 (always measured, quality needs it).
    assert_eq!(f1.horizons.iter().map(|h| h.days).collect::<Vec<_>>(), vec![3, 14]);
    assert_eq!(f1.horizons[0].churn_score, Some(1.0));
    assert_eq!(f1.quality, Some(0.5));
    assert!(f1.horizons[0].complete && !f1.horizons[1].complete);
    let f2 = &report.features[1];
    assert_eq!((f2.lines_added, f2.quality), (1, Some(1.0)));
}

#[test]
fn a_deleted_file_is_fully_churned_and_no_repo_is_an_error() {
    let repo = Repo::new();
    repo.commit(0, "xfeat::F1::W1::impl", "gone.txt", &["a", "b"]);
    repo.git(&["rm", "-q", "gone.txt"], T0 + DAY);
    repo.git(&["commit", "-q", "-m", "remove"], T0 + DAY);
    let report = churn(repo.root(), &ChurnOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.features[0].horizons[0].churned, 2);

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let not_repo = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap_or_default();
    let err = churn(&not_repo, &ChurnOptions::default());
    assert!(matches!(err, Err(agentos_rollup::Error::Git { .. })), "{err:?}");
}

#[test]
fn empty_repos_binary_files_and_merges_are_handled() {
    // No commits yet: no features, not an error.
    let repo = Repo::new();
    let report = churn(repo.root(), &ChurnOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(report.features.is_empty());
    assert_eq!((report.prototype_commits, report.untagged_commits), (0, 0));

    // A binary file adds no lines; a tagged merge commit is skipped (its lines belong to the
    // merged commit), so the branch's feature is not counted twice or as churned.
    repo.commit(0, "base", "README", &["r"]);
    repo.git(&["checkout", "-q", "-b", "topic"], T0 + DAY);
    std::fs::write(repo.root().join("blob.bin"), [0u8, 159, 146, 150, 0, 1])
        .unwrap_or_else(|e| panic!("{e}"));
    repo.commit(1, "xfeat::F1::W1::impl", "f.txt", &["a", "b", "c"]);
    repo.git(&["checkout", "-q", "main"], T0 + 2 * DAY);
    repo.commit(2, "other work", "g.txt", &["g"]);
    repo.git(&["merge", "-q", "--no-ff", "-m", "xfeat::F2::W2::merge", "topic"], T0 + 3 * DAY);
    repo.commit(40, "later", "h.txt", &["h"]);
    let report = churn(repo.root(), &ChurnOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<&str> = report.features.iter().map(|f| f.feature_id.as_str()).collect();
    assert_eq!(ids, ["F1"]);
    let f1 = &report.features[0];
    assert_eq!((f1.commits, f1.lines_added), (1, 3));
    assert!(f1.horizons.iter().all(|h| h.churned == 0 && h.complete), "{f1:?}");
    assert_eq!(f1.quality, Some(1.0));
    assert_eq!(report.untagged_commits, 3);
}

/// A script that creates `marker` when run (and passes its input through, like a textconv).
fn marker_script(dir: &Utf8Path, marker: &Utf8Path) -> Utf8PathBuf {
    let script = dir.join("evil.sh");
    std::fs::write(&script, format!("#!/bin/sh\ntouch '{marker}'\ncat \"$1\" 2>/dev/null\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    let st = Command::new("chmod").arg("755").arg(script.as_str()).status();
    assert!(st.is_ok_and(|s| s.success()));
    script
}

#[test]
fn programs_configured_by_the_examined_repo_never_run() {
    let repo = Repo::new();
    let outside = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let outside = Utf8PathBuf::from_path_buf(outside.path().to_path_buf()).unwrap_or_default();
    let marker = outside.join("MARKER");
    let script = marker_script(&outside, &marker);
    repo.commit(0, "attrs", ".gitattributes", &["*.txt diff=evil"]);
    repo.commit(1, "xfeat::F1::W1::impl", "a.txt", &["1", "2", "3", "4"]);
    repo.commit(2, "xfeat::F1::W1::fix", "a.txt", &["1", "two", "3", "4", "5"]);
    // The repository's own configuration asks for its programs on diff, blame and status.
    for (key, value) in [
        ("diff.evil.textconv", script.as_str()),
        ("diff.external", script.as_str()),
        ("core.fsmonitor", script.as_str()),
        ("core.pager", script.as_str()),
    ] {
        repo.git(&["config", key, value], 0);
    }
    assert!(!marker.exists());
    let report = churn(repo.root(), &ChurnOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(!marker.exists(), "git ran a program configured by the examined repository");
    // Hand count: the first commit adds 4 lines, the second 2 (`two`, `5`); `2` was rewritten.
    let f1 = &report.features[0];
    assert_eq!((f1.commits, f1.lines_added), (2, 6));
    assert_eq!(f1.horizons[0].churned, 1);
}

#[test]
fn a_corrupt_repository_is_an_error_not_an_empty_report() {
    // HEAD's branch names an object that does not exist.
    let repo = Repo::new();
    repo.commit(0, "xfeat::F1::W1::impl", "a.txt", &["a"]);
    let missing = "0123456789abcdef0123456789abcdef01234567\n";
    std::fs::write(repo.root().join(".git/refs/heads/main"), missing)
        .unwrap_or_else(|e| panic!("{e}"));
    let err = churn(repo.root(), &ChurnOptions::default());
    assert!(matches!(err, Err(agentos_rollup::Error::Git { .. })), "{err:?}");

    // HEAD's commit object is truncated.
    let repo = Repo::new();
    repo.commit(0, "xfeat::F1::W1::impl", "a.txt", &["a"]);
    let head = std::fs::read_to_string(repo.root().join(".git/refs/heads/main"))
        .unwrap_or_else(|e| panic!("{e}"));
    let head = head.trim();
    let object = repo.root().join(format!(".git/objects/{}/{}", &head[..2], &head[2..]));
    let st = Command::new("chmod").arg("644").arg(object.as_str()).status();
    assert!(st.is_ok_and(|s| s.success()));
    std::fs::write(&object, b"").unwrap_or_else(|e| panic!("{e}"));
    let err = churn(repo.root(), &ChurnOptions::default());
    let Err(agentos_rollup::Error::Git { repo: path, .. }) = &err else { panic!("{err:?}") };
    assert_eq!(path, repo.root());

    // An orphan branch (no commit yet) is still an empty report, not an error.
    let repo = Repo::new();
    repo.commit(0, "xfeat::F1::W1::impl", "a.txt", &["a"]);
    repo.git(&["checkout", "-q", "--orphan", "fresh"], 0);
    let report = churn(repo.root(), &ChurnOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(report.features.is_empty());
}

#[cfg(unix)]
#[test]
fn a_file_name_that_is_not_utf8_does_not_abort_the_report() {
    use std::os::unix::ffi::OsStrExt as _;
    let repo = Repo::new();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    let path = repo.root().as_std_path().join(name);
    std::fs::write(&path, "a\nb\nc\n").unwrap_or_else(|e| panic!("{e}"));
    repo.git(&["add", "-A"], T0);
    repo.git(&["commit", "-q", "-m", "xfeat::F1::W1::impl"], T0);
    repo.commit(1, "xfeat::F2::W1::impl", "ok.txt", &["x", "y"]);
    std::fs::write(&path, "a\nB\nc\n").unwrap_or_else(|e| panic!("{e}"));
    repo.git(&["add", "-A"], T0 + 2 * DAY);
    repo.git(&["commit", "-q", "-m", "rewrite"], T0 + 2 * DAY);
    let report = churn(repo.root(), &ChurnOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<(&str, u64, u64)> = report
        .features
        .iter()
        .map(|f| (f.feature_id.as_str(), f.lines_added, f.horizons[0].churned))
        .collect();
    // F1 added 3 lines to café.txt, one of them (`b`) rewritten within 7 days; F2 untouched.
    assert_eq!(got, [("F1", 3, 1), ("F2", 2, 0)]);
}
