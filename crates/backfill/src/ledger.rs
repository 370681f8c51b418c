//! The ledger: per source file, what was read and how to go on. A re-run compares each file's
//! identity (device and inode), size and modification time with its entry and skips it when
//! nothing changed (a stat, no read); a file that grew and still starts with the same bytes
//! (a fingerprint of its first [`FINGERPRINT_BYTES`]) is read from where the last run stopped;
//! anything else (a shorter file, other first bytes, another inode) is read again from the
//! start, and the global dedupe keeps that from counting anything twice.
//!
//! Written atomically (`agentos-fsio`) after the events it accounts for were appended.

use std::collections::BTreeMap;
use std::io::Read;

use camino::Utf8Path;
use serde::{Deserialize, Serialize};

use crate::{Agent, Error};

/// How many leading bytes the fingerprint covers.
pub const FINGERPRINT_BYTES: u64 = 4096;

/// Largest ledger file read (one entry is a few hundred bytes).
const MAX_LEDGER_BYTES: u64 = 256 << 20;

const VERSION: u32 = 1;

/// Codex parse state at the ledger's offset: what the next token event needs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CodexState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cli_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The last cumulative total: input, cached input, output, reasoning, total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<[u64; 5]>,
}

/// What is known about one source file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileEntry {
    /// The agent whose history the file holds; `None` for CCC's own logs (`ccp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Agent>,
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i128,
    /// How many leading bytes `fingerprint` covers.
    pub fp_len: u64,
    /// SHA-256 (first 16 bytes, hex) of the first `fp_len` bytes.
    pub fingerprint: String,
    /// Bytes read and accounted for (always the end of a complete line).
    pub consumed: u64,
    /// Number of the next line to read.
    pub next_line: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codex: Option<CodexState>,
}

impl FileEntry {
    /// A file of `stat` whose first `fp_len` bytes have fingerprint `fingerprint`, read up to
    /// byte `consumed` (line `next_line` next); no agent, no Codex state.
    pub fn read(
        stat: &Stat,
        (fp_len, fingerprint): (u64, String),
        consumed: u64,
        next_line: u64,
    ) -> Self {
        FileEntry {
            agent: None,
            dev: stat.dev,
            ino: stat.ino,
            size: stat.size,
            mtime_ns: stat.mtime_ns,
            fp_len,
            fingerprint,
            consumed,
            next_line,
            codex: None,
        }
    }
}

/// Every source file ever read, by path.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Ledger {
    pub version: u32,
    pub files: BTreeMap<String, FileEntry>,
}

/// A source file's identity and size, from one `stat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i128,
}

impl Stat {
    pub fn of(meta: &std::fs::Metadata) -> Stat {
        #[cfg(unix)]
        let (dev, ino) = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let (dev, ino) = (0, 0);
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i128);
        Stat { dev, ino, size: meta.len(), mtime_ns }
    }
}

/// What to do with a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Same identity, size and time: nothing to read.
    Unchanged,
    /// Never read: from the start.
    New,
    /// Grown with the same first bytes: from `consumed`.
    Appended,
    /// Rewritten, replaced or shortened: from the start again.
    Rewritten,
}

impl Ledger {
    /// The ledger at `path`; an empty one when there is none.
    pub fn load(path: &Utf8Path) -> Result<Ledger, Error> {
        let Some(bytes) = agentos_fsio::read_bounded(path, MAX_LEDGER_BYTES)? else {
            return Ok(Ledger { version: VERSION, files: BTreeMap::new() });
        };
        let ledger: Ledger = serde_json::from_slice(&bytes).map_err(|e| Error::State {
            path: path.to_owned(),
            reason: format!("not a ledger ({} at line {})", category(&e), e.line()),
        })?;
        if ledger.version != VERSION {
            return Err(Error::State {
                path: path.to_owned(),
                reason: format!("unknown ledger version {}", ledger.version),
            });
        }
        Ok(ledger)
    }

    /// Write the ledger atomically.
    pub fn save(&self, path: &Utf8Path) -> Result<(), Error> {
        let bytes = serde_json::to_vec(self)?;
        agentos_fsio::write_atomic(path, &bytes)?;
        Ok(())
    }

    /// Decide from a stat alone whether a file is unchanged; otherwise whether it may be
    /// resumed (`prefix` reads its first bytes for the fingerprint check).
    pub fn plan(
        &self,
        path: &str,
        stat: &Stat,
        prefix: impl FnOnce(u64) -> std::io::Result<String>,
    ) -> std::io::Result<Plan> {
        let Some(e) = self.files.get(path) else { return Ok(Plan::New) };
        let same_file = e.dev == stat.dev && e.ino == stat.ino;
        if same_file && e.size == stat.size && e.mtime_ns == stat.mtime_ns {
            return Ok(Plan::Unchanged);
        }
        if same_file && stat.size >= e.consumed && prefix(e.fp_len)? == e.fingerprint {
            return Ok(Plan::Appended);
        }
        Ok(Plan::Rewritten)
    }

    /// The path of another entry for the same file (device and inode) whose first bytes are
    /// still the file's: a log rotated by renaming (`usage.jsonl` → `usage.jsonl.1`), to be
    /// resumed from where it was left under its old name.
    pub fn moved_from(
        &self,
        path: &str,
        stat: &Stat,
        prefix: impl Fn(u64) -> std::io::Result<String>,
    ) -> std::io::Result<Option<String>> {
        if (stat.dev, stat.ino) == (0, 0) {
            return Ok(None);
        }
        for (p, e) in &self.files {
            if p != path
                && (e.dev, e.ino) == (stat.dev, stat.ino)
                && stat.size >= e.consumed
                && prefix(e.fp_len)? == e.fingerprint
            {
                return Ok(Some(p.clone()));
            }
        }
        Ok(None)
    }
}

fn category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Eof => "truncated",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected shape",
        serde_json::error::Category::Io => "read error",
    }
}

/// The fingerprint of the first `len` bytes of `reader` (fewer if it is shorter).
pub(crate) fn fingerprint(reader: impl Read, len: u64) -> std::io::Result<(u64, String)> {
    let mut buf = Vec::with_capacity(len as usize);
    reader.take(len).read_to_end(&mut buf)?;
    Ok((buf.len() as u64, crate::events::hex(&crate::events::sha256(&[&buf])[..16])))
}
