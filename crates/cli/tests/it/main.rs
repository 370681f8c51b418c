//! Integration tests of the `agentos` binary, one module per command group.

mod backfill;
mod ccc;
mod features;
mod import;
mod import_e2e;
mod license;
mod otel;
mod preview;
mod report_html;
mod rollup;
mod schema;
mod session;
mod usage;
mod ux;
mod window;
