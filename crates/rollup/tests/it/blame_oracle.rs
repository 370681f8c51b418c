//! An independent measure of churn for linear histories, by `git blame` at each horizon (the
//! way `churn` measured before it became a forward pass): for each `xfeat` commit `C`, the lines
//! it added per file (`--numstat`, no rename detection), and at the last commit committed at
//! or before `C`'s time + `H` days, the lines `git blame` still attributes to `C`.

use std::collections::BTreeMap;
use std::process::Command;

use camino::Utf8Path;

fn git(repo: &Utf8Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo.as_str())
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap_or_else(|e| panic!("git: {e}"));
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn text(repo: &Utf8Path, args: &[&str]) -> String {
    String::from_utf8_lossy(&git(repo, args)).into_owned()
}

/// Per feature: lines added, and per horizon (days) the lines churned and whether the history
/// covers the horizon.
pub type Oracle = BTreeMap<String, (u64, Vec<(u32, u64, bool)>)>;

/// Lines `hash` added per file (paths as git printed them with `-z`).
fn added(repo: &Utf8Path, hash: &str) -> Vec<(String, u64)> {
    let out = git(repo, &["show", "--numstat", "--no-renames", "-z", "--format=", hash]);
    out.split(|b| *b == 0)
        .filter_map(|rec| {
            let rec = String::from_utf8_lossy(rec);
            let mut it = rec.trim_start_matches('\n').splitn(3, '\t');
            let n: u64 = it.next()?.parse().ok()?;
            it.next()?;
            Some((it.next()?.to_owned(), n))
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// Lines of `path` at `rev` that `git blame` attributes to `hash` (0 when the file is gone).
fn surviving(repo: &Utf8Path, rev: &str, path: &str, hash: &str) -> u64 {
    let tree = git(repo, &["ls-tree", "-r", "--name-only", "-z", rev]);
    if !tree.split(|b| *b == 0).any(|p| p == path.as_bytes()) {
        return 0;
    }
    let blame = text(repo, &["blame", "--porcelain", rev, "--", path]);
    blame
        .lines()
        .filter_map(|l| {
            let mut it = l.split(' ');
            let (h, _, _, n) = (it.next()?, it.next()?, it.next()?, it.next()?);
            (h == hash).then(|| n.parse::<u64>().ok()).flatten()
        })
        .sum()
}

/// The oracle's churn of every `xfeat` feature of `repo`'s `HEAD` at `horizons`.
pub fn blame_churn(repo: &Utf8Path, horizons: &[u32]) -> Oracle {
    let log = text(repo, &["log", "--no-merges", "--reverse", "--format=%H%x09%ct%x09%s", "HEAD"]);
    let commits: Vec<(String, i64, String)> = log
        .lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, '\t');
            Some((it.next()?.to_owned(), it.next()?.parse().ok()?, it.next()?.to_owned()))
        })
        .collect();
    let head_time = commits.iter().map(|c| c.1).max().unwrap_or(0);
    let mut out = Oracle::new();
    for (hash, time, subject) in &commits {
        let Some(feature) = subject.strip_prefix("xfeat::").and_then(|r| r.split("::").next())
        else {
            continue;
        };
        let files = added(repo, hash);
        let total: u64 = files.iter().map(|f| f.1).sum();
        let entry = out
            .entry(feature.to_owned())
            .or_insert_with(|| (0, horizons.iter().map(|d| (*d, 0, true)).collect()));
        entry.0 += total;
        for h in entry.1.iter_mut() {
            let until = time + i64::from(h.0) * 86_400;
            let rev = text(repo, &["rev-list", "-1", &format!("--before=@{until}"), "HEAD"]);
            let kept: u64 =
                files.iter().map(|(path, _)| surviving(repo, rev.trim(), path, hash)).sum();
            h.1 += total.saturating_sub(kept);
            h.2 &= until <= head_time;
        }
    }
    out
}
