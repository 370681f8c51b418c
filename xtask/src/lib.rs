//! Project automation for the AgentOS workspace, reached as `cargo xtask …`.
//!
//! What it is for: generating the committed JSON Schemas under `schemas/` ([`schema_check::gen_schemas`]),
//! guarding them and the CCP samples against drift ([`schema_check::check`], also run by a
//! `#[test]` so plain `cargo test` catches drift), running the benchmarks ([`mod@bench`]), and the
//! tidy checks of crate boundaries ([`tidy`], run by `#[test]`s).
//! What it is not: part of the product; nothing ships it, and it stays lean (no new dependencies).
//!
//! ```no_run
//! let root = xtask::repo_root();
//! let report = xtask::schema_check::check(&xtask::schema_check::CheckOptions::for_repo(&root));
//! assert!(report.is_ok(), "{}", report.render());
//! ```
#![deny(missing_docs)]

pub mod bench;
pub mod diff;
pub mod layers;
mod legacy;
pub mod schema_check;
pub mod tidy;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

/// The workspace root (the parent of `xtask/`).
pub fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
