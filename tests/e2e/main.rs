//! End-to-end runs of the `agentos` binary on the repository's fixtures.

mod schema;
