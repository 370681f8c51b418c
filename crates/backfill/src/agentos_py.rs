//! Import of a Python AgentOS data dir (`--agentos-py DIR`): the events its client appended to
//! `DIR/windows.jsonl` (`session`, `turn`, `session_end`, without `event_id`, `ts` or
//! `schema_version`: the legacy shape the rollup reads as such), so users of the earlier tool
//! keep their history. Each event line is copied as written, given an `event_id` derived from
//! its bytes (the same line always gets the same id); a line already imported (a re-run, a
//! copy, a re-finalised duplicate) counts once through the dedupe index. Lines that are not
//! events (the tracker writes window summaries to a file of the same name) are counted and
//! skipped. Shares the ledger, the line reader, the index and the spool with the other
//! backfills.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};

use camino::Utf8PathBuf;
use serde::Serialize;

use crate::dedupe::{Index, KeyMap, KeyRec};
use crate::ledger::{FINGERPRINT_BYTES, FileEntry, Ledger, Plan, Stat, fingerprint};
use crate::lines::{Line, LineReader, is_blank};
use crate::record::{Diagnostic, json_reason};
use crate::run::lock_state_dir;
use crate::spool::SpoolWriter;
use crate::{Agent, Error, events};

const LEDGER: &str = "ledger.json";
const SPOOL: &str = "spool.jsonl";
const LOCK: &str = "backfill.lock";
/// The Python client's event log in its data dir.
pub const EVENT_LOG: &str = "windows.jsonl";
/// At most this many bad lines are listed (the count is exact).
const MAX_LISTED: usize = 50;

/// What to import and where the import keeps its state.
#[derive(Clone, Debug)]
pub struct PyOptions {
    /// The Python AgentOS data dir (holds `windows.jsonl`).
    pub dir: Utf8PathBuf,
    /// This import's own state, e.g. `<data dir>/backfill/agentos-py`.
    pub state_dir: Utf8PathBuf,
    /// Fail on the first bad line instead of skipping it.
    pub strict: bool,
}

/// What an import of a Python data dir found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PyReport {
    /// `read`, `appended`, `rewritten`, `unchanged` or `missing`.
    pub file: String,
    /// Lines read.
    pub lines: u64,
    /// Blank lines.
    pub blank_lines: u64,
    /// Events written, by `type`.
    pub by_type: BTreeMap<String, u64>,
    /// Events written.
    pub events: u64,
    /// Event lines already imported, dropped.
    pub duplicates: u64,
    /// JSON lines that are not events (e.g. the tracker's window summaries), skipped.
    pub not_events: u64,
    /// Lines that could not be used.
    pub bad_lines: u64,
    /// `file:line: reason`, up to 50.
    pub bad: Vec<String>,
}

/// The result of [`prepare_py`]; holds the lock until dropped.
#[derive(Debug)]
pub struct PyPending {
    report: PyReport,
    state_dir: Utf8PathBuf,
    ledger: Ledger,
    index: Option<Index>,
    spool: Utf8PathBuf,
    _lock: File,
}

fn is_event_type(t: &str) -> bool {
    matches!(t, "session" | "turn" | "session_end")
}

/// Read what changed in `opts.dir/windows.jsonl` since the last run into the spool.
pub fn prepare_py(opts: &PyOptions) -> Result<PyPending, Error> {
    let dir = &opts.state_dir;
    if !opts.dir.is_dir() {
        return Err(Error::NotADirectory { path: opts.dir.clone() });
    }
    let lock = lock_state_dir(dir, LOCK)?;
    let mut ledger = Ledger::load(&dir.join(LEDGER))?;
    let spool = dir.join(SPOOL);
    let mut out = PyPending {
        report: PyReport::default(),
        state_dir: dir.clone(),
        ledger: Ledger::default(),
        index: None,
        spool: spool.clone(),
        _lock: lock,
    };
    let path = opts.dir.join(EVENT_LOG);
    let meta = match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => m,
        Ok(_) => {
            let e = std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file");
            return Err(Error::io("read", &path, e));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            out.report.file = "missing".to_owned();
            out.ledger = ledger;
            return Ok(out);
        }
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    let stat = Stat::of(&meta);
    let prefix = |len: u64| File::open(&path).and_then(|f| fingerprint(f, len)).map(|p| p.1);
    let plan =
        ledger.plan(path.as_str(), &stat, prefix).map_err(|e| Error::io("read", &path, e))?;
    let (offset, first_line) = match (&plan, ledger.files.get(path.as_str())) {
        (Plan::Unchanged, _) => {
            out.report.file = "unchanged".to_owned();
            out.ledger = ledger;
            return Ok(out);
        }
        (Plan::Appended, Some(e)) => (e.consumed, e.next_line),
        _ => (0, 1),
    };
    out.report.file = match plan {
        Plan::Appended => "appended",
        Plan::Rewritten => "rewritten",
        _ => "read",
    }
    .to_owned();
    let mut index = Index::open(dir)?;
    // The index keys every line under one record (the lines carry their own sessions).
    let session = index.session(Agent::ClaudeCode, "agentos-py");
    let mut writer = SpoolWriter::create(&spool)?;
    let mut run_keys: KeyMap<()> = KeyMap::default();
    let io = |e| Error::io("read", &path, e);
    let mut file = File::open(&path).map_err(io)?;
    let fp = fingerprint(&file, FINGERPRINT_BYTES).map_err(io)?;
    file.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut reader = LineReader::new(BufReader::new(file), offset, first_line);
    let r = &mut out.report;
    let bad = |r: &mut PyReport, no: u64, reason: String| -> Result<(), Error> {
        let d = Diagnostic { file: path.to_string(), line: no, reason };
        if opts.strict {
            return Err(Error::BadLine { line: d.to_string() });
        }
        r.bad_lines += 1;
        if r.bad.len() < MAX_LISTED {
            r.bad.push(d.to_string());
        }
        Ok(())
    };
    while let Some(line) = reader.next_line().map_err(io)? {
        let (no, bytes) = match line {
            Line::Full { no, bytes } => (no, bytes),
            Line::TooLong { no, len } => {
                r.lines += 1;
                bad(r, no, format!("line of {len} bytes is over the limit, skipped"))?;
                continue;
            }
            Line::Torn { no, .. } => {
                bad(r, no, "incomplete last line (read again once it is complete)".to_owned())?;
                continue;
            }
        };
        r.lines += 1;
        if is_blank(bytes) {
            r.blank_lines += 1;
            continue;
        }
        let mut v: serde_json::Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(e) => {
                bad(r, no, json_reason(&e))?;
                continue;
            }
        };
        let Some(obj) = v.as_object_mut() else {
            bad(r, no, "not a JSON object".to_owned())?;
            continue;
        };
        let kind = match obj.get("type").and_then(|t| t.as_str()) {
            Some(t) if is_event_type(t) => t.to_owned(),
            _ => {
                r.not_events += 1;
                continue;
            }
        };
        let key = events::key128(&[b"agentos-py/line", bytes.trim_ascii()]);
        if run_keys.contains_key(&key) || index.get(key)?.is_some() {
            r.duplicates += 1;
            continue;
        }
        run_keys.insert(key, ());
        if !obj.contains_key("event_id") {
            let id = events::uuid_of(&[b"agentos-py/event", &key.to_le_bytes()]);
            obj.insert("event_id".to_owned(), serde_json::Value::from(id));
        }
        writer.line(&serde_json::to_vec(&v)?)?;
        index.set(key, KeyRec { session, usage: Default::default() });
        *r.by_type.entry(kind).or_default() += 1;
        r.events += 1;
    }
    writer.finish()?;
    ledger.files.insert(
        path.to_string(),
        FileEntry::read(&stat, fp, reader.consumed(), reader.next_line_no()),
    );
    out.ledger = ledger;
    out.index = Some(index);
    Ok(out)
}

impl PyPending {
    /// What was found.
    pub fn report(&self) -> &PyReport {
        &self.report
    }

    /// Call `f` with batches of event lines, each ending in `\n`.
    pub fn write_event_batches<E: From<Error>>(
        &self,
        f: impl FnMut(&str) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.report.events == 0 {
            return Ok(());
        }
        crate::spool::batches(&self.spool, f)
    }

    /// Record that the events were written (the index, then the ledger, atomically).
    pub fn commit(mut self) -> Result<PyReport, Error> {
        if let Some(index) = &mut self.index {
            index.commit()?;
            self.ledger.save(&self.state_dir.join(LEDGER))?;
        }
        Ok(std::mem::take(&mut self.report))
    }
}

impl Drop for PyPending {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.spool);
    }
}
