//! Where agent history lives, and which files of it to read.
//!
//! Claude Code: each config dir (`--claude-dir`, else `$CLAUDE_CONFIG_DIR`, a comma-separated
//! list, else `~/.config/claude` and `~/.claude`), files `projects/*/*.jsonl` and sub-agent
//! files `projects/*/<session>/subagents/*.jsonl`. Codex: `$CODEX_HOME` (else `~/.codex`),
//! files `sessions/YYYY/MM/DD/rollout-*.jsonl`.

use camino::{Utf8Path, Utf8PathBuf};

use crate::record::Diagnostic;
use crate::{Agent, Error};

/// The Claude Code config dirs to read: `flags` when given, else `env`
/// (`$CLAUDE_CONFIG_DIR`, comma-separated), else `~/.config/claude` and `~/.claude`.
pub fn claude_dirs(
    flags: &[Utf8PathBuf],
    env: Option<&str>,
    home: Option<&Utf8Path>,
) -> Vec<Utf8PathBuf> {
    if !flags.is_empty() {
        return flags.to_vec();
    }
    if let Some(v) = env.filter(|v| !v.trim().is_empty()) {
        return v
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(Utf8PathBuf::from)
            .collect();
    }
    home.map(|h| vec![h.join(".config/claude"), h.join(".claude")]).unwrap_or_default()
}

/// The Codex homes to read: `flag`, else `env` (`$CODEX_HOME`), else `~/.codex`.
pub fn codex_homes(
    flag: Option<&Utf8Path>,
    env: Option<&str>,
    home: Option<&Utf8Path>,
) -> Vec<Utf8PathBuf> {
    if let Some(f) = flag {
        return vec![f.to_owned()];
    }
    if let Some(v) = env.filter(|v| !v.trim().is_empty()) {
        return vec![Utf8PathBuf::from(v.trim())];
    }
    home.map(|h| vec![h.join(".codex")]).unwrap_or_default()
}

/// A directory named explicitly must exist.
pub fn require_dir(path: &Utf8Path) -> Result<(), Error> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Error::NotADirectory { path: path.to_owned() }),
        Err(source) => Err(Error::SourceDir { path: path.to_owned(), source }),
    }
}

/// One source file to consider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SourceFile {
    pub agent: Agent,
    pub path: Utf8PathBuf,
    /// The session a line without a session id belongs to (from the file's place).
    pub fallback_session: String,
}

/// Entries of `dir` (directories or files), sorted; a missing directory is empty, another
/// error is reported.
fn entries(dir: &Utf8Path, want_dirs: bool, diags: &mut Vec<Diagnostic>) -> Vec<Utf8PathBuf> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            diags.push(Diagnostic {
                file: dir.to_string(),
                line: 0,
                reason: format!("cannot list: {e}"),
            });
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for entry in rd.flatten() {
        let Ok(path) = Utf8PathBuf::from_path_buf(entry.path()) else {
            diags.push(Diagnostic {
                file: dir.to_string(),
                line: 0,
                reason: "an entry whose name is not UTF-8 was skipped".to_owned(),
            });
            continue;
        };
        // The entry's type costs no syscall; a symlink is followed, like the agents' readers.
        let is_dir = match entry.file_type() {
            Ok(t) if t.is_symlink() => {
                std::fs::metadata(&path).map(|m| m.is_dir()).unwrap_or(false)
            }
            Ok(t) => t.is_dir(),
            Err(_) => false,
        };
        if is_dir == want_dirs {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn is_jsonl(p: &Utf8Path) -> bool {
    p.extension() == Some("jsonl") && !p.file_name().is_some_and(|n| n.starts_with('.'))
}

/// The Claude Code transcript files under `root`.
pub(crate) fn claude_files(root: &Utf8Path, diags: &mut Vec<Diagnostic>) -> Vec<SourceFile> {
    let mut out = Vec::new();
    for project in entries(&root.join("projects"), true, diags) {
        for f in entries(&project, false, diags).into_iter().filter(|p| is_jsonl(p)) {
            let session = f.file_stem().unwrap_or_default().to_owned();
            out.push(SourceFile { agent: Agent::ClaudeCode, path: f, fallback_session: session });
        }
        for session_dir in entries(&project, true, diags) {
            let session = session_dir.file_name().unwrap_or_default().to_owned();
            let subagents = session_dir.join("subagents");
            for f in entries(&subagents, false, diags).into_iter().filter(|p| is_jsonl(p)) {
                out.push(SourceFile {
                    agent: Agent::ClaudeCode,
                    path: f,
                    fallback_session: session.clone(),
                });
            }
        }
    }
    out
}

/// The Codex rollout files under `home`.
pub(crate) fn codex_files(home: &Utf8Path, diags: &mut Vec<Diagnostic>) -> Vec<SourceFile> {
    let mut out = Vec::new();
    for year in entries(&home.join("sessions"), true, diags) {
        for month in entries(&year, true, diags) {
            for day in entries(&month, true, diags) {
                for f in entries(&day, false, diags) {
                    let name = f.file_name().unwrap_or_default();
                    if !(name.starts_with("rollout-") && is_jsonl(&f)) {
                        continue;
                    }
                    let stem = f.file_stem().unwrap_or_default();
                    // `rollout-<time>-<uuid>`: the uuid is the session id.
                    let session = stem
                        .get(stem.len().saturating_sub(36)..)
                        .filter(|s| s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4)
                        .unwrap_or(stem)
                        .to_owned();
                    out.push(SourceFile {
                        agent: Agent::Codex,
                        path: f,
                        fallback_session: session,
                    });
                }
            }
        }
    }
    out
}
