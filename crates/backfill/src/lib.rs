//! Backfill: turn the history CCC/CCP already wrote to disk into AgentOS events and a dated
//! trendline, idempotently (running it twice changes nothing).
//!
//! What it is for: CCP's `logs/usage.jsonl`, its rotations (`usage.jsonl.1..N`), archives
//! (`logs/archive/usage-*.jsonl`), snapshot copies (`usage_<tag>.jsonl`, byte-identical
//! duplicates) and `results/METRICS*.json` hold months of usage that predate AgentOS. This crate
//! will read them with the types of `agentos_event_schema::ccp`, dedupe exact duplicate lines,
//! join each request's decision and completion lines (contract §3 and §6.6), and emit v1 events
//! plus per-day trend rows.
//!
//! What it is not: it does not talk to a live CCC (that is `agentos-ccc-client`), does not
//! compute metrics (that is `agentos-rollup`, which reads what backfill writes), and never
//! uploads anything.
//!
//! Status: the crate exists so the workspace has its final shape; the backfill itself is a
//! later issue.
#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
