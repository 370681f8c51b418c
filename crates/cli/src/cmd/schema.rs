//! `agentos schema list|show|validate`: the JSON Schemas of the event contract and of CCP
//! output, and validation of files against them.

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
    List,
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
    },
}

pub fn run(cmd: SchemaCmd, _global: &Global) -> anyhow::Result<ExitCode> {
    match cmd {
        SchemaCmd::List => {
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
        SchemaCmd::Validate { kind: name, strict, files } => {
            let kind = kind(&name)?;
            // Read everything first: an unreadable file is a usage error (exit 2), not a verdict.
            let mut texts = Vec::with_capacity(files.len());
            for file in &files {
                let text = std::fs::read_to_string(file)
                    .with_context(|| format!("cannot read {file}: check the path"))?;
                texts.push(text);
            }
            let mut invalid = 0usize;
            for (file, text) in files.iter().zip(&texts) {
                let (documents, problems) = check_file(kind, file, text, strict);
                for p in &problems {
                    outln!("{p}");
                }
                if problems.is_empty() {
                    outln!("{file}: ok ({documents} valid {} documents)", kind.name());
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
            bail!(
                "unknown schema {name:?}: use one of {} (see `agentos schema list`)",
                names.join(", ")
            )
        }
    }
}

/// Whether `text` is JSONL: by extension, else when it is not one JSON document.
fn is_jsonl(file: &Utf8PathBuf, text: &str) -> bool {
    match file.extension() {
        Some("jsonl" | "ndjson") => true,
        Some("json") => false,
        _ => serde_json::from_str::<Json>(text).is_err(),
    }
}

/// Validate one file: (documents checked, one `file:line: pointer: message` per problem, in
/// line order).
fn check_file(
    kind: SchemaKind,
    file: &Utf8PathBuf,
    text: &str,
    strict: bool,
) -> (usize, Vec<String>) {
    let mut problems: Vec<(u64, String)> = Vec::new();
    let mut documents = 0;
    let mut check = |value: &Json, line_of: &dyn Fn(&str) -> u64, out: &mut Vec<(u64, String)>| {
        documents += 1;
        let mut found = validate::validate(kind, value);
        if strict {
            found.extend(validate::unknown_fields(kind, value));
        }
        for Violation { pointer, message } in found {
            let line = line_of(&pointer);
            let pointer = if pointer.is_empty() { "/".to_owned() } else { pointer };
            out.push((line, format!("{file}:{line}: {pointer}: {message}")));
        }
    };
    if is_jsonl(file, text) {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let n = i as u64 + 1;
            match serde_json::from_str::<Json>(line) {
                Ok(value) => check(&value, &|_| n, &mut problems),
                Err(e) => problems.push((n, format!("{file}:{n}: /: not JSON: {e}"))),
            }
        }
    } else {
        match serde_json::from_str::<Json>(text) {
            Ok(value) => {
                check(&value, &|p| validate::line_of_pointer(text, p).unwrap_or(1), &mut problems)
            }
            Err(e) => {
                let n = e.line().max(1) as u64;
                problems.push((n, format!("{file}:{n}: /: not JSON: {e}")));
            }
        }
    }
    problems.sort_by_key(|(n, _)| *n);
    (documents, problems.into_iter().map(|(_, p)| p).collect())
}
