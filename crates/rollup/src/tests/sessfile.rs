//! The sessions base file (`sessfile.rs`): positional lookups answer as the map written does,
//! a whole read gives the map back, and a damaged file is refused when read whole.

use camino::Utf8PathBuf;

use crate::acc::{HashMap, RowAcc, SessAcc, Sum, Undated, When};
use crate::codec::encode_session;
use crate::sessfile::{SessFile, Stored, write_sessions};
use crate::sessions::Sessions;

fn table(m: &HashMap<String, SessAcc>) -> Sessions {
    let mut t = Sessions::default();
    for (id, s) in m {
        t.insert(id, s.clone());
    }
    t
}

/// Session `i`: numbers from `i`, every other one announced, those ≡ 3 (mod 7) with undated turns.
fn sess(i: u64) -> SessAcc {
    let t = jiff::Timestamp::from_second(1_700_000_000 + i as i64).unwrap_or_default();
    SessAcc {
        row: RowAcc {
            turns: i,
            tokens_in: 3 * i,
            tokens_out: i / 2,
            cost: Sum { s: i as f64 * 0.5, c: 1e-17 },
            features: Sum::default(),
            capacity: Sum { s: 0.25, c: 0.0 },
        },
        created: When::of(i.is_multiple_of(3).then_some(t)),
        first_seen: When::of(Some(t)),
        ended: i.is_multiple_of(5),
        announced: i.is_multiple_of(2),
        undated: (i % 7 == 3).then(|| {
            let mut u = Undated::default();
            u.row.turns = 1;
            u.capacity.insert("p".to_owned(), Sum { s: 0.5, c: 0.0 });
            Box::new(u)
        }),
    }
}

fn bytes(id: &str, s: &SessAcc) -> Vec<u8> {
    let mut out = Vec::new();
    encode_session(&mut out, id, s);
    out
}

#[test]
fn lookups_and_whole_reads_of_a_sessions_base_agree_with_the_map_written() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap_or_default();
    for n in [1u64, 2, 3, 50, 2000] {
        let base: HashMap<String, SessAcc> = (0..n).map(|i| (format!("s-{i}"), sess(i))).collect();
        // The working set overrides two sessions and adds one.
        let work: HashMap<String, SessAcc> =
            [(format!("s-{}", n / 2), sess(n + 10)), ("new".to_owned(), sess(1))]
                .into_iter()
                .collect();
        let r = write_sessions(&dir, format!("b{n}.bin"), &table(&base), &table(&work))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut want = base.clone();
        want.extend(work.clone());
        let Some(f) = SessFile::open(&dir, &r) else { panic!("{n}: does not open") };
        for (id, s) in &want {
            let got = f.get(id).map(|g| bytes(id, &g));
            assert_eq!(got, Some(bytes(id, s)), "{n}: {id}");
        }
        for id in ["", "s-", "nope", "s-999999", &format!("s-{n}")] {
            assert!(f.get(id).is_none(), "{n}: {id} found");
        }
        let all = f.load().unwrap_or_else(|| panic!("{n}: whole read refused"));
        assert_eq!(all.len(), want.len());
        for (id, s) in &want {
            assert_eq!(all.get(id).map(|g| bytes(id, g)), Some(bytes(id, s)), "{n}: {id}");
        }
        // Announced by hand: the even ones of the base (the override of n/2 is announced
        // when n + 10 is even, as n/2 itself is when n/2 is even), plus "new" (1: odd, no).
        let announced = (0..n).filter(|i| *i != n / 2 && i.is_multiple_of(2)).count() as u64
            + u64::from((n + 10).is_multiple_of(2));
        // Left on disk (bases of up to 3 sessions have no undated turns: counted from the
        // base's counts), or read whole (counted one by one).
        let stored = Stored::open(&dir, r.clone(), &Sessions::default(), true)
            .unwrap_or_else(|| panic!("{n}: stored base does not open"));
        assert_eq!(stored.announced(&Sessions::default()), announced, "{n}");
        // A byte changed in the middle, size and modification time kept: the cheap check of a
        // large base may not see it, the whole read does.
        let path = dir.join(&r.base.file);
        let meta = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{e}"));
        let mut raw = std::fs::read(&path).unwrap_or_default();
        let mid = raw.len() / 2;
        if let Some(b) = raw.get_mut(mid) {
            *b ^= 0x10;
        }
        std::fs::write(&path, &raw).unwrap_or_default();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|h| h.set_modified(meta.modified()?))
            .unwrap_or_else(|e| panic!("{e}"));
        match SessFile::open(&dir, &r) {
            // A file of up to 8 KiB is all "ends": the cheap check sees the change.
            None => assert!(raw.len() <= 8 << 10, "{n}: an intact-looking base refused"),
            Some(f) => {
                assert!(raw.len() > 8 << 10, "{n}: a damaged small base opened");
                assert!(f.load().is_none(), "{n}: a damaged base read whole");
            }
        }
    }
}

#[test]
fn a_session_state_stays_small() {
    // The per-session table holds one per session ever seen (issue #17: 500k sessions in
    // 128 MiB): 3 counts, 3 compensated sums, 2 times, the undated box, 2 flags.
    assert!(std::mem::size_of::<SessAcc>() <= 104, "{}", std::mem::size_of::<SessAcc>());
}
