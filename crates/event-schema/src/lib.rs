//! The data contract of AgentOS: the v1 event model, typed models of the JSON that CCP/CCC
//! really emits, the JSON Schemas generated from both, and validation of untrusted JSON.
//!
//! What it is for: every other AgentOS crate (and any Rust tool that wants to read or write
//! AgentOS event logs or CCP output) agrees on these types. [`v1`] holds the events written
//! to `events.jsonl` (compatible both ways with the Python AgentOS v1 schemas), plus the
//! `windows.jsonl` and `glm_counts.jsonl` records. [`ccp`] models `usage.jsonl` lines,
//! `/v1/usage`, `/v1/quotas`, `/readyz`, `/v1/usage/samples`, `/v1/usage/rollups`,
//! `results/METRICS*.json` and license claims. [`catalog`] names one JSON Schema per type and
//! [`validate`] (feature `validate`, off by default) checks a `serde_json::Value` against it,
//! returning every violation with its JSON pointer. [`provider`] is the one model → provider
//! table; [`prices`] the dated token price table and its model-family matcher; [`scan`] the
//! byte-level help the fast line readers share; [`facts`] what a writer hands a reader in the
//! same process instead of the line.
//!
//! What it is not: it does no I/O (no files, no network, no clock except when asked for a fresh
//! id or timestamp), computes no metrics and makes no privacy decisions.
//!
//! Evolution rule (shared with CCP): additive only. Unknown fields are tolerated and kept in
//! each type's `extra` map, never rejected.
//!
//! Features: none by default, so a dependent gets the types with serde and schemars only.
//! `validate` adds the [`validate`] module and the `jsonschema` dependency it needs.
//!
#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod catalog;
pub mod ccp;
pub mod facts;
mod ids;
mod nullable;
pub mod prices;
pub mod provider;
pub mod scan;
mod time;
pub mod v1;
#[cfg(feature = "validate")]
pub mod validate;

#[cfg(test)]
mod tests;

pub use ids::{EventId, FeatureId, SessionId, TurnId};
pub use time::{Timestamp, TimestampError};

/// A JSON object's fields that a type does not model, kept so nothing is lost on a round trip.
pub type Extra = std::collections::BTreeMap<String, serde_json::Value>;
