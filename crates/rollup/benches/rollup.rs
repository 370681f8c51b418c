//! Rollup benchmark (filled in below).
fn main() {}
