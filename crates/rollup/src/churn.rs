//! Churn of feature-tagged commits (PRD §8 commit tags), from `git`.
//!
//! A commit whose subject starts `xfeat::<FeatureID>::<WindowID>::<Stage>` belongs to a
//! feature; `xproto::…` commits are prototypes and excluded; other commits are untagged. For
//! every feature commit `C` (time `t` = its committer date) and horizon `H` days:
//! * `added(C)` = lines `C` added (`git show --numstat`, binary files ignored, no rename
//!   detection: a renamed file's lines count as deleted);
//! * `surviving_H(C)` = lines that `git blame` still attributes to `C` at the last commit of
//!   `HEAD`'s history committed at or before `t + H` (a line deleted, or rewritten by any later
//!   commit — tagged or not, even the same feature's — no longer counts);
//! * `churned_H(C) = added(C) − surviving_H(C)`.
//!
//! Per feature: `lines_added = Σ added`, `churned_H = Σ churned_H`, `churn_score_H =
//! churned_H / lines_added` (`null` when nothing was added), `quality = clamp(1 −
//! churn_score_14, 0.5, 1.0)`. A horizon is `complete` when `HEAD`'s newest commit is at or
//! after `t + H` for every commit of the feature; before that the score is provisional.
//!
//! Merge commits are skipped whatever their subject: the lines they bring in belong to the
//! merged commits (and `git blame` attributes them there). A repository without commits has
//! no features; a repository whose `HEAD` names a commit that cannot be read is an error.
//!
//! The examined repository is data, never code: git runs with `--no-textconv`,
//! `--no-ext-diff`, no pager, no fsmonitor and no signature display, so no program the
//! repository configures (`.gitattributes` + `diff.*.textconv`, `diff.external`,
//! `core.fsmonitor`, `gpg.program`, `core.pager`) is ever started. File names are handled as
//! bytes, so a name that is not UTF-8 is measured like any other.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use crate::Error;

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

/// Runs git in one repository, hardened (see the module docs); shared with `features`.
pub(crate) struct Git<'a> {
    pub(crate) repo: &'a Utf8Path,
}

/// Settings that keep git from starting anything the examined repository configures.
const SAFE_CONFIG: &[&str] = &[
    // A user's `blame.ignoreRevsFile` would change (or, if missing here, break) attribution.
    "blame.ignoreRevsFile=",
    "core.fsmonitor=false",
    "log.showSignature=false",
    "core.pager=cat",
];

impl Git<'_> {
    /// A hardened `git` command in the repository, without its arguments.
    pub(crate) fn command(&self) -> Command {
        let mut cmd = Command::new("git");
        cmd.arg("--no-pager").arg("-C").arg(self.repo.as_std_path());
        for setting in SAFE_CONFIG {
            cmd.args(["-c", setting]);
        }
        // The repository is the one named, whatever a calling hook exported.
        cmd.env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_PAGER", "cat")
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env("LC_ALL", "C")
            .env_remove("GIT_EXTERNAL_DIFF")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_OBJECT_DIRECTORY");
        cmd
    }

    /// Run git with `args` and return its standard output as bytes.
    pub(crate) fn run_os(&self, args: &[&OsStr]) -> Result<Vec<u8>, Error> {
        let out = self.command().args(args).output().map_err(|e| Error::Git {
            repo: self.repo.to_owned(),
            message: format!("cannot run git: {e} (is git installed and on PATH?)"),
        })?;
        if !out.status.success() {
            return Err(Error::Git {
                repo: self.repo.to_owned(),
                message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(out.stdout)
    }

    /// Run git with UTF-8 `args`; its output read as text (hashes, dates, subjects).
    pub(crate) fn run(&self, args: &[&str]) -> Result<String, Error> {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        Ok(String::from_utf8_lossy(&self.run_os(&args)?).into_owned())
    }
}

/// A file name as git printed it (bytes), as an argument for git.
pub(crate) fn os_path(name: &[u8]) -> OsString {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        OsStr::from_bytes(name).to_owned()
    }
    #[cfg(not(unix))]
    {
        OsString::from(String::from_utf8_lossy(name).into_owned())
    }
}

struct CommitInfo {
    hash: String,
    time: i64,
    subject: String,
}

/// Measure churn of every feature in `repo` (its `HEAD` history).
pub fn churn(repo: &Utf8Path, opts: &ChurnOptions) -> Result<ChurnReport, Error> {
    let git = Git { repo };
    let mut horizons: Vec<u32> = opts.horizons.clone();
    horizons.push(14);
    horizons.sort_unstable();
    horizons.dedup();

    // Fails when `repo` is not a repository; a repository without commits has no churn, one
    // whose HEAD cannot be read is an error.
    git.run(&["rev-parse", "--git-dir"])?;
    if git.run(&["rev-parse", "--verify", "-q", "HEAD^{commit}"]).is_err() {
        if unborn(&git) {
            return Ok(ChurnReport {
                repo: repo.to_owned(),
                features: Vec::new(),
                prototype_commits: 0,
                untagged_commits: 0,
            });
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
    let log = git.run(&["log", "--no-merges", "--reverse", "--format=%H%x09%ct%x09%s", "HEAD"])?;
    let commits: Vec<CommitInfo> = log
        .lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, '\t');
            let hash = it.next()?.to_owned();
            let time = it.next()?.parse().ok()?;
            let subject = it.next().unwrap_or("").to_owned();
            Some(CommitInfo { hash, time, subject })
        })
        .collect();
    let head_time = commits.iter().map(|c| c.time).max().unwrap_or(0);

    let mut prototype_commits = 0;
    let mut untagged_commits = 0;
    let mut features: BTreeMap<String, FeatureChurn> = BTreeMap::new();
    // Cache: (revision, file) → lines per commit hash.
    let mut blame_cache: HashMap<(String, Vec<u8>), HashMap<String, u64>> = HashMap::new();
    let mut tree_cache: HashMap<String, HashSet<Vec<u8>>> = HashMap::new();

    for c in &commits {
        let (feature, window) = match parse_tag(&c.subject) {
            Tag::Feature { feature, window, .. } => (feature, window),
            Tag::Prototype => {
                prototype_commits += 1;
                continue;
            }
            Tag::Untagged => {
                untagged_commits += 1;
                continue;
            }
        };
        let entry = features.entry(feature.clone()).or_insert_with(|| FeatureChurn {
            feature_id: feature.clone(),
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
        let added = added_lines(&git, &c.hash)?;
        let total_added: u64 = added.iter().map(|(_, n)| n).sum();
        entry.lines_added += total_added;
        for h in entry.horizons.iter_mut() {
            let until = c.time.saturating_add(i64::from(h.days) * 86_400);
            if until > head_time {
                h.complete = false;
            }
            let rev = git.run(&["rev-list", "-1", &format!("--before=@{until}"), "HEAD"])?;
            let rev = rev.trim().to_owned();
            let mut surviving = 0u64;
            if !rev.is_empty() {
                if !tree_cache.contains_key(&rev) {
                    let args = ["ls-tree", "-r", "--name-only", "-z", &rev].map(OsStr::new);
                    let files = git.run_os(&args)?;
                    let set = files
                        .split(|b| *b == 0)
                        .filter(|s| !s.is_empty())
                        .map(<[u8]>::to_vec)
                        .collect();
                    tree_cache.insert(rev.clone(), set);
                }
                for (file, _) in &added {
                    if !tree_cache.get(&rev).is_some_and(|t| t.contains(file)) {
                        continue;
                    }
                    let key = (rev.clone(), file.clone());
                    if !blame_cache.contains_key(&key) {
                        blame_cache.insert(key.clone(), blame_counts(&git, &rev, file)?);
                    }
                    surviving +=
                        blame_cache.get(&key).and_then(|m| m.get(&c.hash)).copied().unwrap_or(0);
                }
            }
            h.churned += total_added.saturating_sub(surviving);
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

/// Lines `hash` added per file (file names as bytes).
pub(crate) fn added_lines(git: &Git<'_>, hash: &str) -> Result<Vec<(Vec<u8>, u64)>, Error> {
    let args = [
        "show",
        "--numstat",
        "--no-renames",
        "--no-textconv",
        "--no-ext-diff",
        "--format=",
        "-z",
        hash,
    ]
    .map(OsStr::new);
    let out = git.run_os(&args)?;
    // With -z: "added\tdeleted\tpath\0" per file.
    let mut files = Vec::new();
    for rec in out.split(|b| *b == 0) {
        let start = rec.iter().position(|b| *b != b'\n').unwrap_or(rec.len());
        let mut it = rec[start..].splitn(3, |b| *b == b'\t');
        let (Some(a), Some(_d), Some(path)) = (it.next(), it.next(), it.next()) else { continue };
        if let Some(n) = std::str::from_utf8(a).ok().and_then(|a| a.parse::<u64>().ok())
            && n > 0
        {
            files.push((path.to_vec(), n));
        }
    }
    Ok(files)
}

pub(crate) fn blame_counts(
    git: &Git<'_>,
    rev: &str,
    file: &[u8],
) -> Result<HashMap<String, u64>, Error> {
    let file = os_path(file);
    let args = [
        OsStr::new("blame"),
        "--porcelain".as_ref(),
        "--no-textconv".as_ref(),
        rev.as_ref(),
        "--".as_ref(),
        &file,
    ];
    let out = git.run_os(&args)?;
    let out = String::from_utf8_lossy(&out);
    let mut counts: HashMap<String, u64> = HashMap::new();
    // Porcelain: each group header "<40-hex> <orig> <final> <n-lines>" starts a run of lines.
    for line in out.lines() {
        let mut it = line.split(' ');
        let (Some(h), Some(_), Some(_), Some(n)) = (it.next(), it.next(), it.next(), it.next())
        else {
            continue;
        };
        if (h.len() == 40 || h.len() == 64)
            && h.bytes().all(|b| b.is_ascii_hexdigit())
            && let Ok(n) = n.parse::<u64>()
        {
            *counts.entry(h.to_owned()).or_default() += n;
        }
    }
    Ok(counts)
}
