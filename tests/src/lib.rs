//! Support for the workspace acceptance tests: locating (and if needed building) the
//! `agentos` binary and running it with captured output.
//!
//! What it is for: the cucumber suite (`tests/cucumber.rs` over `features/`) and the
//! end-to-end tests (`tests/e2e/`) drive the real binary the way a user does. What it is not:
//! a test framework; product code never depends on it.
//!
//! ```no_run
//! let out = agentos_acceptance::run_agentos(&["schema", "list"], &agentos_acceptance::repo_root());
//! assert_eq!(out.code, 0);
//! ```
#![deny(missing_docs)]
#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The workspace root.
pub fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
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

/// Longest a one-off `cargo build -p agentos-cli` may take.
const BUILD_LIMIT: Duration = Duration::from_secs(900);

/// Path of the `agentos` binary next to the running test executable
/// (`target/<profile>/deps/<test>` → `target/<profile>/agentos`), brought up to date once per
/// process with `cargo build -p agentos-cli` (a no-op when fresh; bounded), because
/// `cargo test` alone does not rebuild another package's binary.
pub fn agentos_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test executable has a path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .map(PathBuf::from)
            .expect("test executable lives in target/<profile>/deps");
        let bin = profile_dir.join(format!("agentos{}", std::env::consts::EXE_SUFFIX));
        if let Err(e) = build_cli(&profile_dir) {
            assert!(bin.is_file(), "{e}; and no agentos binary at {}", bin.display());
            eprintln!("warning: {e}; testing the existing {}", bin.display());
        }
        assert!(
            bin.is_file(),
            "agentos binary not found at {}: run `cargo build -p agentos-cli`",
            bin.display()
        );
        bin
    })
    .clone()
}

fn build_cli(profile_dir: &Path) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(repo_root()).args([
        "build",
        "--quiet",
        "-p",
        "agentos-cli",
        "--bin",
        "agentos",
    ]);
    if let Some(target_dir) = profile_dir.parent() {
        cmd.env("CARGO_TARGET_DIR", target_dir);
    }
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    let mut child =
        cmd.stdout(Stdio::null()).spawn().map_err(|e| format!("cannot run cargo: {e}"))?;
    let deadline = Instant::now() + BUILD_LIMIT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                return Err(format!("`cargo build -p agentos-cli` failed: {status}"));
            }
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`cargo build -p agentos-cli` took longer than {BUILD_LIMIT:?}"
                ));
            }
            Err(e) => return Err(format!("waiting for cargo: {e}")),
        }
    }
}

/// Environment variables that configure `agentos`; never inherited by the commands run here.
pub const AGENTOS_ENV_VARS: &[&str] = &[
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
    let mut cmd = Command::new(agentos_bin());
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
