//! Benchmark: appending turn events to `events.jsonl`.
//!
//! Four measurements, each over a fresh file in a temp dir removed at the end:
//! - `batch`: one locked [`Appender`] per batch of 1 000 lines (one `write_all` per line),
//!   pre-serialized turn lines — the raw log throughput;
//! - `per_line_lock`: [`JsonlLog::append_line`] per event (open + lock + write + unlock) —
//!   what independent writers pay;
//! - `validated`: serialize + schema-validate + append each [`Event`] through
//!   [`append_event`] — what `Recorder::log_turn` pays per turn;
//! - `validated_batch`: serialize + schema-validate each event, appended through one locked
//!   [`Appender`] per batch of 1 000 — the realistic bulk path.
//!
//! Prints a table line and a JSON line `{"bench":"event_append",...}` per mode. Goal: ≥ 100 000
//! events/s for `batch`.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::time::Instant;

use agentos_ccc_client::{JsonlLog, append_event, event_line};
use agentos_event_schema::Extra;
use agentos_event_schema::v1::{Envelope, Event, InputKind, Measurement, Turn, TurnEvent};

fn turn_event(i: u64) -> Event {
    let mut attribution = BTreeMap::new();
    attribution.insert("claude-sonnet-4.5".to_owned(), 1.0);
    Event::Turn(TurnEvent {
        envelope: Envelope::now(),
        turn: Turn {
            turn_id: format!("turn-{i}").into(),
            session_id: "bench-session".into(),
            model: "anthropic/claude-sonnet-4.5".into(),
            subagent: "main".into(),
            tokens_in: 1000 + i % 100,
            tokens_out: 2000,
            input_kind: InputKind::Text,
            latency_ms: 1234.5,
            attribution,
            capacity_used: Some(0.01),
            cache_creation_tokens: None,
            cache_creation_1h_tokens: None,
            cache_read_tokens: None,
            sidechain: None,
            responded_at: None,
            revises: None,
            extra: Extra::new(),
        },
        measurement: Some(Measurement {
            cls: 1.2,
            impf: 4.5,
            churn_score: 0.1,
            feature_delta: 0.25,
            errors: Vec::new(),
            extra: Extra::new(),
        }),
        feature: None,
        cost: None,
        value: None,
        decision: None,
        outcome: None,
    })
}

fn report(mode: &str, n: u64, secs: f64, bytes: u64) {
    let rate = n as f64 / secs;
    println!(
        "event_append {mode:<14} {n:>8} events  {secs:>8.3} s  {rate:>12.0} events/s  {:>7.1} MiB/s",
        bytes as f64 / secs / 1048576.0
    );
    println!(
        "{{\"bench\":\"event_append\",\"mode\":\"{mode}\",\"events\":{n},\"seconds\":{secs:.6},\"events_per_sec\":{rate:.0},\"bytes\":{bytes}}}"
    );
}

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result {
    let tmp = tempfile::tempdir()?;
    let dir = camino::Utf8PathBuf::from_path_buf(tmp.path().to_path_buf())
        .map_err(|p| format!("temp dir {} is not UTF-8", p.display()))?;
    const N: u64 = 300_000;
    const BATCH: u64 = 1_000;
    let lines = (0..N).map(|i| serde_json::to_string(&turn_event(i))).collect::<Vec<_>>();
    let lines = lines.into_iter().collect::<std::result::Result<Vec<String>, _>>()?;
    let bytes: u64 = lines.iter().map(|l| l.len() as u64 + 1).sum();

    // batch: the lock held per batch of BATCH lines.
    let log = JsonlLog::new(dir.join("batch.jsonl"));
    let start = Instant::now();
    for chunk in lines.chunks(BATCH as usize) {
        let mut a = log.appender()?;
        for l in chunk {
            a.append_line(l)?;
        }
    }
    report("batch", N, start.elapsed().as_secs_f64(), bytes);

    // per_line_lock: open + lock per line.
    let n = N / 10;
    let log = JsonlLog::new(dir.join("per_line.jsonl"));
    let start = Instant::now();
    for l in lines.iter().take(n as usize) {
        log.append_line(l)?;
    }
    report("per_line_lock", n, start.elapsed().as_secs_f64(), bytes / 10);

    // validated: serialize + validate + append, per event.
    let events: Vec<Event> = (0..n).map(turn_event).collect();
    let log = JsonlLog::new(dir.join("validated.jsonl"));
    let start = Instant::now();
    for e in &events {
        append_event(&log, e)?;
    }
    report("validated", n, start.elapsed().as_secs_f64(), bytes / 10);

    // validated_batch: serialize + validate per event, lock held per batch.
    let events: Vec<Event> = (0..N).map(turn_event).collect();
    let log = JsonlLog::new(dir.join("validated_batch.jsonl"));
    let start = Instant::now();
    for chunk in events.chunks(BATCH as usize) {
        let mut a = log.appender()?;
        for e in chunk {
            a.append_line(&event_line(e)?)?;
        }
    }
    report("validated_batch", N, start.elapsed().as_secs_f64(), bytes);
    Ok(())
}
