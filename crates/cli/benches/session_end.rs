//! `session end` benchmark (issue #8 point 10): the real `agentos` binary ends a 3-turn
//! session on an empty data dir and on one whose `events.jsonl` holds a generated history
//! (default 1 000 000 turn events, ≈ 700 MB) that an earlier rollup checkpointed. The goal is
//! the second within 2× of the first. For reference it also times the big case with the
//! checkpoint removed (every byte read again: the behaviour before the checkpoint).
//!
//! `cargo bench -p agentos-cli --bench session_end -- --events 100000`
//! (or `SESSION_END_BENCH_EVENTS=100000`). Prints a table and one `{"bench":"session_end",…}`
//! line.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use agentos_testkit::agent_history::Rng;

const RUNS: usize = 3;
const AGENTOS: &str = env!("CARGO_BIN_EXE_agentos");

fn main() {
    let events = agentos_testkit::bench_size("--events", "SESSION_END_BENCH_EVENTS", 1_000_000);
    if let Err(e) = run(events) {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn agentos(dir: &Path, args: &[&str]) -> Res<()> {
    let out = Command::new(AGENTOS)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("AGENTOS_DATA_DIR")
        .env("PRIVACY_TIER", "local")
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "agentos {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok(())
}

/// Start a session, log 3 turns, and time `session end` alone.
fn timed_session(dir: &Path) -> Res<f64> {
    agentos(
        dir,
        &["session", "start", "--repo-id", "bench", "--branch", "main", "--commit", "abc"],
    )?;
    for _ in 0..3 {
        agentos(
            dir,
            &["session", "turn", "--model", "glm/4.6", "--tokens-in", "100", "--tokens-out", "20"],
        )?;
    }
    let t = Instant::now();
    agentos(dir, &["session", "end"])?;
    Ok(t.elapsed().as_secs_f64())
}

fn best_of(dir: &Path, before_each: impl Fn() -> Res<()>) -> Res<f64> {
    let mut best = f64::MAX;
    for _ in 0..RUNS {
        before_each()?;
        best = best.min(timed_session(dir)?);
    }
    Ok(best)
}

/// The rollup's share of `session end`: resuming the summary from the checkpoint (best of 3).
fn refresh(dir: &Path) -> Res<f64> {
    let events = camino::Utf8PathBuf::from_path_buf(dir.join("events.jsonl"))
        .map_err(|p| format!("not UTF-8: {}", p.display()))?;
    let ck = camino::Utf8PathBuf::from_path_buf(dir.to_path_buf())
        .map_err(|p| format!("not UTF-8: {}", p.display()))?
        .join(agentos_rollup::CHECKPOINT_FILE);
    let mut best = f64::MAX;
    for _ in 0..RUNS {
        let t = Instant::now();
        agentos_rollup::refresh_incremental(
            std::slice::from_ref(&events),
            &agentos_rollup::SummaryOptions::default(),
            &ck,
        )?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok(best)
}

fn run(events: u64) -> Res<()> {
    let root =
        std::env::temp_dir().join(format!("agentos-session-end-bench-{}", std::process::id()));
    let history = std::env::temp_dir().join(format!("agentos-session-end-history-{events}.jsonl"));
    if !history.exists() {
        generate(&history, events)?;
    }
    let bytes = std::fs::metadata(&history)?.len();
    let result = (|| -> Res<[f64; 5]> {
        let empty = root.join("empty");
        std::fs::create_dir_all(&empty)?;
        let empty_s = best_of(&empty, || Ok(()))?;
        let refresh_empty_s = refresh(&empty)?;

        let big = root.join("big");
        std::fs::create_dir_all(&big)?;
        std::fs::copy(&history, big.join("events.jsonl"))?;
        // The history was rolled up before (as every earlier `session end` did).
        agentos(&big, &["rollup"])?;
        let big_s = best_of(&big, || Ok(()))?;
        let refresh_big_s = refresh(&big)?;
        // Reference: the same without a checkpoint (one run: it reads everything).
        let ck = big.join("state").join("rollup_checkpoint.bin");
        std::fs::remove_file(&ck)?;
        let full_s = timed_session(&big)?;
        Ok([empty_s, big_s, full_s, refresh_empty_s, refresh_big_s])
    })();
    let _ = std::fs::remove_dir_all(&root);
    let [empty_s, big_s, full_s, refresh_empty_s, refresh_big_s] = result?;
    let ratio = big_s / empty_s;
    let refresh_ratio = refresh_big_s / refresh_empty_s;
    let mb = bytes as f64 / 1e6;
    println!(
        "{:>10} {:>9} {:>12} {:>12} {:>8} {:>16} {:>14} {:>14}",
        "events",
        "MB",
        "empty_end_s",
        "big_end_s",
        "ratio",
        "no_checkpoint_s",
        "refresh_empty",
        "refresh_big"
    );
    println!(
        "{events:>10} {mb:>9.1} {empty_s:>12.4} {big_s:>12.4} {ratio:>8.2} {full_s:>16.3} {refresh_empty_s:>14.4} {refresh_big_s:>14.4}"
    );
    println!(
        "{{\"bench\":\"session_end\",\"events\":{events},\"bytes\":{bytes},\"empty_end_s\":{empty_s:.4},\"big_end_s\":{big_s:.4},\"ratio\":{ratio:.3},\"no_checkpoint_end_s\":{full_s:.4},\"refresh_empty_s\":{refresh_empty_s:.4},\"refresh_big_s\":{refresh_big_s:.4},\"refresh_ratio\":{refresh_ratio:.3},\"targets\":{{\"ratio_max\":2.0}}}}"
    );
    Ok(())
}

/// `turns` turn events (≈ 700 bytes each, unique `event_id`s) in sessions of 50, each with its
/// `session` and `session_end` line, as the recorder writes them.
fn generate(path: &PathBuf, turns: u64) -> Res<()> {
    let tmp = path.with_extension("tmp");
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
    let models =
        [("claude-sonnet-4.5", "anthropic"), ("gpt-5-codex", "openai"), ("glm/4.6", "zai")];
    let mut written = 0u64;
    let mut s = 0u64;
    while written < turns {
        s += 1;
        let day = 1 + (s / 40) % 28;
        let sid = format!("00000000-0000-4000-8000-{s:012x}");
        let ts = format!("2026-10-{day:02}T10:00:00.000000Z");
        writeln!(
            w,
            "{{\"type\":\"session\",\"event_id\":\"s-{s:016x}\",\"ts\":\"{ts}\",\"schema_version\":\"1.1.0\",\"session\":{{\"session_id\":\"{sid}\",\"repo_id\":\"github.com/acme/widgets\",\"branch\":\"main\",\"commit\":\"{:016x}\",\"license_id\":\"local\",\"privacy_tier\":\"local\",\"created_at\":\"{ts}\",\"metadata\":{{\"agent\":\"claude-code\"}}}}}}",
            rng.next_u64()
        )?;
        let n = 50.min(turns - written);
        for i in 0..n {
            let (model, provider) = models[rng.below(3) as usize];
            let tin = 500 + rng.below(40_000);
            let tout = 100 + rng.below(6_000);
            writeln!(
                w,
                "{{\"type\":\"turn\",\"event_id\":\"t-{s:010x}-{i:04}-{:016x}\",\"ts\":\"{ts}\",\"schema_version\":\"1.1.0\",\"turn\":{{\"turn_id\":\"{:016x}{:016x}\",\"session_id\":\"{sid}\",\"model\":\"{model}\",\"subagent\":\"implementer\",\"tokens_in\":{tin},\"tokens_out\":{tout},\"input_kind\":\"text\",\"latency_ms\":{}.5,\"attribution\":{{\"{model}\":1.0}},\"capacity_used\":0.00{}}},\"measurement\":{{\"cls\":1.{},\"impf\":0.{},\"churn_score\":0.{},\"feature_delta\":{}}},\"feature\":{{\"feature_id\":\"FEAT-{}\",\"spec_ref\":\"docs/specs/feature-{}.md\",\"status\":\"implemented\"}},\"cost\":{{\"provider\":\"{provider}\",\"unit_costs\":{{\"input_per_mtok\":3.0,\"output_per_mtok\":15.0}},\"estimated_usd\":{:.6}}},\"value\":{{\"summary\":\"generated turn for the session end benchmark\",\"links\":[],\"evidence_refs\":[]}}}}",
                rng.next_u64(),
                rng.next_u64(),
                rng.next_u64(),
                200 + rng.below(30_000),
                1 + rng.below(9),
                rng.below(10),
                rng.below(10),
                rng.below(10),
                rng.below(2),
                rng.below(500),
                rng.below(500),
                tin as f64 * 3e-6 + tout as f64 * 15e-6
            )?;
            written += 1;
        }
        writeln!(
            w,
            "{{\"type\":\"session_end\",\"event_id\":\"e-{s:016x}\",\"ts\":\"{ts}\",\"schema_version\":\"1.1.0\",\"session_id\":\"{sid}\",\"ended_at\":\"{ts}\",\"notes\":\"\"}}"
        )?;
    }
    w.flush()?;
    drop(w);
    std::fs::rename(&tmp, path)?;
    Ok(())
}
