//! The per-session table: every session's [`SessAcc`], dense in one vector, its id kept once
//! in a text arena, and a hash table of indices (a few bytes a slot) to find it. A
//! `HashMap<String, SessAcc>` costs a whole entry per slot, at most half of them full after
//! growing, plus an allocation per id: ~650 bytes a session, against ~150 here.
//!
//! Insertion order is kept (removal swaps the last session in), so iteration is
//! deterministic. An id is found by its text: the count of sessions is exact, never a hash's.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use crate::acc::SessAcc;

/// Sessions by id.
#[derive(Clone, Default)]
pub(crate) struct Sessions {
    /// Indices into `accs` / `spans`, hashed by id.
    index: HashTable<u32>,
    /// Every id's text, one after the other (a removed session's text stays, unused).
    arena: String,
    /// Where each session's id lies in `arena`: start, length.
    spans: Vec<(u32, u32)>,
    accs: Vec<SessAcc>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

fn hash(id: &str) -> u64 {
    FxBuildHasher.hash_one(id)
}

impl Sessions {
    /// Room for `n` sessions.
    pub(crate) fn with_capacity(n: usize) -> Sessions {
        Sessions {
            index: HashTable::with_capacity(n),
            arena: String::new(),
            spans: Vec::with_capacity(n),
            accs: Vec::with_capacity(n),
        }
    }

    /// How many sessions.
    pub(crate) fn len(&self) -> usize {
        self.accs.len()
    }

    fn id(&self, i: usize) -> &str {
        let Some(&(start, len)) = self.spans.get(i) else { return "" };
        let (start, len) = (start as usize, len as usize);
        self.arena.get(start..start + len).unwrap_or("")
    }

    fn find(&self, id: &str) -> Option<usize> {
        let (spans, arena) = (&self.spans, &self.arena);
        let same = |i: &u32| {
            spans
                .get(*i as usize)
                .is_some_and(|&(s, l)| arena.get(s as usize..s as usize + l as usize) == Some(id))
        };
        self.index.find(hash(id), same).map(|i| *i as usize)
    }

    /// Whether `id` is here.
    pub(crate) fn contains_key(&self, id: &str) -> bool {
        self.find(id).is_some()
    }

    /// The state of `id`, added empty when missing. `None` only when the arena is full
    /// (4 GiB of session ids).
    pub(crate) fn slot(&mut self, id: &str) -> Option<&mut SessAcc> {
        let i = match self.find(id) {
            Some(i) => i,
            None => self.push(id, SessAcc::default())?,
        };
        self.accs.get_mut(i)
    }

    fn push(&mut self, id: &str, s: SessAcc) -> Option<usize> {
        let start = u32::try_from(self.arena.len()).ok()?;
        let len = u32::try_from(id.len()).ok()?;
        start.checked_add(len)?;
        let i = u32::try_from(self.accs.len()).ok()?;
        self.arena.push_str(id);
        self.spans.push((start, len));
        self.accs.push(s);
        let (spans, arena) = (&self.spans, &self.arena);
        let rehash = |j: &u32| {
            let (s, l) = spans.get(*j as usize).copied().unwrap_or_default();
            hash(arena.get(s as usize..s as usize + l as usize).unwrap_or(""))
        };
        self.index.insert_unique(hash(id), i, rehash);
        Some(i as usize)
    }

    /// Add `s` as the state of `id`; the state it replaces, if any.
    pub(crate) fn insert(&mut self, id: &str, s: SessAcc) -> Option<SessAcc> {
        match self.find(id).and_then(|i| self.accs.get_mut(i)) {
            Some(cur) => Some(std::mem::replace(cur, s)),
            None => {
                self.push(id, s);
                None
            }
        }
    }

    /// The state of `id`.
    #[cfg(test)]
    pub(crate) fn get(&self, id: &str) -> Option<&SessAcc> {
        self.find(id).and_then(|i| self.accs.get(i))
    }

    /// Take `id` out.
    pub(crate) fn remove(&mut self, id: &str) -> Option<SessAcc> {
        let i = self.find(id)?;
        let h = hash(id);
        if let Ok(e) = self.index.find_entry(h, |j| *j as usize == i) {
            e.remove();
        }
        let last = self.accs.len() - 1;
        if i != last {
            // The last session moves into the hole: point its slot there.
            let moved = hash(self.id(last));
            if let Some(slot) = self.index.find_mut(moved, |j| *j as usize == last) {
                *slot = i as u32;
            }
        }
        self.spans.swap_remove(i);
        Some(self.accs.swap_remove(i))
    }

    /// Keep only the sessions `keep` says yes to.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&str, &SessAcc) -> bool) {
        let mut kept = Sessions::with_capacity(self.len());
        for (id, s) in std::mem::take(self).into_iter_ref() {
            if keep(id.as_str(), &s) {
                kept.insert(&id, s);
            }
        }
        *self = kept;
    }

    /// Every session, in insertion order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &SessAcc)> + Clone {
        (0..self.accs.len()).filter_map(move |i| Some((self.id(i), self.accs.get(i)?)))
    }

    /// Every id.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        (0..self.accs.len()).map(move |i| self.id(i))
    }

    /// Every state.
    pub(crate) fn values(&self) -> impl Iterator<Item = &SessAcc> {
        self.accs.iter()
    }

    /// Every session by value (the ids copied out of the arena).
    fn into_iter_ref(self) -> impl Iterator<Item = (String, SessAcc)> {
        let Sessions { arena, spans, accs, .. } = self;
        spans.into_iter().zip(accs).map(move |((s, l), acc)| {
            let id = arena.get(s as usize..s as usize + l as usize).unwrap_or("").to_owned();
            (id, acc)
        })
    }

    /// Merge every session of `other` into this table.
    pub(crate) fn merge(&mut self, other: Sessions) {
        let Sessions { arena, spans, accs, .. } = other;
        for ((s, l), acc) in spans.into_iter().zip(accs) {
            let id = arena.get(s as usize..s as usize + l as usize).unwrap_or("");
            if let Some(mine) = self.slot(id) {
                mine.merge(acc);
            }
        }
    }
}
