//! Benchmark: exporting turns to an OpenTelemetry collector through the outbox (`otel` target).
//!
//! Writes a full-tier session of N turns (default 1 000 000; `-- --events N`) to a fresh
//! `events.jsonl` in a temp dir (removed at the end), then times the export path end to end,
//! one `Outbox::flush` as `agentos otel export` runs it: catch-up from the log (parse, the
//! privacy tier's view of each turn, GenAI mapping, batches of at most 4 000 events / 4 MB
//! written atomically to the outbox) on one thread while the other delivers each batch
//! (`POST /v1/logs`) to a local sink collector on 127.0.0.1 that reads and discards. Prints a
//! table line and a JSON line `{"bench":"otlp_export",...}` with wall and CPU time. Goal:
//! ≥ 100 000 records/s.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use agentos_ccc_client::outbox::FlushOptions;
use agentos_ccc_client::{JsonlLog, Outbox, Sender, Target, Timeouts};
use camino::Utf8PathBuf;

/// A collector that answers 200 to everything and keeps nothing but a count of bytes.
fn sink() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let bytes = Arc::new(AtomicUsize::new(0));
    let seen = bytes.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut r = BufReader::new(&stream);
            let mut len = 0usize;
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 2 {
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            seen.fetch_add(len, Ordering::Relaxed);
            let _ = (&stream)
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
        }
    });
    (url, bytes)
}

/// CPU seconds this process has used (user + system, every thread, the sink's included), from
/// `/proc/self/stat` (Linux, in USER_HZ = 100 ticks a second); `None` elsewhere. On a shared
/// machine wall time includes waiting for a core; CPU time does not.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn generate(path: &Utf8PathBuf, turns: u64) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        r#"{{"type":"session","event_id":"00000000-0000-4000-8000-000000000000","ts":"2026-11-30T09:00:00Z","schema_version":"1.0.0","session":{{"session_id":"bench-session","repo_id":"r","branch":"main","commit":"c","license_id":"l","privacy_tier":"full","created_at":"2026-11-30T09:00:00Z","metadata":{{}},"agent":"claude-code"}}}}"#
    )?;
    for i in 0..turns {
        writeln!(
            out,
            r#"{{"type":"turn","event_id":"00000000-0000-4000-8000-{i:012}","ts":"2026-11-30T10:{:02}:{:02}Z","schema_version":"1.0.0","turn":{{"turn_id":"t-{i}","session_id":"bench-session","model":"claude-sonnet-4-5","subagent":"main","tokens_in":{},"tokens_out":250,"input_kind":"text","latency_ms":1234.5,"attribution":{{}},"cache_creation_tokens":120,"cache_read_tokens":{},"responded_at":"2026-11-30T10:00:00Z"}},"cost":{{"provider":"anthropic","unit_costs":{{}},"estimated_usd":0.0123}}}}"#,
            (i / 60) % 60,
            i % 60,
            10 + i % 90,
            1000 + i
        )?;
    }
    out.flush()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let turns: u64 = args
        .iter()
        .position(|a| a == "--events")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let data = Utf8PathBuf::from_path_buf(dir.path().to_owned()).expect("utf-8 temp dir");
    let log = data.join("events.jsonl");
    generate(&log, turns).expect("write events.jsonl");
    let (url, bytes) = sink();
    let outbox = Outbox::new(data.join("otel-outbox"))
        .with_event_log(JsonlLog::new(&log), data.join("state/active_session.json"))
        .with_target(Target::Otlp(agentos_otel::ExportOptions::default()));
    let sender = Sender::otlp(
        &url,
        Vec::new(),
        Timeouts { connect: Duration::from_secs(5), total: Duration::from_secs(30) },
    );
    let opts = FlushOptions {
        allow_events: true,
        allow_metrics: true,
        force: true,
        budget: Duration::from_secs(3600),
    };
    let cpu_start = cpu_seconds();
    let start = Instant::now();
    outbox.ensure_watermark_at_start().expect("watermark");
    // As `agentos otel export` does: one flush, catching up from the log while it delivers.
    let report = outbox.flush(&sender, &opts).expect("flush");
    let queued = report.events_queued;
    let total = start.elapsed();
    let cpu_total = cpu_seconds();
    let cpu = |end: Option<f64>| end.zip(cpu_start).map(|(e, s)| ((e - s) * 100.0).round() / 100.0);
    assert_eq!(queued as u64, turns + 1, "every event dispositioned");
    assert_eq!(report.remaining, 0, "every batch delivered: {:?}", report.problem);
    let rate = turns as f64 / total.as_secs_f64();
    println!(
        "otlp_export  {turns} records  {:.2}s (CPU {:?}s)  {rate:.0} records/s  {} batches  {} MB sent",
        total.as_secs_f64(),
        cpu(cpu_total),
        report.delivered.len(),
        bytes.load(Ordering::Relaxed) / 1_000_000
    );
    println!(
        "{}",
        serde_json::json!({"bench": "otlp_export", "records": turns,
            "total_seconds": total.as_secs_f64(), "total_cpu_seconds": cpu(cpu_total),
            "records_per_second": rate.round(), "batches": report.delivered.len(),
            "goal_records_per_second": 100_000, "meets_goal": rate >= 100_000.0})
    );
}
