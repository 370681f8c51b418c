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

/// The checksum computed piece by piece (as a base file is streamed) equals the one over the
/// whole bytes, for every length around the 16-byte word and any split.
#[test]
fn the_streamed_checksum_equals_the_whole_one_however_the_bytes_are_split() {
    use crate::dedupe::{Checksum, checksum};
    let bytes: Vec<u8> = (0..200u32).map(|i| (i.wrapping_mul(37) ^ (i >> 3)) as u8).collect();
    for len in [0, 1, 15, 16, 17, 31, 32, 33, 100, 200] {
        let data = &bytes[..len];
        for cut in [1, 3, 7, 16, 17, 64] {
            let mut c = Checksum::new(len as u64);
            for piece in data.chunks(cut) {
                c.update(piece);
            }
            assert_eq!(c.finish(), checksum(data), "len {len}, pieces of {cut}");
        }
    }
}

/// Ids loaded from a checkpoint (a base held in memory and a delta) are found as surely as
/// those added since, and ids in neither are not.
#[test]
fn loaded_ids_are_found_like_the_ones_added_since() {
    use crate::dedupe::Base;
    let sorted = |r: std::ops::Range<u64>| {
        let mut v: Vec<u128> = r.map(|i| id_hash(&format!("id-{i}"))).collect();
        v.sort_unstable();
        v
    };
    let (base, delta) = (sorted(0..50_000), sorted(50_000..55_000));
    let mut seen = Seen::from_sorted(Base::Mem(base), delta).unwrap_or_else(|| panic!("sorted"));
    for i in 55_000..60_000 {
        seen.insert_new(id_hash(&format!("id-{i}")));
    }
    for i in 0..70_000u64 {
        assert_eq!(seen.contains(id_hash(&format!("id-{i}"))), i < 60_000, "id-{i}");
    }
}
