//! Churn at 14 days of a feature's agent-written and human-written lines, measured as `churn`
//! measures it (`docs/metrics.md`): for each commit `C` of the feature reachable from the
//! default branch, the lines `C` added that `git blame` no longer attributes to `C` at the last
//! default-branch commit committed at or before `C`'s committer time + 14 days, over the lines
//! `C` added; summed separately over the agent-written and the human-written commits.

use std::collections::HashMap;
use std::ffi::OsStr;

use super::git::History;
use crate::churn::{Git, added_lines, blame_counts};

const HORIZON: i64 = 14 * 86_400;

/// Churn of one group of commits: lines added, lines churned.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Churned {
    pub(crate) added: u64,
    pub(crate) churned: u64,
}

impl Churned {
    pub(crate) fn add(&mut self, o: Churned) {
        self.added += o.added;
        self.churned += o.churned;
    }

    /// `churned / added`, `None` when nothing was added.
    pub(crate) fn score(self) -> Option<f64> {
        (self.added > 0).then(|| self.churned as f64 / self.added as f64)
    }
}

/// Per repository: what git was already asked.
pub(crate) struct Churn14<'a> {
    h: &'a History,
    git: Git<'a>,
    revs: HashMap<i64, Option<String>>,
    trees: HashMap<String, std::collections::HashSet<Vec<u8>>>,
    blame: HashMap<(String, Vec<u8>), HashMap<String, u64>>,
}

impl<'a> Churn14<'a> {
    pub(crate) fn new(h: &'a History) -> Self {
        Churn14 {
            h,
            git: Git { repo: &h.root },
            revs: HashMap::new(),
            trees: HashMap::new(),
            blame: HashMap::new(),
        }
    }

    /// The last default-branch commit committed at or before `until`.
    fn rev_at(&mut self, until: i64) -> Option<String> {
        if let Some(r) = self.revs.get(&until) {
            return r.clone();
        }
        let before = format!("--before=@{until}");
        let r = self
            .git
            .run(&["rev-list", "-1", &before, &self.h.default_ref])
            .ok()
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        self.revs.insert(until, r.clone());
        r
    }

    /// Commit `c`'s lines; `None` when git could not say (left out).
    pub(crate) fn commit(&mut self, c: usize) -> Option<Churned> {
        let commit = self.h.commits.get(c)?;
        self.h.reach.get(c).copied().flatten()?;
        let files = added_lines(&self.git, &commit.hash).ok()?;
        let until = commit.commit_time.saturating_add(HORIZON);
        let rev = self.rev_at(until)?;
        if !self.trees.contains_key(&rev) {
            let args = ["ls-tree", "-r", "--name-only", "-z", &rev].map(OsStr::new);
            let out = self.git.run_os(&args).ok()?;
            let set = out.split(|b| *b == 0).filter(|s| !s.is_empty()).map(<[u8]>::to_vec);
            self.trees.insert(rev.clone(), set.collect());
        }
        let mut added = 0u64;
        let mut surviving = 0u64;
        for (file, n) in files {
            added += n;
            if !self.trees.get(&rev).is_some_and(|t| t.contains(&file)) {
                continue;
            }
            let key = (rev.clone(), file);
            if !self.blame.contains_key(&key) {
                let counts = blame_counts(&self.git, &rev, &key.1).ok()?;
                self.blame.insert(key.clone(), counts);
            }
            surviving +=
                self.blame.get(&key).and_then(|m| m.get(&commit.hash)).copied().unwrap_or(0);
        }
        Some(Churned { added, churned: added.saturating_sub(surviving) })
    }
}
