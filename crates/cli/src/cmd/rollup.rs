//! `agentos rollup`, `report`, `churn`, `efficiency`, `demo` (filled by the rollup work).

use std::process::ExitCode;

use crate::Global;

/// Arguments of `rollup`.
#[derive(Debug, clap::Args)]
pub struct RollupArgs {}
/// Arguments of `report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {}
/// Arguments of `churn`.
#[derive(Debug, clap::Args)]
pub struct ChurnArgs {}
/// Arguments of `efficiency`.
#[derive(Debug, clap::Args)]
pub struct EfficiencyArgs {}
/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

pub fn rollup(_a: RollupArgs, _g: &Global) -> anyhow::Result<ExitCode> {
    anyhow::bail!("rollup is not available yet")
}
pub fn report(_a: ReportArgs, _g: &Global) -> anyhow::Result<ExitCode> {
    anyhow::bail!("report is not available yet")
}
pub fn churn(_a: ChurnArgs, _g: &Global) -> anyhow::Result<ExitCode> {
    anyhow::bail!("churn is not available yet")
}
pub fn efficiency(_a: EfficiencyArgs, _g: &Global) -> anyhow::Result<ExitCode> {
    anyhow::bail!("efficiency is not available yet")
}
pub fn demo(_a: DemoArgs, _g: &Global) -> anyhow::Result<ExitCode> {
    anyhow::bail!("demo is not available yet")
}
