//! A generated year of recorded sessions as `events.jsonl` lines, for the benchmarks of the
//! reports that read it (`report --html`, `preview`): sessions of 50–150 turns, 30 s apart,
//! one model each of six, at random times of the year before a given moment.

use std::io::{BufWriter, Write};
use std::path::Path;

use crate::agent_history::Rng;

const YEAR: i64 = 365 * 86_400;
const MODELS: [&str; 6] = [
    "claude-sonnet-4-5-20250929",
    "claude-opus-4-5-20251101",
    "claude-haiku-4-5-20251001",
    "gpt-5-codex",
    "gpt-5",
    "glm-4.6",
];

fn ts(t: i64) -> String {
    jiff::Timestamp::from_second(t).map(|t| t.to_string()).unwrap_or_default()
}

/// Write `turns` turn events (and their sessions' events) of the year before `until` (Unix
/// seconds; each session starts at least 2 hours before it) to `path`.
pub fn year_of_turns(path: &Path, turns: u64, until: i64) -> std::io::Result<()> {
    let from = until - YEAR;
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut rng = Rng::new(7);
    let (mut written, mut s) = (0u64, 0u64);
    while written < turns {
        s += 1;
        let first = from + rng.below(YEAR as u64 - 7_200) as i64;
        let model = MODELS[rng.below(MODELS.len() as u64) as usize];
        writeln!(
            w,
            "{{\"type\":\"session\",\"event_id\":\"s{s}\",\"ts\":\"{t}\",\"schema_version\":\"1.1.0\",\"session\":{{\"session_id\":\"s{s}\",\"repo_id\":\"\",\"branch\":\"main\",\"commit\":\"\",\"license_id\":\"\",\"privacy_tier\":\"local\",\"created_at\":\"{t}\",\"metadata\":{{}},\"agent\":\"claude-code\",\"cwd\":\"/nonexistent/repo\"}}}}",
            t = ts(first)
        )?;
        for k in 0..rng.range(50, 150).min(turns - written) {
            let t = ts(first + 30 * k as i64);
            writeln!(
                w,
                "{{\"type\":\"turn\",\"event_id\":\"t{written}\",\"ts\":\"{t}\",\"schema_version\":\"1.1.0\",\"turn\":{{\"turn_id\":\"t{written}\",\"session_id\":\"s{s}\",\"model\":\"{model}\",\"subagent\":\"main\",\"tokens_in\":{},\"tokens_out\":{},\"input_kind\":\"text\",\"latency_ms\":1000.0,\"responded_at\":\"{t}\",\"cache_read_tokens\":{}}}}}",
                rng.range(100, 5_000),
                rng.range(10, 2_000),
                rng.below(50_000)
            )?;
            written += 1;
        }
    }
    w.flush()?;
    Ok(())
}
