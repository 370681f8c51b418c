//! Unit tests of the crate's internals: the index codec, the key table, ids.

use crate::Agent;
use crate::dedupe::{Index, KeyRec};
use crate::events::{key128, repo_id, session_id, uuid_of};
use crate::record::Usage;

fn rec(session: u32, output: u64) -> KeyRec {
    KeyRec { session, usage: Usage { output, ..Usage::default() } }
}

#[test]
fn the_index_round_trips_and_refuses_damage() {
    let dir = tempfile::tempdir().unwrap();
    let path = camino::Utf8PathBuf::from_path_buf(dir.path().join("index.bin")).unwrap();
    let mut index = Index::default();
    let s = index.session(Agent::Codex, "abc");
    index.sessions[s as usize].meta.cwd = Some("/w/x".into());
    let keys: Vec<u128> = (0..1000u32).map(|i| key128(&[&i.to_le_bytes()])).collect();
    index.keys.extend(keys.iter().enumerate().map(|(i, k)| (*k, rec(s, i as u64))));
    index.save(&path).unwrap();
    let back = Index::load(&path).unwrap();
    assert_eq!(back.sessions, index.sessions);
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(back.keys.get(*k), Some(rec(s, i as u64)));
    }
    assert_eq!(back.keys.get(key128(&[b"absent"])), None);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(Index::load(&path), Err(crate::Error::State { .. })));
    std::fs::write(&path, b"short").unwrap();
    assert!(Index::load(&path).is_err());
}

#[test]
fn the_key_table_finds_keys_at_bucket_edges() {
    let mut index = Index::default();
    let keys = [0u128, 1, u128::MAX, u128::MAX - 1, 1 << 112, (1 << 112) - 1, 5 << 100];
    index.keys.extend(keys.iter().map(|k| (*k, rec(0, *k as u64))));
    for k in keys {
        assert_eq!(index.keys.get(k), Some(rec(0, k as u64)), "{k}");
    }
    assert_eq!(index.keys.get(2), None);
    index.keys.set(1, rec(0, 99));
    assert_eq!(index.keys.get(1), Some(rec(0, 99)));
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
    use camino::{Utf8Path, Utf8PathBuf};
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
