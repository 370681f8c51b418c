//! Integration tests of the `agentos` binary, one module per command group.

mod import;
mod license;
mod rollup;
mod schema;
mod session;
mod usage;
mod ux;
