//! Cost per shipped feature, by model: agent sessions joined to the git history they
//! produced (`docs/features.md` defines every rule and number).
//!
//! [`features_report`] reads the sessions of `events.jsonl` (repo = the git work tree of the
//! session's `cwd`, branch, window from first to last response) with their per-model tokens
//! and cost priced exactly as `usage` prices them, reads each repository's history
//! ([`git`](self) hardened as `churn` is), identifies features (rules 1–4, `identify`),
//! decides shipped / in progress / prototype with the shipped date, and attributes each
//! session's cost to the features it worked on, split by lines changed (`attribute`); what
//! cannot be tied to a feature is reported as unattributed, never dropped.

mod attribute;
pub(crate) mod git;
pub(crate) mod identify;
pub(crate) mod lineage;

use std::collections::BTreeMap;

use agentos_event_schema::Timestamp;
use agentos_event_schema::v1::GitFeatures;
use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use crate::Diagnostic;
use crate::usage::{PriceBook, SessionActivity, UsageError, session_activity};

/// Default grace around a session's window (seconds): commits this long after the last
/// response (or before the first) still count as the session's.
pub const DEFAULT_GRACE_SECS: i64 = 30 * 60;

/// Which rule identified a feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Rule {
    /// An `xfeat::<id>::<window>::<stage>` commit subject.
    Xfeat,
    /// An `xproto::<id>::…` commit subject (a prototype).
    Xproto,
    /// A `Feature: <id>` commit trailer.
    Trailer,
    /// The branch a session worked on.
    Branch,
    /// A conventional-commit scope on the default branch inside a session's window.
    Scope,
    /// One commit on the default branch inside a session's window, without a scope.
    Commit,
}

/// Where a feature stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// All its commits are reachable from the default branch (or its branch was squashed in).
    Shipped,
    /// Some of its commits are not (yet) on the default branch.
    InProgress,
    /// `xproto::` work: never shipped.
    Prototype,
}

/// A model's share of a feature.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ModelCost {
    /// USD (priced responses only).
    pub cost_usd: f64,
    /// Input + output + cache writes + cache reads.
    pub tokens: u64,
}

/// One feature.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Feature {
    /// Its id (the tag's feature id, the trailer, the branch, the scope or a short hash).
    pub id: String,
    /// The rule that identified it.
    pub rule: Rule,
    /// Shipped, in progress or prototype.
    pub status: Status,
    /// When it became reachable from the default branch (RFC 3339, UTC).
    pub shipped_at: Option<String>,
    /// The repository's top directory.
    pub repo: String,
    /// Sessions whose cost it received a share of.
    pub sessions: u64,
    /// Tokens attributed.
    pub tokens: u64,
    /// USD attributed.
    pub cost_usd: f64,
    /// Per model id.
    pub models: BTreeMap<String, ModelCost>,
    /// Its commits (merge commits and a squash commit not counted).
    pub commits: u64,
    /// Lines its commits added.
    pub lines_added: u64,
    /// Of those, lines in commits written with an agent.
    pub agent_lines_added: u64,
    /// Churn of its lines, agent- and human-written.
    #[serde(flatten)]
    pub churn: ChurnFigures,
}

/// A feature's churn: the share of the lines its commits added that were deleted or rewritten
/// on the default branch within 7, 14 and 28 days of reaching it, agent- and human-written
/// apart; `null` when a group added nothing, for a squash- or rebase-merged branch, a
/// prototype, or when churn was not measured ([`FeaturesOptions::churn`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ChurnFigures {
    /// Agent-written lines, 7 days.
    pub churn_7d_agent: Option<f64>,
    /// Human-written lines, 7 days.
    pub churn_7d_human: Option<f64>,
    /// Agent-written lines, 14 days.
    pub churn_14d_agent: Option<f64>,
    /// Human-written lines, 14 days.
    pub churn_14d_human: Option<f64>,
    /// Agent-written lines, 28 days.
    pub churn_28d_agent: Option<f64>,
    /// Human-written lines, 28 days.
    pub churn_28d_human: Option<f64>,
    /// Agent-written churn at 14 days per model active in the session at commit time
    /// (commits inside a session's window).
    pub churn_14d_agent_by_model: BTreeMap<String, f64>,
    /// A horizon had not passed yet at the default branch's newest commit: a figure may grow.
    pub churn_provisional: bool,
}

impl ChurnFigures {
    pub(crate) fn new(
        agent: &[lineage::Churned; 3],
        human: &[lineage::Churned; 3],
        by_model: BTreeMap<String, lineage::Churned>,
    ) -> Self {
        ChurnFigures {
            churn_7d_agent: agent[0].score(),
            churn_7d_human: human[0].score(),
            churn_14d_agent: agent[1].score(),
            churn_14d_human: human[1].score(),
            churn_28d_agent: agent[2].score(),
            churn_28d_human: human[2].score(),
            churn_14d_agent_by_model: by_model
                .into_iter()
                .filter_map(|(m, x)| Some((m, x.score()?)))
                .collect(),
            churn_provisional: agent.iter().chain(human).any(|x| x.added > 0 && x.provisional),
        }
    }
}

impl FeaturesReport {
    /// The aggregate figures `metrics_summary.json` carries (`git_features`).
    pub fn summary(&self, computed_at: Timestamp) -> GitFeatures {
        let count = |s: Status| self.features.iter().filter(|f| f.status == s).count() as u64;
        GitFeatures {
            computed_at,
            repos: self.repos.iter().filter(|r| r.status == "ok").count() as u64,
            shipped: count(Status::Shipped),
            in_progress: count(Status::InProgress),
            prototype: count(Status::Prototype),
            attributed_cost_usd: self.features.iter().map(|f| f.cost_usd).sum(),
            unattributed_cost_usd: self.unattributed_cost_usd,
            cost_per_shipped_feature_usd: self.cost_per_shipped_feature_usd,
            per_model: self.per_model.clone(),
            lines_added: self.features.iter().map(|f| f.lines_added).sum(),
            agent_lines_added: self.features.iter().map(|f| f.agent_lines_added).sum(),
            churn_14d_agent: self.churn.churn_14d_agent,
            churn_14d_human: self.churn.churn_14d_human,
            churn_14d_agent_by_model: self.churn.churn_14d_agent_by_model.clone(),
        }
    }
}

/// What happened to a repository.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RepoEntry {
    /// The path (a session's `cwd` or a `--repo`).
    pub path: String,
    /// `ok`, `missing` (the directory is gone or moved) or `unreadable` (not a work tree, or
    /// git refused it, e.g. `safe.directory`).
    pub status: &'static str,
    /// Why, when not `ok` (git's message).
    pub message: Option<String>,
}

/// The report.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FeaturesReport {
    /// Features, by repository then id.
    pub features: Vec<Feature>,
    /// The repositories read or listed.
    pub repos: Vec<RepoEntry>,
    /// Cost of sessions (or shares of sessions) tied to no feature.
    pub unattributed_cost_usd: f64,
    /// Their tokens.
    pub unattributed_tokens: u64,
    /// Per model id.
    pub unattributed_models: BTreeMap<String, ModelCost>,
    /// Σ cost of shipped features / their number; `null` when none shipped.
    pub cost_per_shipped_feature_usd: Option<f64>,
    /// Per model: Σ its cost in shipped features / the number of shipped features it worked on.
    pub per_model: BTreeMap<String, f64>,
    /// Churn over every feature's lines (per model: agent-written lines at 14 days).
    #[serde(flatten)]
    pub churn: ChurnFigures,
    /// Models with responses no price table prices: their cost is missing from every figure
    /// above (counted as $0), their tokens are not.
    pub unpriced_models: Vec<String>,
    /// Skipped input lines.
    #[serde(skip)]
    pub diagnostics: Vec<Diagnostic>,
}

/// What to report.
#[derive(Clone, Debug, Default)]
pub struct FeaturesOptions {
    /// Repositories to read; empty: the work trees of the sessions' `cwd`s.
    pub repos: Vec<Utf8PathBuf>,
    /// Only sessions active on or after this day (UTC, `YYYY-MM-DD`), and features with a
    /// commit or a session since.
    pub since: Option<String>,
    /// Grace around a session's window, seconds.
    pub grace_secs: i64,
    /// The data dir whose usage cache to use (as `usage_report`).
    pub cache_dir: Option<Utf8PathBuf>,
    /// Measure churn ([`ChurnFigures`]: one `git log -p` of the default branch plus one
    /// `git blame` per file a merge changed); off: every churn figure `null`.
    pub churn: bool,
}

impl FeaturesOptions {
    /// Defaults: sessions' repos, no date filter, [`DEFAULT_GRACE_SECS`], churn measured.
    pub fn new() -> Self {
        FeaturesOptions {
            grace_secs: DEFAULT_GRACE_SECS,
            churn: true,
            ..FeaturesOptions::default()
        }
    }
}

/// Add `share` of session `s`'s tokens and cost, per model, to `models` and the totals.
pub(crate) fn add_share(
    s: &SessionActivity,
    share: f64,
    models: &mut BTreeMap<String, ModelCost>,
    cost_usd: &mut f64,
    tokens: &mut u64,
) {
    for (model, u) in &s.models {
        let t = (u.tokens as f64 * share).round() as u64;
        let m = models.entry(model.clone()).or_default();
        m.cost_usd += u.cost * share;
        m.tokens += t;
        *cost_usd += u.cost * share;
        *tokens += t;
    }
}

/// A session's window in a repository, grace included.
#[derive(Clone, Debug)]
pub(crate) struct Window {
    pub(crate) session: usize,
    pub(crate) branch: Option<String>,
    pub(crate) from: i64,
    pub(crate) to: i64,
}

impl Window {
    pub(crate) fn contains(&self, t: i64) -> bool {
        (self.from..=self.to).contains(&t)
    }
}

fn since_secs(since: Option<&str>) -> Result<Option<i64>, UsageError> {
    let Some(text) = since else { return Ok(None) };
    let t = text.trim();
    let dashed = if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}-{}", &t[..4], &t[4..6], &t[6..])
    } else {
        t.to_owned()
    };
    let date: jiff::civil::Date = dashed.parse().map_err(|e: jiff::Error| UsageError::Date {
        value: text.to_owned(),
        message: e.to_string(),
    })?;
    let ts = date
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|e| UsageError::Date { value: text.to_owned(), message: e.to_string() })?;
    Ok(Some(ts.timestamp().as_second()))
}

/// The named repository (a work tree's top) that `cwd` is in, by path: a session in a
/// directory that is gone still belongs to the repository it was in.
fn tops_of(cwd: &str, wanted: &[Utf8PathBuf]) -> Option<Utf8PathBuf> {
    let cwd = Utf8Path::new(cwd);
    if cwd.is_dir()
        && let Ok(top) = git::toplevel(cwd)
        && wanted.contains(&top)
    {
        return Some(top);
    }
    wanted.iter().filter(|w| cwd.starts_with(w)).max_by_key(|w| w.as_str().len()).cloned()
}

/// The feature report of `files` (sessions) and their repositories.
pub fn features_report(
    files: &[Utf8PathBuf],
    prices: &PriceBook,
    opts: &FeaturesOptions,
) -> Result<FeaturesReport, UsageError> {
    let since = since_secs(opts.since.as_deref())?;
    let (mut sessions, diagnostics) = session_activity(files, prices, opts.cache_dir.as_deref())?;
    if let Some(s) = since {
        sessions.retain(|a| a.last >= s);
    }
    // Each distinct cwd → its work tree (or why not).
    let mut repos: Vec<RepoEntry> = Vec::new();
    let mut tops: BTreeMap<String, Option<Utf8PathBuf>> = BTreeMap::new();
    let mut resolve = |path: &str, repos: &mut Vec<RepoEntry>| -> Option<Utf8PathBuf> {
        if let Some(t) = tops.get(path) {
            return t.clone();
        }
        let p = Utf8Path::new(path);
        let top = if !p.is_dir() {
            repos.push(RepoEntry { path: path.to_owned(), status: "missing", message: None });
            None
        } else {
            match git::toplevel(p) {
                Ok(t) => Some(t),
                Err(e) => {
                    let message = match e {
                        crate::Error::Git { message, .. } => message,
                        other => other.to_string(),
                    };
                    repos.push(RepoEntry {
                        path: path.to_owned(),
                        status: "unreadable",
                        message: Some(message),
                    });
                    None
                }
            }
        };
        tops.insert(path.to_owned(), top.clone());
        top
    };
    let wanted: Vec<Utf8PathBuf> =
        opts.repos.iter().filter_map(|r| resolve(r.as_str(), &mut repos)).collect();
    let mut by_repo: BTreeMap<Utf8PathBuf, Vec<usize>> = BTreeMap::new();
    // With `repos` named, sessions elsewhere are not part of the report (not unattributed).
    let mut elsewhere = vec![false; sessions.len()];
    let mut named: BTreeMap<&str, Option<Utf8PathBuf>> = BTreeMap::new();
    for (i, s) in sessions.iter().enumerate() {
        let top = if opts.repos.is_empty() {
            s.cwd.as_deref().and_then(|cwd| resolve(cwd, &mut repos))
        } else {
            let top = s
                .cwd
                .as_deref()
                .and_then(|cwd| named.entry(cwd).or_insert_with(|| tops_of(cwd, &wanted)).clone());
            elsewhere[i] = top.is_none();
            top
        };
        if let Some(top) = top {
            by_repo.entry(top).or_default().push(i);
        }
    }
    for w in wanted {
        by_repo.entry(w).or_default();
    }
    let mut report = FeaturesReport { diagnostics, ..FeaturesReport::default() };
    let mut attributed = vec![0.0f64; sessions.len()];
    let mut churn_totals = lineage::ChurnTotals::default();
    for (root, idx) in by_repo {
        let history = match git::read(&root) {
            Ok(h) => h,
            Err(e) => {
                let message = match e {
                    crate::Error::Git { message, .. } => message,
                    other => other.to_string(),
                };
                repos.push(RepoEntry {
                    path: root.to_string(),
                    status: "unreadable",
                    message: Some(message),
                });
                continue;
            }
        };
        let mut entry = RepoEntry { path: root.to_string(), status: "ok", message: None };
        let windows: Vec<Window> = idx
            .iter()
            .map(|&i| {
                let s = &sessions[i];
                Window {
                    session: i,
                    branch: s.branch.clone(),
                    from: s.first.saturating_sub(opts.grace_secs),
                    to: s.last.saturating_add(opts.grace_secs),
                }
            })
            .collect();
        let found = identify::identify(&history, &windows);
        let survival = if opts.churn {
            match lineage::survival(
                &history,
                &attribute::churn_commits(&found),
                &lineage::HORIZON_DAYS,
            ) {
                Ok(s) => Some(s),
                Err(e) => {
                    entry.message = Some(format!("churn not measured: {e}"));
                    None
                }
            }
        } else {
            None
        };
        repos.push(entry);
        let feats = attribute::attribute(
            &history,
            &found,
            &windows,
            &sessions,
            &mut attributed,
            attribute::Settings { since, churn: survival.as_ref() },
            &mut churn_totals,
        );
        report.features.extend(feats);
    }
    // What no feature received.
    for (i, s) in sessions.iter().enumerate() {
        if elsewhere[i] {
            continue;
        }
        let share = 1.0 - attributed[i];
        if share <= 1e-9 {
            continue;
        }
        add_share(
            s,
            share,
            &mut report.unattributed_models,
            &mut report.unattributed_cost_usd,
            &mut report.unattributed_tokens,
        );
    }
    report.churn =
        ChurnFigures::new(&churn_totals.agent, &churn_totals.human, churn_totals.by_model);
    let mut unpriced: Vec<String> = sessions
        .iter()
        .enumerate()
        .filter(|(i, _)| !elsewhere[*i])
        .flat_map(|(_, s)| s.models.iter().filter(|(_, u)| u.unpriced > 0).map(|(m, _)| m.clone()))
        .collect();
    unpriced.sort_unstable();
    unpriced.dedup();
    report.unpriced_models = unpriced;
    let shipped: Vec<&Feature> =
        report.features.iter().filter(|f| f.status == Status::Shipped).collect();
    if !shipped.is_empty() {
        let total: f64 = shipped.iter().map(|f| f.cost_usd).sum();
        report.cost_per_shipped_feature_usd = Some(total / shipped.len() as f64);
        let mut per: BTreeMap<String, (f64, u64)> = BTreeMap::new();
        for f in &shipped {
            for (m, c) in &f.models {
                let e = per.entry(m.clone()).or_default();
                e.0 += c.cost_usd;
                e.1 += 1;
            }
        }
        report.per_model = per.into_iter().map(|(m, (c, n))| (m, c / n as f64)).collect();
    }
    repos.sort_by(|a, b| a.path.cmp(&b.path));
    repos.dedup_by(|a, b| a.path == b.path);
    report.repos = repos;
    Ok(report)
}
