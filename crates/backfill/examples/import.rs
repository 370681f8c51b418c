//! Import a history into an event file and print what it took: a quick measurement tool.
//!
//! `cargo run --release -p agentos-backfill --example import -- CLAUDE_DIR CODEX_HOME STATE_DIR OUT`
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::time::Instant;

use agentos_backfill::{Error, Options, PrivacyTier, Sources, prepare};
use camino::Utf8PathBuf;

/// CPU seconds used so far (user + system), from `/proc/self/stat` (clock ticks of 10 ms).
fn cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let f: Vec<f64> = after.split_whitespace().map(|x| x.parse().unwrap_or(0.0)).collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let [claude, codex, state, out] = <[String; 4]>::try_from(a)
        .map_err(|_| "usage: import CLAUDE_DIR CODEX_HOME STATE_DIR OUT")?;
    let t = Instant::now();
    let opts = Options {
        sources: Sources { claude_dirs: vec![claude.into()], codex_homes: vec![codex.into()] },
        state_dir: Utf8PathBuf::from(state),
        privacy_tier: PrivacyTier::Local,
        threads: 2,
        prices: Some(agentos_event_schema::prices::PriceTable::bundled()),
        received_fingerprints: None,
    };
    let pending = prepare(&opts, &|_| {})?;
    let read = t.elapsed();
    let cpu_read = cpu();
    let file = std::fs::OpenOptions::new().create(true).append(true).open(out)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    pending.write_events(|l| {
        w.write_all(l.as_bytes())
            .and_then(|()| w.write_all(b"\n"))
            .map_err(|e| Error::Encode(serde_json::Error::io(e)))
    })?;
    w.flush()?;
    let written = t.elapsed();
    let cpu_written = cpu();
    let report = pending.commit()?;
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM")).map(str::to_owned))
        .unwrap_or_default();
    println!(
        "read {:?} (cpu {cpu_read:.2} s), events written {:?} (cpu {cpu_written:.2} s), total {:?} (cpu {:.2} s); {hwm}; files {} read {} unchanged; {} lines; {} responses, {} duplicates, {} sessions",
        read,
        written,
        t.elapsed(),
        cpu(),
        report.files_read,
        report.files_unchanged,
        report.lines,
        report.responses,
        report.duplicates,
        report.sessions
    );
    Ok(())
}
