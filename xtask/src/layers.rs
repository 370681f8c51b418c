//! Source-level layering checks: the library crates speak no command line, and a crate's
//! modules form no import cycle.
//!
//! Library errors are structured; the CLI maps them to hints that name `agentos` commands and
//! flags. So no string literal in a library crate's non-test sources names an `agentos`
//! command ([`cli_words`], [`cli_words_in_libraries`]). The top-level modules of a crate
//! depend on each other in one direction only ([`module_cycles`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};

/// The library crates, by directory under `crates/`.
pub const LIBRARY_CRATES: &[&str] = &[
    "event-schema",
    "privacy",
    "licensing",
    "ccc-client",
    "rollup",
    "backfill",
    "fsio",
    "otel",
    "transport",
];

/// The string literals of `source` outside comments (`"…"`, `r"…"`, `r#"…"#`), escapes kept
/// as written.
pub fn string_literals(source: &str) -> Vec<String> {
    let b = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            // A char literal such as '"' or '\'' is not the start of a string.
            b'\'' if b.get(i + 2) == Some(&b'\'') => i += 3,
            b'\'' if b.get(i + 1) == Some(&b'\\') && b.get(i + 3) == Some(&b'\'') => i += 4,
            b'r' if matches!(b.get(i + 1), Some(b'"' | b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                let open = i + 1 + hashes;
                if b.get(open) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let close: Vec<u8> =
                    std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
                let body = &source[open + 1..];
                let end =
                    body.find(std::str::from_utf8(&close).unwrap_or("\"")).unwrap_or(body.len());
                out.push(body[..end].to_owned());
                i = open + 1 + end + close.len();
            }
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                out.push(source[start..i.min(b.len())].to_owned());
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// The string literals of `source` that name an `agentos` command: `agentos ` followed by a
/// lowercase word (`agentos license login`, `` `agentos rollup` ``).
pub fn cli_words(source: &str) -> Vec<String> {
    string_literals(source)
        .into_iter()
        .filter(|s| {
            s.match_indices("agentos ")
                .any(|(at, m)| s[at + m.len()..].starts_with(|c: char| c.is_ascii_lowercase()))
        })
        .collect()
}

/// `file: "literal"` for every literal naming an `agentos` command in the non-test sources
/// (`src/` without `tests.rs` and `tests/`) of the [`LIBRARY_CRATES`] under `root`.
pub fn cli_words_in_libraries(root: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for krate in LIBRARY_CRATES {
        for (path, text) in non_test_sources(&root.join("crates").join(krate).join("src"))? {
            for literal in cli_words(&text) {
                found.push(format!("{}: {literal:?}", path.display()));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Every cycle among the top-level modules of the crate whose sources are in `src`: a module
/// `a` depends on `b` when a non-test source of `a` (`a.rs` or `a/…`) names `crate::b`. Each
/// cycle is listed once, as `a -> b -> a`, starting at its smallest module.
pub fn module_cycles(src: &Path) -> Result<Vec<String>> {
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let sources = non_test_sources(src)?;
    let modules: BTreeSet<String> =
        sources.iter().filter_map(|(p, _)| top_module(src, p)).collect();
    for (path, text) in &sources {
        let Some(from) = top_module(src, path) else { continue };
        let entry = deps.entry(from.clone()).or_default();
        for to in crate_paths(text) {
            if to != from && modules.contains(&to) {
                entry.insert(to);
            }
        }
    }
    let mut cycles = BTreeSet::new();
    for start in deps.keys() {
        let mut path = vec![start.clone()];
        walk(&deps, start, &mut path, &mut cycles);
    }
    Ok(cycles.into_iter().collect())
}

/// Depth-first search for paths back to `path[0]` through modules greater than it.
fn walk(
    deps: &BTreeMap<String, BTreeSet<String>>,
    at: &str,
    path: &mut Vec<String>,
    cycles: &mut BTreeSet<String>,
) {
    for next in deps.get(at).into_iter().flatten() {
        if *next == path[0] {
            cycles.insert(format!("{} -> {next}", path.join(" -> ")));
        } else if *next > path[0] && !path.contains(next) {
            path.push(next.clone());
            walk(deps, next, path, cycles);
            path.pop();
        }
    }
}

/// The module names right after every `crate::` in `text`'s code, `crate::{a::x, b}` included.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .map(|line| line.split_once("//").map_or(line, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String {
        s.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
    };
    let mut names = BTreeSet::new();
    for (at, m) in code.match_indices("crate::") {
        if at > 0 && code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[at + m.len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                let end = group.find('}').unwrap_or(group.len());
                names.extend(group[..end].split(',').map(ident));
            }
            None => {
                names.insert(ident(rest));
            }
        }
    }
    names
}

/// The top-level module a source file belongs to (`None` for `lib.rs`/`main.rs`).
fn top_module(src: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_string_lossy().into_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
    (name != "lib" && name != "main").then_some(name)
}

/// Every `.rs` file under `dir` with its text, without `tests.rs` and `tests/`.
fn non_test_sources(dir: &Path) -> Result<Vec<(std::path::PathBuf, String)>> {
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).with_context(|| format!("read {}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            let name =
                path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if name == "tests" || name == "tests.rs" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if name.ends_with(".rs") {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("read {}", path.display()))?;
                out.push((path, text));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `file: enum` for every public enum that is not `#[non_exhaustive]` but must be: every
/// `pub enum` of `event-schema` (the wire enums) and every error enum (`pub enum Error`, or
/// one deriving `thiserror::Error`) of the [`LIBRARY_CRATES`], in their non-test sources. An
/// enum's attributes are the lines between it and the blank line above it.
pub fn exhaustive_public_enums(root: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for krate in LIBRARY_CRATES {
        for (path, text) in non_test_sources(&root.join("crates").join(krate).join("src"))? {
            for (name, attrs) in public_enums(&text) {
                let must = *krate == "event-schema"
                    || name == "Error"
                    || attrs.contains("thiserror::Error");
                if must && !attrs.contains("#[non_exhaustive]") {
                    found.push(format!("{}: {name}", path.display()));
                }
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Each `pub enum` of `text` with the text of the lines above it up to a blank line.
pub fn public_enums(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix("pub enum ") else { continue };
        let name: String =
            rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$').collect();
        let start = lines[..i].iter().rposition(|l| l.trim().is_empty()).map_or(0, |b| b + 1);
        out.push((name, lines[start..i].join("\n")));
    }
    out
}

/// Internal helpers no library crate re-exports from its root: they are not part of the API.
pub const INTERNAL_HELPERS: &[&str] =
    &["write_atomic", "read_small_file", "hostname", "go_os", "go_arch"];

/// Re-exports of an [`INTERNAL_HELPERS`] name that another crate still uses, as
/// `(crate, helper)`: none since the file helpers live in `agentos-fsio`.
pub const HELPERS_STILL_SHARED: &[(&str, &str)] = &[];

/// `crate: helper` for every [`INTERNAL_HELPERS`] name a library crate's `lib.rs` re-exports
/// with `pub use` (other than [`HELPERS_STILL_SHARED`]).
pub fn reexported_helpers(root: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for krate in LIBRARY_CRATES {
        let lib = root.join("crates").join(krate).join("src/lib.rs");
        let text =
            std::fs::read_to_string(&lib).with_context(|| format!("read {}", lib.display()))?;
        for name in pub_use_names(&text) {
            if INTERNAL_HELPERS.contains(&name.as_str())
                && !HELPERS_STILL_SHARED.contains(&(krate, name.as_str()))
            {
                found.push(format!("{krate}: {name}"));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Every name a `pub use …;` of `text` brings in (the last segment of each path, groups
/// opened; `x as y` gives `y`).
pub fn pub_use_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("pub use ") {
        let stmt_start = &rest[at + "pub use ".len()..];
        let end = stmt_start.find(';').unwrap_or(stmt_start.len());
        let stmt = &stmt_start[..end];
        for part in stmt.split([',', '{', '}']) {
            let part = part.trim();
            let last = part.rsplit(" as ").next().unwrap_or(part);
            let last = last.rsplit("::").next().unwrap_or(last).trim();
            if !last.is_empty() && last != "self" {
                names.push(last.to_owned());
            }
        }
        rest = &stmt_start[end..];
    }
    names
}

/// Crates whose types stay out of the library crates' public signatures: a user's semver
/// would be tied to theirs.
pub const PRIVATE_DEPENDENCIES: &[&str] =
    &["jiff::", "ureq::", "jsonschema::", "ring::", "base64::"];

/// The one crate whose public API may name `ureq`: `transport` configures the agent every
/// AgentOS client uses (its purpose is to be the shared `ureq` set-up of `ccc-client` and
/// `licensing`, which keep `ureq` out of their own public APIs).
pub const UREQ_HOME: &str = "transport";

/// `file: line` for every line of a library crate's non-test sources that starts a public
/// item (`pub fn`, a `pub` field or constant, `impl From<…>`) and names a
/// [`PRIVATE_DEPENDENCIES`] type. One line at a time: a signature rustfmt wraps is checked on
/// its first line.
pub fn third_party_in_public_api(root: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for krate in LIBRARY_CRATES {
        for (path, text) in non_test_sources(&root.join("crates").join(krate).join("src"))? {
            for line in text.lines().map(str::trim) {
                let public = (line.starts_with("pub ") && !line.starts_with("pub struct "))
                    || line.starts_with("impl From<");
                let code = line.split_once("//").map_or(line, |(code, _)| code);
                let named = PRIVATE_DEPENDENCIES
                    .iter()
                    .filter(|d| !(*krate == UREQ_HOME && **d == "ureq::"))
                    .any(|d| code.contains(d));
                if public && named {
                    found.push(format!("{}: {line}", path.display()));
                }
            }
        }
    }
    found.sort();
    Ok(found)
}
