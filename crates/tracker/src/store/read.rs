//! Reading a tracker file back (reference §7.2's `load`), tolerantly: a line that is not a
//! JSON object is reported as `file:line` and skipped instead of aborting, a line longer
//! than [`MAX_LINE_BYTES`] is skipped without being held, and rows are sorted as the
//! reference sorts them. Rows keep their text, so what is copied from them (a snapshot's
//! `parsed`) keeps its key order and what is removed (alias delete) is found byte for byte.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};

use camino::{Utf8Path, Utf8PathBuf};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::Error;

/// The longest line read: 64 MiB, as every AgentOS JSONL reader (a pane capture is a few KiB;
/// a stored one is at most [`crate::MAX_INPUT_BYTES`] before escaping). A longer line is
/// skipped without being held and reported.
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// One row of a tracker file.
#[derive(Debug, Clone)]
pub struct Row {
    /// Its 1-based line number in the file.
    pub line: u64,
    /// The line's text, trimmed.
    pub text: String,
    /// The parsed object.
    pub value: Map<String, Value>,
}

impl Row {
    /// The string at `key`, `None` when missing or not a string.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.value.get(key).and_then(Value::as_str)
    }

    /// The string at `key`, `""` when missing or not a string.
    pub fn str_or_empty(&self, key: &str) -> &str {
        self.str(key).unwrap_or("")
    }

    /// `parsed` exactly as written (key order kept), `None` when missing.
    pub fn parsed_raw(&self) -> Option<Box<RawValue>> {
        #[derive(serde::Deserialize)]
        struct Parsed {
            parsed: Option<Box<RawValue>>,
        }
        serde_json::from_str::<Parsed>(&self.text).ok().and_then(|p| p.parsed)
    }

    /// `parsed` as an object (empty when missing or not an object).
    pub fn parsed(&self) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        match self.value.get("parsed") {
            Some(Value::Object(m)) => m,
            _ => EMPTY.get_or_init(Map::new),
        }
    }

    /// The reference's sort key: (`captured_at` or `finalized_at` or `""`, `provider` or
    /// `""`), empty and non-string values counting as missing.
    fn sort_key(&self) -> (&str, &str) {
        let at = self
            .str("captured_at")
            .filter(|s| !s.is_empty())
            .or_else(|| self.str("finalized_at"))
            .unwrap_or("");
        (at, self.str_or_empty("provider"))
    }
}

/// A line that was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt {
    /// The file.
    pub file: Utf8PathBuf,
    /// The 1-based line number.
    pub line: u64,
    /// What is wrong with it (never its text).
    pub message: String,
}

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// A file's rows and the lines skipped.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The rows kept, sorted by the reference's key (stable: file order among equals).
    pub rows: Vec<Row>,
    /// The lines that could not be read, in file order.
    pub corrupt: Vec<Corrupt>,
}

/// Read `path` (missing file: no rows), keeping the rows whose `window` equals `window` when
/// one is given (an empty filter keeps all, as in the reference), sorted by (`captured_at`
/// or `finalized_at`, `provider`). Blank lines are ignored; a line that is not a JSON object,
/// not UTF-8, or longer than [`MAX_LINE_BYTES`] is skipped and reported in
/// [`Loaded::corrupt`].
///
/// # Errors
/// [`Error::Io`] when the file exists but cannot be opened or read.
pub fn read_rows(path: &Utf8Path, window: Option<&str>) -> Result<Loaded, Error> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::default()),
        Err(e) => return Err(Error::io("open", path, e)),
    };
    read_rows_from(BufReader::new(file), path, window)
}

/// [`read_rows`] over any reader (`path` names it in [`Loaded::corrupt`]); the fuzz targets'
/// entry point, not part of the API.
///
/// # Errors
/// [`Error::Io`] when the reader fails.
#[doc(hidden)]
pub fn read_rows_from(
    mut reader: impl BufRead,
    path: &Utf8Path,
    window: Option<&str>,
) -> Result<Loaded, Error> {
    let window = window.filter(|w| !w.is_empty());
    let mut out = Loaded::default();
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let complete = buf.ends_with(b"\n");
        if !complete && buf.len() > MAX_LINE_BYTES {
            skip_rest_of_line(&mut reader).map_err(|e| Error::io("read", path, e))?;
            out.corrupt.push(corrupt(
                path,
                line_no,
                format!("line longer than {MAX_LINE_BYTES} bytes"),
            ));
            continue;
        }
        let Ok(text) = std::str::from_utf8(&buf) else {
            out.corrupt.push(corrupt(path, line_no, "not UTF-8".to_owned()));
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let value = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                out.corrupt.push(corrupt(path, line_no, "not a JSON object".to_owned()));
                continue;
            }
            Err(e) => {
                let what = if complete { "not valid JSON" } else { "torn last line" };
                out.corrupt.push(corrupt(path, line_no, format!("{what} ({})", e.classify_name())));
                continue;
            }
        };
        if let Some(w) = window
            && value.get("window").and_then(Value::as_str) != Some(w)
        {
            continue;
        }
        out.rows.push(Row { line: line_no, text: text.to_owned(), value });
    }
    out.rows.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(out)
}

/// Read and drop the rest of an over-long line, through its newline.
fn skip_rest_of_line(reader: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(());
        }
        match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => {
                reader.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = chunk.len();
                reader.consume(n);
            }
        }
    }
}

fn corrupt(path: &Utf8Path, line: u64, message: String) -> Corrupt {
    Corrupt { file: path.to_owned(), line, message }
}

/// What kind of JSON error, in words (serde_json's message can quote the input).
trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "bad data",
            serde_json::error::Category::Eof => "unexpected end",
        }
    }
}
