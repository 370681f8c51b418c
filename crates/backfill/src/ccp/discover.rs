//! The CCC/CCP log files under a checkout (contract §3): `logs/archive/usage*.jsonl`, the
//! rotations `logs/usage.jsonl.N` … `.1`, `logs/usage.jsonl`, the tag snapshots
//! `logs/usage_*.jsonl` and the same under `logs/dev/**`, in the order they are read: oldest
//! history first, so a request split by a rotation is joined, and copies last, so the
//! original is what counts.

use camino::{Utf8Path, Utf8PathBuf};

use crate::record::Diagnostic;

/// How deep `logs/dev/` is searched.
const MAX_DEPTH: usize = 8;

/// Where a log file sits in its directory's history (sorts oldest first).
fn rank(name: &str) -> Option<(u8, i64, String)> {
    if !name.starts_with("usage") || name.starts_with('.') {
        return None;
    }
    if let Some(n) = name.strip_prefix("usage.jsonl.") {
        // Rotations: `.1` is the newest, so the largest number is read first.
        return n.parse::<u32>().ok().map(|n| (1, -i64::from(n), String::new()));
    }
    if name == "usage.jsonl" {
        return Some((2, 0, String::new()));
    }
    if !name.ends_with(".jsonl") {
        return None;
    }
    if name.starts_with("usage_") {
        return Some((3, 0, name.to_owned())); // Tag snapshots: copies, read last.
    }
    Some((0, 0, name.to_owned())) // `usage-YYYYMMDD-HHMMSS.jsonl` (archive moves)
}

/// The usage log files of one directory, in reading order, and its subdirectories.
fn logs_in(dir: &Utf8Path, diags: &mut Vec<Diagnostic>) -> (Vec<Utf8PathBuf>, Vec<Utf8PathBuf>) {
    let mut files: Vec<((u8, i64, String), Utf8PathBuf)> = Vec::new();
    let mut dirs = Vec::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), dirs),
        Err(e) => {
            diags.push(Diagnostic {
                file: dir.to_string(),
                line: 0,
                reason: format!("cannot list: {e}"),
            });
            return (Vec::new(), dirs);
        }
    };
    for entry in rd.flatten() {
        let Ok(path) = Utf8PathBuf::from_path_buf(entry.path()) else {
            diags.push(Diagnostic {
                file: dir.to_string(),
                line: 0,
                reason: "an entry whose name is not UTF-8 was skipped".to_owned(),
            });
            continue;
        };
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(_) => continue,
        };
        let name = path.file_name().unwrap_or_default().to_owned();
        if meta.is_dir() {
            dirs.push(path);
        } else if let Some(r) = rank(&name) {
            files.push((r, path));
        }
    }
    files.sort();
    dirs.sort();
    (files.into_iter().map(|f| f.1).collect(), dirs)
}

/// Every usage log under the checkout `root`, in reading order.
pub(crate) fn usage_files(root: &Utf8Path, diags: &mut Vec<Diagnostic>) -> Vec<Utf8PathBuf> {
    let logs = root.join("logs");
    let mut out = logs_in(&logs.join("archive"), diags).0;
    out.extend(logs_in(&logs, diags).0);
    let mut stack = vec![(logs.join("dev"), 0)];
    // (device, inode) of the directories listed: a link back up the tree is not walked again.
    let mut listed = std::collections::HashSet::new();
    while let Some((dir, depth)) = stack.pop() {
        if let Ok(meta) = std::fs::metadata(&dir) {
            let stat = crate::ledger::Stat::of(&meta);
            if (stat.dev, stat.ino) != (0, 0) && !listed.insert((stat.dev, stat.ino)) {
                continue;
            }
        }
        let (files, dirs) = logs_in(&dir, diags);
        out.extend(files);
        if depth < MAX_DEPTH {
            // Reversed so the stack visits them in name order.
            stack.extend(dirs.into_iter().rev().map(|d| (d, depth + 1)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_order_is_oldest_first_copies_last() {
        let t = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(t.path()).unwrap();
        for f in [
            "logs/usage.jsonl",
            "logs/usage.jsonl.1",
            "logs/usage.jsonl.10",
            "logs/usage.jsonl.2",
            "logs/usage_tag.jsonl",
            "logs/notes.txt",
            "logs/usage.jsonl.bak",
            "logs/archive/usage-20260101-000000.jsonl",
            "logs/archive/usage-20251231-000000.jsonl",
            "logs/dev/a/usage.jsonl",
            "logs/dev/usage.jsonl",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "").unwrap();
        }
        let mut diags = Vec::new();
        let got: Vec<String> = usage_files(root, &mut diags)
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string())
            .collect();
        assert_eq!(
            got,
            [
                "logs/archive/usage-20251231-000000.jsonl",
                "logs/archive/usage-20260101-000000.jsonl",
                "logs/usage.jsonl.10",
                "logs/usage.jsonl.2",
                "logs/usage.jsonl.1",
                "logs/usage.jsonl",
                "logs/usage_tag.jsonl",
                "logs/dev/usage.jsonl",
                "logs/dev/a/usage.jsonl",
            ]
        );
        assert!(diags.is_empty());
    }

    /// A link back up `logs/dev` is not followed round again: each directory is listed once.
    #[cfg(unix)]
    #[test]
    fn a_link_loop_under_dev_lists_each_directory_once() {
        let t = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(t.path()).unwrap();
        let sub = root.join("logs/dev/a");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join("usage.jsonl"), "").unwrap();
        std::os::unix::fs::symlink("..", sub.join("up")).unwrap();
        let mut diags = Vec::new();
        let got: Vec<String> = usage_files(root, &mut diags)
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string())
            .collect();
        assert_eq!(got, ["logs/dev/a/usage.jsonl"]);
    }
}
