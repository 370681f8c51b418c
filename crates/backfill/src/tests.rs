//! Unit tests of the crate's internals: the index files (log, merge, torn tail, damage), ids.

use crate::Agent;
use camino::{Utf8Path, Utf8PathBuf};

use crate::dedupe::{BASE, Index, KeyRec, LOG};
use crate::events::{key128, repo_id, session_id, uuid_of};
use crate::record::Usage;

fn rec(session: u32, output: u64) -> KeyRec {
    KeyRec { session, usage: Usage { output, ..Usage::default() } }
}

fn dir() -> (tempfile::TempDir, Utf8PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let p = Utf8PathBuf::from_path_buf(t.path().to_owned()).unwrap();
    (t, p)
}

fn keys(from: u32, to: u32) -> Vec<u128> {
    (from..to).map(|i| key128(&[&i.to_le_bytes()])).collect()
}

/// Open the index in `dir`, add `keys` (value: their position + `plus`) to a session, commit.
fn add(dir: &Utf8Path, merge_at: Option<u64>, keys: &[u128], plus: u64) -> Index {
    let mut index = Index::open(dir).unwrap();
    if let Some(m) = merge_at {
        index.merge_at = m;
    }
    let s = index.session(Agent::Codex, "abc");
    index.session_mut(s).meta.cwd = Some("/w/x".into());
    for (i, k) in keys.iter().enumerate() {
        index.set(*k, rec(s, i as u64 + plus));
    }
    index.commit().unwrap();
    index
}

/// Every key of `keys` holds its position + `plus`, in place and with the base read whole.
fn assert_holds(dir: &Utf8Path, keys: &[u128], plus: u64) {
    for whole in [false, true] {
        let mut index = Index::open(dir).unwrap();
        if whole {
            index.expect_lookups(usize::MAX).unwrap();
        }
        assert_eq!(index.sessions.len(), 1);
        assert_eq!(index.sessions[0].meta.cwd.as_deref(), Some("/w/x"));
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(index.get(*k).unwrap(), Some(rec(0, i as u64 + plus)), "key {i}");
        }
        assert_eq!(index.get(key128(&[b"absent"])).unwrap(), None);
    }
}

fn size(p: &Utf8Path) -> Option<u64> {
    std::fs::metadata(p).ok().map(|m| m.len())
}

#[test]
fn the_index_appends_to_its_log_and_merges_into_a_base_searched_in_place() {
    let (_t, d) = dir();
    let (log, base) = (d.join(LOG), d.join(BASE));
    let a = keys(0, 1000);
    add(&d, None, &a, 0);
    assert_eq!(size(&base), None, "small runs only append");
    let after_a = size(&log).unwrap();
    // Header (24) + chunk length (8) + sessions (8 + one session) + keys (8 + 60 each) + sum.
    let session_bytes = 4 + 1 + (4 + 3) + (4 + 4) + 3 * 4 + 16;
    assert_eq!(after_a, 24 + 8 + 8 + session_bytes + 8 + 1000 * 60 + 32);
    assert_holds(&d, &a, 0);
    // A second run appends only what it adds.
    let b = keys(1000, 1010);
    add(&d, None, &b, 0);
    assert_eq!(size(&log).unwrap(), after_a + 8 + 8 + session_bytes + 8 + 10 * 60 + 32);
    assert_holds(&d, &b, 0);
    // A run that would grow the log past its limit merges everything into a new base.
    let all = keys(0, 1010);
    add(&d, Some(0), &all, 7);
    assert_eq!(size(&log), None, "the merged log is removed");
    assert_holds(&d, &all, 7);
    // After the merge, small runs append to a new log for the new base.
    let c = keys(2000, 2003);
    add(&d, None, &c, 0);
    assert!(size(&log).is_some());
    assert_holds(&d, &c, 0);
    assert_holds(&d, &all, 7);
    // …and the next merge keeps everything.
    add(&d, Some(0), &[], 0);
    assert_eq!(size(&log), None);
    assert_holds(&d, &all, 7);
    assert_holds(&d, &c, 0);
}

#[test]
fn a_torn_chunk_at_the_end_of_the_log_was_never_committed() {
    let (_t, d) = dir();
    let log = d.join(LOG);
    let (a, b, c) = (keys(0, 50), keys(50, 100), keys(100, 150));
    add(&d, None, &a, 0);
    let after_a = size(&log).unwrap();
    add(&d, None, &b, 0);
    // A crash while B's chunk was written: part of it on disk.
    let bytes = std::fs::read(&log).unwrap();
    std::fs::write(&log, &bytes[..bytes.len() - 100]).unwrap();
    let mut index = Index::open(&d).unwrap();
    assert_eq!(index.get(a[3]).unwrap(), Some(rec(0, 3)));
    assert_eq!(index.get(b[3]).unwrap(), None, "the torn chunk is not read");
    // The next commit cuts the torn chunk off before appending.
    add(&d, None, &c, 0);
    let chunk_c = size(&log).unwrap() - after_a;
    assert_eq!(size(&log).unwrap(), after_a + chunk_c);
    assert_holds(&d, &a, 0);
    assert_holds(&d, &c, 0);
    let mut index = Index::open(&d).unwrap();
    assert_eq!(index.get(b[0]).unwrap(), None);
    // A torn length, and a torn header of a new log, are torn tails too.
    let bytes = std::fs::read(&log).unwrap();
    std::fs::write(&log, [&bytes[..], &[1, 2, 3]].concat()).unwrap();
    assert_holds(&d, &c, 0);
    std::fs::write(&log, &bytes[..10]).unwrap();
    assert!(Index::open(&d).unwrap().get(a[0]).unwrap().is_none());
}

#[test]
fn a_log_left_over_from_an_interrupted_merge_is_ignored() {
    let (_t, d) = dir();
    let log = d.join(LOG);
    let a = keys(0, 20);
    add(&d, None, &a, 0);
    let old_log = std::fs::read(&log).unwrap();
    add(&d, Some(0), &keys(20, 30), 0);
    // The crash came after the new base was renamed into place, before the log was removed.
    std::fs::write(&log, &old_log).unwrap();
    assert_holds(&d, &a, 0);
    let b = keys(30, 40);
    add(&d, None, &b, 0);
    assert_holds(&d, &a, 0);
    assert_holds(&d, &b, 0);
}

#[test]
fn a_damaged_or_foreign_index_is_refused() {
    let is_state = |d: &Utf8Path| {
        let r = Index::open(d).and_then(|mut i| {
            i.expect_lookups(usize::MAX)?;
            Ok(i)
        });
        match r {
            // Reported on the directory (the one thing to remove), naming the file.
            Err(crate::Error::State { path, reason }) => {
                assert_eq!(path, d, "{reason}");
                assert!(reason.starts_with("index."), "{reason}");
                true
            }
            _ => false,
        }
    };
    let (_t, d) = dir();
    let (log, base) = (d.join(LOG), d.join(BASE));
    add(&d, None, &keys(0, 50), 0);
    add(&d, None, &keys(50, 100), 0);
    let good_log = std::fs::read(&log).unwrap();
    // A flipped byte in a chunk followed by another: damage, not a torn tail.
    let mut bytes = good_log.clone();
    bytes[200] ^= 1;
    std::fs::write(&log, &bytes).unwrap();
    assert!(is_state(&d));
    std::fs::write(&log, b"something else entirely").unwrap();
    assert!(is_state(&d));
    std::fs::write(&log, &good_log).unwrap();
    assert!(!is_state(&d));
    // A base: damaged header, damaged keys (found when read whole), torn, foreign.
    add(&d, Some(0), &keys(100, 150), 0);
    let good_base = std::fs::read(&base).unwrap();
    let n = good_base.len();
    for at in [30, 100, n - 10] {
        let mut bytes = good_base.clone();
        bytes[at] ^= 1;
        std::fs::write(&base, &bytes).unwrap();
        assert!(is_state(&d), "byte {at}");
    }
    std::fs::write(&base, &good_base[..n - 1]).unwrap();
    assert!(is_state(&d));
    std::fs::write(&base, b"AOSIMP1\n an index of an older format").unwrap();
    assert!(is_state(&d));
    std::fs::write(&base, &good_base).unwrap();
    assert!(!is_state(&d));
    // The log made for the base before the merge is a leftover; the log of another index is not.
    std::fs::write(&log, &good_log).unwrap();
    assert!(!is_state(&d));
    let mut other = good_log.clone();
    other[8..24].copy_from_slice(&[7; 16]);
    std::fs::write(&log, &other).unwrap();
    assert!(is_state(&d));
}

#[test]
fn keys_at_bucket_edges_are_found_in_place() {
    let (_t, d) = dir();
    let edge = [0u128, 1, u128::MAX, u128::MAX - 1, 1 << 116, (1 << 116) - 1, 5 << 100];
    add(&d, Some(0), &edge, 0);
    assert!(size(&d.join(BASE)).is_some());
    assert_holds(&d, &edge, 0);
    assert_eq!(Index::open(&d).unwrap().get(2).unwrap(), None);
}

#[test]
fn ids_are_uuid_shaped_and_session_ids_stay_in_the_alphabet() {
    let id = uuid_of(&[b"x"]);
    assert_eq!(id.len(), 36);
    assert_eq!(id.matches('-').count(), 4);
    assert_eq!(&id[8..9], "-");
    assert_eq!(uuid_of(&[b"x"]), id, "deterministic");
    assert_ne!(uuid_of(&[b"a", b"bc"]), uuid_of(&[b"ab", b"c"]), "parts are delimited");
    assert_eq!(session_id(Agent::ClaudeCode, "0b1c-2d"), "0b1c-2d");
    let odd = session_id(Agent::ClaudeCode, "a b\"c");
    assert!(
        odd.starts_with("claude-code-")
            && agentos_event_schema::v1::limits::check_session_id(&odd).is_ok()
    );
    assert_eq!(repo_id(Some("/home/dev/shop/")), "shop");
    assert_eq!(repo_id(Some("C:\\\\work\\\\api")), "api");
    assert_eq!(repo_id(None), "unknown");
}

#[test]
fn source_dirs_come_from_flags_then_the_environment_then_home() {
    use crate::discover::{claude_dirs, codex_homes};
    let home = Utf8Path::new("/h");
    let flags = [Utf8PathBuf::from("/a")];
    assert_eq!(claude_dirs(&flags, Some("/x,/y"), Some(home)), vec![Utf8PathBuf::from("/a")]);
    assert_eq!(
        claude_dirs(&[], Some("/x, /y ,"), Some(home)),
        vec![Utf8PathBuf::from("/x"), Utf8PathBuf::from("/y")]
    );
    assert_eq!(
        claude_dirs(&[], Some(" "), Some(home)),
        vec![Utf8PathBuf::from("/h/.config/claude"), Utf8PathBuf::from("/h/.claude")]
    );
    assert!(claude_dirs(&[], None, None).is_empty());
    assert_eq!(
        codex_homes(Some(Utf8Path::new("/c")), Some("/e"), Some(home)),
        vec![Utf8PathBuf::from("/c")]
    );
    assert_eq!(codex_homes(None, Some("/e"), Some(home)), vec![Utf8PathBuf::from("/e")]);
    assert_eq!(codex_homes(None, None, Some(home)), vec![Utf8PathBuf::from("/h/.codex")]);
}

/// A small deterministic generator (xorshift) for the equivalence tests.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn the_fast_timestamp_writes_what_timestamp_writes() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let last = crate::line::LAST_FAST;
    assert_eq!(crate::events::ts(last).to_string(), "9998-12-31T23:59:59.999999Z");
    let mut values = vec![0, 1, 999_999, 1_000_000, 86_399_999_999, 86_400_000_000, last, last + 1];
    values.extend([253_402_300_799_999_999, 253_402_214_400_000_000]);
    values.extend([
        -1,
        -86_400_000_000,
        i64::MIN,
        i64::MAX,
        951_782_400_000_000,
        4_107_542_400_000_000,
    ]);
    for _ in 0..200_000 {
        values.push((next(&mut state) % (last as u64 + 1)) as i64);
        // Around the present, where real histories are.
        values.push(1_700_000_000_000_000 + (next(&mut state) % 300_000_000_000_000) as i64);
    }
    let mut buf = [0u8; 27];
    for v in values {
        let want = crate::events::ts(v).to_string();
        assert_eq!(crate::line::timestamp(&mut buf, v), want, "{v}");
    }
}

#[test]
fn hand_written_turn_lines_are_what_serde_writes_and_parse_back_as_the_typed_event() {
    use crate::events::{TurnFacts, turn_event};
    use agentos_event_schema::v1::Event;
    let mut state = 7u64;
    let models = ["claude-opus-4-5-20251101", "gpt-5-codex", "a \"quoted\" \\ model\n", "ünï"];
    let subagents = ["main", "agent-\u{1}x", "abc"];
    let sessions = ["11111111-1111-4111-8111-111111111111", "codex-abc_def"];
    let table = agentos_event_schema::prices::PriceTable::bundled();
    for i in 0..5000u64 {
        let r = |s: &mut u64| next(s) % [10, 1 << 20, u64::MAX][(i % 3) as usize];
        let usage = Usage {
            input: r(&mut state),
            output: r(&mut state),
            cache_write: r(&mut state),
            cache_write_1h: r(&mut state),
            cache_read: r(&mut state),
        };
        let before = Usage { input: usage.input / 2, ..Usage::default() };
        let f = TurnFacts {
            key: u128::from(next(&mut state)) << 64 | u128::from(i),
            session: sessions[(i % 2) as usize],
            model: models[(i % 4) as usize],
            subagent: subagents[(i % 3) as usize],
            usage,
            sidechain: i % 5 == 0,
            at: [1_764_000_000_123_456, 0, -5, i64::MAX][(i % 4) as usize].saturating_add(i as i64),
            cost: [None, Some(0.0), Some(1.25e-3), Some(1e300)][(i % 4) as usize],
            revises: (i % 7 == 0).then_some(before),
            // Estimates (with a price table's id) on some turns, none on others.
            prices: (i % 3 != 0).then_some(&table),
        };
        let mut line = Vec::new();
        crate::line::write_turn(&mut line, &f).unwrap();
        let typed = turn_event(&f);
        let serde = serde_json::to_vec(&typed).unwrap();
        assert_eq!(String::from_utf8_lossy(&line), String::from_utf8_lossy(&serde), "case {i}");
        let back: Event = serde_json::from_slice(&line).unwrap();
        assert_eq!(back, typed, "case {i}");
    }
}

#[test]
fn only_lines_with_a_usage_key_are_parsed() {
    use crate::claude::{Finders, may_carry_usage};
    let f = Finders::new();
    let keep = [
        r#"{"type":"assistant","message":{"usage":{"input_tokens":1}}}"#,
        r#"{"message":{"usage" : {}}}"#,
        r#"{"message":{"\u0075sage":{}}}"#,
    ];
    for l in keep {
        assert!(may_carry_usage(&f, l.as_bytes()), "{l}");
    }
    // Text about usage, even quoted, is not a usage key: its quotes are escaped.
    let skip = [
        r#"{"type":"user","message":{"content":"see \"usage\": {} in the docs"}}"#,
        r#"{"type":"user","message":{"content":"usage: agentos import"}}"#,
    ];
    for l in skip {
        assert!(!may_carry_usage(&f, l.as_bytes()), "{l}");
    }
}
