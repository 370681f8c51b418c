//! Unit tests of the crate's internals (line reader, codecs, ids).
