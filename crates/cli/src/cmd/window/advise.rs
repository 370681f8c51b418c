//! `agentos window advise [--json]`: which provider to run next (to be written).

use std::process::ExitCode;

use camino::Utf8Path;

use crate::Global;

/// Options of `window advise`.
#[derive(Debug, clap::Args)]
pub struct AdviseArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(_a: &AdviseArgs, _dir: &Utf8Path, _g: &Global) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
