//! `agentos schema list|show|validate`: the JSON Schemas of the event contract and of CCP
//! output, and validation of files against them.

use std::fs::File;
use std::io::{BufRead as _, BufReader, Read as _};
use std::process::ExitCode;

use agentos_event_schema::catalog::SchemaKind;
use agentos_event_schema::validate::{self, Violation};
use anyhow::{Context, bail};
use camino::Utf8PathBuf;
use serde_json::Value as Json;

use crate::Global;

/// Schema commands.
#[derive(Debug, clap::Subcommand)]
pub enum SchemaCmd {
    /// List every schema: name, file under schemas/, what it describes.
    List {
        /// Print JSON `[{"name","file","description"}]`.
        #[arg(long)]
        json: bool,
    },
    /// Print one schema (JSON Schema draft 2020-12).
    Show {
        /// Schema name, e.g. `v1-turn` (see `agentos schema list`).
        name: String,
    },
    /// Validate JSON or JSONL files; prints one `file:line: pointer: message` per violation.
    /// Exit 0 when all are valid, 1 when any is invalid, 2 on usage or I/O errors.
    Validate {
        /// Schema name, e.g. `ccp-usage-line` (see `agentos schema list`).
        #[arg(long, value_name = "NAME")]
        kind: String,
        /// Also report fields the types do not model (tolerated by default).
        #[arg(long)]
        strict: bool,
        /// Files to validate: JSON (one document) or JSONL (one document per line), detected
        /// by extension, else by content.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<Utf8PathBuf>,
        /// Print JSON Lines: `{"file","line","pointer","message"}` per violation, then
        /// `{"file","valid","documents"}` per file.
        #[arg(long)]
        json: bool,
    },
}

/// How `validate` prints: `file:line: pointer: message` lines, or JSON Lines.
#[derive(Clone, Copy, Debug)]
struct Out {
    json: bool,
}

impl Out {
    fn problem(self, file: &Utf8PathBuf, line: u64, pointer: &str, message: &str) {
        let pointer = if pointer.is_empty() { "/" } else { pointer };
        if self.json {
            outln!(
                "{}",
                serde_json::json!({"file": file, "line": line, "pointer": pointer, "message": message})
            );
        } else {
            outln!("{file}:{line}: {pointer}: {message}");
        }
    }
}

pub fn run(cmd: SchemaCmd, _global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {
        SchemaCmd::List { json: true } => {
            let all: Vec<Json> = SchemaKind::ALL
                .iter()
                .map(|k| serde_json::json!({"name": k.name(), "file": k.file(), "description": k.description()}))
                .collect();
            outln!("{}", serde_json::to_string_pretty(&all)?);
            Ok(ExitCode::SUCCESS)
        }
        SchemaCmd::List { json: false } => {
            let width = SchemaKind::ALL.iter().map(|k| k.name().len()).max().unwrap_or(0);
            let fwidth = SchemaKind::ALL.iter().map(|k| k.file().len()).max().unwrap_or(0);
            for k in SchemaKind::ALL {
                outln!("{:width$}  {:fwidth$}  {}", k.name(), k.file(), k.description());
            }
            Ok(ExitCode::SUCCESS)
        }
        SchemaCmd::Show { name } => {
            out!("{}", kind(&name)?.rendered());
            Ok(ExitCode::SUCCESS)
        }
        SchemaCmd::Validate { kind: name, strict, files, json } => {
            let out = Out { json };
            let kind = kind(&name)?;
            // Open everything first: an unreadable file is a usage error (exit 2), not a
            // verdict. Files are then streamed, so a large log needs no more memory than its
            // longest line.
            let mut opened = Vec::with_capacity(files.len());
            for file in &files {
                let f = File::open(file)
                    .with_context(|| format!("cannot read {file}: check the path"))?;
                opened.push(f);
            }
            let mut invalid = 0usize;
            for (file, f) in files.iter().zip(opened) {
                let (documents, problems) = check_file(kind, file, f, strict, out)
                    .with_context(|| format!("cannot read {file}"))?;
                if json {
                    let v = serde_json::json!({"file": file, "valid": problems == 0, "documents": documents});
                    outln!("{v}");
                    invalid += usize::from(problems > 0);
                } else if problems == 0 {
                    let what = format!("valid {} document", kind.name());
                    outln!("{file}: ok ({})", crate::plural(documents as u64, &what));
                } else {
                    invalid += 1;
                }
            }
            if invalid > 0 {
                eprintln!("{invalid} of {} files invalid against {}", files.len(), kind.name());
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn kind(name: &str) -> anyhow::Result<SchemaKind> {
    match SchemaKind::from_name(name) {
        Some(k) => Ok(k),
        None => {
            let names: Vec<_> = SchemaKind::ALL.iter().map(|k| k.name()).collect();
            let hint =
                did_you_mean(name).map(|n| format!("; did you mean {n:?}?")).unwrap_or_default();
            bail!(
                "unknown schema {name:?}: use one of {} (see `agentos schema list`){hint}",
                names.join(", ")
            )
        }
    }
}

/// The schema name closest to `name` (case-insensitive edit distance at most a third of its
/// length, at least 1; or the only name that contains it), if any.
fn did_you_mean(name: &str) -> Option<&'static str> {
    let wanted = name.to_ascii_lowercase();
    let names = SchemaKind::ALL.iter().map(|k| k.name());
    let best = names
        .clone()
        .map(|n| (edit_distance(&wanted, n), n))
        .min_by_key(|(d, _)| *d)
        .filter(|(d, _)| *d <= (wanted.chars().count() / 3).max(1))
        .map(|(_, n)| n);
    best.or_else(|| {
        let containing: Vec<&str> =
            names.filter(|n| !wanted.is_empty() && n.contains(wanted.as_str())).collect();
        (containing.len() == 1).then(|| containing[0])
    })
}

/// Levenshtein distance (insertions, deletions, substitutions), by characters; names are
/// short, inputs are cut at 256 characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(256).collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Longest JSONL line read: an event or CCP line is a few hundred bytes.
const MAX_LINE: u64 = 64 << 20;
/// Largest file read whole as one JSON document.
const MAX_DOCUMENT: u64 = 256 << 20;

/// Validate one file, printing one `file:line: pointer: message` per problem in line order;
/// returns (documents checked, problems). JSON (one document) or JSONL (one per line): by
/// extension, else JSON when the whole file is one document.
fn check_file(
    kind: SchemaKind,
    file: &Utf8PathBuf,
    f: File,
    strict: bool,
    out: Out,
) -> std::io::Result<(usize, usize)> {
    let size = f.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
    let mut reader = BufReader::new(f);
    // `.json` is one document, `.jsonl`/`.ndjson` one per line; anything else small enough
    // is tried as one document first.
    let (document, maybe_document) = match file.extension() {
        Some("jsonl" | "ndjson") => (false, false),
        Some("json") => (true, true),
        _ => (false, size <= MAX_DOCUMENT),
    };
    let mut head = Vec::new();
    if maybe_document {
        reader.by_ref().take(MAX_DOCUMENT + 1).read_to_end(&mut head)?;
        let fits = (head.len() as u64) <= MAX_DOCUMENT;
        if document && !fits {
            out.problem(file, 1, "/", "larger than 256 MiB: not validated as one JSON document");
            return Ok((0, 1));
        }
        if document || (fits && serde_json::from_slice::<serde::de::IgnoredAny>(&head).is_ok()) {
            return Ok(check_document(kind, file, &head, strict, out));
        }
    }
    // JSONL: what was read to try the whole-document reading comes first, then the rest.
    let mut lines = std::io::Cursor::new(head).chain(reader);
    let (mut documents, mut problems) = (0, 0);
    let mut n = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.by_ref().take(MAX_LINE + 1).read_until(b'\n', &mut line)? == 0 {
            break;
        }
        n += 1;
        if line.len() as u64 > MAX_LINE && line.last() != Some(&b'\n') {
            // Drop the rest of the over-long line, keeping the line count right.
            let mut rest = Vec::new();
            while lines.by_ref().take(MAX_LINE).read_until(b'\n', &mut rest)? > 0 {
                if rest.last() == Some(&b'\n') {
                    break;
                }
                rest.clear();
            }
            out.problem(file, n, "/", "line longer than 64 MiB: not validated");
            problems += 1;
            continue;
        }
        if line.trim_ascii().is_empty() {
            continue;
        }
        match validate::parse_json(line.trim_ascii()) {
            Ok(value) => {
                documents += 1;
                for (pointer, message) in violations(kind, &value, strict) {
                    out.problem(file, n, &pointer, &message);
                    problems += 1;
                }
            }
            Err(e) => {
                out.problem(file, n, &e.pointer, &e.message);
                problems += 1;
            }
        }
    }
    Ok((documents, problems))
}

/// One JSON document: violations located by line, in line order.
fn check_document(
    kind: SchemaKind,
    file: &Utf8PathBuf,
    bytes: &[u8],
    strict: bool,
    out: Out,
) -> (usize, usize) {
    // Invalid UTF-8 is refused, never decoded lossily (the rollup refuses it too).
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let n = 1 + bytes.iter().take(e.valid_up_to()).filter(|&&b| b == b'\n').count();
            out.problem(file, n as u64, "/", &format!("invalid utf-8: {e}"));
            return (0, 1);
        }
    };
    match serde_json::from_str::<Json>(text) {
        Ok(value) => {
            let mut found: Vec<(u64, String, String)> = violations(kind, &value, strict)
                .into_iter()
                .map(|(pointer, m)| {
                    (validate::line_of_pointer(text, &pointer).unwrap_or(1), pointer, m)
                })
                .collect();
            found.sort_by_key(|(n, _, _)| *n);
            for (n, pointer, message) in &found {
                out.problem(file, *n, pointer, message);
            }
            (1, found.len())
        }
        Err(e) => {
            let n = e.line().max(1) as u64;
            out.problem(file, n, "/", &format!("not JSON: {e}"));
            (0, 1)
        }
    }
}

/// `(pointer, message)` for every violation (and unknown field, when strict).
fn violations(kind: SchemaKind, value: &Json, strict: bool) -> Vec<(String, String)> {
    let mut found = validate::validate(kind, value);
    if strict {
        found.extend(validate::unknown_fields(kind, value));
    }
    found.into_iter().map(|Violation { pointer, message }| (pointer, message)).collect()
}
