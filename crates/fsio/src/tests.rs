//! Unit tests: atomic writes replace whole files and leave no temp file; bounded reads.

use super::*;

fn tmp() -> (tempfile::TempDir, Utf8PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap();
    (dir, path)
}

#[test]
fn atomic_write_replaces_the_whole_file_and_leaves_no_temp_file() {
    let (_d, dir) = tmp();
    let path = dir.join("sub/state.json");
    write_atomic(&path, b"a long first version\n").unwrap();
    write_atomic(&path, b"v2\n").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"v2\n");
    let names: Vec<String> = std::fs::read_dir(dir.join("sub"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["state.json"]);
}

#[test]
fn a_failed_write_names_the_file_and_keeps_the_old_one() {
    let (_d, dir) = tmp();
    // The target is a directory: the rename fails, the temp file goes again.
    let path = dir.join("taken");
    std::fs::create_dir(&path).unwrap();
    std::fs::write(path.join("keep"), b"x").unwrap();
    let err = write_atomic(&path, b"new").unwrap_err();
    assert!(matches!(err, Error::Io { action: "write", .. }), "{err}");
    assert!(err.to_string().contains(path.as_str()), "{err}");
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["taken"]);
}

#[test]
fn json_round_trips_and_reads_are_bounded() {
    let (_d, dir) = tmp();
    let path = dir.join("v.json");
    assert_eq!(read_json::<Vec<u32>>(&path, 100).unwrap(), None);
    write_json_atomic(&path, &[1u32, 2, 3], "numbers").unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with("]\n"), "{text:?}");
    assert_eq!(read_json::<Vec<u32>>(&path, 100).unwrap(), Some(vec![1, 2, 3]));
    // Exactly at the cap is fine, one byte over is refused.
    let len = text.len() as u64;
    assert!(read_bounded(&path, len).unwrap().is_some());
    let err = read_json::<Vec<u32>>(&path, len - 1).unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit, .. } if limit == len - 1), "{err}");
    std::fs::write(&path, b"{not json").unwrap();
    assert!(matches!(read_json::<Vec<u32>>(&path, 100), Err(Error::Corrupt { .. })));
}

#[test]
fn temp_names_are_dot_files_but_not_lock_files() {
    assert!(is_temp_name(".state.json.tmp.12.0"));
    assert!(!is_temp_name(".lock"));
    assert!(!is_temp_name("state.json"));
}

#[test]
fn a_fifo_or_directory_is_refused_without_being_opened() {
    let (_guard, dir) = tmp();
    let fifo = dir.join("f.fifo");
    let made = std::process::Command::new("mkfifo").arg(fifo.as_str()).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo is available");
    // Reading a FIFO with no writer would block forever; the check comes first. The read runs
    // on a thread so a regression fails the test instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(crate::read_bounded(&path, 1024).map(|b| b.map(|v| v.len())));
    });
    let got = rx.recv_timeout(std::time::Duration::from_secs(10)).expect("the read returns");
    assert!(
        matches!(got, Err(crate::Error::NotRegular { what: "a FIFO, socket or device", .. })),
        "{got:?}"
    );
    let got = crate::read_bounded(&dir, 1024);
    assert!(matches!(got, Err(crate::Error::NotRegular { what: "a directory", .. })), "{got:?}");
}
