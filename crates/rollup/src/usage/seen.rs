//! The `event_id` hashes a usage scan counted: the sorted list the cache stores, searched in
//! place (loading a cache costs a copy, not a million hash-set insertions), and the ones
//! counted since in a hash set.

use std::collections::HashSet;
use std::hash::BuildHasherDefault;

use crate::dedupe::Passthrough;

/// Ids counted, for the dedupe by `event_id`.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// Sorted, no repeats.
    base: Vec<u128>,
    added: HashSet<u128, BuildHasherDefault<Passthrough>>,
}

impl Seen {
    /// From a list (sorted and deduplicated here when it is not already).
    pub(crate) fn from_list(mut base: Vec<u128>) -> Seen {
        if !base.windows(2).all(|w| w[0] < w[1]) {
            base.sort_unstable();
            base.dedup();
        }
        Seen { base, added: HashSet::default() }
    }

    /// Whether `id` is new (and remember it).
    pub(crate) fn insert(&mut self, id: u128) -> bool {
        self.base.binary_search(&id).is_err() && self.added.insert(id)
    }

    /// Every id, sorted.
    pub(crate) fn sorted(&self) -> Vec<u128> {
        let mut all: Vec<u128> = Vec::with_capacity(self.base.len() + self.added.len());
        all.extend_from_slice(&self.base);
        all.extend(self.added.iter().copied());
        all.sort_unstable();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::Seen;

    #[test]
    fn base_and_added_ids_are_each_new_once() {
        let mut s = Seen::from_list(vec![9, 3, 3, 5]);
        assert!(!s.insert(3) && !s.insert(9));
        assert!(s.insert(4) && !s.insert(4));
        assert_eq!(s.sorted(), [3, 4, 5, 9]);
    }
}
