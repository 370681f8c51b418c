//! A session's tokens and cost, per model, to the features it worked on: the features of the
//! commits it made (author time inside its window, on its branch — or reachable from the
//! default branch for a session on it), split by lines changed (added + removed; equal
//! shares when none changed a line); a session on a feature branch that committed nothing in
//! its window goes to that branch's features the same way. Status, shipped date, commit and
//! line counts, and the lines written with an agent (a `Co-Authored-By: …Claude…` trailer, or
//! authored inside a window of a session in the repository).

use std::collections::BTreeMap;

use super::git::{History, SessionBranch};
use super::identify::Identified;
use super::lineage::{ChurnTotals, Churned, Survival};
use super::{ChurnFigures, Feature, Status, Window};
use crate::usage::SessionActivity;

fn agent_trailer(k: &str, v: &str) -> bool {
    k.eq_ignore_ascii_case("co-authored-by") && v.to_ascii_lowercase().contains("claude")
}

fn rfc3339(t: i64) -> Option<String> {
    jiff::Timestamp::from_second(t).ok().map(|t| t.to_string())
}

/// The weights (feature → lines) of the commits `commits`.
fn weigh(h: &History, found: &Identified, commits: &[usize]) -> BTreeMap<usize, u64> {
    let mut w: BTreeMap<usize, u64> = BTreeMap::new();
    for &c in commits {
        if let Some(Some(f)) = found.claim.get(c)
            && found.drafts.get(*f).is_some_and(|d| !d.copies.contains(&c))
        {
            *w.entry(*f).or_default() += h.commits[c].changed();
        }
    }
    w
}

/// What the report asked for.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings<'a> {
    /// Keep features with a commit authored since (or a session's share).
    pub(crate) since: Option<i64>,
    /// The churn of the features' commits, when measured ([`churn_commits`]).
    pub(crate) churn: Option<&'a Survival>,
}

/// The commits whose churn a feature reports: its own commits on the default branch (not a
/// prototype's, not a branch shipped as squash or rebase copies).
pub(crate) fn churn_commits(found: &Identified) -> Vec<usize> {
    found
        .drafts
        .iter()
        .filter(|d| d.copies.is_empty() && !d.prototype)
        .flat_map(|d| d.commits.iter().copied())
        .collect()
}

/// Build the repository's features and add each session's attributed share to `attributed`.
pub(crate) fn attribute(
    h: &History,
    found: &Identified,
    windows: &[Window],
    sessions: &[SessionActivity],
    attributed: &mut [f64],
    settings: Settings<'_>,
    totals: &mut ChurnTotals,
) -> Vec<Feature> {
    let Settings { since, churn } = settings;
    let mut feats: Vec<Feature> = found
        .drafts
        .iter()
        .map(|d| {
            let mut f = Feature {
                id: d.id.clone(),
                rule: d.rule,
                status: Status::InProgress,
                shipped_at: None,
                repo: h.root.to_string(),
                sessions: 0,
                tokens: 0,
                cost_usd: 0.0,
                models: BTreeMap::new(),
                commits: d.commits.len() as u64,
                lines_added: 0,
                agent_lines_added: 0,
                churn: ChurnFigures::default(),
            };
            let mut model_churn: BTreeMap<String, Churned> = BTreeMap::new();
            let mut agent_churn = [Churned::default(); 3];
            let mut human_churn = [Churned::default(); 3];
            for &c in &d.commits {
                let commit = &h.commits[c];
                f.lines_added += commit.added;
                let window = windows.iter().find(|w| w.contains(commit.author_time));
                let agent =
                    window.is_some() || commit.trailers.iter().any(|(k, v)| agent_trailer(k, v));
                if agent {
                    f.agent_lines_added += commit.added;
                }
                if d.copies.is_empty()
                    && !d.prototype
                    && let Some(x) = churn.and_then(|s| s.get(&c))
                {
                    let (group, total) = if agent {
                        (&mut agent_churn, &mut totals.agent)
                    } else {
                        (&mut human_churn, &mut totals.human)
                    };
                    for ((g, t), x) in group.iter_mut().zip(total.iter_mut()).zip(x) {
                        g.add(*x);
                        t.add(*x);
                    }
                    // The model active in the session at commit time (14 days).
                    let model = window
                        .and_then(|w| sessions.get(w.session))
                        .and_then(|s| s.model_at(commit.author_time));
                    if let Some(m) = model {
                        model_churn.entry(m.to_owned()).or_default().add(x[1]);
                        totals.by_model.entry(m.to_owned()).or_default().add(x[1]);
                    }
                }
            }
            f.churn = ChurnFigures::new(&agent_churn, &human_churn, model_churn);
            let shipped_by = if d.copies.is_empty() { &d.commits } else { &d.copies };
            let reach: Option<Vec<i64>> =
                shipped_by.iter().map(|&c| h.reach[c].map(|r| r.at)).collect();
            if d.prototype {
                f.status = Status::Prototype;
            } else if let Some(at) = reach.and_then(|r| r.into_iter().max()) {
                f.status = Status::Shipped;
                f.shipped_at = rfc3339(at);
            }
            f
        })
        .collect();
    for w in windows {
        let s = &sessions[w.session];
        let kind = h.session_branch(w.branch.as_deref());
        let on_branch = match kind {
            SessionBranch::Feature(tip) => Some(h.branch_commits(tip)),
            _ => None,
        };
        let candidates: Vec<usize> = match (&on_branch, kind) {
            (Some(own), _) => {
                own.iter().copied().filter(|&c| w.contains(h.commits[c].author_time)).collect()
            }
            (None, SessionBranch::Default) => h
                .authored_in(w.from, w.to)
                .iter()
                .copied()
                .filter(|&c| h.reach[c].is_some())
                .collect(),
            (None, _) => Vec::new(),
        };
        let in_window: Vec<usize> =
            candidates.into_iter().filter(|&c| h.commits[c].parents.len() <= 1).collect();
        let mut weights = weigh(h, found, &in_window);
        if weights.is_empty()
            && let Some(own) = &on_branch
        {
            weights = weigh(h, found, own);
        }
        if weights.is_empty() {
            continue;
        }
        let total: u64 = weights.values().sum();
        let n = weights.len() as f64;
        for (f, lines) in weights {
            let share = if total == 0 { 1.0 / n } else { lines as f64 / total as f64 };
            let feat = &mut feats[f];
            feat.sessions += 1;
            super::add_share(s, share, &mut feat.models, &mut feat.cost_usd, &mut feat.tokens);
            attributed[w.session] += share;
        }
    }
    if let Some(since) = since {
        let recent = |d: &super::identify::Draft| {
            d.commits.iter().any(|&c| h.commits[c].author_time >= since)
        };
        let keep: Vec<bool> = found.drafts.iter().map(recent).collect();
        let mut i = 0;
        feats.retain(|f| {
            let k = keep[i] || f.sessions > 0;
            i += 1;
            k
        });
    }
    feats.sort_by(|a, b| a.id.cmp(&b.id).then(a.rule.cmp(&b.rule)));
    feats
}
