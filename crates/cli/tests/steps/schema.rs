//! Steps about schemas and validation.

use cucumber::given;

use super::AgentosWorld;

#[given(expr = "a copy of the CCP capture {string}")]
fn copy_capture(world: &mut AgentosWorld, name: String) {
    let from = crate::steps::harness::repo_root().join("fixtures/ccp").join(&name);
    std::fs::copy(&from, world.dir().join(&name))
        .unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
}

#[given(expr = "a copy of the Python-written event log {string}")]
fn copy_python_events(world: &mut AgentosWorld, name: String) {
    let from = crate::steps::harness::repo_root().join("fixtures/agentos-py/events").join(&name);
    std::fs::copy(&from, world.dir().join(&name))
        .unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
}
