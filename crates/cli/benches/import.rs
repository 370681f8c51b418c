//! Import benchmark (issue #10 "Performance"): generates a realistic Claude Code + Codex
//! history (`agentos_testkit::agent_history`, default ≈ 1.5 GB / ≈ 1M lines), then times side
//! by side, in one run, the real `agentos` binary and the leading peer tool:
//!
//! - `import_first`: the first `agentos import` of the whole history (goal: half the peer's
//!   wall time, peak RSS ≤ 128 MiB), alternating with
//! - `peer_daily`: the peer's `daily --json --offline` on the same files (`ccusage`, whose npm
//!   package ships a native Rust binary; installed into `target/peers` with npm when missing);
//! - `import_rerun`: `agentos import` again with nothing new (goal ≤ 100 ms);
//! - `import_append`: `agentos import` after one more session was written (bytes appended);
//! - `usage_daily`: `agentos usage daily --json` over the imported history (goal ≤ 200 ms);
//! - `import_check`: day × model cells of ours and the peer's `daily --json` (UTC) against the
//!   generator's truth, and against each other on the Claude part.
//!
//! Wall time is measured around the child process; peak RSS is the child's max RSS from
//! `/usr/bin/time` (`wait4`), else polled from `/proc/<pid>/status` `VmHWM`. The generated
//! history is deleted at the end. Without an `import`/`usage` command, or without npm, the
//! missing part is skipped with a note and the rest still runs.
//!
//! `cargo bench -p agentos-cli --bench import -- --bytes 200000000` (or `IMPORT_BENCH_BYTES`).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use agentos_testkit::agent_history::{History, Options};
use support::{Measured, Res, compare, measure, median};

const AGENTOS: &str = env!("CARGO_BIN_EXE_agentos");
const RUNS: usize = 3;
const QUICK_RUNS: usize = 5;
/// The peer's npm package and the version whose native binary is published.
const PEER_PACKAGE: &str = "ccusage@20.0.24";

fn main() {
    let bytes = agentos_testkit::bench_size("--bytes", "IMPORT_BENCH_BYTES", 1_500_000_000);
    let root = std::env::temp_dir().join(format!("agentos-import-bench-{}", std::process::id()));
    let result = run(&root, bytes);
    let _ = std::fs::remove_dir_all(&root);
    if let Err(e) = result {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

/// `agentos` with a clean environment: nothing from the user's own data dir or agent homes.
fn agentos(home: &Path, data: &Path) -> Command {
    let mut c = Command::new(AGENTOS);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("TZ", "UTC")
        .env("PRIVACY_TIER", "local")
        .arg("--data-dir")
        .arg(data);
    c
}

/// Whether `agentos <words> --help` succeeds (the command exists in this build).
fn has_command(words: &[&str]) -> bool {
    Command::new(AGENTOS)
        .args(words)
        .arg("--help")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn import_cmd(home: &Path, data: &Path, claude: &Path, codex: &Path) -> Command {
    let mut c = agentos(home, data);
    c.arg("import").arg("--claude-dir").arg(claude).arg("--codex-home").arg(codex).arg("--quiet");
    c
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// The peer's native binary under `target/peers`, installed with npm when missing.
fn peer() -> Result<PathBuf, String> {
    let prefix = target_dir().join("peers");
    let bin = prefix.join("node_modules/@ccusage/ccusage-linux-x64/bin/ccusage");
    if !bin.is_file() {
        let out = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg(PEER_PACKAGE)
            .output()
            .map_err(|e| format!("npm not available ({e})"))?;
        if !out.status.success() || !bin.is_file() {
            return Err(format!(
                "npm install {PEER_PACKAGE} did not give {} ({})",
                bin.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    // The npm wrapper makes the binary executable on first use; do it here.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("chmod {}: {e}", bin.display()))?;
    Ok(bin)
}

fn peer_cmd(bin: &Path, home: &Path, claude: &Path, codex: &Path) -> Command {
    let mut c = Command::new(bin);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("TZ", "UTC")
        .env("CLAUDE_CONFIG_DIR", claude)
        .env("CODEX_HOME", codex)
        .args(["daily", "--json", "--offline", "--timezone", "UTC"]);
    c
}

fn line(name: &str, fields: &[(&str, String)]) {
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
    println!("{{\"bench\":\"{name}\",{}}}", body.join(","));
}

fn secs(m: &[Measured]) -> String {
    format!("{:.4}", median(m.iter().map(|x| x.wall_s)))
}

fn rss(m: &[Measured]) -> String {
    match median(m.iter().filter_map(|x| x.rss_mib)) {
        f if f.is_nan() => "null".to_owned(),
        f => format!("{f:.1}"),
    }
}

fn run(root: &Path, bytes: u64) -> Res<()> {
    let (claude, codex, home) = (root.join("claude"), root.join("codex"), root.join("home"));
    std::fs::create_dir_all(&home)?;
    let started = std::time::Instant::now();
    let mut h = History::generate(&claude, &codex, &Options::with_bytes(bytes))?;
    let s = h.stats.clone();
    eprintln!(
        "generated {:.1} MB, {} lines, {} files ({} Claude sessions, {} sub-agent, {} resumed; {} Codex sessions), {} responses in {:.1} s",
        s.bytes as f64 / 1e6,
        s.lines,
        s.files,
        s.claude_sessions,
        s.subagent_files,
        s.resumed_sessions,
        s.codex_sessions,
        h.responses.len(),
        started.elapsed().as_secs_f64()
    );
    let claude_responses = h
        .responses
        .iter()
        .filter(|r| r.agent == agentos_testkit::agent_history::Agent::ClaudeCode)
        .count();
    let history = format!(
        "\"bytes\":{},\"lines\":{},\"files\":{},\"claude_responses\":{claude_responses},\"codex_sessions\":{}",
        s.bytes, s.lines, s.files, s.codex_sessions
    );
    let has_import = has_command(&["import"]);
    let has_usage = has_command(&["usage", "daily"]);
    let peer = peer();
    if let Err(note) = &peer {
        eprintln!("bench: peer skipped: {note}");
    }
    let out = root.join("out");
    std::fs::create_dir_all(&out)?;

    // Warm-up: the peer (or a read of every file) brings the history into the page cache.
    let data = root.join("data");
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    if let Ok(bin) = &peer {
        measure(peer_cmd(bin, &home, &claude, &codex), &out)?;
    }
    for i in 0..RUNS {
        if has_import {
            let _ = std::fs::remove_dir_all(&data);
            std::fs::create_dir_all(&data)?;
            let m = measure(import_cmd(&home, &data, &claude, &codex), &out)?;
            m.check(&format!("agentos import (run {i})"))?;
            ours.push(m);
        }
        if let Ok(bin) = &peer {
            let m = measure(peer_cmd(bin, &home, &claude, &codex), &out)?;
            m.check(&format!("peer daily (run {i})"))?;
            theirs.push(m);
        }
    }
    let ratio = if ours.is_empty() || theirs.is_empty() {
        "null".to_owned()
    } else {
        format!(
            "{:.3}",
            median(ours.iter().map(|m| m.wall_s)) / median(theirs.iter().map(|m| m.wall_s))
        )
    };
    if has_import {
        line(
            "import_first",
            &[
                ("wall_s", secs(&ours)),
                ("peak_rss_mib", rss(&ours)),
                ("vs_peer", ratio),
                ("runs", ours.len().to_string()),
                ("history", format!("{{{history}}}")),
                ("targets", "{\"vs_peer_max\":0.5,\"peak_rss_mib_max\":128}".to_owned()),
            ],
        );
    } else {
        line(
            "import_first",
            &[("skipped", "\"agentos has no import command in this build\"".into())],
        );
    }
    match &peer {
        Ok(_) => line(
            "peer_daily",
            &[
                ("tool", format!("\"{PEER_PACKAGE} daily --json --offline (native binary)\"")),
                ("wall_s", secs(&theirs)),
                ("peak_rss_mib", rss(&theirs)),
                ("runs", theirs.len().to_string()),
            ],
        ),
        Err(note) => line("peer_daily", &[("skipped", serde_json::to_string(note)?)]),
    }
    if !has_import {
        return Ok(());
    }

    // Exactness, side by side, before anything is appended.
    if has_usage {
        let mut c = agentos(&home, &data);
        c.args(["usage", "daily", "--json", "--timezone", "UTC"]);
        let ours_daily = measure(c, &out)?;
        ours_daily.check("agentos usage daily")?;
        let truth = h.daily("UTC")?;
        let peer_json = theirs.last().map(|m| m.stdout.as_slice());
        let c = compare(&truth, &ours_daily.stdout, peer_json)?;
        line(
            "import_check",
            &[
                ("cells", c.cells.to_string()),
                ("ours_vs_truth_mismatch", c.ours_vs_truth.to_string()),
                (
                    "peer_vs_truth_mismatch",
                    c.peer_vs_truth.map_or("null".into(), |n| n.to_string()),
                ),
                (
                    "peer_vs_ours_claude_mismatch",
                    c.peer_vs_ours_claude.map_or("null".into(), |n| n.to_string()),
                ),
                ("claude_cells", c.claude_cells.to_string()),
            ],
        );
    }

    let mut rerun = Vec::new();
    for i in 0..QUICK_RUNS {
        let m = measure(import_cmd(&home, &data, &claude, &codex), &out)?;
        m.check(&format!("agentos import, nothing new (run {i})"))?;
        rerun.push(m);
    }
    line(
        "import_rerun",
        &[
            ("wall_s", secs(&rerun)),
            ("peak_rss_mib", rss(&rerun)),
            ("runs", rerun.len().to_string()),
            ("targets", "{\"wall_s_max\":0.1}".to_owned()),
        ],
    );

    let mut appended = Vec::new();
    let mut appended_bytes = Vec::new();
    for i in 0..RUNS {
        let before = h.stats.bytes;
        h.add_claude_session()?;
        appended_bytes.push(h.stats.bytes - before);
        let m = measure(import_cmd(&home, &data, &claude, &codex), &out)?;
        m.check(&format!("agentos import after one appended session (run {i})"))?;
        appended.push(m);
    }
    line(
        "import_append",
        &[
            ("bytes_appended", format!("{:.0}", median(appended_bytes.iter().map(|b| *b as f64)))),
            ("wall_s", secs(&appended)),
            ("peak_rss_mib", rss(&appended)),
            ("runs", appended.len().to_string()),
        ],
    );

    if has_usage {
        let mut usage = Vec::new();
        for i in 0..QUICK_RUNS {
            let mut c = agentos(&home, &data);
            c.args(["usage", "daily", "--json"]);
            let m = measure(c, &out)?;
            m.check(&format!("agentos usage daily --json (run {i})"))?;
            usage.push(m);
        }
        line(
            "usage_daily",
            &[
                ("wall_s", secs(&usage)),
                ("peak_rss_mib", rss(&usage)),
                ("runs", usage.len().to_string()),
                ("targets", "{\"wall_s_max\":0.2}".to_owned()),
            ],
        );
    } else {
        line(
            "usage_daily",
            &[("skipped", "\"agentos has no usage command in this build\"".into())],
        );
    }
    Ok(())
}
