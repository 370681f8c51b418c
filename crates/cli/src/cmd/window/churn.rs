//! `agentos window churn`: the tracker's churn of a window's commit range (to be written).

use std::process::ExitCode;

use camino::Utf8Path;

/// Options of `window churn`.
#[derive(Debug, clap::Args)]
pub struct ChurnArgs {
    /// The window.
    #[arg(long, value_name = "W")]
    pub window: String,
}

pub fn run(_a: &ChurnArgs, _dir: &Utf8Path) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
