//! Codex rollouts: `sessions/YYYY/MM/DD/rollout-<ts>-<uuid>.jsonl` with `session_meta`,
//! `turn_context` (model switches), `response_item`s and cumulative `token_count` events
//! (re-emissions, `info: null`, totals-only sessions).

use std::io;

use serde_json::{Value, json};

use super::write::{Lines, rollout_parts, timestamp};
use super::{Agent, History, Response, Tokens};

const MODELS: &[&str] = &["gpt-5-codex", "gpt-5.1-codex", "gpt-5"];
const VERSIONS: &[&str] = &["0.46.0", "0.58.0", "0.63.0-alpha.2", "0.39.0"];

/// Codex's usage record.
#[derive(Clone, Copy, Default)]
struct Usage {
    input: u64,
    cached: u64,
    output: u64,
    reasoning: u64,
}

impl Usage {
    fn json(&self) -> Value {
        json!({"input_tokens": self.input, "cached_input_tokens": self.cached,
            "output_tokens": self.output, "reasoning_output_tokens": self.reasoning,
            "total_tokens": self.input + self.output})
    }
}

fn line(out: &mut Lines, ms: i64, kind: &str, payload: Value) -> io::Result<()> {
    out.json(&json!({"timestamp": timestamp(ms), "type": kind, "payload": payload}))
}

fn rate_limits(h: &mut History) -> Value {
    let rng = &mut h.g.rng;
    json!({"primary": {"used_percent": rng.range(0, 100) as f64 / 2.0, "window_minutes": 299,
            "resets_in_seconds": rng.range(0, 18_000)},
        "secondary": {"used_percent": rng.range(0, 100), "window_minutes": 10_079,
            "resets_in_seconds": rng.range(0, 604_800)}})
}

pub(crate) fn session(h: &mut History) -> io::Result<()> {
    h.g.sessions += 1;
    h.g.codex_index += 1;
    let ci = h.g.codex_index;
    let rng = &mut h.g.rng;
    let start_ms =
        (h.g.opts.start + rng.below(u64::from(h.g.opts.days.max(1)) * 86_400) as i64) * 1000;
    let id = rng.uuid();
    let version = VERSIONS[rng.below(VERSIONS.len() as u64) as usize];
    let (y, m, d, stamp) = rollout_parts(start_ms);
    let path =
        h.g.codex_home
            .join("sessions")
            .join(y)
            .join(m)
            .join(d)
            .join(format!("rollout-{stamp}-{id}.jsonl"));
    let mut out = Lines::create(&path)?;
    let totals_only = ci % 5 == 2;
    let cwd = "/home/dev/src/acme-api";
    let commit = format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
    line(
        &mut out,
        start_ms,
        "session_meta",
        json!({"id": id, "timestamp": timestamp(start_ms), "cwd": cwd, "originator": "codex_cli_rs",
            "cli_version": version, "instructions": null,
            "git": {"commit_hash": commit, "branch": "main",
                "repository_url": "git@github.com:acme/acme-api.git"}}),
    )?;
    let mut model = MODELS[h.g.rng.below(MODELS.len() as u64) as usize];
    let mut ms = start_ms + 500;
    let turn_context = |out: &mut Lines, ms: i64, model: &str| {
        line(
            out,
            ms,
            "turn_context",
            json!({"cwd": cwd, "approval_policy": "on-request",
                "sandbox_policy": {"mode": "workspace-write"}, "model": model, "effort": "medium",
                "summary": "auto"}),
        )
    };
    turn_context(&mut out, ms, model)?;
    let mut total = Usage::default();
    let turns = h.g.rng.range(10, 60);
    for turn in 0..turns {
        if turn > 0 && ((ci.is_multiple_of(2) && turn % 7 == 3) || h.g.rng.chance(5)) {
            let next = MODELS[h.g.rng.below(MODELS.len() as u64) as usize];
            model = if next == model { MODELS[(turn as usize) % MODELS.len()] } else { next };
            turn_context(&mut out, ms, model)?;
        }
        let rng = &mut h.g.rng;
        let len = rng.range(200, 1500) as usize;
        let prompt = h.g.corpus.text(rng, len);
        line(
            &mut out,
            ms,
            "response_item",
            json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": prompt}]}),
        )?;
        if turn == 0 && !ci.is_multiple_of(3) {
            let limits = rate_limits(h);
            line(
                &mut out,
                ms,
                "event_msg",
                json!({"type": "token_count", "info": null, "rate_limits": limits}),
            )?;
        }
        let rng = &mut h.g.rng;
        ms += rng.range(3, 120) as i64 * 1000;
        let len = rng.range(700, 2500) as usize;
        let reasoning = h.g.corpus.text(rng, len);
        line(
            &mut out,
            ms,
            "response_item",
            json!({"type": "reasoning", "summary": [], "content": null, "encrypted_content": reasoning}),
        )?;
        let call = rng.token("call_", 24);
        line(
            &mut out,
            ms,
            "response_item",
            json!({"type": "function_call", "name": "shell", "call_id": call,
                "arguments": "{\"command\":[\"bash\",\"-lc\",\"cargo test\"]}"}),
        )?;
        let len = rng.range(700, 2600) as usize;
        let output = h.g.corpus.text(rng, len);
        line(
            &mut out,
            ms + 400,
            "response_item",
            json!({"type": "function_call_output", "call_id": call, "output": output}),
        )?;
        // The token count of the turn's response, at second `sec`.
        let sec = (ms + 1000).div_euclid(1000);
        let rng = &mut h.g.rng;
        let input = rng.range(2000, 80_000);
        let cached = rng.range(0, input * 9 / 10);
        let output = rng.range(50, 5000);
        let last = Usage { input, cached, output, reasoning: rng.range(0, output) };
        total.input += last.input;
        total.cached += last.cached;
        total.output += last.output;
        total.reasoning += last.reasoning;
        let mut info = json!({"total_token_usage": total.json(), "model_context_window": 272_000});
        if !totals_only {
            info["last_token_usage"] = last.json();
        }
        let limits = rate_limits(h);
        let event = json!({"type": "token_count", "info": info, "rate_limits": limits});
        line(&mut out, sec * 1000 + 20, "event_msg", event.clone())?;
        h.responses.push(Response {
            agent: Agent::Codex,
            session: id.clone(),
            model: model.to_owned(),
            at: sec,
            tokens: Tokens {
                input: input - cached,
                output,
                cache_write_5m: 0,
                cache_write_1h: 0,
                cache_read: cached,
            },
        });
        if h.g.rng.chance(20) {
            // A re-emission: the same totals again (counts 0).
            line(&mut out, sec * 1000 + 700, "event_msg", event)?;
            h.stats.reemissions += 1;
        }
        ms = sec * 1000 + 1000 + h.g.rng.range(1, 60) as i64 * 1000;
    }
    out.finish(&mut h.stats, true)?;
    h.stats.codex_sessions += 1;
    h.stats.totals_only_sessions += u64::from(totals_only);
    Ok(())
}
