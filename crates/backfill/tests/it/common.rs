//! Shared helpers: a scratch import (sources, state, event log) and an independent tally of
//! the events written.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use agentos_backfill::{Error, Options, PrivacyTier, Report, Sources, prepare};
use agentos_event_schema::catalog::SchemaKind;
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::Value as Json;

/// The hand-written fixtures.
pub fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/agent-history")
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Sources, import state and an event log in one temporary directory.
pub struct Env {
    _tmp: tempfile::TempDir,
    pub root: Utf8PathBuf,
    pub claude: Utf8PathBuf,
    pub codex: Utf8PathBuf,
    pub state: Utf8PathBuf,
    pub log: Utf8PathBuf,
}

impl Env {
    pub fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let root = Utf8PathBuf::from_path_buf(tmp.path().to_owned()).unwrap();
        let env = Env {
            claude: root.join("claude"),
            codex: root.join("codex"),
            state: root.join("data/import"),
            log: root.join("data/events.jsonl"),
            root,
            _tmp: tmp,
        };
        std::fs::create_dir_all(env.claude.join("projects")).unwrap();
        std::fs::create_dir_all(env.codex.join("sessions")).unwrap();
        env
    }

    pub fn with_fixture() -> Env {
        let env = Env::new();
        copy_dir(&fixture_root().join("claude"), env.claude.as_std_path());
        copy_dir(&fixture_root().join("codex"), env.codex.as_std_path());
        env
    }

    /// A Claude project dir (created).
    pub fn project(&self, name: &str) -> Utf8PathBuf {
        let p = self.claude.join("projects").join(name);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    /// A Codex day dir (created).
    pub fn codex_day(&self, day: &str) -> Utf8PathBuf {
        let p = self.codex.join("sessions").join(day);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    pub fn options(&self) -> Options {
        Options {
            sources: Sources {
                claude_dirs: vec![self.claude.clone()],
                codex_homes: vec![self.codex.clone()],
            },
            state_dir: self.state.clone(),
            privacy_tier: PrivacyTier::Local,
            threads: 2,
            prices: None,
            received_fingerprints: None,
        }
    }

    /// Import: append the events to the log, then commit. Returns the report and the lines
    /// this run wrote.
    pub fn import(&self) -> (Report, Vec<Json>) {
        self.import_with(&self.options())
    }

    /// [`Env::import`] with other options.
    pub fn import_with(&self, options: &Options) -> (Report, Vec<Json>) {
        let pending = prepare(options, &|_| {}).unwrap();
        let mut lines = Vec::new();
        pending
            .write_events(|l| {
                lines.push(l.to_owned());
                Ok::<(), Error>(())
            })
            .unwrap();
        append(&self.log, &lines);
        let report = pending.commit().unwrap();
        (report, lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect())
    }

    /// Every event in the log.
    pub fn events(&self) -> Vec<Json> {
        match std::fs::read_to_string(&self.log) {
            Ok(s) => s.lines().map(|l| serde_json::from_str(l).unwrap()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

pub fn append(log: &Utf8Path, lines: &[String]) {
    use std::io::Write;
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
}

/// Token sums of turns, as a reader that drops repeated event ids would count them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Turns that are responses (corrections excluded).
    pub responses: u64,
    pub input: u64,
    pub output: u64,
    pub cache_write: u64,
    pub cache_write_1h: u64,
    pub cache_read: u64,
}

impl Totals {
    pub fn new(responses: u64, input: u64, output: u64, cw: u64, cw1h: u64, cr: u64) -> Totals {
        Totals { responses, input, output, cache_write: cw, cache_write_1h: cw1h, cache_read: cr }
    }
}

fn num(v: &Json, k: &str) -> u64 {
    v.get(k).and_then(Json::as_u64).unwrap_or(0)
}

/// Sum turns by a key of the turn (`model`, `session_id` …), each event id once; every event
/// must validate against the v1 schema.
pub fn totals_by(events: &[Json], field: &str) -> BTreeMap<String, Totals> {
    let mut seen = HashSet::new();
    let mut out: BTreeMap<String, Totals> = BTreeMap::new();
    for e in events {
        let errors = agentos_event_schema::validate::validate(SchemaKind::V1Event, e);
        assert!(errors.is_empty(), "invalid event {e}: {errors:?}");
        if e["type"] != "turn" || !seen.insert(e["event_id"].as_str().unwrap().to_owned()) {
            continue;
        }
        let t = &e["turn"];
        let k = t[field].as_str().map_or_else(|| t[field].to_string(), str::to_owned);
        let s = out.entry(k).or_default();
        if t.get("revises").is_none() {
            s.responses += 1;
        }
        s.input += num(t, "tokens_in");
        s.output += num(t, "tokens_out");
        s.cache_write += num(t, "cache_creation_tokens");
        s.cache_write_1h += num(t, "cache_creation_1h_tokens");
        s.cache_read += num(t, "cache_read_tokens");
    }
    out
}

pub fn totals(events: &[Json]) -> Totals {
    let mut all = Totals::default();
    for t in totals_by(events, "session_id").values() {
        all.responses += t.responses;
        all.input += t.input;
        all.output += t.output;
        all.cache_write += t.cache_write;
        all.cache_write_1h += t.cache_write_1h;
        all.cache_read += t.cache_read;
    }
    all
}

/// A Claude Code assistant line.
#[allow(clippy::too_many_arguments)]
pub fn claude_line(
    session: &str,
    ts: &str,
    msg: &str,
    req: Option<&str>,
    model: &str,
    input: u64,
    output: u64,
    cache_write: u64,
    cache_read: u64,
) -> String {
    let mut v = serde_json::json!({
        "parentUuid": null, "isSidechain": false, "userType": "external",
        "cwd": "/home/dev/proj", "sessionId": session, "version": "2.0.14", "gitBranch": "main",
        "type": "assistant", "timestamp": ts, "uuid": format!("{msg}-{ts}"),
        "message": {"id": msg, "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": "ok"}], "stop_reason": null,
            "usage": {"input_tokens": input, "cache_creation_input_tokens": cache_write,
                "cache_read_input_tokens": cache_read, "output_tokens": output}}
    });
    if let Some(r) = req {
        v["requestId"] = r.into();
    }
    v.to_string()
}

pub fn write_lines(path: &Utf8Path, lines: &[String]) {
    let mut s = lines.join("\n");
    s.push('\n');
    std::fs::write(path, s).unwrap();
}

pub fn append_lines(path: &Utf8Path, lines: &[String]) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
}
