//! Feature attribution benchmark: a generated repository of 10 000 commits on `main` (written
//! with `git fast-import`, conventional-commit scopes, one file changed each) and 2 000
//! sessions on it, through `features_report` with churn (7/14/28 days) and without (goal ≤ 2 s).
//!
//! `cargo bench -p agentos-rollup --bench features`. Prints a `{"bench":"features",…}` line
//! per setting.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Instant;

use agentos_rollup::features::{FeaturesOptions, features_report};
use agentos_rollup::usage::PriceBook;
use camino::Utf8PathBuf;

const COMMITS: i64 = 10_000;
const SESSIONS: i64 = 2_000;
const T0: i64 = 1_767_225_600;
const RUNS: usize = 3;

fn main() {
    if let Err(e) = run() {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

fn ts(t: i64) -> String {
    jiff::Timestamp::from_second(t).map(|t| t.to_string()).unwrap_or_default()
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let root = Utf8PathBuf::from_path_buf(dir.path().join("repo")).map_err(|_| "utf-8")?;
    let git = |args: &[&str]| {
        let mut cmd = Command::new("git");
        cmd.arg("-C")
            .arg(root.as_str())
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null");
        cmd
    };
    std::fs::create_dir_all(&root)?;
    if !git(&["init", "-q", "-b", "main"]).status()?.success() {
        return Err("git init failed".into());
    }
    let mut stream = String::new();
    for i in 0..COMMITS {
        let t = T0 + i * 600;
        let msg = format!("feat(s{}): change {i}\n", i % 500);
        let data: String = (0..5).map(|k| format!("line {i} {k}\n")).collect();
        stream.push_str(&format!(
            "commit refs/heads/main\nmark :{}\nauthor A <a@example.invalid> {t} +0000\n\
             committer A <a@example.invalid> {t} +0000\ndata {}\n{msg}",
            i + 1,
            msg.len()
        ));
        if i > 0 {
            stream.push_str(&format!("from :{i}\n"));
        }
        stream.push_str(&format!("M 644 inline f{}.txt\ndata {}\n{data}\n", i % 300, data.len()));
    }
    let mut child = git(&["fast-import", "--quiet"]).stdin(Stdio::piped()).spawn()?;
    child.stdin.take().ok_or("no stdin")?.write_all(stream.as_bytes())?;
    if !child.wait()?.success() {
        return Err("git fast-import failed".into());
    }
    git(&["reset", "-q", "--hard"]).status()?;
    let events =
        Utf8PathBuf::from_path_buf(dir.path().join("events.jsonl")).map_err(|_| "utf-8")?;
    let mut lines = String::new();
    for s in 0..SESSIONS {
        let (first, last) = (T0 + s * 3_000, T0 + s * 3_000 + 2_400);
        lines.push_str(
            &serde_json::json!({"type": "session", "event_id": format!("s{s}"),
            "ts": ts(last), "schema_version": "1.1.0",
            "session": {"session_id": format!("s{s}"), "repo_id": "", "branch": "main",
                "commit": "", "license_id": "", "privacy_tier": "local", "created_at": ts(first),
                "metadata": {}, "agent": "claude-code", "cwd": root.as_str(),
                "last_active_at": ts(last)}})
            .to_string(),
        );
        lines.push('\n');
        for k in 0..5 {
            let id = format!("t{s}-{k}");
            lines.push_str(
                &serde_json::json!({"type": "turn", "event_id": id,
                "ts": ts(first + k * 600), "schema_version": "1.1.0",
                "turn": {"turn_id": id, "session_id": format!("s{s}"),
                    "model": "claude-sonnet-4-5-20250929", "subagent": "main",
                    "tokens_in": 1000, "tokens_out": 100, "input_kind": "text",
                    "latency_ms": 0.0, "responded_at": ts(first + k * 600)}})
                .to_string(),
            );
            lines.push('\n');
        }
    }
    std::fs::write(&events, lines)?;
    let book = PriceBook::bundled();
    for churn in [true, false] {
        let opts = FeaturesOptions { churn, ..FeaturesOptions::new() };
        let mut best = f64::INFINITY;
        let mut features = 0;
        for _ in 0..RUNS {
            let start = Instant::now();
            let r = features_report(std::slice::from_ref(&events), &book, &opts)?;
            best = best.min(start.elapsed().as_secs_f64());
            features = r.features.len();
        }
        println!(
            "{{\"bench\":\"features\",\"churn\":{churn},\"commits\":{COMMITS},\"sessions\":{SESSIONS},\"features\":{features},\"best_wall_s\":{best:.3},\"goal_s\":2.0}}"
        );
    }
    Ok(())
}
