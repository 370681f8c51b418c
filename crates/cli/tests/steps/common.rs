//! Steps every area uses: files in the scratch dir, running `agentos`, checking its output.

use cucumber::gherkin::Step;
use cucumber::{given, then, when};

use super::AgentosWorld;

#[given(expr = "a file {string} containing:")]
fn file_containing(world: &mut AgentosWorld, name: String, step: &Step) {
    let text = step.docstring.as_deref().expect("the step has a doc string");
    // Gherkin keeps the newline after the opening delimiter.
    let text = text.strip_prefix('\n').unwrap_or(text);
    std::fs::write(world.dir().join(name), text).expect("file written");
}

#[when(expr = "I run {string}")]
fn run(world: &mut AgentosWorld, command: String) {
    let mut words = command.split_whitespace();
    assert_eq!(words.next(), Some("agentos"), "steps run only the agentos binary: {command}");
    let args: Vec<&str> = words.collect();
    let dir = world.dir();
    world.last = Some(crate::steps::harness::run_agentos(&args, &dir));
}

#[then(expr = "the exit code is {int}")]
fn exit_code(world: &mut AgentosWorld, code: i32) {
    let last = world.last();
    assert_eq!(last.code, code, "stdout:\n{}\nstderr:\n{}", last.stdout, last.stderr);
}

#[then(expr = "stdout contains {string}")]
fn stdout_contains(world: &mut AgentosWorld, text: String) {
    let out = &world.last().stdout;
    assert!(out.contains(&text), "stdout lacks {text:?}:\n{out}");
}

#[then(expr = "stderr contains {string}")]
fn stderr_contains(world: &mut AgentosWorld, text: String) {
    let err = &world.last().stderr;
    assert!(err.contains(&text), "stderr lacks {text:?}:\n{err}");
}

#[then(expr = "stdout has {int} line(s) starting with {string}")]
fn stdout_lines_starting(world: &mut AgentosWorld, count: usize, prefix: String) {
    let out = &world.last().stdout;
    let n = out.lines().filter(|l| l.starts_with(&prefix)).count();
    assert_eq!(n, count, "lines starting with {prefix:?} in:\n{out}");
}
