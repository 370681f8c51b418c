//! The requests the OTLP receiver (`agentos otel receive`) already recorded as turns, by usage
//! fingerprint (session, model and the four token counts; `agentos_otel::receive`). A response
//! the import finds with the same final usage is the same request seen through the telemetry:
//! it is entered in the dedupe index but not written again, so the two sources count a response
//! once in either order (the receiver consults `events.jsonl` for the other order).

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};

use agentos_otel::receive::{parse_fingerprint_line, usage_fingerprint};
use camino::Utf8Path;

use crate::Error;
use crate::record::Usage;

/// At most this many fingerprints are read (128 MiB of file, 8M recorded requests): past it
/// the rest of the file is not consulted, so memory stays bounded.
pub const MAX_RECEIVED: usize = 8 << 20;

/// The fingerprints listed (empty when the receiver never ran).
#[derive(Debug, Default)]
pub(crate) struct Received(HashSet<[u8; 16]>);

impl Received {
    /// Read `path` (missing: none). Lines that are not a fingerprint (a torn last line) are
    /// skipped.
    pub(crate) fn load(path: &Utf8Path) -> Result<Received, Error> {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Received::default()),
            Err(e) => return Err(Error::io("open", path, e)),
        };
        let mut set = HashSet::new();
        let mut reader = BufReader::new(file);
        let mut line = Vec::with_capacity(40);
        while set.len() < MAX_RECEIVED {
            line.clear();
            // A fingerprint line is 33 bytes: a longer one is junk, read no further into it.
            let n = (&mut reader)
                .take(64)
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::io("read", path, e))?;
            if n == 0 {
                break;
            }
            if line.last() != Some(&b'\n') && n == 64 {
                reader.skip_until(b'\n').map_err(|e| Error::io("read", path, e))?;
                continue;
            }
            if let Some(f) = parse_fingerprint_line(line.strip_suffix(b"\n").unwrap_or(&line)) {
                set.insert(f);
            }
        }
        Ok(Received(set))
    }

    /// Whether nothing was received.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the receiver recorded this response: same session, model and final usage.
    pub(crate) fn has(&self, session: &str, model: &str, usage: &Usage) -> bool {
        let tokens = [usage.input, usage.output, usage.cache_read, usage.cache_write];
        self.0.contains(&usage_fingerprint(session, model, tokens))
    }
}
