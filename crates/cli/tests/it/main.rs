//! Integration tests of the `agentos` binary, one module per command group.

mod license;
mod rollup;
mod session;
mod ux;
