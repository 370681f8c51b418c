//! Churn of a feature's agent- and human-written lines at 7, 14 and 28 days: hand-worked
//! histories (trunk, merges, a late merge, provisional horizons) and a differential check of
//! `features` and `churn` against `git blame` at each horizon on generated linear histories.

use agentos_rollup::churn::{ChurnOptions, churn};
use agentos_rollup::features::{Feature, FeaturesOptions, FeaturesReport, Rule, features_report};
use agentos_rollup::usage::PriceBook;
use agentos_testkit::agent_history::Rng;

use crate::blame_oracle::blame_churn;
use crate::features::{H, LineCommits as _, T0, close, report, session, turn};
use agentos_testkit::git_repo::Repo;

const DAY: i64 = 86_400;

fn write(repo: &Repo, file: &str, lines: &[String]) {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(repo.root().join(file), text).unwrap_or_else(|e| panic!("write: {e}"));
}

fn commit_all(repo: &Repo, at: i64, message: &str) {
    repo.git(&["add", "-A"], at);
    repo.git(&["commit", "-q", "-m", message], at);
}

#[test]
fn agent_lines_rewritten_by_a_human_count_as_agent_churn() {
    let repo = Repo::new();
    repo.commit(T0, "init", "README", 1);
    // c1, the agent's (inside s1's window): 10 lines of a.txt.
    let mut a: Vec<String> = (1..=10).map(|i| format!("agent {i}")).collect();
    write(&repo, "a.txt", &a);
    commit_all(&repo, T0 + H, "xfeat::A::W1::impl first cut");
    // c2, a human's (day 3, no session): rewrites 4 of them and adds 5 lines of h.txt.
    for (i, line) in a.iter_mut().take(4).enumerate() {
        *line = format!("human {i}");
    }
    write(&repo, "a.txt", &a);
    let h: Vec<String> = (1..=5).map(|i| format!("h {i}")).collect();
    write(&repo, "h.txt", &h);
    commit_all(&repo, T0 + 3 * DAY, "xfeat::A::W1::fix review");
    // c3, day 10: deletes 3 of h.txt's lines (adds none).
    write(&repo, "h.txt", &h[..2]);
    commit_all(&repo, T0 + 10 * DAY, "xfeat::A::W1::cleanup");
    // Day 30, another file: after every horizon.
    repo.commit(T0 + 30 * DAY, "chore: later", "later.txt", 1);
    let lines = vec![
        session("s1", repo.root(), "main", T0 + 50 * 60, T0 + 2 * H),
        turn("t1", "s1", "model-a", T0 + H, 100, 1.0),
    ];
    let r = report(&lines, 0);
    assert_eq!(r.features.len(), 1, "{:#?}", r.features);
    let f = &r.features[0];
    // Added: c1 10 (agent), c2 4 + 5 = 9 (human), c3 0.
    assert_eq!((f.commits, f.lines_added, f.agent_lines_added), (3, 19, 10));
    // At c1 + 14 d the tree is c3's: 4 of c1's 10 lines rewritten by c2 → 0.4.
    assert_eq!(f.churn.churn_14d_agent, Some(0.4));
    // At c2 + 14 d (day 17) also c3's: c2's 4 a.txt lines survive, 2 of its 5 h.txt lines:
    // 3 of 9 churned.
    let human = f.churn.churn_14d_human.unwrap_or(f64::NAN);
    assert!(close(human, 3.0 / 9.0), "{human}");
}

#[test]
fn agent_churn_is_split_by_the_model_active_at_commit_time() {
    let repo = Repo::new();
    repo.commit(T0, "init", "README", 1);
    // c1 at 01:05 (model-a answering), 10 lines; c2 at 02:20 (model-b answering), 4 lines.
    let mut a: Vec<String> = (1..=10).map(|i| format!("a {i}")).collect();
    write(&repo, "a.txt", &a);
    commit_all(&repo, T0 + H + 300, "xfeat::A::W1::impl a");
    let mut b: Vec<String> = (1..=4).map(|i| format!("b {i}")).collect();
    write(&repo, "b.txt", &b);
    commit_all(&repo, T0 + 2 * H + 1_200, "xfeat::A::W1::impl b");
    // Day 3, a human rewrites 5 lines of a.txt and 1 of b.txt.
    for line in a.iter_mut().take(5) {
        *line = format!("{line} (human)");
    }
    b[0] = "b 1 (human)".to_owned();
    write(&repo, "a.txt", &a);
    write(&repo, "b.txt", &b);
    commit_all(&repo, T0 + 3 * DAY, "xfeat::A::W1::fix");
    repo.commit(T0 + 30 * DAY, "chore: later", "later.txt", 1);
    let lines = vec![
        session("s1", repo.root(), "main", T0 + 50 * 60, T0 + 3 * H),
        turn("t1", "s1", "model-a", T0 + H, 100, 1.0),
        turn("t2", "s1", "model-b", T0 + 2 * H + 900, 100, 1.0),
    ];
    let r = report(&lines, 0);
    let f = &r.features[0];
    // c1: 5 of 10 churned (model-a); c2: 1 of 4 (model-b); together 6 of 14.
    assert_eq!(f.churn.churn_14d_agent_by_model.get("model-a"), Some(&0.5));
    assert_eq!(f.churn.churn_14d_agent_by_model.get("model-b"), Some(&0.25));
    assert!(close(f.churn.churn_14d_agent.unwrap_or(f64::NAN), 6.0 / 14.0));
    // The human's 6 lines all survive to day 17.
    assert_eq!(f.churn.churn_14d_human, Some(0.0));
    assert_eq!(r.churn.churn_14d_agent_by_model, f.churn.churn_14d_agent_by_model);
}

/// The report of `repo` alone, without sessions.
fn repo_report(repo: &Repo) -> FeaturesReport {
    let opts = FeaturesOptions { repos: vec![repo.root().to_owned()], ..FeaturesOptions::new() };
    features_report(&[], &PriceBook::bundled(), &opts).unwrap_or_else(|e| panic!("features: {e}"))
}

fn only(r: &FeaturesReport) -> &Feature {
    assert_eq!(r.features.len(), 1, "{:#?}", r.features);
    &r.features[0]
}

#[test]
fn churn_at_7_14_and_28_days() {
    let repo = Repo::new();
    repo.commit_text(T0, "init", "README", "readme\n");
    // The agent's commit (inside s1's window): 10 lines.
    let mut a: Vec<String> = (1..=10).map(|i| format!("a {i}")).collect();
    write(&repo, "a.txt", &a);
    commit_all(&repo, T0 + H, "xfeat::A::W1::impl");
    // Day 5 deletes 2 of them, day 10 rewrites 3 more, day 20 deletes 1, day 40 another.
    a.drain(0..2);
    write(&repo, "a.txt", &a);
    commit_all(&repo, T0 + H + 5 * DAY, "chore: trim");
    for line in a.iter_mut().take(3) {
        *line = format!("{line} rewritten");
    }
    write(&repo, "a.txt", &a);
    commit_all(&repo, T0 + H + 10 * DAY, "chore: rewrite");
    a.pop();
    write(&repo, "a.txt", &a);
    commit_all(&repo, T0 + H + 20 * DAY, "chore: drop one");
    a.pop();
    write(&repo, "a.txt", &a);
    commit_all(&repo, T0 + H + 40 * DAY, "chore: drop another");
    let lines = vec![
        session("s1", repo.root(), "main", T0 + 50 * 60, T0 + 2 * H),
        turn("t1", "s1", "model-a", T0 + H, 100, 1.0),
    ];
    let r = report(&lines, 0);
    let f = only(&r);
    assert_eq!((f.rule, f.lines_added, f.agent_lines_added), (Rule::Xfeat, 10, 10));
    // 7 d: 2 of 10; 14 d: 2 + 3; 28 d: 2 + 3 + 1 (the day-40 deletion is after every horizon).
    assert_eq!(f.churn.churn_7d_agent, Some(0.2));
    assert_eq!(f.churn.churn_14d_agent, Some(0.5));
    assert_eq!(f.churn.churn_28d_agent, Some(0.6));
    // The human-written lines are the rewrites (3 lines, day 10), never touched again.
    assert_eq!(f.churn.churn_7d_human, None, "the chores are not the feature's");
    assert!(!f.churn.churn_provisional);
}

#[test]
fn merged_lines_belong_to_their_commits_from_the_day_they_land() {
    let repo = Repo::new();
    repo.commit_text(T0, "init", "README", "readme\n");
    // On feat/x, day 0: the agent writes 10 lines of x.txt and 5 of y.txt; a human commit on
    // the branch (day 1) rewrites 2 of the agent's x lines before the merge.
    repo.git(&["checkout", "-q", "-b", "feat/x"], T0 + H);
    let mut x: Vec<String> = (1..=10).map(|i| format!("x {i}")).collect();
    write(&repo, "x.txt", &x);
    let y: Vec<String> = (1..=5).map(|i| format!("y {i}")).collect();
    write(&repo, "y.txt", &y);
    commit_all(&repo, T0 + H, "agent work");
    x[0] = "x 1 human".to_owned();
    x[1] = "x 2 human".to_owned();
    write(&repo, "x.txt", &x);
    commit_all(&repo, T0 + DAY, "human fix");
    // main moves on meanwhile (another file), then merges feat/x on day 20: a merge commit.
    repo.git(&["checkout", "-q", "main"], T0 + 2 * DAY);
    repo.commit_text(T0 + 2 * DAY, "chore: other", "other.txt", "o\n");
    repo.git(&["merge", "-q", "--no-ff", "-m", "Merge branch 'feat/x'", "feat/x"], T0 + 20 * DAY);
    // Day 25 (5 days after landing): a human on main deletes 3 of the agent's x lines.
    x.drain(5..8);
    write(&repo, "x.txt", &x);
    commit_all(&repo, T0 + 25 * DAY, "chore: trim x");
    repo.commit_text(T0 + 60 * DAY, "chore: later", "later.txt", "l\n");
    let lines = vec![
        session("s1", repo.root(), "feat/x", T0 + 50 * 60, T0 + 2 * H),
        turn("t1", "s1", "model-a", T0 + H, 100, 1.0),
    ];
    let r = report(&lines, 0);
    let f = only(&r);
    assert_eq!((f.id.as_str(), f.rule), ("feat/x", Rule::Branch));
    // Agent commit: 15 lines; 2 rewritten on the branch (before landing: churned at every
    // horizon), 3 deleted 5 days after landing (inside 7 d, counted from the merge on day 20,
    // not from the commit on day 0, when the lines were not on main yet).
    assert_eq!((f.lines_added, f.agent_lines_added), (17, 15));
    assert!(close(f.churn.churn_7d_agent.unwrap_or(f64::NAN), 5.0 / 15.0));
    assert!(close(f.churn.churn_28d_agent.unwrap_or(f64::NAN), 5.0 / 15.0));
    // The human's 2 lines all survive.
    assert_eq!(f.churn.churn_14d_human, Some(0.0));
}

#[test]
fn a_horizon_not_yet_passed_is_provisional() {
    let repo = Repo::new();
    repo.commit_text(T0, "init", "README", "readme\n");
    repo.commit_text(T0 + H, "xfeat::A::W1::impl", "a.txt", "1\n2\n3\n4\n");
    // The newest commit is 10 days later: 7 days have passed, 14 and 28 have not.
    repo.commit_text(T0 + H + 10 * DAY, "xfeat::A::W1::more", "a.txt", "1\n2\n3\n");
    let r = repo_report(&repo);
    let f = only(&r);
    assert_eq!(f.churn.churn_7d_human, Some(0.0));
    // 1 of the first commit's 4 lines gone at the tip; the second commit added nothing.
    assert_eq!(f.churn.churn_14d_human, Some(0.25));
    assert!(f.churn.churn_provisional);
}

/// A linear history of random edits (insertions, deletions, rewrites, repeated lines, files
/// deleted and re-created, names git quotes) under four `xfeat` features.
fn random_history(seed: u64) -> Repo {
    const FILES: [&str; 5] =
        ["a.txt", "b b.txt", "\u{e9}t\u{e9}.txt", "t\tab.txt", "d/q\"uote.txt"];
    let repo = Repo::new();
    std::fs::create_dir_all(repo.root().join("d")).unwrap_or_else(|e| panic!("mkdir: {e}"));
    let mut rng = Rng::new(seed);
    let mut files: Vec<Option<Vec<String>>> = vec![None; FILES.len()];
    let mut t = T0;
    for n in 0..40u64 {
        for _ in 0..rng.range(1, 3) {
            let f = rng.below(FILES.len() as u64) as usize;
            let lines = files[f].get_or_insert_with(Vec::new);
            match rng.below(10) {
                // A deletion ends the commit: deleting one file and creating another in the
                // same commit could be a rename, which the blame oracle does not follow.
                0 if !lines.is_empty() => {
                    files[f] = None;
                    break;
                }
                0..=3 => {
                    let at = rng.below(lines.len() as u64 + 1) as usize;
                    for k in 0..rng.range(1, 6) {
                        // Some lines repeat across commits: diffs must still agree.
                        let text =
                            if rng.below(4) == 0 { "same".to_owned() } else { format!("{n}.{k}") };
                        lines.insert(at, text);
                    }
                }
                4..=6 if !lines.is_empty() => {
                    let at = rng.below(lines.len() as u64) as usize;
                    let end = (at + rng.range(1, 4) as usize).min(lines.len());
                    lines.drain(at..end);
                }
                _ if !lines.is_empty() => {
                    let at = rng.below(lines.len() as u64) as usize;
                    lines[at] = format!("{n} rewrote {at}");
                }
                _ => lines.push(format!("{n} first")),
            }
        }
        for (name, lines) in FILES.iter().zip(&files) {
            let path = repo.root().join(name);
            match lines {
                Some(l) => write(&repo, name, l),
                None if path.exists() => {
                    std::fs::remove_file(&path).unwrap_or_else(|e| panic!("rm: {e}"))
                }
                None => {}
            }
        }
        t += rng.range(3 * H as u64, 4 * DAY as u64) as i64;
        repo.git(&["add", "-A"], t);
        repo.git(
            &["commit", "-q", "--allow-empty", "-m", &format!("xfeat::F{}::W1::step", n % 4)],
            t,
        );
    }
    repo
}

#[test]
fn churn_agrees_with_git_blame_at_every_horizon_on_random_linear_histories() {
    let mut partial = 0;
    for seed in [1, 2, 3, 4] {
        let repo = random_history(seed);
        let oracle = blame_churn(repo.root(), &[7, 14, 28]);
        let tracked = repo_report(&repo);
        let counted =
            churn(repo.root(), &ChurnOptions::default()).unwrap_or_else(|e| panic!("churn: {e}"));
        assert_eq!(oracle.len(), 4);
        for (id, (added, horizons)) in &oracle {
            let f = tracked
                .features
                .iter()
                .find(|f| &f.id == id)
                .unwrap_or_else(|| panic!("seed {seed}: no feature {id}"));
            assert_eq!(f.lines_added, *added, "seed {seed} {id}");
            let ours = [f.churn.churn_7d_human, f.churn.churn_14d_human, f.churn.churn_28d_human];
            let c = counted.features.iter().find(|c| &c.feature_id == id);
            let c = c.unwrap_or_else(|| panic!("seed {seed}: churn has no {id}"));
            for (((days, churned, _), ours), theirs) in horizons.iter().zip(ours).zip(&c.horizons) {
                let want = (*added > 0).then(|| *churned as f64 / *added as f64);
                assert_eq!(ours, want, "seed {seed} {id} at {days} days");
                assert_eq!((theirs.days, theirs.churned), (*days, *churned), "seed {seed} {id}");
                partial += usize::from(ours.is_some_and(|x| x > 0.0 && x < 1.0));
            }
            let complete = horizons.iter().all(|h| h.2);
            assert_eq!(f.churn.churn_provisional, !complete && *added > 0, "seed {seed}");
        }
    }
    // The histories are not trivial: most figures are strictly between 0 and 1.
    assert!(partial >= 24, "{partial} of 48 figures partial");
}
