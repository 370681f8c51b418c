//! A scratch git repository for tests: fixed author and committer dates, no user or system git
//! configuration, no signing. Panics on failure (test support only).

use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};

/// A repository in a temporary directory of its own (removed on drop) or in a given one.
#[derive(Debug)]
pub struct Repo {
    _dir: Option<tempfile::TempDir>,
    /// Its top directory.
    pub path: Utf8PathBuf,
}

impl Default for Repo {
    fn default() -> Self {
        Repo::new()
    }
}

impl Repo {
    /// An empty repository on `main`.
    pub fn new() -> Repo {
        Repo::with_branch("main")
    }

    /// An empty repository whose first branch is `branch`.
    pub fn with_branch(branch: &str) -> Repo {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let path = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap_or_default();
        let repo = Repo { _dir: Some(dir), path };
        repo.git(&["init", "-q", "-b", branch], 0);
        repo
    }

    /// An empty repository on `main` in `path` (created), kept when the value is dropped.
    pub fn at(path: &Utf8Path) -> Repo {
        std::fs::create_dir_all(path).unwrap_or_else(|e| panic!("mkdir {path}: {e}"));
        let repo = Repo { _dir: None, path: path.to_owned() };
        repo.git(&["init", "-q", "-b", "main"], 0);
        repo
    }

    /// Run git in the repository with both dates set to `at` (Unix seconds).
    pub fn git(&self, args: &[&str], at: i64) {
        let date = format!("@{at} +0000");
        let out = Command::new("git")
            .arg("-C")
            .arg(self.path.as_std_path())
            .args(["-c", "user.name=Test", "-c", "user.email=test@example.invalid"])
            .args(["-c", "commit.gpgsign=false"])
            .args(args)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap_or_else(|e| panic!("git: {e}"));
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Write `file` with `text` (replacing it) and commit everything with `message` at `at`.
    pub fn commit_text(&self, at: i64, message: &str, file: &str, text: &str) {
        std::fs::write(self.path.join(file), text).unwrap_or_else(|e| panic!("write: {e}"));
        self.git(&["add", "-A"], at);
        self.git(&["commit", "-q", "-m", message], at);
    }

    /// Its top directory.
    pub fn root(&self) -> &Utf8Path {
        &self.path
    }

    /// A clone of this repository (`extra`: e.g. `--depth 2`) in a directory of its own.
    pub fn clone_with(&self, extra: &[&str]) -> Repo {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let path = Utf8PathBuf::from_path_buf(dir.path().join("clone")).unwrap_or_default();
        let url = format!("file://{}", self.path);
        let mut args = vec!["clone", "-q"];
        args.extend(extra);
        args.extend([url.as_str(), path.as_str()]);
        self.git(&args, 0);
        Repo { _dir: Some(dir), path }
    }
}
