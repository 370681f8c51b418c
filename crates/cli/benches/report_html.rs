//! `report --html` benchmark (issue #14): the real `agentos` binary writes the HTML report of a
//! generated year of history (default 1 000 000 turn events over 365 days and 6 models, ≈ 350
//! MB) — once cold (it builds the rollup checkpoint and the usage cache) and then warm, best of
//! 3 (the goal: ≤ 1 s and ≤ 2 MB of HTML).
//!
//! `cargo bench -p agentos-cli --bench report_html -- --events 100000`
//! (or `REPORT_HTML_BENCH_EVENTS=100000`). Prints one `{"bench":"report_html",…}` line.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use agentos_testkit::recorded::year_of_turns;

const RUNS: usize = 3;
const AGENTOS: &str = env!("CARGO_BIN_EXE_agentos");
type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() {
    let events = agentos_testkit::bench_size("--events", "REPORT_HTML_BENCH_EVENTS", 1_000_000);
    if let Err(e) = run(events) {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

fn report(dir: &Path, out: &Path) -> Res<f64> {
    let t = Instant::now();
    let o = Command::new(AGENTOS)
        .arg("--data-dir")
        .arg(dir)
        .args(["report", "--html"])
        .arg(out)
        .env_remove("AGENTOS_DATA_DIR")
        .output()?;
    let s = t.elapsed().as_secs_f64();
    if !o.status.success() {
        return Err(format!("report --html failed: {}", String::from_utf8_lossy(&o.stderr)).into());
    }
    Ok(s)
}

fn run(events: u64) -> Res<()> {
    let root =
        std::env::temp_dir().join(format!("agentos-report-html-bench-{}", std::process::id()));
    let result = (|| -> Res<(f64, f64, u64, u64)> {
        std::fs::create_dir_all(&root)?;
        let events_file = root.join("events.jsonl");
        // The year 2025.
        year_of_turns(&events_file, events, 1_767_225_600)?;
        let bytes = std::fs::metadata(&events_file)?.len();
        let out = root.join("report.html");
        let cold = report(&root, &out)?;
        let mut warm = f64::MAX;
        for _ in 0..RUNS {
            warm = warm.min(report(&root, &out)?);
        }
        Ok((cold, warm, bytes, std::fs::metadata(&out)?.len()))
    })();
    let _ = std::fs::remove_dir_all(&root);
    let (cold, warm, bytes, html) = result?;
    println!(
        "{{\"bench\":\"report_html\",\"events\":{events},\"events_mb\":{:.0},\"cold_s\":{cold:.3},\"warm_s\":{warm:.3},\"html_kb\":{},\"goal_s\":1.0,\"goal_html_kb\":2048}}",
        bytes as f64 / 1e6,
        html.div_ceil(1024)
    );
    Ok(())
}
