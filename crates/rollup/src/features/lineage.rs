//! Churn at 7, 14 and 28 days, from one pass over the default branch: which commit owns each
//! line of each file, followed forward through the first-parent chain.
//!
//! `git log --first-parent -p -U0` (merges diffed against their first parent) streams every
//! change of the default branch once; each hunk moves line ownership as `git blame` would see
//! it (removed lines leave their owner, added lines belong to the commit). The lines a merge
//! brings in are owned by the merged commits, not the merge: for each file a merge changes,
//! `git blame` at the merge says whose each line is. A commit `C` that reached the default
//! branch at time `t` (its own committer time, or its merge's) keeps `surviving_H(C)` lines:
//! the fewest it owned after any default-branch commit from its arrival up to the last one
//! committed at or before `t + H` days (a line once gone stays churned, even if a later merge
//! brings it back); `churned_H = added − surviving_H`, never decreasing with `H`. Lines of files that existed before the first commit of interest are
//! of an unknown owner: they keep positions, never count.
//!
//! Renames are followed (`-M`: a renamed file's lines keep their owners; `git blame` at a
//! merge follows them too); copies are not (a copy's lines are the copying commit's, the
//! original's stay where they were). Binary files have no lines.
//!
//! One `git log` for the whole history plus one `git blame` per file changed by a merge that
//! brings in a commit of interest, instead of one `git blame` per file, commit and horizon:
//! trunk-based histories need no blame at all.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use super::git::History;
use crate::Error;
use crate::gitrun::{Git, os_path};

/// The horizons `features` reports, days.
pub(crate) const HORIZON_DAYS: [u32; 3] = [7, 14, 28];
/// Longest part of a diff line kept (a path: `PATH_MAX`); content lines need one byte.
const MAX_LINE: usize = 4096;
/// Owner of lines older than the pass.
const UNKNOWN: u32 = u32::MAX;

/// Churn of one group of commits: lines added, lines churned, and whether a horizon had not
/// yet passed at the default branch's newest commit (the figure may still grow).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Churned {
    pub(crate) added: u64,
    pub(crate) churned: u64,
    pub(crate) provisional: bool,
}

impl Churned {
    pub(crate) fn add(&mut self, o: Churned) {
        self.added += o.added;
        self.churned += o.churned;
        self.provisional |= o.provisional;
    }

    /// `churned / added`, `None` when nothing was added.
    pub(crate) fn score(self) -> Option<f64> {
        (self.added > 0).then(|| self.churned as f64 / self.added as f64)
    }
}

/// Churn summed over features: agent- and human-written at each of [`HORIZON_DAYS`], and
/// agent-written at 14 days per model.
#[derive(Debug, Default)]
pub(crate) struct ChurnTotals {
    pub(crate) agent: [Churned; 3],
    pub(crate) human: [Churned; 3],
    pub(crate) by_model: BTreeMap<String, Churned>,
}

/// Per commit of interest: its churn at each horizon asked for, in that order.
pub(crate) type Survival = HashMap<usize, Vec<Churned>>;

/// A file's lines as runs of one owner.
type Runs = Vec<(u32, u32)>;

/// One `@@ -a,b +c,d @@` of a `-U0` diff, in the old file's coordinates.
#[derive(Clone, Copy)]
struct Hunk {
    /// 0-based index of the first old line removed, or of the line the insertion precedes.
    at: u64,
    removed: u64,
    added: u64,
}

/// Measure churn of the commits `wanted` at each of `horizons` (days) after they reached the
/// history's first-parent chain (those not reachable from it are left out).
pub(crate) fn survival(h: &History, wanted: &[usize], horizons: &[u32]) -> Result<Survival, Error> {
    let tip_time = h.chain.last().map(|&t| h.commits[t].commit_time).unwrap_or(0);
    let chain_times: Vec<i64> = h.chain.iter().map(|&c| h.commits[c].commit_time).collect();
    // Chain position → (commit, horizon) to read once that position is applied.
    let mut due: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
    let mut out = Survival::new();
    for &c in wanted {
        let Some(r) = h.reach.get(c).copied().flatten() else { continue };
        let mut entry = vec![Churned::default(); horizons.len()];
        for (i, days) in horizons.iter().enumerate() {
            let until = r.at.saturating_add(i64::from(*days) * 86_400);
            let k = chain_times.partition_point(|&t| t <= until).saturating_sub(1).max(r.by);
            entry[i] =
                Churned { added: h.commits[c].added, churned: 0, provisional: until > tip_time };
            due.entry(k).or_default().push((c, i));
        }
        out.insert(c, entry);
    }
    // The pass starts where the oldest commit of interest reached the default branch.
    let Some(first) =
        wanted.iter().filter_map(|&c| h.reach.get(c).copied().flatten()).map(|r| r.by).min()
    else {
        return Ok(out);
    };
    // Merges that bring in a commit of interest (only their files need `git blame`).
    let merges: HashSet<usize> = wanted
        .iter()
        .filter(|&&c| !h.first_parent.get(c).copied().unwrap_or(true))
        .filter_map(|&c| h.reach.get(c).copied().flatten())
        .map(|r| r.by)
        .collect();
    let mut landing: HashMap<usize, Vec<usize>> = HashMap::new();
    for &c in wanted {
        if let Some(r) = h.reach.get(c).copied().flatten() {
            landing.entry(r.by).or_default().push(c);
        }
    }
    let mut pass =
        Pass { h, live: Live::new(h.commits.len()), files: HashMap::new(), merges, landing };
    pass.run(first, |pos, live| {
        for &(c, i) in due.get(&pos).into_iter().flatten() {
            if let Some(e) = out.get_mut(&c) {
                e[i].churned = e[i].added.saturating_sub(live.fewest(c));
            }
        }
    })?;
    Ok(out)
}

/// Lines each commit owns now, and for the commits of interest the fewest it owned at the end
/// of any commit since it reached the chain: a line once gone stays churned even if a later
/// merge brings it back, so churn never decreases with the horizon.
struct Live {
    now: Vec<u64>,
    /// `u64::MAX` until the commit reached the chain.
    fewest: Vec<u64>,
    changed: Vec<u32>,
    is_changed: Vec<bool>,
}

impl Live {
    fn new(n: usize) -> Live {
        Live {
            now: vec![0; n],
            fewest: vec![u64::MAX; n],
            changed: Vec::new(),
            is_changed: vec![false; n],
        }
    }

    fn mark(&mut self, o: usize) {
        if let Some(flag) = self.is_changed.get_mut(o)
            && !std::mem::replace(flag, true)
        {
            self.changed.push(o as u32);
        }
    }

    fn add(&mut self, o: u32, n: u64) {
        if let Some(l) = self.now.get_mut(o as usize) {
            *l += n;
            self.mark(o as usize);
        }
    }

    fn sub(&mut self, o: u32, n: u64) {
        if let Some(l) = self.now.get_mut(o as usize) {
            *l = l.saturating_sub(n);
            self.mark(o as usize);
        }
    }

    /// A commit's end: `landed` reach the chain now; every landed commit that changed keeps
    /// its fewest lines.
    fn settle(&mut self, landed: &[usize]) {
        for &c in landed {
            if let (Some(f), Some(n)) = (self.fewest.get_mut(c), self.now.get(c)) {
                *f = (*f).min(*n);
            }
        }
        for o in std::mem::take(&mut self.changed) {
            let o = o as usize;
            self.is_changed[o] = false;
            if self.fewest[o] != u64::MAX {
                self.fewest[o] = self.fewest[o].min(self.now[o]);
            }
        }
    }

    /// The fewest lines `c` owned since it reached the chain (0 before).
    fn fewest(&self, c: usize) -> u64 {
        self.fewest.get(c).copied().filter(|f| *f != u64::MAX).unwrap_or(0)
    }
}

/// The forward pass: line owners per file and live lines per commit.
struct Pass<'a> {
    h: &'a History,
    live: Live,
    files: HashMap<Vec<u8>, Runs>,
    /// Chain positions of the merges whose files are blamed.
    merges: HashSet<usize>,
    /// Chain position → the commits of interest that reach the chain there.
    landing: HashMap<usize, Vec<usize>>,
}

/// What is being read of the current commit.
#[derive(Default)]
struct Current {
    pos: usize,
    owner: u32,
    /// Files changed (for a merge's blame).
    touched: Vec<Vec<u8>>,
    old: Option<Vec<u8>>,
    new: Option<Vec<u8>>,
    /// `rename from` / `rename to` of the current file (`-M`).
    renamed: (Option<Vec<u8>>, Option<Vec<u8>>),
    hunks: Vec<Hunk>,
    /// `-` and `+` lines still to come in the current hunk.
    pending: (u64, u64),
}

impl Pass<'_> {
    fn run(&mut self, first: usize, mut at: impl FnMut(usize, &Live)) -> Result<(), Error> {
        let h = self.h;
        let (Some(&start), Some(&tip)) = (h.chain.get(first), h.chain.last()) else {
            return Ok(());
        };
        let git = Git { repo: &h.root };
        let mut args: Vec<String> = [
            "log",
            "--first-parent",
            "--diff-merges=first-parent",
            "--reverse",
            "-p",
            "-U0",
            "-M",
            "--no-textconv",
            "--no-ext-diff",
            "--no-color",
            "--format=%x1e%H",
        ]
        .map(str::to_owned)
        .to_vec();
        args.push(h.commits[tip].hash.clone());
        if let Some(parent) = h.commits[start].parents.first() {
            args.push(format!("^{parent}"));
        }
        let mut child = git
            .command()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| git_error(h, format!("cannot run git: {e}")))?;
        let stdout = child.stdout.take().ok_or_else(|| git_error(h, "no output".to_owned()))?;
        let read = self.read(BufReader::new(stdout), first, &mut at);
        let status = child.wait().map_err(|e| git_error(h, e.to_string()))?;
        read?;
        if !status.success() {
            return Err(git_error(h, "git log -p failed".to_owned()));
        }
        Ok(())
    }

    fn read(
        &mut self,
        mut r: impl BufRead,
        first: usize,
        at: &mut impl FnMut(usize, &Live),
    ) -> Result<(), Error> {
        let mut line = Vec::new();
        let mut cur: Option<Current> = None;
        let mut next = first;
        while read_capped(&mut r, &mut line).map_err(|e| git_error(self.h, e.to_string()))? {
            if let Some(hash) = line.strip_prefix(b"\x1e") {
                if let Some(done) = cur.take() {
                    self.finish(done, at)?;
                }
                let pos = next;
                next += 1;
                let c = *self.h.chain.get(pos).ok_or_else(|| {
                    git_error(self.h, "the default branch changed while it was read".to_owned())
                })?;
                if self.h.commits[c].hash.as_bytes() != hash.trim_ascii() {
                    return Err(git_error(
                        self.h,
                        "the default branch changed while it was read".to_owned(),
                    ));
                }
                let owner = u32::try_from(c).unwrap_or(UNKNOWN);
                cur = Some(Current { pos, owner, ..Current::default() });
                continue;
            }
            let Some(c) = cur.as_mut() else { continue };
            if c.pending != (0, 0) {
                match line.first() {
                    Some(b'-') => c.pending.0 = c.pending.0.saturating_sub(1),
                    Some(b'+') => c.pending.1 = c.pending.1.saturating_sub(1),
                    _ => {}
                }
                continue;
            }
            if line.starts_with(b"diff --git ") {
                self.end_file(c);
            } else if let Some(p) = line.strip_prefix(b"rename from ") {
                c.renamed.0 = diff_path(p, b"");
            } else if let Some(p) = line.strip_prefix(b"rename to ") {
                c.renamed.1 = diff_path(p, b"");
            } else if let Some(p) = line.strip_prefix(b"--- ") {
                c.old = diff_path(p, b"a/");
            } else if let Some(p) = line.strip_prefix(b"+++ ") {
                c.new = diff_path(p, b"b/");
            } else if line.starts_with(b"@@ ")
                && let Some(hunk) = parse_hunk(&line)
            {
                c.pending = (hunk.removed, hunk.added);
                c.hunks.push(hunk);
            }
        }
        if let Some(done) = cur.take() {
            self.finish(done, at)?;
        }
        Ok(())
    }

    /// Apply the current file's hunks; a renamed file keeps its lines' owners under its new
    /// name (moving code is not rewriting it).
    fn end_file(&mut self, c: &mut Current) {
        let hunks = std::mem::take(&mut c.hunks);
        let (old, new) = (c.old.take(), c.new.take());
        let (from, to) = std::mem::take(&mut c.renamed);
        let renamed = from.is_some() && to.is_some();
        let (src, dst) = if renamed { (from, to) } else { (old.clone(), new.clone()) };
        let Some(path) = dst.clone().or_else(|| src.clone()) else { return };
        if !renamed && old.is_none() {
            // A new file: nothing older in it (a re-created path starts afresh).
            self.drop_file(&path);
        }
        let runs = src.and_then(|s| self.files.remove(&s)).unwrap_or_default();
        if renamed {
            // Whatever was at the new name is replaced.
            self.drop_file(&path);
        }
        let runs = apply(runs, &hunks, c.owner, &mut self.live);
        if dst.is_some() {
            self.files.insert(path.clone(), runs);
            c.touched.push(path);
        } else {
            self.forget(&runs);
        }
    }

    fn drop_file(&mut self, path: &[u8]) {
        if let Some(runs) = self.files.remove(path) {
            self.forget(&runs);
        }
    }

    fn forget(&mut self, runs: &Runs) {
        for &(o, n) in runs {
            self.live.sub(o, u64::from(n));
        }
    }

    /// End of a commit: a merge's files are owned as `git blame` says; then read what is due.
    fn finish(&mut self, mut c: Current, at: &mut impl FnMut(usize, &Live)) -> Result<(), Error> {
        self.end_file(&mut c);
        let commit = &self.h.commits[c.owner as usize];
        // Other merges' lines stay the merge's own: no commit of interest is among theirs.
        if commit.parents.len() > 1 && self.merges.contains(&c.pos) {
            let git = Git { repo: &self.h.root };
            for path in &c.touched {
                let Ok(owners) = blame_owners(&git, self.h, &commit.hash, path) else { continue };
                self.drop_file(path);
                for &(o, n) in &owners {
                    self.live.add(o, u64::from(n));
                }
                self.files.insert(path.clone(), owners);
            }
        }
        let landed = self.landing.remove(&c.pos).unwrap_or_default();
        self.live.settle(&landed);
        at(c.pos, &self.live);
        Ok(())
    }
}

fn git_error(h: &History, message: String) -> Error {
    Error::Git { repo: h.root.clone(), message }
}

/// Append `n` lines of `owner` to `out`, merging with the last run.
fn push(out: &mut Runs, owner: u32, mut n: u64) {
    while n > 0 {
        let part = u32::try_from(n).unwrap_or(u32::MAX);
        match out.last_mut() {
            Some((o, len)) if *o == owner && len.checked_add(part).is_some() => *len += part,
            _ => out.push((owner, part)),
        }
        n -= u64::from(part);
    }
}

/// Rebuild `runs` with `hunks` (old coordinates, in order) applied; added lines are `owner`'s.
fn apply(runs: Runs, hunks: &[Hunk], owner: u32, live: &mut Live) -> Runs {
    let mut out: Runs = Vec::with_capacity(runs.len() + 2 * hunks.len());
    let mut old = runs.into_iter().peekable();
    // Old lines consumed so far; past the old runs the file's lines are of an unknown owner.
    let mut taken: u64 = 0;
    for hk in hunks {
        for (n, keep) in [(hk.at.saturating_sub(taken), true), (hk.removed, false)] {
            let mut n = n;
            taken += n;
            while n > 0 {
                let Some((o, len)) = old.peek_mut() else {
                    if keep {
                        push(&mut out, UNKNOWN, n);
                    }
                    break;
                };
                let step = n.min(u64::from(*len));
                let o = *o;
                *len -= step as u32;
                if *len == 0 {
                    old.next();
                }
                if keep {
                    push(&mut out, o, step);
                } else {
                    live.sub(o, step);
                }
                n -= step;
            }
        }
        push(&mut out, owner, hk.added);
        live.add(owner, hk.added);
    }
    for (o, n) in old {
        push(&mut out, o, u64::from(n));
    }
    out
}

/// `@@ -a[,b] +c[,d] @@…`.
fn parse_hunk(line: &[u8]) -> Option<Hunk> {
    let text = std::str::from_utf8(line.get(3..)?.split(|&b| b == b'@').next()?).ok()?;
    let mut it = text.split_whitespace();
    let old = it.next()?.strip_prefix('-')?;
    let new = it.next()?.strip_prefix('+')?;
    let range = |r: &str| -> Option<(u64, u64)> {
        match r.split_once(',') {
            Some((s, n)) => Some((s.parse().ok()?, n.parse().ok()?)),
            None => Some((r.parse().ok()?, 1)),
        }
    };
    let (start, removed) = range(old)?;
    let (_, added) = range(new)?;
    // `-a,0`: the insertion follows old line `a`.
    let at = if removed == 0 { start } else { start.saturating_sub(1) };
    Some(Hunk { at, removed, added })
}

/// The path of a `---` / `+++` line (`None` for `/dev/null`), unquoted as git quotes it.
fn diff_path(p: &[u8], prefix: &[u8]) -> Option<Vec<u8>> {
    let p = p.strip_suffix(b"\n").unwrap_or(p);
    let p = p.strip_suffix(b"\t").unwrap_or(p);
    if p == b"/dev/null" {
        return None;
    }
    let raw = if p.first() == Some(&b'"') { unquote(p)? } else { p.to_vec() };
    Some(raw.strip_prefix(prefix).map(<[u8]>::to_vec).unwrap_or(raw))
}

/// A C-style quoted name as git writes it (`"a/x\tb\303\251"`).
fn unquote(q: &[u8]) -> Option<Vec<u8>> {
    let inner = q.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    let mut out = Vec::with_capacity(inner.len());
    let mut it = inner.iter().copied();
    while let Some(b) = it.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let e = it.next()?;
        out.push(match e {
            b'a' => 7,
            b'b' => 8,
            b't' => b'\t',
            b'n' => b'\n',
            b'v' => 11,
            b'f' => 12,
            b'r' => b'\r',
            b'0'..=b'3' => {
                let (d1, d2) = (it.next()?, it.next()?);
                if !(b'0'..=b'7').contains(&d1) || !(b'0'..=b'7').contains(&d2) {
                    return None;
                }
                (e - b'0') * 64 + (d1 - b'0') * 8 + (d2 - b'0')
            }
            other => other,
        });
    }
    Some(out)
}

/// Read one line into `buf` (its first [`MAX_LINE`] bytes, the rest skipped); `false` at end.
fn read_capped(r: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    buf.clear();
    let mut any = false;
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(any);
        }
        any = true;
        let newline = chunk.iter().position(|&b| b == b'\n');
        let part = &chunk[..newline.unwrap_or(chunk.len())];
        let room = MAX_LINE.saturating_sub(buf.len());
        buf.extend_from_slice(&part[..part.len().min(room)]);
        let used = newline.map_or(chunk.len(), |i| i + 1);
        r.consume(used);
        if newline.is_some() {
            return Ok(true);
        }
    }
}

/// Who owns each line of `path` at `rev`, by `git blame --porcelain`.
fn blame_owners(git: &Git<'_>, h: &History, rev: &str, path: &[u8]) -> Result<Runs, Error> {
    let mut cmd = git.command();
    cmd.args(["blame", "--porcelain", "--no-textconv", rev, "--"])
        .arg(os_path(path))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().map_err(|e| git_error(h, format!("cannot run git: {e}")))?;
    let mut runs: Runs = Vec::new();
    if let Some(out) = child.stdout.take() {
        let mut r = BufReader::new(out);
        let mut line = Vec::new();
        let mut ids: HashMap<Vec<u8>, u32> = HashMap::new();
        while read_capped(&mut r, &mut line).map_err(|e| git_error(h, e.to_string()))? {
            // A group header: "<hash> <orig> <final> <n>"; content lines start with a tab.
            let mut it = line.split(|&b| b == b' ');
            let (Some(hash), Some(_), Some(_), Some(n)) =
                (it.next(), it.next(), it.next(), it.next())
            else {
                continue;
            };
            if !(hash.len() == 40 || hash.len() == 64) || !hash.iter().all(u8::is_ascii_hexdigit) {
                continue;
            }
            let Some(n) = std::str::from_utf8(n).ok().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let owner = *ids.entry(hash.to_vec()).or_insert_with(|| {
                std::str::from_utf8(hash)
                    .ok()
                    .and_then(|s| h.index.get(s))
                    .and_then(|&i| u32::try_from(i).ok())
                    .unwrap_or(UNKNOWN)
            });
            match runs.last_mut() {
                Some((o, len)) if *o == owner => *len = len.saturating_add(n),
                _ => runs.push((owner, n)),
            }
        }
    }
    let status = child.wait().map_err(|e| git_error(h, e.to_string()))?;
    if !status.success() {
        return Err(git_error(h, "git blame failed".to_owned()));
    }
    Ok(runs)
}
