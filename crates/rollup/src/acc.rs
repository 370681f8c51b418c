//! The partial aggregates of the rollup: what one worker accumulates from its chunks, merged
//! in input order, and serialisable so a checkpoint can carry it. Memory grows with sessions,
//! models, features and days, never with the number of events.

use agentos_event_schema::Timestamp;
use agentos_event_schema::v1::{FeatureStatus, OutcomeKind};
use serde::{Deserialize, Serialize};

use crate::sessions::Sessions;
use crate::summary::Row;
use crate::view::{self, Line};
use agentos_event_schema::provider::provider_of_turn;

/// The in-memory maps hash with rustc's Fx hasher: keys are ids and model names from local
/// files, SipHash's DoS resistance buys nothing here.
pub(crate) type HashMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// Neumaier-compensated sum: order-insensitive to the last few bits, so the two-worker merge
/// gives the same numbers as a sequential pass.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Sum {
    pub(crate) s: f64,
    pub(crate) c: f64,
}

impl Sum {
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.s + x;
        if self.s.abs() >= x.abs() {
            self.c += (self.s - t) + x;
        } else {
            self.c += (x - t) + self.s;
        }
        self.s = t;
    }
    pub(crate) fn merge(&mut self, o: Sum) {
        self.add(o.s);
        self.add(o.c);
    }
    pub(crate) fn get(self) -> f64 {
        self.s + self.c
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Mean {
    pub(crate) sum: Sum,
    pub(crate) n: u64,
}

impl Mean {
    pub(crate) fn add(&mut self, x: f64) {
        self.sum.add(x);
        self.n += 1;
    }
    pub(crate) fn merge(&mut self, o: Mean) {
        self.sum.merge(o.sum);
        self.n += o.n;
    }
    pub(crate) fn get(self) -> Option<f64> {
        (self.n > 0).then(|| self.sum.get() / self.n as f64)
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub(crate) struct RowAcc {
    pub(crate) turns: u64,
    pub(crate) tokens_in: u64,
    pub(crate) tokens_out: u64,
    pub(crate) cost: Sum,
    pub(crate) features: Sum,
    pub(crate) capacity: Sum,
}

impl RowAcc {
    pub(crate) fn merge(&mut self, o: &RowAcc) {
        self.turns += o.turns;
        self.tokens_in = self.tokens_in.saturating_add(o.tokens_in);
        self.tokens_out = self.tokens_out.saturating_add(o.tokens_out);
        self.cost.merge(o.cost);
        self.features.merge(o.features);
        self.capacity.merge(o.capacity);
    }
    pub(crate) fn row(&self) -> Row {
        let capacity = self.capacity.get();
        let features = self.features.get();
        Row {
            turns: self.turns,
            tokens_in: self.tokens_in,
            tokens_out: self.tokens_out,
            cost_usd: self.cost.get(),
            features,
            capacity_used: capacity,
            features_per_capacity: (capacity != 0.0).then(|| features / capacity),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub(crate) struct UsageAcc {
    pub(crate) turns: u64,
    pub(crate) tokens_in: u64,
    pub(crate) tokens_out: u64,
    pub(crate) cost: Sum,
}

impl UsageAcc {
    pub(crate) fn merge(&mut self, o: &UsageAcc) {
        self.turns += o.turns;
        self.tokens_in = self.tokens_in.saturating_add(o.tokens_in);
        self.tokens_out = self.tokens_out.saturating_add(o.tokens_out);
        self.cost.merge(o.cost);
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub(crate) struct AttrAcc {
    pub(crate) weight: Sum,
    pub(crate) features: Sum,
}

/// Position of a line in the input, for "latest status wins": file, generation (one per
/// checkpointed run, so bytes appended later come later), chunk, line in the chunk.
pub(crate) type Pos = (usize, u64, u64, u64);

/// A session's time in 8 bytes, to the microsecond (what every output of it keeps: rows,
/// days), or none (`i64::MIN`). Truncating first and taking the earliest after is the same
/// as the other way round, so the result equals a full-precision fold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct When(i64);

impl Default for When {
    fn default() -> When {
        When(i64::MIN)
    }
}

impl When {
    pub(crate) fn of(t: Option<jiff::Timestamp>) -> When {
        t.map_or_else(When::default, |t| When(t.as_microsecond().max(i64::MIN + 1)))
    }
    pub(crate) fn get(self) -> Option<jiff::Timestamp> {
        (self.0 != i64::MIN).then(|| jiff::Timestamp::from_microsecond(self.0).ok()).flatten()
    }
    /// Keep the earlier of this time and `t`.
    pub(crate) fn keep_earliest(&mut self, t: jiff::Timestamp) {
        let t = When::of(Some(t));
        if self.0 == i64::MIN || t.0 < self.0 {
            *self = t;
        }
    }
}

/// One session's state: 104 bytes (the per-session table holds one per session ever seen).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct SessAcc {
    pub(crate) row: RowAcc,
    pub(crate) created: When,
    pub(crate) first_seen: When,
    pub(crate) ended: bool,
    /// Turns of this session that carry no time: attributed to the session's day at the end.
    /// Whether a `session` event (non-empty id) was seen: only those count as sessions.
    pub(crate) announced: bool,
    /// Turns without a time (Python logs), boxed: most sessions have none.
    pub(crate) undated: Option<Box<Undated>>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Undated {
    pub(crate) row: RowAcc,
    pub(crate) capacity: HashMap<String, Sum>,
}

impl SessAcc {
    pub(crate) fn merge(&mut self, o: SessAcc) {
        self.row.merge(&o.row);
        if let Some(t) = o.created.get() {
            self.created.keep_earliest(t);
        }
        if let Some(t) = o.first_seen.get() {
            self.first_seen.keep_earliest(t);
        }
        self.ended |= o.ended;
        self.announced |= o.announced;
        if let Some(u) = o.undated {
            let mine = self.undated.get_or_insert_with(Box::default);
            mine.row.merge(&u.row);
            for (p, s) in u.capacity {
                mine.capacity.entry(p).or_default().merge(s);
            }
        }
    }
    pub(crate) fn start(&self) -> Option<jiff::Timestamp> {
        self.created.get().or(self.first_seen.get())
    }
}

/// A partial aggregate (one worker's share; merged at the end).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Acc {
    pub(crate) turns: u64,
    pub(crate) features_sum: Sum,
    pub(crate) capacity_sum: Sum,
    pub(crate) cls: Mean,
    pub(crate) impf: Mean,
    pub(crate) churn: Mean,
    pub(crate) attribution: HashMap<String, AttrAcc>,
    /// model → provider → usage.
    pub(crate) usage: HashMap<String, HashMap<String, UsageAcc>>,
    pub(crate) cost: Sum,
    pub(crate) features: HashMap<String, (Pos, FeatureStatus)>,
    pub(crate) outcomes: [u64; OutcomeKind::ALL.len()],
    pub(crate) period: Option<(jiff::Timestamp, jiff::Timestamp)>,
    /// In the checkpoint's binary section (`codec.rs`), not its JSON.
    #[serde(skip)]
    pub(crate) sessions: Sessions,
    /// UTC day number (days since the epoch) → totals of timed turns.
    pub(crate) days: HashMap<i64, RowAcc>,
    /// provider → day → capacity of timed turns.
    pub(crate) provider_days: HashMap<String, HashMap<i64, Sum>>,
    /// Day × model trend (no serde default: an older checkpoint without it is read anew).
    pub(crate) model_trend: crate::model_trend::ModelTrendAcc,
}

pub(crate) fn day_of(t: jiff::Timestamp) -> i64 {
    t.as_second().div_euclid(86_400)
}

pub(crate) fn day_name(day: i64) -> String {
    match Timestamp::from_unix_seconds(day.saturating_mul(86_400)) {
        Some(t) => t.utc_date(),
        None => "unknown".to_owned(),
    }
}

/// Largest magnitude a number added into the totals may have (the v1 limits' bound): sums of
/// values near `f64::MAX` overflow to ±inf or NaN, which JSON cannot hold.
pub const MAX_MAGNITUDE: f64 = agentos_event_schema::v1::limits::MAX_MAGNITUDE;

/// The v1 limits rule (`agentos_event_schema::v1::limits`), the one the recorder enforces at
/// write time: a turn with a number out of its range is skipped with a diagnostic.
pub(crate) fn check_magnitudes(t: &view::TurnLine<'_>, provider: &str) -> Result<(), String> {
    use agentos_event_schema::v1::limits::{
        CapacityUnit, MeasurementNumbers, TurnNumbers, check_turn_numbers,
    };
    check_turn_numbers(TurnNumbers {
        capacity_unit: CapacityUnit::of(provider, t.schema_version.is_some()),
        latency_ms: t.turn.latency_ms.0,
        capacity_used: t.turn.capacity_used.map(|c| c.0),
        attribution: t.turn.attribution.0.iter().map(|(k, w)| (k.as_ref(), *w)),
        measurement: t.measurement.as_ref().map(|m| MeasurementNumbers {
            cls: m.cls,
            impf: m.impf.0,
            churn_score: m.churn_score,
            feature_delta: m.feature_delta,
        }),
        estimated_usd: t.cost.as_ref().map(|c| c.estimated_usd.0),
    })
    .map_err(|v| format!("out of range: {v}"))
}

/// Get-or-insert without allocating the key when it is present (`None` cannot happen; it
/// keeps the code panic-free).
pub(crate) fn slot<'m, V: Default>(
    map: &'m mut HashMap<String, V>,
    key: &str,
) -> Option<&'m mut V> {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), V::default());
    }
    map.get_mut(key)
}

impl Acc {
    pub(crate) fn see_time(&mut self, t: jiff::Timestamp) {
        self.period = Some(match self.period {
            Some((a, b)) => (a.min(t), b.max(t)),
            None => (t, t),
        });
    }

    /// Add one accepted line; `Err` (nothing added) when a number is beyond [`MAX_MAGNITUDE`].
    pub(crate) fn apply(
        &mut self,
        line: Line<'_>,
        pos: Pos,
        session_filter: Option<&str>,
    ) -> Result<(), String> {
        match line {
            Line::Session(s) => {
                let id = s.session.session_id.as_ref();
                if session_filter.is_some_and(|f| f != id) {
                    return Ok(());
                }
                let created = s.session.created_at.0;
                self.see_time(created);
                if let Some(ts) = s.ts {
                    self.see_time(ts.0);
                }
                if let Some(sess) = self.sessions.slot(id) {
                    sess.created.keep_earliest(created);
                    sess.announced |= !id.is_empty();
                }
            }
            Line::End(e) => {
                let id = e.session_id.as_ref();
                if session_filter.is_some_and(|f| f != id) {
                    return Ok(());
                }
                self.see_time(e.ended_at.0);
                if let Some(ts) = e.ts {
                    self.see_time(ts.0);
                }
                if let Some(sess) = self.sessions.slot(id) {
                    sess.ended = true;
                    let at = e.ts.map_or(e.ended_at.0, |t| t.0);
                    sess.first_seen.keep_earliest(at);
                }
            }
            Line::Turn(t) => {
                // Billed to: decided once per turn, for the limits rule and the usage table.
                let provider =
                    provider_of_turn(&t.turn.model, t.cost.as_ref().map(|c| c.provider.as_ref()));
                check_magnitudes(&t, provider)?;
                self.apply_turn(&t, provider, pos, session_filter);
            }
            Line::Unknown => {}
        }
        Ok(())
    }

    fn apply_turn(
        &mut self,
        t: &view::TurnLine<'_>,
        provider: &str,
        pos: Pos,
        session_filter: Option<&str>,
    ) {
        let turn = &t.turn;
        if session_filter.is_some_and(|f| f != turn.session_id.as_ref()) {
            return;
        }
        // A correction (`revises`) adds tokens to a turn already counted, not a turn.
        let counted = u64::from(turn.revises.is_none());
        self.turns += counted;
        let mut feature_delta = 0.0;
        if let Some(m) = &t.measurement {
            self.cls.add(m.cls);
            self.impf.add(m.impf.0);
            self.churn.add(m.churn_score);
            self.features_sum.add(m.feature_delta);
            feature_delta = m.feature_delta;
        }
        let capacity = turn.capacity_used.map(|c| c.0);
        if let Some(c) = capacity {
            self.capacity_sum.add(c);
        }
        for (model, w) in &turn.attribution.0 {
            if let Some(a) = slot(&mut self.attribution, model) {
                a.weight.add(*w);
                a.features.add(*w * feature_delta);
            }
        }
        let cost_usd = t.cost.as_ref().map_or(0.0, |c| c.estimated_usd.0);
        if let Some(u) = slot(&mut self.usage, &turn.model).and_then(|m| slot(m, provider)) {
            u.turns += counted;
            u.tokens_in = u.tokens_in.saturating_add(turn.tokens_in);
            u.tokens_out = u.tokens_out.saturating_add(turn.tokens_out);
            u.cost.add(cost_usd);
        }
        self.cost.add(cost_usd);
        self.model_trend.add(t, cost_usd, counted);
        if let Some(f) = &t.feature {
            let id = f.feature_id.as_ref();
            match self.features.get_mut(id) {
                Some(cur) if cur.0 < pos => *cur = (pos, f.status),
                Some(_) => {}
                None => {
                    self.features.insert(id.to_owned(), (pos, f.status));
                }
            }
        }
        if let Some(o) = &t.outcome
            && let Some(i) = OutcomeKind::ALL.iter().position(|k| k == o.kind.counted_as())
            && let Some(n) = self.outcomes.get_mut(i)
        {
            *n = n.saturating_add(o.count);
        }
        let mut row = RowAcc {
            turns: 1,
            tokens_in: turn.tokens_in,
            tokens_out: turn.tokens_out,
            ..RowAcc::default()
        };
        row.cost.add(cost_usd);
        row.features.add(feature_delta);
        if let Some(c) = capacity {
            row.capacity.add(c);
        }
        if let Some(ts) = t.ts {
            self.see_time(ts.0);
            let day = day_of(ts.0);
            self.days.entry(day).or_default().merge(&row);
            if let Some(c) = capacity
                && let Some(p) = slot(&mut self.provider_days, provider)
            {
                p.entry(day).or_default().add(c);
            }
        }
        let Some(sess) = self.sessions.slot(&turn.session_id) else { return };
        sess.row.merge(&row);
        match t.ts {
            Some(ts) => sess.first_seen.keep_earliest(ts.0),
            None => {
                let u = sess.undated.get_or_insert_with(Box::default);
                u.row.merge(&row);
                if let Some(c) = capacity
                    && let Some(s) = slot(&mut u.capacity, provider)
                {
                    s.add(c);
                }
            }
        }
    }

    pub(crate) fn merge(&mut self, o: Acc) {
        self.turns += o.turns;
        self.features_sum.merge(o.features_sum);
        self.capacity_sum.merge(o.capacity_sum);
        self.cls.merge(o.cls);
        self.impf.merge(o.impf);
        self.churn.merge(o.churn);
        for (k, a) in o.attribution {
            let s = self.attribution.entry(k).or_default();
            s.weight.merge(a.weight);
            s.features.merge(a.features);
        }
        for (m, providers) in o.usage {
            let mine = self.usage.entry(m).or_default();
            for (p, u) in providers {
                mine.entry(p).or_default().merge(&u);
            }
        }
        self.cost.merge(o.cost);
        for (id, (pos, status)) in o.features {
            match self.features.get_mut(&id) {
                Some(cur) if cur.0 < pos => *cur = (pos, status),
                Some(_) => {}
                None => {
                    self.features.insert(id, (pos, status));
                }
            }
        }
        for (a, b) in self.outcomes.iter_mut().zip(o.outcomes) {
            *a = a.saturating_add(b);
        }
        if let Some((a, b)) = o.period {
            self.see_time(a);
            self.see_time(b);
        }
        self.sessions.merge(o.sessions);
        for (d, r) in o.days {
            self.days.entry(d).or_default().merge(&r);
        }
        for (p, days) in o.provider_days {
            let mine = self.provider_days.entry(p).or_default();
            for (d, s) in days {
                mine.entry(d).or_default().merge(s);
            }
        }
        self.model_trend.merge(o.model_trend);
    }
}
