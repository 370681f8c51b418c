//! Measuring whole processes (wall time, peak RSS) and comparing `daily --json` outputs cell by
//! cell, for the import benchmark.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agentos_testkit::agent_history::Tokens;
use serde_json::Value;

pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// One finished run of a command.
#[derive(Debug)]
pub struct Measured {
    pub wall_s: f64,
    /// The child's peak resident set, MiB (`None` when it could not be read).
    pub rss_mib: Option<f64>,
    pub ok: bool,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Measured {
    pub fn check(&self, what: &str) -> Res<()> {
        if self.ok { Ok(()) } else { Err(format!("{what} failed: {}", self.stderr.trim()).into()) }
    }
}

const GNU_TIME: &str = "/usr/bin/time";

/// Run `cmd` to the end, its output into files under `scratch`; wall time around the child,
/// peak RSS from GNU time's `%M` (the kernel's `wait4` figure) when `/usr/bin/time` exists,
/// else the largest `VmHWM` seen while polling `/proc/<pid>/status`.
pub fn measure(cmd: Command, scratch: &Path) -> Res<Measured> {
    let (out_path, err_path, time_path) =
        (scratch.join("stdout"), scratch.join("stderr"), scratch.join("time"));
    let gnu_time = Path::new(GNU_TIME).is_file();
    let mut run = if gnu_time {
        let mut c = Command::new(GNU_TIME);
        c.arg("-f").arg("%M").arg("-o").arg(&time_path).arg(cmd.get_program()).args(cmd.get_args());
        c.env_clear();
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                c.env(k, v);
            }
        }
        if let Some(dir) = cmd.get_current_dir() {
            c.current_dir(dir);
        }
        c
    } else {
        cmd
    };
    run.stdin(Stdio::null())
        .stdout(Stdio::from(File::create(&out_path)?))
        .stderr(Stdio::from(File::create(&err_path)?));
    let t = Instant::now();
    let mut child = run.spawn()?;
    let mut hwm_kib = 0u64;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if !gnu_time {
            hwm_kib = hwm_kib.max(vm_hwm_kib(child.id()).unwrap_or(0));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let wall_s = t.elapsed().as_secs_f64();
    let rss_mib = if gnu_time {
        std::fs::read_to_string(&time_path)
            .ok()
            .and_then(|t| t.lines().last().and_then(|l| l.trim().parse::<f64>().ok()))
            .map(|kib| kib / 1024.0)
    } else {
        (hwm_kib > 0).then_some(hwm_kib as f64 / 1024.0)
    };
    Ok(Measured {
        wall_s,
        rss_mib,
        ok: status.success(),
        stdout: std::fs::read(&out_path)?,
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    })
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The median (NaN for no values).
pub fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// (input, output, cache creation, cache read) per (day, model).
type Cells = BTreeMap<(String, String), [u64; 4]>;

/// The cells of a ccusage-shaped `daily --json` document (`date`, or `period` in newer
/// versions of the peer).
pub fn cells(json: &[u8]) -> Res<Cells> {
    let v: Value = serde_json::from_slice(json)?;
    let mut out = Cells::new();
    let n = |b: &Value, k: &str| b.get(k).and_then(Value::as_u64).unwrap_or(0);
    for day in v["daily"].as_array().ok_or("no daily[] in the JSON")? {
        let date = day.get("date").or_else(|| day.get("period")).and_then(Value::as_str);
        let date = date.ok_or("a daily row without date")?.to_owned();
        for b in day["modelBreakdowns"].as_array().into_iter().flatten() {
            let model = b["modelName"].as_str().unwrap_or_default().to_owned();
            let cell = out.entry((date.clone(), model)).or_default();
            for (i, k) in ["inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens"]
                .iter()
                .enumerate()
            {
                cell[i] += n(b, k);
            }
        }
    }
    Ok(out)
}

/// How many cells differ.
#[derive(Debug)]
pub struct Comparison {
    pub cells: usize,
    pub claude_cells: usize,
    pub ours_vs_truth: usize,
    pub peer_vs_truth: Option<usize>,
    pub peer_vs_ours_claude: Option<usize>,
}

fn differ(a: &Cells, b: &Cells, keep: impl Fn(&(String, String)) -> bool) -> usize {
    let keys: std::collections::BTreeSet<_> =
        a.keys().chain(b.keys()).filter(|k| keep(k)).collect();
    keys.into_iter().filter(|k| a.get(*k) != b.get(*k)).count()
}

pub fn compare(
    truth: &BTreeMap<(String, String), Tokens>,
    ours: &[u8],
    peer: Option<&[u8]>,
) -> Res<Comparison> {
    let truth: Cells = truth
        .iter()
        .map(|(k, t)| (k.clone(), [t.input, t.output, t.cache_write(), t.cache_read]))
        .collect();
    let ours = cells(ours)?;
    let peer = peer.map(cells).transpose()?;
    let claude = |k: &(String, String)| k.1.starts_with("claude");
    Ok(Comparison {
        cells: truth.len(),
        claude_cells: truth.keys().filter(|k| claude(k)).count(),
        ours_vs_truth: differ(&truth, &ours, |_| true),
        peer_vs_truth: peer.as_ref().map(|p| differ(&truth, p, |_| true)),
        peer_vs_ours_claude: peer.as_ref().map(|p| differ(&ours, p, claude)),
    })
}
