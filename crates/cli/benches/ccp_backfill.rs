//! CCC log backfill benchmark (issue #13 "Performance"): generates a CCP log tree
//! (`agentos_testkit::ccp_logs`, default ≈ 1M lines: rotations, archive, a tag copy, junk),
//! then times side by side, in one run:
//!
//! - `wc_l`: `wc -l` over the same files (the yardstick);
//! - `ccp_backfill_first`: the first `agentos backfill --ccp-root` into an empty data dir
//!   (goal: wall ≤ 15× `wc -l`), alternating with `wc -l`; its summary refresh included, and
//!   `ccp_backfill_events` the same without it (`--no-summary`);
//! - `ccp_backfill_onto_history`: the backfill of the first ~80 % of the days into a data dir
//!   whose log holds the rest already, rolled up (its summary refresh then resumes from a
//!   checkpoint with a base of ids);
//! - `ccp_backfill_rerun`: `agentos backfill` again with nothing new (goal ≤ 5 % of the first);
//! - `ccp_backfill_check`: requests, tokens and bad lines against the generator's truth.
//!
//! Peak RSS is the child's (`support::measure`). The generated tree is deleted at the end.
//!
//! `cargo bench -p agentos-cli --bench ccp_backfill -- --lines 200000` (or `CCP_BENCH_LINES`).
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use agentos_testkit::ccp_logs::CcpTree;
use support::{Measured, Res, measure, median};

const AGENTOS: &str = env!("CARGO_BIN_EXE_agentos");
const RUNS: usize = 3;
const QUICK_RUNS: usize = 5;
/// Lines per generated request, on average (decision, completion, some placeholders and
/// fallbacks).
const LINES_PER_REQUEST: f64 = 2.35;

fn main() {
    let lines = agentos_testkit::bench_size("--lines", "CCP_BENCH_LINES", 1_000_000);
    let root = std::env::temp_dir().join(format!("agentos-ccp-bench-{}", std::process::id()));
    let result = run(&root, lines);
    let _ = std::fs::remove_dir_all(&root);
    if let Err(e) = result {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

fn backfill(home: &Path, data: &Path, ccp: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(AGENTOS);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("TZ", "UTC")
        .arg("--data-dir")
        .arg(data)
        .arg("backfill")
        .arg("--ccp-root")
        .arg(ccp)
        .arg("--json")
        .args(extra);
    c
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) -> Res<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            files(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

fn line(name: &str, fields: &[(&str, String)]) {
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
    println!("{{\"bench\":\"{name}\",{}}}", body.join(","));
}

fn secs(m: &[Measured]) -> f64 {
    median(m.iter().map(|x| x.wall_s))
}

fn rss(m: &[Measured]) -> String {
    match median(m.iter().filter_map(|x| x.rss_mib)) {
        f if f.is_nan() => "null".to_owned(),
        f => format!("{f:.1}"),
    }
}

fn run(root: &Path, lines: u64) -> Res<()> {
    let (ccp, home, out) = (root.join("ccp"), root.join("home"), root.join("out"));
    std::fs::create_dir_all(&home)?;
    std::fs::create_dir_all(&out)?;
    let started = std::time::Instant::now();
    let requests = (lines as f64 / LINES_PER_REQUEST) as usize;
    // About 10 days of history from 2026-11-01, whatever the size (it must lie in the past:
    // younger decisions without a completion would wait for the next run).
    let max_gap = (2 * 10 * 86_400 / requests.max(1) as u64).max(1);
    let tree = CcpTree::generate_with(&ccp, requests, 42, max_gap)?;
    let mut all = Vec::new();
    files(&ccp.join("logs"), &mut all)?;
    all.sort();
    let bytes: u64 = all.iter().map(|p| p.metadata().map(|m| m.len()).unwrap_or(0)).sum();
    let mut wc = Command::new("wc");
    wc.arg("-l").args(&all);
    let counted = measure(wc, &out)?;
    counted.check("wc -l")?;
    let total_lines = String::from_utf8_lossy(&counted.stdout)
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default();
    eprintln!(
        "generated {:.1} MB, {total_lines} lines, {} files, {} requests in {:.1} s",
        bytes as f64 / 1e6,
        all.len(),
        tree.truth.requests,
        started.elapsed().as_secs_f64()
    );

    let data = root.join("data");
    let (mut first, mut events_only, mut wcs) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..RUNS {
        let mut wc = Command::new("wc");
        wc.arg("-l").args(&all);
        let m = measure(wc, &out)?;
        m.check("wc -l")?;
        wcs.push(m);
        let _ = std::fs::remove_dir_all(&data);
        let m = measure(backfill(&home, &data, &ccp, &["--no-summary"]), &out)?;
        m.check(&format!("agentos backfill --no-summary (run {i})"))?;
        events_only.push(m);
        let _ = std::fs::remove_dir_all(&data);
        let m = measure(backfill(&home, &data, &ccp, &[]), &out)?;
        m.check(&format!("agentos backfill (run {i})"))?;
        first.push(m);
    }
    let wc_s = secs(&wcs);
    line(
        "wc_l",
        &[
            ("wall_s", format!("{wc_s:.4}")),
            ("lines", total_lines.clone()),
            ("bytes", bytes.to_string()),
        ],
    );
    line(
        "ccp_backfill_events",
        &[
            ("wall_s", format!("{:.4}", secs(&events_only))),
            ("vs_wc_l", format!("{:.2}", secs(&events_only) / wc_s)),
            ("peak_rss_mib", rss(&events_only)),
            ("runs", events_only.len().to_string()),
            ("targets", "{\"vs_wc_l_max\":15}".to_owned()),
        ],
    );
    line(
        "ccp_backfill_first",
        &[
            ("wall_s", format!("{:.4}", secs(&first))),
            ("vs_wc_l", format!("{:.2}", secs(&first) / wc_s)),
            ("peak_rss_mib", rss(&first)),
            ("runs", first.len().to_string()),
            ("targets", "{\"vs_wc_l_max\":15}".to_owned()),
        ],
    );

    let report: serde_json::Value =
        serde_json::from_slice(&first.last().map(|m| m.stdout.clone()).unwrap_or_default())?;
    let t = &tree.truth;
    let mismatches = [
        ("requests", t.requests),
        ("failed", t.failed),
        ("input_tokens", t.input_tokens),
        ("output_tokens", t.output_tokens),
        ("bad_lines", t.bad_lines),
    ]
    .iter()
    .filter(|(k, v)| report[*k] != *v)
    .count();
    line(
        "ccp_backfill_check",
        &[("requests", t.requests.to_string()), ("mismatches", mismatches.to_string())],
    );

    // The later days first (written and rolled up), then everything: the earlier days are new.
    let days: Vec<&String> = t.by_day.keys().collect();
    let since = days.get(days.len() * 4 / 5).map_or("2026-11-08", |d| d.as_str());
    let later = root.join("later");
    let _ = std::fs::remove_dir_all(&later);
    measure(backfill(&home, &later, &ccp, &["--since", since]), &out)?.check("the later days")?;
    let mut onto = Vec::new();
    for i in 0..RUNS {
        let onto_dir = root.join("onto");
        let _ = std::fs::remove_dir_all(&onto_dir);
        let copied = Command::new("cp").arg("-r").arg(&later).arg(&onto_dir).status()?;
        if !copied.success() {
            return Err("cp -r of the data dir failed".into());
        }
        let m = measure(backfill(&home, &onto_dir, &ccp, &[]), &out)?;
        m.check(&format!("agentos backfill onto history (run {i})"))?;
        onto.push(m);
    }
    line(
        "ccp_backfill_onto_history",
        &[
            ("wall_s", format!("{:.4}", secs(&onto))),
            ("since", format!("\"{since}\"")),
            ("peak_rss_mib", rss(&onto)),
            ("runs", onto.len().to_string()),
        ],
    );

    let mut rerun = Vec::new();
    for i in 0..QUICK_RUNS {
        let m = measure(backfill(&home, &data, &ccp, &[]), &out)?;
        m.check(&format!("agentos backfill, nothing new (run {i})"))?;
        rerun.push(m);
    }
    line(
        "ccp_backfill_rerun",
        &[
            ("wall_s", format!("{:.4}", secs(&rerun))),
            ("vs_first", format!("{:.4}", secs(&rerun) / secs(&first))),
            ("peak_rss_mib", rss(&rerun)),
            ("runs", rerun.len().to_string()),
            ("targets", "{\"vs_first_max\":0.05}".to_owned()),
        ],
    );
    Ok(())
}
