//! Step definitions, one module per area. The [`AgentosWorld`] holds a scratch directory and
//! the last command's output. To add an area: one `pub mod <area>;` line below.

pub mod common;
pub mod harness;
pub mod licensing;
pub mod recorder;
pub mod rollup;
pub mod schema;

use crate::steps::harness::CommandOutput;

/// State of one scenario.
#[derive(Debug, Default, cucumber::World)]
pub struct AgentosWorld {
    /// Scratch directory, created on first use; commands run in it.
    pub dir: Option<tempfile::TempDir>,
    /// Output of the last command run.
    pub last: Option<CommandOutput>,
    /// Recorder and privacy-tier state: fake CCC, environment, commands run.
    pub recorder: recorder::RecorderState,
}

impl AgentosWorld {
    /// The scenario's scratch directory.
    pub fn dir(&mut self) -> std::path::PathBuf {
        self.dir
            .get_or_insert_with(|| tempfile::tempdir().expect("a temp dir can be created"))
            .path()
            .to_path_buf()
    }

    /// The last command's output (a step ran one before).
    pub fn last(&self) -> &CommandOutput {
        self.last.as_ref().expect("a previous step ran a command")
    }
}
