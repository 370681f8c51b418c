//! `cargo xtask <command>`: dispatches to the [`xtask`] library.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use xtask::{bench, schema_check};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  gen-schemas                      write schemas/ from the Rust types (removes stale files)
  check-schemas [--ccp-dir DIR]... [--ccp-url URL]... [--allow-unknown-fields]
                                   fail on schema drift, invalid CCP samples, unmodelled CCP
                                   fields or Python-incompatible v1 schemas; --ccp-dir reads
                                   *.json, *.jsonl and license packs *.pack; --ccp-url checks
                                   /v1/usage, /v1/quotas, /readyz, /v1/usage/samples,
                                   /v1/usage/rollups (404: no persistence, skipped) and /metrics
                                   (families, types and labels CCP emits; new ones reported)
  bench [--events N]               run the benchmarks, print a table, write target/bench/results.json
  gen-history --out DIR --bytes N [--seed S] [--no-quirks]
                                   write a generated Claude Code (DIR/claude) and Codex (DIR/codex)
                                   history of about N bytes, and its truth per UTC day × model
                                   (DIR/truth-utc.json); --no-quirks: no null optional fields,
                                   no response without requestId";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> anyhow::Result<ExitCode> {
    let root = xtask::repo_root();
    let Some((command, rest)) = args.split_first() else {
        println!("{USAGE}");
        return Ok(ExitCode::from(2));
    };
    match command.as_str() {
        "gen-schemas" => {
            no_args(rest)?;
            let dir = root.join("schemas");
            let (written, removed) = schema_check::gen_schemas(&dir)
                .with_context(|| format!("writing schemas to {}", dir.display()))?;
            for f in &written {
                println!("wrote schemas/{f}");
            }
            for f in &removed {
                println!("removed stale schemas/{f}");
            }
            println!(
                "gen-schemas: {} schemas up to date ({} written, {} removed)",
                schema_check::generated().len(),
                written.len(),
                removed.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        "check-schemas" => {
            let mut opts = schema_check::CheckOptions::for_repo(&root);
            let mut it = rest.iter();
            while let Some(arg) = it.next() {
                match arg.as_str() {
                    "--ccp-dir" => {
                        let dir = it.next().context("--ccp-dir needs a directory")?;
                        opts.ccp_dirs.push(PathBuf::from(dir));
                    }
                    "--ccp-url" => {
                        opts.ccp_urls.push(it.next().context("--ccp-url needs a URL")?.clone())
                    }
                    "--allow-unknown-fields" => opts.allow_unknown_fields = true,
                    "-h" | "--help" => {
                        println!("{USAGE}");
                        return Ok(ExitCode::SUCCESS);
                    }
                    other => bail!("unknown check-schemas argument {other:?}\n\n{USAGE}"),
                }
            }
            let report = schema_check::check(&opts);
            print!("{}", report.render());
            Ok(if report.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        "bench" => {
            let events = match rest {
                [] => None,
                [flag, n] if flag == "--events" => {
                    Some(n.parse::<u64>().with_context(|| format!("--events {n:?}: not a count"))?)
                }
                _ => bail!("bench takes only --events N\n\n{USAGE}"),
            };
            let outcome = bench::run(&root, events);
            for note in &outcome.skipped {
                eprintln!("bench: skipped {note}");
            }
            for note in &outcome.failed {
                eprintln!("bench: FAILED {note}");
            }
            print!("{}", bench::table(&outcome.results));
            let out = root.join("target/bench");
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            let path = out.join("results.json");
            let text = serde_json::to_string_pretty(&outcome.results)? + "\n";
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
            Ok(if outcome.failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        "gen-history" => gen_history(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}

fn gen_history(rest: &[String]) -> anyhow::Result<ExitCode> {
    use agentos_testkit::agent_history::{History, Options};
    let (mut out, mut bytes, mut seed, mut quirks) = (None, None, 1u64, true);
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--out" => out = Some(PathBuf::from(value()?)),
            "--bytes" => {
                let v = value()?;
                bytes = Some(
                    v.replace('_', "").parse::<u64>().with_context(|| format!("--bytes {v:?}"))?,
                );
            }
            "--seed" => {
                let v = value()?;
                seed = v.parse().with_context(|| format!("--seed {v:?}"))?;
            }
            "--no-quirks" => quirks = false,
            other => bail!("unknown gen-history argument {other:?}\n\n{USAGE}"),
        }
    }
    let (Some(out), Some(bytes)) = (out, bytes) else {
        bail!("gen-history needs --out DIR and --bytes N\n\n{USAGE}");
    };
    let opts = Options { seed, quirks, ..Options::with_bytes(bytes) };
    let started = std::time::Instant::now();
    let h = History::generate(&out.join("claude"), &out.join("codex"), &opts)
        .with_context(|| format!("writing the history under {}", out.display()))?;
    let truth: Vec<serde_json::Value> = h
        .daily("UTC")?
        .into_iter()
        .map(|((date, model), t)| {
            serde_json::json!({"date": date, "model": model, "inputTokens": t.input,
                "outputTokens": t.output, "cacheCreation5mTokens": t.cache_write_5m,
                "cacheCreation1hTokens": t.cache_write_1h, "cacheReadTokens": t.cache_read})
        })
        .collect();
    let path = out.join("truth-utc.json");
    std::fs::write(&path, serde_json::to_string_pretty(&truth)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    println!(
        "gen-history: {} bytes, {} lines, {} files ({} Claude sessions, {} sub-agent, {} resumed; {} Codex sessions), {} responses in {:.1} s; truth in {}",
        h.stats.bytes,
        h.stats.lines,
        h.stats.files,
        h.stats.claude_sessions,
        h.stats.subagent_files,
        h.stats.resumed_sessions,
        h.stats.codex_sessions,
        h.responses.len(),
        started.elapsed().as_secs_f64(),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn no_args(rest: &[String]) -> anyhow::Result<()> {
    match rest.first() {
        Some(arg) => bail!("unexpected argument {arg:?}\n\n{USAGE}"),
        None => Ok(()),
    }
}
