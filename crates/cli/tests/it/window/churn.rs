//! `agentos window churn` in a scratch git repository: the counts, the record, the ledger and
//! the errors, worked by hand.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

use super::{W, append};
use crate::rollup::{Scratch, text};

/// `git rev-parse REF` in `repo`.
fn sha(repo: &agentos_testkit::git_repo::Repo, r: &str) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo.root().as_std_path())
        .args(["rev-parse", r])
        .output()
        .unwrap_or_else(|e| panic!("git: {e}"));
    text(&out.stdout).trim().to_owned()
}

/// `agentos window --data-dir dir args…` run in `cwd`.
fn agentos_in(cwd: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_agentos"))
        .current_dir(cwd)
        .args(["window", "--data-dir"])
        .arg(dir)
        .args(args)
        .env("AGENTOS_DATA_DIR", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap_or_else(|e| panic!("agentos: {e}"))
}

fn churn_window(dir: &Path, start: Option<&str>, end: Option<&str>) {
    append(
        dir,
        "windows.jsonl",
        &[json!({"window": W, "finalized_at": "2025-10-19T10:00:00+00:00",
        "features": {"codex": 3, "claude": 1, "glm": 0}, "quality_score": 1.0, "quality": 1.0,
        "outcome": "pass", "notes": "", "providers": {}, "methodology": "m1",
        "commit_start": start, "commit_end": end})],
    );
}

#[test]
fn churn_counts_the_window_range_and_appends_the_record_and_the_ledger() {
    let repo = agentos_testkit::git_repo::Repo::new();
    repo.commit_text(1_000, "base", "a.txt", "1\n2\n3\n");
    let first = sha(&repo, "HEAD");
    repo.commit_text(2_000, "edit", "a.txt", "1\nX\n3\n4\n");
    repo.commit_text(3_000, "add", "b.txt", "b\n");
    repo.commit_text(4_000, "other", "c.txt", "c\nc\n");
    let last = sha(&repo, "HEAD");
    let s = Scratch::new();
    let dir = s.path().join("live");
    churn_window(&dir, Some(&first), Some(&last));
    let ledger = s.path().join("ledger.csv");
    let root = repo.root().as_std_path();
    let out = agentos_in(
        root,
        &dir,
        &["churn", "--window", W, "--notes", " n,1 ", "--paths", "a.txt", "b.txt", "--ledger-path"],
    );
    // `--ledger-path` needs its value: a usage error, nothing written.
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let ledger_arg = ledger.to_str().unwrap_or_default();
    let out = agentos_in(
        root,
        &dir,
        &[
            "churn",
            "--window",
            W,
            "--notes",
            " n,1 ",
            "--ledger-path",
            ledger_arg,
            "--paths",
            "a.txt",
            "b.txt",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // a.txt: 2 → X and + 4 (+2/−1), b.txt +1; c.txt is outside --paths: 2 files, +3/−1,
    // net 2; features 3 + 1 + 0 = 4, per feature 0.50; codex and claude have features: multi.
    assert_eq!(
        text(&out.stdout),
        "churn W0-01: files=2 +3/-1 net=2 per-feature=0.50\nsee also: agentos churn (the share of feature-tagged commits' lines rewritten within 7/14/28 days)\n"
    );
    let rec = std::fs::read_to_string(dir.join("churn.jsonl")).unwrap_or_default();
    let want_prefix = format!(
        "{{\"window\": \"W0-01\", \"provider\": \"multi\", \"methodology\": \"m1\", \"commit_start\": \"{first}\", \"commit_end\": \"{last}\", \"files_changed\": 2, \"insertions\": 3, \"deletions\": 1, \"net\": 2, \"features\": 4, \"normalized_churn\": 0.5, \"captured_at\": \""
    );
    assert!(rec.starts_with(&want_prefix), "{rec}");
    assert!(
        rec.ends_with("\"notes\": \"n,1\", \"source\": \"churn\", \"paths\": [\"a.txt\", \"b.txt\"], \"schema_version\": \"1.0.0\", \"tool_version\": \"0.1.0\"}\n"),
        "{rec}"
    );
    let v: Value = serde_json::from_str(&rec).unwrap_or_else(|e| panic!("{e}"));
    let date = v["captured_at"].as_str().unwrap_or_default()[..10].to_owned();
    assert_eq!(
        std::fs::read_to_string(&ledger).unwrap_or_default(),
        format!(
            "date,window,provider,methodology,commit_start,commit_end,files_changed,insertions,deletions,net,features,normalized_churn,notes\r\n{date},W0-01,multi,m1,{first},{last},2,3,1,2,4,0.50,\"n,1; paths=a.txt,b.txt\"\r\n"
        )
    );
}

#[test]
fn churn_without_a_start_commit_is_skipped_and_says_why() {
    let repo = agentos_testkit::git_repo::Repo::new();
    repo.commit_text(1_000, "base", "a.txt", "1\n");
    let s = Scratch::new();
    let dir = s.path().join("live");
    churn_window(&dir, None, Some("HEAD"));
    let out = agentos_in(
        repo.root().as_std_path(),
        &dir,
        &["churn", "--window", W, "--provider", "codex"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("warn: missing commit_start \u{2014} skipping git diff\nchurn W0-01: skipped (decision=missing-commit-range)\n"),
        "{stdout}"
    );
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("churn.jsonl")).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (&v["commit_start"], &v["commit_end"], &v["provider"], &v["net"], &v["notes"]),
        (
            &json!(""),
            &json!("HEAD"),
            &json!("codex"),
            &json!(0),
            &json!("decision=missing-commit-range(commit_start)")
        )
    );
    let ledger = repo.root().join("docs/Ledgers/Churn_Ledger.csv");
    let csv = std::fs::read_to_string(ledger).unwrap_or_default();
    assert_eq!(csv.matches("\r\n").count(), 2, "{csv}");
    assert!(
        csv.ends_with(
            ",W0-01,codex,m1,,HEAD,0,0,0,0,4,0.00,decision=missing-commit-range(commit_start)\r\n"
        ),
        "{csv}"
    );
}

#[test]
fn churn_errors_are_one_line_each() {
    let repo = agentos_testkit::git_repo::Repo::new();
    repo.commit_text(1_000, "base", "a.txt", "1\n");
    let s = Scratch::new();
    let dir = s.path().join("live");
    churn_window(&dir, Some("nope"), None);
    let root = repo.root().as_std_path();
    let out = agentos_in(root, &dir, &["churn", "--window", "W0-09"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("error: no window summary found for W0-09"),
        "{}",
        text(&out.stderr)
    );
    let out = agentos_in(root, &dir, &["churn", "--window", W]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr), "error: unable to resolve commit 'nope'\n");
    let elsewhere = s.path().join("not-a-repo");
    std::fs::create_dir_all(&elsewhere).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_agentos"))
        .current_dir(&elsewhere)
        .args(["window", "--data-dir"])
        .arg(&dir)
        .args(["churn", "--window", W])
        .env("GIT_CEILING_DIRECTORIES", s.path())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("error: not inside a git repository"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.join("churn.jsonl").exists(), "nothing appended on an error");
}
