//! End-to-end tests of `agentos schema`: the real binary on the real fixtures.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_agentos(args: &[&str], cwd: &Path) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_agentos"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("agentos can be started");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn schema_list_names_every_schema_with_its_file() {
    let out = run_agentos(&["schema", "list"], &repo_root());
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    // One line per committed schema file (the files are generated one per schema kind).
    let files = ["schemas/v1", "schemas/ccp"]
        .iter()
        .flat_map(|d| std::fs::read_dir(repo_root().join(d)).expect("schema dir").flatten())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".schema.json"))
        .count();
    assert_eq!(lines.len(), files, "{}", out.stdout);
    assert!(
        lines[0].starts_with("v1-event ") && lines[0].contains("v1/event.schema.json"),
        "{}",
        lines[0]
    );
    assert!(out.stdout.contains("ccp-usage-line "), "{}", out.stdout);
}

#[test]
fn schema_show_prints_the_committed_schema() {
    let out = run_agentos(&["schema", "show", "v1-turn"], &repo_root());
    assert_eq!(out.code, 0, "{}", out.stderr);
    let committed =
        std::fs::read_to_string(repo_root().join("schemas/v1/turn.schema.json")).unwrap();
    assert_eq!(out.stdout, committed);
}

#[test]
fn every_ccp_capture_validates_through_the_binary() {
    let root = repo_root();
    for (kind, file) in [
        ("ccp-usage-line", "fixtures/ccp/usage_basic.jsonl"),
        ("ccp-usage-line", "fixtures/ccp/usage_warn_block.jsonl"),
        ("ccp-usage-line", "fixtures/ccp/usage_license_block.jsonl"),
        ("ccp-usage", "fixtures/ccp/v1_usage.json"),
        ("ccp-usage", "fixtures/ccp/v1_usage_hod_bins.json"),
        ("ccp-quotas", "fixtures/ccp/v1_quotas.json"),
        ("ccp-readyz", "fixtures/ccp/readyz_ok.json"),
        ("ccp-readyz", "fixtures/ccp/readyz_catalog_error_503.json"),
        ("ccp-usage-samples", "fixtures/ccp/v1_usage_samples.json"),
        ("ccp-usage-rollups", "fixtures/ccp/v1_usage_rollups_hour.json"),
        ("v1-event", "fixtures/agentos-py/events/python_written.jsonl"),
    ] {
        let out = run_agentos(&["schema", "validate", "--strict", "--kind", kind, file], &root);
        assert_eq!(out.code, 0, "{kind} {file}:\n{}{}", out.stdout, out.stderr);
        assert!(out.stdout.starts_with(&format!("{file}: ok (")), "{}", out.stdout);
    }
}

#[test]
fn validating_against_the_wrong_kind_reports_every_violation_and_exits_1() {
    let file = "fixtures/ccp/v1_quotas.json";
    let out = run_agentos(&["schema", "validate", "--kind", "ccp-usage-line", file], &repo_root());
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let violations: Vec<&str> = out.stdout.lines().collect();
    assert!(violations.len() >= 3, "{}", out.stdout);
    assert!(violations.iter().all(|l| l.starts_with(&format!("{file}:1: /: "))), "{}", out.stdout);
    assert!(out.stderr.contains("1 of 1 files invalid against ccp-usage-line"), "{}", out.stderr);
}

#[test]
fn strict_mode_names_fields_the_types_do_not_model() {
    let out = run_agentos(
        &[
            "schema",
            "validate",
            "--strict",
            "--kind",
            "ccp-quotas-config",
            "fixtures/ccp-repo-data/quotas.example.json",
        ],
        &repo_root(),
    );
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout.trim_end(),
        "fixtures/ccp-repo-data/quotas.example.json:2: /$schema: field \"$schema\" is not modelled by the ccp-quotas-config types"
    );
}

#[test]
fn usage_errors_exit_2_with_what_to_do() {
    let root = repo_root();
    let out = run_agentos(&["schema", "show", "nope"], &root);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.starts_with("error: unknown schema \"nope\": use one of v1-event,"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("(see `agentos schema list`)"), "{}", out.stderr);
    let out = run_agentos(&["schema", "validate", "--kind", "ccp-usage"], &root);
    assert_eq!(out.code, 2, "clap rejects a missing FILE");
}

#[test]
fn an_over_long_jsonl_line_is_reported_and_the_rest_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.jsonl");
    let good = std::fs::read_to_string(repo_root().join("fixtures/ccp/usage_basic.jsonl")).unwrap();
    let first = good.lines().next().unwrap();
    let junk = "x".repeat((64 << 20) + 10);
    std::fs::write(&file, format!("{first}\n{junk}\n{{\"ts\":\"late\"}}\n{first}\n")).unwrap();
    let path = file.to_str().unwrap();
    let out = run_agentos(&["schema", "validate", "--kind", "ccp-usage-line", path], &repo_root());
    assert_eq!(out.code, 1, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], format!("{path}:2: /: line longer than 64 MiB: not validated"));
    assert!(lines[1..].iter().all(|l| l.starts_with(&format!("{path}:3: "))), "{}", out.stdout);
    assert!(lines.len() >= 2, "{}", out.stdout);
}
