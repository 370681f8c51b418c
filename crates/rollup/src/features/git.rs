//! Reading a repository's history for the feature attribution, with the hardened git runner
//! `churn` uses (no pager, `--no-textconv`, `--no-ext-diff`, no fsmonitor, no system config;
//! `safe.directory` is left as the user set it, so a repository git refuses is an error the
//! caller reports, not one we override).
//!
//! One `git log` over the default branch, `HEAD` and every local branch gives each commit's
//! parents, author and committer times, subject, trailers and numstat (merge commits carry no
//! numstat: their lines belong to the merged commits). Reachability is computed in memory: the
//! default branch's first-parent chain, oldest first; each first-parent commit `F` marks every
//! commit it brings in that no earlier one did, with `F`'s committer time — the date the commit
//! became reachable (merged). A shallow clone just stops where its history stops; a detached
//! `HEAD` is read like a branch.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::Read as _;
use std::process::Stdio;

use camino::{Utf8Path, Utf8PathBuf};

use crate::Error;
use crate::gitrun::Git;

/// One commit.
#[derive(Clone, Debug, Default)]
pub(crate) struct Commit {
    pub(crate) hash: String,
    pub(crate) parents: Vec<String>,
    pub(crate) author_time: i64,
    pub(crate) commit_time: i64,
    pub(crate) subject: String,
    /// `(key, value)` of its trailers, unfolded.
    pub(crate) trailers: Vec<(String, String)>,
    pub(crate) added: u64,
    pub(crate) removed: u64,
}

impl Commit {
    /// Lines added plus removed.
    pub(crate) fn changed(&self) -> u64 {
        self.added.saturating_add(self.removed)
    }
}

/// When a commit became reachable from the default branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reach {
    /// Index in the first-parent chain (oldest is 0) of the commit that brought it in.
    pub(crate) by: usize,
    /// That commit's committer time.
    pub(crate) at: i64,
}

/// What was read of one repository.
#[derive(Debug, Default)]
pub(crate) struct History {
    /// Its work tree's top directory.
    pub(crate) root: Utf8PathBuf,
    /// The default branch's name (`main`, `master`, …; `HEAD` when detached with no branch).
    pub(crate) default_name: String,
    /// The revision read as the default branch (`refs/remotes/origin/main`, `refs/heads/main`).
    pub(crate) default_ref: String,
    pub(crate) commits: Vec<Commit>,
    pub(crate) index: HashMap<String, usize>,
    /// Per commit (by index): when it became reachable from the default branch.
    pub(crate) reach: Vec<Option<Reach>>,
    /// Whether a commit is on the default branch's first-parent chain.
    pub(crate) first_parent: Vec<bool>,
    /// The default branch's first-parent chain, oldest first ([`Reach::by`] indexes it).
    pub(crate) chain: Vec<usize>,
    /// Branch name (`feat/x`, also `origin/feat/x`) → tip commit index.
    pub(crate) branches: HashMap<String, usize>,
    /// Commit indices by author time (ties: oldest in log order first).
    pub(crate) by_author: Vec<usize>,
}

/// The top directory of the work tree `dir` is in.
pub(crate) fn toplevel(dir: &Utf8Path) -> Result<Utf8PathBuf, Error> {
    let git = Git { repo: dir };
    let top = git.run(&["rev-parse", "--show-toplevel"])?;
    let top = top.trim();
    if top.is_empty() {
        return Err(Error::Git { repo: dir.to_owned(), message: "not a work tree".to_owned() });
    }
    Ok(Utf8PathBuf::from(top))
}

fn verify(git: &Git<'_>, rev: &str) -> bool {
    git.run(&["rev-parse", "--verify", "-q", &format!("{rev}^{{commit}}")]).is_ok()
}

/// The default branch: `origin/HEAD` when present, else `main`, `master`, else the current
/// branch, else a detached `HEAD`. `None` for a repository without commits.
fn default_branch(git: &Git<'_>) -> Option<(String, String)> {
    if let Ok(r) = git.run(&["symbolic-ref", "-q", "refs/remotes/origin/HEAD"]) {
        let r = r.trim();
        if verify(git, r) {
            let name = r.strip_prefix("refs/remotes/origin/").unwrap_or(r);
            return Some((name.to_owned(), r.to_owned()));
        }
    }
    for name in ["main", "master"] {
        let r = format!("refs/heads/{name}");
        if verify(git, &r) {
            return Some((name.to_owned(), r));
        }
    }
    if let Ok(r) = git.run(&["symbolic-ref", "-q", "HEAD"]) {
        let r = r.trim();
        if verify(git, r) {
            let name = r.strip_prefix("refs/heads/").unwrap_or(r);
            return Some((name.to_owned(), r.to_owned()));
        }
    }
    verify(git, "HEAD").then(|| ("HEAD".to_owned(), "HEAD".to_owned()))
}

/// Read the history of the repository whose top directory is `root`, its default branch as
/// the first-parent chain.
pub(crate) fn read(root: &Utf8Path) -> Result<History, Error> {
    let git = Git { repo: root };
    git.run(&["rev-parse", "--git-dir"])?;
    match default_branch(&git) {
        Some((name, rev)) => read_from(root, name, rev),
        None => Ok(History { root: root.to_owned(), ..History::default() }),
    }
}

/// Read the history of the repository at `root` with `rev` (named `name`) as the chain.
pub(crate) fn read_from(root: &Utf8Path, name: String, rev: String) -> Result<History, Error> {
    let git = Git { repo: root };
    let mut h = History { root: root.to_owned(), ..History::default() };
    h.default_name = name;
    h.default_ref = rev.clone();
    let mut args = vec![
        "log",
        "--no-textconv",
        "--no-ext-diff",
        "-M",
        "--numstat",
        "--format=%x1e%H%x1f%P%x1f%at%x1f%ct%x1f%s%x1f%(trailers:only,unfold)%x1f",
        "--branches",
        rev.as_str(),
    ];
    if verify(&git, "HEAD") {
        args.push("HEAD");
    }
    args.push("--");
    let out = git.run(&args)?;
    for rec in records(&out) {
        let mut f = rec.splitn(5, '\u{1f}');
        let (Some(hash), Some(parents), Some(at), Some(ct), Some(rest)) =
            (f.next(), f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        // The numstat (after the last separator) never holds one (git quotes odd paths); a
        // subject or trailer that does only blurs the subject / trailer split.
        let (mid, numstat) = rest.rsplit_once('\u{1f}').unwrap_or((rest, ""));
        let (subject, trailers) = mid.split_once('\u{1f}').unwrap_or((mid, ""));
        let mut c = Commit {
            hash: hash.to_owned(),
            parents: parents.split_whitespace().map(str::to_owned).collect(),
            author_time: at.trim().parse().unwrap_or(0),
            commit_time: ct.trim().parse().unwrap_or(0),
            subject: subject.to_owned(),
            ..Commit::default()
        };
        for t in trailers.lines() {
            if let Some((k, v)) = t.split_once(':') {
                c.trailers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        for l in numstat.lines() {
            let mut it = l.split('\t');
            let (Some(a), Some(d)) = (it.next(), it.next()) else { continue };
            // Binary files show `-`: no lines.
            c.added = c.added.saturating_add(a.trim().parse().unwrap_or(0));
            c.removed = c.removed.saturating_add(d.trim().parse().unwrap_or(0));
        }
        h.index.insert(c.hash.clone(), h.commits.len());
        h.commits.push(c);
    }
    let refs = git.run(&[
        "for-each-ref",
        "--format=%(refname)%09%(objectname)",
        "refs/heads",
        "refs/remotes",
    ])?;
    for l in refs.lines() {
        let Some((r, obj)) = l.split_once('\t') else { continue };
        let Some(&i) = h.index.get(obj.trim()) else { continue };
        if let Some(b) = r.strip_prefix("refs/heads/") {
            h.branches.insert(b.to_owned(), i);
        } else if let Some(b) = r.strip_prefix("refs/remotes/") {
            h.branches.insert(b.to_owned(), i);
            // `origin/feat/x` also answers for `feat/x` when there is no local branch.
            if let Some((_, short)) = b.split_once('/') {
                h.branches.entry(short.to_owned()).or_insert(i);
            }
        }
    }
    // A shallow clone's oldest commits show no parent, so their diff would be their whole
    // tree: their lines are unknown, not counted.
    for boundary in shallow_boundary(&git) {
        if let Some(&i) = h.index.get(&boundary) {
            h.commits[i].added = 0;
            h.commits[i].removed = 0;
        }
    }
    let tip = git.run(&["rev-parse", "--verify", &format!("{rev}^{{commit}}")])?;
    mark_reach(&mut h, tip.trim());
    h.by_author = (0..h.commits.len()).rev().collect();
    h.by_author.sort_by_key(|&i| h.commits[i].author_time);
    // A branch deleted after its merge is still named by its merge commit's subject.
    for i in 0..h.commits.len() {
        let c = &h.commits[i];
        if !h.first_parent[i] || c.parents.len() < 2 {
            continue;
        }
        let (Some(name), Some(&tip)) = (merged_branch(&c.subject), h.index.get(&c.parents[1]))
        else {
            continue;
        };
        h.branches.entry(name.to_owned()).or_insert(tip);
    }
    Ok(h)
}

/// The commit records of the log: each starts with the record separator and the commit's
/// hash; a separator inside a commit message (git stores what it is given) does not start a
/// record, so the history's shape never depends on what a message says.
fn records(out: &str) -> Vec<String> {
    let starts_record = |chunk: &str| {
        chunk.split_once('\u{1f}').is_some_and(|(h, _)| {
            (h.len() == 40 || h.len() == 64) && h.bytes().all(|b| b.is_ascii_hexdigit())
        })
    };
    let mut records: Vec<String> = Vec::new();
    for chunk in out.split('\u{1e}') {
        match records.last_mut() {
            Some(last) if !starts_record(chunk) => {
                last.push('\u{1e}');
                last.push_str(chunk);
            }
            _ if starts_record(chunk) => records.push(chunk.to_owned()),
            _ => {}
        }
    }
    records
}

/// The branch a merge commit's subject names, as git and the forges write it:
/// `Merge branch 'feat/x'[ into main]`, `Merge remote-tracking branch 'origin/feat/x'`,
/// `Merge pull request #12 from owner/feat/x`.
pub(crate) fn merged_branch(subject: &str) -> Option<&str> {
    fn quoted(rest: &str) -> Option<&str> {
        rest.strip_prefix('\'')?.split('\'').next()
    }
    let name = if let Some(rest) = subject.strip_prefix("Merge branch ") {
        quoted(rest)?
    } else if let Some(rest) = subject.strip_prefix("Merge remote-tracking branch ") {
        let b = quoted(rest)?;
        b.split_once('/').map_or(b, |(_, b)| b)
    } else if let Some(rest) = subject.strip_prefix("Merge pull request #") {
        let from = rest.split_once(" from ")?.1.split_whitespace().next()?;
        from.split_once('/')?.1
    } else {
        return None;
    };
    (!name.is_empty()).then_some(name)
}

/// The commits a shallow clone cuts its history at (`<git dir>/shallow`, read with a cap).
fn shallow_boundary(git: &Git<'_>) -> Vec<String> {
    /// 40 MB: a million 40-hex lines; a larger file is not a real one.
    const MAX_SHALLOW: u64 = 40 << 20;
    let shallow = git.run(&["rev-parse", "--is-shallow-repository"]).unwrap_or_default();
    if shallow.trim() != "true" {
        return Vec::new();
    }
    let Ok(path) = git.run(&["rev-parse", "--path-format=absolute", "--git-path", "shallow"])
    else {
        return Vec::new();
    };
    match agentos_fsio::read_bounded(Utf8Path::new(path.trim()), MAX_SHALLOW) {
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes)
            .lines()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

/// Fill `reach` and `first_parent` from the default branch's tip.
fn mark_reach(h: &mut History, tip: &str) {
    let n = h.commits.len();
    h.reach = vec![None; n];
    h.first_parent = vec![false; n];
    let mut chain = Vec::new();
    let mut cur = h.index.get(tip).copied();
    while let Some(i) = cur {
        if h.first_parent[i] {
            break;
        }
        h.first_parent[i] = true;
        chain.push(i);
        cur = h.commits[i].parents.first().and_then(|p| h.index.get(p)).copied();
    }
    chain.reverse();
    for (k, &f) in chain.iter().enumerate() {
        let r = Reach { by: k, at: h.commits[f].commit_time };
        let mut stack = vec![f];
        while let Some(c) = stack.pop() {
            if h.reach[c].is_some() {
                continue;
            }
            h.reach[c] = Some(r);
            for p in &h.commits[c].parents {
                if let Some(&pi) = h.index.get(p)
                    && h.reach[pi].is_none()
                {
                    stack.push(pi);
                }
            }
        }
    }
    h.chain = chain;
}

/// What a session's branch is in a repository.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SessionBranch {
    /// The default branch (or no branch named, or a branch fast-forwarded into it: its commits
    /// are the default branch's own).
    Default,
    /// A feature branch: its tip.
    Feature(usize),
    /// A branch this repository does not have (deleted, or another clone's).
    Unknown,
}

impl History {
    /// The commits authored within `from..=to`, oldest first.
    pub(crate) fn authored_in(&self, from: i64, to: i64) -> &[usize] {
        let t = |&i: &usize| self.commits[i].author_time;
        let lo = self.by_author.partition_point(|i| t(i) < from);
        let hi = self.by_author.partition_point(|i| t(i) <= to);
        self.by_author.get(lo..hi.max(lo)).unwrap_or_default()
    }

    /// What `branch` is here.
    pub(crate) fn session_branch(&self, branch: Option<&str>) -> SessionBranch {
        let Some(b) = branch.filter(|b| *b != self.default_name) else {
            return SessionBranch::Default;
        };
        match self.branches.get(b) {
            Some(&tip) if self.first_parent.get(tip).copied().unwrap_or(false) => {
                SessionBranch::Default
            }
            Some(&tip) => SessionBranch::Feature(tip),
            None => SessionBranch::Unknown,
        }
    }

    /// The commits of a branch whose tip is `tip`: those not on the default branch before the
    /// branch was merged (all of the branch's own commits when it is not merged), newest first.
    pub(crate) fn branch_commits(&self, tip: usize) -> Vec<usize> {
        let merged_by = self.reach.get(tip).copied().flatten().map(|r| r.by);
        let mut out = Vec::new();
        let mut seen = vec![false; self.commits.len()];
        let mut stack = vec![tip];
        while let Some(c) = stack.pop() {
            if std::mem::replace(&mut seen[c], true) || self.first_parent[c] {
                continue;
            }
            let own = match (self.reach[c], merged_by) {
                (None, _) => true,
                (Some(r), Some(by)) => r.by == by,
                (Some(_), None) => false,
            };
            if !own {
                continue;
            }
            out.push(c);
            for p in &self.commits[c].parents {
                if let Some(&pi) = self.index.get(p) {
                    stack.push(pi);
                }
            }
        }
        out
    }

    /// The default-branch commits that shipped the unmerged branch range `base..tip` as
    /// copies, by `git patch-id --stable`: one first-parent commit with the same patch as the
    /// whole range (a squash merge), else one with the same patch for every commit of the
    /// range (a rebase merge); empty when there are none or git cannot say.
    pub(crate) fn copies_of(&self, base: &str, tip: &str) -> Vec<usize> {
        let git = Git { repo: &self.root };
        let since = format!("{base}..{}", self.default_ref);
        let log =
            ["log", "-p", "--no-merges", "--no-textconv", "--no-ext-diff", "--format=commit %H"];
        let mut args = log.to_vec();
        args.extend(["--first-parent", since.as_str()]);
        let Some(have) = patch_ids(&git, &args) else { return Vec::new() };
        let find = |id: &str| {
            have.iter().find(|(h, _)| h == id).and_then(|(_, c)| self.index.get(c).copied())
        };
        let whole = patch_ids(&git, &["diff", "--no-textconv", "--no-ext-diff", base, tip]);
        if let Some(s) = whole.and_then(|w| w.into_iter().next()).and_then(|(id, _)| find(&id)) {
            return vec![s];
        }
        let range = format!("{base}..{tip}");
        let mut args = log.to_vec();
        args.push(range.as_str());
        let Some(own) = patch_ids(&git, &args) else { return Vec::new() };
        let copies: Option<Vec<usize>> = own.iter().map(|(id, _)| find(id)).collect();
        copies.filter(|c| !c.is_empty()).unwrap_or_default()
    }

    /// The merge base of `a` and the default branch.
    pub(crate) fn merge_base(&self, a: &str) -> Option<String> {
        let git = Git { repo: &self.root };
        let out = git.run(&["merge-base", a, &self.default_ref]).ok()?;
        let b = out.trim();
        (!b.is_empty()).then(|| b.to_owned())
    }
}

/// `git <args> | git patch-id --stable`, streamed (no diff held in memory): `(patch id,
/// commit)` pairs.
fn patch_ids(git: &Git<'_>, args: &[&str]) -> Option<Vec<(String, String)>> {
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    let mut producer =
        git.command().args(&args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().ok()?;
    let diff = producer.stdout.take()?;
    let mut consumer = git
        .command()
        .args(["patch-id", "--stable"])
        .stdin(Stdio::from(diff))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut text = String::new();
    let read = consumer.stdout.take().map(|mut o| o.read_to_string(&mut text));
    let ok_c = consumer.wait().map(|s| s.success()).unwrap_or(false);
    let ok_p = producer.wait().map(|s| s.success()).unwrap_or(false);
    if !(ok_c && ok_p && matches!(read, Some(Ok(_)))) {
        return None;
    }
    Some(
        text.lines()
            .filter_map(|l| {
                let (id, c) = l.split_once(' ')?;
                Some((id.to_owned(), c.trim().to_owned()))
            })
            .collect(),
    )
}
