//! One module per command group. Each exposes clap argument types and `run` functions that
//! return the exit code (`Ok(ExitCode)`), or an error that `main` prints as one line with exit 2.

pub mod backfill;
pub mod ccc;
pub mod demo;
pub mod features;
pub mod import;
pub mod license;
pub mod otel;
pub mod paths;
pub mod render;
pub mod rollup;
pub mod schema;
pub mod session;
pub mod usage;
pub mod window;
