//! Per-session activity for the feature attribution: each session's repo (`cwd`), branch,
//! time window (first to last response) and its tokens and priced cost per model, folded from
//! the same cells the usage reports are built from (so a session is priced exactly as
//! `usage … session` prices it).

use std::collections::BTreeMap;

use super::scan::{Collected, QUARTER};

/// Tokens and priced cost of one model in a session.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ModelUse {
    /// Input + output + cache writes + cache reads.
    pub(crate) tokens: u64,
    /// USD of its priced responses.
    pub(crate) cost: f64,
    /// Responses no table priced.
    pub(crate) unpriced: u64,
}

/// One session as the attribution sees it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SessionActivity {
    pub(crate) id: String,
    pub(crate) cwd: Option<String>,
    pub(crate) branch: Option<String>,
    /// First activity (seconds since the epoch): the session's `created_at` when a session
    /// event said, else the start of the quarter-hour of its first response.
    pub(crate) first: i64,
    /// Last activity: its latest response or `last_active_at`, whichever is later.
    pub(crate) last: i64,
    /// Per model id.
    pub(crate) models: BTreeMap<String, ModelUse>,
    /// The model that answered most in each quarter-hour with responses (its start, seconds),
    /// ascending: the model active at a time.
    pub(crate) timeline: Vec<(i64, String)>,
}

impl SessionActivity {
    /// A session with no activity seen yet.
    fn empty(id: &str) -> Self {
        SessionActivity {
            id: id.to_owned(),
            cwd: None,
            branch: None,
            first: i64::MAX,
            last: i64::MIN,
            models: BTreeMap::new(),
            timeline: Vec::new(),
        }
    }

    /// The model active at `t`: the latest quarter-hour's at or before it, else the first.
    pub(crate) fn model_at(&self, t: i64) -> Option<&str> {
        let i = self.timeline.partition_point(|(q, _)| *q <= t);
        self.timeline.get(i.saturating_sub(1)).map(|(_, m)| m.as_str())
    }
}

/// The sessions of a scan, in id order; sessions without a response or a session event's
/// time are left out (they have no window).
pub(crate) fn fold(c: &Collected) -> Vec<SessionActivity> {
    let mut out: Vec<Option<SessionActivity>> = vec![None; c.sessions.len()];
    let mut first_cell: Vec<Option<i64>> = vec![None; c.sessions.len()];
    // (session, quarter-hour start) → (responses, model) of its busiest model; ordered, so
    // each timeline comes out ascending.
    let mut busiest: BTreeMap<(usize, i64), (u64, u32)> = BTreeMap::new();
    for (&(qh, s, m), cell) in &c.cells {
        let s = s as usize;
        let (Some(slot), Some(name), Some(model)) =
            (out.get_mut(s), c.sessions.get(s), c.models.get(m as usize))
        else {
            continue;
        };
        let act = slot.get_or_insert_with(|| SessionActivity::empty(name));
        act.last = act.last.max(cell.last);
        let start = i64::from(qh).saturating_mul(QUARTER);
        if let Some(f) = first_cell.get_mut(s) {
            *f = Some(f.map_or(start, |x| x.min(start)));
        }
        let u = act.models.entry(model.clone()).or_default();
        let t = cell.tokens;
        u.tokens = u
            .tokens
            .saturating_add(t.input)
            .saturating_add(t.output)
            .saturating_add(t.cache_write)
            .saturating_add(t.cache_read);
        u.cost += cell.cost;
        u.unpriced += cell.unpriced;
        // Most responses wins the quarter-hour; a tie goes to the smaller model id.
        let best = busiest.entry((s, start)).or_insert((0, m));
        let name_of = |i: u32| c.models.get(i as usize);
        if cell.responses > best.0 || (cell.responses == best.0 && name_of(m) < name_of(best.1)) {
            *best = (cell.responses, m);
        }
    }
    for ((s, start), (_, m)) in busiest {
        if let (Some(Some(act)), Some(model)) = (out.get_mut(s), c.models.get(m as usize)) {
            act.timeline.push((start, model.clone()));
        }
    }
    let mut sessions = Vec::new();
    for (i, slot) in out.into_iter().enumerate() {
        let meta = c.meta.get(i).cloned().unwrap_or_default();
        let mut act = match slot {
            Some(a) => a,
            None => match (meta.created, c.sessions.get(i)) {
                (Some(_), Some(name)) => SessionActivity::empty(name),
                _ => continue,
            },
        };
        act.first = meta
            .created
            .or(first_cell.get(i).copied().flatten())
            .unwrap_or(act.first)
            .min(if act.last == i64::MIN { i64::MAX } else { act.last });
        if let Some(l) = meta.last_active {
            act.last = act.last.max(l);
        }
        act.last = act.last.max(act.first);
        act.cwd = meta.cwd;
        act.branch = meta.branch;
        sessions.push(act);
    }
    sessions.sort_by(|a, b| a.id.cmp(&b.id));
    sessions
}
