//! The one way AgentOS runs git on a repository it examines: hardened so the repository is
//! data, never code — `--no-pager`, no system configuration, no fsmonitor, no signature
//! display, no external diff, a fixed diff algorithm, and none of a calling hook's `GIT_DIR` /
//! `GIT_WORK_TREE` overrides. `safe.directory` is left as the user set it. Shared by `churn`
//! and `features`.

use std::ffi::{OsStr, OsString};
use std::process::Command;

use camino::Utf8Path;

use crate::Error;

/// Runs git in one repository, hardened (see the module docs).
pub(crate) struct Git<'a> {
    pub(crate) repo: &'a Utf8Path,
}

/// Settings that keep git from starting anything the examined repository configures, and
/// keep its diffs the same whatever the user or repository configured.
const SAFE_CONFIG: &[&str] = &[
    // A user's `blame.ignoreRevsFile` would change (or, if missing here, break) attribution.
    "blame.ignoreRevsFile=",
    "core.fsmonitor=false",
    "log.showSignature=false",
    "core.pager=cat",
    // Line ownership follows diffs: `log -p`, `--numstat` and `blame` must diff alike.
    "diff.algorithm=myers",
    "diff.renames=true",
];

impl Git<'_> {
    /// A hardened `git` command in the repository, without its arguments.
    pub(crate) fn command(&self) -> Command {
        let mut cmd = Command::new("git");
        cmd.arg("--no-pager").arg("-C").arg(self.repo.as_std_path());
        for setting in SAFE_CONFIG {
            cmd.args(["-c", setting]);
        }
        // The repository is the one named, whatever a calling hook exported.
        cmd.env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_PAGER", "cat")
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env("LC_ALL", "C")
            .env_remove("GIT_EXTERNAL_DIFF")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_OBJECT_DIRECTORY");
        cmd
    }

    /// Run git with `args` and return its standard output as bytes.
    pub(crate) fn run_os(&self, args: &[&OsStr]) -> Result<Vec<u8>, Error> {
        let out = self.command().args(args).output().map_err(|e| Error::Git {
            repo: self.repo.to_owned(),
            message: format!("cannot run git: {e} (is git installed and on PATH?)"),
        })?;
        if !out.status.success() {
            return Err(Error::Git {
                repo: self.repo.to_owned(),
                message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        Ok(out.stdout)
    }

    /// Run git with UTF-8 `args`; its output read as text (hashes, dates, subjects).
    pub(crate) fn run(&self, args: &[&str]) -> Result<String, Error> {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        Ok(String::from_utf8_lossy(&self.run_os(&args)?).into_owned())
    }
}

/// A file name as git printed it (bytes), as an argument for git.
pub(crate) fn os_path(name: &[u8]) -> OsString {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        OsStr::from_bytes(name).to_owned()
    }
    #[cfg(not(unix))]
    {
        OsString::from(String::from_utf8_lossy(name).into_owned())
    }
}
