//! `cargo xtask bench`: run the workspace benchmarks that exist, collect the JSON line each
//! prints (`{"bench": …}`), show them as one table and keep them in `target/bench/results.json`.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value as Json;

/// A benchmark target: package, bench name, crate directory.
#[derive(Clone, Copy, Debug)]
pub struct Bench {
    /// Cargo package.
    pub package: &'static str,
    /// `[[bench]]` name (`benches/<name>.rs`).
    pub name: &'static str,
    /// Crate directory relative to the workspace root.
    pub dir: &'static str,
    /// Whether it understands `--events N`.
    pub takes_events: bool,
}

/// The benchmarks `cargo xtask bench` knows.
pub const BENCHES: [Bench; 13] = [
    Bench {
        package: "agentos-licensing",
        name: "verify",
        dir: "crates/licensing",
        takes_events: false,
    },
    Bench {
        package: "agentos-ccc-client",
        name: "append",
        dir: "crates/ccc-client",
        takes_events: false,
    },
    // Export of N turns (default 1M) to a local sink collector through the outbox (≥ 100k/s).
    Bench {
        package: "agentos-ccc-client",
        name: "otlp_export",
        dir: "crates/ccc-client",
        takes_events: true,
    },
    Bench { package: "agentos-rollup", name: "rollup", dir: "crates/rollup", takes_events: true },
    // `features_report` over a generated 10,000-commit repository and 2,000 sessions (≤ 2 s).
    Bench {
        package: "agentos-rollup",
        name: "features",
        dir: "crates/rollup",
        takes_events: false,
    },
    // `session end` on an empty data dir vs on a ~700 MB checkpointed history (goal ≤ 2×).
    Bench { package: "agentos-cli", name: "session_end", dir: "crates/cli", takes_events: true },
    // `usage daily --json` over a generated ~150 MB imported history (goal ≤ 200 ms).
    Bench { package: "agentos-cli", name: "usage", dir: "crates/cli", takes_events: false },
    // `report --html` over a generated year of history (1M turns), cold and warm (≤ 1 s, ≤ 2 MB).
    Bench { package: "agentos-cli", name: "report_html", dir: "crates/cli", takes_events: false },
    // `preview --once` against a local fake CCC on a warmed year of history (≤ 50 ms).
    Bench { package: "agentos-cli", name: "preview", dir: "crates/cli", takes_events: false },
    // `agentos import` of a generated ~1.5 GB agent history vs the leading peer's
    // `daily --json --offline`, re-runs and `usage daily` (size: `IMPORT_BENCH_BYTES`).
    Bench { package: "agentos-cli", name: "import", dir: "crates/cli", takes_events: false },
    // `ccc usage --json` end to end against a local fake CCC (goal ≤ 50 ms).
    Bench { package: "agentos-cli", name: "ccc_usage", dir: "crates/cli", takes_events: false },
    // `agentos backfill --ccp-root` of a generated ~1M-line CCP log tree vs `wc -l` on the
    // same files (≤ 15×), and its re-run (≤ 5 %) (size: `CCP_BENCH_LINES`).
    Bench { package: "agentos-cli", name: "ccp_backfill", dir: "crates/cli", takes_events: false },
    // `agentos rollup` over 1M lines of 500k never-ended sessions: peak RSS of a whole read
    // (≤ 128 MiB) and of the checkpointed run (size: `ROLLUP_MEMORY_BENCH_SESSIONS`).
    Bench { package: "agentos-cli", name: "rollup_memory", dir: "crates/cli", takes_events: false },
];

impl Bench {
    /// The target exists: `benches/<name>.rs` is there and the manifest declares it.
    pub fn exists(&self, root: &Path) -> bool {
        let dir = root.join(self.dir);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
        dir.join("benches").join(format!("{}.rs", self.name)).is_file()
            && manifest.contains(&format!("name = \"{}\"", self.name))
    }
}

/// The JSON result lines in a benchmark's output (lines starting with `{"bench"`).
pub fn collect(stdout: &str) -> Vec<Json> {
    stdout
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("{\"bench\""))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Results as an aligned text table: one row per result, columns `bench` first, then every
/// other key in order of first appearance.
pub fn table(results: &[Json]) -> String {
    let mut columns: Vec<String> = vec!["bench".to_owned()];
    for r in results {
        for key in r.as_object().into_iter().flat_map(|o| o.keys()) {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    let cell = |r: &Json, c: &str| match r.get(c) {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(s)) => s.clone(),
        Some(Json::Number(n)) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.3}"),
            _ => n.to_string(),
        },
        Some(other) => other.to_string(),
    };
    let rows: Vec<Vec<String>> =
        results.iter().map(|r| columns.iter().map(|c| cell(r, c)).collect()).collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| rows.iter().map(|r| r[i].len()).chain([c.len()]).max().unwrap_or(0))
        .collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> =
            cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(&columns);
    out.push_str(&line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>()));
    for r in &rows {
        out.push_str(&line(r));
    }
    out
}

/// What [`run`] found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Every `{"bench"…}` line printed, parsed.
    pub results: Vec<Json>,
    /// Benchmarks skipped because their target does not exist.
    pub skipped: Vec<String>,
    /// Benchmarks that failed to build or run, or printed no result.
    pub failed: Vec<String>,
}

/// Run every existing benchmark (`events` is passed to the ones that take it).
pub fn run(root: &Path, events: Option<u64>) -> Outcome {
    let mut outcome = Outcome::default();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    for bench in BENCHES {
        if !bench.exists(root) {
            outcome
                .skipped
                .push(format!("{} --bench {}: no such bench target", bench.package, bench.name));
            continue;
        }
        let mut cmd = Command::new(&cargo);
        cmd.current_dir(root).args(["bench", "-p", bench.package, "--bench", bench.name]);
        if let (true, Some(n)) = (bench.takes_events, events) {
            cmd.args(["--", "--events", &n.to_string()]);
        }
        let output = cmd.stderr(Stdio::inherit()).output();
        match output {
            Ok(out) if out.status.success() => {
                let found = collect(&String::from_utf8_lossy(&out.stdout));
                if found.is_empty() {
                    outcome.failed.push(format!(
                        "{} --bench {}: printed no {{\"bench\"…}} line",
                        bench.package, bench.name
                    ));
                }
                outcome.results.extend(found);
            }
            Ok(out) => outcome
                .failed
                .push(format!("{} --bench {}: failed ({})", bench.package, bench.name, out.status)),
            Err(e) => outcome
                .failed
                .push(format!("{} --bench {}: cannot run cargo: {e}", bench.package, bench.name)),
        }
    }
    outcome
}
