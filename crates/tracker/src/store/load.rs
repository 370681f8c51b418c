//! Reading one of the tracker's JSONL files (reference §7.2, "Load"): a missing file is no rows;
//! every non-blank line, trimmed, is one JSON object; a line that is not one is reported as
//! `file:line: reason` and skipped (the Python tracker aborts the command: defect §9.7); an
//! optional window filter keeps the rows whose `window` equals it exactly; the rows are then
//! stably sorted by (`captured_at` or `finalized_at` or `""`, `provider` or `""`), plain string
//! comparison, as every Python reader sees them.
//!
//! Bounded: lines are read through a fixed buffer; a line longer than [`MAX_LINE_BYTES`] is
//! reported and skipped without being held, and callers that do not need the pane text can drop
//! `raw_text` as each row is read ([`Options::keep_raw_text`]).

use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// The longest line read: 64 MiB, as every AgentOS JSONL reader (a stored pane is at most
/// [`crate::MAX_INPUT_BYTES`] before JSON escaping).
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// One stored row: the Python tracker's dict.
pub type Row = Map<String, Value>;

/// A line that was skipped, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file.
    pub file: PathBuf,
    /// 1-based line number.
    pub line: u64,
    /// Why it was skipped (never the line's text).
    pub reason: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.reason)
    }
}

/// The rows of a file, in the tracker's order, and the lines skipped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Loaded {
    /// The rows, sorted (see the module doc).
    pub rows: Vec<Row>,
    /// One per skipped line, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

/// What to keep.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    /// Keep only rows whose `window` is exactly this (an empty filter keeps every row, as in
    /// Python, where `""` is falsy).
    pub window: Option<&'a str>,
    /// Keep each row's `raw_text` (the pane or export as pasted); readers that only need the
    /// parsed values drop it to hold less.
    pub keep_raw_text: bool,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options { window: None, keep_raw_text: true }
    }
}

/// Why a file could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Opening or reading the file failed (a missing file is not an error).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Load `path` as [`Options`] say (see the module doc).
pub fn load(path: &Path, options: Options<'_>) -> Result<Loaded, Error> {
    load_capped(path, options, MAX_LINE_BYTES)
}

/// [`load`] with a line cap of `cap` bytes.
pub(crate) fn load_capped(path: &Path, options: Options<'_>, cap: usize) -> Result<Loaded, Error> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::default()),
        Err(source) => return Err(Error::Read { path: path.to_owned(), source }),
    };
    let read_err = |source| Error::Read { path: path.to_owned(), source };
    if file.metadata().map_err(read_err)?.is_dir() {
        return Err(read_err(std::io::Error::other("is a directory")));
    }
    let mut reader = BufReader::new(file);
    let mut out = Loaded::default();
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let filter = options.window.filter(|w| !w.is_empty());
    loop {
        let (read, too_long) = read_line(&mut reader, &mut buf, cap).map_err(read_err)?;
        if read == 0 {
            break;
        }
        line_no += 1;
        let mut skip = |reason: String| {
            out.diagnostics.push(Diagnostic { file: path.to_owned(), line: line_no, reason });
        };
        if too_long {
            skip(format!("line longer than {cap} bytes, skipped"));
            continue;
        }
        let text = buf.trim_ascii();
        if text.is_empty() {
            continue;
        }
        let torn = !buf.ends_with(b"\n");
        let mut row = match serde_json::from_slice::<Value>(text) {
            Ok(Value::Object(row)) => row,
            Ok(other) => {
                skip(format!("not a JSON object but {}, skipped", kind(&other)));
                continue;
            }
            Err(e) if torn => {
                skip(format!("torn last line (no newline), skipped: {}", e.classify_text()));
                continue;
            }
            Err(e) => {
                skip(format!("not JSON ({} at column {}), skipped", e.classify_text(), e.column()));
                continue;
            }
        };
        if let Some(w) = filter
            && row.get("window").and_then(Value::as_str) != Some(w)
        {
            continue;
        }
        if !options.keep_raw_text {
            row.remove("raw_text");
        }
        out.rows.push(row);
    }
    out.rows.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    Ok(out)
}

/// `(captured_at or finalized_at or "", provider or "")`; a value that is not a string reads as
/// missing.
pub fn sort_key(row: &Row) -> (&str, &str) {
    let s = |k: &str| row.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    (s("captured_at").or_else(|| s("finalized_at")).unwrap_or(""), s("provider").unwrap_or(""))
}

/// serde_json's error category in words (its message could quote the input).
trait Classify {
    fn classify_text(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_text(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "invalid data",
            serde_json::error::Category::Eof => "unexpected end",
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Read one line (with its `\n`) into `buf`; past `cap` bytes the rest of the line is
/// read through and dropped. Returns the bytes consumed (0 at the end) and whether it was cut.
fn read_line<R: Read>(
    r: &mut BufReader<R>,
    buf: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<(usize, bool)> {
    buf.clear();
    let (mut consumed, mut too_long) = (0usize, false);
    loop {
        let chunk = match r.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok((consumed, too_long));
        }
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if !too_long {
            if buf.len() + take > cap + 1 {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&chunk[..take]);
            }
        }
        r.consume(take);
        consumed += take;
        if done {
            return Ok((consumed, too_long));
        }
    }
}
