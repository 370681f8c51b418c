//! Churn where history is not a straight line: a feature branch merged after its horizons
//! began, renames, copies and binary files (expected figures by hand), and generated histories
//! with merges on which churn never decreases with the horizon.

use agentos_rollup::churn::{ChurnOptions, ChurnReport, FeatureChurn, churn};
use agentos_testkit::agent_history::Rng;

use agentos_testkit::git_repo::Repo;

const DAY: i64 = 86_400;
const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn at(day: i64) -> i64 {
    T0 + day * DAY
}

fn lines(prefix: &str, n: usize) -> String {
    (1..=n).map(|i| format!("{prefix} {i}\n")).collect()
}

fn report(repo: &Repo) -> ChurnReport {
    churn(repo.root(), &ChurnOptions::default()).unwrap_or_else(|e| panic!("churn: {e}"))
}

fn feature<'a>(r: &'a ChurnReport, id: &str) -> &'a FeatureChurn {
    r.features.iter().find(|f| f.feature_id == id).unwrap_or_else(|| panic!("no {id}: {r:#?}"))
}

/// (7, 14, 28)-day churned lines.
fn churned(f: &FeatureChurn) -> Vec<(u32, u64)> {
    f.horizons.iter().map(|h| (h.days, h.churned)).collect()
}

/// The repository: `init` (day 1), `feat` adds 5 lines of e.txt (day 2), `main work`
/// (day 5), `feat` merged with `--no-ff` on `merge_day`, one more commit on day 31.
fn merged_late(merge_day: i64) -> Repo {
    let repo = Repo::new();
    repo.commit_text(at(1), "init", "README", "readme\n");
    repo.git(&["checkout", "-q", "-b", "feat"], at(2));
    repo.commit_text(at(2), "xfeat::G2::W2::impl e.txt", "e.txt", &lines("e", 5));
    repo.git(&["checkout", "-q", "main"], at(5));
    repo.commit_text(at(5), "main work", "m.txt", "m\n");
    repo.git(&["merge", "-q", "--no-ff", "-m", "Merge branch 'feat'", "feat"], at(merge_day));
    repo.commit_text(at(31), "later", "later.txt", "l\n");
    repo
}

#[test]
fn a_branch_merged_after_its_horizons_began_keeps_every_line() {
    for merge_day in [20, 11] {
        let r = report(&merged_late(merge_day));
        let g2 = feature(&r, "G2");
        assert_eq!(g2.lines_added, 5);
        // Every line survives: nothing churned at any horizon, quality 1.0.
        assert_eq!(churned(g2), [(7, 0), (14, 0), (28, 0)], "merged on day {merge_day}");
        assert_eq!(g2.quality, Some(1.0));
    }
}

#[test]
fn renames_are_followed_copies_and_binaries_are_not_lines_of_the_feature() {
    let repo = Repo::new();
    repo.commit_text(at(0), "init", "README", "readme\n");
    // F1: 10 lines of a.txt; F2: 10 of b.txt; F3: 4 lines of c.txt; F4: a binary file.
    repo.commit_text(at(1), "xfeat::F1::W1::impl", "a.txt", &lines("a", 10));
    let mut b: Vec<String> = (1..=10).map(|i| format!("the b file, line number {i}")).collect();
    repo.commit_text(at(1) + 60, "xfeat::F2::W1::impl", "b.txt", &(b.join("\n") + "\n"));
    repo.commit_text(at(1) + 120, "xfeat::F3::W1::impl", "c.txt", &lines("c", 4));
    std::fs::write(repo.root().join("blob.bin"), [0u8, 1, 2, 0, 255, 0, 7])
        .unwrap_or_else(|e| panic!("write: {e}"));
    repo.git(&["add", "-A"], at(1) + 180);
    repo.git(&["commit", "-q", "-m", "xfeat::F4::W1::impl blob"], at(1) + 180);
    // Day 3: a pure rename of a.txt.
    std::fs::create_dir_all(repo.root().join("moved")).unwrap_or_else(|e| panic!("mkdir: {e}"));
    repo.git(&["mv", "a.txt", "moved/a.txt"], at(3));
    repo.git(&["commit", "-q", "-m", "move a"], at(3));
    // Day 4: b.txt renamed and 2 of its 10 lines edited in the same commit (similar enough
    // for git to call it a rename).
    b[0] = "the b file, line number 1, edited".to_owned();
    b[5] = "the b file, line number 6, edited".to_owned();
    repo.git(&["mv", "b.txt", "b2.txt"], at(4));
    std::fs::write(repo.root().join("b2.txt"), b.join("\n") + "\n")
        .unwrap_or_else(|e| panic!("write: {e}"));
    repo.git(&["add", "-A"], at(4));
    repo.git(&["commit", "-q", "-m", "rename and edit b"], at(4));
    // Day 5: c.txt copied (the original stays, untouched).
    std::fs::write(repo.root().join("c-copy.txt"), lines("c", 4))
        .unwrap_or_else(|e| panic!("write: {e}"));
    repo.git(&["add", "-A"], at(5));
    repo.git(&["commit", "-q", "-m", "copy c"], at(5));
    repo.commit_text(at(40), "later", "later.txt", "l\n");
    let r = report(&repo);
    // Moving code is not rewriting it.
    assert_eq!(churned(feature(&r, "F1")), [(7, 0), (14, 0), (28, 0)]);
    // Rename + edit: the 2 edited lines are churned, the 8 moved ones are not.
    let f2 = feature(&r, "F2");
    assert_eq!((f2.lines_added, churned(f2)), (10, vec![(7, 2), (14, 2), (28, 2)]));
    // A copy leaves the original's lines where they were.
    assert_eq!(churned(feature(&r, "F3")), [(7, 0), (14, 0), (28, 0)]);
    // A binary file has no lines: nothing added, no score.
    let f4 = feature(&r, "F4");
    assert_eq!(f4.lines_added, 0);
    assert!(f4.horizons.iter().all(|h| h.churn_score.is_none()), "{f4:#?}");
}

/// Random edits on `main` and on short branches merged back (some with `--no-ff`, some
/// fast-forward), every commit an `xfeat` commit of one of four features.
fn branchy_history(seed: u64) -> Repo {
    let repo = Repo::new();
    let mut rng = Rng::new(seed);
    let mut t = T0;
    let mut n = 0u64;
    let mut edit = |repo: &Repo, rng: &mut Rng, t: i64| {
        let file = format!("f{}.txt", rng.below(3));
        let path = repo.root().join(&file);
        let mut text: Vec<String> =
            std::fs::read_to_string(&path).unwrap_or_default().lines().map(str::to_owned).collect();
        for _ in 0..rng.range(1, 4) {
            match rng.below(3) {
                0 if !text.is_empty() => {
                    let i = rng.below(text.len() as u64) as usize;
                    text.remove(i);
                }
                1 if !text.is_empty() => {
                    let i = rng.below(text.len() as u64) as usize;
                    text[i] = format!("{n} rewrote {i}");
                }
                _ => {
                    let i = rng.below(text.len() as u64 + 1) as usize;
                    text.insert(i, format!("{n} new"));
                }
            }
        }
        std::fs::write(&path, text.join("\n") + "\n").unwrap_or_else(|e| panic!("write: {e}"));
        repo.git(&["add", "-A"], t);
        repo.git(&["commit", "-q", "--allow-empty", "-m", &format!("xfeat::F{}::W::s", n % 4)], t);
        n += 1;
    };
    for round in 0..10 {
        t += rng.range(3_600, 3 * DAY as u64) as i64;
        edit(&repo, &mut rng, t);
        if rng.below(2) == 0 {
            let branch = format!("b{round}");
            repo.git(&["checkout", "-q", "-b", &branch], t);
            for _ in 0..rng.range(1, 3) {
                t += rng.range(3_600, 2 * DAY as u64) as i64;
                edit(&repo, &mut rng, t);
            }
            repo.git(&["checkout", "-q", "main"], t);
            if rng.below(2) == 0 {
                t += rng.range(3_600, DAY as u64) as i64;
                edit(&repo, &mut rng, t);
            }
            t += rng.range(3_600, 10 * DAY as u64) as i64;
            // Conflicts are resolved in the branch's favour.
            repo.git(&["merge", "-q", "--no-ff", "-X", "theirs", "-m", "merge", &branch], t);
        }
    }
    repo
}

#[test]
fn churn_never_decreases_with_the_horizon() {
    let mut measured = 0;
    for seed in 1..=6 {
        let r = report(&branchy_history(seed));
        for f in &r.features {
            let c: Vec<u64> = f.horizons.iter().map(|h| h.churned).collect();
            assert!(c.windows(2).all(|w| w[0] <= w[1]), "seed {seed} {}: {c:?}", f.feature_id);
            assert!(c.iter().all(|x| *x <= f.lines_added), "seed {seed} {}: {c:?}", f.feature_id);
            measured += usize::from(c.iter().any(|x| *x > 0));
        }
    }
    assert!(measured > 6, "the histories churn something: {measured}");
}

proptest::proptest! {
    // Generated git histories are slow (≈ 30 git commands each): 4 cases, on top of the six
    // fixed seeds above.
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4))]
    #[test]
    fn churn_never_decreases_with_the_horizon_on_any_history_and_horizons(
        seed in 1u64..u64::MAX,
        horizons in proptest::collection::btree_set(1u32..60, 1..5),
    ) {
        let repo = branchy_history(seed);
        let opts = ChurnOptions { horizons: horizons.into_iter().collect() };
        let r = churn(repo.root(), &opts).unwrap_or_else(|e| panic!("churn: {e}"));
        for f in &r.features {
            let mut h: Vec<(u32, u64)> = f.horizons.iter().map(|h| (h.days, h.churned)).collect();
            h.sort_unstable();
            proptest::prop_assert!(h.windows(2).all(|w| w[0].1 <= w[1].1), "seed {} {}: {:?}", seed, f.feature_id, h);
            proptest::prop_assert!(h.iter().all(|x| x.1 <= f.lines_added), "seed {} {}: {:?}", seed, f.feature_id, h);
        }
    }
}
