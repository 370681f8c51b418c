//! `agentos session …`, `upload-metrics`, `outbox …`, `privacy …` (filled by the recorder work).

use std::process::ExitCode;

use crate::Global;

/// Session commands.
#[derive(Debug, clap::Subcommand)]
pub enum SessionCmd {}

/// Arguments of `upload-metrics`.
#[derive(Debug, clap::Args)]
pub struct UploadMetricsArgs {}

/// Outbox commands.
#[derive(Debug, clap::Subcommand)]
pub enum OutboxCmd {}

/// Privacy commands.
#[derive(Debug, clap::Subcommand)]
pub enum PrivacyCmd {}

pub fn run(cmd: SessionCmd, _global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {}
}

pub fn upload_metrics(_args: UploadMetricsArgs, _global: &Global) -> anyhow::Result<ExitCode> {
    anyhow::bail!("upload-metrics is not available yet")
}

pub fn run_outbox(cmd: OutboxCmd, _global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {}
}

pub fn run_privacy(cmd: PrivacyCmd, _global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {}
}
