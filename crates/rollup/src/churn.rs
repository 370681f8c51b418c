//! Churn of feature-tagged commits (PRD §8 commit tags), from `git`.
//!
//! A commit whose subject starts `xfeat::<FeatureID>::<WindowID>::<Stage>` belongs to a
//! feature; `xproto::…` commits are prototypes and excluded; other commits are untagged. For
//! every feature commit `C` of `HEAD`'s history and horizon `H` days:
//! * `added(C)` = lines `C` added (`--numstat` with rename detection: a renamed file's moved
//!   lines are not added, its edited ones are; binary files have no lines);
//! * `t` = when `C` reached `HEAD`'s first-parent chain: its committer time, or for a commit
//!   of a merged branch the merge's — a line cannot be churned on `HEAD` before it is there;
//! * `surviving_H(C)` = lines still `C`'s (as `git blame` would say, renames followed) at the
//!   last first-parent commit of `HEAD` committed at or before `t + H`: a line deleted, or
//!   rewritten by any later commit — tagged or not, even the same feature's — no longer is,
//!   and neither is one rewritten on its branch before the merge;
//! * `churned_H(C) = added(C) − surviving_H(C)`, so churn never decreases with `H`.
//!
//! Per feature: `lines_added = Σ added`, `churned_H = Σ churned_H`, `churn_score_H =
//! churned_H / lines_added` (`null` when nothing was added), `quality = clamp(1 −
//! churn_score_14, 0.5, 1.0)`. A horizon is `complete` when `HEAD` is at or after `t + H` for
//! every commit of the feature; before that the score is provisional.
//!
//! Merge commits are skipped whatever their subject: the lines they bring in belong to the
//! merged commits. A repository without commits has no features; a repository whose `HEAD`
//! names a commit that cannot be read is an error. Computed by one forward pass over
//! `HEAD`'s first-parent diffs (`features::lineage`), `git blame` only at merges.
//!
//! The examined repository is data, never code: git runs hardened (`gitrun`), so no program
//! the repository configures is ever started. File names are handled as bytes.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use crate::Error;
use crate::gitrun::Git;

/// The horizons churn is always measured at (days).
pub const DEFAULT_HORIZONS: [u32; 3] = [7, 14, 28];

/// What a commit subject says about the work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tag {
    /// `xfeat::<feature>::<window>::<stage>`
    Feature {
        /// Feature id.
        feature: String,
        /// Window id.
        window: String,
        /// Stage (first word after the third `::`).
        stage: String,
    },
    /// `xproto::…`: prototype work, excluded from churn.
    Prototype,
    /// No tag.
    Untagged,
}

/// Classify a commit subject.
pub fn parse_tag(subject: &str) -> Tag {
    let s = subject.trim_start();
    if s.starts_with("xproto::") {
        return Tag::Prototype;
    }
    let Some(rest) = s.strip_prefix("xfeat::") else { return Tag::Untagged };
    let mut parts = rest.splitn(3, "::");
    let (Some(feature), Some(window), Some(tail)) = (parts.next(), parts.next(), parts.next())
    else {
        return Tag::Untagged;
    };
    let stage = tail.split_whitespace().next().unwrap_or("");
    let ok = |x: &str| !x.is_empty() && !x.chars().any(char::is_whitespace);
    if ok(feature) && ok(window) && !stage.is_empty() {
        Tag::Feature {
            feature: feature.to_owned(),
            window: window.to_owned(),
            stage: stage.to_owned(),
        }
    } else {
        Tag::Untagged
    }
}

/// Churn at one horizon.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HorizonChurn {
    /// Days.
    pub days: u32,
    /// Lines added by the feature and deleted or rewritten within the horizon.
    pub churned: u64,
    /// `churned / lines_added`; `null` when nothing was added.
    pub churn_score: Option<f64>,
    /// Whether the repository's history already covers the whole horizon.
    pub complete: bool,
}

/// One feature's churn.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeatureChurn {
    /// Feature id.
    pub feature_id: String,
    /// Windows its commits name, in commit order, without repeats.
    pub windows: Vec<String>,
    /// Its commits.
    pub commits: u64,
    /// Lines its commits added.
    pub lines_added: u64,
    /// Churn per horizon (ascending days).
    pub horizons: Vec<HorizonChurn>,
    /// `1 − churn_score(14 d)` clamped to [0.5, 1.0]; `null` when nothing was added.
    pub quality: Option<f64>,
}

/// The churn report of a repository.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChurnReport {
    /// The repository.
    pub repo: Utf8PathBuf,
    /// Features, sorted by id.
    pub features: Vec<FeatureChurn>,
    /// `xproto::` commits (excluded).
    pub prototype_commits: u64,
    /// Commits without a tag.
    pub untagged_commits: u64,
}

/// Which horizons to measure.
#[derive(Clone, Debug)]
pub struct ChurnOptions {
    /// Horizons in days; 14 is always added (quality needs it).
    pub horizons: Vec<u32>,
}

impl Default for ChurnOptions {
    fn default() -> Self {
        ChurnOptions { horizons: DEFAULT_HORIZONS.to_vec() }
    }
}

/// Measure churn of every feature in `repo` (its `HEAD` history).
pub fn churn(repo: &Utf8Path, opts: &ChurnOptions) -> Result<ChurnReport, Error> {
    let git = Git { repo };
    let mut horizons: Vec<u32> = opts.horizons.clone();
    horizons.push(14);
    horizons.sort_unstable();
    horizons.dedup();
    let empty = || ChurnReport {
        repo: repo.to_owned(),
        features: Vec::new(),
        prototype_commits: 0,
        untagged_commits: 0,
    };

    // Fails when `repo` is not a repository; a repository without commits has no churn, one
    // whose HEAD cannot be read is an error.
    git.run(&["rev-parse", "--git-dir"])?;
    if git.run(&["rev-parse", "--verify", "-q", "HEAD^{commit}"]).is_err() {
        if unborn(&git) {
            return Ok(empty());
        }
        git.run(&["rev-parse", "--verify", "HEAD^{commit}"]).map_err(|e| match e {
            Error::Git { repo, message } => Error::Git {
                repo,
                message: format!(
                    "HEAD does not name a readable commit, the repository may be corrupt (`git fsck` shows what is wrong): {message}"
                ),
            },
            other => other,
        })?;
    }
    let h = crate::features::git::read_from(repo, "HEAD".to_owned(), "HEAD".to_owned())?;
    // HEAD's commits, merges left out (their lines belong to the merged commits), oldest first.
    let mut commits: Vec<usize> = (0..h.commits.len())
        .filter(|&c| h.reach[c].is_some() && h.commits[c].parents.len() <= 1)
        .collect();
    commits.sort_by_key(|&c| (h.commits[c].commit_time, std::cmp::Reverse(c)));

    let mut prototype_commits = 0;
    let mut untagged_commits = 0;
    let mut tagged: Vec<(usize, String, String)> = Vec::new();
    for &c in &commits {
        match parse_tag(&h.commits[c].subject) {
            Tag::Feature { feature, window, .. } => tagged.push((c, feature, window)),
            Tag::Prototype => prototype_commits += 1,
            Tag::Untagged => untagged_commits += 1,
        }
    }
    let wanted: Vec<usize> = tagged.iter().map(|t| t.0).collect();
    let survival = crate::features::lineage::survival(&h, &wanted, &horizons)?;
    let mut features: BTreeMap<String, FeatureChurn> = BTreeMap::new();
    for (c, feature, window) in tagged {
        let entry = features.entry(feature.clone()).or_insert_with(|| FeatureChurn {
            feature_id: feature,
            windows: Vec::new(),
            commits: 0,
            lines_added: 0,
            horizons: horizons
                .iter()
                .map(|d| HorizonChurn { days: *d, churned: 0, churn_score: None, complete: true })
                .collect(),
            quality: None,
        });
        entry.commits += 1;
        if !entry.windows.contains(&window) {
            entry.windows.push(window);
        }
        entry.lines_added += h.commits[c].added;
        for (hz, x) in entry.horizons.iter_mut().zip(survival.get(&c).into_iter().flatten()) {
            hz.churned += x.churned;
            hz.complete &= !x.provisional;
        }
    }
    let features = features
        .into_values()
        .map(|mut f| {
            for h in f.horizons.iter_mut() {
                h.churn_score =
                    (f.lines_added > 0).then(|| h.churned as f64 / f.lines_added as f64);
            }
            let c14 = f.horizons.iter().find(|h| h.days == 14).and_then(|h| h.churn_score);
            f.quality = c14.map(quality_from_churn);
            f
        })
        .collect();
    Ok(ChurnReport { repo: repo.to_owned(), features, prototype_commits, untagged_commits })
}

/// `1 − churn` clamped to [0.5, 1.0] (PRD quality score).
pub fn quality_from_churn(churn_14d: f64) -> f64 {
    (1.0 - churn_14d).clamp(0.5, 1.0)
}

/// Whether `HEAD` is a branch that has no commit yet (a new repository, an orphan branch).
fn unborn(git: &Git<'_>) -> bool {
    match git.run(&["symbolic-ref", "-q", "HEAD"]) {
        Ok(branch) => git.run(&["rev-parse", "-q", "--verify", branch.trim()]).is_err(),
        Err(_) => false,
    }
}
