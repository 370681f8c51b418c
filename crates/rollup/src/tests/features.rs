//! The merge-subject and conventional-commit parsers of `features`.

use crate::features::git::merged_branch;
use crate::features::identify::conventional_scope;

#[test]
fn merge_subjects_name_their_branch() {
    assert_eq!(merged_branch("Merge branch 'feat/login'"), Some("feat/login"));
    assert_eq!(merged_branch("Merge branch 'feat/login' into main"), Some("feat/login"));
    assert_eq!(merged_branch("Merge remote-tracking branch 'origin/fix/x'"), Some("fix/x"));
    assert_eq!(merged_branch("Merge pull request #12 from alice/feat/a-b"), Some("feat/a-b"));
    assert_eq!(merged_branch("Merge branch ''"), None);
    assert_eq!(merged_branch("Merge pull request #12"), None);
    assert_eq!(merged_branch("feat: merge branch 'x'"), None);
}

#[test]
fn conventional_scopes() {
    assert_eq!(conventional_scope("feat(login): form"), Some("login"));
    assert_eq!(conventional_scope("fix(login)!: breaking"), Some("login"));
    assert_eq!(conventional_scope("feat: no scope"), None);
    assert_eq!(conventional_scope("feat(): empty"), None);
    assert_eq!(conventional_scope("see (docs): text"), None);
    assert_eq!(conventional_scope("feat(x) missing colon"), None);
    assert_eq!(conventional_scope("(x): no type"), None);
}
