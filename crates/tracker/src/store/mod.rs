//! The tracker's files in its data directory (reference §7.2): reading them back.

pub mod load;
