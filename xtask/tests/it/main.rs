//! Integration tests of `check-schemas`: the repository passes, and every failure mode is
//! caught with a message naming what to fix.

mod check;

use std::path::{Path, PathBuf};

use xtask::schema_check::{CheckOptions, Report, check};

/// The workspace root.
pub fn root() -> PathBuf {
    xtask::repo_root()
}

/// Options that check only what a test points at: committed schemas of the repo, no CCP dir.
pub fn opts_with_dir(dir: &Path) -> CheckOptions {
    let mut opts = CheckOptions::for_repo(&root());
    opts.ccp_dirs = vec![dir.to_path_buf()];
    opts
}

/// Run the check and return the report.
pub fn run(opts: &CheckOptions) -> Report {
    check(opts)
}
