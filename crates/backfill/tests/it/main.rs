//! Integration tests of the importers: hand-written fixtures with hand-computed totals, and
//! generated histories for streaming, copies, incremental reads, rewrites and bounds; the
//! CCC log backfill (`ccp`).

mod agentos_py;
mod bounded;
mod ccp;
mod ccp_direct;
mod claude;
mod codex;
mod common;
mod fixture;
mod incremental;
mod privacy;
mod rerun_props;
