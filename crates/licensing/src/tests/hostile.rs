//! Tests from hostile inputs (issue #8): special files as paths.

use std::sync::mpsc;
use std::time::Duration;

use camino::Utf8PathBuf;

use super::*;

/// Run `f` on a thread and return its result, or panic if it has not returned within 20 s
/// (a read that blocks on a FIFO never returns).
fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|_| panic!("the call blocked"))
}

fn mkfifo(path: &Utf8PathBuf) {
    let st = std::process::Command::new("mkfifo")
        .arg(path.as_str())
        .status()
        .unwrap_or_else(|e| panic!("mkfifo: {e}"));
    assert!(st.success(), "mkfifo failed");
}

fn utf8_dir(dir: &tempfile::TempDir) -> Utf8PathBuf {
    Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap_or_else(|p| panic!("{p:?}"))
}

#[test]
fn fifo_directory_and_device_paths_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = utf8_dir(&dir);
    let fifo = root.join("pack.fifo");
    mkfifo(&fifo);
    for path in [fifo.clone(), root.clone(), Utf8PathBuf::from("/dev/zero")] {
        let p = path.clone();
        let err = bounded(move || read_small_file(&p)).expect_err("a special file is refused");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{path}: {err}");
    }
    // Every user-supplied path of the configuration: the pack, the key bundle.
    let cfg = LicenseConfig { pack_path: fifo.clone(), ..temp_cfg(&dir) };
    let err = bounded(move || load_installed(&cfg)).expect_err("a FIFO pack is refused");
    assert!(matches!(&err, Error::Io { path, .. } if *path == fifo), "{err}");
    assert!(err.to_string().contains("pack.fifo"), "{err}");
    let cfg = LicenseConfig { pubkeys_path: Some(fifo.clone()), ..temp_cfg(&dir) };
    let err = bounded(move || cfg.key_ring().map(|_| ())).expect_err("a FIFO bundle is refused");
    assert!(matches!(&err, Error::Io { path, .. } if *path == fifo), "{err}");
}

#[test]
fn fifo_revocation_list_beside_the_pack_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cfg = temp_cfg(&dir);
    let (bytes, _) = signed_pack(COMPACT);
    assert!(install_pack(&cfg, &bytes).is_ok());
    let list = cfg.pack_path.parent().map(|d| d.join(REVOCATIONS_FILE)).unwrap_or_default();
    mkfifo(&list);
    let err = bounded(move || load_installed(&cfg)).expect_err("a FIFO revocation list fails");
    assert!(matches!(&err, Error::Io { path, .. } if *path == list), "{err}");
}
