//! Rollup memory under an adversarial history (issue #17): the real `agentos rollup` over a
//! generated log of 1 000 000 lines — 500 000 distinct sessions, each a `session` line and one
//! turn, none ever ended — with its peak resident set measured around the whole process
//! (`support::measure`: GNU time's `%M`, else `/proc` polling). Two runs: a whole read
//! (`--events FILE`, no checkpoint: what `rollup --full` and `report` do) and the data dir's
//! default, which also writes the checkpoint and its sessions base. Each run's summary must
//! count exactly the sessions generated. Goal: the whole read ≤ 128 MiB.
//!
//! `cargo bench -p agentos-cli --bench rollup_memory -- --sessions 100000`
//! (or `ROLLUP_MEMORY_BENCH_SESSIONS`). The generated log (~290 MB at the default size) is
//! removed at the end. Prints a table and one `{"bench":"rollup_memory",…}` line.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[allow(dead_code)]
mod support;

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;

use support::{Measured, Res, measure};

const AGENTOS: &str = env!("CARGO_BIN_EXE_agentos");
/// The goal for the whole read at the default size.
const RSS_GOAL_MIB: f64 = 128.0;

fn main() {
    let sessions =
        agentos_testkit::bench_size("--sessions", "ROLLUP_MEMORY_BENCH_SESSIONS", 500_000);
    if let Err(e) = run(sessions) {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

/// `sessions` sessions that never end: a `session` line and one turn each (2 lines).
fn generate(path: &Path, sessions: u64) -> Res<u64> {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    for s in 0..sessions {
        let day = 1 + s % 28;
        let ts = format!("2026-10-{day:02}T10:00:00.000000Z");
        let sid = format!("adv-{s:010}");
        writeln!(
            w,
            "{{\"type\":\"session\",\"event_id\":\"s-{s:016x}\",\"ts\":\"{ts}\",\"schema_version\":\"1.1.0\",\"session\":{{\"session_id\":\"{sid}\",\"repo_id\":\"r\",\"branch\":\"main\",\"commit\":\"c\",\"license_id\":\"local\",\"privacy_tier\":\"local\",\"created_at\":\"{ts}\"}}}}"
        )?;
        writeln!(
            w,
            "{{\"type\":\"turn\",\"event_id\":\"t-{s:016x}\",\"ts\":\"{ts}\",\"schema_version\":\"1.1.0\",\"turn\":{{\"turn_id\":\"t{s:015x}\",\"session_id\":\"{sid}\",\"model\":\"glm/4.6\",\"subagent\":\"main\",\"tokens_in\":100,\"tokens_out\":20,\"input_kind\":\"text\",\"latency_ms\":10.5,\"attribution\":{{}}}}}}"
        )?;
    }
    w.flush()?;
    Ok(2 * sessions)
}

/// Run `agentos rollup` with `args` in `data`, check its summary's counts, return the run.
fn rollup(data: &Path, args: &[&str], sessions: u64, scratch: &Path) -> Res<Measured> {
    let mut c = Command::new(AGENTOS);
    c.arg("--data-dir").arg(data).arg("rollup").args(args).env("PRIVACY_TIER", "local");
    let m = measure(c, scratch)?;
    m.check("agentos rollup")?;
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("metrics_summary.json"))?)?;
    let (got, turns) = (summary["sessions"].as_u64(), summary["turns"].as_u64());
    if (got, turns) != (Some(sessions), Some(sessions)) {
        return Err(format!("counted {got:?} sessions, {turns:?} turns; want {sessions}").into());
    }
    Ok(m)
}

fn run(sessions: u64) -> Res<()> {
    let root =
        std::env::temp_dir().join(format!("agentos-rollup-memory-bench-{}", std::process::id()));
    std::fs::create_dir_all(&root)?;
    let result = (|| -> Res<(u64, u64, Measured, Measured)> {
        let whole = root.join("whole");
        let ckpt = root.join("checkpointed");
        std::fs::create_dir_all(&whole)?;
        std::fs::create_dir_all(&ckpt)?;
        let log = ckpt.join("events.jsonl");
        let lines = generate(&log, sessions)?;
        let bytes = std::fs::metadata(&log)?.len();
        let log_arg = log.to_str().ok_or("temp dir is not UTF-8")?;
        let full = rollup(&whole, &["--events", log_arg], sessions, &root)?;
        let resumable = rollup(&ckpt, &[], sessions, &root)?;
        Ok((lines, bytes, full, resumable))
    })();
    let _ = std::fs::remove_dir_all(&root);
    let (lines, bytes, full, resumable) = result?;
    let mib = |m: &Measured| m.rss_mib.unwrap_or(f64::NAN);
    let per = |m: &Measured| mib(m) * 1024.0 * 1024.0 / sessions as f64;
    println!(
        "{:>10} {:>10} {:>9} {:>14} {:>10} {:>16} {:>12}",
        "sessions", "lines", "MB", "whole_rss_MiB", "whole_s", "checkpoint_MiB", "checkpoint_s"
    );
    println!(
        "{sessions:>10} {lines:>10} {:>9.1} {:>14.1} {:>10.2} {:>16.1} {:>12.2}",
        bytes as f64 / 1e6,
        mib(&full),
        full.wall_s,
        mib(&resumable),
        resumable.wall_s
    );
    println!(
        "{{\"bench\":\"rollup_memory\",\"sessions\":{sessions},\"lines\":{lines},\"bytes\":{bytes},\"whole_rss_mib\":{:.1},\"whole_bytes_per_session\":{:.0},\"whole_s\":{:.3},\"checkpointed_rss_mib\":{:.1},\"checkpointed_bytes_per_session\":{:.0},\"checkpointed_s\":{:.3},\"targets\":{{\"whole_rss_mib_max\":{RSS_GOAL_MIB}}}}}",
        mib(&full),
        per(&full),
        full.wall_s,
        mib(&resumable),
        per(&resumable),
        resumable.wall_s
    );
    Ok(())
}
