//! A generator of CCC/CCP log trees (`logs/usage.jsonl` and everything around it) with its own
//! exact truth, for the CCC backfill tests.
//!
//! [`CcpTree::generate`] writes, deterministically from a seed, requests as CCP's Go shim logs
//! them (contract §3.1): non-stream (decision + completion), streams (decision + placeholder +
//! completion, tokens 0 unless Z.AI sent usage headers), idle timeouts, error statuses,
//! non-stream fallbacks whose completion keeps the first attempt's status (bug B1), empty
//! 200 bodies with 0 tokens (B8) and decision-only requests (dial errors and timeouts, B9).
//! Lines are ordered by their write time, so concurrent requests interleave. The lines are
//! then split over an archive move, rotations `usage.jsonl.3` … `.1` and `usage.jsonl` (a
//! request may start in one file and end in the next), plus a byte-identical tag snapshot,
//! a `logs/dev/` log of its own, a BOM, CRLF line ends, blank lines, junk lines, a line with
//! trailing prose, a line holding two objects and a torn last line.
//!
//! Requests carry quota decisions (`reroute_decision`: a pass, a warning or a block) and
//! streams a TTFT and stream time, for the trend per day × model.
//!
//! The truth ([`Truth`], and per request [`GenRequest`]: when it ended, latency, TTFT, stream
//! time, fallbacks, 429, idle timeout, quota decision) is kept by the generator as it decides
//! each request, never computed from the files.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::agent_history::Rng;

/// What a correct backfill reports for a generated tree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Truth {
    /// Requests (one per decision; placeholders are never requests).
    pub requests: u64,
    /// Completed without an error.
    pub completed: u64,
    /// Decision only, or a completion with an error.
    pub failed: u64,
    /// Decision only.
    pub no_completion: u64,
    /// Completion with an error status or idle timeout.
    pub error_status: u64,
    /// Fallback decision lines.
    pub fallbacks: u64,
    /// Fallback completions whose logged status is the first attempt's (B1).
    pub fallback_status_unknown: u64,
    /// Completed requests with 0 tokens in and out.
    pub tokens_unknown: u64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Per model: requests, failed, input tokens, output tokens.
    pub by_model: BTreeMap<String, [u64; 4]>,
    /// Requests per UTC day of their decision (`YYYY-MM-DD`).
    pub by_day: BTreeMap<String, u64>,
    /// Stream placeholder lines written.
    pub placeholders: u64,
    /// Bad lines written (junk, truncated JSON, trailing prose, the torn last line).
    pub bad_lines: u64,
    /// Byte-identical copies written.
    pub duplicate_files: u64,
}

/// One generated request, for tests that need more than the totals.
#[derive(Clone, Debug, PartialEq)]
pub struct GenRequest {
    /// Decision time, epoch seconds.
    pub ts: f64,
    /// When it ended: its completion's time, the decision's without one (epoch seconds).
    pub at: f64,
    /// The model.
    pub model: String,
    /// Whether it failed.
    pub failed: bool,
    /// Tokens in and out.
    pub tokens: (u64, u64),
    /// The completion's `latency_ms` (`None`: decision only).
    pub latency_ms: Option<u64>,
    /// The completion's `stream_ms`, when it logged one.
    pub stream_ms: Option<u64>,
    /// The completion's `ttft_ms` (streams).
    pub ttft_ms: Option<u64>,
    /// Fallback decision lines.
    pub fallbacks: u64,
    /// Met a 429 (the first attempt's status of a fallback).
    pub status_429: bool,
    /// A stream ended by the idle timeout.
    pub idle_timeout: bool,
    /// The quota decision logged (`reroute_decision`).
    pub reroute: &'static str,
}

/// A generated tree.
#[derive(Clone, Debug)]
pub struct CcpTree {
    /// The checkout root (holds `logs/`).
    pub root: PathBuf,
    /// The truth.
    pub truth: Truth,
    /// Every request, in decision order.
    pub requests: Vec<GenRequest>,
    /// Time after the last line (epoch seconds).
    pub end_ts: f64,
}

const MODELS: [&str; 3] = ["claude-sonnet-4.5", "claude-haiku-4.5", "glm-4.6"];

/// The UTC date of epoch seconds.
pub fn utc_day(ts: f64) -> String {
    let days = (ts / 86_400.0).floor() as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

struct Line {
    ts: f64,
    text: String,
}

#[allow(clippy::too_many_arguments)]
fn line(
    ts: f64,
    rid: &str,
    lane: &str,
    model: &str,
    tokens: (u64, u64),
    status: i64,
    reason: &str,
    op: &str,
    latency: u64,
    tail: &str,
) -> String {
    let upstream = if lane == "zai" { "zai" } else { "anth" };
    format!(
        r#"{{"ts":{ts},"rid":"{rid}","lane":"{lane}","model":"{model}","input_tokens":{},"output_tokens":{},"status":{status},"reason":"{reason}","op":"{op}","latency_ms":{latency},{tail}"upstream":"{upstream}","h2":true"#,
        tokens.0, tokens.1
    )
}

/// The routing keys that end decision and completion lines.
fn routing(reroute: &str) -> String {
    format!(r#""reroute_mode":"hybrid","reroute_decision":"{reroute}","preferred_attempt":true}}"#)
}

const PASS: &str = "quota_pass";

/// The quota decision of a request, from its latency (no draw from the RNG, so adding it
/// changed no other value): mostly a pass, 1 in 20 a warning, 1 in 20 a block.
fn reroute_of(latency: u64) -> &'static str {
    match latency % 20 {
        0 => "quota_warn_attempt",
        1 => "quota_block",
        _ => PASS,
    }
}

fn decision(ts: f64, rid: &str, lane: &str, model: &str, why: &str, reroute: &str) -> String {
    format!(
        r#"{},"event":"decision","decision":"{why}","decision_reason":"{why}","warn_pct_cfg":0.8,{}"#,
        line(ts, rid, lane, model, (0, 0), -1, "", "", 0, r#""err_type":"","#),
        routing(reroute)
    )
}

impl CcpTree {
    /// Write a tree of about `requests` requests under `root` (created), from `seed`, 5 to
    /// 1500 s apart (a few days of history per thousand requests).
    pub fn generate(root: &Path, requests: usize, seed: u64) -> std::io::Result<CcpTree> {
        Self::generate_with(root, requests, seed, 1500)
    }

    /// [`CcpTree::generate`] with requests up to `max_gap_secs` seconds apart (at least 5 s
    /// when it is 10 or more; a busy proxy: a larger history in the same span of days).
    pub fn generate_with(
        root: &Path,
        requests: usize,
        seed: u64,
        max_gap_secs: u64,
    ) -> std::io::Result<CcpTree> {
        let mut rng = Rng::new(seed);
        let mut truth = Truth::default();
        let mut reqs = Vec::new();
        let mut lines: Vec<Line> = Vec::new();
        // 2026-11-01T00:00:00Z
        let mut ts = 1_793_491_200.0_f64;
        let mut rids = std::collections::HashSet::new();
        for _ in 0..requests {
            let min_gap = if max_gap_secs >= 10 { 5 } else { 0 };
            ts += rng.range(min_gap, max_gap_secs) as f64 + rng.below(1_000_000) as f64 / 1e6;
            let rid = loop {
                let r = format!("{:08x}", rng.next_u64() as u32);
                if rids.insert(r.clone()) {
                    break r;
                }
            };
            let model = MODELS[rng.below(3) as usize];
            let lane =
                if model.starts_with("glm") || rng.below(2) == 0 { "zai" } else { "anthropic" };
            let kind = rng.below(100);
            let latency = rng.range(80, 90_000);
            let end = ts + latency as f64 / 1000.0;
            let tok = (rng.range(1, 50_000), rng.range(1, 8_000));
            let reroute = reroute_of(latency);
            lines.push(Line { ts, text: decision(ts, &rid, lane, model, "pass_through", reroute) });
            // A stream's first line and last chunk (no draw from the RNG).
            let (ttft, stream_ms) = (20 + latency % 700, latency / 2);
            let stream_tail = format!(r#""stream_ms":{stream_ms},"ttft_ms":{ttft},"#);
            let done = |tokens: (u64, u64),
                        status: i64,
                        reason: &str,
                        op: &str,
                        err: &str,
                        extra: &str,
                        why: &str| {
                format!(
                    r#"{},"decision_reason":"{why}",{}"#,
                    line(
                        end,
                        &rid,
                        lane,
                        model,
                        tokens,
                        status,
                        reason,
                        op,
                        latency,
                        &format!(r#"{extra}"err_type":"{err}","#)
                    ),
                    routing(reroute)
                )
            };
            // The line CCP writes when a stream's headers arrive (never a request of its own).
            let placeholder = || {
                let head = ts + 0.02;
                let text = line(
                    head,
                    &rid,
                    lane,
                    model,
                    (0, 0),
                    200,
                    "streaming",
                    "stream",
                    20,
                    r#""err_type":"","#,
                );
                Line { ts: head, text: format!("{text}}}") }
            };
            // What the completion logged: latency, stream_ms, ttft_ms (none: no completion).
            let mut logged = (Some(latency), None, None);
            let (mut fallbacks, mut status_429, mut idle_timeout) = (0, false, false);
            // (failed, error status, tokens counted, tokens unknown, fallback, B1)
            let (failed, error, tokens) = match kind {
                0..=44 => {
                    lines.push(Line {
                        ts: end,
                        text: done(
                            tok,
                            200,
                            "ok",
                            "nonstream",
                            "",
                            &format!(r#""stream_ms":{latency},"#),
                            "pass_through",
                        ),
                    });
                    logged.1 = Some(latency);
                    (false, false, tok)
                }
                45..=49 => {
                    // B8: an empty 200 body, 0 tokens: tokens unknown.
                    lines.push(Line {
                        ts: end,
                        text: done((0, 0), 200, "ok", "nonstream", "", "", "pass_through"),
                    });
                    (false, false, (0, 0))
                }
                50..=69 => {
                    lines.push(placeholder());
                    truth.placeholders += 1;
                    // Z.AI usage headers give a stream tokens; otherwise 0 (B3).
                    let t = if lane == "zai" && rng.below(2) == 0 { tok } else { (0, 0) };
                    lines.push(Line {
                        ts: end,
                        text: done(t, 200, "streaming", "stream", "", &stream_tail, "pass_through"),
                    });
                    logged = (Some(latency), Some(stream_ms), Some(ttft));
                    (false, false, t)
                }
                70..=74 => {
                    lines.push(placeholder());
                    truth.placeholders += 1;
                    lines.push(Line {
                        ts: end,
                        text: done(
                            (0, 0),
                            200,
                            "stream_timeout",
                            "stream",
                            "idle_timeout",
                            &stream_tail,
                            "pass_through",
                        ),
                    });
                    logged = (Some(latency), Some(stream_ms), Some(ttft));
                    idle_timeout = true;
                    (true, true, (0, 0))
                }
                75..=84 => {
                    // Fallback after a 429: the completion keeps the first status (B1).
                    let fb = ts + latency as f64 / 2000.0;
                    lines.push(Line {
                        ts: fb,
                        text: decision(fb, &rid, "anthropic", model, "fallback", reroute),
                    });
                    truth.fallbacks += 1;
                    fallbacks = 1;
                    status_429 = true;
                    truth.fallback_status_unknown += 1;
                    lines.push(Line {
                        ts: end,
                        text: done(tok, 429, "ok", "nonstream", "429", "", "fallback"),
                    });
                    (false, false, tok)
                }
                85..=89 => {
                    lines.push(Line {
                        ts: end,
                        text: done((0, 0), 502, "ok", "nonstream", "5xx", "", "pass_through"),
                    });
                    (true, true, (0, 0))
                }
                _ => {
                    // Dial error or timeout: decision only.
                    logged = (None, None, None);
                    (true, false, (0, 0))
                }
            };
            truth.requests += 1;
            if failed {
                truth.failed += 1;
                if error {
                    truth.error_status += 1;
                } else {
                    truth.no_completion += 1;
                }
            } else {
                truth.completed += 1;
                if tokens == (0, 0) {
                    truth.tokens_unknown += 1;
                }
            }
            truth.input_tokens += tokens.0;
            truth.output_tokens += tokens.1;
            let m = truth.by_model.entry(model.to_owned()).or_default();
            m[0] += 1;
            m[1] += u64::from(failed);
            m[2] += tokens.0;
            m[3] += tokens.1;
            *truth.by_day.entry(utc_day(ts)).or_default() += 1;
            reqs.push(GenRequest {
                ts,
                at: if logged.0.is_some() { end } else { ts },
                model: model.to_owned(),
                failed,
                tokens,
                latency_ms: logged.0,
                stream_ms: logged.1,
                ttft_ms: logged.2,
                fallbacks,
                status_429,
                idle_timeout,
                reroute,
            });
        }
        // Write order = time order (stable: a request's lines keep their order).
        lines.sort_by(|a, b| a.ts.total_cmp(&b.ts));
        let end_ts = lines.last().map_or(ts, |l| l.ts) + 1.0;

        let logs = root.join("logs");
        std::fs::create_dir_all(logs.join("archive"))?;
        std::fs::create_dir_all(logs.join("dev"))?;
        // Split: archive, .3, .2, .1, usage.jsonl (fifths).
        let n = lines.len();
        let cut = |k: usize| n * k / 5;
        let names = [
            logs.join("archive").join("usage-20261101-000000.jsonl"),
            logs.join("usage.jsonl.3"),
            logs.join("usage.jsonl.2"),
            logs.join("usage.jsonl.1"),
            logs.join("usage.jsonl"),
        ];
        for (k, path) in names.iter().enumerate() {
            let mut out = Vec::new();
            let part = &lines[cut(k)..cut(k + 1)];
            for (j, l) in part.iter().enumerate() {
                if k == 0 && j == 0 {
                    out.extend_from_slice("\u{feff}".as_bytes()); // A BOM.
                }
                if k == 3 && j == 1 {
                    // Two objects on one line: the next line is appended to this one.
                    continue;
                }
                out.extend_from_slice(l.text.as_bytes());
                if k == 3 && j == 0 && part.len() > 1 {
                    out.extend_from_slice(part[1].text.as_bytes());
                }
                if k == 3 && j == 2 {
                    out.extend_from_slice(b" -- copied from the terminal"); // Trailing prose.
                    truth.bad_lines += 1;
                }
                out.extend_from_slice(if k == 1 { b"\r\n" } else { b"\n" });
                if k == 3 && j == 4 {
                    out.extend_from_slice(b"\n   \nnot json at all\n{\"ts\":17934\n");
                    truth.bad_lines += 2;
                }
            }
            if k == 4 {
                // A torn last line: a request CCP was still writing (not counted).
                let torn = decision(end_ts, "ffff0000", "zai", MODELS[0], "pass_through", PASS);
                out.extend_from_slice(&torn.as_bytes()[..torn.len() / 2]);
                truth.bad_lines += 1;
            }
            std::fs::write(path, out)?;
        }
        std::fs::copy(logs.join("usage.jsonl.2"), logs.join("usage_go_repro_quick.jsonl"))?;
        truth.duplicate_files += 1;

        // A dev profile log of its own: two requests.
        let mut dev = std::fs::File::create(logs.join("dev").join("usage.jsonl"))?;
        for (j, model) in ["claude-haiku-4.5", "glm-4.6"].iter().enumerate() {
            let t = 1_793_491_200.0 + 3600.0 * j as f64 + 0.25;
            let rid = format!("dev0000{j}");
            writeln!(dev, "{}", decision(t, &rid, "zai", model, "forced_model", PASS))?;
            writeln!(
                dev,
                r#"{},"decision_reason":"forced_model",{}"#,
                line(
                    t + 0.5,
                    &rid,
                    "zai",
                    model,
                    (10, 20),
                    200,
                    "ok",
                    "nonstream",
                    500,
                    r#""err_type":"","#
                ),
                routing(PASS)
            )?;
            truth.requests += 1;
            truth.completed += 1;
            truth.input_tokens += 10;
            truth.output_tokens += 20;
            let m = truth.by_model.entry((*model).to_owned()).or_default();
            m[0] += 1;
            m[2] += 10;
            m[3] += 20;
            *truth.by_day.entry(utc_day(t)).or_default() += 1;
            reqs.push(GenRequest {
                ts: t,
                at: t + 0.5,
                model: (*model).to_owned(),
                failed: false,
                tokens: (10, 20),
                latency_ms: Some(500),
                stream_ms: None,
                ttft_ms: None,
                fallbacks: 0,
                status_429: false,
                idle_timeout: false,
                reroute: PASS,
            });
        }
        reqs.sort_by(|a, b| a.ts.total_cmp(&b.ts));
        Ok(CcpTree { root: root.to_owned(), truth, requests: reqs, end_ts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_dates() {
        assert_eq!(utc_day(0.0), "1970-01-01");
        assert_eq!(utc_day(1_793_491_200.0), "2026-11-01");
        assert_eq!(utc_day(1_793_491_199.9), "2026-10-31");
        assert_eq!(utc_day(951_782_400.0), "2000-02-29");
    }
}
