//! The cucumber acceptance suite: every `features/*.feature` against the real `agentos`
//! binary. `harness = false`; it answers `--list` itself (empty) so `cargo test` and nextest
//! can enumerate targets, and ignores libtest flags.

mod steps;

use cucumber::World as _;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let features = crate::steps::harness::repo_root().join("features");
    futures::executor::block_on(
        steps::AgentosWorld::cucumber()
            .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
            .fail_on_skipped()
            .run_and_exit(features),
    );
}
