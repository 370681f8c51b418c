//! Integration tests of the event contract against real files: CCP captures, CCP repo data,
//! events the Python client wrote, and the Python v1 JSON Schemas.

mod ccp_fixtures;
mod python_compat;

use std::path::PathBuf;

/// `fixtures/` at the repository root.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// The text of a fixture file.
pub fn read(rel: &str) -> String {
    let path = fixtures().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}
