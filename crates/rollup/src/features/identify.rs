//! Which commits form which feature, by the rules of `docs/features.md`, in order: (1) an
//! `xfeat::<id>::…` / `xproto::<id>::…` subject, (2) a `Feature: <id>` trailer, (3) the
//! branch a session worked on (its commits not on the default branch before it was merged),
//! (4) on the default branch, the commits inside a session's window, by conventional-commit
//! scope (`feat(login): …` → `login`) or, without a scope, one feature per commit. A commit
//! belongs to the first rule that claims it; merge commits belong to none.

use std::collections::HashMap;

use super::git::{History, SessionBranch};
use super::{Rule, Window};
use crate::churn::{Tag, parse_tag};

/// A feature as identified, before attribution.
#[derive(Clone, Debug)]
pub(crate) struct Draft {
    pub(crate) id: String,
    pub(crate) rule: Rule,
    pub(crate) prototype: bool,
    /// Commit indices.
    pub(crate) commits: Vec<usize>,
    /// Default-branch commits that shipped the feature's unmerged branch as copies (a squash
    /// commit, or a rebase merge's commits): they date the shipping, their lines are not
    /// counted again.
    pub(crate) copies: Vec<usize>,
}

/// Features of a repository and the feature (index into the drafts) of each commit.
#[derive(Debug, Default)]
pub(crate) struct Identified {
    pub(crate) drafts: Vec<Draft>,
    pub(crate) claim: Vec<Option<usize>>,
}

impl Identified {
    fn add(&mut self, key: &mut HashMap<(Rule, String), usize>, id: &str, rule: Rule) -> usize {
        *key.entry((rule, id.to_owned())).or_insert_with(|| {
            self.drafts.push(Draft {
                id: id.to_owned(),
                rule,
                prototype: false,
                commits: Vec::new(),
                copies: Vec::new(),
            });
            self.drafts.len() - 1
        })
    }

    fn claim(&mut self, commit: usize, feature: usize) {
        if let Some(slot) = self.claim.get_mut(commit)
            && slot.is_none()
        {
            *slot = Some(feature);
            if let Some(d) = self.drafts.get_mut(feature) {
                d.commits.push(commit);
            }
        }
    }
}

/// The prototype id of an `xproto::<id>::…` subject (`xproto` alone: `prototype`).
fn proto_id(subject: &str) -> Option<String> {
    let rest = subject.trim_start().strip_prefix("xproto::")?;
    let id = rest.split("::").next().unwrap_or("").split_whitespace().next().unwrap_or("");
    Some(if id.is_empty() { "prototype".to_owned() } else { id.to_owned() })
}

/// The scope of a conventional-commit subject: `feat(login)!: …` → `login`.
pub(crate) fn conventional_scope(subject: &str) -> Option<&str> {
    let s = subject.trim_start();
    let open = s.find('(')?;
    let kind = &s[..open];
    if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return None;
    }
    let close = open + s[open..].find(')')?;
    let scope = s[open + 1..close].trim();
    let after = s[close + 1..].strip_prefix('!').unwrap_or(&s[close + 1..]);
    (after.starts_with(':') && !scope.is_empty()).then_some(scope)
}

/// Apply the rules to a repository's history and the windows of its sessions.
pub(crate) fn identify(h: &History, windows: &[Window]) -> Identified {
    let mut out = Identified { drafts: Vec::new(), claim: vec![None; h.commits.len()] };
    let mut key: HashMap<(Rule, String), usize> = HashMap::new();
    // Rules 1 and 2, per commit, oldest first.
    for i in (0..h.commits.len()).rev() {
        let c = &h.commits[i];
        if c.parents.len() > 1 {
            continue;
        }
        if let Tag::Feature { feature, .. } = parse_tag(&c.subject) {
            let f = out.add(&mut key, &feature, Rule::Xfeat);
            out.claim(i, f);
        } else if let Some(id) = proto_id(&c.subject) {
            let f = out.add(&mut key, &id, Rule::Xproto);
            out.drafts[f].prototype = true;
            out.claim(i, f);
        } else if let Some((_, id)) =
            c.trailers.iter().find(|(k, v)| k.eq_ignore_ascii_case("feature") && !v.is_empty())
        {
            let f = out.add(&mut key, id, Rule::Trailer);
            out.claim(i, f);
        }
    }
    // Rule 3: the sessions' branches.
    let mut branches: Vec<(&str, usize)> = windows
        .iter()
        .filter_map(|w| {
            let b = w.branch.as_deref()?;
            match h.session_branch(Some(b)) {
                SessionBranch::Feature(tip) => Some((b, tip)),
                _ => None,
            }
        })
        .collect();
    branches.sort_unstable();
    branches.dedup();
    for (b, tip) in branches {
        let own = h.branch_commits(tip);
        let free: Vec<usize> = own
            .iter()
            .copied()
            .filter(|&c| h.commits[c].parents.len() <= 1 && out.claim[c].is_none())
            .collect();
        if free.is_empty() {
            continue;
        }
        let f = out.add(&mut key, b, Rule::Branch);
        for c in free.into_iter().rev() {
            out.claim(c, f);
        }
        // Not merged: maybe squashed or rebased into the default branch.
        if h.reach[tip].is_none()
            && let Some(base) = h.merge_base(&h.commits[tip].hash)
        {
            let copies: Vec<usize> = h
                .copies_of(&base, &h.commits[tip].hash)
                .into_iter()
                .filter(|&c| out.claim[c].is_none())
                .collect();
            for &c in &copies {
                out.claim[c] = Some(f);
            }
            out.drafts[f].copies = copies;
        }
    }
    // Rule 4: default-branch sessions' windows.
    for w in
        windows.iter().filter(|w| h.session_branch(w.branch.as_deref()) == SessionBranch::Default)
    {
        for &i in h.authored_in(w.from, w.to) {
            let c = &h.commits[i];
            if out.claim[i].is_some() || c.parents.len() > 1 || h.reach[i].is_none() {
                continue;
            }
            let f = match conventional_scope(&c.subject) {
                Some(scope) => out.add(&mut key, scope, Rule::Scope),
                None => out.add(&mut key, c.hash.get(..12).unwrap_or(&c.hash), Rule::Commit),
            };
            out.claim(i, f);
        }
    }
    out
}
