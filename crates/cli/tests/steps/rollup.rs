//! Steps about rollups and reports: files in the scratch dir (present, copied, compared byte for
//! byte) and a malformed line put into the recorded event log.

use cucumber::gherkin::Step;
use cucumber::{then, when};

use super::AgentosWorld;

/// Each row of the table names a file that must exist, non-empty, in the scratch dir's `dir`.
#[then(expr = "the directory {string} holds non-empty files:")]
fn holds_files(world: &mut AgentosWorld, dir: String, step: &Step) {
    let table = step.table.as_ref().expect("the step has a table of file names");
    let dir = world.dir().join(dir);
    for name in table.rows.iter().filter_map(|row| row.first()) {
        let path = dir.join(name);
        let len = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{} is missing: {e}", path.display()))
            .len();
        assert!(len > 0, "{} is empty", path.display());
    }
}

/// Copy a file within the scratch dir (to compare with later).
#[when(expr = "I copy {string} to {string}")]
fn copy_file(world: &mut AgentosWorld, from: String, to: String) {
    let dir = world.dir();
    std::fs::copy(dir.join(&from), dir.join(&to))
        .unwrap_or_else(|e| panic!("cannot copy {from} to {to}: {e}"));
}

#[then(expr = "{string} is byte-identical to {string}")]
fn byte_identical(world: &mut AgentosWorld, left: String, right: String) {
    let dir = world.dir();
    let read = |name: &str| {
        std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("cannot read {name}: {e}"))
    };
    let (a, b) = (read(&left), read(&right));
    assert!(
        a == b,
        "{left} differs from {right}:\n--- {left}\n{}\n--- {right}\n{}",
        String::from_utf8_lossy(&a),
        String::from_utf8_lossy(&b)
    );
}

/// Insert `line` so that it becomes line `number` (1-based) of the data dir's `file`.
#[when(expr = "the line {string} is inserted as line {int} of the data file {string}")]
fn insert_line(world: &mut AgentosWorld, line: String, number: usize, file: String) {
    let path = world.data_dir().join(&file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines: Vec<&str> = text.lines().collect();
    assert!((1..=lines.len() + 1).contains(&number), "{file} has {} lines", lines.len());
    lines.insert(number - 1, &line);
    std::fs::write(&path, lines.join("\n") + "\n").expect("data file written");
}
