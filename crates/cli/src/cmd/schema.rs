//! `agentos schema list|show|validate`.

use std::process::ExitCode;

use crate::Global;

/// Schema commands.
#[derive(Debug, clap::Subcommand)]
pub enum SchemaCmd {}

pub fn run(cmd: SchemaCmd, _global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {}
}
