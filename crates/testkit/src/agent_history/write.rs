//! Line output for the generator: a buffered JSONL file that counts what it writes, and the
//! agents' timestamp format.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde_json::Value;

use super::Stats;

/// A JSONL file being written (created, or opened for appending).
#[derive(Debug)]
pub(crate) struct Lines {
    out: BufWriter<File>,
    pub(crate) bytes: u64,
    pub(crate) lines: u64,
}

impl Lines {
    pub(crate) fn create(path: &Path) -> io::Result<Lines> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        Ok(Lines {
            out: BufWriter::with_capacity(256 * 1024, File::create(path)?),
            bytes: 0,
            lines: 0,
        })
    }

    pub(crate) fn append(path: &Path) -> io::Result<Lines> {
        let file = OpenOptions::new().append(true).open(path)?;
        Ok(Lines { out: BufWriter::with_capacity(256 * 1024, file), bytes: 0, lines: 0 })
    }

    pub(crate) fn json(&mut self, v: &Value) -> io::Result<()> {
        let mut text = serde_json::to_string(v).map_err(io::Error::other)?;
        text.push('\n');
        self.raw(&text)
    }

    /// A line as given (`text` ends with its newline).
    pub(crate) fn raw(&mut self, text: &str) -> io::Result<()> {
        self.out.write_all(text.as_bytes())?;
        self.bytes += text.len() as u64;
        self.lines += 1;
        Ok(())
    }

    /// Flush and count the file into `stats` (`new_file`: it did not exist before).
    pub(crate) fn finish(mut self, stats: &mut Stats, new_file: bool) -> io::Result<u64> {
        self.out.flush()?;
        stats.bytes += self.bytes;
        stats.lines += self.lines;
        stats.files += u64::from(new_file);
        Ok(self.bytes)
    }
}

/// RFC 3339 with milliseconds and `Z`, as both agents write it.
pub(crate) fn timestamp(ms: i64) -> String {
    let ts = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `YYYY`, `MM`, `DD` and `YYYY-MM-DDTHH-MM-SS` of a time in UTC (Codex's rollout path).
pub(crate) fn rollout_parts(ms: i64) -> (String, String, String, String) {
    let ts = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    (
        ts.strftime("%Y").to_string(),
        ts.strftime("%m").to_string(),
        ts.strftime("%d").to_string(),
        ts.strftime("%Y-%m-%dT%H-%M-%S").to_string(),
    )
}
