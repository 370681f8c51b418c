//! Cost per shipped feature on git repositories built here with fixed dates and sessions
//! written here; every expected figure is worked out by hand in the comments.

use std::process::Command;

use agentos_rollup::features::{FeaturesOptions, FeaturesReport, Rule, Status, features_report};
use agentos_rollup::usage::PriceBook;
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::json;

use agentos_testkit::git_repo::Repo;

pub(crate) const H: i64 = 3_600;
pub(crate) const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

/// Commits of `n` generated lines.
pub(crate) trait LineCommits {
    fn commit(&self, at: i64, message: &str, file: &str, n: usize);
}

impl LineCommits for Repo {
    /// Write `n` new lines to `file` (replacing it) and commit with `message` at `at`.
    fn commit(&self, at: i64, message: &str, file: &str, n: usize) {
        let text: String = (1..=n).map(|i| format!("{file} line {i}\n")).collect();
        self.commit_text(at, message, file, &text);
    }
}

pub(crate) fn ts(t: i64) -> String {
    jiff::Timestamp::from_second(t).map(|t| t.to_string()).unwrap_or_default()
}

/// A session event: `cwd`, `branch`, first and last response.
pub(crate) fn session(id: &str, cwd: &Utf8Path, branch: &str, first: i64, last: i64) -> String {
    json!({"type": "session", "event_id": format!("s-{id}"), "ts": ts(last),
        "schema_version": "1.1.0",
        "session": {"session_id": id, "repo_id": "", "branch": branch, "commit": "",
            "license_id": "", "privacy_tier": "local", "created_at": ts(first),
            "metadata": {}, "agent": "claude-code", "cwd": cwd.as_str(), "cli_version": "2.0.1",
            "last_active_at": ts(last)}})
    .to_string()
}

/// A turn with a recorded cost (which the report keeps as written) and `tokens` input tokens.
pub(crate) fn turn(id: &str, s: &str, model: &str, at: i64, tokens: u64, usd: f64) -> String {
    json!({"type": "turn", "event_id": id, "ts": ts(at), "schema_version": "1.1.0",
        "turn": {"turn_id": id, "session_id": s, "model": model, "subagent": "main",
            "tokens_in": tokens, "tokens_out": 0, "input_kind": "text", "latency_ms": 0.0,
            "responded_at": ts(at)},
        "cost": {"provider": "anthropic", "unit_costs": {}, "estimated_usd": usd}})
    .to_string()
}

pub(crate) fn report(lines: &[String], grace_secs: i64) -> FeaturesReport {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let file = Utf8PathBuf::from_path_buf(dir.path().join("events.jsonl")).unwrap_or_default();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap_or_else(|e| panic!("write: {e}"));
    let opts = FeaturesOptions { grace_secs, ..FeaturesOptions::new() };
    features_report(&[file], &PriceBook::bundled(), &opts)
        .unwrap_or_else(|e| panic!("features: {e}"))
}

pub(crate) fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// A feature branch with two commits (10 + 5 lines) inside the session's window.
fn feature_branch(repo: &Repo) {
    feature_branch_on(repo, "main");
}

fn feature_branch_on(repo: &Repo, default: &str) {
    repo.commit(T0, "init", "README", 1);
    repo.git(&["checkout", "-q", "-b", "feat/login"], T0 + H);
    repo.commit(T0 + H, "add login", "login.txt", 10);
    repo.commit(T0 + 2 * H, "login tests", "login_test.txt", 5);
    repo.git(&["checkout", "-q", default], T0 + 5 * H);
}

fn branch_session(repo: &Repo) -> Vec<String> {
    vec![
        session("s1", repo.root(), "feat/login", T0 + 50 * 60, T0 + 2 * H + 600),
        turn("t1", "s1", "model-a", T0 + 50 * 60, 1_000, 2.0),
        turn("t2", "s1", "model-a", T0 + 2 * H + 600, 1_000, 1.0),
    ]
}

#[test]
fn a_branch_merged_by_a_merge_commit_ships_at_the_merge() {
    let repo = Repo::new();
    feature_branch(&repo);
    repo.git(&["merge", "-q", "--no-ff", "-m", "Merge feat/login", "feat/login"], T0 + 5 * H);
    let r = report(&branch_session(&repo), 0);
    assert_eq!(r.features.len(), 1, "{:#?}", r.features);
    let f = &r.features[0];
    assert_eq!((f.id.as_str(), f.rule, f.status), ("feat/login", Rule::Branch, Status::Shipped));
    assert_eq!(f.shipped_at.as_deref(), Some("2026-01-01T05:00:00Z"));
    // Both commits, 15 lines, all inside the session's window; the whole session: $3, 2,000.
    assert_eq!((f.commits, f.lines_added, f.agent_lines_added), (2, 15, 15));
    assert_eq!((f.sessions, f.tokens), (1, 2_000));
    assert!(close(f.cost_usd, 3.0));
    assert!(close(f.models["model-a"].cost_usd, 3.0));
    assert!(close(r.unattributed_cost_usd, 0.0));
    assert_eq!(r.cost_per_shipped_feature_usd, Some(3.0));
    assert!(close(r.per_model["model-a"], 3.0));
}

#[test]
fn a_branch_merged_by_squash_ships_at_the_squash_commit() {
    let repo = Repo::new();
    feature_branch(&repo);
    repo.git(&["merge", "-q", "--squash", "feat/login"], T0 + 6 * H);
    repo.git(&["commit", "-q", "-m", "Login (#1)"], T0 + 6 * H);
    let r = report(&branch_session(&repo), 0);
    assert_eq!(r.features.len(), 1, "{:#?}", r.features);
    let f = &r.features[0];
    assert_eq!((f.id.as_str(), f.rule, f.status), ("feat/login", Rule::Branch, Status::Shipped));
    assert_eq!(f.shipped_at.as_deref(), Some("2026-01-01T06:00:00Z"));
    // The squash commit repeats the branch's lines: not counted again.
    assert_eq!((f.commits, f.lines_added), (2, 15));
    assert!(close(f.cost_usd, 3.0));
}

#[test]
fn an_unmerged_branch_is_in_progress() {
    let repo = Repo::new();
    feature_branch(&repo);
    let r = report(&branch_session(&repo), 0);
    let f = &r.features[0];
    assert_eq!((f.status, f.shipped_at.as_deref()), (Status::InProgress, None));
    assert_eq!(r.cost_per_shipped_feature_usd, None);
}

#[test]
fn trunk_based_sessions_split_by_lines_and_the_rest_is_unattributed() {
    let repo = Repo::new();
    repo.commit(T0, "init", "README", 1);
    repo.commit(T0 + 90 * 60, "feat(login): form", "login.txt", 30);
    repo.commit(T0 + 2 * H, "feat(search): index", "search.txt", 10);
    repo.commit(T0 + 10 * H, "chore: bump", "VERSION", 1);
    let lines = vec![
        // s1 worked 01:00–03:00 and made the login (30 lines) and search (10) commits.
        session("s1", repo.root(), "main", T0 + H, T0 + 3 * H),
        turn("t1", "s1", "model-a", T0 + H, 600, 1.0),
        turn("t2", "s1", "model-b", T0 + 3 * H, 400, 3.0),
        // s2 worked 20:00–21:00 and committed nothing.
        session("s2", repo.root(), "main", T0 + 20 * H, T0 + 21 * H),
        turn("t3", "s2", "model-a", T0 + 20 * H, 100, 1.5),
    ];
    let r = report(&lines, 0);
    let ids: Vec<(&str, Rule)> = r.features.iter().map(|f| (f.id.as_str(), f.rule)).collect();
    assert_eq!(ids, [("login", Rule::Scope), ("search", Rule::Scope)]);
    let (login, search) = (&r.features[0], &r.features[1]);
    // $4 and 1,000 tokens split 30 : 10 → ¾ and ¼.
    assert!(close(login.cost_usd, 3.0) && close(search.cost_usd, 1.0));
    assert_eq!((login.tokens, search.tokens), (750, 250));
    assert!(close(login.models["model-a"].cost_usd, 0.75));
    assert!(close(login.models["model-b"].cost_usd, 2.25));
    assert_eq!(login.models["model-b"].tokens, 300);
    assert_eq!(login.shipped_at.as_deref(), Some("2026-01-01T01:30:00Z"));
    assert_eq!(search.shipped_at.as_deref(), Some("2026-01-01T02:00:00Z"));
    // s2 stays unattributed, whole.
    assert!(close(r.unattributed_cost_usd, 1.5));
    assert_eq!(r.unattributed_tokens, 100);
    // (3 + 1) / 2 shipped; model-a: (0.75 + 0.25) / 2, model-b: (2.25 + 0.75) / 2.
    assert_eq!(r.cost_per_shipped_feature_usd, Some(2.0));
    assert!(close(r.per_model["model-a"], 0.5) && close(r.per_model["model-b"], 1.5));
}

#[test]
fn tags_trailers_and_prototypes_are_features_of_their_own() {
    let repo = Repo::new();
    repo.commit(T0, "init", "README", 1);
    repo.commit(T0 + H, "xfeat::F7::W1::impl parser", "parser.txt", 8);
    repo.commit(T0 + 90 * 60, "xproto::P1::W1::spike", "spike.txt", 4);
    let message = "refactor parser\n\nFeature: F9\nCo-Authored-By: Claude <noreply@anthropic.com>";
    repo.commit(T0 + 3 * H, message, "parser2.txt", 6);
    let lines = vec![
        session("s1", repo.root(), "main", T0 + 50 * 60, T0 + 100 * 60),
        turn("t1", "s1", "model-a", T0 + 50 * 60, 1_200, 6.0),
    ];
    let r = report(&lines, 0);
    let got: Vec<(&str, Rule, Status)> =
        r.features.iter().map(|f| (f.id.as_str(), f.rule, f.status)).collect();
    assert_eq!(
        got,
        [
            ("F7", Rule::Xfeat, Status::Shipped),
            ("F9", Rule::Trailer, Status::Shipped),
            ("P1", Rule::Xproto, Status::Prototype),
        ]
    );
    let (f7, f9, p1) = (&r.features[0], &r.features[1], &r.features[2]);
    // The window holds F7 (8 lines) and P1 (4): $6 → $4 and $2.
    assert!(close(f7.cost_usd, 4.0) && close(p1.cost_usd, 2.0) && close(f9.cost_usd, 0.0));
    assert_eq!((f7.tokens, p1.tokens, f9.sessions), (800, 400, 0));
    // F9 is outside every window but carries Claude's trailer.
    assert_eq!((f7.agent_lines_added, f9.agent_lines_added), (8, 6));
    // Shipped: F7 ($4) and F9 ($0).
    assert_eq!(r.cost_per_shipped_feature_usd, Some(2.0));
    assert!(close(r.per_model["model-a"], 4.0));
}

#[test]
fn a_missing_repository_is_listed_and_its_sessions_unattributed() {
    let gone = Utf8Path::new("/nonexistent/agentos-features-test/repo");
    let lines = vec![
        session("s1", gone, "main", T0, T0 + H),
        turn("t1", "s1", "model-a", T0 + H, 10, 0.25),
        // A session without a session event (so without a cwd): unattributed too.
        turn("t9", "s9", "model-a", T0 + H, 10, 0.5),
    ];
    let r = report(&lines, 0);
    assert!(r.features.is_empty());
    assert_eq!(r.repos.len(), 1);
    assert_eq!((r.repos[0].path.as_str(), r.repos[0].status), (gone.as_str(), "missing"));
    assert!(close(r.unattributed_cost_usd, 0.75));
}

#[test]
fn a_branch_rebased_onto_the_default_branch_ships_at_its_copies() {
    let repo = Repo::new();
    feature_branch(&repo);
    repo.commit(T0 + 3 * H, "unrelated", "other.txt", 2);
    // A rebase merge: the branch's commits copied onto main (new hashes), the branch kept.
    repo.git(&["cherry-pick", "main..feat/login"], T0 + 7 * H);
    let r = report(&branch_session(&repo), 0);
    assert_eq!(r.features.len(), 1, "{:#?}", r.features);
    let f = &r.features[0];
    assert_eq!((f.id.as_str(), f.status), ("feat/login", Status::Shipped));
    assert_eq!(f.shipped_at.as_deref(), Some("2026-01-01T07:00:00Z"));
    assert_eq!((f.commits, f.lines_added), (2, 15));
    assert!(close(f.cost_usd, 3.0));
}

#[test]
fn a_renamed_default_branch_from_origin_head_and_a_detached_head() {
    let origin = Repo::with_branch("trunk");
    feature_branch_on(&origin, "trunk");
    origin.git(&["merge", "-q", "--no-ff", "-m", "Merge", "feat/login"], T0 + 5 * H);
    let clone = origin.clone_with(&[]);
    // Detached at the commit before the merge: the default branch is still origin's trunk.
    clone.git(&["checkout", "-q", "--detach", "HEAD~1"], T0 + 6 * H);
    // A local `main` that is not the default: origin/HEAD wins over the name.
    clone.git(&["branch", "main", "HEAD"], T0 + 6 * H);
    let mut lines = branch_session(&clone);
    lines[0] = session("s1", clone.root(), "feat/login", T0 + 50 * 60, T0 + 2 * H + 600);
    let r = report(&lines, 0);
    assert_eq!(r.features.len(), 1, "{:#?}", r.features);
    let f = &r.features[0];
    assert_eq!((f.id.as_str(), f.status), ("feat/login", Status::Shipped));
    assert_eq!(f.shipped_at.as_deref(), Some("2026-01-01T05:00:00Z"));
    assert_eq!((f.commits, f.lines_added), (2, 15));
}

#[test]
fn force_pushed_history_counts_only_what_the_branches_hold_now() {
    let origin = Repo::new();
    origin.commit(T0, "init", "README", 1);
    origin.commit(T0 + H, "feat(a): dropped later", "a.txt", 4);
    let clone = origin.clone_with(&[]);
    // origin's main is rewritten (what a force-push leaves): feat(a) replaced by feat(b).
    origin.git(&["reset", "-q", "--hard", "HEAD~1"], T0 + 2 * H);
    origin.commit(T0 + 2 * H, "feat(b): instead", "b.txt", 3);
    clone.git(&["fetch", "-q", "origin"], T0 + 2 * H);
    clone.git(&["reset", "-q", "--hard", "origin/main"], T0 + 2 * H);
    // On feat/x a 5-line commit is amended into a 7-line one (and would be force-pushed).
    clone.git(&["checkout", "-q", "-b", "feat/x"], T0 + H);
    clone.commit(T0 + H + 600, "x", "x.txt", 5);
    clone.commit_text(T0 + H + 1_200, "x", "x.txt", &"x\n".repeat(7));
    clone.git(&["reset", "-q", "--soft", "HEAD~2"], T0 + H + 1_200);
    clone.git(&["commit", "-q", "-m", "x (amended)"], T0 + H + 1_200);
    clone.git(&["checkout", "-q", "main"], T0 + 3 * H);
    let lines = vec![
        session("s1", clone.root(), "main", T0 + H / 2, T0 + 3 * H),
        turn("t1", "s1", "model-a", T0 + H, 100, 1.0),
        session("s2", clone.root(), "feat/x", T0 + H, T0 + 2 * H),
        turn("t2", "s2", "model-a", T0 + H, 100, 2.0),
    ];
    let r = report(&lines, 0);
    let ids: Vec<(&str, Status)> = r.features.iter().map(|f| (f.id.as_str(), f.status)).collect();
    // feat(a) and the 5-line commit are on no branch any more: not counted.
    assert_eq!(ids, [("b", Status::Shipped), ("feat/x", Status::InProgress)], "{:#?}", r.features);
    assert!(close(r.features[0].cost_usd, 1.0));
    let x = &r.features[1];
    assert_eq!((x.commits, x.lines_added), (1, 7));
    assert!(close(x.cost_usd, 2.0));
    assert!(close(r.unattributed_cost_usd, 0.0));
}

#[test]
fn a_shallow_clone_is_read_as_far_as_it_goes() {
    let origin = Repo::new();
    origin.commit(T0 + H, "feat(a): one", "a.txt", 1);
    origin.commit(T0 + 2 * H, "feat(b): two", "b.txt", 3);
    origin.commit(T0 + 3 * H, "feat(c): three", "c.txt", 1);
    let clone = origin.clone_with(&["--depth", "2"]);
    let lines = vec![
        session("s1", clone.root(), "main", T0 + 30 * 60, T0 + 3 * H + 600),
        turn("t1", "s1", "model-a", T0 + 3 * H, 100, 2.0),
    ];
    let r = report(&lines, 0);
    // Only b and c are in the clone; b is its boundary, whose parent is cut off, so its lines
    // are unknown (0, not its whole tree): c (1 line) gets the $2.
    let got: Vec<(&str, u64, f64)> =
        r.features.iter().map(|f| (f.id.as_str(), f.lines_added, f.cost_usd)).collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].0, got[0].1, got[1].0, got[1].1), ("b", 0, "c", 1));
    assert!(close(got[0].2, 0.0) && close(got[1].2, 2.0));
    assert!(r.features.iter().all(|f| f.status == Status::Shipped));
}

#[test]
fn a_session_in_a_subdirectory_and_the_grace_period() {
    let repo = Repo::new();
    std::fs::create_dir_all(repo.root().join("src")).unwrap_or_else(|e| panic!("mkdir: {e}"));
    repo.commit(T0 + 3 * H, "feat(x): late commit", "x.txt", 4);
    let cwd = repo.root().join("src");
    let lines = vec![
        session("s1", &cwd, "main", T0 + H, T0 + 2 * H + 45 * 60),
        turn("t1", "s1", "model-a", T0 + H, 100, 1.0),
    ];
    // The commit is 15 minutes after the last response: outside without grace ...
    let r = report(&lines, 0);
    assert!(r.features.is_empty(), "{:#?}", r.features);
    assert!(close(r.unattributed_cost_usd, 1.0));
    // ... inside with the default 30 minutes.
    let r = report(&lines, 30 * 60);
    assert_eq!(r.features.len(), 1);
    assert_eq!((r.features[0].id.as_str(), r.features[0].rule), ("x", Rule::Scope));
    assert!(close(r.features[0].cost_usd, 1.0) && close(r.unattributed_cost_usd, 0.0));
}

#[test]
fn named_repositories_leave_other_sessions_out() {
    let (a, b) = (Repo::new(), Repo::new());
    a.commit(T0 + H, "feat(x): in a", "x.txt", 2);
    b.commit(T0 + H, "feat(y): in b", "y.txt", 2);
    let lines = [
        session("s1", a.root(), "main", T0 + H, T0 + 2 * H),
        turn("t1", "s1", "model-a", T0 + H, 100, 1.0),
        session("s2", b.root(), "main", T0 + H, T0 + 2 * H),
        turn("t2", "s2", "model-a", T0 + H, 100, 7.0),
        // s3 has no session event, so no cwd: in no named repository either.
        turn("t3", "s3", "model-a", T0 + H, 100, 0.5),
    ];
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let file = Utf8PathBuf::from_path_buf(dir.path().join("events.jsonl")).unwrap_or_default();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap_or_else(|e| panic!("write: {e}"));
    let opts = FeaturesOptions { repos: vec![a.root().to_owned()], ..FeaturesOptions::new() };
    let r = features_report(&[file], &PriceBook::bundled(), &opts)
        .unwrap_or_else(|e| panic!("features: {e}"));
    let ids: Vec<&str> = r.features.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["x"]);
    // s2 (repo b, $7) and s3 are not part of this report: not unattributed either.
    assert!(close(r.features[0].cost_usd, 1.0) && close(r.unattributed_cost_usd, 0.0));
}

/// Write `file` with exactly `lines`.
#[test]
fn a_repository_git_refuses_is_listed_not_fatal() {
    let repo = Repo::new();
    repo.commit(T0 + H, "feat(x): one", "x.txt", 2);
    // Owned by someone else: git refuses it unless `safe.directory` allows it. Where we cannot
    // change the owner (not root) or the user's configuration allows it, there is nothing to see.
    let chown = Command::new("chown").args(["-R", "65534"]).arg(repo.root().as_str()).status();
    if !chown.is_ok_and(|s| s.success()) {
        return;
    }
    let probe = Command::new("git").arg("-C").arg(repo.root().as_str()).arg("status").output();
    if probe.as_ref().is_ok_and(|o| o.status.success()) {
        return;
    }
    let lines = vec![
        session("s1", repo.root(), "main", T0 + H, T0 + 2 * H),
        turn("t1", "s1", "model-a", T0 + H, 100, 1.0),
    ];
    let r = report(&lines, 0);
    assert!(r.features.is_empty());
    assert_eq!(r.repos.len(), 1, "{:#?}", r.repos);
    assert_eq!(r.repos[0].status, "unreadable");
    let message = r.repos[0].message.clone().unwrap_or_default();
    assert!(message.contains("safe.directory") || message.contains("ownership"), "{message}");
    assert!(close(r.unattributed_cost_usd, 1.0));
}

#[test]
fn a_fast_forwarded_branch_falls_back_to_the_window_on_the_default_branch() {
    let repo = Repo::new();
    repo.commit(T0, "init", "README", 1);
    repo.git(&["checkout", "-q", "-b", "feat/ff"], T0 + H);
    repo.commit(T0 + H, "feat(ff): one", "one.txt", 3);
    repo.commit(T0 + 2 * H, "two", "two.txt", 1);
    repo.git(&["checkout", "-q", "main"], T0 + 5 * H);
    repo.git(&["merge", "-q", "--ff-only", "feat/ff"], T0 + 5 * H);
    let lines = vec![
        session("s1", repo.root(), "feat/ff", T0 + 50 * 60, T0 + 2 * H + 600),
        turn("t1", "s1", "model-a", T0 + H, 100, 2.0),
    ];
    let r = report(&lines, 0);
    // The branch's commits are main's own now: rule 4 (scope `ff`, 3 lines; commit, 1 line).
    assert_eq!(r.features.len(), 2, "{:#?}", r.features);
    let by_rule = |rule| r.features.iter().find(|f| f.rule == rule);
    let (Some(ff), Some(two)) = (by_rule(Rule::Scope), by_rule(Rule::Commit)) else {
        panic!("{:#?}", r.features)
    };
    assert_eq!((ff.id.as_str(), ff.status, two.status), ("ff", Status::Shipped, Status::Shipped));
    assert_eq!(two.id.len(), 12);
    assert!(close(ff.cost_usd, 1.5) && close(two.cost_usd, 0.5));
    assert!(close(r.unattributed_cost_usd, 0.0));
}

#[test]
fn a_branch_deleted_after_its_merge_is_found_by_the_merge_subject() {
    let repo = Repo::new();
    feature_branch(&repo);
    let subject = "Merge pull request #7 from alice/feat/login";
    repo.git(&["merge", "-q", "--no-ff", "-m", subject, "feat/login"], T0 + 5 * H);
    repo.git(&["branch", "-q", "-D", "feat/login"], T0 + 5 * H);
    let r = report(&branch_session(&repo), 0);
    assert_eq!(r.features.len(), 1, "{:#?}", r.features);
    let f = &r.features[0];
    assert_eq!((f.id.as_str(), f.rule, f.status), ("feat/login", Rule::Branch, Status::Shipped));
    assert_eq!((f.commits, f.lines_added), (2, 15));
    assert!(close(f.cost_usd, 3.0) && close(r.unattributed_cost_usd, 0.0));
}

#[test]
fn separators_in_a_commit_message_do_not_break_the_history() {
    let repo = Repo::new();
    repo.commit(T0 + H, "feat(a): first", "a.txt", 2);
    let odd = format!("odd \u{1e}{} \u{1f} subject\n\nFeature:\u{1f}x", "f".repeat(40));
    repo.commit(T0 + 2 * H, &odd, "odd.txt", 1);
    repo.commit(T0 + 3 * H, "feat(b): last", "b.txt", 1);
    let lines = vec![
        session("s1", repo.root(), "main", T0 + 50 * 60, T0 + 3 * H + 600),
        turn("t1", "s1", "model-a", T0 + H, 100, 1.0),
    ];
    let r = report(&lines, 0);
    // `a`, before the odd commit, is still found on the default branch and shipped.
    let a = r.features.iter().find(|f| f.id == "a");
    assert_eq!(a.map(|f| (f.status, f.lines_added)), Some((Status::Shipped, 2)), "{:#?}", r);
    let b = r.features.iter().find(|f| f.id == "b");
    assert_eq!(b.map(|f| f.status), Some(Status::Shipped));
}

#[test]
fn unpriced_models_are_named_not_hidden() {
    let repo = Repo::new();
    repo.commit(T0 + H, "feat(a): one", "a.txt", 2);
    let unpriced = json!({"type": "turn", "event_id": "t2", "ts": ts(T0 + H),
        "schema_version": "1.1.0",
        "turn": {"turn_id": "t2", "session_id": "s1", "model": "mystery-model-9",
            "subagent": "main", "tokens_in": 50, "tokens_out": 0, "input_kind": "text",
            "latency_ms": 0.0, "responded_at": ts(T0 + H)}})
    .to_string();
    let lines = vec![
        session("s1", repo.root(), "main", T0 + H, T0 + 2 * H),
        turn("t1", "s1", "model-a", T0 + H, 100, 1.0),
        unpriced,
    ];
    let r = report(&lines, 0);
    assert_eq!(r.unpriced_models, ["mystery-model-9"]);
    let f = &r.features[0];
    // Its tokens count, its cost is unknown ($0 here, and named above).
    assert_eq!((f.tokens, f.models["mystery-model-9"].tokens), (150, 50));
    assert!(close(f.cost_usd, 1.0));
}
