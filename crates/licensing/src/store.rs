//! Bounded reads of regular files only, and atomic writes (temp file in the same directory,
//! fsync, rename, fsync directory).

use std::io::{Read as _, Write as _};

use camino::Utf8Path;

use crate::Error;

/// Largest license, key bundle, signature, revocation list or policy file read: 1 MiB (real
/// ones are a few hundred bytes).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Read a small file, refusing one larger than [`MAX_FILE_BYTES`] with `InvalidData` instead of
/// reading it all into memory, and refusing anything that is not a regular file (a FIFO, a
/// directory, a device such as `/dev/zero`) with `InvalidInput` **before** opening it: opening
/// a FIFO for reading blocks until a writer appears, so it is never opened. Symlinks are
/// followed; the opened handle is checked again, so a file swapped in between is not read.
pub(crate) fn read_small_file(path: &Utf8Path) -> std::io::Result<Vec<u8>> {
    require_regular(&std::fs::metadata(path)?)?;
    let file = std::fs::File::open(path)?;
    require_regular(&file.metadata()?)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {MAX_FILE_BYTES} bytes, so not a license, key or policy file"),
        ));
    }
    Ok(bytes)
}

fn require_regular(meta: &std::fs::Metadata) -> std::io::Result<()> {
    if meta.is_file() {
        return Ok(());
    }
    let what =
        if meta.is_dir() { "a directory" } else { "not a regular file (a FIFO, socket or device)" };
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("{what}, so not a license, key or policy file"),
    ))
}

/// Write `bytes` to `path` atomically; the file is created with mode 0600 on Unix.
pub fn write_atomic(path: &Utf8Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(d) if !d.as_str().is_empty() => d,
        _ => Utf8Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    let name = path.file_name().unwrap_or("license.pack");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp = dir.join(format!(".{name}.tmp.{}.{nanos}", std::process::id()));
    let result = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|e: std::io::Error| {
        let _ = std::fs::remove_file(&tmp);
        Error::io("write", path, e)
    })
}
