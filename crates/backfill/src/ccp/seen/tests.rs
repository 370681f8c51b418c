//! The seen keys against a plain set of the keys inserted: found again after their day left
//! memory and after a commit, memory held to the budget plus one day, damage named.

use std::collections::HashSet;

use super::*;

fn utf8(p: &std::path::Path) -> Utf8PathBuf {
    Utf8PathBuf::from_path_buf(p.to_owned()).unwrap()
}

/// A key of its own for each number (spread like the real SHA-256 prefixes).
fn key(i: u64) -> u128 {
    u128::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835) | 1
}

/// Days either side of two month ends (2026-10-28 … 2026-12-03).
const FIRST_DAY: i64 = 20_754;
const DAYS: i64 = 37;
const PER_DAY: u64 = 40;

/// Key `i`'s time: its day, hopping across the days so that each is left and brought back.
fn at_of(i: u64) -> i64 {
    let day = FIRST_DAY + (i as i64 * 7) % DAYS;
    day * DAY_US + (i as i64 % 86_400) * 1_000_000
}

#[test]
fn keys_are_found_after_leaving_memory_and_after_a_commit_and_memory_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let state = utf8(dir.path());
    let budget = 100;
    let total = DAYS as u64 * PER_DAY;
    let mut s = Seen::open(&state).with_budget(budget);
    let mut max_held = 0;
    for i in 0..total {
        assert!(!s.contains(key(i), at_of(i)).unwrap(), "key {i} before it was inserted");
        // Every third key only seen (a request before `--since`).
        s.insert(key(i), at_of(i), i % 3 != 0).unwrap();
        max_held = max_held.max(s.held);
    }
    // Every day was let go at least once: the keys come back from the scratch file.
    assert!(s.blocks.len() as i64 >= DAYS - 3, "{} days spilled", s.blocks.len());
    for i in 0..total {
        assert!(s.contains(key(i), at_of(i)).unwrap(), "key {i} in this run");
        // The same key on another day is another line's.
        assert!(!s.contains(key(i), at_of(i) + DAY_US).unwrap(), "key {i} a day later");
        max_held = max_held.max(s.held);
    }
    // The budget, plus at most one day loaded on top of what was kept.
    let per_day = PER_DAY as usize + DAY_COST;
    assert!(max_held <= budget + per_day, "held {max_held} keys");
    s.commit().unwrap();

    // Three month files, none of them holding a key only seen.
    let mut names: Vec<String> = std::fs::read_dir(state.join(DIR))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["2026-10.keys", "2026-11.keys", "2026-12.keys"]);
    let mut again = Seen::open(&state).with_budget(budget);
    for i in 0..total {
        assert_eq!(again.contains(key(i), at_of(i)).unwrap(), i % 3 != 0, "key {i}");
    }
    // A second run adds to the same days; the first run's keys stay.
    for i in total..total + 200 {
        again.insert(key(i), at_of(i), true).unwrap();
    }
    again.commit().unwrap();
    let mut third = Seen::open(&state);
    let want: HashSet<u64> = (0..total + 200).filter(|i| *i >= total || i % 3 != 0).collect();
    for i in 0..total + 200 {
        assert_eq!(third.contains(key(i), at_of(i)).unwrap(), want.contains(&i), "key {i}");
    }
    // The scratch file had no name: the state directory holds the month files only.
    let left: Vec<String> = std::fs::read_dir(&state)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, [DIR]);
}

/// Lines spread over 100,000 days (junk times) hold no more than the budget either.
#[test]
fn many_empty_days_are_let_go_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Seen::open(&utf8(dir.path())).with_budget(1000);
    let mut max_held = 0;
    for day in 0..100_000 {
        assert!(!s.contains(key(day as u64), day * DAY_US).unwrap());
        max_held = max_held.max(s.held);
        assert_eq!(s.days.len() * DAY_COST, s.held);
    }
    assert!(max_held <= 1000 + DAY_COST, "held {max_held}");
}

#[test]
fn a_run_without_a_commit_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = utf8(dir.path());
    let mut s = Seen::open(&state).with_budget(8);
    for i in 0..100 {
        s.insert(key(i), at_of(i), true).unwrap();
    }
    drop(s);
    assert!(!state.join(DIR).exists());
    let mut s = Seen::open(&state);
    assert!((0..100).all(|i| !s.contains(key(i), at_of(i)).unwrap()));
}

#[test]
fn a_damaged_month_is_reported_on_the_state_directory_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let state = utf8(dir.path());
    let at = FIRST_DAY * DAY_US;
    let mut s = Seen::open(&state);
    s.insert(key(1), at, true).unwrap();
    s.commit().unwrap();
    let path = state.join(DIR).join("2026-10.keys");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[8] ^= 1; // the first key's first byte
    std::fs::write(&path, &bytes).unwrap();
    // Reported on the state directory (removing it, not the file, starts over), naming the file.
    match Seen::open(&state).contains(key(1), at) {
        Err(Error::State { path: p, reason }) => {
            assert_eq!(p, state);
            assert!(reason.starts_with("2026-10.keys: "), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // Another month is unaffected.
    assert!(!Seen::open(&state).contains(key(1), at + 40 * DAY_US).unwrap());
}

/// Keys noted for a day not in memory (a request finished late) do not load it: they are
/// held aside, found once the day is looked up, written as blocks past a bound, and recorded
/// at the commit with the day's keys of earlier runs, each once; a key only seen is not.
#[test]
fn keys_noted_for_a_day_not_in_memory_leave_it_on_disk_and_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let state = utf8(dir.path());
    let day = FIRST_DAY + 3;
    let at = |i: u64| day * DAY_US + i as i64;
    // An earlier run recorded keys 0..10 of the day.
    let mut s = Seen::open(&state);
    for i in 0..10 {
        s.insert(key(i), at(i), true).unwrap();
    }
    s.commit().unwrap();

    let mut s = Seen::open(&state);
    // Keys 5..15 (5..10 known already) and 100 (only seen), noted without a lookup.
    for i in (5..15).chain([100]) {
        s.insert(key(i), at(i), i != 100).unwrap();
    }
    assert!(s.days.is_empty() && s.held == 0, "the day stayed on disk");
    assert_eq!(s.late_count, 11);
    // At the bound they go to blocks, without loading the day either.
    let more = LATE_KEYS as u64 - 11;
    for i in 0..more {
        s.insert(key(1000 + i), at(1000 + i), true).unwrap();
    }
    assert!(s.days.is_empty() && s.late_count == 0 && !s.blocks.is_empty());
    s.insert(key(20), at(20), true).unwrap();
    assert_eq!(s.late_count, 1);
    // A lookup loads the day with all of them.
    for i in (0..15).chain([20, 100, 1000, 1000 + more - 1]) {
        assert!(s.contains(key(i), at(i)).unwrap(), "key {i}");
    }
    assert!(!s.contains(key(21), at(21)).unwrap());
    assert_eq!(s.late_count, 0);
    s.insert(key(30), at(30), true).unwrap();
    s.commit().unwrap();

    let path = state.join(DIR).join("2026-10.keys");
    let month = MonthFile::open(&path).unwrap().unwrap();
    let mut keys = Vec::new();
    month.read_day(day, &mut keys).unwrap();
    let mut want: Vec<u128> = (0..15).chain([20, 30]).chain(1000..1000 + more).map(key).collect();
    want.sort_unstable();
    assert_eq!(keys, want, "each key once, the key only seen left out");
}
