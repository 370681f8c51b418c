//! `agentos license …` and `agentos policy …` (filled by the licensing work).

use std::process::ExitCode;

use crate::Global;

/// License commands.
#[derive(Debug, clap::Subcommand)]
pub enum LicenseCmd {}

/// Policy commands.
#[derive(Debug, clap::Subcommand)]
pub enum PolicyCmd {}

pub fn run(cmd: LicenseCmd, _global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {}
}

pub fn run_policy(cmd: PolicyCmd, _global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {}
}
