//! Window normalisation (reference §7.4) and window deltas (§3.5): the latest snapshot per
//! (provider, phase), and per provider the before/after values, their deltas with the
//! reference's wrap rule, capture times, notes and errors, as `windows.jsonl` holds them.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::store::Row;

/// The fields whose delta a window records, per provider; other providers record none.
pub fn delta_fields(provider: &str) -> &'static [&'static str] {
    match provider {
        "codex" => &["fiveh_pct", "weekly_pct"],
        "claude" => &["session_pct", "all_models_pct"],
        _ => &[],
    }
}

/// A JSON number as Python keeps it: an integer stays an integer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
}

impl Num {
    /// A JSON number (booleans and everything else are not numbers here).
    pub fn of(v: &Value) -> Option<Num> {
        let Value::Number(n) = v else { return None };
        n.as_i64().map(Num::Int).or_else(|| n.as_f64().map(Num::Float))
    }

    fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    /// Whether it is below zero.
    pub fn is_negative(self) -> bool {
        self.as_f64() < 0.0
    }
}

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Num::Int(i) => s.serialize_i64(i),
            Num::Float(f) => s.serialize_f64(f),
        }
    }
}

/// The §3.5 delta: `None` when either side is missing or not a number; `after − before` when
/// `after ≥ before`; otherwise `(100 − before) + after` (the meter is taken to have reset).
/// Integers stay integers (checked arithmetic: an overflow is `None`).
pub fn window_delta(before: Option<Num>, after: Option<Num>) -> Option<Num> {
    let (b, a) = (before?, after?);
    match (b, a) {
        (Num::Int(b), Num::Int(a)) => {
            if a >= b {
                a.checked_sub(b).map(Num::Int)
            } else {
                100i64.checked_sub(b).and_then(|x| x.checked_add(a)).map(Num::Int)
            }
        }
        _ => {
            let (b, a) = (b.as_f64(), a.as_f64());
            Some(Num::Float(if a >= b { a - b } else { (100.0 - b) + a }))
        }
    }
}

/// A map serialised in the order of its entries (serde_json's `Map` would sort the keys).
#[derive(Debug, Clone, Default)]
pub struct Ordered<V>(pub Vec<(String, V)>);

impl<V: Serialize> Serialize for Ordered<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The latest before and after snapshot of one provider.
#[derive(Debug, Clone, Default)]
pub struct Phases<'a> {
    /// The latest `before` snapshot.
    pub before: Option<&'a Row>,
    /// The latest `after` snapshot.
    pub after: Option<&'a Row>,
}

/// Group sorted snapshots (§7.4): per provider (in order of first appearance), the latest
/// snapshot of each phase by `captured_at` string (ties keep the earlier row). Rows without
/// a provider or phase are left out.
pub fn group(snapshots: &[Row]) -> Vec<(String, Phases<'_>)> {
    let mut out: Vec<(String, Phases<'_>)> = Vec::new();
    for row in snapshots {
        let (Some(provider), Some(phase)) = (row.str("provider"), row.str("phase")) else {
            continue;
        };
        if provider.is_empty() || phase.is_empty() {
            continue;
        }
        let idx = match out.iter().position(|(p, _)| p == provider) {
            Some(i) => i,
            None => {
                out.push((provider.to_owned(), Phases::default()));
                out.len() - 1
            }
        };
        let slot = match phase {
            "before" => &mut out[idx].1.before,
            "after" => &mut out[idx].1.after,
            // Another phase still makes the provider known (and missing if it has no pair).
            _ => continue,
        };
        let newer = slot
            .is_none_or(|cur| row.str_or_empty("captured_at") > cur.str_or_empty("captured_at"));
        if newer {
            *slot = Some(row);
        }
    }
    out
}

/// The providers that lack a before or an after snapshot, sorted.
pub fn missing(groups: &[(String, Phases<'_>)]) -> Vec<String> {
    let mut out: Vec<String> = groups
        .iter()
        .filter(|(_, p)| p.before.is_none() || p.after.is_none())
        .map(|(name, _)| name.clone())
        .collect();
    out.sort();
    out
}

/// `captured_at {before, after}`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CapturedAt {
    /// The before snapshot's `captured_at`.
    pub before: Value,
    /// The after snapshot's `captured_at`.
    pub after: Value,
}

/// One provider's entry in a window row's `providers` (§7.4), keys in the reference's order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProviderSummary {
    /// The before snapshot's `parsed`, as written.
    pub before: Box<RawValue>,
    /// The after snapshot's `parsed`, as written.
    pub after: Box<RawValue>,
    /// Per field of [`delta_fields`], the §3.5 delta.
    pub delta: Ordered<Option<Num>>,
    /// When each side was captured.
    pub captured_at: CapturedAt,
    /// The non-empty notes of before, then after.
    pub notes: Vec<Value>,
    /// The before errors then the after errors, without repeats.
    pub errors: Vec<Value>,
}

impl ProviderSummary {
    /// The summary of `provider` from its before and after snapshots.
    pub fn new(provider: &str, before: &Row, after: &Row) -> ProviderSummary {
        let empty = || {
            serde_json::value::to_raw_value(&Map::new())
                .unwrap_or_else(|_| RawValue::NULL.to_owned())
        };
        let field = |row: &Row, f: &str| row.parsed().get(f).and_then(Num::of);
        let delta = delta_fields(provider)
            .iter()
            .map(|f| ((*f).to_owned(), window_delta(field(before, f), field(after, f))))
            .collect();
        let at = |row: &Row| row.value.get("captured_at").cloned().unwrap_or(Value::Null);
        let mut notes = Vec::new();
        for row in [before, after] {
            if let Some(n) = row.value.get("notes").filter(|n| crate::py::truthy(n)) {
                notes.push(n.clone());
            }
        }
        let mut errors: Vec<Value> = Vec::new();
        for row in [before, after] {
            if let Some(Value::Array(list)) = row.parsed().get("errors") {
                for e in list {
                    if !errors.contains(e) {
                        errors.push(e.clone());
                    }
                }
            }
        }
        ProviderSummary {
            before: before.parsed_raw().unwrap_or_else(empty),
            after: after.parsed_raw().unwrap_or_else(empty),
            delta: Ordered(delta),
            captured_at: CapturedAt { before: at(before), after: at(after) },
            notes,
            errors,
        }
    }

    /// The deltas below zero, if any (the anomaly guard's question).
    pub fn has_negative_delta(&self) -> bool {
        self.delta.0.iter().any(|(_, d)| d.is_some_and(Num::is_negative))
    }
}
