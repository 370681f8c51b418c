//! Tidy checks of the workspace's boundaries: which crates may do I/O and which may reach an
//! HTTP client, checked on the sources and on Cargo's own dependency graph.
//!
//! `event-schema`, `privacy` and `otel` do no I/O: their non-test sources name neither `std::fs` nor
//! `std::net` ([`io_uses`], [`io_free_violations`]). Only `transport` (the one HTTP policy),
//! `ccc-client`, and `licensing` with its `issuer` feature, reach `ureq` ([`normal_deps`] runs
//! `cargo tree` for one package with
//! its default features, the graph a crate that depends on it gets). The library crates and
//! the CLI carry what publishing needs, the internal crates stay unpublishable
//! ([`publish_problems`], from `cargo metadata`). Outside `privacy` no crate makes a privacy
//! decision itself ([`privacy_decisions`], [`privacy_boundary_violations`]).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The crates other projects may depend on, and the CLI: publishable, with full metadata.
pub const PUBLISHABLE: &[&str] = &[
    "agentos-fsio",
    "agentos-event-schema",
    "agentos-privacy",
    "agentos-licensing",
    "agentos-ccc-client",
    "agentos-rollup",
    "agentos-backfill",
    "agentos-otel",
    "agentos-tracker",
    "agentos-transport",
    "agentos-cli",
];

/// The crates that must do no I/O, by directory under `crates/`. (`tracker` is not listed:
/// its `store` reads and appends the tracker's files, which other Rust programs reuse; its
/// parsers stay pure, taking text and returning values.)
pub const IO_FREE_CRATES: &[&str] = &["event-schema", "privacy", "otel"];

/// The `std` modules that do I/O, named in the sources of an I/O-free crate.
const IO_MODULES: &[&str] = &["fs", "net"];

/// Every `std::fs` / `std::net` path `source` names outside comments: `std::fs::read`,
/// `use std::{fs, io}`, `use std::{io, net::TcpStream}` and `::std::fs` alike.
pub fn io_uses(source: &str) -> Vec<String> {
    let code: String = source
        .lines()
        .map(|line| line.split_once("//").map_or(line, |(code, _)| code))
        .flat_map(|line| line.split_whitespace().flat_map(|word| [word, " "]))
        .collect();
    let mut found = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("std::") {
        let before = code.len() - rest.len() + at;
        rest = &rest[at + "std::".len()..];
        let starts_path =
            before == 0 || !code[..before].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        if !starts_path {
            continue;
        }
        let names = match rest.trim_start().strip_prefix('{') {
            Some(group) => top_level_items(group),
            None => vec![rest],
        };
        for name in names {
            let head: String = name
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if IO_MODULES.contains(&head.as_str()) {
                found.push(format!("std::{head}"));
            }
        }
    }
    found
}

/// The comma-separated items of a `{…}` group (whose opening brace is already consumed), up to
/// its closing brace, nested groups kept whole.
fn top_level_items(group: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&group[start..i]);
                return items;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&group[start..]);
    items
}

/// `file: std::fs` for every I/O use in the non-test sources (`src/`, without `tests.rs` and
/// `tests/`) of the [`IO_FREE_CRATES`] under `root`.
pub fn io_free_violations(root: &Path) -> Result<Vec<String>> {
    let mut violations = Vec::new();
    for krate in IO_FREE_CRATES {
        let src = root.join("crates").join(krate).join("src");
        if !src.is_dir() {
            bail!("{} is not a directory", src.display());
        }
        scan(&src, &mut violations)?;
    }
    violations.sort();
    Ok(violations)
}

fn scan(dir: &Path, violations: &mut Vec<String>) -> Result<()> {
    scan_with(dir, &io_uses, violations)
}

/// Every `file: hit` of `find` in the `.rs` files under `dir`, test files and `tests/` skipped.
fn scan_with(
    dir: &Path,
    find: &dyn Fn(&str) -> Vec<String>,
    violations: &mut Vec<String>,
) -> Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name == "tests" || name == "tests.rs" {
            continue;
        }
        if path.is_dir() {
            scan_with(&path, find, violations)?;
        } else if name.ends_with(".rs") {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("read {}", path.display()))?;
            for hit in find(&text) {
                violations.push(format!("{}: {hit}", path.display()));
            }
        }
    }
    Ok(())
}

/// What only `privacy` decides, done in `source` (outside comments) instead of asked of it:
/// a `redact_event(` call or a `MinimizedPayload::from_summary(` (the outbox asks for
/// `event_payload(session_tier, …)`, the preview for `summary_payload`), and a tier compared
/// with `==`/`!=` (`== Tier::Full`, `PrivacyTier::Local !=`; the `TierPolicy` questions say
/// what a tier allows, `is_at_least_as_private_as` which tier is more private).
pub fn privacy_decisions(source: &str) -> Vec<String> {
    // Comments dropped, white space removed: `tier == Tier::Full` reads `tier==Tier::Full`.
    let code: String = source
        .lines()
        .map(|line| line.split_once("//").map_or(line, |(code, _)| code))
        .flat_map(|line| line.chars().filter(|c| !c.is_whitespace()))
        .collect();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut found = Vec::new();
    for call in ["redact_event(", "MinimizedPayload::from_summary("] {
        for (at, _) in code.match_indices(call) {
            if !code[..at].ends_with(ident) {
                found.push(call.to_owned());
            }
        }
    }
    for (at, _) in code.match_indices("Tier::") {
        let path_start = code[..at].strip_suffix("Privacy").map_or(at, |p| p.len());
        let before = &code[..path_start];
        let variant: String =
            code[at + "Tier::".len()..].chars().take_while(|c| ident(*c)).collect();
        let after = &code[at + "Tier::".len() + variant.len()..];
        let path = &code[path_start..at + "Tier::".len() + variant.len()];
        if before.ends_with(ident) || variant.is_empty() {
            continue;
        }
        for op in ["==", "!="] {
            if before.ends_with(op) {
                found.push(format!("{op} {path}"));
            }
            if after.starts_with(op) {
                found.push(format!("{path} {op}"));
            }
        }
    }
    found
}

/// `file: what` for every [`privacy_decisions`] hit in the non-test sources of every crate
/// under `root/crates` but `privacy` itself.
pub fn privacy_boundary_violations(root: &Path) -> Result<Vec<String>> {
    let mut violations = Vec::new();
    let crates = root.join("crates");
    let entries =
        std::fs::read_dir(&crates).with_context(|| format!("read {}", crates.display()))?;
    for entry in entries {
        let dir = entry?.path();
        if dir.file_name().is_some_and(|n| n == "privacy") || !dir.join("src").is_dir() {
            continue;
        }
        scan_with(&dir.join("src"), &privacy_decisions, &mut violations)?;
    }
    violations.sort();
    Ok(violations)
}

/// The names of every crate in `package`'s normal (non-dev, non-build) dependency graph, the
/// package itself included, with its default features plus `features`, as `cargo tree`
/// resolves it for that package alone: what a project depending on it would build.
pub fn normal_deps(root: &Path, package: &str, features: &[&str]) -> Result<BTreeSet<String>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root).args([
        "tree",
        "--offline",
        "--quiet",
        "-e",
        "normal",
        "--prefix",
        "none",
        "-p",
        package,
    ]);
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    let out = cmd.output().context("run cargo tree")?;
    if !out.status.success() {
        bail!("cargo tree -p {package} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8(out.stdout).context("cargo tree output is not UTF-8")?;
    Ok(text.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_owned).collect())
}

/// What keeps a [`PUBLISHABLE`] crate from being published as it should (not publishable, a
/// missing `description`/`readme`/`keywords`/`categories`/`rust-version` (and `documentation`
/// for a library), a README that is not
/// there, a made-up `repository`, a path dependency without a version), and any other
/// workspace crate that is publishable. One line per problem, `crate: what`.
pub fn publish_problems(root: &Path) -> Result<Vec<String>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root)
        .args(["metadata", "--offline", "--no-deps", "--format-version", "1"])
        .output()
        .context("run cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("cargo metadata output")?;
    let packages = meta["packages"].as_array().context("cargo metadata: no packages")?;
    let mut problems = Vec::new();
    for name in PUBLISHABLE {
        if !packages.iter().any(|p| p["name"] == *name) {
            problems.push(format!("{name}: not a workspace member"));
        }
    }
    for package in packages {
        let name = package["name"].as_str().unwrap_or("?");
        let publishable = package["publish"].is_null();
        if !PUBLISHABLE.contains(&name) {
            if publishable {
                problems.push(format!("{name}: publishable, but it is internal (publish = false)"));
            }
            continue;
        }
        let mut problem = |what: String| problems.push(format!("{name}: {what}"));
        if !publishable {
            problem("not publishable (publish = false)".to_owned());
        }
        let has_lib = package["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| t["kind"].as_array().into_iter().flatten().any(|k| k == "lib"));
        for field in ["description", "readme", "rust_version", "documentation"] {
            // docs.rs builds no documentation for a binary-only crate: no link to give.
            if field == "documentation" && !has_lib {
                continue;
            }
            if package[field].as_str().is_none_or(str::is_empty) {
                problem(format!("no {field}"));
            }
        }
        for field in ["keywords", "categories"] {
            if package[field].as_array().is_none_or(Vec::is_empty) {
                problem(format!("no {field}"));
            }
        }
        if let Some(repo) = package["repository"].as_str()
            && repo.contains(".invalid")
        {
            problem(format!("repository {repo} is not real"));
        }
        let dir = package["manifest_path"].as_str().map(Path::new).and_then(Path::parent);
        if let (Some(dir), Some(readme)) = (dir, package["readme"].as_str())
            && !dir.join(readme).is_file()
        {
            problem(format!("readme {readme} does not exist"));
        }
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            let dev = dep["kind"] == "dev";
            if dep["path"].is_string() && !dev && dep["req"] == "*" {
                problem(format!("path dependency {} has no version", dep["name"]));
            }
        }
    }
    Ok(problems)
}
