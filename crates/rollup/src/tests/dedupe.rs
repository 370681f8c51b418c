//! The set of ids counted (`dedupe.rs`): past the point where the latest ids join the sorted
//! run, it answers exactly as a plain hash set does, and hands the checkpoint every id once,
//! sorted.

use std::collections::HashSet;

use crate::dedupe::{Seen, id_hash};

#[test]
fn the_ids_counted_answer_like_a_hash_set_across_many_merges() {
    let mut seen = Seen::default();
    let mut want: HashSet<u128> = HashSet::new();
    // 300k ids (several merges of the latest into the sorted run), every fifth one a repeat
    // of an id seen long before, as a log read twice would give.
    for i in 0u64..300_000 {
        let id = if i % 5 == 4 { format!("e-{}", i / 3) } else { format!("e-{i}") };
        let h = id_hash(&id);
        assert_eq!(seen.contains(h), want.contains(&h), "{id}");
        if !seen.contains(h) {
            seen.insert_new(h);
            want.insert(h);
        }
    }
    assert!(!seen.contains(id_hash("never")));
    let parts = seen.into_parts().unwrap_or_else(|| panic!("parts"));
    let all = parts.base.unwrap_or_default().into_iter().chain(parts.delta).collect::<Vec<_>>();
    let mut sorted: Vec<u128> = want.into_iter().collect();
    sorted.sort_unstable();
    assert_eq!(all, sorted);
}
