//! Running the real `agentos` binary for the cucumber suite: the binary Cargo built for this
//! package's tests (`CARGO_BIN_EXE_agentos`), the workspace root, captured output.
//!
//! Using Cargo's own binary means a warm `cargo test` rebuilds nothing: the suite never starts
//! a nested `cargo build` (whose different feature set used to recompile ten crates).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The workspace root (two levels above this package's manifest).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What a finished command printed and returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommandOutput {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

/// Environment variables that configure `agentos`; never inherited by the commands run here.
const AGENTOS_ENV_VARS: &[&str] = &[
    "AGENTOS_DATA_DIR",
    "PRIVACY_TIER",
    "AGENTOS_CCC_BASE_URL",
    "CCC_API_KEY",
    "LICENSE_PACK_PATH",
    "AGENTOS_PUBKEYS",
    "CCP_LICENSE_PUBKEY_B64",
];

/// Run `agentos ARGS` in `cwd` with no inherited AgentOS environment and capture its output.
pub fn run_agentos(args: &[&str], cwd: &Path) -> CommandOutput {
    run_agentos_with_env(args, cwd, &[])
}

/// [`run_agentos`] with these environment variables set on the child only (the test process's
/// own environment is never changed).
pub fn run_agentos_with_env(args: &[&str], cwd: &Path, env: &[(String, String)]) -> CommandOutput {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentos"));
    cmd.args(args).current_dir(cwd).stdin(Stdio::null());
    for var in AGENTOS_ENV_VARS {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    let out = cmd.output().expect("agentos can be started");
    CommandOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
