//! `ccc usage --json` benchmark (issue #12): the real `agentos` binary against a local fake
//! CCC (`agentos_testkit::FakeCcc` on 127.0.0.1) — end to end: process start, `/v1/usage` and
//! `/v1/quotas`, the `ccp.usage.v1` snapshots, JSON out. Goal: ≤ 50 ms.
//!
//! Two CCCs: the captures as they are (3 models), and a busy one (200 models, every hourly bin
//! filled). `cargo bench -p agentos-cli --bench ccc_usage`. Prints a table and one
//! `{"bench":"ccc_usage",…}` line.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::Command;
use std::time::Instant;

use agentos_testkit::FakeCcc;
use agentos_testkit::fake_ccc::{capture, ccp_json};

const RUNS: usize = 20;
const AGENTOS: &str = env!("CARGO_BIN_EXE_agentos");

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() {
    if let Err(e) = run() {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

/// `/v1/usage` and `/v1/quotas` with `n` models, each like the capture's first one.
fn busy(n: usize) -> Res<(Vec<u8>, Vec<u8>)> {
    let mut usage: serde_json::Value = serde_json::from_slice(&capture("v1_usage.json"))?;
    let mut quotas: serde_json::Value = serde_json::from_slice(&capture("v1_quotas.json"))?;
    let (name, view) = usage["models"]
        .as_object()
        .and_then(|m| m.iter().next())
        .map(|(k, v)| (k.clone(), v.clone()))
        .ok_or("the capture has no model")?;
    let cfg = quotas["config"]["models"][&name].clone();
    let mut models = serde_json::Map::new();
    let mut cfgs = serde_json::Map::new();
    for i in 0..n {
        let mut v = view.clone();
        for (h, bin) in v["speeds"]["hourly"].as_array_mut().into_iter().flatten().enumerate() {
            bin["samples"] = (10 + h).into();
            bin["out_elr_tps"] = (100.0 + h as f64).into();
            bin["out_dirty_tps"] = (50.0 + h as f64).into();
        }
        models.insert(format!("model-{i:03}"), v);
        cfgs.insert(format!("model-{i:03}"), cfg.clone());
    }
    usage["models"] = models.into();
    quotas["config"]["models"] = cfgs.into();
    Ok((serde_json::to_vec(&usage)?, serde_json::to_vec(&quotas)?))
}

/// Best and median wall time of `agentos ccc usage --json` over [`RUNS`], after a warm-up
/// run that checks the output has `models` snapshots.
fn time(url: &str, models: usize) -> Res<(f64, f64)> {
    let run = || -> Res<(f64, Vec<u8>)> {
        let t = Instant::now();
        let out = Command::new(AGENTOS)
            .args(["ccc", "usage", "--json", "--base-url", url])
            .env_remove("CCC_API_KEY")
            .output()?;
        let s = t.elapsed().as_secs_f64();
        if !out.status.success() {
            return Err(
                format!("ccc usage failed: {}", String::from_utf8_lossy(&out.stderr)).into()
            );
        }
        Ok((s, out.stdout))
    };
    let (_, stdout) = run()?;
    let v: serde_json::Value = serde_json::from_slice(&stdout)?;
    if v.as_array().map_or(0, Vec::len) != models {
        return Err(format!("expected {models} snapshots").into());
    }
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        times.push(run()?.0);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[0], times[RUNS / 2]))
}

fn run() -> Res<()> {
    let captured = FakeCcc::from_captures();
    let n_captured =
        serde_json::from_slice::<serde_json::Value>(&capture("v1_usage.json"))?["models"]
            .as_object()
            .map_or(0, |m| m.len());
    let (small_best, small_median) = time(&captured.url(), n_captured)?;
    const BUSY: usize = 200;
    let (usage, quotas) = busy(BUSY)?;
    let big = FakeCcc::from_captures();
    big.set("/v1/usage", ccp_json(200, &usage));
    big.set("/v1/quotas", ccp_json(200, &quotas));
    let (big_best, big_median) = time(&big.url(), BUSY)?;
    println!("{:>8} {:>10} {:>10}", "models", "best s", "median s");
    println!("{n_captured:>8} {small_best:>10.4} {small_median:>10.4}");
    println!("{BUSY:>8} {big_best:>10.4} {big_median:>10.4}");
    println!(
        "{{\"bench\":\"ccc_usage\",\"models\":{n_captured},\"best_s\":{small_best:.4},\"median_s\":{small_median:.4},\"busy_models\":{BUSY},\"busy_best_s\":{big_best:.4},\"busy_median_s\":{big_median:.4},\"targets\":{{\"max_s\":0.05}}}}"
    );
    Ok(())
}
