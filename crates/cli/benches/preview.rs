//! `preview` benchmark (issue #14): the real `agentos preview --once` — read the data, ask
//! CCC, draw a frame — against a local fake CCC (`FakeCcc`, the captures) on a generated year
//! of history ending now (default 1 000 000 turn events) whose caches an earlier run warmed;
//! best and median of 20 runs (goal: a redraw ≤ 50 ms, process start included). The features
//! panel (git) is left out: the live view reads it once a minute, not per redraw.
//!
//! `cargo bench -p agentos-cli --bench preview -- --events 100000`
//! (or `PREVIEW_BENCH_EVENTS=100000`). Prints one `{"bench":"preview",…}` line.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use agentos_testkit::FakeCcc;
use agentos_testkit::recorded::year_of_turns;

const RUNS: usize = 20;
const AGENTOS: &str = env!("CARGO_BIN_EXE_agentos");

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() {
    let events = agentos_testkit::bench_size("--events", "PREVIEW_BENCH_EVENTS", 1_000_000);
    if let Err(e) = run(events) {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

fn frame(dir: &Path, ccc: &str) -> Res<f64> {
    let t = Instant::now();
    let o = Command::new(AGENTOS)
        .arg("--data-dir")
        .arg(dir)
        .args(["preview", "--once", "--no-features", "--timezone", "UTC"])
        .env_remove("AGENTOS_DATA_DIR")
        .env("AGENTOS_CCC_BASE_URL", ccc)
        .output()?;
    let s = t.elapsed().as_secs_f64();
    if !o.status.success() || !String::from_utf8_lossy(&o.stdout).contains("up, ") {
        return Err(format!("preview --once failed: {}", String::from_utf8_lossy(&o.stderr)).into());
    }
    Ok(s)
}

fn run(events: u64) -> Res<()> {
    let root = std::env::temp_dir().join(format!("agentos-preview-bench-{}", std::process::id()));
    let result = (|| -> Res<(f64, f64)> {
        std::fs::create_dir_all(&root)?;
        let now = jiff::Timestamp::now().as_second();
        year_of_turns(&root.join("events.jsonl"), events, now)?;
        let ccc = FakeCcc::from_captures();
        frame(&root, &ccc.url())?; // warms the caches
        let mut times: Vec<f64> =
            (0..RUNS).map(|_| frame(&root, &ccc.url())).collect::<Res<_>>()?;
        times.sort_by(f64::total_cmp);
        Ok((times[0], times[RUNS / 2]))
    })();
    let _ = std::fs::remove_dir_all(&root);
    let (best, median) = result?;
    println!(
        "{{\"bench\":\"preview\",\"events\":{events},\"best_ms\":{:.1},\"median_ms\":{:.1},\"goal_ms\":50}}",
        best * 1e3,
        median * 1e3
    );
    Ok(())
}
